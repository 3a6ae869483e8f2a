"""The reports' SQL: what a conversation's timeline is made of, and the per-conversation metrics
cache (schema 10: conv_metrics + conv_dirty, kept right by triggers).

A conversation is dirty (conv_dirty) from any change of its mail, its events, its tags or its
assignee, by this process, the sync or another process alike. The desk reads the dirty set
first (`dirty`), then the data (`sources`), computes, and `save` writes the rows and clears only
the dirty marks it read: a change that came meanwhile has a newer seq and stays dirty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, NamedTuple, cast

from tui_desk.store.db import Store, as_json_list
from tui_desk.store.ingest import wire_message_id
from tui_desk.store.queries import CUSTOMER_EXCERPT


@dataclass(frozen=True, slots=True)
class MessageRow:
    message_id: str  # as the mail has it (no brackets, no #dup- suffix)
    at: int
    is_agent: bool
    is_note: bool
    auto_submitted: bool
    sender_key: str
    excerpt: str = ""  # a customer mail's text, its first queries.EXCERPT_CHARS (desk.thanks reads it)


@dataclass(frozen=True, slots=True)
class EventRow:
    at: int
    agent: str
    kind: str
    data_json: str


@dataclass(slots=True)
class ConversationSource:
    """Everything a conversation's timeline is built from, as the store has it now."""
    conv_id: int
    customer_key: str = ""
    assignee: str | None = None
    tags: list[str] = field(default_factory=list)
    messages: list[MessageRow] = field(default_factory=list)  # oldest first
    events: list[EventRow] = field(default_factory=list)  # oldest first


async def dirty(store: Store, limit: int | None = None) -> list[tuple[int, int]]:
    """(seq, conv_id) of the conversations whose cached row is missing or out of date."""
    sql = "SELECT seq, conv_id FROM conv_dirty ORDER BY seq"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [(int(r[0]), int(r[1])) for r in await store.fetchall(sql)]


async def _tuples(store: Store, sql: str, params: tuple[str | float, ...]) -> list[tuple[Any, ...]]:
    """The rows as plain tuples, not sqlite3.Row: the reports read 100k rows at a time, and a
    Row object and an index lookup per value cost a tenth of a second or more there."""
    async with store.db.execute(sql, params) as cursor:
        cursor.row_factory = None
        return cast(list[tuple[Any, ...]], list(await cursor.fetchall()))


async def sources(store: Store, conv_ids: Iterable[int]) -> dict[int, ConversationSource]:
    """The mail, resolved events, tags and assignee of these conversations (those that exist)."""
    ids = as_json_list(conv_ids)
    out: dict[int, ConversationSource] = {}
    for r in await _tuples(
            store, "SELECT id, customer_key, assignee FROM conversations WHERE id IN (SELECT value FROM json_each(?))",
            (ids,)):
        out[int(r[0])] = ConversationSource(int(r[0]), r[1] or "", r[2])
    for r in await _tuples(
            store, "SELECT conv_id, tag FROM tags WHERE conv_id IN (SELECT value FROM json_each(?)) ORDER BY conv_id, tag",
            (ids,)):
        src = out.get(int(r[0]))
        if src is not None:
            src.tags.append(r[1])
    for r in await _tuples(
            store, "SELECT conv_id, message_id, coalesce(date, added_at), is_agent, is_note, auto_submitted, sender_key,"
            f" {CUSTOMER_EXCERPT}"
            " FROM messages WHERE conv_id IN (SELECT value FROM json_each(?))"
            " ORDER BY conv_id, coalesce(date, added_at), id", (ids,)):
        src = out.get(int(r[0]))
        if src is not None:
            src.messages.append(MessageRow(wire_message_id(r[1]), int(r[2]), bool(r[3]), bool(r[4]), bool(r[5]),
                                           r[6] or "", r[7] or ""))
    for r in await _tuples(
            store, "SELECT t.conv_id, e.at, e.agent, e.kind, e.data_json FROM thread_ids t"
            " JOIN events e ON e.anchor = t.msgid"
            " WHERE t.conv_id IN (SELECT value FROM json_each(?)) AND e.outbox_id IS NULL"
            " ORDER BY t.conv_id, e.at, e.event_id", (ids,)):
        src = out.get(int(r[0]))
        if src is not None:
            src.events.append(EventRow(int(r[1]), r[2], r[3], r[4]))
    return out


async def save(store: Store, rows: list[tuple[int, float | None, float | None, bytes]],
               seen: list[tuple[int, int]]) -> None:
    """Write computed rows (conv_id, first_at, last_at, data) and clear the dirty marks `seen`
    ((seq, conv_id) as `dirty` gave them; a mark with a newer seq stays). Conversations gone
    meanwhile (merged away) get no row."""
    async with store.transaction():
        await store.executemany(
            "INSERT OR REPLACE INTO conv_metrics(conv_id, first_at, last_at, data)"
            " SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM conversations WHERE id = ?)",
            [(c, a, b, d, c) for c, a, b, d in rows])
        await store.executemany("DELETE FROM conv_dirty WHERE seq = ? AND conv_id = ?", seen)


async def invalidate_all(store: Store) -> None:
    """Every conversation dirty (the metrics' version or the business-hours config changed)."""
    async with store.transaction():
        await store.execute("INSERT OR REPLACE INTO conv_dirty(conv_id) SELECT id FROM conversations")


async def cached(store: Store, since: float | None = None, until: float | None = None,
                 conv_ids: Iterable[int] | None = None) -> list[bytes]:
    """The cached rows of conversations with anything in [since, until) (None: no bound), or of
    these conversations."""
    if conv_ids is not None:
        rows = await _tuples(
            store, "SELECT data FROM conv_metrics WHERE conv_id IN (SELECT value FROM json_each(?)) ORDER BY conv_id",
            (as_json_list(conv_ids),))
    elif since is None and until is None:
        rows = await _tuples(store, "SELECT data FROM conv_metrics ORDER BY conv_id", ())
    else:
        rows = await _tuples(
            store, "SELECT data FROM conv_metrics WHERE last_at >= ? AND first_at < ? ORDER BY conv_id",
            (since if since is not None else -1e18, until if until is not None else 1e18))
    return [bytes(r[0]) for r in rows]


class FirstMessage(NamedTuple):
    """(A NamedTuple: `report questions` reads one per conversation of the period, 100k at a time.)"""
    conv_id: int
    at: int
    subject: str
    body: str


async def first_customer_messages(store: Store, conv_ids: Iterable[int]) -> list[FirstMessage]:
    """The first customer message (not an agent's, a note or an auto-reply) of each conversation,
    by conversation id. Found in the covering index messages_timeline (schema 11), then that one
    row is read: the other messages' rows (bodies) are not."""
    # the columns' types are FirstMessage's already (ids from JSON, INTEGER and NOT NULL TEXT columns)
    rows = await _tuples(
        store, "SELECT j.value, coalesce(m.date, m.added_at), m.subject, m.body FROM json_each(?) j"
        " JOIN messages m ON m.id = (SELECT id FROM messages WHERE conv_id = j.value AND is_agent = 0"
        " AND is_note = 0 AND auto_submitted = 0 ORDER BY coalesce(date, added_at), id LIMIT 1)"
        " ORDER BY j.value", (as_json_list(conv_ids),))
    return list(map(FirstMessage._make, rows))


async def all_conversation_ids(store: Store) -> list[int]:
    return [int(r[0]) for r in await store.fetchall("SELECT id FROM conversations ORDER BY id")]
