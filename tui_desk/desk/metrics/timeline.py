"""One conversation's timeline in, its cached metrics row out (pure: no store, no IO).

`conversation_metrics(timeline, clock)` walks the timeline once and returns a `ConvMetrics`: a
small frozen row that the store can keep (`to_dict` / `from_dict`, JSON-safe) and that
`metrics.report` aggregates without touching a clock again. Business seconds are computed here,
so a row is valid for the business-hours config it was computed with (`METRICS_VERSION` and the
config are the cache key).

Times are POSIX seconds (floats). Equal times: turns come before status changes (a reply and
the close it came with, a customer mail and the reopen it caused, are ordered that way).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Collection, Iterable, NamedTuple, TypedDict, TypeVar

if TYPE_CHECKING:  # only the type: the metrics stay pure functions, no import of the clock at run time
    from tui_desk.desk.business_time import BusinessClock

METRICS_VERSION = 3  # 2: a customer's thank-you (Turn.thanks) reopens nothing; ConvMetrics.thanks;
# 3: nor ends a pending span
REOPEN_WINDOW = 7 * 86400  # FCR: a reopen within this many seconds of the close it undid

ROLES = ("customer", "agent", "note", "auto", "forward", "survey")
ANSWER = "agent"  # the only role that answers a customer; note/auto/forward/survey never do
CUSTOMER = "customer"  # a customer's own message; an out-of-office from them is role "auto"


@dataclass(frozen=True)
class Turn:
    """A message or entry in the conversation. role: customer | agent | note | auto | forward | survey.
    agent: who wrote it (agents' turns); snippets: the snippet names an agent reply used;
    thanks: a customer's mail that only thanks (desk.thanks decides, desk.report_data marks it)."""
    at: float
    role: str
    agent: str | None = None
    snippets: tuple[str, ...] = ()
    thanks: bool = False

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"role is one of {', '.join(ROLES)}, not {self.role!r}")


@dataclass(frozen=True)
class StatusChange:
    """The conversation's status became `status` (open | pending | closed | spam) at `at`."""
    at: float
    status: str
    agent: str | None = None


@dataclass(frozen=True)
class SnoozeSpan:
    """Snoozed from start to end; end None = still snoozed."""
    start: float
    end: float | None


@dataclass(frozen=True)
class Timeline:
    """Everything the metrics need about one conversation. has_history=False: mail only (no
    events), so status_changes/snoozes are unknown and resolution, FCR and reopens stay None."""
    conv_id: str
    customer_domain: str = ""
    tags: tuple[str, ...] = ()
    assignee: str | None = None
    turns: tuple[Turn, ...] = ()
    status_changes: tuple[StatusChange, ...] = ()
    snoozes: tuple[SnoozeSpan, ...] = ()
    has_history: bool = True


def merge_timelines(target: Timeline, *others: Timeline) -> Timeline:
    """Conversations merged into `target`: one timeline with all turns, status changes and snoozes
    in time order. conv_id, assignee and customer domain are the target's; tags are the union;
    it has history when any part has (the parts without history add their mail)."""
    parts = (target, *others)
    return Timeline(
        conv_id=target.conv_id, customer_domain=target.customer_domain,
        tags=tuple(sorted({t for p in parts for t in p.tags})), assignee=target.assignee,
        turns=tuple(sorted((t for p in parts for t in p.turns), key=lambda t: t.at)),
        status_changes=tuple(sorted((s for p in parts for s in p.status_changes), key=lambda s: s.at)),
        snoozes=tuple(sorted((s for p in parts for s in p.snoozes), key=lambda s: s.start)),
        has_history=any(p.has_history for p in parts))


K = TypeVar("K")


def undone(status_events: Iterable[tuple[K, dict[str, Any]]]) -> set[K]:
    """Of one conversation's status events as (key, data), oldest first: the keys of the changes
    an undo took back, and of those undos. An undo's event ("undo": true) takes back the latest
    change before it that is not taken back yet, when that one's `to` is the undo's `from`
    (else, its change not found, the undo stands as a change of its own)."""
    standing: list[tuple[K, dict[str, Any]]] = []
    out: set[K] = set()
    for key, data in status_events:
        if data.get("undo") and standing and standing[-1][1].get("to") == data.get("from"):
            out.update((standing.pop()[0], key))
        else:
            standing.append((key, data))
    return out


class Reply(NamedTuple):
    """(A NamedTuple, not a frozen dataclass: a year's cached rows hold ~300k of them, and a
    tuple is made from the cache ten times faster.) An agent reply. waited_from: the customer message whose wait it ended (None when nobody
    was waiting); wait / wait_business: that wait in calendar / business seconds."""
    at: float
    agent: str | None
    snippets: tuple[str, ...] = ()
    waited_from: float | None = None
    wait: float | None = None
    wait_business: float | None = None


class Reopen(NamedTuple):
    """(A NamedTuple, as Reply.) The conversation went back from closed to open at `at` (customer mail or status change);
    closed_at / closed_by: the close it undid."""
    at: float
    closed_at: float
    closed_by: str | None


class ConvMetrics(NamedTuple):
    """(A NamedTuple, as Reply: the reports read 100k of them back from the cache.) One conversation's metrics, computed once (see module docstring). Durations in seconds;
    `*_business` None when no business hours were given. `source` is "history" or "mail"; for
    "mail" the fields that need status events (closed_at .. fcr, reopens) are None."""
    conv_id: str
    source: str
    customer_domain: str
    tags: tuple[str, ...]
    assignee: str | None
    business: bool  # computed with a business clock
    first_customer_at: float | None
    customer_messages: tuple[float, ...]  # customer turns (not their auto-replies)
    replies: tuple[Reply, ...]
    frt: float | None
    frt_business: float | None
    frt_agent: str | None
    unanswered_since: float | None  # a customer wait no agent reply has ended yet
    closed_at: float | None  # the close that left the conversation closed
    closed_by: str | None
    resolution: float | None
    resolution_business: float | None
    resolution_net: float | None  # minus time snoozed or pending
    resolution_net_business: float | None
    replies_to_resolve: int | None
    reopens: tuple[Reopen, ...] | None
    reopened_within_7d: bool | None
    fcr: bool | None  # None: not eligible (not closed, no agent reply, or mail only)
    first_at: float | None = None  # the earliest / latest time kept in this row: a period that
    last_at: float | None = None  # misses [first_at, last_at] skips the row at once
    thanks: tuple[float, ...] = ()  # the customer messages (their times) that only thank

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(zip(self._fields, self))
        out["tags"] = list(self.tags)
        out["customer_messages"] = list(self.customer_messages)
        out["thanks"] = list(self.thanks)
        out["replies"] = [[r.at, r.agent, list(r.snippets), r.waited_from, r.wait, r.wait_business]
                          for r in self.replies]
        out["reopens"] = None if self.reopens is None else [[r.at, r.closed_at, r.closed_by] for r in self.reopens]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ConvMetrics:
        d = dict(d)
        d["tags"] = tuple(d["tags"])
        d["customer_messages"] = tuple(d["customer_messages"])
        d["thanks"] = tuple(d.get("thanks", ()))
        d["replies"] = tuple(Reply(a, g, tuple(s), w0, w, wb) for a, g, s, w0, w, wb in d["replies"])
        if d["reopens"] is not None:
            d["reopens"] = tuple(Reopen(*r) for r in d["reopens"])
        return cls(**d)


class _Common(TypedDict):
    """The ConvMetrics fields a mail-only and a history row compute the same way."""
    conv_id: str
    customer_domain: str
    tags: tuple[str, ...]
    assignee: str | None
    business: bool
    first_customer_at: float | None
    customer_messages: tuple[float, ...]
    replies: tuple[Reply, ...]
    frt: float | None
    frt_business: float | None
    frt_agent: str | None
    unanswered_since: float | None


class _Span:
    """Business seconds between two times; None without a clock."""

    def __init__(self, clock: BusinessClock | None) -> None:
        self.clock: BusinessClock | None = clock if clock is not None and not getattr(clock, "always", False) else None

    def __call__(self, a: float, b: float) -> float | None:
        if self.clock is None:
            return None
        return self.clock.elapsed(b) - self.clock.elapsed(a)


def merge_spans(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The spans' union: sorted, overlapping and touching ones merged, empty ones dropped."""
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def conversation_metrics(tl: Timeline, clock: BusinessClock | None = None) -> ConvMetrics:
    """The metrics of one timeline; `clock` a desk.business_time.BusinessClock or None."""
    span = _Span(clock)
    turns = sorted(tl.turns, key=lambda t: t.at)
    customer = tuple(t.at for t in turns if t.role == CUSTOMER)
    thanked = tuple(t.at for t in turns if t.role == CUSTOMER and t.thanks)
    first = customer[0] if customer else None

    # Waits: a customer message after the last agent reply starts one; the next agent reply ends it.
    replies: list[Reply] = []
    waiting: float | None = None
    frt: float | None = None
    frt_b: float | None = None
    frt_agent: str | None = None
    for t in turns:
        if t.role == CUSTOMER:
            if waiting is None:
                waiting = t.at
        elif t.role == ANSWER:
            if waiting is None:
                replies.append(Reply(t.at, t.agent, tuple(t.snippets)))
                continue
            wait, wait_b = t.at - waiting, span(waiting, t.at)
            replies.append(Reply(t.at, t.agent, tuple(t.snippets), waiting, wait, wait_b))
            if waiting == first:
                frt, frt_b, frt_agent = wait, wait_b, t.agent
            waiting = None

    times = [*customer, *(r.at for r in replies)]
    common: _Common = {"conv_id": tl.conv_id, "customer_domain": tl.customer_domain, "tags": tuple(tl.tags),
                       "assignee": tl.assignee, "business": span.clock is not None, "first_customer_at": first,
                       "customer_messages": customer, "replies": tuple(replies), "frt": frt, "frt_business": frt_b,
                       "frt_agent": frt_agent, "unanswered_since": waiting}
    if not tl.has_history:
        return ConvMetrics(source="mail", first_at=min(times, default=None), last_at=max(times, default=None),
                           thanks=thanked,
                           closed_at=None, closed_by=None, resolution=None,
                           resolution_business=None, resolution_net=None, resolution_net_business=None,
                           replies_to_resolve=None, reopens=None, reopened_within_7d=None, fcr=None, **common)

    # Status walk: turns first at equal times (key 0 before 1); a customer message has no item.
    events: list[tuple[float, int, StatusChange | None]] = [(t.at, 0, None) for t in turns if t.role == CUSTOMER]
    events += [(s.at, 1, s) for s in sorted(tl.status_changes, key=lambda s: s.at)]
    events.sort(key=lambda e: (e[0], e[1]))
    state = "open"
    close_at = 0.0  # read only while state is "closed", and the change to "closed" sets it
    close_by: str | None = None
    pending_from: float | None = None
    pending: list[tuple[float, float]] = []
    reopens: list[Reopen] = []
    for at, _kind, item in events:
        if item is None:  # a customer message: reopens a closed conversation, ends a pending wait
            if held_by_thanks(state, at, thanked):
                continue
            if state == "closed":
                reopens.append(Reopen(at, close_at, close_by))
                state = "open"
            if pending_from is not None:
                pending.append((pending_from, at))
                pending_from = None
            if state == "pending":
                state = "open"
            continue
        new = item.status
        if state == "closed" and new in ("open", "pending"):
            reopens.append(Reopen(at, close_at, close_by))
        if pending_from is not None and new != "pending":
            pending.append((pending_from, at))
            pending_from = None
        if new == "pending" and pending_from is None:
            pending_from = at
        if new == "closed" and state != "closed":
            close_at, close_by = at, item.agent
        state = new

    closed_at = close_at if state == "closed" else None
    closed_by = close_by if state == "closed" else None
    resolution: float | None = None
    resolution_b: float | None = None
    net: float | None = None
    net_b: float | None = None
    if closed_at is not None and first is not None and closed_at >= first:
        resolution, resolution_b = closed_at - first, span(first, closed_at)
        paused = pending + [(s.start, math.inf if s.end is None else s.end) for s in tl.snoozes]
        clipped = merge_spans([(max(a, first), min(b, closed_at)) for a, b in paused])
        net = resolution - sum(b - a for a, b in clipped)
        business = span.clock  # set exactly when resolution_b is: the same sums as span(a, b)
        if resolution_b is not None and business is not None:
            net_b = resolution_b - sum(business.elapsed(b) - business.elapsed(a) for a, b in clipped)
    rtr = sum(1 for r in replies if r.at <= closed_at) if closed_at is not None else None
    within = any(r.at - r.closed_at <= REOPEN_WINDOW for r in reopens)
    fcr = (rtr == 1 and not within) if rtr else None
    times += [r.at for r in reopens] + ([closed_at] if closed_at is not None else [])
    return ConvMetrics(source="history", first_at=min(times, default=None), last_at=max(times, default=None),
                       thanks=thanked,
                       closed_at=closed_at, closed_by=closed_by, resolution=resolution,
                       resolution_business=resolution_b, resolution_net=net, resolution_net_business=net_b,
                       replies_to_resolve=rtr, reopens=tuple(reopens), reopened_within_7d=within, fcr=fcr,
                       **common)


def held_by_thanks(state: str, at: float, thanked: Collection[float]) -> bool:
    """Whether the customer's mail at `at` leaves a conversation in `state` as it was: it only
    thanks (desk.thanks) and the matter is closed or pending (the queue's rule too,
    desk.priority.summarize; its history line, desk.history)."""
    return state in ("closed", "pending") and at in thanked


def asked_again(customer_messages: Iterable[float], thanks: Iterable[float], after: float) -> bool:
    """Whether the customer wrote after `after` for more than thanks: the rule a snippet's
    "solved" and the suggestions' best answer read, as FCR's reopen does (desk.thanks)."""
    thanked = set(thanks)
    return any(c > after and c not in thanked for c in customer_messages)
