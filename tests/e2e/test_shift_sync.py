"""A first shift: the app alone fills its queue from the server and follows new mail live."""

from __future__ import annotations

import json
import re

from e2e.conftest import PROPAGATION, fresh_mail, home_with_mail, imported_home

ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\x1b[=>78]")


def plain(raw: bytes) -> str:
    return ESCAPES.sub(b"", raw).decode("utf-8", "replace")


def test_queue_fills_from_the_server_with_a_progress_bar_then_follows_new_mail(dovecot, tmp_path, terminals):
    user, home = home_with_mail(dovecot, tmp_path, 3000)  # several header and body batches: a bar to see
    term = terminals.open_home(home)

    term.wait_for("support: idle", timeout=60)
    # the bar was drawn while the first sync ran (read from everything the app wrote: it may
    # have come and gone between two looks at the screen)
    assert re.search(r"support: (headers|bodies) [█░]{10} \d+%", plain(term.raw_output())), plain(term.raw_output())[-2000:]
    queue = json.loads(home.cli("queue", "--json").stdout)
    assert queue, "the sync stored no open conversation"
    screen = term.wait_for(queue[0]["customer"])
    assert f"{len(queue)} conversations" in screen

    # new mail delivered to the server is counted with no key pressed; it waits least of the
    # waiting rows (below them: those waiting for nobody, a thanked one), so it is found by search
    dovecot.deliver(user, fresh_mail("live-1@customer.test", "Kettle on fire, please help"))
    term.wait_for(f"{len(queue) + 1} conversations", timeout=PROPAGATION)
    term.keys("/")
    term.type("kettle")
    term.keys("Enter")
    term.wait_for("Kettle on fire")
    assert not term.exited()


def test_an_80x24_terminal_shows_the_synced_queue(dovecot, tmp_path, terminals):
    _, home = home_with_mail(dovecot, tmp_path, 60)
    term = terminals.open_home(home, width=80, height=24)
    term.wait_for("support: idle", timeout=30)
    queue = json.loads(home.cli("queue", "--json").stdout)
    screen = term.wait_for(queue[0]["customer"])
    assert f"{len(queue)} · support: idle" in screen  # the sync's state fits the narrow pane
    assert all(len(line) <= 80 for line in screen.splitlines())


def test_a_change_made_from_the_command_line_shows_in_the_open_app(dovecot, tmp_path, terminals):
    _, home = home_with_mail(dovecot, tmp_path, 30)
    term = terminals.open_home(home)
    term.wait_for("support: idle", timeout=30)
    top = json.loads(home.cli("queue", "--json", "--limit", "1").stdout)[0]
    home.cli("tag", str(top["id"]), "+fromscript")  # a cron job beside the app, say
    term.wait_for("fromscript", timeout=PROPAGATION)


def test_a_store_without_accounts_shows_changes_made_by_another_process(tmp_path, terminals):
    """No server to carry the news: the app sees the other process's commit in the store."""
    home = imported_home(tmp_path, 20, 'agent = "alice"\nagent_addresses = ["*@helpdesk.example"]\n')
    term = terminals.open_home(home)
    top = json.loads(home.cli("queue", "--json", "--limit", "1").stdout)[0]
    term.wait_for(top["customer"])
    home.cli("tag", str(top["id"]), "+fromscript")
    term.wait_for("fromscript", timeout=PROPAGATION)
