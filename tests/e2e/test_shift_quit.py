"""Quitting at the end of a shift: prompt, quiet, and nothing lost or left running."""

from __future__ import annotations

import os
import signal
import time

import pytest
from accounts import write_config
from e2e.conftest import home_with_mail
from e2e.harness import TUI_DESK, agent_home
from processes import running


def wait_until(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, f"{what} not within {seconds:g} s"
        time.sleep(0.05)
    return found


def test_quitting_while_idle_prints_nothing(dovecot, tmp_path, terminals):
    _, home = home_with_mail(dovecot, tmp_path, 20)
    term = terminals.open_home(home)
    term.wait_for("support: idle", timeout=30)
    term.keys("q")
    last = term.wait_exited(10)
    said = term.raw_output().decode("utf-8", "replace") + last
    assert "Traceback" not in said and "never retrieved" not in said, last


def test_quitting_while_a_password_command_waits_ends_it_at_once(dovecot, tmp_path, terminals):
    """`pass` waiting on a pinentry nobody answers: q quits now and the command goes with it."""
    user = dovecot.new_user()
    home = agent_home(tmp_path / "alice", "alice", dovecot, user)
    pid_file = tmp_path / "password-command.pid"
    write_config(home.config, dovecot, user, agent="alice", name="Support",
                 login=f'password_command = "echo $$ > {pid_file}; exec sleep 100"')
    term = terminals.open_home(home)
    pid = int(wait_until(lambda: pid_file.exists() and pid_file.read_text().strip(), 20, "the password command"))
    term.wait_for("support: connec", timeout=20)  # "connecting", cut at 120 columns
    assert running(pid)
    term.keys("q")
    # it would take the command's 100 s; a second or so is the app's own exit
    last = term.wait_exited(10)
    assert "Traceback" not in last, last
    wait_until(lambda: not running(pid), 5, "the password command's end")


@pytest.mark.parametrize("how", ["kill-session", "SIGTERM"])
def test_the_demo_removes_its_mailbox_when_its_terminal_goes(tmp_path, terminals, how):
    """The demo's store is a temp dir: removed on q, and also when the terminal is closed
    (tmux kill-session: SIGHUP) or the process is told to end (SIGTERM)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    term = terminals.open([TUI_DESK, "demo"], {"TMPDIR": str(tmp)})
    term.wait_for("Queue", timeout=60)
    wait_until(lambda: list(tmp.glob("tui-desk-demo-*/demo.sqlite3")), 10, "the demo's store")
    pid = int(term.tmux("display-message", "-p", "-t", term.name, "#{pane_pid}").stdout)
    assert running(pid)
    if how == "kill-session":
        term.tmux("kill-session", "-t", term.name)
    else:
        os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not running(pid), 10, "the demo's end")
    assert list(tmp.glob("tui-desk-demo-*")) == []



def notice_text(screen: str) -> str:
    """The toasts' text on one line: what follows each line's last "▌" (a toast's edge: the
    rightmost, over the panes), joined."""
    parts = [line.rsplit("▌", 1)[1].strip(" │") for line in screen.splitlines() if "▌" in line]
    return " ".join(" ".join(parts).split())


def test_q_right_after_a_reply_asks_and_sends_it_before_quitting(dovecot, smtp_sink, tmp_path, terminals):
    """r, a body, Ctrl+S, then q a second later: the reply waits out its undo window (10 s). The
    app asks; Enter (the default) sends it now, then quits and says so. At 80x24: every choice
    of the question reads whole there (the tryout saw "…runs or syn" cut)."""
    user, home = home_with_mail(dovecot, tmp_path, 20, smtp_port=smtp_sink.port)
    smtp_sink.clear()
    term = terminals.open_home(home, width=80, height=24)
    term.wait_for("support: idle", timeout=30)
    term.keys("r")
    term.wait_for("Esc keeps the draft", timeout=10)  # the compose screen
    term.type("Thanks, it is refunded.")
    term.keys("C-s")
    # "Sending to … in 10 s — u to undo", wrapped where the customer's address puts the break
    term.wait_for(lambda s: "in 10 s — u to undo" in notice_text(s), timeout=10, what="the sending notice")
    term.keys("q")
    asked = term.wait_for("1 reply is waiting to be sent", timeout=10)
    assert "send now and quit" in asked and "cancel" in asked, asked
    assert "quit; it stays in the outbox, sent at the next start or sync" in asked, asked
    assert smtp_sink.messages == []
    term.keys("Enter")
    last = term.wait_exited(40)
    assert "tui-desk: sent 1 reply before quitting" in last, last
    assert len(smtp_sink.messages) == 1 and b"it is refunded." in smtp_sink.messages[0].data
    assert "Traceback" not in last
