"""What the command line prints: one-line errors, sanitized lines, JSON a terminal cannot obey,
queue rows as text or JSON."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from typing import Any, NoReturn

from rich.cells import set_cell_size

from tui_desk.config import ConfigError
from tui_desk.desk.timefmt import format_age
from tui_desk.desk.views import QueueRow


def _user_errors() -> tuple[type[Exception], ...]:
    # imported late: the mail layer is not needed by most commands, nor the store and the
    # search parser by the TUI's start (sqlite3, aiosqlite), which imports this module
    from tui_desk.mail.imap import ImapError
    from tui_desk.mail.sources import SourceError
    from tui_desk.secrets import SecretError
    from tui_desk.store import StoreError
    from tui_desk.store.search import SearchError
    return (StoreError, ConfigError, SearchError, SourceError, ImapError, SecretError, UsageError)


class UsageError(Exception):
    pass




class OneLineParser(argparse.ArgumentParser):
    """argparse's complaints like every other bad input: one line on stderr, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {' '.join(message.split())} (see {self.prog} --help)\n")


JSON_HELP = "print JSON for scripts (its keys: the README's JSON output table)"


def command(sub: Any, name: str, summary: str) -> argparse.ArgumentParser:
    """A sub-command whose one line says what it does, in the list of commands and atop its --help."""
    return sub.add_parser(name, help=summary, description=summary)


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help=JSON_HELP)


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

        def escaped(text: str) -> str:
            return UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
        # these characters only occur inside JSON strings, so any run of chunks can be escaped
        # alone; json yields a chunk per value (indent: per list item), so ~64 KB at a time
        pending: list[str] = []
        size = 0
        for chunk in super().iterencode(o, _one_shot):
            pending.append(chunk)
            size += len(chunk)
            if size >= 65536:
                yield escaped("".join(pending))
                pending, size = [], 0
        if pending:
            yield escaped("".join(pending))


def print_json(value: Any, *, indent: int | None = 1, ascii_only: bool = False) -> None:
    """Every command's --json: the value on stdout through TerminalJSON, then a newline.
    ascii_only: the few outputs that always escaped non-ASCII text (send, outbox, note) keep it."""
    json.dump(value, sys.stdout, ensure_ascii=ascii_only, cls=TerminalJSON, indent=indent)
    sys.stdout.write("\n")


def or_null(value: str | None) -> str | None:
    """A single value that is not there: null in the JSON, never "" (README's JSON output)."""
    return value or None


def _iso(when: dt.datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


def state_json(r) -> dict:
    """Assignee, snooze, draft and send-later reply of a QueueRow or a ConversationView."""
    return {"assignee": r.assignee, "snoozed_until": _iso(r.snoozed_until),
            "snoozed_until_reply": r.snoozed_until_reply, "draft": r.has_draft,
            "scheduled_reply_at": _iso(r.scheduled_reply_at)}


def sla_json(r) -> dict:
    """The `sla` object of a QueueRow or a ConversationView: every target, null fields when no
    [sla] is configured."""
    from tui_desk.desk.sla import NO_SLA
    return (r.sla or NO_SLA).to_json()


def row_json(r: QueueRow) -> dict:
    return {"id": r.id, "subject": r.subject, "customer": r.customer, "customer_address": or_null(r.customer_addr),
            "status": r.status, "tags": list(r.tags), "message_count": r.message_count,
            "last_message": r.last_date.isoformat(), **state_json(r), "sla": sla_json(r),
            "priority": {"score": r.score, "marker": r.marker, "reasons": list(r.reasons), "flags": list(r.flags)}}


def row_text(r: QueueRow, now: dt.datetime) -> str:
    from tui_desk.desk.markers import state_markers
    tags = f" [{', '.join(r.tags)}]" if r.tags else ""
    flags = f" ({', '.join(r.flags)})" if r.flags else ""
    state = "".join(f"  {m}" for m in state_markers(r, now))  # snooze times in now's zone, the desk's
    customer = set_cell_size(r.customer, 24)  # CJK names take two cells a character
    return (f"{r.marker} {r.id:>6}  {format_age(r.age_from, now):>4}  {r.status:<7} {customer}  "
            f"{r.subject}{tags}{flags}{state}")


def print_rows(rows: list[QueueRow], as_json: bool, now: dt.datetime) -> None:
    if as_json:
        print_json([row_json(r) for r in rows])
    else:
        for r in rows:
            say(row_text(r, now))


def message_json(m) -> dict:
    return {"id": m.id, "message_id": m.message_id, "from": or_null(m.sender), "to": list(m.to_each),
            "cc": list(m.cc_each),
            "date": m.date.isoformat() if m.date else None, "from_agent": m.from_agent,
            "is_note": m.is_note, "auto_submitted": m.auto_submitted,
            "text": "".join(b.text for b in m.blocks),
            "blocks": [{"text": b.text, "quoted": b.quoted} for b in m.blocks],
            "attachments": [{"filename": or_null(a.filename), "content_type": a.content_type, "size": a.size}
                            for a in m.attachments],
            "defects": list(m.defects)}
