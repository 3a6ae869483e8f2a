"""Service levels (issue 16): each conversation's due times and states against the [sla] targets.

Targets ([sla] in config.toml, business minutes on [priority]'s calendar), the first
[[sla.policy]] whose `if` (the desk's search grammar; `vip:yes|no` too) finds the conversation
overriding them:
- first_response: from the first customer message to the first agent reply;
- next_response: from a customer message after an agent reply (the first of a row) to the next
  agent reply; only the wait open now is shown; a mail that only thanks (desk.thanks) starts none;
- resolution: from the first customer message to the close that left it closed, counting only
  the time it was open: pending (until the next status change or customer message but a
  thank-you), snoozed and closed-then-reopened time pause it.

States: `ok`, `warning` (business time left <= warn_minutes), `breached` (over, still running),
`met` (done in time), `missed` (done late), `paused` (resolution while pending / snoozed / closed,
or a response target while the conversation is not open: nobody waits on us), `none` (no
target, or nothing to measure yet). `left` is business seconds left now (negative: over), or at
the moment it was done; `due` the wall-clock moment the target runs out (None while paused).

The core (`conversation_sla`) is pure: a desk.metrics.Timeline, the state now and a clock.
Its plan (`plan_of`, `sla_now`) is the same answer with what does not move with the clock
worked out once and stored (store.sla_cache). `desk_sla(desk, rows)` reads the store for the
queue's rows and `show`: the plans, computing those of changed conversations.

Why this file is long: the core, the plan and the desk's reading are one idea in three parts;
the plan must say exactly what the core says (tests/test_sla_plans.py), and the two are kept
side by side so that a change to one is made to the other (other modules import their names
from here).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import marshal
import math
import sys
import weakref
from dataclasses import dataclass
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Mapping, Sequence, cast

from tui_desk.config import Config, ConfigError, PriorityConfig, SlaConfig, SlaPolicy
from tui_desk.desk.business_time import BusinessClock
from tui_desk.desk.metrics import Timeline, gc_paused
from tui_desk.desk.metrics.timeline import merge_spans
from tui_desk.desk.priority import is_vip
from tui_desk.desk.report_data import timeline
from tui_desk.store import queries, report_cache, sla_cache
from tui_desk.store.search import Query, SearchError, matching_ids, parse_query

if TYPE_CHECKING:
    from tui_desk.desk.core import DeskCore

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
    # a thank-you (desk.thanks) ends no pause: it leaves the conversation as it was
    events: list[tuple[float, int, str]] = [(t.at, 0, "customer") for t in tl.turns
                                            if t.role == "customer" and not t.thanks]
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
    return merge_spans(spans)


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


def _running_segments(pauses: list[tuple[float, float]], start: float, stop: float
                      ) -> tuple[list[tuple[float, float]], float]:
    """The segments from `start` on that the resolution clock ran before `stop`, between the
    pauses (paused_spans: merged, in order), and where the last of those pauses left it: from
    there it runs on (_resolution and plan_of count alike)."""
    cursor = start
    segments: list[tuple[float, float]] = []
    for a, b in pauses:
        if b <= cursor or a >= stop:
            continue
        if a > cursor:
            segments.append((cursor, a))
        cursor = max(cursor, b)
    return segments, cursor


def _resolution(minutes: int | None, start: float | None, closed_at: float | None, now: float, paused_now: bool,
                pauses: list[tuple[float, float]], clock: BusinessClock, warn: float) -> SlaTarget:
    if minutes is None or start is None:
        return SlaTarget("resolution", minutes, "none")
    target = minutes * 60.0
    stop = closed_at if closed_at is not None else now
    # business seconds of the running segments of [start, stop]; the due time on the way
    used, due = 0.0, None
    segments, cursor = _running_segments(pauses, start, stop)
    if cursor < stop:
        segments.append((cursor, stop))
    running_since: tuple[float, float] | None = None  # the segment running to now: (its start, used before it)
    for a, b in segments:
        part = clock.elapsed(b) - clock.elapsed(a)
        if due is None and used + part >= target:
            due = clock.add(a, target - used)
        if closed_at is None and b == stop:
            running_since = (a, used)
        used += part
    left = target - used
    if closed_at is not None:
        return SlaTarget("resolution", minutes, "met" if left >= 0 else "missed", due, left, start)
    if paused_now:
        return SlaTarget("resolution", minutes, "paused", None, left, start)
    if due is None:
        # the clock has run since running_since's start: the moment it reaches the target is
        # that of clock.add(now, left), counted from there so that it does not depend on `now`
        # (the cached plans keep it: plan_of)
        due = clock.add(now, left) if running_since is None else clock.add(running_since[0], target - running_since[1])
    return SlaTarget("resolution", minutes, _state(left, warn), due, left, start)


def _waits(tl: Timeline, now: float) -> tuple[float | None, float | None, float | None]:
    """(the first customer message, the first agent reply after it, the wait open now after
    that: the first customer message since the last reply, a thank-you not counted), of the turns
    up to `now`."""
    turns = sorted((t for t in tl.turns if t.at <= now), key=lambda t: t.at)
    first_customer = next((t.at for t in turns if t.role == "customer"), None)
    first_answer = next((t.at for t in turns if t.role == "agent" and first_customer is not None
                         and t.at >= first_customer), None)
    open_wait: float | None = None
    if first_answer is not None:
        for t in turns:
            if t.at <= first_answer:
                continue
            if t.role == "customer" and open_wait is None and not t.thanks:  # a thank-you asks nothing
                open_wait = t.at
            elif t.role == "agent":
                open_wait = None
    return first_customer, first_answer, open_wait


def conversation_sla(tl: Timeline, targets: Targets, *, now: float, status: str, snoozed: bool,
                     clock: BusinessClock) -> Sla:
    """The due times and states of one conversation at `now`; `status` and `snoozed` are its
    state now (the timeline may lack history: mail-only stores)."""
    warn = targets.warn_minutes * 60.0
    first_customer, first_answer, open_wait = _waits(tl, now)
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


# -- plans: what a conversation's SLA is made of apart from the clock ---------------------------
#
# A running target's due moment depends on the conversation (its mail, status and snooze
# history, the policy it matched) and the config, not on `now`; so does a done one's state. A
# plan keeps them with the business time of their marks (BusinessClock.elapsed), and the SLA at
# `now` is then a subtraction per target (`sla_of_plan`): the store keeps plans
# (store.sla_cache), `desk_sla` computes only those of conversations that changed. A plan holds
# for every `now` after its horizon (the conversation's last turn, status change, snooze start
# or end); before it (mail dated ahead, a snooze still to end) the SLA is worked out from the
# timeline. Encoded (marshal) as plain tuples:
#   (targets key, horizon, first customer message, first response, next response,
#    resolution if closed, resolution if not)
# a response: None (no target or nothing to measure) or (start, elapsed(start), due, state,
#   left) with state and left None while it runs; resolution if closed: None (not measured) or
#   (state, due, left); if not: None or (business seconds used up to the last pause's end,
#   due if reached by then, elapsed(that end), due counted from it), the last two None while a
#   pause (pending, closed, snoozed) has not ended.

PLAN_VERSION = 2  # of plan_of's encoding and meaning: part of the store's plans' key (plans_key)
# (2: a thank-you starts no wait and ends no pause)
_EVER = math.inf


def _targets_key(targets: Targets) -> tuple[int | None, int | None, int | None, int, str]:
    return (targets.first_response, targets.next_response, targets.resolution, targets.warn_minutes, targets.policy)


def _response_plan(minutes: int | None, start: float | None, end: float | None, clock: BusinessClock
                   ) -> tuple[float, float, float, str | None, float | None] | None:
    if minutes is None or start is None:
        return None
    target = minutes * 60.0
    began = clock.elapsed(start)
    due = clock.add(start, target)
    if end is None:
        return (start, began, due, None, None)
    left = target - (clock.elapsed(end) - began)
    return (start, began, due, "met" if left >= 0 else "missed", left)


def plan_of(tl: Timeline, targets: Targets, clock: BusinessClock) -> tuple[Any, ...]:
    """The conversation's plan (see above): conversation_sla at any `now` after its horizon,
    given the status and snooze then, is sla_of_plan(plan, ...)."""
    times = [t.at for t in tl.turns] + [s.at for s in tl.status_changes]
    times += [s.start for s in tl.snoozes] + [s.end for s in tl.snoozes if s.end is not None]
    horizon = max(times, default=-_EVER)
    first_customer, first_answer, open_wait = _waits(tl, _EVER)
    first = _response_plan(targets.first_response, first_customer, first_answer, clock)
    nxt = _response_plan(targets.next_response, open_wait, None, clock)
    minutes = targets.resolution
    if minutes is None or first_customer is None:
        return (_targets_key(targets), horizon, first_customer, first, nxt, None, None)
    pauses = paused_spans(tl, _EVER)  # the pauses not ended yet end at "now": here, never
    closed = None
    closed_at = max((s.at for s in tl.status_changes if s.status in ("closed", "spam")), default=None)
    if closed_at is not None:
        done = _resolution(minutes, first_customer, closed_at, _EVER, True, [(a, b) for a, b in pauses if a < closed_at],
                           clock, targets.warn_minutes * 60.0)
        closed = (done.state, done.due, done.left)
    # not closed: the running segments up to the last pause's end, as _resolution counts them
    target = minutes * 60.0
    used, due = 0.0, None
    segments, cursor = _running_segments(pauses, first_customer, _EVER)
    for a, b in segments:
        part = clock.elapsed(b) - clock.elapsed(a)
        if due is None and used + part >= target:
            due = clock.add(a, target - used)
        used += part
    if cursor == _EVER:
        opened: tuple[float, float | None, float | None, float | None] = (used, due, None, None)
    else:
        opened = (used, due, clock.elapsed(cursor), clock.add(cursor, target - used) if due is None else None)
    return (_targets_key(targets), horizon, first_customer, first, nxt, closed, opened)


# SlaTarget and Sla made with their slots set straight through the slots' descriptors: twice as
# fast as the frozen dataclass' __init__ (object.__setattr__ per field), the same objects.
# sla_now makes ~150k of them for the 57.7k-row queue at each look.
_new = object.__new__
_set_kind, _set_minutes, _set_state, _set_due, _set_left, _set_start = (
    getattr(SlaTarget, f.name).__set__ for f in dataclasses.fields(SlaTarget))
_set_policy, _set_targets = (getattr(Sla, f.name).__set__ for f in dataclasses.fields(Sla))


def _target(kind: str, minutes: int | None, state: str, due: float | None, left: float | None,
            start: float | None) -> SlaTarget:
    o: SlaTarget = _new(SlaTarget)
    _set_kind(o, kind)
    _set_minutes(o, minutes)
    _set_state(o, state)
    _set_due(o, due)
    _set_left(o, left)
    _set_start(o, start)
    return o


def _sla(policy: str, targets: tuple[SlaTarget, ...]) -> Sla:
    o: Sla = _new(Sla)
    _set_policy(o, policy)
    _set_targets(o, targets)
    return o


def _prepared(plan: tuple[Any, ...]) -> tuple[Any, ...]:
    """The plan with what does not move with the clock made once: (targets key, horizon, policy,
    warn seconds, first response, next response, resolution if closed, resolution if not), each
    target an SlaTarget when it is one whatever the clock (none, met, missed), else a tuple of
    what sla_now needs: (kind, minutes, target seconds, elapsed(start), due, start) for a
    response, (kind, minutes, target seconds, used, due, pause end, due after, start) for the
    resolution."""
    key, horizon, first_customer, first, nxt, closed, opened = plan
    first_minutes, next_minutes, minutes, warn_minutes, policy = key

    def response(kind: str, minutes: int | None, p: tuple[Any, ...] | None) -> Any:
        if p is None or minutes is None:
            return _target(kind, minutes, "none", None, None, None)
        start, began, due, done, left = p
        if done is not None:
            return _target(kind, minutes, done, due, left, start)
        return (kind, minutes, minutes * 60.0, began, due, start)
    nothing = _target("resolution", minutes, "none", None, None, None)
    if_closed = nothing
    if minutes is not None and closed is not None:
        state, due, left = closed
        if_closed = _target("resolution", minutes, state, due, left, first_customer)
    if_not = nothing if minutes is None or opened is None else ("resolution", minutes, minutes * 60.0, *opened,
                                                                 first_customer)
    return (key, horizon, policy, warn_minutes * 60.0, response("first_response", first_minutes, first),
            response("next_response", next_minutes, nxt), if_closed, if_not)


def _running(p: Any, now_elapsed: float, answering: bool, warn: float) -> SlaTarget:
    if type(p) is not tuple:
        return cast(SlaTarget, p)
    kind, minutes, target, began, due, start = p
    left = target - (now_elapsed - began)
    if not answering:
        return _target(kind, minutes, "paused", None, left, start)
    return _target(kind, minutes, "breached" if left < 0 else "warning" if left <= warn else "ok", due, left, start)


def sla_now(prepared: tuple[Any, ...], now: float, now_elapsed: float, status: str, snoozed: bool,
            clock: BusinessClock) -> Sla:
    """The SLA at `now`, after the plan's horizon (now_elapsed: clock.elapsed(now)), of a
    _prepared plan."""
    _, _, policy, warn, first, nxt, if_closed, if_not = prepared
    answering = status == "open"
    if status == "closed" or status == "spam":
        resolution = if_closed
    elif type(if_not) is not tuple:
        resolution = if_not
    else:
        kind, minutes, target, used, due, pause_end, due_after, start = if_not
        if pause_end is not None:
            used = used + (now_elapsed - pause_end)
        left = target - used
        if snoozed or status == "pending":
            resolution = _target(kind, minutes, "paused", None, left, start)
        else:
            if due is None:
                due = due_after if pause_end is not None else clock.add(now, left)
            resolution = _target(kind, minutes, "breached" if left < 0 else "warning" if left <= warn else "ok",
                                 due, left, start)
    return _sla(policy, (_running(first, now_elapsed, answering, warn), _running(nxt, now_elapsed, answering, warn),
                         resolution))


def sla_of_plan(plan: tuple[Any, ...], *, now: float, now_elapsed: float, status: str, snoozed: bool,
                clock: BusinessClock) -> Sla:
    """conversation_sla at `now` (after the plan's horizon; now_elapsed: clock.elapsed(now)),
    from the plan (made with the targets it names)."""
    return sla_now(_prepared(plan), now, now_elapsed, status, snoozed, clock)


# -- the desk: policies matched on the store, plans and timelines from it ------------------------

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


_PLANS_KEY = "sla_plans_key"
# the plans read before, ready (_prepared) by conversation, with the bytes they came from: per
# store, while it is open (a changed plan has other bytes)
_MEMO: weakref.WeakKeyDictionary[object, dict[int, tuple[bytes, tuple[Any, ...]]]] = weakref.WeakKeyDictionary()
INLINE_PLANS = 200  # more plans to compute than this: on a thread, the app's loop going on meanwhile


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


async def _policies(desk: DeskCore, rows: Mapping[int, Any], ids: list[int], now: float) -> dict[int, SlaPolicy]:
    """The [[sla.policy]] each conversation matches (the first that does; none: not in it)."""
    cfg = desk.config
    policy_of: dict[int, SlaPolicy] = {}
    left = ids
    vips: dict[str, bool] = {}  # customer -> is_vip (customers have many conversations)
    for policy, q in parsed_policies(cfg.sla, cfg.path):
        found = set(await matching_ids(desk.store, q, left, int(now))) if q.store_terms() else None
        wanted = set(q.vip)
        if len(wanted) > 1:  # vip:yes and vip:no: nothing is both
            continue
        for i in left:
            if found is not None and i not in found:
                continue
            if wanted:
                key = rows[i]["customer_key"] or ""
                vip = vips.get(key)
                if vip is None:
                    vip = vips[key] = is_vip(key, cfg.priority)
                if vip not in wanted:
                    continue
            policy_of[i] = policy
        left = [i for i in left if i not in policy_of]
    return policy_of


def plans_key(desk: DeskCore) -> str:
    """What every stored plan depends on beyond its conversation: plan_of's version, the Python
    (marshal), the [sla] targets and policies, the business calendar."""
    p = desk.config.priority
    return repr((PLAN_VERSION, sys.version_info[:2], desk.config.sla, p.business_hours, p.business_days,
                 sorted(p.holidays), p.timezone or str(dt.datetime.now().astimezone().tzinfo)))


def _computed_plans(sources: Mapping[int, report_cache.ConversationSource], targets: Mapping[int, Targets],
                    clock: BusinessClock) -> dict[int, tuple[Timeline, tuple[Any, ...]]]:
    return {i: (tl, plan_of(tl, targets[i], clock)) for i, tl in ((i, timeline(src)) for i, src in sources.items())}


async def desk_sla(desk: DeskCore, rows: Mapping[int, Any], now: float) -> dict[int, Sla]:
    """The SLA of these conversations (rows: conversation_rows' rows by id): from their stored
    plans, the plans of conversations changed since computed (on a thread: the app's loop goes on)
    and stored; from the timeline where `now` is before a plan's horizon."""
    cfg = desk.config
    ids = sorted(rows)
    if not ids:
        return {}
    policy_of = await _policies(desk, rows, ids, now)
    store = desk.store
    # called inside a caller's transaction (Store.transaction is not re-entrant): plans are
    # computed, used and not kept
    keeping = not store.db.in_transaction
    stored, stale = await sla_cache.read(store, ids)
    if await store.get_meta(_PLANS_KEY) != plans_key(desk):
        stale.update(dict.fromkeys(stored))
        stored = {}
        if keeping:
            await sla_cache.invalidate_all(store)
            await store.set_meta(_PLANS_KEY, plans_key(desk))
    clock = _RememberingClock(cfg.priority)
    now_elapsed = clock.elapsed(now)
    memo = _MEMO.setdefault(store, {})
    made_targets = {id(p): targets_of(cfg.sla, p) for p in [None, *policy_of.values()]}
    keys = {k: _targets_key(t) for k, t in made_targets.items()}
    default_key = keys[id(None)]
    prepared: dict[int, tuple[Any, ...]] = {}
    with gc_paused():  # (as below)
        for i, data in stored.items():
            known = memo.get(i)
            if known is not None and known[0] == data:
                ready = known[1]
            else:
                ready = _prepared(marshal.loads(data))
                memo[i] = (data, ready)
            policy = policy_of.get(i)
            if ready[0] == (default_key if policy is None else keys[id(policy)]):
                prepared[i] = ready
            else:
                stale[i] = None  # made for another policy: the conversation's terms changed
    targets = {i: made_targets[id(policy_of.get(i))] for i in stale}
    timelines: dict[int, Timeline] = {}
    if stale:
        sources = await report_cache.sources(store, stale)
        if len(sources) > INLINE_PLANS:
            made_plans = await asyncio.to_thread(_computed_plans, sources, targets, clock)
        else:
            made_plans = _computed_plans(sources, targets, clock)
        saved = [(i, marshal.dumps(plan)) for i, (_, plan) in made_plans.items()]
        if keeping:
            await sla_cache.save(store, saved, [(i, seq) for i, seq in stale.items() if seq is not None])
        for i, data in saved:
            timelines[i] = made_plans[i][0]
            prepared[i] = _prepared(made_plans[i][1])
            memo[i] = (data, prepared[i])
    # few: mail dated ahead, a snooze still to end
    ahead = [i for i, ready in prepared.items() if now <= ready[1] and i not in timelines]
    if ahead:
        timelines.update((i, timeline(src)) for i, src in (await report_cache.sources(store, ahead)).items())
    with gc_paused():  # ~200k small acyclic objects made beside the plans kept: the collector's passes cost more
        return _slas_now(ids, rows, prepared, timelines, cfg, policy_of, now, now_elapsed, clock)


def _slas_now(ids: list[int], rows: Mapping[int, Any], prepared: Mapping[int, tuple[Any, ...]],
              timelines: Mapping[int, Timeline], desk_cfg: Config, policy_of: Mapping[int, SlaPolicy], now: float,
              now_elapsed: float, clock: BusinessClock) -> dict[int, Sla]:
    out: dict[int, Sla] = {}
    for i in ids:
        ready = prepared.get(i)
        r = rows[i]
        if ready is not None and now > ready[1]:
            until = r["snooze_until"]
            out[i] = sla_now(ready, now, now_elapsed, r["status"], bool(r["snooze_reply"]) or bool(until and until > now),
                             clock)
            continue
        tl = timelines.get(i)
        if ready is None or tl is None:  # no such conversation (any more)
            t = targets_of(desk_cfg.sla, policy_of.get(i))
            out[i] = Sla(t.policy, tuple(SlaTarget(k, t.minutes(k), "none") for k in KINDS))
            continue
        snoozed = bool(r["snooze_reply"]) or bool(r["snooze_until"] and r["snooze_until"] > now)
        out[i] = conversation_sla(tl, targets_of(desk_cfg.sla, policy_of.get(i)), now=now, status=r["status"],
                                  snoozed=snoozed, clock=clock)
    return out


NO_SLA = Sla("", tuple(SlaTarget(k, None, "none") for k in KINDS))  # no [sla] configured


# Conversations per desk_sla call when a whole list is asked for (the order by SLA, Breaching, the
# app's SLA watch): its work is Python on the event loop, so the app's keys and frames get their
# turn between parts. From the stored plans 2,000 take ~30 ms with their rows (the 100k bench
# store's 57.7k open ones ~1 s CPU in parts, ~0.7 s in one: a key would wait that long); plans
# to compute go to a thread.
SLA_PART = 2000


async def sla_parts(desk: DeskCore, ids: list[int], now: float | None = None
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


async def slas_of(desk: DeskCore, ids: list[int]) -> dict[int, Sla]:
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
