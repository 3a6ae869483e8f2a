"""The conversation facts plan() reads, gathered from the store: state, the store's answer to
each rule's search terms, VIP, business hours, the mail the event is about and the guards'
verdict on answering it (and, for the acknowledgement, whether that mail asks anything)."""

from __future__ import annotations

from collections.abc import Sequence
from sqlite3 import Row
from typing import TYPE_CHECKING

from tui_desk.desk.business_time import business_clock
from tui_desk.desk.priority import is_vip
from tui_desk.desk.rules.acknowledge import not_a_question
from tui_desk.desk.rules.guards import autoreply_block
from tui_desk.desk.rules.model import ConversationFacts, Event, MessageFacts, Rule
from tui_desk.mail.parse import read_headers
from tui_desk.store import queries
from tui_desk.store.mirror import raws_by_rowid
from tui_desk.store.search import matching_ids

if TYPE_CHECKING:
    from tui_desk.desk.core import DeskCore as Desk  # the core its work needs (desk.core)


def in_business_hours(desk: Desk, at: int) -> bool:
    clock = business_clock(desk.config.priority)
    return bool(clock.elapsed(at + 1) > clock.elapsed(at))  # the business clock runs only then


def _about(mail: list[Row], event: Event) -> Row | None:
    """The mail the event is about, of its conversation's (no notes, oldest first): the one it
    names, else for `new` the customer's first and for `customer-reply` the customer's latest
    (of their turns: automatic mail only when there is nothing else; incident plan B, rules test).
    None for events about no mail."""
    if event.message_id is not None:
        mail = [r for r in mail if r["message_id"] == event.message_id]
    elif event.kind in ("new", "customer-reply"):
        mail = [r for r in mail if not r["is_agent"]]
        # the customer's own mail, not their out-of-office or a survey answer (no turn), when any
        mail = [r for r in mail if not r["auto_submitted"]] or mail
        mail = mail[:1] if event.kind == "new" else mail[-1:]
    else:
        return None
    return mail[0] if mail else None


async def _messages(desk: Desk, events: Sequence[Event]) -> list[MessageFacts | None]:
    """Each event's mail (see _about) with its header fields, None for events about no mail. The
    store is asked once for the batch's mail and once for the raw bytes of the mail chosen (one
    query per event cost more than the rest of a 1,000-mail batch: bench/rules_bench.py)."""
    about_mail = [e for e in events if e.message_id is not None or e.kind in ("new", "customer-reply")]
    mail = await queries.mail_of_conversations(desk.store, sorted({e.conv_id for e in about_mail}))
    rows = [_about(mail.get(e.conv_id, []), e) for e in events]
    raws = await raws_by_rowid(desk.store, sorted({r["id"] for r in rows if r is not None}))
    headers: dict[int, tuple[tuple[str, str], ...]] = {}
    out: list[MessageFacts | None] = []
    for row in rows:
        if row is None:
            out.append(None)
            continue
        read = headers.get(row["id"])
        if read is None:
            read = headers[row["id"]] = tuple(read_headers(raws.get(row["id"]) or b""))
        out.append(MessageFacts(row["message_id"], row["sender_key"], read, row["date"]))
    return out


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
            if rule.on == kind and rule.query.store_terms():
                for cid in await matching_ids(desk.store, rule.query, ids, now):
                    matched.setdefault((kind, cid), set()).add(rule.name)
    # the mail of the events whose conversation is there, in the order the loop below meets them
    messages = iter(await _messages(desk, [e for e in events if e.conv_id in states and e.conv_id in rows]))
    found = [(e, next(messages)) if e.conv_id in states and e.conv_id in rows else (e, None) for e in events]
    asked = [(e.conv_id, m) for e, m in found if e.kind == "new" and m is not None] if any(
        r.fallback_reply for r in rules) else []
    blocks = dict(zip((m.message_id for _, m in asked), await not_a_question(desk, asked)))
    out: list[ConversationFacts | None] = []
    for event, message in found:
        cid = event.conv_id
        if cid not in states or cid not in rows:
            out.append(None)
            continue
        state, row = states[cid], rows[cid]
        customer = row["customer_key"] or ""
        answered = message or MessageFacts("", customer, ())
        out.append(ConversationFacts(
            id=cid, status=row["status"], tags=frozenset(state.tags), assignee=state.assignee, customer=customer,
            last_date=row["last_date"], vip=is_vip(customer, desk.config.priority),
            business_hours=in_business_hours(desk, event.at), matched=frozenset(matched.get((event.kind, cid), ())),
            message=message, autoreply_block=autoreply_block(answered, desk.config.is_agent_address),
            acknowledgement_block=blocks.get(message.message_id) if message is not None and event.kind == "new" else None))
    return out
