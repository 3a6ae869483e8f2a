"""Assigning by name, the CLI's side (the app's is in tests/test_ui.py): a first name is the one
configured agent it begins (desk.agent_names.resolve); a name that is no known agent is refused,
exit 2 with one line naming the agents, unless --new (or --force) says it is a new teammate."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

from tui_desk.cli import main, prepare_demo

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone.utc)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_assign_by_first_name_refuses_a_stranger_unless_new(tmp_path, capsys):
    db = tmp_path / "a.sqlite3"
    asyncio.run(prepare_demo(db, NOW))
    config = tmp_path / "config.toml"
    config.write_text('agent = "Alice Martin"\nteam = ["Bob Okafor", "Chen Wei"]\n')
    args = ("--db", db, "--config", config)
    code, out, err = run(capsys, *args, "queue", "--json", "--limit", "1")
    first = json.loads(out)[0]["id"]

    code, out, err = run(capsys, *args, "assign", first, "bob", "--json")
    assert code == 0, err
    assert json.loads(out)["conversations"][0]["assignee"] == "Bob Okafor"

    code, out, err = run(capsys, *args, "assign", first, "zed")
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert "zed is not a known agent" in err and "Bob Okafor" in err and "Chen Wei" in err and "--new" in err
    code, out, err = run(capsys, *args, "assign", first, "zed", "--json")
    assert code == 2, err

    code, out, err = run(capsys, *args, "assign", first, "Zed", "--new", "--json")
    assert code == 0, err
    assert json.loads(out)["conversations"][0]["assignee"] == "Zed"
    code, out, err = run(capsys, *args, "assign", first, "dora", "--force")
    assert code == 0 and out == "assigned 1 conversation to dora\n", err
    code, out, err = run(capsys, *args, "assign", first, "nobody")
    assert code == 0 and out == "unassigned 1 conversation\n"
