"""Work that comes to this agent says so (as Help Scout and Front do): a notice once when a
teammate assigns a conversation to me (the assignment arrives by sync), and once when a customer
writes in a conversation assigned to me or one where my reply was the last mail (pending,
waiting on the customer). Said once, not again at the next start; my own actions never tell me;
sanitized plain text. The sibling of desk.mentions, and kept the same way: the state is this
store's own, never shared through the server (each agent has a store), and the first look on a
store only takes note (a first sync brings a team's whole past).

Meta keys: ASSIGNED_TOLD holds the conversations assigned to me at the last look (a JSON list);
REPLIES_TOLD the newest message id the reply notices have looked at.
"""

from __future__ import annotations

import json
import weakref
from typing import TYPE_CHECKING

from tui_desk.desk.mentions import by_me
from tui_desk.desk.views import WorkAlert
from tui_desk.sanitize import sanitize_line
from tui_desk.store import events as store_events
from tui_desk.store import queries
from tui_desk.store.db import as_json_list

if TYPE_CHECKING:
    from tui_desk.desk.core import DeskCore

ASSIGNED_TOLD = "assigned_told"
REPLIES_TOLD = "customer_replies_told_upto"
SUBJECT_CHARS = 60  # of the subject in a notice


def _subject(text: str) -> str:
    line = " ".join(sanitize_line(text).split())
    return line if len(line) <= SUBJECT_CHARS else line[:SUBJECT_CHARS - 1].rstrip() + "…"


async def work_news(desk: "DeskCore") -> list[WorkAlert]:
    """Conversations a teammate assigned to me, then customers' mail to my conversations, since
    the last look (oldest first)."""
    return await assigned_news(desk) + await reply_news(desk)


# the store's change mark (store.db.change_mark) at each desk's last look at its assignments:
# the look runs every few seconds, and a store with no commit since has nothing new to say
_looked: "weakref.WeakKeyDictionary[DeskCore, tuple[int, ...]]" = weakref.WeakKeyDictionary()


async def _mine(desk: "DeskCore") -> dict[int, str]:
    """Conversation -> subject, of those assigned to me now. The assignee is written as the
    team spells the name (desk.agent_names); NOCASE narrows, by_me decides."""
    rows = await desk.store.fetchall("SELECT id, assignee, subject FROM conversations"
                                     " WHERE assignee = ? COLLATE NOCASE", (" ".join(desk.agent.split()),))
    return {int(r["id"]): r["subject"] for r in rows if by_me(desk, r["assignee"])}


async def assigned_news(desk: "DeskCore") -> list[WorkAlert]:
    store = desk.store
    mark = store.change_mark()
    if _looked.get(desk) == mark:
        return []
    _looked[desk] = mark
    mine = await _mine(desk)
    told_json = await store.get_meta(ASSIGNED_TOLD)
    told = set(json.loads(told_json)) if told_json else set()
    if told_json is not None and told == set(mine):
        return []
    async with store.transaction():
        await store.set_meta(ASSIGNED_TOLD, as_json_list(sorted(mine)))
    if told_json is None:
        return []
    alerts = []
    for cid in sorted(set(mine) - told):
        assigns = [e for e in await store_events.of_conversation(store, cid) if e.kind == "assign"]
        who = assigns[-1].agent if assigns else ""
        if who and by_me(desk, who):
            continue
        by = sanitize_line(who) or "A teammate"
        alerts.append(WorkAlert(cid, "assigned", by, f"{by} assigned #{cid} to you: {_subject(mine[cid])}"))
    return alerts


async def reply_news(desk: "DeskCore") -> list[WorkAlert]:
    store = desk.store
    newest = await queries.newest_message_id(store)
    told = await store.get_meta(REPLIES_TOLD)
    if told is not None and newest <= int(told):
        return []
    async with store.transaction():
        await store.set_meta(REPLIES_TOLD, str(newest))
    if told is None:
        return []
    rows = await store.fetchall(
        "SELECT m.id, m.conv_id, m.sender_name, m.sender_addr, c.subject, c.assignee,"
        " (SELECT p.message_id FROM messages p WHERE p.conv_id = m.conv_id AND p.is_note = 0 AND p.id != m.id"
        "   AND coalesce(p.date, p.added_at) <= coalesce(m.date, m.added_at)"
        "   ORDER BY coalesce(p.date, p.added_at) DESC, p.id DESC LIMIT 1) AS before_id,"
        " (SELECT p.is_agent FROM messages p WHERE p.conv_id = m.conv_id AND p.is_note = 0 AND p.id != m.id"
        "   AND coalesce(p.date, p.added_at) <= coalesce(m.date, m.added_at)"
        "   ORDER BY coalesce(p.date, p.added_at) DESC, p.id DESC LIMIT 1) AS before_agent"
        " FROM messages m JOIN conversations c ON c.id = m.conv_id"
        " WHERE m.id > ? AND m.id <= ? AND m.is_note = 0 AND m.is_agent = 0 AND m.auto_submitted = 0"
        " ORDER BY m.id", (int(told), newest))
    mine = await _my_replies(desk, [r["before_id"] for r in rows if r["before_agent"]])
    alerts, said = [], set()
    for r in rows:
        cid = int(r["conv_id"])
        if cid in said:
            continue
        if r["assignee"] and by_me(desk, r["assignee"]):
            why = "assigned to you"
        elif r["before_agent"] and r["before_id"] in mine:
            why = "you replied last"
        else:
            continue
        said.add(cid)
        who = sanitize_line(r["sender_name"]) or sanitize_line(r["sender_addr"]) or "The customer"
        alerts.append(WorkAlert(cid, "replied", who, f"{who} replied on #{cid} ({why}): {_subject(r['subject'])}"))
    return alerts


async def _my_replies(desk: "DeskCore", message_ids: list[str]) -> set[str]:
    """Those of `message_ids` that are replies this agent sent (their reply events say so)."""
    if not message_ids:
        return set()
    rows = await desk.store.fetchall(
        "SELECT json_extract(data_json, '$.message_id') AS mid, agent FROM events WHERE kind = 'reply'"
        " AND json_extract(data_json, '$.message_id') IN (SELECT value FROM json_each(?))",
        (as_json_list(sorted(set(message_ids))),))
    return {r["mid"] for r in rows if by_me(desk, r["agent"])}
