"""Service levels (issue 16): each conversation's due times and states against the [sla] targets.

Targets ([sla] in config.toml, business minutes on [priority]'s calendar), the first
[[sla.policy]] whose `if` (the desk's search grammar; `vip:yes|no` too) finds the conversation
overriding them:
- first_response: from the first customer message to the first agent reply;
- next_response: from a customer message after an agent reply (the first of a row) to the next
  agent reply; only the wait open now is shown;
- resolution: from the first customer message to the close that left it closed, counting only
  the time it was open: pending (until the next status change or customer message), snoozed and
  closed-then-reopened time pause it.

States: `ok`, `warning` (business time left <= warn_minutes), `breached` (over, still running),
`met` (done in time), `missed` (done late), `paused` (resolution while pending / snoozed / closed,
or a response target while the conversation is not open: nobody waits on us), `none` (no
target, or nothing to measure yet). `left` is business seconds left now (negative: over), or at
the moment it was done; `due` the wall-clock moment the target runs out (None while paused).

The core (`conversation_sla`) is pure: a desk.metrics.Timeline, the state now and a clock.
`desk_sla(desk, rows)` reads the store for the queue's rows and `show`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from dataclasses import dataclass
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from tui_desk.config import ConfigError, PriorityConfig, SlaConfig, SlaPolicy
from tui_desk.desk.business_time import BusinessClock
from tui_desk.desk.metrics import Timeline
from tui_desk.desk.priority import is_vip
from tui_desk.desk.report_data import timeline
from tui_desk.store import queries, report_cache
from tui_desk.store.search import Query, SearchError, matching_ids, parse_query

if TYPE_CHECKING:
    from tui_desk.desk.service import Desk

KINDS = ("first_response", "next_response", "resolution")
RUNNING = ("ok", "warning", "breached")
UTC = dt.timezone.utc


@dataclass(frozen=True, slots=True)
class Targets:
    """Business minutes per kind (None: no target) and the warning margin; `policy` names where
    they came from ("" : the [sla] table)."""
    first_response: int | None = None
    next_response: int | None = None
    resolution: int | None = None
    warn_minutes: int = 30
    policy: str = ""

    def minutes(self, kind: str) -> int | None:
        value: int | None = getattr(self, kind)
        return value


@dataclass(frozen=True, slots=True)
class SlaTarget:
    kind: str  # first_response | next_response | resolution
    minutes: int | None
    state: str  # ok | warning | breached | met | missed | paused | none
    due: float | None = None  # None: no target, paused or nothing to measure
    left: float | None = None  # business seconds (negative: over)
    start: float | None = None

    def to_json(self) -> dict[str, Any]:
        due = dt.datetime.fromtimestamp(self.due, UTC).isoformat() if self.due is not None else None
        return {"minutes": self.minutes, "state": self.state, "due": due,
                "left_seconds": round(self.left) if self.left is not None else None}


@dataclass(frozen=True, slots=True)
class Sla:
    policy: str  # the [[sla.policy]] that applied ("" : the [sla] targets)
    targets: tuple[SlaTarget, ...]

    def target(self, kind: str) -> SlaTarget:
        return next(t for t in self.targets if t.kind == kind)

    def to_json(self) -> dict[str, Any]:
        return {"policy": self.policy or None, **{t.kind: t.to_json() for t in self.targets}}

    def most_urgent(self) -> SlaTarget | None:
        """The running target with the least business time left."""
        running = [t for t in self.targets if t.state in RUNNING]
        return min(running, key=lambda t: t.left if t.left is not None else math.inf, default=None)

    def next_due(self) -> SlaTarget | None:
        """The running target due first (the queue's "due 25m": desk.markers.sla_due)."""
        running = [t for t in self.targets if t.state in RUNNING and t.due is not None]
        return min(running, key=lambda t: t.due if t.due is not None else math.inf, default=None)


def targets_of(cfg: SlaConfig, policy: SlaPolicy | None) -> Targets:
    def pick(kind: str) -> int | None:
        mine: int | None = getattr(policy, f"{kind}_minutes") if policy is not None else None
        base: int | None = getattr(cfg, f"{kind}_minutes")
        return mine if mine is not None else base
    warn = policy.warn_minutes if policy is not None and policy.warn_minutes is not None else cfg.warn_minutes
    name = (policy.name or policy.query) if policy is not None else ""
    return Targets(pick("first_response"), pick("next_response"), pick("resolution"), warn, name)


def paused_spans(tl: Timeline, now: float) -> list[tuple[float, float]]:
    """When the resolution clock stood still: pending (to the next status change or customer
    message), closed (to a reopen) and snoozed spans, up to `now`, merged."""
    events: list[tuple[float, int, str]] = [(t.at, 0, "customer") for t in tl.turns if t.role == "customer"]
    events += [(s.at, 1, s.status) for s in tl.status_changes]
    events.sort()
    spans: list[tuple[float, float]] = []
    since: float | None = None  # a pause (pending or closed) began
    for at, kind, status in events:
        if kind == 0:
            if since is not None:
                spans.append((since, at))
                since = None
            continue
        if status in ("pending", "closed", "spam"):
            if since is None:
                since = at
        elif since is not None:
            spans.append((since, at))
            since = None
    if since is not None:
        spans.append((since, now))
    spans += [(s.start, now if s.end is None else min(s.end, now)) for s in tl.snoozes]
    merged: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _state(left: float, warn_seconds: float) -> str:
    return "breached" if left < 0 else "warning" if left <= warn_seconds else "ok"


def _response(kind: str, minutes: int | None, start: float | None, end: float | None, now: float,
              waiting: bool, clock: BusinessClock, warn: float) -> SlaTarget:
    if minutes is None or start is None:
        return SlaTarget(kind, minutes, "none")
    target = minutes * 60.0
    due = clock.add(start, target)
    if end is not None:
        left = target - (clock.elapsed(end) - clock.elapsed(start))
        return SlaTarget(kind, minutes, "met" if left >= 0 else "missed", due, left, start)
    left = target - (clock.elapsed(now) - clock.elapsed(start))
    if not waiting:
        return SlaTarget(kind, minutes, "paused", None, left, start)
    return SlaTarget(kind, minutes, _state(left, warn), due, left, start)


def _resolution(minutes: int | None, start: float | None, closed_at: float | None, now: float, paused_now: bool,
                pauses: list[tuple[float, float]], clock: BusinessClock, warn: float) -> SlaTarget:
    if minutes is None or start is None:
        return SlaTarget("resolution", minutes, "none")
    target = minutes * 60.0
    stop = closed_at if closed_at is not None else now
    # business seconds of the running segments of [start, stop]; the due time on the way
    used, due, cursor = 0.0, None, start
    segments: list[tuple[float, float]] = []
    for a, b in pauses:
        if b <= cursor or a >= stop:
            continue
        if a > cursor:
            segments.append((cursor, a))
        cursor = max(cursor, b)
    if cursor < stop:
        segments.append((cursor, stop))
    for a, b in segments:
        part = clock.elapsed(b) - clock.elapsed(a)
        if due is None and used + part >= target:
            due = clock.add(a, target - used)
        used += part
    left = target - used
    if closed_at is not None:
        return SlaTarget("resolution", minutes, "met" if left >= 0 else "missed", due, left, start)
    if paused_now:
        return SlaTarget("resolution", minutes, "paused", None, left, start)
    if due is None:
        due = clock.add(now, left)
    return SlaTarget("resolution", minutes, _state(left, warn), due, left, start)


def conversation_sla(tl: Timeline, targets: Targets, *, now: float, status: str, snoozed: bool,
                     clock: BusinessClock) -> Sla:
    """The due times and states of one conversation at `now`; `status` and `snoozed` are its
    state now (the timeline may lack history: mail-only stores)."""
    warn = targets.warn_minutes * 60.0
    turns = sorted((t for t in tl.turns if t.at <= now), key=lambda t: t.at)
    first_customer = next((t.at for t in turns if t.role == "customer"), None)
    first_answer = next((t.at for t in turns if t.role == "agent" and first_customer is not None
                         and t.at >= first_customer), None)
    # the wait open now after the first answer: the first customer message since the last reply
    open_wait: float | None = None
    if first_answer is not None:
        for t in turns:
            if t.at <= first_answer:
                continue
            if t.role == "customer" and open_wait is None:
                open_wait = t.at
            elif t.role == "agent":
                open_wait = None
    answering = status == "open"
    first = _response("first_response", targets.first_response, first_customer, first_answer, now,
                      answering, clock, warn)
    nxt = _response("next_response", targets.next_response, open_wait, None, now, answering, clock, warn)
    closed_at = None
    if status in ("closed", "spam"):
        closed_at = max((s.at for s in tl.status_changes if s.status in ("closed", "spam") and s.at <= now),
                        default=None)
    pauses = paused_spans(tl, now)
    if closed_at is not None:
        pauses = [(a, b) for a, b in pauses if a < closed_at]
    paused_now = snoozed or status in ("pending", "closed", "spam")
    resolution = _resolution(targets.resolution, first_customer, closed_at, now, paused_now, pauses, clock, warn)
    if status in ("closed", "spam") and closed_at is None:  # closed without history: not measured
        resolution = SlaTarget("resolution", targets.resolution, "none")
    return Sla(targets.policy, (first, nxt, resolution))


# -- the desk: policies matched on the store, timelines from it ----------------------------------

def parsed_policies(cfg: SlaConfig, path: object) -> list[tuple[SlaPolicy, Query]]:
    """Each policy with its query read; a query the grammar refuses is a config error."""
    out: list[tuple[SlaPolicy, Query]] = []
    for i, p in enumerate(cfg.policies):
        try:
            q = parse_query(p.query, rule_keys=True)
        except SearchError as e:
            raise ConfigError(f"{path}: key 'sla.policy[{i + 1}].if': {e}") from None
        if q.business_hours or q.headers:
            raise ConfigError(f"{path}: key 'sla.policy[{i + 1}].if': business-hours: and header: are about "
                              "one mail, not a conversation")
        out.append((p, q))
    return out


class _RememberingClock(BusinessClock):
    """The [priority] business clock for one desk_sla call, remembering what elapsed() said: the
    conversations of a queue all ask it of `now`, each of several targets, and of their first
    customer message for two (57k rows: ~270k calls, over half of them repeats)."""

    def __init__(self, cfg: PriorityConfig) -> None:
        super().__init__(cfg.business_hours, cfg.business_days, cfg.timezone, cfg.holidays)
        self._elapsed: dict[float, float] = {}

    def elapsed(self, t: float) -> float:
        found = self._elapsed.get(t)
        if found is None:
            found = self._elapsed[t] = super().elapsed(t)
        return found


def _has_store_terms(q: Query) -> bool:
    return bool(q.fts or q.tags or q.statuses or q.assignees or q.is_ or q.has or q.domains
                or q.before is not None or q.after is not None)


async def desk_sla(desk: Desk, rows: Mapping[int, Any], now: float) -> dict[int, Sla]:
    """The SLA of these conversations (rows: conversation_rows' rows by id)."""
    cfg = desk.config
    ids = sorted(rows)
    if not ids:
        return {}
    policy_of: dict[int, SlaPolicy] = {}
    for policy, q in parsed_policies(cfg.sla, cfg.path):
        left = [i for i in ids if i not in policy_of]
        found = set(await matching_ids(desk.store, q, left, int(now))) if _has_store_terms(q) else set(left)
        for i in left:
            vip = is_vip(rows[i]["customer_key"] or "", cfg.priority)
            if i in found and all(wanted == vip for wanted in q.vip):
                policy_of[i] = policy
    sources = await report_cache.sources(desk.store, ids)
    clock = _RememberingClock(cfg.priority)
    out: dict[int, Sla] = {}
    for i in ids:
        targets = targets_of(cfg.sla, policy_of.get(i))
        src = sources.get(i)
        if src is None:
            out[i] = Sla(targets.policy, tuple(SlaTarget(k, targets.minutes(k), "none") for k in KINDS))
            continue
        r = rows[i]
        snoozed = bool(r["snooze_reply"]) or bool(r["snooze_until"] and r["snooze_until"] > now)
        out[i] = conversation_sla(timeline(src), targets, now=now, status=r["status"], snoozed=snoozed,
                                  clock=clock)
    return out


NO_SLA = Sla("", tuple(SlaTarget(k, None, "none") for k in KINDS))  # no [sla] configured


# Conversations per desk_sla call when a whole list is asked for (the order by SLA, Breaching, the
# app's SLA watch): its work is Python on the event loop, so the app's keys and frames get their
# turn between parts (500 take ~20 ms; the 100k bench store's 57k open ones take ~4 s in all).
SLA_PART = 500


async def sla_parts(desk: Desk, ids: list[int], now: float | None = None
                    ) -> AsyncIterator[tuple[Mapping[int, Any], dict[int, Sla]]]:
    """(conversation rows, their SLA) of these conversations, part by part, all at one `now`
    (default: the desk's clock); nothing without [sla] targets."""
    if not desk.config.sla.configured():
        return
    now = desk.now() if now is None else now
    for start in range(0, len(ids), SLA_PART):
        rows = await queries.conversation_rows(desk.store, ids[start:start + SLA_PART])
        yield rows, await desk_sla(desk, rows, now)
        await asyncio.sleep(0)  # a key or a frame waiting goes first


async def slas_of(desk: Desk, ids: list[int]) -> dict[int, Sla]:
    """desk_sla of these conversations, read from the store; {} without [sla] targets."""
    out: dict[int, Sla] = {}
    async for _, slas in sla_parts(desk, ids):
        out.update(slas)
    return out


# -- the queue by SLA, and the search's sla: terms (pure: the Sla of each row is given) ----------

def sla_order(ids: Sequence[int], slas: Mapping[int, Sla]) -> list[int]:
    """`ids` (in priority order) by the target due first: breached first, the most over first;
    then warning and ok by due time; then the rows without a running target, in the order given."""
    def key(pair: tuple[int, int]) -> tuple[int, float, int]:
        position, cid = pair
        sla = slas.get(cid)
        target = sla.next_due() if sla is not None else None
        if target is None or target.due is None:
            return (2, 0.0, position)
        return (0 if target.state == "breached" else 1, target.due, position)
    return [cid for _, cid in sorted(enumerate(ids), key=key)]


def sla_matches(sla: Sla | None, wanted: Sequence[str]) -> bool:
    """The search's `sla:` terms (store.search.SLA_VALUES), all of them: `breached` and `warning`
    a running target in that state, `soon` one in either."""
    states = {t.state for t in sla.targets if t.state in RUNNING} if sla is not None else set()
    for term in wanted:
        want = {"soon": {"warning", "breached"}}.get(term, {term})
        if not states & want:
            return False
    return True
