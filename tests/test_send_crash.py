"""kill -9 of a real `tui-desk reply` process at each step of the send path, then a restart
(`tui-desk outbox --send`), against the suite's Dovecot and aiosmtpd sink.

What it proves, counting copies by Message-ID on the SMTP sink and in the Sent folder (IMAP):
- killed after the reply is committed to the outbox, before SMTP: the restart delivers it,
  exactly one copy reaches the server and one lands in Sent;
- killed after SMTP accepted it and 'sent' is committed, before/after the Sent APPEND: the
  restart never resends, and Sent ends with exactly one copy;
- killed while 'sending' (before or after the server took it) with no copy in Sent: the restart
  shows it as 'maybe_sent' in `tui-desk outbox --json` and never resends it on its own.
The stop points are set by tests/send_crash_child.py; everything else is the unchanged app.
"""

from __future__ import annotations

import imaplib
import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest

from tests.mailfactory import make_mail
from tests.accounts import write_config
from tests.processes import alive, descendants

CHILD = Path(__file__).with_name("send_crash_child.py")
ROOT = Path(__file__).resolve().parents[1]


class Desk:
    """One store and config, driven only through separate `tui-desk` processes."""

    def __init__(self, tmp_path: Path, dovecot, user: str, sink):
        self.tmp, self.dovecot, self.user, self.sink = tmp_path, dovecot, user, sink
        self.cfg, self.db = tmp_path / "config.toml", tmp_path / "store.sqlite3"
        write_config(self.cfg, dovecot, user, agent="Alice", name="Helpdesk Support", smtp_port=sink.port)
        dovecot.load_maildir(user, [make_mail("q1@t", sender="Ann Lee <ann@c.test>",
                                              subject="Refund for order #123", body="Where is my refund?\n")])
        self.cli("sync", "--once")
        [row] = json.loads(self.cli("queue", "--json"))
        self.conv = row["id"]
        self.body = tmp_path / "reply.md"
        self.body.write_text("Hi {{customer_first_name}},\n\nyour refund is on its way.\n")

    def args(self, *args) -> list[str]:
        return ["--config", str(self.cfg), "--db", str(self.db), *args]

    def cli(self, *args, status: int = 0, said: str = "not sent: maybe sent") -> str:
        done = subprocess.run([sys.executable, "-m", "tui_desk", *self.args(*args)], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == status, f"tui-desk {' '.join(args)}: {done.stderr}"
        if status == 1:  # not done: one line on stderr says which and why (README: Exit status)
            assert done.stderr.count("\n") == 1 and said in done.stderr, done.stderr
        return done.stdout

    def outbox(self, *args, status: int = 0, said: str = "not sent: maybe sent") -> list[dict]:
        """What `tui-desk outbox --json` lists: the items still on their way or waiting."""
        return json.loads(self.cli("outbox", "--json", *args, status=status, said=said))

    def state(self) -> str:
        """The state of the one outbox row, straight from the store (done rows are not listed)."""
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            [(state,)] = con.execute("SELECT state FROM outbox").fetchall()
        finally:
            con.close()
        return state

    def reply_killed_at(self, point: str) -> None:
        """`tui-desk reply` in its own process, SIGKILLed the moment it reaches `point`."""
        self.kill(self.reply_paused_at(point))

    def reply_paused_at(self, point: str) -> subprocess.Popen:
        """`tui-desk reply` in its own process, alive and stopped at `point`."""
        err = self.tmp / f"child-{point}.err"
        with err.open("w") as stderr:
            proc = subprocess.Popen([sys.executable, str(CHILD), point,
                                     *self.args("reply", str(self.conv), "--body-file", str(self.body))],
                                    cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True)
        watchdog = threading.Timer(240, proc.kill)  # only if the child never gets there
        watchdog.start()
        try:
            line = proc.stdout.readline().strip()
        finally:
            watchdog.cancel()
        if line != point:
            proc.kill()
            proc.wait()
            proc.stdout.close()
        assert line == point, f"child never reached {point}: {err.read_text()}"
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        helpers = descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        assert proc.returncode == -signal.SIGKILL
        deadline = time.time() + 30
        while alive(helpers) and time.time() < deadline:
            time.sleep(0.2)
        assert not alive(helpers), "nothing the killed process started lives on"

    def on_sink(self, message_id: str) -> int:
        parse = BytesHeaderParser().parsebytes
        return sum(1 for m in list(self.sink.messages) if parse(m.data)["Message-ID"] == f"<{message_id}>")

    def in_sent(self, message_id: str) -> int:
        c = imaplib.IMAP4("127.0.0.1", self.dovecot.imap_port, timeout=60)
        try:
            c.login(self.user, self.dovecot.password_of(self.user))
            typ, _ = c.select("Sent", readonly=True)
            assert typ == "OK"
            typ, data = c.uid("SEARCH", "HEADER", "Message-ID", f'"<{message_id}>"')
            assert typ == "OK"
            return len(data[0].split())
        finally:
            c.logout()

    def no_process_left(self) -> None:
        """No process of this test (they all name its store on their command line) still runs."""
        mine = set()
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                if str(self.db).encode() in cmdline.read_bytes():
                    mine.add(int(cmdline.parent.name))
            except OSError:
                continue
        assert not alive(mine), f"left running: {alive(mine)}"


@pytest.fixture
def desk(tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    d = Desk(tmp_path, dovecot, mail_user, smtp_sink)
    yield d
    d.no_process_left()


def test_killed_after_the_outbox_write_before_smtp_is_delivered_exactly_once(desk):
    desk.reply_killed_at("before-take")
    [item] = desk.outbox()
    mid = item["message_id"]
    assert item["state"] == "queued", "the reply was durable before anything was sent"
    assert desk.on_sink(mid) == 0 and desk.in_sent(mid) == 0

    assert desk.outbox("--send") == [] and desk.state() == "done"  # the restart delivers it
    assert desk.on_sink(mid) == 1 and desk.in_sent(mid) == 1
    assert desk.outbox("--send") == [] and desk.state() == "done"  # a later run does nothing more
    assert desk.on_sink(mid) == 1 and desk.in_sent(mid) == 1


@pytest.mark.parametrize("point, filed", [("before-file", 0), ("before-append", 0), ("after-append", 1)])
def test_killed_between_smtp_and_sent_append_files_once_and_never_resends(desk, point, filed):
    desk.reply_killed_at(point)
    [item] = desk.outbox()
    mid = item["message_id"]
    assert item["state"] == "sent"
    assert desk.on_sink(mid) == 1 and desk.in_sent(mid) == filed

    assert desk.outbox("--send") == [] and desk.state() == "done"
    assert desk.on_sink(mid) == 1, "never sent twice"
    assert desk.in_sent(mid) == 1, "exactly one copy in Sent"
    assert desk.outbox("--send") == [] and desk.state() == "done"
    assert desk.on_sink(mid) == 1 and desk.in_sent(mid) == 1


@pytest.mark.parametrize("point, delivered", [("after-smtp", 1), ("before-smtp", 0)])
def test_killed_while_sending_shows_maybe_sent_and_never_resends(desk, point, delivered):
    desk.reply_killed_at(point)
    [item] = desk.outbox()
    mid = item["message_id"]
    assert item["state"] == "sending"
    assert desk.on_sink(mid) == delivered and desk.in_sent(mid) == 0

    # it could not be delivered: the agent decides, told one thing to do (the CLI is no "app",
    # and the line once said "check with the customer" then "look in Sent")
    restarted = desk.outbox("--send", status=1, said=(
        "not sent: maybe sent (tui-desk stopped while sending it; the server may have accepted it, though Sent"
        " has no copy: ask the customer if unsure, then resend or discard):"
        f" `tui-desk outbox --resend {item['id']}` or --discard {item['id']}\n"))
    assert [(i["id"], i["state"]) for i in restarted] == [(item["id"], "maybe_sent")]
    assert "may have accepted" in restarted[0]["error"]
    listed = desk.outbox()  # what `tui-desk outbox --json` shows the agent afterwards
    assert [(i["id"], i["state"]) for i in listed] == [(item["id"], "maybe_sent")]
    assert "maybe_sent" in desk.cli("outbox")
    assert [i["state"] for i in desk.outbox("--send")] == ["maybe_sent"], "it waits for the agent"
    assert desk.on_sink(mid) == delivered, "nothing resent silently"
    assert desk.in_sent(mid) == 0

    if not delivered:  # the agent checked and resends: now it goes out, once
        assert desk.outbox("--resend", str(item["id"])) == [] and desk.state() == "done"
        assert desk.on_sink(mid) == 1 and desk.in_sent(mid) == 1


@pytest.mark.parametrize("point, state", [("before-append", "sent"), ("before-smtp", "sending")])
def test_a_process_still_sending_is_left_alone_by_another_until_it_dies(desk, point, state):
    """The app mid-send and `tui-desk outbox --send` beside it on one store: the second must not
    take the first's item for a crash (that sent replies twice and filed Sent copies twice)."""
    sending = desk.reply_paused_at(point)
    try:
        [item] = desk.outbox()
        mid = item["message_id"]
        assert item["state"] == state
        on_sink = desk.on_sink(mid)
        assert [i["state"] for i in desk.outbox("--send")] == [state], "left alone while its sender lives"
        assert desk.on_sink(mid) == on_sink and desk.in_sent(mid) == 0
    finally:
        desk.kill(sending)
    after = desk.outbox("--send", status=0 if state == "sent" else 1)  # now it is a crash: recovered as before
    if state == "sent":
        assert after == [] and desk.state() == "done" and desk.in_sent(mid) == 1 and desk.on_sink(mid) == 1
    else:
        assert [i["state"] for i in after] == ["maybe_sent"] and desk.on_sink(mid) == 0


def test_a_failing_smtp_password_command_leaves_the_reply_queued_not_maybe_sent(desk):
    text = desk.cfg.read_text()
    desk.cfg.write_text(text.replace('password_command = "echo secret"', 'password_command = "exit 3"'))
    done = subprocess.run([sys.executable, "-m", "tui_desk",
                           *desk.args("reply", str(desk.conv), "--body-file", str(desk.body))],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in done.stderr
    [item] = desk.outbox("--send", status=1, said="not sent: needs a fix")  # asked to send, not sent: 1
    assert item["state"] == "queued" and "password" in item["error"], "nothing was sent: it waits, said why"
    assert item["error"].startswith("needs a fix: accounts.support.smtp.password_command"), item["error"]
    assert desk.on_sink(item["message_id"]) == 0
    desk.cfg.write_text(text)
    # fixed, and tui-desk run again: it goes at once (a problem that needs a fix sets no retry timer)
    assert desk.outbox("--send") == [] and desk.state() == "done"
    assert desk.on_sink(item["message_id"]) == 1


def test_outbox_send_now_delivers_a_scheduled_reply_at_once(desk):
    desk.cli("reply", str(desk.conv), "--body-file", str(desk.body), "--send-at", "tomorrow 9:00")
    [item] = desk.outbox("--send")
    assert item["state"] == "queued" and desk.on_sink(item["message_id"]) == 0, "not due yet"
    assert desk.outbox("--send-now", str(item["id"])) == [] and desk.state() == "done"
    assert desk.on_sink(item["message_id"]) == 1
