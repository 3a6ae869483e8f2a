"""The History folder's mail: a batch of the desk's events as one small message.

    From: alice <support@desk.example>         To: the same
    Subject: [history] alice 42 events
    Message-ID: <sha256-of-the-event-ids@history.tui-desk.invalid>
    Content-Type: text/plain; charset=utf-8 (quoted-printable)

    {"format":"tui-desk-history","version":1,"agent":"alice","count":42}
    {"id":"9f…","at":1764580440,"agent":"alice","kind":"status","anchor":"abc@mail.example","data":{"from":"open","to":"closed"}}
    …

JSON Lines: the first line is the header; one event a line after it. A reader keeps the events it
can read and skips (and reports) a line it cannot; a batch of a newer version is skipped whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime
from typing import Any

HISTORY_FOLDER = "History"
HISTORY_DOMAIN = "history.tui-desk.invalid"
FORMAT_NAME = "tui-desk-history"
FORMAT_VERSION = 1
MAX_FIELD = 4096  # an anchor, agent or kind longer than this is not ours


def is_history_id(message_id: str) -> bool:
    return message_id.strip("<>").lower().endswith("@" + HISTORY_DOMAIN)


@dataclass(frozen=True, slots=True)
class WireEvent:
    event_id: str
    at: int
    agent: str
    kind: str
    anchor: str
    data: dict[str, Any] = field(default_factory=dict)


class HistoryFormatError(ValueError):
    """The whole batch cannot be read (not ours, or a newer format)."""


def batch_message_id(events: list[WireEvent]) -> str:
    """The same events give the same Message-ID (a batch appended twice is recognisable)."""
    digest = hashlib.sha256("\n".join(sorted(e.event_id for e in events)).encode()).hexdigest()[:40]
    return f"{digest}@{HISTORY_DOMAIN}"


def build_batch(agent: str, address: str, events: list[WireEvent], now: int) -> tuple[str, bytes]:
    """(Message-ID without brackets, the mail's bytes) of one batch."""
    message_id = batch_message_id(events)
    header = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "agent": agent, "count": len(events)}
    lines = [json.dumps(header, ensure_ascii=False, separators=(",", ":"))]
    lines += [json.dumps({"id": e.event_id, "at": e.at, "agent": e.agent, "kind": e.kind, "anchor": e.anchor,
                          "data": e.data}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
              for e in events]
    msg = EmailMessage(policy=policy.SMTP)
    one_line_agent = " ".join(agent.split())
    msg["From"] = f'"{one_line_agent.replace(chr(34), "")}" <{address}>' if one_line_agent else address
    msg["To"] = address
    msg["Subject"] = f"[history] {one_line_agent} {len(events)} events"
    msg["Date"] = format_datetime(dt.datetime.fromtimestamp(now, dt.timezone.utc))
    msg["Message-ID"] = f"<{message_id}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content("\n".join(lines) + "\n", subtype="plain", charset="utf-8", cte="quoted-printable")
    return message_id, msg.as_bytes()


def read_batch(raw: bytes) -> tuple[list[WireEvent], list[str]]:
    """(the events, a line for each line skipped). HistoryFormatError when nothing in it can be
    trusted: no header line, another format, a newer version."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    try:
        body = msg.get_body(("plain",))
        text = body.get_content() if body is not None else ""
    except (LookupError, ValueError, AttributeError) as e:
        raise HistoryFormatError(f"unreadable body: {e}") from None
    if not isinstance(text, str):
        raise HistoryFormatError("no text body")
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise HistoryFormatError("empty")
    try:
        header = json.loads(lines[0])
    except ValueError:
        raise HistoryFormatError("the first line is not a JSON header") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise HistoryFormatError("not a tui-desk history batch")
    version = header.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise HistoryFormatError(f"format version {version!r}: made by a newer tui-desk")
    events: list[WireEvent] = []
    skipped: list[str] = []
    for n, line in enumerate(lines[1:], start=2):
        try:
            events.append(_event(json.loads(line)))
        except (ValueError, TypeError) as e:
            skipped.append(f"line {n}: {e}")
    return events, skipped


def _event(obj: Any) -> WireEvent:
    if not isinstance(obj, dict):
        raise ValueError("not an object")
    strings = {k: obj.get(k) for k in ("id", "agent", "kind", "anchor")}
    for k, v in strings.items():
        if not isinstance(v, str) or not v or len(v) > MAX_FIELD:
            raise ValueError(f"{k} is missing or not a string")
    at, data = obj.get("at"), obj.get("data", {})
    if not isinstance(at, int) or isinstance(at, bool) or not 0 <= at < 2 ** 40:
        raise ValueError("at is not a time")
    if not isinstance(data, dict):
        raise ValueError("data is not an object")
    return WireEvent(str(strings["id"]), at, str(strings["agent"]), str(strings["kind"]), str(strings["anchor"]), data)
