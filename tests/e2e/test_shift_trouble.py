"""When things go wrong during a shift: the app says what and when it retries, and recovers."""

from __future__ import annotations


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


def test_a_wrong_password_is_said_in_the_app_and_never_logged(own_dovecot, tmp_path, terminals):
    user = own_dovecot.new_user()
    home = agent_home(tmp_path / "alice", "alice", own_dovecot, user, password="not-the-Pa55word")
    term = terminals.open_home(home, width=100, height=30)
    # the line above the status line says it with the retry; the toast gives the whole reason
    term.wait_for(lambda s: "support (retrying in" in s and "login failed" in s and "password_command" in s,
                  timeout=20, what="the login failure, its retry and the hint")
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
