"""`tui-desk demo --keep DIR`: the demo's store and config kept for the CLI, and README's lines
for it ("The demo from the command line") run as written against them."""

from __future__ import annotations

import asyncio
import re
import shlex
from pathlib import Path

import pytest

from tui_desk.cli import main
from tui_desk.cli.commands import keep_demo, kept_demo_hint
from tui_desk.cli.output import UsageError
from tui_desk.config import load_config
from tui_desk.demo import demo_config

README = Path(__file__).resolve().parent.parent / "README.md"
KEPT = "~/tui-desk-demo"


def readme_demo_lines() -> list[str]:
    """The shell lines of README's demo-cli block."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- demo-cli[^>]*-->\n```sh\n(.*?)```", text, re.S)
    assert block, "README has the demo-cli block"
    return [line for line in block.group(1).splitlines() if line.strip()]


@pytest.fixture(scope="module")
def kept(tmp_path_factory) -> tuple[Path, Path]:
    return asyncio.run(keep_demo(tmp_path_factory.mktemp("kept") / "tui-desk-demo", 2525))


def test_the_kept_config_is_the_demos(kept):
    db, config_path = kept
    assert db.is_file() and config_path.parent == db.parent
    config, demo = load_config(config_path, required=True), demo_config(2525)
    assert config.agent == demo.agent and config.agent_identity() == demo.agent_identity()
    assert config.priority == demo.priority and config.sla == demo.sla and config.accounts == demo.accounts


def test_readme_demo_lines_run_against_the_kept_demo(kept, monkeypatch, capsys):
    db, config_path = kept
    home = str(db.parent.parent)
    lines = [shlex.split(line.replace(KEPT, home + "/tui-desk-demo"), comments=True) for line in readme_demo_lines()]
    assert lines[0][-3:] == ["demo", "--keep", str(db.parent)], lines[0]
    exported = dict(w.split("=", 1) for w in lines[1][1:])
    assert exported == {"TUI_DESK_DB": str(db), "TUI_DESK_CONFIG": str(config_path)}
    # what --keep prints on quit names the same two files
    hint = kept_demo_hint(db, config_path)
    assert f"TUI_DESK_DB={db}" in hint and f"TUI_DESK_CONFIG={config_path}" in hint
    for name, value in exported.items():
        monkeypatch.setenv(name, value)
    commands = [words[1:] for words in lines if words[0] == "tui-desk"]
    assert [c[0] for c in commands] == ["queue", "history", "followup"]
    for argv in commands:
        if "ID" in argv:
            assert main(["queue", "--limit", "1"]) == 0
            first_id = capsys.readouterr().out.split()[1]  # after the row's marker, as README says
            argv = [first_id if a == "ID" else a for a in argv]
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == 0 and out.strip(), (argv, err)
        if argv[0] == "queue":
            assert len(out.splitlines()) >= 3 and not err, out  # Breaching has members
        elif argv[0] == "history":
            assert not err and (re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d \w", out) or out.startswith("No history")), out
        else:
            assert re.fullmatch(r"dry run: ([1-9]\d*) customers? \([1-9]\d* conversations?\): \1 repl(y|ies) "
                                r"would be queued, one per customer; nothing sent\n", err), err
            assert out.count("\n") >= 2, out


def test_keep_refuses_a_folder_of_another_desk(tmp_path):
    (tmp_path / "config.toml").write_text('agent = "Me"\n', encoding="utf-8")
    with pytest.raises(UsageError, match="not made by `tui-desk demo --keep`"):
        asyncio.run(keep_demo(tmp_path, 2525))
    assert (tmp_path / "config.toml").read_text(encoding="utf-8") == 'agent = "Me"\n'
    assert not (tmp_path / "desk.sqlite3").exists()


def test_a_missing_config_named_by_the_environment_is_a_mistake(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TUI_DESK_CONFIG", str(tmp_path / "nope.toml"))
    assert main(["outbox"]) == 2
    assert "nope.toml: no such config file" in capsys.readouterr().err


def test_history_of_a_conversation_nobody_touched_says_so(kept, capsys):
    import json
    db, _ = kept
    assert main(["--db", str(db), "queue", "--json"]) == 0
    ids = [row["id"] for row in json.loads(capsys.readouterr().out)]
    for cid in ids:
        assert main(["--db", str(db), "history", str(cid), "--json"]) == 0
        if not json.loads(capsys.readouterr().out)["events"]:
            break
    else:
        pytest.fail("every conversation of the demo's queue has a history")
    assert main(["--db", str(db), "history", str(cid)]) == 0
    assert capsys.readouterr().out == f"No history: nobody has acted on conversation {cid} yet.\n"
