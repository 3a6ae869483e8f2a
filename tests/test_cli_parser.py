"""cli.parser.parse_args: a command line of the app's options alone is read without building
every command's parser; it must read exactly what the whole parser reads, and leave the rest
(commands, help, mistakes) to the whole parser."""

from __future__ import annotations

import sys

import pytest

from tui_desk.cli import parser
from tui_desk.cli.parser import build_parser, parse_args

APP_LINES = [
    [],
    ["--db", "/tmp/a.sqlite3"],
    ["--db=/tmp/a.sqlite3", "--config", "c.toml", "--log", "x.log"],
    ["--db", "a", "--db", "b"],  # the last one wins, as argparse has it
    ["--d", "abbreviated"],  # argparse's abbreviations
    ["--db", "queue"],  # a value, not a command
    ["--db="],
]

OTHER_LINES = [
    ["queue", "--json"],
    ["--db", "x", "queue", "--limit", "3"],
    ["show", "7"],
    ["--db", "x", "--", "queue"],
    ["--", "--db", "x"],
    # help and mistakes
    ["--db"],  # no value
    ["--nonsense"],
    ["--db", "x", "no-such-command"],
    ["-h"],
    ["--help"],
]


def outcome(parse, argv, capsys) -> tuple:
    """What a parse gives: the namespace, or the exit status and what was printed."""
    try:
        return ("parsed", vars(parse(argv)))
    except SystemExit as e:
        out, err = capsys.readouterr()
        assert out or err
        return ("exit", e.code, out, err)


@pytest.mark.parametrize("argv", APP_LINES + OTHER_LINES)
def test_reads_what_the_whole_parser_reads(argv, capsys):
    assert outcome(parse_args, argv, capsys) == outcome(lambda a: build_parser().parse_args(a), argv, capsys)


@pytest.mark.parametrize("argv", APP_LINES)
def test_the_apps_own_line_does_not_build_the_commands(argv, monkeypatch):
    def not_built():
        raise AssertionError("the whole parser was built for the app's own options")
    monkeypatch.setattr(parser, "build_parser", not_built)
    args = parse_args(argv)
    assert args.command is None


def test_reads_sys_argv_by_default(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["tui-desk", "--db", "from-argv"])
    assert str(parse_args().db) == "from-argv"
