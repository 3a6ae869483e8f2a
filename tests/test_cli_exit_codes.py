"""Exit codes scripts can trust (README, Command line): 0 done, 1 not done (said in one line on
stderr), 2 bad input. A send that did not happen is never 0."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3

import pytest

from tui_desk.cli import main, prepare_demo

NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.timezone.utc)
# an SMTP account whose password tool is missing: nothing can be sent, nothing reaches a server
NO_PASSWORD = """\
agent = "alice"
agent_addresses = ["*@helpdesk.test"]

[accounts.support]
address = "support@helpdesk.test"

[accounts.support.smtp]
host = "127.0.0.1"
port = 9
security = "none"
username = "support"
password_command = "/nonexistent/password-tool"
"""


@pytest.fixture
def desk_args(tmp_path):
    db = tmp_path / "desk.sqlite3"
    asyncio.run(prepare_demo(db, NOW))
    with sqlite3.connect(db) as con:  # the demo's own replies are for its account: only ours here
        con.execute("DELETE FROM outbox")
    con.close()
    config = tmp_path / "config.toml"
    config.write_text(NO_PASSWORD)
    (tmp_path / "reply.md").write_text("Thanks!\n")
    return ["--db", str(db), "--config", str(config)], tmp_path


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def outbox_item(capsys, args, outbox_id: int) -> dict:
    code, out, err = run(capsys, *args, "outbox", "--json")
    assert code == 0, err
    return next(i for i in json.loads(out) if i["id"] == outbox_id)


def queued_for_later(capsys, args, tmp) -> dict:
    conv = json.loads(run(capsys, *args, "queue", "--json", "--limit", "1")[1])[0]["id"]
    code, out, err = run(capsys, *args, "reply", conv, "--body-file", tmp / "reply.md", "--send-at", "2h", "--json")
    assert code == 0, err
    return json.loads(out)


def test_send_now_that_cannot_send_says_so_and_exits_1(desk_args, capsys):
    args, tmp = desk_args
    queued = queued_for_later(capsys, args, tmp)
    code, out, err = run(capsys, *args, "outbox", "--send-now", queued["outbox_id"])
    assert code == 1
    line = err.strip()
    assert "\n" not in line and line.startswith(f"tui-desk: outbox #{queued['outbox_id']}"), err
    # a password tool that is missing needs a fix (tests/test_needs_fix.py): no retry sends it
    assert "not sent: needs a fix (accounts.support.smtp.password_command not found" in line, line
    item = outbox_item(capsys, args, queued["outbox_id"])
    assert item["state"] == "queued" and item["error"].startswith("needs a fix: accounts.support.smtp.password_command")


def test_outbox_send_that_cannot_send_exits_1(desk_args, capsys):
    args, tmp = desk_args
    queued = queued_for_later(capsys, args, tmp)
    assert run(capsys, *args, "outbox", "--send")[0] == 0  # nothing due: nothing asked of the server
    code, _, err = run(capsys, *args, "outbox", "--send-now", queued["outbox_id"], "--send")
    assert code == 1 and err.count("\n") == 1 and "not sent" in err, err


def test_a_reply_that_could_not_go_exits_1_and_says_it_waits_in_the_outbox(desk_args, capsys):
    args, tmp = desk_args
    conv = json.loads(run(capsys, *args, "queue", "--json", "--limit", "1")[1])[0]["id"]
    code, out, err = run(capsys, *args, "reply", conv, "--body-file", tmp / "reply.md", "--json")
    assert code == 1
    assert json.loads(out)["state"] == "needs_fix"  # the password tool is missing: no retry helps
    assert err.count("\n") == 1 and "not sent: needs a fix (accounts.support.smtp.password_command" in err, err
    code, out, err = run(capsys, *args, "reply", conv, "--body-file", tmp / "reply.md")
    assert code == 1 and "needs_fix" in out and "not sent" in err


def test_a_follow_up_that_skips_exits_1_and_says_so_on_stderr_with_json_too(desk_args, capsys):
    args, _ = desk_args
    # {{status_page_url}}: nothing fills it (the tryout's csat is auto-only now: refused, exit 2)
    code, out, err = run(capsys, *args, "followup", "--query", "subject:refund", "--snippet", "outage-investigating",
                         "--dry-run", "--json")
    items = json.loads(out)["items"]
    assert code == 1 and items and all(i["state"] == "skipped" for i in items)
    assert err == f"tui-desk: followup: {len(items)} conversations skipped (items[].problem says why)\n"


def test_sync_once_that_cannot_reach_the_server_exits_1_in_one_line(tmp_path, capsys):
    """Not done (the server may answer next time): 1, as `sync --once` with errors; 2 is for
    input that is wrong."""
    import socket
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    config = tmp_path / "config.toml"
    config.write_text(NO_PASSWORD.replace("[accounts.support.smtp]", "[accounts.support.imap]")
                      .replace("port = 9", f"port = {closed}"))
    code, out, err = run(capsys, "--db", tmp_path / "desk.sqlite3", "--config", config, "sync", "--once")
    assert code == 1, err
    assert err == f"tui-desk: sync: support: cannot connect to 127.0.0.1:{closed}: connection refused\n"


def test_the_readme_documents_the_exit_codes_once():
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("### Exit status")[1].split("\n#")[0]
    for code in ("`0`", "`1`", "`2`"):
        assert code in section, code
    assert readme.count("### Exit status") == 1
