"""When rules fire: on new mail after a sync pass, once across a team, and on status changes.

New mail (`new`: the first mail of a conversation; `customer-reply`: a customer's later mail)
is looked at after every sync pass that stored it with its body (AccountSync.after_pass). The
client claims it on the server before acting (sync.claims: a conditional STORE of its claim
keyword `td:rules:<agent>` on the mail in its queue folder); the client whose claim the server
takes first runs the rules, the others see its claim and leave the mail alone. After acting it
adds `td:rules-done`.

- Restart: a client's own claim without `td:rules-done` (it stopped between) is run again;
  the executor does nothing twice (desk.rules.execute).
- Offline catch-up: the candidates are the customer mail in the store dated within the
  horizon (`[rules] horizon_hours`, 24 by default) that has no done keyword and no other client's
  claim, whatever the client saw before: a client that was away claims what arrived meanwhile
  and nobody else took. Mail older than the horizon is never run on, so a new agent's first
  sync does not fire the rules on a year of mail.
- Mail on which no rule would do anything is not claimed (nothing is written to the server).
- An answer to the satisfaction survey (mail.survey) is not a customer turn: no `new` or
  `customer-reply` rule runs on it and no incident takes it; desk.csat records it.
- Incidents (desk.incident): new mail of an active incident is tagged and gets the incident's
  acknowledgement instead of a rule's reply (plan_a), claimed like the rest; after the mail,
  an incident this agent resolved sends its "fixed" mail (send_fixes, claimed per conversation).
- `status` rules fire where the status is set (desk.commands.set_status), once: the change is
  made on one client only.
- `sla-warning`, `sla-breach` and `schedule` fire on the desk's clock after a pass, claimed
  the same way (desk.rules.timed).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import TYPE_CHECKING

from tui_desk.config import Config
from tui_desk.desk.incident import ack as incident_ack, fixed as incident_fixed, record as incident
from tui_desk.desk.keywords import RULES_CLAIM, RULES_DONE, rules_claim_keyword
from tui_desk.desk.rules.acknowledge import with_acknowledgement
from tui_desk.desk.rules.engine import plan
from tui_desk.desk.rules.execute import execute, record_rule_line
from tui_desk.desk.rules.facts import gather_many
from tui_desk.desk.rules.guards import answers_the_survey
from tui_desk.desk.rules.load import checks_for, load_rules
from tui_desk.desk.rules.model import Event, EventKind, Rule, RuleSet
from tui_desk.desk.rules.timed import TimedRules
from tui_desk.store import queries
from tui_desk.sync.claims import ClaimKeywords, ClaimSession, Copy, claims_on

if TYPE_CHECKING:
    from tui_desk.desk.core import DeskCore as Desk  # the core its work needs (desk.core)

log = logging.getLogger(__name__)

MAIL_EVENTS = ("new", "customer-reply")


async def read_rules(desk: Desk) -> RuleSet:
    """The config's rules as the desk runs them (rules_of), its store's agents counting: the run,
    the app, `tui-desk sync` and `tui-desk rules check|test` read them so."""
    return rules_of(desk.config, [s.name for s in desk.snippets()], await desk.known_agents())


def rules_of(config: Config, snippets: Collection[str], agents: Collection[str]) -> RuleSet:
    """The config's rules, checked against `agents` (the desk's known agents, DeskCore.known_agents:
    an `assign` names them as the app and the CLI do) and `snippets` (RulesError), with the
    [autoreply] acknowledgement last when the config asks for it."""
    checks = checks_for(agents, snippets, config.is_agent_address)
    rules = load_rules(config.rules_path(), checks, required=config.rules_file is not None)
    return with_acknowledgement(rules, config, snippets)  # [autoreply] acknowledge


async def _event_kind(desk: Desk, copy: Copy) -> EventKind:
    mail = [r for r in await queries.messages_of(desk.store, copy.conv_id) if not r["is_note"]]
    return "new" if mail and mail[0]["message_id"] == copy.message_id else "customer-reply"


class RulesRunner:
    """Runs a desk's rules on the new mail of every sync pass (AccountSync.after_pass)."""

    def __init__(self, desk: Desk, rules: RuleSet, horizon: int | None = None) -> None:
        """`horizon`: seconds (default: the config's `[rules] horizon_hours`)."""
        self.desk, self.rules = desk, rules
        self.horizon = horizon if horizon is not None else desk.config.rules_horizon_hours * 3600
        desk.rules = rules  # status rules fire from the command path
        self.keys = ClaimKeywords(rules_claim_keyword(desk.agent).lower(), RULES_CLAIM, RULES_DONE)
        self._settled: set[str] = set()  # mail this process has looked at and is done with
        self._incidents: frozenset[str] = frozenset()  # the active incidents' rounds (desk.incident)
        self.claimed = 0  # claims this client won (tests read them)
        self.lost = 0  # claims another client had
        self.timed = TimedRules(desk, rules)  # sla-warning, sla-breach, schedule (desk.rules.timed)

    async def after_pass(self, session: ClaimSession) -> None:
        await self._mail_pass(session)
        await self.timed.after_pass(session)

    async def _mail_pass(self, session: ClaimSession) -> None:
        """New mail's rules, incidents' plan A, and plan B of an incident this agent resolved."""
        rules = [r for r in self.rules.rules if r.on in MAIL_EVENTS]
        open_incidents = await incident.active(self.desk)
        rounds = frozenset(i.round_id for i in open_incidents)
        if rounds != self._incidents:  # one started: mail looked at before may be its now
            self._incidents = rounds
            self._settled.clear()
        if rules or open_incidents:
            await self._new_mail(session, rules, open_incidents)
        await incident_fixed.send_fixes(self.desk, session)  # an incident this agent resolved: plan B

    async def _new_mail(self, session: ClaimSession, rules: list[Rule], open_incidents: list[incident.Incident]) -> None:
        todo: dict[str, Copy] = {}
        for copy in await session.copies(self.desk.now() - self.horizon):
            if copy.message_id in todo or copy.message_id in self._settled:
                continue
            held = claims_on(copy.flags, self.keys)
            if RULES_DONE in {f.lower() for f in copy.flags} or (held and self.keys.mine not in held):
                self._settled.add(copy.message_id)
                continue
            todo[copy.message_id] = copy
        if not todo:
            return
        copies = list(todo.values())
        events = [Event(await _event_kind(self.desk, c), c.conv_id, c.date or self.desk.now(), c.message_id)
                  for c in copies]
        facts = await gather_many(self.desk, [*rules, *incident_ack.as_rules(open_incidents)], events)
        for copy, event, conv in zip(copies, events, facts):
            if conv is not None and conv.message is not None and answers_the_survey(conv.message):
                self._settled.add(copy.message_id)  # the survey's (desk.csat), not a customer turn
                continue
            planned = plan(rules, event, conv) if conv is not None else []
            # mail of an active incident: its tags and acknowledgement instead of the rules' reply
            planned, of_incident = incident_ack.plan_a(open_incidents, event, conv, planned) if conv else (planned, None)
            mine = self.keys.mine in claims_on(copy.flags, self.keys)
            if not planned and of_incident is None and not mine:
                self._settled.add(copy.message_id)  # no rule does anything: nothing to claim
                continue
            if not await session.claim(copy, self.keys):
                self.lost += 1
                self._settled.add(copy.message_id)
                continue
            self.claimed += 1
            key = f"{copy.message_id}\n{event.kind}"
            await execute(self.desk, event, planned, key=key)
            if of_incident is not None and conv is not None:
                says = await incident_ack.acknowledge(self.desk, of_incident, conv, key)
                if says is not None:
                    await record_rule_line(self.desk, conv.id, of_incident.label, says)
            await session.done(copy, self.keys)
            self._settled.add(copy.message_id)


async def fire_status(desk: Desk, conv_ids: list[int], caused_by: tuple[str, ...]) -> None:
    """The `status` rules on conversations whose status just changed on this client."""
    rules = [r for r in (desk.rules.rules if desk.rules is not None else ()) if r.on == "status"]
    if not rules or not conv_ids:
        return
    now = desk.now()
    events = [Event("status", cid, now, caused_by=caused_by) for cid in conv_ids]
    for event, conv in zip(events, await gather_many(desk, rules, events)):
        if conv is not None:
            await execute(desk, event, plan(rules, event, conv),
                          key=f"status\n{event.conv_id}\n{now}\n{conv.status}\n{','.join(caused_by)}")
