"""plan(): what the rules would do to one conversation on one event. Pure: it reads the
rules, the event and the facts the desk gathered (desk.rules.facts) and changes nothing.

- Rules run in file order; each sees the conversation as the event found it (a tag one rule
  adds does not make a later rule's `tag:` condition true), and what they plan is applied in
  that order, so when two rules set the same thing the later one wins. An action that would
  change nothing by then (a tag already there, the status it has) is left out, so what the
  conversation says is what happened.
- No rule loops: a rule fires at most once per event (one pass over the list). The events
  its own actions raise (a status set by a rule is a `status` event) carry the rule in
  `Event.caused_by`; a rule never fires on an event it caused, directly or through other rules,
  and a chain of rule-caused events stops after MAX_CHAIN links.
- A rule marked `fallback_reply` (the [autoreply] acknowledgement, desk.rules.acknowledge)
  replies only when no other rule replies on the same event: one answer, not two; and its reply
  is held for a mail that asks nothing (ConversationFacts.acknowledgement_block).
- Mail the rules would send (reply) to a customer the guards protect (an auto-reply, a list,
  a bounce; desk.rules.guards) is planned but `held`, with the reason, and never sent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from tui_desk.desk.rules.actions import describe
from tui_desk.desk.rules.model import MAX_CHAIN, Action, ConversationFacts, Event, PlannedAction, Rule


def matches(rule: Rule, event: Event, conv: ConversationFacts) -> bool:
    q = rule.query
    if q.store_terms() and rule.name not in conv.matched:
        return False
    if any(wanted != conv.vip for wanted in q.vip):
        return False
    if any(wanted != conv.business_hours for wanted in q.business_hours):
        return False
    for name, text in q.headers:
        values = [v.lower() for n, v in (conv.message.headers if conv.message else ()) if n.lower() == name]
        if not values or (text and not any(text in v for v in values)):
            return False
    if rule.idle is not None and (conv.last_date is None or event.at - conv.last_date < rule.idle):
        return False
    return True


class _State:
    """The conversation as the planned actions leave it, to leave out those that change nothing."""

    def __init__(self, conv: ConversationFacts) -> None:
        self.tags = set(conv.tags)
        self.status = conv.status
        self.assignee = (conv.assignee or "").lower()

    def apply(self, action: Action) -> Action | None:
        if action.kind == "tag":
            add = tuple(t for t in action.add if t not in self.tags)
            remove = tuple(t for t in action.remove if t in self.tags and t not in action.add)
            if not add and not remove:
                return None
            self.tags = (self.tags | set(add)) - set(remove)
            return dataclasses.replace(action, add=add, remove=remove)
        if action.kind == "status":
            if action.value == self.status:
                return None
            self.status = action.value
        elif action.kind == "assign":
            if action.value.lower() == self.assignee:
                return None
            self.assignee = action.value.lower()
        return action


def firing(rules: Sequence[Rule], event: Event, conv: ConversationFacts) -> list[Rule]:
    """The rules that fire on this event, in file order, whether or not anything is left for
    them to do (`rules test` says which matched when all their actions are done already)."""
    if len(event.caused_by) >= MAX_CHAIN:
        return []
    return [r for r in rules if r.on == event.kind and r.name not in event.caused_by and matches(r, event, conv)]


def plan(rules: Sequence[Rule], event: Event, conv: ConversationFacts) -> list[PlannedAction]:
    state = _State(conv)
    out: list[PlannedAction] = []
    for rule in firing(rules, event, conv):
        for written in rule.actions:
            action = state.apply(written)
            if action is None:
                continue
            held = conv.autoreply_block if action.kind == "reply" else None
            if held is None and action.kind == "reply" and rule.fallback_reply:
                held = conv.acknowledgement_block  # it acknowledges a question: none was asked
            out.append(PlannedAction(rule.name, action, f"rule '{rule.name}' {describe(action)}", held))
    fallbacks = {r.name for r in rules if r.fallback_reply}
    if any(p.action.kind == "reply" and p.rule not in fallbacks for p in out):
        out = [p for p in out if not (p.action.kind == "reply" and p.rule in fallbacks)]
    return out
