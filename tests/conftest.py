"""Shared fixtures. Real servers only: Dovecot and an SMTP sink started for the session on
127.0.0.1 (tests/servers.py). A missing server binary is a test error, never a skip."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from servers import DovecotServer, SmtpSink, TlsFiles, make_test_cert, running_dovecot


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """Self-signed certificate (SAN localhost, 127.0.0.1) shared by Dovecot and the SMTP sink;
    its cert file is the CA file clients are given."""
    return make_test_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def dovecot(tmp_path_factory: pytest.TempPathFactory, tls_files: TlsFiles) -> Iterator[DovecotServer]:
    """A private Dovecot for the session on 127.0.0.1: IMAP (STARTTLS) `imap_port`, IMAPS
    `imaps_port`, LMTP `lmtp_port`, CA file `ca_file`; users agent1..3 / "secret" (prefer a fresh
    `mail_user`). Tests that stop it start it again (or `mail_user` does). Logins meant to fail
    should use `servers.failing_login_source()` (see DovecotServer)."""
    with running_dovecot(tmp_path_factory.getbasetemp(), tls_files) as server:
        yield server


@pytest.fixture
def mail_user(dovecot: DovecotServer) -> str:
    """A fresh Dovecot user (password "secret") with an empty mailbox, so tests never share
    mail. Restarts Dovecot first if an earlier test left it stopped."""
    dovecot.start()
    return dovecot.new_user()


@pytest.fixture(scope="session")
def smtp_sink(tls_files: TlsFiles) -> Iterator[SmtpSink]:
    """aiosmtpd sink on 127.0.0.1 (STARTTLS with the test cert, AUTH PLAIN/LOGIN optional for
    agent1..3 / "secret"). Messages stay in `smtp_sink.messages`; call `clear()` in a test."""
    sink = SmtpSink(tls=tls_files)
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
async def demo(tmp_path):
    """(make_app, sink): the demo store and its SMTP sink; make_app(undo_seconds, …) opens the
    app over a real Desk on it (ui_support.demo_apps)."""
    from ui_support import demo_apps  # Textual: only for the tests that use it
    make_app, sink = await demo_apps(tmp_path)
    try:
        yield make_app, sink
    finally:
        sink.stop()
