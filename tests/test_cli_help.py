"""`tui-desk COMMAND --help` says what the command does and what each argument is."""

from __future__ import annotations

import argparse

import pytest

from tui_desk.cli import main
from tui_desk.cli.parser import build_parser


def commands(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, argparse.ArgumentParser]:
    """Every command and sub-command ("rules test") with its parser."""
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[prefix + name] = sub
                found |= commands(sub, f"{prefix}{name} ")
    return found


ALL = commands(build_parser())


def test_there_are_commands_to_check():
    assert {"queue", "show", "threads", "tag", "rules test", "incident start", "snippets stats"} <= set(ALL)


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_command_has_a_description_and_every_argument_a_help(name):
    parser = ALL[name]
    assert parser.description and "\n" not in parser.description.strip(), name
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        assert action.help and action.help != argparse.SUPPRESS, f"{name}: {action.option_strings or action.dest}"


@pytest.mark.parametrize("argv, words", [
    (["show", "--help"], ["conversation", "--json"]),
    (["tag", "--help"], ["+TAG", "conversation"]),
    (["snooze", "--help"], ["ID", "WHEN"]),
    (["import", "--help"], ["mbox", "Maildir"]),
])
def test_help_says_it(argv, words, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    out = capsys.readouterr().out
    assert e.value.code == 0
    assert all(w in out for w in words), out
    assert out.count("\n") > 5


def test_threads_needs_no_json_flag(tmp_path, capsys):
    import json
    mail = tmp_path / "one.eml"
    mail.write_text("From: Ann <ann@c.test>\nSubject: Hello\nMessage-ID: <one@c.test>\n\nHi\n")
    db = tmp_path / "d.sqlite3"
    assert main(["--db", str(db), "import", str(mail)]) == 0
    capsys.readouterr()
    assert main(["--db", str(db), "threads"]) == 0
    plain = capsys.readouterr().out
    assert main(["--db", str(db), "threads", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(plain) == [{"id": 1, "messages": ["one@c.test"]}]
