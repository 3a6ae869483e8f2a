"""One mail per customer: the grouping a bulk follow-up (desk.followup) and an incident's mails
(desk.incident) share. The customer is the conversation's customer_key (the normalized address
customer history and priority use; "": none known, a customer of its own). Among a customer's
conversations that want the mail, one carries it: the one it went in before, else the most
recent open one, else the most recent (the newest last mail; the higher id on a tie). The
others are covered by it (the caller notes them)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui_desk.desk.wording import counted

if TYPE_CHECKING:
    from tui_desk.desk.core import DeskCore as Desk  # the core its work needs (desk.core)


def summary(customers: int, conversations: int) -> str:
    """`2 customers (3 conversations)`: who gets a mail, and the conversations it answers."""
    return f"{counted(customers, 'customer')} ({counted(conversations, 'conversation')})"


@dataclass(frozen=True)
class CustomerConversation:
    customer: str  # customer_key ("": none known)
    status: str
    last_date: int


async def conversations(desk: Desk, conv_ids: Iterable[int]) -> dict[int, CustomerConversation]:
    """The facts the grouping reads, for these conversations (those that exist)."""
    rows = await desk.store.fetchall(
        "SELECT id, customer_key, status, coalesce(last_date, 0) FROM conversations"
        " WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(sorted(set(conv_ids))),))
    return {r[0]: CustomerConversation(r[1] or "", r[2], r[3]) for r in rows}


async def customers_conversations(desk: Desk, customers: set[str]) -> dict[int, str]:
    """Every conversation of these customers (named in the run or not) -> its customer."""
    rows = await desk.store.fetchall(
        "SELECT id, customer_key FROM conversations WHERE customer_key IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted(customers)),))
    return {r[0]: r[1] for r in rows}


def carrier(conv_ids: Iterable[int], facts: Mapping[int, CustomerConversation]) -> int:
    """The conversation that carries a customer's mail: the most recent open one, else the most
    recent (the newest last mail; the higher id on a tie)."""
    return max(conv_ids, key=lambda c: (facts[c].status == "open", facts[c].last_date, c))


def covered_by(wanting: Iterable[tuple[int, str]], facts: Mapping[int, CustomerConversation],
               before: Mapping[str, int]) -> dict[int, int]:
    """covered conversation -> the conversation carrying its customer's mail, for the
    conversations (id, customer) that want one: per customer, the carrier stays uncovered, the
    others are covered by it (all of them, when `before` names where the mail went earlier)."""
    by_customer: dict[str, list[int]] = {}
    for cid, customer in wanting:
        if customer:
            by_customer.setdefault(customer, []).append(cid)
    out: dict[int, int] = {}
    for customer, group in by_customer.items():
        chosen = before[customer] if customer in before else carrier(group, facts)
        out.update({cid: chosen for cid in group if cid != chosen})
    return out
