"""The rule events the desk's clock raises: `sla-warning`, `sla-breach` and `schedule`, fired
once across a team.

They are looked for after a sync pass (RulesRunner.after_pass, so in the app, `tui-desk sync`
and once in `tui-desk sync --once`), at most every CHECK_EVERY seconds of the desk's clock per
account. What is true *now* fires: a client that was away fires a breach that is still a
breach, never a warning whose target has since been met or breached, nor the schedule periods
it missed; and no breach older than the horizon ([rules] horizon_hours, as for new mail).

- SLA: only conversations with a running target are looked at: open ones (and, when no target
  measures resolution, only those with a customer waiting); their SLA is computed again only
  when the conversation changed or a target may have changed state since (`_Watch`: the
  moment its warning or breach comes, on the business clock). Each target in `warning` is an
  `sla-warning` occurrence, in `breached` an `sla-breach` one, named by the event, the target
  and the start of its wait ("sla-breach next_response 1793955600"): the next wait warns again.
- Schedule: a rule looks once per `every` (period number: unix time // every); the
  conversations its `if` finds (with `idle`: with no mail for that long) are each an occurrence
  named by the rule and the period.
- Exactly once: the occurrence's keyword is claimed on the server like new mail
  (sync.claims, a conditional STORE of `td:fire:<code>:<agent>`, then `td:fire:<code>` when
  done; desk.keywords). The claims are looked for on every copy of the conversation's mail;
  a claim goes on the mail that started the wait (SLA: every client agrees on it) or the
  conversation's latest mail (schedule). A client's own claim without the done keyword (it
  stopped between) is run again: the executor does nothing twice.
- An occurrence on which no rule would do anything is not claimed, and not looked at again by
  this process (the rule's `if` is read when the event happens, as for new mail).
- Keywords do not pile up on a conversation a schedule rule keeps firing on: once the done
  keyword is stored the claim comes off (the done keyword alone stops every client), and a
  schedule occurrence's done keyword takes the one of the period two before off that mail
  (the previous period's stays: a client whose clock is a little behind may still look at it).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui_desk.config import SlaConfig
from tui_desk.desk.business_time import business_clock
from tui_desk.desk.keywords import (
    occurrence_code, timed_claim_keyword, timed_claim_prefix, timed_done_keyword,
)
from tui_desk.desk.rules.engine import plan
from tui_desk.desk.rules.execute import execute
from tui_desk.desk.rules.facts import gather_many
from tui_desk.desk.rules.model import ConversationFacts, Event, EventKind, Rule, RuleSet
from tui_desk.store import mirror, queries
from tui_desk.store.search import matching_ids
from tui_desk.sync.claims import ClaimKeywords, ClaimSession, Copy, claims_on

if TYPE_CHECKING:
    from tui_desk.desk.core import DeskCore as Desk  # the core its work needs (desk.core)

CHUNK = 250  # conversations whose SLA is computed between two turns of the event loop
CHECK_EVERY = 60  # seconds of the desk's clock between two looks (the live loop polls every 60 s)
SLA_EVENTS: dict[str, EventKind] = {"warning": "sla-warning", "breached": "sla-breach"}


@dataclass(frozen=True)
class Occurrence:
    """One timed event on one conversation: what fires, where it is claimed."""
    event: Event
    rules: tuple[Rule, ...]
    name: str  # what names it on every client: the keyword's code is made from it
    anchor_at: float | None = None  # SLA: the date of the mail that started the wait
    stale: str | None = None  # schedule: the occurrence two periods before, whose done keyword goes

    @property
    def code(self) -> str:
        return occurrence_code(self.name)


@dataclass
class _Watch:
    """What the last SLA computation of an open conversation found: recomputed when the row
    changed or at `recheck` (its next warning or breach)."""
    signature: tuple[Any, ...]
    recheck: float
    # (event, occurrence name, wait start, when it was breached) of each warning and breach
    due: tuple[tuple[EventKind, str, float, float | None], ...]


class TimedRules:
    """The timed events of a rule set, looked for after a sync pass (RulesRunner.after_pass)."""

    def __init__(self, desk: Desk, rules: RuleSet, every: int = CHECK_EVERY) -> None:
        self.desk, self.every = desk, every
        self.sla_rules = {kind: tuple(r for r in rules.rules if r.on == kind) for kind in SLA_EVENTS.values()}
        self.schedule = tuple(r for r in rules.rules if r.on == "schedule")
        self._next: dict[str, float] = {}  # account -> desk time of its next look
        self._periods: dict[tuple[str, str], int] = {}  # (account, rule) -> period looked at
        # account -> (conversation, occurrence) this process is done with; kept while still found
        # (one that comes back later is settled again by its done keyword on the server)
        self._settled: dict[str, set[tuple[int, str]]] = {}
        self._watch: dict[int, _Watch] = {}
        self.claimed = 0  # occurrences this client won (tests read them)
        self.lost = 0  # occurrences another client had
        self.computed = 0  # SLA computations (tests read them: only what may have changed)

    @property
    def active(self) -> bool:
        return bool(self.schedule or any(self.sla_rules.values()))

    async def after_pass(self, session: ClaimSession) -> None:
        if not self.active:
            return
        now = self.desk.now()
        if now < self._next.get(session.account, -math.inf):
            return
        self._next[session.account] = now + self.every
        settled = self._settled.setdefault(session.account, set())
        due = await self.sla_due(now)
        current = {(cid, name) for cid, _, name, _ in due}
        found = [Occurrence(Event(kind, cid, now), self.sla_rules[kind], name, began)
                 for cid, kind, name, began in due if (cid, name) not in settled]
        periods: dict[tuple[str, str], int] = {}
        for rule in self.schedule:
            assert rule.every is not None  # load.py: a schedule rule has one
            period = int(now // rule.every)
            if self._periods.get((session.account, rule.name)) != period:
                periods[(session.account, rule.name)] = period
                scheduled = await self.schedule_occurrences(rule, period, now)
                current |= {(o.event.conv_id, o.name) for o in scheduled}
                found += [o for o in scheduled if (o.event.conv_id, o.name) not in settled]
        await self._fire(session, found, settled)
        self._periods.update(periods)  # after the claims: a failed pass looks again
        settled &= current

    # -- finding what is due ------------------------------------------------------------------
    async def sla_due(self, now: int) -> list[tuple[int, EventKind, str, float]]:
        """(conversation, event, occurrence name, start of the wait) of every running target in
        warning or breach that a rule is about."""
        cfg = self.desk.config
        if not any(self.sla_rules.values()) or not cfg.sla.configured():
            return []
        from tui_desk.desk.sla import desk_sla  # the store's timelines: only with [sla] targets and rules
        rows = await queries.open_conversation_rows(self.desk.store)
        if not _measures_resolution(cfg.sla):  # only a waiting customer has a target running
            rows = {i: r for i, r in rows.items() if r["waiting_since"] is not None}
        # what the SLA depends on (the policies match on tags, assignee and customer too)
        signatures = {i: tuple(r) for i, r in rows.items()}
        self._watch = {i: w for i, w in self._watch.items() if i in rows}
        stale = {i: rows[i] for i, sig in signatures.items()
                 if (w := self._watch.get(i)) is None or w.signature != sig or w.recheck <= now}
        clock = business_clock(cfg.priority)
        warn = _widest_warning(cfg.sla)
        self.computed += len(stale)
        order = sorted(stale)
        for start in range(0, len(order), CHUNK):
            if start:
                await asyncio.sleep(0)  # the app's event loop: a first look at a big queue takes seconds
            chunk = {i: stale[i] for i in order[start:start + CHUNK]}
            for i, sla in (await desk_sla(self.desk, chunk, now)).items():
                # a snooze that ends lets the resolution clock run again: no row changes then
                snooze_end = stale[i]["snooze_until"]
                recheck = float(snooze_end) if snooze_end and snooze_end > now else math.inf
                due: list[tuple[EventKind, str, float, float | None]] = []
                for t in sla.targets:
                    if t.state in SLA_EVENTS and t.start is not None:
                        kind = SLA_EVENTS[t.state]
                        due.append((kind, f"{kind} {t.kind} {round(t.start)}", t.start,
                                    t.due if t.state == "breached" else None))
                    if t.state in ("ok", "warning") and t.left is not None:
                        # the next state it may enter, on the business clock (early is harmless)
                        step = t.left - warn if t.state == "ok" else t.left
                        recheck = min(recheck, clock.add(now, max(step, 0.0)))
                self._watch[i] = _Watch(signatures[i], recheck, tuple(due))
        # a breach older than the horizon is history: a store that turns the rules on, or a
        # client back after a long time, does not fire on what went over long ago
        since = now - max(self.desk.config.rules_horizon_hours * 3600, 2 * self.every)
        return [(i, kind, name, began) for i in sorted(rows) for kind, name, began, breached in self._watch[i].due
                if self.sla_rules[kind] and (breached is None or breached >= since)]

    async def schedule_occurrences(self, rule: Rule, period: int, now: int) -> list[Occurrence]:
        store = self.desk.store
        if rule.idle is not None:
            ids = await queries.last_active_before(store, now - rule.idle + 1)
        else:
            ids = await queries.all_conversation_ids(store)
        if rule.query.store_terms():
            ids = sorted(await matching_ids(store, rule.query, ids, now))
        return [Occurrence(Event("schedule", i, now), (rule,), f"schedule {rule.name} {period}",
                           stale=f"schedule {rule.name} {period - 2}") for i in sorted(ids)]

    # -- firing, claimed ----------------------------------------------------------------------
    async def _fire(self, session: ClaimSession, todo: Sequence[Occurrence], settled: set[tuple[int, str]]) -> None:
        account = session.account
        if not todo:
            return
        store = self.desk.store
        flags: dict[int, list[tuple[str, str, frozenset[str]]]] = {}  # conversation -> (account, Message-ID, flags)
        for cid, acct, mid, text, _, _ in await mirror.conversation_copies(store, sorted({o.event.conv_id for o in todo})):
            flags.setdefault(cid, []).append((acct, mid, frozenset(f.lower() for f in text.split())))
        facts: dict[int, ConversationFacts | None] = {}  # index in todo -> the conversation's facts
        for kind in sorted({o.event.kind for o in todo}):
            of_kind = [n for n, o in enumerate(todo) if o.event.kind == kind]
            rules = tuple({r.name: r for n in of_kind for r in todo[n].rules}.values())
            gathered = await gather_many(self.desk, rules, [todo[n].event for n in of_kind])
            facts.update(zip(of_kind, gathered))
        for n, o in enumerate(todo):
            cid, this = o.event.conv_id, (o.event.conv_id, o.name)
            keys = ClaimKeywords(timed_claim_keyword(o.code, self.desk.agent).lower(), timed_claim_prefix(o.code),
                                 timed_done_keyword(o.code))
            copies = flags.get(cid, [])
            seen = frozenset().union(*(f for _, _, f in copies)) if copies else frozenset()
            held = claims_on(seen, keys)
            if keys.done in seen or (held and min(held) != keys.mine):
                settled.add(this)  # done, or a teammate's
                continue
            conv = facts.get(n)
            planned = plan(o.rules, o.event, conv) if conv is not None else []
            if not planned and keys.mine not in held:
                settled.add(this)  # no rule does anything: nothing to claim
                continue
            messages = await queries.messages_of(store, cid)
            if keys.mine in held:  # this client's claim from before it stopped: finish it there
                anchors = [mid for acct, mid, f in copies if acct == account and keys.mine in f]
            else:
                anchors = _anchors(messages, o.anchor_at)
            copy = await _first_copy(session, anchors, cid)
            if copy is None:
                continue  # no mail of it in this account: another account's pass claims it
            if not await session.claim(copy, keys):
                self.lost += 1
                settled.add(this)
                continue
            self.claimed += 1
            root = messages[0]["message_id"] if messages else str(cid)
            await execute(self.desk, o.event, planned, key=f"{root}\n{o.name}")
            await session.done(copy, keys)
            await session.forget(copy, sorted(claims_on(copy.flags, keys) | {keys.mine}))
            if o.stale is not None:
                await self._forget_stale(session, copies, cid, timed_done_keyword(occurrence_code(o.stale)))
            settled.add(this)

    @staticmethod
    async def _forget_stale(session: ClaimSession, copies: Sequence[tuple[str, str, frozenset[str]]], cid: int,
                            keyword: str) -> None:
        """An old period's done keyword off the mail of this account that has it."""
        for mid in dict.fromkeys(mid for acct, mid, f in copies if acct == session.account and keyword in f):
            copy = await session.current(mid, cid)
            if copy is not None:
                await session.forget(copy, [keyword])


def _measures_resolution(cfg: SlaConfig) -> bool:
    return cfg.resolution_minutes is not None or any(p.resolution_minutes is not None for p in cfg.policies)


def _widest_warning(cfg: SlaConfig) -> float:
    """The longest warning margin of any policy, in seconds: a target is looked at again no
    later than its warning can begin, whichever policy it has."""
    return 60.0 * max([cfg.warn_minutes, *(p.warn_minutes for p in cfg.policies if p.warn_minutes is not None)])


def _anchors(messages: Sequence[Any], start: float | None) -> list[str]:
    """Where an occurrence is claimed, best first: the customer mail that started the wait
    (SLA), else the conversation's mail newest first."""
    mail = [m for m in messages if m["message_id"]]
    first = [m["message_id"] for m in mail if start is not None and not m["is_agent"] and not m["is_note"]
             and (m["date"] if m["date"] is not None else m["added_at"]) == round(start)]
    return first + [m["message_id"] for m in reversed(mail)]


async def _first_copy(session: ClaimSession, message_ids: Sequence[str], conv_id: int) -> Copy | None:
    for mid in dict.fromkeys(message_ids):
        copy = await session.current(mid, conv_id)
        if copy is not None:
            return copy
    return None


async def not_in_state(desk: Desk, conv_id: int, on: str) -> str | None:
    """For an SLA event: why the conversation is not in that state now ("is not breached: first
    response due 3h41m"), None when it is (or the event is no SLA state). `rules test` plans the
    event all the same, and says it is shown as if."""
    wanted = next((state for state, kind in SLA_EVENTS.items() if kind == on), None)
    if wanted is None:
        return None
    from tui_desk.desk.markers import sla_due_of
    from tui_desk.desk.sla import slas_of  # the store's SLA timelines: only for an SLA event
    sla = (await slas_of(desk, [conv_id])).get(conv_id)
    if sla is not None and any(t.state == wanted for t in sla.targets):
        return None
    state = "breached" if wanted == "breached" else "in warning"
    if not desk.config.sla.configured():
        return f"is not {state}: no [sla] targets are set"
    now = desk.local_now()
    due = sla_due_of(sla, now, roomy=True)
    return f"is not {state}: {due or 'no SLA target is running'}"
