"""Plan A (desk.incident): the rules' path (desk.rules.fire) asks `plan_a` about each new mail it
runs on: mail dated from the incident's start on (START_GRACE) matching its `match` is tagged
`incident` and `incident-<name>`, any reply a rule planned for it is left out, and the
incident's acknowledgement snippet goes instead (`acknowledge`: the rules' automatic reply, with
its guards and rate limits, {{incident}} = the title), once per customer per round: a
customer's new conversation gets none when this round's went to them in another (the rate
limits alone end after customer_interval_minutes). The mail is claimed on the server like any
other the rules act on, so one client of the team does it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tui_desk.desk import per_customer
from tui_desk.desk.incident.record import KIND, TAG, Incident, message_id
from tui_desk.desk.rules.engine import matches
from tui_desk.desk.rules.model import Action, ConversationFacts, Event, PlannedAction, Rule
from tui_desk.store import events as store_events
from tui_desk.store.search import parse_query

if TYPE_CHECKING:
    from tui_desk.desk.core import DeskCore as Desk  # the core its work needs (desk.core)

# plan A is for mail dated from the start on, or this little before (senders' clocks, mail on
# its way while an agent typed the title); older mail is the agents' to answer
START_GRACE = 600


def as_rule(incident: Incident) -> Rule:
    """The incident's match as a `new` rule: desk.rules.facts asks the store about it with the
    rules' own conditions, and engine.matches reads the answer."""
    return Rule(f"{KIND}:{incident.round_id}", "new", incident.match, parse_query(incident.match, rule_keys=True),
                (), 0)


def as_rules(incidents_: Sequence[Incident]) -> list[Rule]:
    return [as_rule(i) for i in incidents_ if i.match]


def belongs(incidents_: Sequence[Incident], event: Event, conv: ConversationFacts) -> Incident | None:
    """The active incident a new mail belongs to (the first started), or None: mail dated
    from its start on (START_GRACE) matching it."""
    if event.kind != "new":
        return None
    for incident in incidents_:
        if incident.active and incident.match and event.at >= incident.started_at - START_GRACE \
                and matches(as_rule(incident), event, conv):
            return incident
    return None


def plan_a(incidents_: Sequence[Incident], event: Event, conv: ConversationFacts,
           planned: Sequence[PlannedAction]) -> tuple[list[PlannedAction], Incident | None]:
    """What the rules planned, changed for an incident the mail belongs to: no reply of theirs
    (the incident's acknowledgement goes instead: `acknowledge`) and the incident's tags."""
    incident = belongs(incidents_, event, conv)
    if incident is None:
        return list(planned), None
    out = [p for p in planned if p.action.kind != "reply"]
    add = tuple(t for t in (TAG, incident.tag) if t not in conv.tags)
    if add:
        text = "tag " + " ".join("+" + t for t in add)
        out.insert(0, PlannedAction(incident.label, Action("tag", text, add=add),
                                    f"{incident.label} tagged " + " ".join("+" + t for t in add)))
    return out, incident


async def acknowledge(desk: Desk, incident: Incident, conv: ConversationFacts, key: str) -> str | None:
    """Plan A to the mail's customer (rate limits and loop guards as for any automatic reply);
    what the conversation says (None: it was queued by an earlier run)."""
    from tui_desk.desk.rules.execute import auto_reply
    if conv.autoreply_block is not None:
        return f"{incident.label} held its acknowledgement: {conv.autoreply_block}"
    told = await _acknowledged_elsewhere(desk, incident, conv.id)
    if told is not None:
        customer, other = told
        return f"{incident.label} held its acknowledgement: {customer} had it in #{other}"
    queued, held = await auto_reply(desk, conv.id, incident.ack, message_id(desk, f"{key}\nack"),
                                    {"rule": incident.label, "incident": incident.name, "plan": "ack"},
                                    values={"incident": incident.title})
    if held is not None:
        return f"{incident.label} held its acknowledgement: {held}"
    return f"{incident.label} replied with snippet '{incident.ack}'" if queued else None


async def _acknowledged_elsewhere(desk: Desk, incident: Incident, conv_id: int) -> tuple[str, int] | None:
    """(the customer, the conversation) when this round's acknowledgement went to the
    conversation's customer in another conversation: one per customer per round, however long
    the incident lasts (the rate limits' one per customer_interval_minutes ends sooner). The
    `autoreply` events tell, a teammate's too (History); an earlier round's are older than its
    start."""
    customer = (await per_customer.conversations(desk, [conv_id])).get(conv_id)
    if customer is None or not customer.customer:
        return None
    theirs = await per_customer.customers_conversations(desk, {customer.customer})
    for found in await store_events.of_kind_since(desk.store, "autoreply", incident.started_at):
        d = found.event.data
        if d.get("incident") == incident.name and d.get("plan") == "ack" and found.conv_id in theirs \
                and found.conv_id != conv_id:
            return customer.customer, found.conv_id
    return None
