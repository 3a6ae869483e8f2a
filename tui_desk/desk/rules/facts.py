"""The conversation facts plan() reads, gathered from the store: state, the store's answer to
each rule's search terms, VIP, business hours, the mail the event is about and the guards'
verdict on answering it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tui_desk.desk.business_time import business_clock
from tui_desk.desk.priority import is_vip
from tui_desk.desk.rules.engine import has_store_terms
from tui_desk.desk.rules.guards import autoreply_block
from tui_desk.desk.rules.model import ConversationFacts, Event, MessageFacts, Rule
from tui_desk.mail.parse import read_headers
from tui_desk.store import queries
from tui_desk.store.mirror import raw_by_rowid
from tui_desk.store.search import matching_ids

if TYPE_CHECKING:
    from tui_desk.desk.service import Desk


def in_business_hours(desk: Desk, at: int) -> bool:
    clock = business_clock(desk.config.priority)
    return bool(clock.elapsed(at + 1) > clock.elapsed(at))  # the business clock runs only then


async def _message(desk: Desk, conv_id: int, event: Event) -> MessageFacts | None:
    """The mail the event is about: the one it names, else for `new` the customer's first
    and for `customer-reply` the customer's latest. None for events about no mail."""
    if event.message_id is None and event.kind not in ("new", "customer-reply"):
        return None  # not a query per conversation for a schedule rule's hundreds
    rows = [r for r in await queries.messages_of(desk.store, conv_id) if not r["is_note"]]
    if event.message_id is not None:
        rows = [r for r in rows if r["message_id"] == event.message_id]
    elif event.kind in ("new", "customer-reply"):
        rows = [r for r in rows if not r["is_agent"]]
        rows = rows[:1] if event.kind == "new" else rows[-1:]
    else:
        return None
    if not rows:
        return None
    row = rows[0]
    raw = await raw_by_rowid(desk.store, row["id"])
    return MessageFacts(row["message_id"], row["sender_key"], tuple(read_headers(raw or b"")), row["date"])


async def gather(desk: Desk, rules: Sequence[Rule], event: Event) -> ConversationFacts | None:
    """The facts of the event's conversation, None when there is no such conversation."""
    return (await gather_many(desk, rules, [event]))[0]


async def gather_many(desk: Desk, rules: Sequence[Rule], events: Sequence[Event]) -> list[ConversationFacts | None]:
    """The facts of each event's conversation (None: no such conversation), for a batch such
    as a sync's new mail: the store answers each rule's search terms once for the batch."""
    conv_ids = sorted({e.conv_id for e in events})
    states = await queries.conversation_states(desk.store, conv_ids)
    rows = await queries.conversation_rows(desk.store, conv_ids)
    matched: dict[tuple[str, int], set[str]] = {}  # (event kind, conversation) -> rule names
    for kind in sorted({e.kind for e in events}):
        of_kind = [e for e in events if e.kind == kind]
        ids = sorted({e.conv_id for e in of_kind})
        now = max(e.at for e in of_kind)  # is:snoozed and the like, as of the batch's last event
        for rule in rules:
            if rule.on == kind and has_store_terms(rule.query):
                for cid in await matching_ids(desk.store, rule.query, ids, now):
                    matched.setdefault((kind, cid), set()).add(rule.name)
    out: list[ConversationFacts | None] = []
    for event in events:
        cid = event.conv_id
        if cid not in states or cid not in rows:
            out.append(None)
            continue
        state, row = states[cid], rows[cid]
        message = await _message(desk, cid, event)
        customer = row["customer_key"] or ""
        answered = message or MessageFacts("", customer, ())
        out.append(ConversationFacts(
            id=cid, status=row["status"], tags=frozenset(state.tags), assignee=state.assignee, customer=customer,
            last_date=row["last_date"], vip=is_vip(customer, desk.config.priority),
            business_hours=in_business_hours(desk, event.at), matched=frozenset(matched.get((event.kind, cid), ())),
            message=message, autoreply_block=autoreply_block(answered, desk.config.is_agent_address)))
    return out
