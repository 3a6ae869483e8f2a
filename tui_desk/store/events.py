"""The desk's history: events (who changed what, when, in which conversation), kept in `events`.

An event names its conversation by an anchor, a Message-ID of the conversation's mail, and is
resolved to the local conversation through `thread_ids` when it is read: merges, splits and
another agent's store (with other conversation numbers) all find it where its mail is.
`shared` is 1 once the event is on the server (sync.history_sync pushed it, or read it there).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from tui_desk.store.db import Store, as_json_list

# The kinds an agent's action records (desk.history); `rule` and `autoreply` are the rules'
# (desk.rules.execute); `incident` starts and ends an incident (desk.incident); `survey` and
# `csat` the satisfaction survey's (desk.csat). Readers keep kinds they do not know.
KINDS = ("status", "assign", "snooze", "unsnooze", "tag", "reply", "forward", "note", "autoreply", "survey", "rule",
         "incident", "csat")


@dataclass(frozen=True, slots=True)
class Event:
    event_id: str
    at: int  # unix seconds, UTC
    agent: str
    kind: str
    anchor: str  # a normalised Message-ID of the conversation
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConversationEvent:
    """An event as read back: with the conversation its anchor is in, here and now."""
    event: Event
    conv_id: int | None


_last_stamp = 0


def new_event_id(now: float) -> str:
    """32 hex digits: milliseconds of `now` (kept rising within this process, so events made in
    one second sort in the order they were made), then 20 random ones (unique across agents)."""
    global _last_stamp
    _last_stamp = max(int(now * 1000), _last_stamp + 1)
    return event_id(_last_stamp, uuid.uuid4().hex[:20])


def event_id(stamp_ms: int, tail: str) -> str:
    """An event id from its parts: 12 hex digits of milliseconds (ids sort by time), then 20 hex
    digits that tell apart events of one millisecond (random: unique across agents; the demo's
    history draws them from its seed, so every build has the same ids)."""
    return f"{stamp_ms:012x}"[-12:] + tail


def _row(r: Any) -> Event:
    try:
        data = json.loads(r["data_json"])
    except ValueError:
        data = {}
    return Event(r["event_id"], int(r["at"]), r["agent"], r["kind"], r["anchor"],
                 data if isinstance(data, dict) else {})


def _data_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


async def anchors(store: Store, conv_ids: Iterable[int]) -> dict[int, str]:
    """The anchor of each conversation: the Message-ID of its oldest mail (not a note), as the
    mail itself has it (a derived `#dup-` id never leaves the store)."""
    rows = await store.fetchall(
        "SELECT conv_id, message_id FROM (SELECT conv_id, message_id, row_number() OVER ("
        " PARTITION BY conv_id ORDER BY is_note, coalesce(date, added_at), id) AS n"
        " FROM messages WHERE conv_id IN (SELECT value FROM json_each(?))) WHERE n = 1",
        (as_json_list(conv_ids),))
    from tui_desk.store.ingest import wire_message_id
    return {int(r[0]): wire_message_id(r[1]) for r in rows}


async def record(store: Store, events: Sequence[Event], outbox_id: int | None = None) -> None:
    """Add events, inside the caller's transaction (the change they describe is in it too).
    `outbox_id`: a reply or forward, history only once that outbox item is sent (schema 9)."""
    if not events:
        return
    await store.executemany(
        "INSERT INTO events(event_id, at, agent, kind, anchor, data_json, shared, outbox_id)"
        " VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
        [(e.event_id, e.at, e.agent, e.kind, e.anchor, _data_json(e.data), outbox_id) for e in events])
    if outbox_id is None:
        for listener in store.ops_listeners:  # a live sync pushes them now
            listener.set()


async def unshared(store: Store, limit: int) -> list[Event]:
    """Events not yet on the server (replies still in the outbox wait), oldest first."""
    rows = await store.fetchall(
        "SELECT * FROM events WHERE shared = 0 AND outbox_id IS NULL ORDER BY at, event_id LIMIT ?", (limit,))
    return [_row(r) for r in rows]


async def has_unshared(store: Store) -> bool:
    return await store.fetchone("SELECT 1 FROM events WHERE shared = 0 AND outbox_id IS NULL LIMIT 1") is not None


async def mark_shared(store: Store, event_ids: Iterable[str]) -> None:
    await store.execute("UPDATE events SET shared = 1 WHERE shared = 0 AND event_id IN"
                        " (SELECT value FROM json_each(?))", (as_json_list(event_ids),))


async def insert_from_server(store: Store, events: Sequence[Event]) -> int:
    """Events read from the server: new ones are added, known ones are marked shared (a batch
    appended just before a crash). Returns how many were new. Inside the caller's transaction."""
    if not events:
        return 0
    before = await store.fetchone("SELECT count(*) FROM events")
    await store.executemany(
        "INSERT OR IGNORE INTO events(event_id, at, agent, kind, anchor, data_json, shared)"
        " VALUES (?, ?, ?, ?, ?, ?, 1)",
        [(e.event_id, e.at, e.agent, e.kind, e.anchor, _data_json(e.data)) for e in events])
    await mark_shared(store, (e.event_id for e in events))
    after = await store.fetchone("SELECT count(*) FROM events")
    return int(after[0]) - int(before[0]) if before and after else 0


_RESOLVED = ("SELECT e.*, t.conv_id AS conv_id FROM events e LEFT JOIN thread_ids t ON t.msgid = e.anchor"
             " WHERE e.outbox_id IS NULL")


async def of_conversation(store: Store, conv_id: int) -> list[Event]:
    """The conversation's events, oldest first (those of conversations merged into it too)."""
    rows = await store.fetchall(
        "SELECT e.* FROM thread_ids t JOIN events e ON e.anchor = t.msgid"
        " WHERE t.conv_id = ? AND e.outbox_id IS NULL ORDER BY e.at, e.event_id", (conv_id,))
    return [_row(r) for r in rows]


async def in_period(store: Store, since: int | None = None, until: int | None = None) -> list[ConversationEvent]:
    """Every event with since <= at < until (None: no bound), oldest first, with its conversation
    here (None while its mail is not in this store)."""
    rows = await store.fetchall(
        f"{_RESOLVED} AND e.at >= ? AND e.at < ? ORDER BY e.at, e.event_id",
        (since if since is not None else -(2 ** 62), until if until is not None else 2 ** 62))
    return [ConversationEvent(_row(r), r["conv_id"]) for r in rows]


async def of_kind_since(store: Store, kind: str, since: int) -> list[ConversationEvent]:
    """Events of one kind at `since` or later, those still waiting in the outbox too (an
    automatic reply queued a second ago counts for the rate limits), with their conversation."""
    rows = await store.fetchall(
        "SELECT e.*, t.conv_id AS conv_id FROM events e LEFT JOIN thread_ids t ON t.msgid = e.anchor"
        " WHERE e.kind = ? AND e.at >= ? ORDER BY e.at, e.event_id", (kind, since))
    return [ConversationEvent(_row(r), r["conv_id"]) for r in rows]


async def of_anchor(store: Store, anchor: str) -> list[Event]:
    """Every event with this anchor, oldest first: for events about no conversation, which share
    one anchor of their own (the incidents' start and end, desk.incident)."""
    rows = await store.fetchall("SELECT * FROM events WHERE anchor = ? ORDER BY at, event_id", (anchor,))
    return [_row(r) for r in rows]


async def names_message(store: Store, kind: str, message_id: str) -> bool:
    """Whether an event of this kind (sent or still in the outbox) names this Message-ID."""
    return await store.fetchone(
        "SELECT 1 FROM events WHERE kind = ? AND json_extract(data_json, '$.message_id') = ? LIMIT 1",
        (kind, message_id)) is not None


async def naming_message(store: Store, message_id: str) -> Event | None:
    """The event (sent or still in the outbox) of the mail with this Message-ID: the reply,
    automatic reply, survey... that sent it; None when none names it."""
    row = await store.fetchone(
        "SELECT * FROM events WHERE json_extract(data_json, '$.message_id') = ? ORDER BY at, event_id LIMIT 1",
        (message_id,))
    return None if row is None else _row(row)
