"""Outbox rows: the durable record of every reply from "send" to "filed in Sent"."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from tui_desk.store.db import Store

ACTIVE = ("queued", "sending", "sent", "failed", "maybe_sent")


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


def _item(r) -> OutboxItem:
    return OutboxItem(r["id"], r["account"], r["conv_id"], r["message_id"], bytes(r["raw"]), r["mail_from"],
                      json.loads(r["rcpt_json"]), r["body_markdown"], r["state"], r["send_at"], r["attempts"],
                      r["next_try"], r["last_error"], bool(r["reply_all"]))


async def add(store: Store, *, account: str, conv_id: int | None, message_id: str, raw: bytes, mail_from: str,
              recipients: list[str], body_markdown: str, send_at: int, reply_all: bool = False) -> int:
    cur = await store.db.execute(
        "INSERT INTO outbox(account, conv_id, message_id, raw, mail_from, rcpt_json, body_markdown, state,"
        " send_at, created_at, reply_all) VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)",
        (account, conv_id, message_id, raw, mail_from, json.dumps(recipients), body_markdown, send_at,
         int(time.time()), int(reply_all)))
    return cur.lastrowid


async def take(store: Store, item_id: int) -> bool:
    """queued -> sending, only if nobody cancelled it meanwhile (inside the caller's transaction)."""
    cur = await store.db.execute("UPDATE outbox SET state='sending' WHERE id=? AND state='queued'", (item_id,))
    return cur.rowcount == 1


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


async def save_draft(store: Store, conv_id: int, body_markdown: str, reply_all: bool = False,
                     error: str | None = None) -> None:
    await store.execute(
        "INSERT OR REPLACE INTO drafts(conv_id, body_markdown, reply_all, error, updated_at) VALUES (?, ?, ?, ?, ?)",
        (conv_id, body_markdown, int(reply_all), error, int(time.time())))


async def draft(store: Store, conv_id: int) -> tuple[str, bool, str | None] | None:
    r = await store.fetchone("SELECT body_markdown, reply_all, error FROM drafts WHERE conv_id=?", (conv_id,))
    return (r[0], bool(r[1]), r[2]) if r else None


async def delete_draft(store: Store, conv_id: int) -> None:
    await store.execute("DELETE FROM drafts WHERE conv_id=?", (conv_id,))
