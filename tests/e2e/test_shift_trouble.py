"""When things go wrong during a shift: the app says what and when it retries, and recovers;
what no retry fixes (a refused password, a missing password program) it says once as "needs a
fix", with the key and the config file, and no countdown."""

from __future__ import annotations

import re

import pytest

from e2e.conftest import fresh_mail, home_with_mail
from e2e.harness import agent_home
from servers import running_dovecot


@pytest.fixture
def own_dovecot(tmp_path_factory, tls_files):
    """A Dovecot of this test's own: failed logins slow down every later login from the same
    address (Dovecot's auth penalty), and the shared server must not pay for that."""
    with running_dovecot(tmp_path_factory.getbasetemp(), tls_files) as server:
        yield server


def test_a_wrong_password_needs_a_fix_is_said_in_the_app_and_never_logged(own_dovecot, tmp_path, terminals):
    user = own_dovecot.new_user()
    home = agent_home(tmp_path / "alice", "alice", own_dovecot, user, password="not-the-Pa55word")
    term = terminals.open_home(home, width=200, height=30)
    # the line above the status line says it once, with the key to check (and, last, what to do
    # then); no retry counts down (Dovecot said AUTHENTICATIONFAILED: the same password fails again)
    screen = term.wait_for(lambda s: "support needs a fix: accounts.support.imap.password_command: login failed" in s,
                           timeout=20, what="the key to check and the login failure")
    line = next(row for row in screen.splitlines() if row.lstrip().startswith("⚠"))  # not the toast
    assert line.lstrip().startswith("⚠ support needs a fix: accounts.support.imap.password_command: login failed"), line
    assert "[AUTHENTICATIONFAILED]" in line, line
    assert "retrying" not in screen
    assert not term.exited()
    log = home.log.read_text()
    assert "login failed" in log  # the debug log tells the story ...
    assert "not-the-Pa55word" not in log  # ... without the password


def test_the_server_going_away_is_shown_with_the_retry_and_the_app_recovers_by_itself(
        dovecot, tmp_path, terminals):
    user, home = home_with_mail(dovecot, tmp_path, 40)
    term = terminals.open_home(home)
    term.wait_for("support: idle", timeout=30)
    try:
        dovecot.stop()
        screen = term.wait_for("support (retrying in", timeout=20)
        assert "connection lost" in screen or "cannot connect" in screen, screen
    finally:
        dovecot.start()
    term.wait_for(lambda s: "support: idle" in s and "retrying" not in s, timeout=40,
                  what="the sync back to idle")
    dovecot.deliver(user, fresh_mail("after-restart@customer.test", "Printer makes toast"))
    term.keys("G")
    term.wait_for("Printer makes toast", timeout=10)


def test_a_missing_password_program_is_said_key_first_at_80_columns(dovecot, tmp_path, terminals):
    """80x24: the warning line is cut on the right, so it says the key and what is wrong
    before the config file's path (which a wide terminal shows at the end)."""
    user = dovecot.new_user()
    home = agent_home(tmp_path / "alice", "alice", dovecot, user)
    text = home.config.read_text()
    home.config.write_text(re.sub(r'password_command = "[^"]*"', 'password_command = "no-such-pass-helper support"',
                                  text))
    term = terminals.open_home(home, width=80, height=24)
    screen = term.wait_for(lambda s: "accounts.support.imap.password_command not found" in s, timeout=20,
                           what="the key and 'not found' on the warning line")
    line = next(row for row in screen.splitlines() if "password_command" in row)
    assert line.lstrip().startswith("⚠ support needs a fix: accounts.support.imap.password_command not found"), line
    assert str(home.config) not in line  # the path comes after, where 80 columns cut it
    assert "retrying" not in screen  # said once: no countdown
    wide = terminals.open_home(home, width=200, height=24, name="wide")
    # (the test's config path is long: what to do after it, "; then restart tui-desk", is cut)
    wide.wait_for(lambda s: "not found (exit status 127): /bin/sh: 1: no-such-pass-helper: not found (in" in s,
                  timeout=20, what="the shell's line, then the config file, at 200 columns")


def test_a_folder_the_server_lacks_is_said_once_with_the_folders_it_has(dovecot, tmp_path, terminals):
    """`folders` names one the server does not have: said once as needs a fix, with what the
    server has, never retried (it used to count down and try again for ever)."""
    user = dovecot.new_user()
    home = agent_home(tmp_path / "alice", "alice", dovecot, user)
    home.config.write_text(home.config.read_text().replace('folders = ["INBOX"]', 'folders = ["INBOX", "Tickets"]'))
    term = terminals.open_home(home, width=200, height=24)
    screen = term.wait_for(lambda s: "folder 'Tickets' does not exist on support (have: INBOX" in s, timeout=20,
                           what="the missing folder and the server's own on the warning line")
    line = next(row for row in screen.splitlines() if row.lstrip().startswith("⚠"))
    assert line.lstrip().startswith("⚠ support needs a fix: folder 'Tickets' does not exist on support (have: INBOX"), line
    assert "retrying" not in screen and not term.exited()
