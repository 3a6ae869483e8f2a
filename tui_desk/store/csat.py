"""What the satisfaction survey (desk.csat) reads from the store: the mail copy it claims on the
server for a closed conversation, and the answers that arrived."""

from __future__ import annotations

import json
from dataclasses import dataclass

from tui_desk.store.db import Store, as_json_list

CopyRow = tuple[str, int, str, int, "int | None", str, "int | None"]


async def latest_customer_copy(store: Store, account: str, conv_id: int) -> CopyRow | None:
    """(folder, UID, Message-ID, conv id, date, flags, modseq) of the copy, in one of the
    account's queue folders, of the conversation's newest customer mail (not an answer to a
    survey, not a note): the mail a client claims to send the survey (sync.claims)."""
    row = await store.fetchone(
        "SELECT f.name, i.uid, m.message_id, m.conv_id, m.date, i.flags, i.modseq FROM imap_messages i"
        " JOIN folders f ON f.id = i.folder_id JOIN messages m ON m.id = i.message_id"
        " WHERE f.account = ? AND f.role = 'queue' AND m.conv_id = ? AND m.is_agent = 0 AND m.is_note = 0"
        " AND m.auto_submitted = 0 ORDER BY coalesce(m.date, m.added_at) DESC, m.id DESC LIMIT 1", (account, conv_id))
    return None if row is None else (row[0], int(row[1]), row[2], int(row[3]), row[4], row[5], row[6])


async def reply_waiting(store: Store, conv_id: int) -> bool:
    """Whether an agent's own reply of the conversation (not a bulk follow-up's) is still in the
    outbox (its event is history once sent): the survey waits for it."""
    return await store.fetchone(
        "SELECT 1 FROM thread_ids t JOIN events e ON e.anchor = t.msgid WHERE t.conv_id = ? AND e.kind = 'reply'"
        " AND e.outbox_id IS NOT NULL AND json_extract(e.data_json, '$.followup') IS NULL LIMIT 1",
        (conv_id,)) is not None


async def queue_copy(store: Store, account: str, message_id: str) -> CopyRow | None:
    """The copy of one mail in the account's queue folders (an answer the client claims)."""
    row = await store.fetchone(
        "SELECT f.name, i.uid, m.message_id, m.conv_id, m.date, i.flags, i.modseq FROM imap_messages i"
        " JOIN folders f ON f.id = i.folder_id JOIN messages m ON m.id = i.message_id"
        " WHERE f.account = ? AND f.role = 'queue' AND m.message_id = ? ORDER BY f.name LIMIT 1",
        (account, message_id))
    return None if row is None else (row[0], int(row[1]), row[2], int(row[3]), row[4], row[5], row[6])


@dataclass(frozen=True)
class AnswerMail:
    rowid: int
    message_id: str
    conv_id: int
    at: int  # its date (else when it was stored)
    to_json: str
    cc_json: str
    in_reply_to: str | None
    body: str
    has_body: bool
    sender: str = ""  # its sender's address, lower-cased


async def answer_candidates(store: Store, since: int) -> list[AnswerMail]:
    """Mail from customers marked not-a-turn (auto-submitted: a survey's answers are, and
    auto-replies and bounces) dated `since` or later, oldest first."""
    rows = await store.fetchall(
        "SELECT m.id, m.message_id, m.conv_id, coalesce(m.date, m.added_at), m.to_json, m.cc_json, m.in_reply_to,"
        " m.body, EXISTS (SELECT 1 FROM raw_messages r WHERE r.id = m.id), m.sender_key FROM messages m"
        " WHERE m.auto_submitted = 1 AND m.is_agent = 0 AND m.is_note = 0 AND coalesce(m.date, m.added_at) >= ?"
        " ORDER BY coalesce(m.date, m.added_at), m.id", (since,))
    return [AnswerMail(int(r[0]), r[1], int(r[2]), int(r[3]), r[4], r[5], r[6], r[7] or "", bool(r[8]), r[9] or "")
            for r in rows]


async def customer_of(store: Store, conv_ids: list[int]) -> dict[int, tuple[str, tuple[str, ...]]]:
    """conv id -> (customer address, tags) as the conversation has them now."""
    rows = await store.fetchall(
        "SELECT c.id, c.customer_key, (SELECT json_group_array(t.tag) FROM tags t WHERE t.conv_id = c.id)"
        " FROM conversations c WHERE c.id IN (SELECT value FROM json_each(?))", (as_json_list(conv_ids),))
    return {int(r[0]): (r[1] or "", tuple(sorted(json.loads(r[2] or "[]")))) for r in rows}


async def has_event(store: Store, event_id: str) -> bool:
    return await store.fetchone("SELECT 1 FROM events WHERE event_id = ?", (event_id,)) is not None


async def answered_survey(store: Store, event_id: str) -> str | None:
    """The survey (its Message-ID) the `csat` event `event_id` answered: "" when it names
    none, None when there is no such event."""
    row = await store.fetchone("SELECT data_json FROM events WHERE event_id = ?", (event_id,))
    if row is None:
        return None
    try:
        return str(json.loads(row[0] or "{}").get("survey") or "")
    except (ValueError, AttributeError):
        return ""
