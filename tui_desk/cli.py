"""tui-desk command line: thin over the desk. Plain text by default, --json for machines."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

from rich.cells import set_cell_size

from tui_desk.config import Config, ConfigError, default_config_path, default_db_path, load_config
from tui_desk.desk.timefmt import format_age
from tui_desk.desk.views import QueueRow
from tui_desk.store import StoreError
from tui_desk.store.search import SearchError

USER_ERRORS: tuple[type[Exception], ...] = (StoreError, ConfigError, SearchError)


def _user_errors() -> tuple[type[Exception], ...]:
    # imported late: the mail layer is not needed by most commands (nor by the TUI's start)
    from tui_desk.mail.imap import ImapError
    from tui_desk.mail.sources import SourceError
    from tui_desk.secrets import SecretError
    return USER_ERRORS + (SourceError, ImapError, SecretError, UsageError)


class UsageError(Exception):
    pass


# These make the store (and its folder) when missing; every other command wants one to exist.
CREATES_STORE = ("import", "sync", "demo")
# These only read: they skip the whole-file check writers make first (Store.open says why).
READS_ONLY = ("queue", "show", "search", "threads", "history")


class OneLineParser(argparse.ArgumentParser):
    """argparse's complaints like every other bad input: one line on stderr, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {' '.join(message.split())} (see {self.prog} --help)\n")


def count(text: str) -> int:
    """--limit N: a whole number, 0 or more."""
    n = int(text)  # ValueError: argparse says "invalid count value"
    if n < 0:
        raise argparse.ArgumentTypeError(f"wants 0 or more, not {text}")
    return n


def say(line: str, file=None) -> None:  # noqa: ANN001 - a text stream, stdout by default
    """Print one line for a person: every line the CLI prints carries mail data sooner or later
    (names, addresses, subjects, servers' errors), so each goes through the one sanitizer."""
    from tui_desk.sanitize import sanitize
    print(sanitize(line), file=file if file is not None else sys.stdout)


class SanitizedStderr(logging.Handler):
    """Where the package's warnings go (a server's error text, a folder name): stderr, as
    logging's last-resort handler would print them, but through the one sanitizer. sys.stderr is
    looked up at each record, as the last-resort handler does: the TUI redirects it."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tui_desk.sanitize import sanitize
            sys.stderr.write(sanitize(self.format(record)) + "\n")
        except Exception:  # noqa: BLE001 - logging's own rule: never raise from a handler
            self.handleError(record)


def log_warnings_sanitized() -> None:
    package = logging.getLogger("tui_desk")
    if not any(isinstance(h, SanitizedStderr) for h in package.handlers):
        package.addHandler(SanitizedStderr())


class TerminalJSON(json.JSONEncoder):
    """JSON with non-ASCII text as it is (ensure_ascii=False), except what the sanitizer would
    take out (tui_desk.sanitize.UNSAFE): C1 controls (a U+009B from a Message-ID is CSI to some
    terminals), bidi controls, line separators, lone surrogates are written as \\u escapes.
    The data read back is the same."""

    def iterencode(self, o, _one_shot=False):  # noqa: ANN001, ANN201 - json's signature
        from tui_desk.sanitize import UNSAFE
        # these characters only occur inside JSON strings, so each chunk can be escaped alone
        for chunk in super().iterencode(o, _one_shot):
            yield UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", chunk)


def build_parser() -> argparse.ArgumentParser:
    ap = OneLineParser(prog="tui-desk", description="A helpdesk inbox in the terminal.")
    ap.add_argument("--db", type=Path, help="store file (default: $TUI_DESK_DB or the XDG data dir)")
    ap.add_argument("--config", type=Path, help=f"config file (default: {default_config_path()})")
    ap.add_argument("--log", type=Path, metavar="FILE",
                    help="append a debug log to FILE (default: $TUI_DESK_LOG; passwords never in it)")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("queue", help="conversations in priority order")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=count, default=None)
    p = sub.add_parser("show", help="one conversation with its messages")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("history", help="what agents did in a conversation, oldest first")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("search", help='search: words "phrases" from: to: subject: tag: status: before: after:')
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
    p = sub.add_parser("reply", help="reply to a conversation with a Markdown body")
    p.add_argument("id", type=int)
    p.add_argument("--body-file", type=Path, required=True, help="Markdown file, or - for stdin")
    p.add_argument("--all", action="store_true", help="reply to all")
    p.add_argument("--send-at", metavar="WHEN", help='"tomorrow 9:00", "mon 8:30", "2h" …')
    p.add_argument("--attach", type=Path, action="append", default=[])
    p.add_argument("--account")
    p.add_argument("--json", action="store_true")
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
    p = sub.add_parser("demo", help="open the app on a bundled demo mailbox")
    p.add_argument("--prepare", type=Path, metavar="DB", help="only build the demo store at DB and exit")
    return ap


def _iso(when: dt.datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


def state_json(r) -> dict:
    """Assignee, snooze, draft and send-later reply of a QueueRow or a ConversationView."""
    return {"assignee": r.assignee, "snoozed_until": _iso(r.snoozed_until),
            "snoozed_until_reply": r.snoozed_until_reply, "draft": r.has_draft,
            "scheduled_reply_at": _iso(r.scheduled_reply_at)}


def row_json(r: QueueRow) -> dict:
    return {"id": r.id, "subject": r.subject, "customer": r.customer, "customer_address": r.customer_addr,
            "status": r.status, "tags": list(r.tags), "message_count": r.message_count,
            "last_message": r.last_date.isoformat(), **state_json(r),
            "priority": {"score": r.score, "marker": r.marker, "reasons": list(r.reasons), "flags": list(r.flags)}}


def row_text(r: QueueRow, now: dt.datetime) -> str:
    from tui_desk.desk.markers import state_markers
    tags = f" [{', '.join(r.tags)}]" if r.tags else ""
    flags = f" ({', '.join(r.flags)})" if r.flags else ""
    state = "".join(f"  {m}" for m in state_markers(r, now.astimezone()))  # snooze times in local time
    customer = set_cell_size(r.customer, 24)  # CJK names take two cells a character
    return (f"{r.marker} {r.id:>6}  {format_age(r.last_date, now):>4}  {r.status:<7} {customer}  "
            f"{r.subject}{tags}{flags}{state}")


def print_rows(rows: list[QueueRow], as_json: bool, now: dt.datetime) -> None:
    if as_json:
        json.dump([row_json(r) for r in rows], sys.stdout, ensure_ascii=False, cls=TerminalJSON, indent=1)
        sys.stdout.write("\n")
    else:
        for r in rows:
            say(row_text(r, now))


def message_json(m) -> dict:
    return {"id": m.id, "message_id": m.message_id, "from": m.sender, "to": m.to, "cc": m.cc,
            "date": m.date.isoformat() if m.date else None, "from_agent": m.from_agent,
            "is_note": m.is_note, "auto_submitted": m.auto_submitted,
            "text": "".join(b.text for b in m.blocks),
            "blocks": [{"text": b.text, "quoted": b.quoted} for b in m.blocks],
            "attachments": [{"filename": a.filename, "content_type": a.content_type, "size": a.size}
                            for a in m.attachments],
            "defects": list(m.defects)}


async def _open_desk(args, config: Config):
    from tui_desk.desk.service import Desk
    desk = await Desk.open(args.db or default_db_path(), config, check=False)
    if args.command not in READS_ONLY:
        # beside the command's own work (reading mail, the server): the first write waits for it
        desk.store.start_check()
    return desk


async def run_command(args, config: Config) -> int:
    desk = await _open_desk(args, config)
    try:
        now = dt.datetime.fromtimestamp(desk.now(), dt.timezone.utc)
        if args.command == "queue":
            ids = await desk.queue_ids()
            if args.limit is not None:
                ids = ids[: args.limit]
            print_rows(await desk.queue_rows(ids), args.json, now)
        elif args.command == "search":
            ids = await desk.queue_ids(" ".join(args.query))
            if args.limit is not None:
                ids = ids[: args.limit]
            print_rows(await desk.queue_rows(ids), args.json, now)
        elif args.command == "show":
            view = await desk.conversation(args.id)
            if view is None:
                raise UsageError(f"no conversation {args.id}")
            if args.json:
                json.dump({"id": view.id, "subject": view.subject, "customer": view.customer,
                           "status": view.status, "tags": list(view.tags), **state_json(view),
                           "reasons": list(view.reasons),
                           "messages": [message_json(m) for m in view.messages]},
                          sys.stdout, ensure_ascii=False, cls=TerminalJSON, indent=1)
                sys.stdout.write("\n")
            else:
                from tui_desk.desk.render import conversation_text  # with the mail parser: 30 ms other commands skip
                sys.stdout.write(conversation_text(view, now))
        elif args.command == "history":
            _history(await desk.history(args.id), args)
        elif args.command == "threads":
            threads = await desk.threads()
            json.dump([{"id": cid, "messages": ids} for cid, ids in sorted(threads.items())],
                      sys.stdout, ensure_ascii=False, cls=TerminalJSON)
            sys.stdout.write("\n")
        elif args.command == "import":
            await _import(desk, args.paths)
        elif args.command in ("tag", "status", "snooze", "assign", "merge", "split"):
            await _triage(desk, args)
        elif args.command == "note":
            from tui_desk.desk.commands import CommandError
            try:
                done = await desk.add_note(args.id, sys.stdin.read() if args.body == "-" else args.body)
            except CommandError as e:
                raise UsageError(str(e)) from None
            say(json.dumps({"done": done}) if args.json else done)
        elif args.command == "reply":
            return await _reply(desk, config, args)
        elif args.command == "outbox":
            return await _outbox(desk, config, args)
        elif args.command == "sync":
            return await _sync(desk, config, args.account, args.once)
        elif args.command == "fetch":
            return await _fetch(desk, config, args)
    finally:
        await desk.close()
    return 0


def _history(lines: list | None, args) -> None:
    from tui_desk.desk.history import line_text
    if lines is None:
        raise UsageError(f"no conversation {args.id}")
    if args.json:
        json.dump({"conversation": args.id, "events": [
            {"id": h.event_id, "at": h.at.isoformat(), "agent": h.agent, "kind": h.kind, "text": h.text,
             "data": h.data} for h in lines]}, sys.stdout, ensure_ascii=False, cls=TerminalJSON, indent=1)
        sys.stdout.write("\n")
    else:
        for h in lines:
            say(line_text(h))


async def _import(desk, paths: list[Path]) -> None:
    from tui_desk.desk.importer import import_paths
    from tui_desk.store.queries import counts
    tty = sys.stderr.isatty()

    def progress(n: int) -> None:
        if tty:
            sys.stderr.write(f"\rimporting… {n} messages read")
            sys.stderr.flush()

    summary = await import_paths(desk, paths, progress)
    if tty:
        sys.stderr.write("\r\x1b[K")
    for line in summary.error_lines[:20]:
        say(f"error: {line}", file=sys.stderr)
    _, convs = await counts(desk.store)
    say(summary.line(convs))


def _ids_and_rest(items: list[str], what: str) -> tuple[list[int], list[str]]:
    ids, rest = [], []
    for item in items:
        if item.isdigit() and not rest:
            ids.append(int(item))
        else:
            rest.append(item)
    if not ids:
        raise UsageError(f"give at least one conversation id before the {what}")
    if not rest:
        raise UsageError(f"give the {what} after the ids")
    return ids, rest


async def _triage(desk, args) -> None:
    """The same actions as the TUI's keys, through the same Desk methods."""
    from tui_desk.desk.commands import CommandError
    from tui_desk.desk.when import WhenError
    cmd = args.command
    if cmd == "tag" and "--json" in args.items:
        args.items = [i for i in args.items if i != "--json"]
        args.json = True
    try:
        if cmd == "tag":
            ids, words = _ids_and_rest(args.items, "+tag/-tag words")
            bad = [w for w in words if w[:1] not in "+-" or len(w) < 2]
            if bad:
                raise UsageError(f"tags are written +tag or -tag, not {bad[0]!r}")
            done = await desk.tag(ids, [w[1:] for w in words if w[0] == "+"], [w[1:] for w in words if w[0] == "-"])
        elif cmd == "status":
            ids, words = _ids_and_rest(args.items, "status")
            done = await desk.set_status(ids, " ".join(words).lower())
        elif cmd == "snooze":
            ids, words = _ids_and_rest(args.items, "time")
            done = await desk.snooze(ids, " ".join(words))
        elif cmd == "merge":
            if len(args.items) < 2:
                raise UsageError("merge KEEP OTHER [OTHER...]: at least two conversations")
            ids = args.items[:1]
            done = await desk.merge(args.items[0], args.items[1:])
        elif cmd == "split":
            message = int(args.message) if args.message.isdigit() else args.message.strip("<>")
            done = await desk.split(message)
            ids = []
        else:
            ids, words = _ids_and_rest(args.items, "agent name")
            name = " ".join(words)
            done = await desk.assign(ids, None if name.lower() in ("nobody", "none", "-") else name)
    except (CommandError, WhenError) as e:
        raise UsageError(str(e)) from None
    if args.json:
        from tui_desk.store.queries import conversation_states
        states = await conversation_states(desk.store, sorted(set(ids)))
        json.dump({"done": done, "conversations": [
            {"id": cid, "status": s.status, "assignee": s.assignee,
             "snoozed_until": dt.datetime.fromtimestamp(s.snooze_until, dt.timezone.utc).isoformat()
             if s.snooze_until else None,
             "snoozed_until_reply": s.snooze_reply, "tags": list(s.tags)} for cid, s in sorted(states.items())]},
            sys.stdout, ensure_ascii=False, cls=TerminalJSON, indent=1)
        sys.stdout.write("\n")
    else:
        say(done)


def outbox_sender(desk, config: Config):
    """The outbox, with the collision check's re-sync done by a one-off sync of the account."""
    from tui_desk.sync.delivery import OutboxSender
    from tui_desk.sync.imap_sync import AccountSync
    from tui_desk.secrets import password_lookup
    passwords = password_lookup(config)

    async def recheck(name: str) -> None:
        account = config.account(name)
        if account.imap is not None:
            await AccountSync(desk.store, account, passwords(name, "imap") or "", is_agent=config.is_agent_address,
                              on_change=desk.refresh).sync_once()
    return OutboxSender(desk.store, config, passwords, on_change=desk.refresh, recheck=recheck)


async def _reply(desk, config: Config, args) -> int:
    from tui_desk.desk.commands import CommandError
    from tui_desk.desk.replies import queue_reply
    from tui_desk.desk.when import WhenError, parse_when
    body = sys.stdin.read() if str(args.body_file) == "-" else _read_text(args.body_file)
    try:
        send_at = None
        if args.send_at:
            when = parse_when(args.send_at, dt.datetime.fromtimestamp(desk.now()).astimezone())
            if when.at is None:
                raise UsageError("--send-at wants a time")
            send_at = int(when.at.timestamp())
        queued = await queue_reply(desk, args.id, body, reply_all=args.all,
                                   send_at=send_at if send_at is not None else desk.now(),
                                   account=config.account(args.account), attachments=args.attach)
    except (CommandError, WhenError) as e:
        raise UsageError(str(e)) from None
    report = await outbox_sender(desk, config).run_due() if send_at is None else None
    state = "queued" if report is None else (
        "sent" if queued.message_id in report.sent else
        "retrying" if queued.message_id in report.retrying else
        "failed" if queued.message_id in report.failed else "queued")
    if args.json:
        json.dump({"outbox_id": queued.outbox_id, "message_id": queued.message_id, "to": queued.recipients,
                   "state": state, "send_at": dt.datetime.fromtimestamp(queued.send_at, dt.timezone.utc).isoformat()},
                  sys.stdout)
        sys.stdout.write("\n")
    else:
        say(f"reply #{queued.outbox_id} to {', '.join(queued.recipients)}: {state}")
    return 0 if state in ("sent", "queued", "retrying") else 1


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from None


async def _outbox(desk, config: Config, args) -> int:
    from tui_desk.desk.commands import CommandError
    from tui_desk.desk.replies import cancel_send
    from tui_desk.sanitize import sanitize_line
    from tui_desk.store import outbox
    try:
        if args.cancel is not None:
            say(await cancel_send(desk, args.cancel))
            return 0
        said = sys.stderr if args.json else sys.stdout  # --json: stdout holds the JSON alone
        if args.resend is not None:
            say(await desk.send_anyway(args.resend), file=said)
        if args.discard is not None:
            say(await desk.discard_send(args.discard), file=said)
        if args.send_now is not None:
            say(await desk.send_now(args.send_now), file=said)
    except CommandError as e:
        raise UsageError(str(e)) from None
    if args.send or args.resend is not None or args.send_now is not None:
        await outbox_sender(desk, config).run_due()
    items = await outbox.items(desk.store)
    if args.json:
        json.dump([{"id": i.id, "conversation": i.conv_id, "message_id": i.message_id, "to": i.recipients,
                    "state": i.state, "send_at": dt.datetime.fromtimestamp(i.send_at, dt.timezone.utc).isoformat(),
                    "attempts": i.attempts, "error": i.last_error} for i in items], sys.stdout, indent=1)
        # (JSON escapes control characters itself)
        sys.stdout.write("\n")
    elif not items:
        print("Outbox is empty.")
    else:
        for i in items:
            when = dt.datetime.fromtimestamp(i.send_at).astimezone().strftime("%a %d %b %H:%M")
            err = f"  ({sanitize_line(i.last_error)})" if i.last_error else ""  # a server's words
            rcpts = sanitize_line(", ".join(i.recipients))
            say(f"{i.id:>5}  {i.state:<10} #{i.conv_id}  {rcpts}  {when}{err}")
    return 0


async def _sync(desk, config: Config, account_name: str | None, once: bool) -> int:
    from tui_desk.desk.background import Background
    if account_name:
        config = dataclasses.replace(config, accounts=(config.account(account_name),))
    elif not config.accounts:
        config.account(None)  # raises the "no accounts configured" error
    for account in config.accounts:
        if account.imap is None:
            raise ConfigError(f"{config.path}: account '{account.name}' has no [accounts.{account.name}.imap]")
    desk.config = config
    tty = sys.stderr.isatty()

    def progress(phase: str, done: int, total: int) -> None:
        if tty:
            sys.stderr.write(f"\r\x1b[K{phase}: {done}/{total}")
            sys.stderr.flush()

    def outbox_news(report) -> None:
        for mid in report.failed + report.maybe_sent:
            say(f"outbox: {mid} needs attention (tui-desk outbox)", file=sys.stderr)

    background = Background(desk, progress=progress, on_outbox=outbox_news)
    if once:
        status = 0
        for s in background.syncs:
            stats = await s.sync_once()
            if tty:
                sys.stderr.write("\r\x1b[K")
            for line in stats.error_lines[:20]:
                say(f"error: {line}", file=sys.stderr)
            say(f"{s.account.name}: {stats.line()}")
            status = status or (1 if stats.errors else 0)
        return status
    print(f"following {', '.join(s.account.name for s in background.syncs)}; Ctrl-C to stop", file=sys.stderr)
    await background.run(asyncio.Event())
    return 0


async def _fetch(desk, config: Config, args) -> int:
    """Over-limit mail of one conversation, downloaded whole: a line per message; failures
    also give one line on stderr and exit status 1."""
    from tui_desk.sync.imap_sync import fetch_over_limit
    from tui_desk.sanitize import sanitize_line
    from tui_desk.secrets import password_lookup
    outcomes = await fetch_over_limit(desk.store, config, args.id, password_lookup(config), on_change=desk.refresh)
    if outcomes is None:
        raise UsageError(f"no conversation {args.id}")
    failed = [o for o in outcomes if not o.fetched]
    if args.json:
        json.dump({"conversation": args.id, "messages": [
            {"message_id": o.message_id, "conversation": o.conv_id, "fetched": o.fetched, "size": o.size,
             "attachments": o.attachments, "parse_error": o.parse_error, "error": o.error} for o in outcomes]},
            sys.stdout, ensure_ascii=False, cls=TerminalJSON, indent=1)
        sys.stdout.write("\n")
    elif not outcomes:
        print(f"conversation {args.id}: no header-only mail to fetch")
    for o in outcomes if not args.json else ():
        mid = sanitize_line(o.message_id)
        if o.fetched:
            note = f" (stored with a parse error: {sanitize_line(o.parse_error)})" if o.parse_error else ""
            print(f"{mid}: fetched {o.size / 1048576:.1f} MB, {o.attachments} attachment"
                  f"{'' if o.attachments == 1 else 's'}{note}")
        else:
            print(f"{mid}: not fetched: {sanitize_line(o.error or '')}")
    if failed:
        print(f"tui-desk: fetch: {len(failed)} of {len(outcomes)} messages not fetched; "
              f"first: {sanitize_line(failed[0].message_id)}: {sanitize_line(failed[0].error or '')}",
              file=sys.stderr)
        return 1
    return 0


async def prepare_demo(db: Path, now: dt.datetime | None = None) -> None:
    from tui_desk.demo import DEMO_CONFIG, demo_end, set_the_scene, settle_old_conversations, write_demo_mbox
    from tui_desk.desk.importer import import_paths
    from tui_desk.desk.service import Desk
    end = demo_end(now)
    with tempfile.TemporaryDirectory(prefix="tui-desk-demo-") as tmp:
        mbox = write_demo_mbox(Path(tmp) / "demo.mbox", end)
        now = now or dt.datetime.now(dt.timezone.utc)
        desk = await Desk.open(db, DEMO_CONFIG, clock=now.timestamp)  # the demo's now, for a fixed `now` too
        try:
            await import_paths(desk, [mbox])
            await settle_old_conversations(desk, end)
            await set_the_scene(desk, end)
        finally:
            await desk.close()


async def _setup_hint(db: Path, config: Config) -> str | None:
    from tui_desk.desk.setup_hint import setup_hint
    from tui_desk.store import Store
    from tui_desk.store.db import store_errors
    store = await Store.open(db, check=False)  # it reads; the app's own open checks
    try:
        with store_errors(store.path):
            return await setup_hint(store, config)
    finally:
        await store.close()


def run_tui(db: Path, config: Config) -> int:
    from tui_desk.desk.first_page import FirstPageReader
    first_page = FirstPageReader(db, config)  # before the TUI's imports: they overlap
    from tui_desk.ui.app import run_app
    return run_app(db, config, first_page)


class _SanitizingFormatter(logging.Formatter):
    """Server answers and mail data end up in log lines; a log is read in a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        from tui_desk.sanitize import sanitize
        return sanitize(super().format(record))


def setup_logging(path: Path | None) -> None:
    """--log FILE / $TUI_DESK_LOG: tui-desk's own debug log, other libraries' warnings. The
    IMAP adapter writes secrets as *** (mail/imap.py), so no password reaches the file."""
    if path is None:
        return
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(_SanitizingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("tui_desk").setLevel(logging.DEBUG)


def _check_store_folder(args, config: Config) -> None:
    """A store named by --db or $TUI_DESK_DB in a folder that is not there is a typo, not a
    new store: said, unless the command makes stores (the default place is made on first use).
    The app makes one too when it has an account to sync from: that is how a desk starts."""
    if args.command in CREATES_STORE or not (args.db or os.environ.get("TUI_DESK_DB")):
        return
    if args.command is None and any(a.imap is not None for a in config.accounts):
        return
    from tui_desk.store.db import place_problem
    db = args.db or default_db_path()
    try:
        folder_there = db.parent.is_dir()
    except OSError:
        folder_there = False
    if not folder_there:
        problem = place_problem(db, making=False)  # a file where the folder should be, a closed folder
        if problem:
            raise StoreError(problem)
        raise UsageError(f"{db}: {db.parent}: no such folder (tui-desk import or sync makes a store)")


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    log_warnings_sanitized()
    try:
        log_file = args.log or (Path(os.environ["TUI_DESK_LOG"]) if os.environ.get("TUI_DESK_LOG") else None)
        try:
            setup_logging(log_file)
        except OSError as e:
            raise UsageError(f"cannot write the log file {log_file}: {e.strerror}") from None
        config = load_config(args.config, required=args.config is not None)
        _check_store_folder(args, config)
        if args.command == "demo":
            if args.prepare:
                asyncio.run(prepare_demo(args.prepare))
                return 0
            from tui_desk.demo import DemoMailSink, demo_config
            with tempfile.TemporaryDirectory(prefix="tui-desk-demo-") as tmp:
                db = Path(tmp) / "demo.sqlite3"
                print("building the demo mailbox…", file=sys.stderr)
                asyncio.run(prepare_demo(db))
                sink = DemoMailSink()  # replies go here: the whole flow works with no account
                try:
                    return run_tui(db, demo_config(sink.start()))
                finally:
                    sink.stop()
        if args.command is None:
            db = args.db or default_db_path()
            if not config.accounts:  # a first start? (with accounts the app shows the sync's progress)
                hint = asyncio.run(_setup_hint(db, config))
                if hint:
                    say(hint, file=sys.stderr)
            return run_tui(db, config)
        from tui_desk.store.db import store_errors
        with store_errors(args.db or default_db_path()):  # damage met on the way: one line
            return asyncio.run(run_command(args, config))
    except _user_errors() as e:
        say(f"tui-desk: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `tui-desk queue | head`: the reader left; no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
