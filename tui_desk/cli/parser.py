"""The argument parser of `tui-desk`: every command and option."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn


from tui_desk.config import default_config_path


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


CONVERSATION = "the conversation's number (the first column of queue and search)"
IDS_THEN = "conversation numbers (one or more), then "


def build_parser() -> argparse.ArgumentParser:
    # here, not atop: the app's start reads its options without them (cli.output pulls the
    # store, sqlite3 and the search parser; cli.reports csv)
    from tui_desk.cli.output import OneLineParser, add_json, command, count
    from tui_desk.cli.reports import add_parsers as add_report_parsers
    from tui_desk.store.search import KNOWN_FIELDS
    ap = OneLineParser(prog="tui-desk", description="A helpdesk inbox in the terminal.",
                       epilog="tui-desk COMMAND --help: what the command does and each option. "
                              "Exit status: 0 done, 1 not done (said on stderr), 2 bad input.")
    _app_options(ap)
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    p = command(sub, "queue", "conversations in priority order, one line each")
    add_json(p)
    p.add_argument("--limit", type=count, default=None, metavar="N", help="at most N conversations (0 or more)")
    p.add_argument("--sort", choices=("priority", "sla"), default="priority",
                   help="sla: the target due first on top (breached first), then the rest by priority")
    p.add_argument("--view", metavar="NAME", help="a saved view instead of the queue: Mine, Pending, Breaching…")
    p = command(sub, "show", "one conversation with its messages, as the app's conversation pane shows it")
    p.add_argument("id", type=int, help=CONVERSATION)
    add_json(p)
    p = command(sub, "history", "what agents did in a conversation, oldest first")
    p.add_argument("id", type=int, help=CONVERSATION)
    add_json(p)
    add_report_parsers(sub)
    p = command(sub, "search", 'the conversations a search finds, newest first: words "phrases" '
                + " ".join(f"{k}:" for k in KNOWN_FIELDS))
    p.add_argument("query", nargs="+", help='words, "phrases" and field:value (README: Search syntax)')
    add_json(p)
    p.add_argument("--limit", type=count, default=None, metavar="N", help="at most N conversations (0 or more)")
    p = command(sub, "threads", "every conversation as its Message-IDs, as JSON (to check the threading)")
    p.add_argument("--json", action="store_true", help="the output is JSON with or without it")
    p = command(sub, "import", "load mail from files into the store (again: what is known is skipped)")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="an mbox file, a Maildir or a folder of .eml files")
    p = command(sub, "tag", "add and remove tags: tag ID [ID...] +bug -question")
    # REMAINDER: "-question" is a tag to remove, not an option (--json is picked out in _triage)
    p.add_argument("items", nargs=argparse.REMAINDER, metavar="ID|+TAG|-TAG",
                   help=IDS_THEN + "+TAG to add a tag, -TAG to remove one")
    add_json(p)
    p = command(sub, "status", "set the status: status ID [ID...] open|pending|closed|spam")
    p.add_argument("items", nargs="+", metavar="ID|STATUS", help=IDS_THEN + "open, pending, closed or spam")
    add_json(p)
    p = command(sub, "snooze", 'snooze until a time: snooze ID [ID...] "tomorrow 9:00" | 3d | "until reply" | off')
    p.add_argument("items", nargs="+", metavar="ID|WHEN",
                   help=IDS_THEN + 'when they wake: "tomorrow 9:00", "fri 14:00", 3d, 2026-12-01, '
                                   '"until reply" (the customer\'s next mail), or off to wake them now')
    add_json(p)
    p = command(sub, "assign", "assign to an agent: assign ID [ID...] NAME (or nobody)")
    p.add_argument("items", nargs="+", metavar="ID|NAME",
                   help=IDS_THEN + "the agent's name (a first name is the one agent it begins); "
                                   "nobody (or none, -) unassigns")
    p.add_argument("--new", "--force", dest="new_agent", action="store_true",
                   help="assign to a name that is no known agent (a new teammate); without it that is refused")
    add_json(p)
    p = command(sub, "merge", "merge KEEP OTHER [OTHER...]: the others' mail joins KEEP (u/undo in the app)")
    p.add_argument("items", nargs="+", type=int, metavar="ID",
                   help="the conversation to keep, then those whose mail, tags and replies join it")
    p.add_argument("--different-customers", action="store_true",
                   help="merge them even when they are different customers' (else refused, naming them)")
    add_json(p)
    p = command(sub, "split", "split a message out into a conversation of its own")
    p.add_argument("message", help="the message: its Message-ID (<> optional) or its number (show --json: messages[].id)")
    add_json(p)
    p = command(sub, "note", "add an internal note (Markdown; never sent to the customer)")
    p.add_argument("id", type=int, help=CONVERSATION)
    p.add_argument("--body", required=True, help="the note, or - for stdin")
    add_json(p)
    p = command(sub, "reply", "reply to a conversation with a Markdown body or a snippet")
    p.add_argument("id", type=int, help=CONVERSATION)
    body = p.add_mutually_exclusive_group(required=True)
    body.add_argument("--body-file", type=Path, help="Markdown file, or - for stdin")
    body.add_argument("--snippet", metavar="NAME", help="the snippet, its placeholders filled for this conversation")
    p.add_argument("--all", action="store_true", help="reply to all")
    p.add_argument("--send-at", metavar="WHEN", help='send later: "tomorrow 9:00", "mon 8:30", "2h" … (default: now)')
    p.add_argument("--attach", type=Path, action="append", default=[], metavar="FILE",
                   help="attach FILE (repeat for several)")
    p.add_argument("--account", metavar="NAME", help="send from this account (default: the first in the config)")
    add_json(p)
    from tui_desk.cli.followup import add_parser as add_followup
    add_followup(sub)
    p = command(sub, "outbox", "replies on their way; --send delivers what is due")
    add_json(p)
    p.add_argument("--send", action="store_true", help="deliver due messages now")
    p.add_argument("--cancel", type=int, metavar="N", help="undo a queued send (back to the draft; a bulk follow-up's mail to none)")
    p.add_argument("--resend", type=int, metavar="N", help="send a held, 'maybe sent' or failed message (again)")
    p.add_argument("--discard", type=int, metavar="N", help="drop a held, 'maybe sent' or failed message")
    p.add_argument("--send-now", type=int, metavar="N", help="send a scheduled (send-later) message now")
    p = command(sub, "sync", "mirror the configured IMAP accounts into the store")
    p.add_argument("--account", metavar="NAME", help="only this account (default: all)")
    p.add_argument("--once", action="store_true", help="sync every folder once and exit")
    p = command(sub, "fetch", "download in full the mail of a conversation kept header-only for its size")
    p.add_argument("id", type=int, help=CONVERSATION)
    add_json(p)
    from tui_desk.cli.rules import add_parser as add_rules
    add_rules(sub)
    from tui_desk.cli.snippets import add_parser as add_snippets
    add_snippets(sub)
    from tui_desk.cli.incident import add_parser as add_incident
    add_incident(sub)
    p = command(sub, "demo", "open the app on a bundled demo mailbox")
    p.add_argument("--prepare", type=Path, metavar="DB", help="only build the demo store at DB and exit")
    p.add_argument("--keep", type=Path, metavar="DIR",
                   help="keep the demo's store and config in DIR (reopened there next time) for the CLI; "
                        "on quit it prints the TUI_DESK_DB and TUI_DESK_CONFIG to use")
    return ap
