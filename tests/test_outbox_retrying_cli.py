"""`tui-desk outbox` on a reply the SMTP server could not take yet: it says retrying, how many
tries failed, the next try in the desk's zone and the server's last word (sanitized, one
line), and how to try now; --json carries the next try too."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3

from tui_desk.cli import main, prepare_demo

NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.timezone.utc)
CONFIG = """\
agent = "alice"
agent_addresses = ["*@helpdesk.test"]

[priority]
timezone = "Europe/Berlin"

[accounts.support]
address = "support@helpdesk.test"

[accounts.support.smtp]
host = "127.0.0.1"
port = 9
security = "none"
username = "support"
password_command = "/nonexistent/password-tool"
"""


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_outbox_lists_a_retrying_reply_with_its_tries_next_try_and_error(tmp_path, capsys):
    db = tmp_path / "desk.sqlite3"
    asyncio.run(prepare_demo(db, NOW))
    with sqlite3.connect(db) as con:
        con.execute("DELETE FROM outbox")
    con.close()
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    (tmp_path / "reply.md").write_text("Thanks!\n")
    args = ["--db", db, "--config", config]
    conv = json.loads(run(capsys, *args, "queue", "--json", "--limit", "1")[1])[0]["id"]
    code, out, err = run(capsys, *args, "reply", conv, "--body-file", tmp_path / "reply.md", "--send-at", "2h", "--json")
    assert code == 0, err
    outbox_id = json.loads(out)["outbox_id"]
    next_try = int(dt.datetime(2026, 12, 7, 8, 10, tzinfo=dt.timezone.utc).timestamp())  # 9:10 in Berlin
    with sqlite3.connect(db) as con:  # as the outbox leaves it after five refused tries
        con.execute("UPDATE outbox SET attempts=5, next_try=?, last_error=? WHERE id=?",
                    (next_try, "451 4.3.0 [b]try later[/b]\x1b[31m\nmore", outbox_id))
    con.close()
    code, out, err = run(capsys, *args, "outbox")
    assert code == 0, err
    [line] = [ln for ln in out.splitlines() if ln.strip().startswith(str(outbox_id))]
    assert f"retrying   #{conv}" in line
    assert "5 tries failed, next try Mon 07 Dec 09:10" in line
    assert f"(`tui-desk outbox --send-now {outbox_id}` tries now)" in line
    assert "451 4.3.0 [b]try later[/b]" in line and "\x1b" not in out
    code, out, err = run(capsys, *args, "outbox", "--json")
    [item] = json.loads(out)
    assert item["attempts"] == 5 and item["next_try"] == "2026-12-07T08:10:00+00:00"
