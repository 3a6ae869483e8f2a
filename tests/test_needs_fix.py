"""A problem no retry can fix (a missing or failing password_command, a refused password, an
account gone from the config) is said once as "needs a fix", with the key and the config file,
and waits for the agent; one a retry can fix (nothing listening) keeps its retry timer.
Real Dovecot and SMTP sink (tests/servers.py); the sync and the CLI as they run."""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.accounts import write_config
from tui_desk.config import load_config
from tui_desk.desk.background import Background
from tui_desk.desk.service import Desk
from tui_desk.secrets import password_lookup
from tui_desk.store import outbox
from tui_desk.sync.delivery import OutboxSender
from servers import running_dovecot

ROOT = Path(__file__).resolve().parents[1]
ENDS_WITHIN = 60  # seconds: a guard for a loop that must end by itself (it used to retry forever)


async def stopped_sync(tmp_path, cfg_path):
    """The app's Background on the config file, its account's live sync run until it ends by
    itself (a problem no retry fixes) -> (background, desk)."""
    config = load_config(cfg_path, required=True)
    desk = await Desk.open(tmp_path / "desk.sqlite3", config)
    background = Background(desk)
    [sync] = background.syncs
    await asyncio.wait_for(sync.run_forever(asyncio.Event()), ENDS_WITHIN)
    return background, desk


@pytest.mark.parametrize(("command", "said"), [
    ("no-such-pass-helper support", "accounts.support.imap.password_command not found (exit status 127)"),
    ("echo 'gpg: decryption failed: No secret key' >&2; exit 1",
     "accounts.support.imap.password_command failed with exit status 1: gpg: decryption failed: No secret key"),
])
async def test_a_password_command_that_cannot_work_needs_a_fix_and_is_not_retried(
        tmp_path, dovecot, mail_user, command, said):
    cfg = write_config(tmp_path / "config.toml", dovecot, mail_user, login=f'password_command = "{command}"')
    background, desk = await stopped_sync(tmp_path, cfg)
    try:
        [sync] = background.syncs
        assert sync.needs_fix and sync.retry_at is None and sync.state == "disconnected"
        trouble = background.trouble()
        assert trouble.startswith(f"support needs a fix: {said}"), trouble
        assert trouble.endswith(f"(in {cfg}); then restart tui-desk"), trouble
        assert "retrying" not in trouble
        assert background.trouble(countdown=False) == trouble  # nothing counts down
    finally:
        await desk.close()


async def test_a_refused_password_needs_a_fix_and_is_not_retried(tmp_path, tls_files):
    # a Dovecot of its own: a failed login slows down later logins from the same address
    with running_dovecot(tmp_path, tls_files) as own:
        user = own.new_user()
        cfg = write_config(tmp_path / "config.toml", own, user, login='password_command = "echo not-the-password"')
        background, desk = await stopped_sync(tmp_path, cfg)
    try:
        [sync] = background.syncs
        assert sync.needs_fix and sync.retry_at is None
        trouble = background.trouble()
        # the key to check, what Dovecot said (RFC 5530's code), the config file
        assert trouble == ("support needs a fix: accounts.support.imap.password_command: "
                           f"login failed for {user} at 127.0.0.1:{own.imap_port}: "
                           f"[AUTHENTICATIONFAILED] Authentication failed. (in {cfg}); then restart tui-desk")
        assert "not-the-password" not in trouble
    finally:
        await desk.close()


async def test_a_certificate_not_trusted_needs_a_fix(tmp_path, dovecot, mail_user):
    cfg = write_config(tmp_path / "config.toml", dovecot, mail_user)
    cfg.write_text(cfg.read_text().replace(f'ca_file = "{dovecot.ca_file}"', ""))  # the system CAs: not the test's
    background, desk = await stopped_sync(tmp_path, cfg)
    try:
        trouble = background.trouble()
        assert trouble.startswith(f"support needs a fix: TLS certificate of 127.0.0.1:{dovecot.imap_port} is not "
                                  "trusted (set ca_file for a private CA)"), trouble
        assert trouble.endswith(f"(in {cfg}); then restart tui-desk") and "retrying" not in trouble
    finally:
        await desk.close()


async def test_nothing_listening_is_retried_with_its_countdown(tmp_path, dovecot, mail_user):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    cfg = write_config(tmp_path / "config.toml", dovecot, mail_user)
    cfg.write_text(cfg.read_text().replace(f"port = {dovecot.imap_port}", f"port = {closed}"))
    desk = await Desk.open(tmp_path / "desk.sqlite3", load_config(cfg, required=True))
    news = asyncio.Event()
    background = Background(desk, on_news=news.set)
    [sync] = background.syncs
    stop = asyncio.Event()
    task = asyncio.create_task(sync.run_forever(stop))
    try:
        while sync.problem is None:
            news.clear()
            await asyncio.wait_for(news.wait(), ENDS_WITHIN)
        assert not sync.needs_fix and sync.retry_at is not None
        assert background.trouble().startswith("support (retrying in ")
        assert not task.done()  # it goes on trying
    finally:
        stop.set()
        await asyncio.wait_for(task, ENDS_WITHIN)
        await desk.close()


def test_sync_stops_with_one_line_and_exit_1_on_a_missing_password_command(tmp_path, dovecot, mail_user):
    cfg = write_config(tmp_path / "config.toml", dovecot, mail_user, login='password_command = "no-such-pass-helper"')
    done = subprocess.run([sys.executable, "-m", "tui_desk", "--config", str(cfg), "--db", str(tmp_path / "d.db"),
                           "sync"], cwd=ROOT, capture_output=True, text=True, timeout=ENDS_WITHIN)
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if not line.startswith("following ")]
    assert lines == [f"tui-desk: sync: support needs a fix: accounts.support.imap.password_command not found "
                     f"(exit status 127): /bin/sh: 1: no-such-pass-helper: not found (in {cfg})"], done.stderr


@pytest.mark.parametrize("command, said", [
    ("no-such-pass-helper", "password_command not found (exit status 127): /bin/sh: 1: no-such-pass-helper: not found"),
    ("exit 3", "password_command failed with exit status 3"),
])
def test_sync_once_says_a_fix_needed_as_sync_does_and_exits_1(tmp_path, dovecot, mail_user, command, said):
    """README (Accounts, Exit status): `sync --once` is `sync` that ends after one pass: the
    same line, the same status (it exited 2, as for a config file that cannot be read)."""
    cfg = write_config(tmp_path / "config.toml", dovecot, mail_user, login=f'password_command = "{command}"')
    done = subprocess.run([sys.executable, "-m", "tui_desk", "--config", str(cfg), "--db", str(tmp_path / "d.db"),
                           "sync", "--once"], cwd=ROOT, capture_output=True, text=True, timeout=ENDS_WITHIN)
    assert done.returncode == 1, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"tui-desk: sync: support needs a fix: accounts.support.imap.{said}"), line
    assert line.endswith(f"(in {cfg})"), line


# --- an outbox item whose account is gone from the config -------------------------------------

async def queue_for(desk: Desk, account: str, send_at: int) -> int:
    async with desk.store.transaction():
        return await outbox.add(desk.store, account=account, conv_id=None, message_id="gone-1@helpdesk.test",
                                raw=b"From: support@helpdesk.test\r\nTo: ann@c.test\r\nSubject: Re: refund\r\n"
                                    b"Message-ID: <gone-1@helpdesk.test>\r\n\r\nRefunded.\r\n",
                                mail_from="support@helpdesk.test", recipients=["ann@c.test"],
                                body_markdown="Refunded.", send_at=send_at)


@pytest.mark.parametrize("due_in", [0, 3600])  # due now, or later (it is said now all the same)
async def test_an_item_whose_account_is_gone_is_held_never_sent_elsewhere(
        tmp_path, dovecot, mail_user, smtp_sink, caplog, due_in):
    cfg = write_config(tmp_path / "config.toml", dovecot, mail_user, smtp_port=smtp_sink.port)
    config = load_config(cfg, required=True)
    desk = await Desk.open(tmp_path / "desk.sqlite3", config)
    try:
        item_id = await queue_for(desk, "demo", desk.now() + due_in)
        sender = OutboxSender(desk.store, config, password_lookup(config), clock=desk.clock)
        with caplog.at_level(logging.WARNING, logger="tui_desk"):
            first = await sender.run_due()
            second = await sender.run_due()
        assert first.no_account == ["gone-1@helpdesk.test"] and second.no_account == []
        assert first.held == [] and first.retrying == []  # not a collision; never retried
        item = await outbox.get(desk.store, item_id)
        assert item is not None and item.state == "held"
        assert item.last_error == "held: no account 'demo' in config"
        assert [r.getMessage() for r in caplog.records] == [f"outbox item {item_id} held: no account 'demo' in config"]
        assert not any(r.exc_info for r in caplog.records)  # no traceback anywhere
        assert not [m for m in smtp_sink.messages if b"gone-1@helpdesk.test" in m.data]
    finally:
        await desk.close()


def test_outbox_lists_a_held_item_of_a_gone_account_with_what_to_do(tmp_path, dovecot, mail_user, smtp_sink):
    """The demo's store (its reply for tomorrow and its rule's acknowledgement are the demo
    account's) under a config without it."""
    db = tmp_path / "demo.sqlite3"
    cfg = write_config(tmp_path / "config.toml", dovecot, mail_user, smtp_port=smtp_sink.port)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tui_desk", "--config", str(cfg), "--db", str(db), *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=ENDS_WITHIN)
    assert cli("demo", "--prepare", str(db)).returncode == 0
    sent = cli("outbox", "--send")
    assert sent.returncode == 0 and "Traceback" not in sent.stderr, sent.stderr
    said = sorted(sent.stderr.strip().splitlines())
    ids = [n + 1 for n in range(len(said))]
    assert len(said) == 2 and said == [f"outbox item {n} held: no account 'demo' in config" for n in ids], sent.stderr
    rows = sent.stdout.splitlines()
    assert len(rows) == 2 * len(ids), rows  # each item, and what to do with it under it
    for row, todo in zip(rows[::2], rows[1::2]):
        assert "held" in row and "(held: no account 'demo' in config)" in row, rows
        n = int(todo.split("--resend ")[1].split("`")[0])
        assert todo.strip() == (f"add [accounts.demo] back to {cfg}, then `tui-desk outbox --resend {n}`; "
                                f"or drop it: `tui-desk outbox --discard {n}`")
    again = cli("outbox", "--send")  # said once: held, nothing more in the log
    assert again.returncode == 0 and again.stderr == "" and again.stdout == sent.stdout
    for n in ids:
        assert cli("outbox", "--discard", str(n)).returncode == 0
    assert cli("outbox").stdout.strip() == "Outbox is empty."


async def test_the_trouble_line_says_replies_are_held_for_an_account_gone(tmp_path, dovecot, mail_user, smtp_sink):
    cfg = write_config(tmp_path / "config.toml", dovecot, mail_user, smtp_port=smtp_sink.port)
    desk = await Desk.open(tmp_path / "desk.sqlite3", load_config(cfg, required=True))
    try:
        await queue_for(desk, "demo", desk.now())
        background = Background(desk)
        await background.deliver_now()
        trouble = background.trouble()
        assert trouble == (f"outbox needs a fix: replies held, no account 'demo' in config (in {cfg}); "
                           "O: discard, or add it back, restart tui-desk and send anyway")
        assert background.trouble(countdown=False) == trouble  # nothing counts down
    finally:
        await desk.close()


# --- the SMTP side's password_command, a folder the server lacks -------------------------------

def _smtp_password_command(cfg: Path, command: str) -> Path:
    """The SMTP section's password_command (the last one: IMAP's may print the same password)."""
    head, smtp = cfg.read_text().split("[accounts.support.smtp]")
    smtp = smtp.replace('password_command = "echo secret"', f"password_command = {command!r}")
    cfg.write_text(f"{head}[accounts.support.smtp]{smtp}")
    return cfg


async def test_a_failing_smtp_password_command_needs_a_fix_and_is_not_retried(
        tmp_path, dovecot, mail_user, smtp_sink):
    """The item stays queued with no retry timer and no attempt counted (it goes once the config
    is fixed and tui-desk runs again); the command is not run again by this run's later passes."""
    runs = tmp_path / "runs"
    cfg = _smtp_password_command(write_config(tmp_path / "config.toml", dovecot, mail_user, smtp_port=smtp_sink.port),
                                 f"echo run >> {runs}; echo 'gpg: decryption failed: No secret key' >&2; exit 1")
    desk = await Desk.open(tmp_path / "desk.sqlite3", load_config(cfg, required=True))
    try:
        item_id = await queue_for(desk, "support", desk.now())
        background = Background(desk)
        first = await background.deliver_now()
        second = await background.deliver_now()
        assert first.needs_fix == ["gone-1@helpdesk.test"] and first.retrying == [] and first.failed == []
        assert second.needs_fix == ["gone-1@helpdesk.test"] and second.retrying == []
        assert runs.read_text() == "run\n"  # asked once, not at every pass
        item = await outbox.get(desk.store, item_id)
        assert item is not None and item.state == "queued" and item.next_try is None and item.attempts == 0
        said = ("accounts.support.smtp.password_command failed with exit status 1: "
                "gpg: decryption failed: No secret key")
        assert item.last_error == f"needs a fix: {said} (in {cfg})"
        trouble = background.trouble()
        assert trouble == f"outbox needs a fix: {said} (in {cfg}); then restart tui-desk", trouble
        assert background.trouble(countdown=False) == trouble  # nothing counts down
        assert not [m for m in smtp_sink.messages if b"gone-1@helpdesk.test" in m.data]
    finally:
        await desk.close()


def test_outbox_send_says_a_missing_smtp_password_command_needs_a_fix(tmp_path, dovecot, mail_user, smtp_sink):
    cfg = _smtp_password_command(write_config(tmp_path / "config.toml", dovecot, mail_user, smtp_port=smtp_sink.port),
                                 "no-such-pass-helper smtp")
    db = tmp_path / "d.sqlite3"

    async def queued() -> None:
        desk = await Desk.open(db, load_config(cfg, required=True))
        try:
            await queue_for(desk, "support", desk.now())
        finally:
            await desk.close()
    asyncio.run(queued())
    done = subprocess.run([sys.executable, "-m", "tui_desk", "--config", str(cfg), "--db", str(db), "outbox", "--send"],
                          cwd=ROOT, capture_output=True, text=True, timeout=ENDS_WITHIN)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        f"tui-desk: outbox #1 to ann@c.test not sent: needs a fix (accounts.support.smtp.password_command not found "
        f"(exit status 127): /bin/sh: 1: no-such-pass-helper: not found (in {cfg})): fix it, then "
        "`tui-desk outbox --send`"], done.stderr


def _with_folders(cfg: Path, folders: str) -> Path:
    cfg.write_text(cfg.read_text().replace('folders = ["INBOX"]', f"folders = {folders}"))
    return cfg


async def test_a_folder_the_server_lacks_needs_a_fix_and_is_not_retried(tmp_path, dovecot, mail_user):
    cfg = _with_folders(write_config(tmp_path / "config.toml", dovecot, mail_user), '["INBOX", "Tickets"]')
    background, desk = await stopped_sync(tmp_path, cfg)
    try:
        [sync] = background.syncs
        assert sync.needs_fix and sync.retry_at is None and sync.state == "disconnected"
        trouble = background.trouble()
        assert trouble.startswith("support needs a fix: folder 'Tickets' does not exist on support (have: INBOX"), \
            trouble
        assert trouble.endswith(f"set accounts.support.folders (in {cfg}); then restart tui-desk"), trouble
        assert "retrying" not in trouble and background.trouble(countdown=False) == trouble
    finally:
        await desk.close()


def test_sync_once_says_a_missing_folder_in_one_line_and_exits_1(tmp_path, dovecot, mail_user):
    cfg = _with_folders(write_config(tmp_path / "config.toml", dovecot, mail_user), '["Tickets"]')
    done = subprocess.run([sys.executable, "-m", "tui_desk", "--config", str(cfg), "--db", str(tmp_path / "d.db"),
                           "sync", "--once"], cwd=ROOT, capture_output=True, text=True, timeout=ENDS_WITHIN)
    assert done.returncode == 1, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("tui-desk: sync: support needs a fix: folder 'Tickets' does not exist on support "
                           "(have: INBOX"), line
    assert line.endswith(f"; set accounts.support.folders (in {cfg})"), line


def test_a_missing_folder_names_inbox_first_and_counts_what_is_not_shown():
    from tui_desk.sync.live import FolderMissing
    have = {f"F{n:02d}" for n in range(12)} | {"INBOX"}
    assert str(FolderMissing.naming("Tickets", "support", have)) == (
        "folder 'Tickets' does not exist on support (have: INBOX, F00, F01, F02, F03, F04, F05, F06, F07, F08 "
        "and 3 more); set accounts.support.folders")


def test_sync_stops_with_one_line_and_exit_1_when_the_smtp_password_command_is_missing(
        tmp_path, dovecot, mail_user, smtp_sink):
    """`tui-desk sync` delivers the outbox beside the sync: a reply whose SMTP secret needs a fix
    stops it as the IMAP side's does, said once."""
    cfg = _smtp_password_command(write_config(tmp_path / "config.toml", dovecot, mail_user, smtp_port=smtp_sink.port),
                                 "no-such-pass-helper smtp")
    db = tmp_path / "d.sqlite3"

    async def queued() -> None:
        desk = await Desk.open(db, load_config(cfg, required=True))
        try:
            await queue_for(desk, "support", desk.now())
        finally:
            await desk.close()
    asyncio.run(queued())
    done = subprocess.run([sys.executable, "-m", "tui_desk", "--config", str(cfg), "--db", str(db), "sync"],
                          cwd=ROOT, capture_output=True, text=True, timeout=ENDS_WITHIN)
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if not line.startswith("following ")]
    assert lines == [f"tui-desk: sync: outbox needs a fix: accounts.support.smtp.password_command not found "
                     f"(exit status 127): /bin/sh: 1: no-such-pass-helper: not found (in {cfg})"], done.stderr
