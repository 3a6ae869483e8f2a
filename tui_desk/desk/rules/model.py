"""The records of rules: a rule, its actions, the event and conversation it is planned on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tui_desk.store.search import Query

EventKind = Literal["new", "customer-reply", "status", "sla-warning", "sla-breach", "schedule"]
EVENTS: tuple[EventKind, ...] = ("new", "customer-reply", "status", "sla-warning", "sla-breach", "schedule")
ActionKind = Literal["tag", "status", "assign", "snooze", "priority", "note", "reply", "forward"]
ACTIONS: tuple[ActionKind, ...] = ("tag", "status", "assign", "snooze", "priority", "note", "reply", "forward")
SENDS_MAIL: frozenset[ActionKind] = frozenset({"reply", "forward"})
# an event raised by a rule's own action may fire other rules, never the ones that caused it,
# and a chain of rules stops after this many links (see engine.plan)
MAX_CHAIN = 3


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    text: str  # as written in rules.toml
    add: tuple[str, ...] = ()  # tag: tags to add
    remove: tuple[str, ...] = ()  # tag: tags to take off
    value: str = ""  # status, agent ("" = nobody), snippet name, forward address, note text
    seconds: int = 0  # snooze: for how long
    boost: int = 0  # priority: steps up (+) or down (-)


@dataclass(frozen=True)
class Rule:
    name: str
    on: EventKind
    condition: str  # the `if` text, as written ("" matches every conversation)
    query: Query  # the condition read by store.search.parse_query(rule_keys=True)
    actions: tuple[Action, ...]
    line: int  # of its [[rule]] header in the file
    every: int | None = None  # schedule: seconds between checks
    idle: int | None = None  # schedule: only conversations with no mail for this long
    # its replies stand aside when another rule replies on the same event (one answer, not two):
    # the [autoreply] acknowledgement (desk.rules.acknowledge)
    fallback_reply: bool = False


@dataclass(frozen=True)
class RuleSet:
    path: Path
    rules: tuple[Rule, ...] = ()
    exists: bool = True  # False: no rules file (no rules, nothing wrong)


@dataclass(frozen=True)
class Event:
    kind: EventKind
    conv_id: int
    at: int  # unix seconds
    message_id: str | None = None  # the mail it is about (new, customer-reply)
    caused_by: tuple[str, ...] = ()  # rules whose actions raised it, oldest first


@dataclass(frozen=True)
class MessageFacts:
    """The mail an event is about, as the header: tests and the loop guards read it."""
    message_id: str
    sender: str  # address, lower case ("" when there is none)
    headers: tuple[tuple[str, str], ...]  # (name, value) in order, as mail.parse.read_headers reads them
    date: int | None = None


@dataclass(frozen=True)
class ConversationFacts:
    """What plan() knows of a conversation (desk.rules.facts gathers it from the store)."""
    id: int
    status: str
    tags: frozenset[str]
    assignee: str | None
    customer: str  # the customer's address, lower case
    last_date: int | None
    vip: bool
    business_hours: bool  # the event happened within business hours
    matched: frozenset[str]  # rules whose search terms the store matched on this conversation
    message: MessageFacts | None = None
    autoreply_block: str | None = None  # why no automatic mail may go to this customer now (guards)
    # why the acknowledgement (a fallback_reply rule) does not answer this mail: it asks nothing
    # (a thank-you, a reply that did not thread; desk.rules.acknowledge.not_a_question)
    acknowledgement_block: str | None = None


@dataclass(frozen=True)
class PlannedAction:
    rule: str
    action: Action
    says: str  # what the conversation says after it: "rule 'refunds to billing' tagged +billing"
    held: str | None = None  # a mail the guards stop, and why ("Precedence: bulk")
