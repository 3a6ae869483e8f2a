"""The argument parser of `tui-desk`: every command and option."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn


from tui_desk.cli.output import OneLineParser, count
from tui_desk.cli.reports import add_parsers as add_report_parsers
from tui_desk.config import default_config_path
from tui_desk.store.search import KNOWN_FIELDS


class _NotPlain(Exception):
    """The command line is more than the app's options: the whole parser reads it."""


class _AppOptionsParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _NotPlain(message)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """build_parser().parse_args(argv). A command line of the app's options alone (`tui-desk`,
    `tui-desk --db FILE`: the app's start) is read without building every command's parser
    (~15 ms, the commands' modules imported); anything else, help and mistakes included, by
    the whole parser."""
    argv = sys.argv[1:] if argv is None else list(argv)
    plain = _AppOptionsParser(prog="tui-desk", add_help=False, exit_on_error=False)
    _app_options(plain)
    try:
        args, rest = plain.parse_known_args(argv)
    except (_NotPlain, argparse.ArgumentError):
        rest = argv
    if rest or "--" in argv:
        return build_parser().parse_args(argv)
    args.command = None
    return args


def _app_options(ap: argparse.ArgumentParser) -> None:
    """The options before the command (or with none: the app)."""
    ap.add_argument("--db", type=Path, help="store file (default: $TUI_DESK_DB or the XDG data dir)")
    ap.add_argument("--config", type=Path, help=f"config file (default: $TUI_DESK_CONFIG or {default_config_path()})")
    ap.add_argument("--log", type=Path, metavar="FILE",
                    help="append a debug log to FILE (default: $TUI_DESK_LOG; passwords never in it)")


def build_parser() -> argparse.ArgumentParser:
    ap = OneLineParser(prog="tui-desk", description="A helpdesk inbox in the terminal.")
    _app_options(ap)
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("queue", help="conversations in priority order")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=count, default=None)
    p.add_argument("--sort", choices=("priority", "sla"), default="priority",
                   help="sla: the target due first on top (breached first), then the rest by priority")
    p.add_argument("--view", metavar="NAME", help="a saved view instead of the queue: Mine, Pending, Breaching…")
    p = sub.add_parser("show", help="one conversation with its messages")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("history", help="what agents did in a conversation, oldest first")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")
    add_report_parsers(sub)
    p = sub.add_parser("search", help='search: words "phrases" ' + " ".join(f"{k}:" for k in KNOWN_FIELDS))
    p.add_argument("query", nargs="+")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=count, default=None)
    p = sub.add_parser("threads", help="every conversation as its Message-IDs")
    p.add_argument("--json", action="store_true", required=True)
    p = sub.add_parser("import", help="load an mbox, a Maildir or a folder of .eml files")
    p.add_argument("paths", nargs="+", type=Path)
    p = sub.add_parser("tag", help="add/remove tags: tag ID [ID...] +bug -question")
    # REMAINDER: "-question" is a tag to remove, not an option (--json is picked out in _triage)
    p.add_argument("items", nargs=argparse.REMAINDER, metavar="ID|+TAG|-TAG")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("status", help="set the status: status ID [ID...] open|pending|closed|spam")
    p.add_argument("items", nargs="+", metavar="ID|STATUS")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("snooze", help='snooze ID [ID...] "tomorrow 9:00" | 3d | "until reply" | off')
    p.add_argument("items", nargs="+", metavar="ID|WHEN")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("assign", help="assign ID [ID...] NAME (or 'nobody')")
    p.add_argument("items", nargs="+", metavar="ID|NAME")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("merge", help="merge KEEP OTHER [OTHER...]: the others' mail joins KEEP (u/undo in the app)")
    p.add_argument("items", nargs="+", type=int, metavar="ID")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("split", help="split MESSAGE out into a conversation of its own (Message-ID or number)")
    p.add_argument("message")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("note", help="add an internal note (Markdown; never sent to the customer)")
    p.add_argument("id", type=int)
    p.add_argument("--body", required=True, help="the note, or - for stdin")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("reply", help="reply to a conversation with a Markdown body or a snippet")
    p.add_argument("id", type=int)
    body = p.add_mutually_exclusive_group(required=True)
    body.add_argument("--body-file", type=Path, help="Markdown file, or - for stdin")
    body.add_argument("--snippet", metavar="NAME", help="the snippet, its placeholders filled for this conversation")
    p.add_argument("--all", action="store_true", help="reply to all")
    p.add_argument("--send-at", metavar="WHEN", help='"tomorrow 9:00", "mon 8:30", "2h" …')
    p.add_argument("--attach", type=Path, action="append", default=[])
    p.add_argument("--account")
    p.add_argument("--json", action="store_true")
    from tui_desk.cli.followup import add_parser as add_followup
    add_followup(sub)
    p = sub.add_parser("outbox", help="replies on their way; --send delivers what is due")
    p.add_argument("--json", action="store_true")
    p.add_argument("--send", action="store_true", help="deliver due messages now")
    p.add_argument("--cancel", type=int, metavar="N", help="undo a queued send (back to the draft)")
    p.add_argument("--resend", type=int, metavar="N", help="send a held, 'maybe sent' or failed message (again)")
    p.add_argument("--discard", type=int, metavar="N", help="drop a held, 'maybe sent' or failed message")
    p.add_argument("--send-now", type=int, metavar="N", help="send a scheduled (send-later) message now")
    p = sub.add_parser("sync", help="mirror the configured IMAP accounts into the store")
    p.add_argument("--account", help="only this account (default: all)")
    p.add_argument("--once", action="store_true", help="sync every folder once and exit")
    p = sub.add_parser("fetch", help="download in full the mail of a conversation kept header-only for its size")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")
    from tui_desk.cli.rules import add_parser as add_rules
    add_rules(sub)
    from tui_desk.cli.snippets import add_parser as add_snippets
    add_snippets(sub)
    from tui_desk.cli.incident import add_parser as add_incident
    add_incident(sub)
    p = sub.add_parser("demo", help="open the app on a bundled demo mailbox")
    p.add_argument("--prepare", type=Path, metavar="DB", help="only build the demo store at DB and exit")
    p.add_argument("--keep", type=Path, metavar="DIR",
                   help="keep the demo's store and config in DIR (reopened there next time) for the CLI; "
                        "on quit it prints the TUI_DESK_DB and TUI_DESK_CONFIG to use")
    return ap
