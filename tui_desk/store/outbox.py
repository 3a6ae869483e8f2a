"""Outbox rows: the durable record of every reply from "send" to "filed in Sent"."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from tui_desk.store.db import Store, inserted_rowid

ACTIVE = ("queued", "sending", "sent", "failed", "maybe_sent", "held")
# the agent decides what happens to these: send again, edit (back to the draft) or discard
NEEDS_AGENT = ("failed", "maybe_sent", "held")


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    account: str
    conv_id: int | None
    message_id: str
    raw: bytes
    mail_from: str
    recipients: list[str]
    body_markdown: str
    state: str
    send_at: int
    attempts: int
    next_try: int | None
    last_error: str | None
    reply_all: bool = False
    owner: str | None = None  # the process that took it for sending
    seen_upto: int | None = None  # the conversation's newest message (rowid) when the agent wrote
    sent_at: int | None = None  # when the SMTP server took it (a later undo says so)


def _item(r: sqlite3.Row) -> OutboxItem:
    return OutboxItem(r["id"], r["account"], r["conv_id"], r["message_id"], bytes(r["raw"]), r["mail_from"],
                      json.loads(r["rcpt_json"]), r["body_markdown"], r["state"], r["send_at"], r["attempts"],
                      r["next_try"], r["last_error"], bool(r["reply_all"]), r["owner"], r["seen_upto"],
                      r["sent_at"])


async def add(store: Store, *, account: str, conv_id: int | None, message_id: str, raw: bytes, mail_from: str,
              recipients: list[str], body_markdown: str, send_at: int, reply_all: bool = False,
              seen_upto: int | None = None, created_at: int | None = None, sent_markdown: str | None = None) -> int:
    """`created_at` on the clock `send_at` was worked out on (the desk's): a send_at later than
    created_at plus the undo window is a send-later reply (queries.conversation_rows).
    `sent_markdown`: the Markdown as sent, placeholders filled (schema 16; sent_markdown())."""
    cur = await store.db.execute(
        "INSERT INTO outbox(account, conv_id, message_id, raw, mail_from, rcpt_json, body_markdown, state,"
        " send_at, created_at, reply_all, seen_upto) VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)",
        (account, conv_id, message_id, raw, mail_from, json.dumps(recipients), body_markdown, send_at,
         int(time.time()) if created_at is None else created_at, int(reply_all), seen_upto))
    item_id = inserted_rowid(cur)
    # a row left by an outbox item deleted without the foreign keys on (a plain sqlite3 session)
    # would otherwise block this id or give it another reply's text
    if sent_markdown is None:
        await store.execute("DELETE FROM outbox_markdown WHERE outbox_id=?", (item_id,))
    else:
        await store.execute("INSERT OR REPLACE INTO outbox_markdown(outbox_id, markdown) VALUES (?, ?)",
                            (item_id, sent_markdown))
    return item_id


async def sent_markdown(store: Store, message_ids: list[str]) -> dict[str, str]:
    """Message-ID -> the Markdown that mail was sent as, for those of `message_ids` this store's
    outbox sent (or holds) since schema 16; the others are not in it."""
    if not message_ids:
        return {}
    rows = await store.fetchall(
        "SELECT o.message_id, m.markdown FROM outbox o JOIN outbox_markdown m ON m.outbox_id = o.id"
        " WHERE o.message_id IN (SELECT value FROM json_each(?))", (json.dumps(message_ids),))
    return {r[0]: r[1] for r in rows}


async def take(store: Store, item_id: int, owner: str) -> bool:
    """queued -> sending by `owner`, only if nobody cancelled it meanwhile (inside the caller's transaction)."""
    cur = await store.db.execute("UPDATE outbox SET state='sending', owner=? WHERE id=? AND state='queued'",
                                 (owner, item_id))
    return cur.rowcount == 1


async def release(store: Store, item_id: int, seen_upto: int | None) -> bool:
    """The agent says "send it anyway": back to queued, due now, with what they have now seen."""
    cur = await store.db.execute(
        "UPDATE outbox SET state='queued', last_error=NULL, next_try=NULL, owner=NULL, seen_upto=?,"
        " send_at=min(send_at, ?) WHERE id=? AND state IN (SELECT value FROM json_each(?))",
        (seen_upto, int(time.time()), item_id, json.dumps(list(NEEDS_AGENT))))
    return cur.rowcount == 1


async def due_now(store: Store, item_id: int, now: int) -> bool:
    """The agent says "send it now": a queued reply (scheduled, or waiting to retry) is due at once."""
    cur = await store.db.execute(
        "UPDATE outbox SET send_at=min(send_at, ?), next_try=NULL WHERE id=? AND state='queued'", (now, item_id))
    return cur.rowcount == 1


async def newest_message(store: Store, conv_id: int) -> int | None:
    """The rowid of the conversation's newest stored message: what an agent replying has seen."""
    row = await store.fetchone("SELECT max(id) FROM messages WHERE conv_id=?", (conv_id,))
    assert row is not None  # an aggregate has a row (NULL when the conversation has no mail)
    newest: int | None = row[0]
    return newest


async def news_since(store: Store, conv_id: int, seen_upto: int) -> list[sqlite3.Row]:
    """Mail that reached the conversation after the agent wrote their reply: the customer's
    (not auto-replies) or a teammate's, never a note or one of this desk's own outbox replies."""
    return await store.fetchall(
        "SELECT * FROM messages m WHERE m.conv_id=? AND m.id>? AND m.is_note=0 AND m.auto_submitted=0"
        " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = m.message_id)"
        " ORDER BY coalesce(m.date, m.added_at), m.id", (conv_id, seen_upto))


async def agents(store: Store, item_ids: list[int]) -> dict[int, str]:
    """Outbox id -> the agent whose reply (forward, follow-up...) it is: the agent of the event
    waiting for it to be sent (store.events, outbox_id; unshared until then, so the
    events_shared index finds it). Items no event waits for are not in it."""
    rows = await store.fetchall(
        "SELECT outbox_id, agent FROM events WHERE shared = 0 AND outbox_id IN (SELECT value FROM json_each(?))"
        " ORDER BY at, event_id", (json.dumps(item_ids),))
    found: dict[int, str] = {}
    for outbox_id, agent in rows:
        found.setdefault(outbox_id, agent)
    return found


async def get(store: Store, item_id: int) -> OutboxItem | None:
    r = await store.fetchone("SELECT * FROM outbox WHERE id=?", (item_id,))
    return _item(r) if r else None


async def items(store: Store, states: tuple[str, ...] = ACTIVE) -> list[OutboxItem]:
    rows = await store.fetchall(
        "SELECT * FROM outbox WHERE state IN (SELECT value FROM json_each(?)) ORDER BY send_at, id",
        (json.dumps(list(states)),))
    return [_item(r) for r in rows]


async def set_state(store: Store, item_id: int, state: str, *, error: str | None = None,
                    next_try: int | None = None, attempt: bool = False, sent_at: int | None = None) -> None:
    await store.execute(
        "UPDATE outbox SET state=?, last_error=?, next_try=?, attempts=attempts+?, sent_at=coalesce(?, sent_at)"
        " WHERE id=?", (state, error, next_try, int(attempt), sent_at, item_id))


async def remove(store: Store, item_id: int) -> None:
    await store.execute("DELETE FROM outbox WHERE id=?", (item_id,))


KEPT_RULE = "────────"


def kept_separator(label: str) -> str:
    """The plain line between a reply that came back to the draft and the draft kept below it."""
    return f"{KEPT_RULE} {label}, kept below {KEPT_RULE}"


def kept_separator_in(body_markdown: str) -> str | None:
    """The first kept_separator line still in a text (a reply must not go with it), else None."""
    return next((line for line in body_markdown.splitlines() if line.startswith(KEPT_RULE + " ")
                 and line.endswith(", kept below " + KEPT_RULE)), None)


@dataclass(frozen=True, slots=True)
class KeptDraft:
    """A draft that was already there when a reply came back to it: kept below the reply."""
    body_markdown: str
    updated_at: int


async def save_draft(store: Store, conv_id: int, body_markdown: str, reply_all: bool = False,
                     error: str | None = None, *, replace: bool = False, now: int | None = None,
                     label: Callable[[int], str] = lambda _: "your draft") -> KeptDraft | None:
    """Write the conversation's draft. `replace`: the agent's own text replaces the draft (the
    compose screen saving what it shows). Otherwise (a reply coming back from the outbox: undo,
    cancel, the server's refusal) nothing is lost: a draft already there, other than this text,
    is kept below it after kept_separator(label(its updated_at)), and returned (the caller says
    so). `now`: the desk's clock (updated_at)."""
    stamp = int(time.time()) if now is None else now
    kept: KeptDraft | None = None
    if not replace:
        r = await store.fetchone("SELECT body_markdown, updated_at FROM drafts WHERE conv_id=?", (conv_id,))
        if r is not None and r[0].strip() and r[0].strip() != body_markdown.strip():
            kept = KeptDraft(r[0], r[1])
            body_markdown = f"{body_markdown.rstrip()}\n\n{kept_separator(label(kept.updated_at))}\n\n{r[0]}"
    await store.execute(
        "INSERT OR REPLACE INTO drafts(conv_id, body_markdown, reply_all, error, updated_at) VALUES (?, ?, ?, ?, ?)",
        (conv_id, body_markdown, int(reply_all), error, stamp))
    return kept


async def draft(store: Store, conv_id: int) -> tuple[str, bool, str | None] | None:
    r = await store.fetchone("SELECT body_markdown, reply_all, error FROM drafts WHERE conv_id=?", (conv_id,))
    return (r[0], bool(r[1]), r[2]) if r else None


async def delete_draft(store: Store, conv_id: int) -> None:
    await store.execute("DELETE FROM drafts WHERE conv_id=?", (conv_id,))
