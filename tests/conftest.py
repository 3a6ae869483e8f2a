"""Shared fixtures. Real servers only: Dovecot and an SMTP sink started for the session on
127.0.0.1 (tests/servers.py). A missing server binary is a test error, never a skip."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from record_guard import guard_view_records
from servers import DovecotServer, SmtpSink, TlsFiles, make_test_cert, running_dovecot
from tui_desk.store.db import Store, open_stores

guard_view_records()  # a view record changed after it was made fails the test that did it


def _close(stores: list[Store]) -> None:
    """Close stores whose test has ended, in a loop of their own (the test's may be closed)."""
    if not stores:
        return
    loop = asyncio.new_event_loop()
    try:
        for store in stores:
            loop.run_until_complete(store.close())
    finally:
        loop.close()


@pytest.fixture(autouse=True, scope="session")
def close_stores_left_at_the_end() -> Iterator[None]:
    """What the wider fixtures left open (module, session): closed before pytest exits."""
    yield
    _close(open_stores())


@pytest.fixture(autouse=True)
def close_stores_left_open() -> Iterator[None]:
    """A test that fails with a desk open keeps it alive in its traceback, and with it
    aiosqlite's worker thread, which is no daemon: pytest would wait for it at exit, forever
    (tests/test_left_open.py). The stores the test and its own fixtures opened and did not close
    are closed after them; those of wider fixtures opened before it are theirs."""
    before = set(open_stores())
    yield
    _close([store for store in open_stores() if store not in before])


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the app remembers (the theme: desk.themes.state_file) goes to the test's own state
    dir, never the user's, nor another test's."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


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
