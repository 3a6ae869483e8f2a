"""The report over a period [since, until): headline numbers and breakdowns from cached rows.

Which conversation counts where (an item is counted when its own time is in the period):
- conversations, unanswered, mail_only_conversations, first_response: conversations whose first
  customer message is in the period (first_response: those answered; unanswered: no agent reply
  yet and not closed now: the customers still waiting, as Help Scout and Zendesk count them).
- customer_messages: customer messages sent in the period; agent_replies: replies sent in it.
- next_response: waits whose customer message (the first of the wait) is in the period and that
  an agent reply ended (the first wait of a conversation is its first response, not counted here).
- closed, closed_without_reply, resolution, resolution_net, replies_to_resolve, fcr:
  conversations whose closing (the close that left them closed) is in the period; resolution
  needs a first customer message; closed_without_reply: no agent reply before that close;
  replies_to_resolve and fcr: only those an agent answered (a zero-reply close is in neither).
- reopens: reopens in the period; reopened_conversations: distinct conversations they reopened.

Breakdowns (`by`), the key of each item:
- agent: the agent of the reply for first_response, next_response and agent_replies; the agent
  who closed for closed/resolution/replies_to_resolve/fcr; the agent whose close was undone for
  reopens; the assignee for conversations/unanswered/customer_messages.
- tag, domain: the conversation's tags (one group per tag) / customer domain, for everything.
- snippet: replies that used the snippet (agent_replies; first/next response of the waits such
  a reply ended); the conversation-level numbers of conversations in which any reply used it.
- day, week: the item's own time as a local date / ISO week (YYYY-Www) in the report's zone.
A missing key (no assignee, no tag, no domain, no snippet) is the group with key null.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import math
from bisect import bisect_left
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Callable, Iterable, Iterator, Literal, Mapping, Sequence, cast
from zoneinfo import ZoneInfo

from tui_desk.desk.agent_names import AgentNames, agent_order
from tui_desk.desk.metrics.csat import NO_CSAT, Csat
from tui_desk.desk.metrics.load import BUCKET, LocalTime
from tui_desk.desk.metrics.stats import Stats, stats
from tui_desk.desk.metrics.timeline import ConvMetrics, Reopen, Reply

BREAKDOWNS = ("agent", "tag", "snippet", "domain", "day", "week")

# A fact is (time, payload, row) (see _facts): the payload is the Reply of kinds reply and next,
# the Reopen of kind reopen, None for the rest.
Fact = tuple[float, "Reply | Reopen | None", ConvMetrics]
ReplyFact = tuple[float, Reply, ConvMetrics]
ReopenFact = tuple[float, Reopen, ConvMetrics]
Facts = Mapping[str, Sequence[Fact]]  # kind -> its facts
Keys = tuple["str | None", ...]  # the keys of one fact in a breakdown (None: no key)
KeyFn = Callable[[Fact], Keys]


@dataclass(frozen=True)
class Durations:
    calendar: Stats
    business: Stats | None  # None: the report was made without business hours

    def to_json(self) -> dict[str, Any]:
        return {"calendar": self.calendar.to_json(),
                "business": None if self.business is None else self.business.to_json()}


@dataclass(frozen=True)
class Group:
    key: str | None
    conversations: int
    mail_only_conversations: int
    unanswered: int
    customer_messages: int
    agent_replies: int
    first_response: Durations
    next_response: Durations
    closed: int
    closed_without_reply: int
    resolution: Durations
    resolution_net: Durations
    replies_to_resolve: Stats
    fcr_eligible: int
    fcr_resolved: int
    fcr_rate: float | None
    reopens: int
    reopened_conversations: int

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "conversations": self.conversations,
                "mail_only_conversations": self.mail_only_conversations, "unanswered": self.unanswered,
                "customer_messages": self.customer_messages, "agent_replies": self.agent_replies,
                "first_response": self.first_response.to_json(), "next_response": self.next_response.to_json(),
                "closed": self.closed, "closed_without_reply": self.closed_without_reply,
                "resolution": self.resolution.to_json(),
                "resolution_net": self.resolution_net.to_json(),
                "replies_to_resolve": self.replies_to_resolve.to_json(),
                "fcr": {"eligible": self.fcr_eligible, "resolved": self.fcr_resolved, "rate": self.fcr_rate},
                "reopens": self.reopens, "reopened_conversations": self.reopened_conversations}


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a_b": 1}: the CSV columns of a JSON group."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}_"))
        elif v is None and k == "business":
            out.update({f"{prefix}{k}_{s}": None for s in ("count", "median", "p90", "mean")})
        else:
            out[f"{prefix}{k}"] = v
    return out


@dataclass(frozen=True)
class Report:
    since: float
    until: float
    zone: str
    business_hours: bool
    headline: Group
    breakdowns: dict[str, tuple[Group, ...]]
    csat: Csat = NO_CSAT  # the survey answers of the period (desk.metrics.csat; desk.reports adds them)

    def to_json(self) -> dict[str, Any]:
        z = ZoneInfo(self.zone)
        return {"since": dt.datetime.fromtimestamp(self.since, z).isoformat(),
                "until": dt.datetime.fromtimestamp(self.until, z).isoformat(),
                "zone": self.zone, "business_hours": self.business_hours,
                "headline": self.headline.to_json(),
                "breakdowns": {by: [g.to_json() for g in groups] for by, groups in self.breakdowns.items()},
                "csat": self.csat.to_json()}

    def csv_rows(self, by: str | None = None) -> list[list[Any]]:
        """Header + rows: the headline (key "all") or one row per group of breakdown `by`."""
        if by is not None and by not in self.breakdowns:
            raise ValueError(f"this report was made without the {by!r} breakdown")
        groups = [self.headline] if by is None else list(self.breakdowns[by])
        flat = [flatten(g.to_json()) for g in groups]
        header = list(flat[0]) if flat else list(flatten(self.headline.to_json()))
        if by is None:
            flat[0]["key"] = "all"
        return [header] + [[f[h] for h in header] for f in flat]


KINDS = ("conv", "msg", "reply", "frt", "next", "close", "reopen")


def _facts(rows: Iterable[ConvMetrics], since: float, until: float) -> dict[str, list[Fact]]:
    """Everything in the period, by kind, as (time, payload, row): conv/frt (the first customer
    message), msg (a customer message), reply and next (a Reply), close, reopen (a Reopen)."""
    conv: list[Fact] = []
    msg: list[Fact] = []
    reply: list[Fact] = []
    frt: list[Fact] = []
    nxt: list[Fact] = []
    close: list[Fact] = []
    reopen: list[Fact] = []
    for row in rows:
        if row.first_at is None or row.last_at is None or row.last_at < since or row.first_at >= until:
            continue
        first = row.first_customer_at
        if first is not None and since <= first < until:
            conv.append((first, None, row))
            if row.frt is not None:
                frt.append((first, None, row))
        for at in row.customer_messages:
            if since <= at < until:
                msg.append((at, None, row))
        for r in row.replies:
            if since <= r.at < until:
                reply.append((r.at, r, row))
            w = r.waited_from
            if w is not None and w != first and since <= w < until:
                nxt.append((w, r, row))
        closed = row.closed_at
        if closed is not None and since <= closed < until:
            close.append((closed, None, row))
        if row.reopens:
            for o in row.reopens:
                if since <= o.at < until:
                    reopen.append((o.at, o, row))
    return {"conv": conv, "msg": msg, "reply": reply, "frt": frt, "next": nxt, "close": close, "reopen": reopen}


def _group(key: str | None, f: Facts, business: bool) -> Group:
    conv, frt, close = f.get("conv", ()), f.get("frt", ()), f.get("close", ())
    nxt = cast("Sequence[ReplyFact]", f.get("next", ()))  # kind next carries its Reply (see _facts)
    resolved = [row for _, _, row in close if row.resolution is not None]
    reopen = f.get("reopen", ())
    # Each fact has the value it was picked for (see _facts, timeline): frt a first response, next
    # the wait its reply ended, resolved a resolution (and so a net one); a close its replies_to_resolve.
    return _made(
        key, business, len(conv), sum(1 for _, _, row in conv if row.source == "mail"),
        sum(1 for _, _, row in conv if row.frt is None and row.closed_at is None), len(f.get("msg", ())),
        len(f.get("reply", ())),
        [row.frt for _, _, row in frt], [row.frt_business for _, _, row in frt],
        [r.wait for _, r, _ in nxt], [r.wait_business for _, r, _ in nxt], len(close),
        sum(1 for _, _, row in close if not row.replies_to_resolve),
        [row.resolution for row in resolved], [row.resolution_business for row in resolved],
        [row.resolution_net for row in resolved], [row.resolution_net_business for row in resolved],
        [row.replies_to_resolve for _, _, row in close if row.replies_to_resolve], [row.fcr for _, _, row in close if row.fcr is not None],
        len(reopen), len({row.conv_id for _, _, row in reopen}))


def _made(key: str | None, business: bool, conversations: int, mail_only: int, unanswered: int,
          customer_messages: int, agent_replies: int, frt: list[Any], frt_business: list[Any], nxt: list[Any],
          nxt_business: list[Any], closed: int, closed_without_reply: int, resolution: list[Any], resolution_business: list[Any],
          net: list[Any], net_business: list[Any], replies_to_resolve: list[Any], fcr: list[bool], reopens: int,
          reopened: int) -> Group:
    """A Group from its counts and value lists (the order of a list's values does not matter)."""
    def durations(cal: list[float], bus: list[float | None]) -> Durations:
        return Durations(stats(cal), stats([v for v in bus if v is not None]) if business else None)
    return Group(
        key, conversations, mail_only, unanswered, customer_messages, agent_replies,
        durations(frt, frt_business), durations(nxt, nxt_business), closed, closed_without_reply,
        durations(resolution, resolution_business), durations(net, net_business), stats(replies_to_resolve),
        len(fcr), sum(fcr), sum(fcr) / len(fcr) if fcr else None, reopens, reopened)


# _headline reads a row by unpacking it, as ConvMetrics or as the same values in a plain tuple (the
# cache's encoding, desk.report_data: a year's headline without making 100k objects); replies as
# (at, agent, snippets, waited_from, wait, wait_business), reopens as (at, closed_at, closed_by).
_ROW_FIELDS = ("conv_id", "source", "customer_domain", "tags", "assignee", "business", "first_customer_at",
               "customer_messages", "replies", "frt", "frt_business", "frt_agent", "unanswered_since", "closed_at",
               "closed_by", "resolution", "resolution_business", "resolution_net", "resolution_net_business",
               "replies_to_resolve", "reopens", "reopened_within_7d", "fcr", "first_at", "last_at", "thanks")
if ConvMetrics._fields != _ROW_FIELDS or Reply._fields != ("at", "agent", "snippets", "waited_from", "wait",
                                                                  "wait_business"):
    raise ImportError("aggregate._headline unpacks ConvMetrics and Reply in their field order: update it")


def _headline(rows: Iterable[Sequence[Any]], since: float, until: float, business: bool) -> Group:
    """The same Group as _group(None, _facts(rows, since, until), business) - the same rules,
    item by item (tests/test_report_headline.py holds them to it) - gathered in one pass that
    keeps only the values: no facts, and each row can be dropped once read. A row wholly inside
    the period (first_at and last_at, its earliest and latest times, in it) has every item in it."""
    conversations = mail_only = unanswered = customer_messages = agent_replies = closed = reopens = 0
    closed_without_reply = 0
    frt: list[Any] = []
    frt_b: list[Any] = []
    nxt: list[Any] = []
    nxt_b: list[Any] = []
    res: list[Any] = []
    res_b: list[Any] = []
    net: list[Any] = []
    net_b: list[Any] = []
    to_resolve: list[Any] = []
    fcr: list[bool] = []
    reopened: set[Any] = set()
    for row in rows:
        (conv_id, source, _, _, _, _, first, messages, replies, first_response, first_response_b, _, _, closed_at, _,
         resolution, resolution_b, resolution_net, resolution_net_b, rtr, undone, _, resolved_first, first_at,
         last_at, _) = row
        if first_at is None or last_at is None or last_at < since or first_at >= until:
            continue
        inside = since <= first_at and last_at < until
        if first is not None and (inside or since <= first < until):  # kinds conv and frt
            conversations += 1
            if source == "mail":
                mail_only += 1
            if first_response is None:
                if closed_at is None:
                    unanswered += 1
            else:
                frt.append(first_response)
                frt_b.append(first_response_b)
        if inside:
            customer_messages += len(messages)  # kind msg
            agent_replies += len(replies)  # kind reply
            for _, _, _, w, wait, wait_b in replies:  # kind next
                if w is not None and w != first:
                    nxt.append(wait)
                    nxt_b.append(wait_b)
        else:
            for at in messages:
                if since <= at < until:
                    customer_messages += 1
            for at, _, _, w, wait, wait_b in replies:
                if since <= at < until:
                    agent_replies += 1
                if w is not None and w != first and since <= w < until:
                    nxt.append(wait)
                    nxt_b.append(wait_b)
        if closed_at is not None and (inside or since <= closed_at < until):  # kind close
            closed += 1
            if resolution is not None:
                res.append(resolution)
                res_b.append(resolution_b)
                net.append(resolution_net)
                net_b.append(resolution_net_b)
            if rtr:
                to_resolve.append(rtr)
            else:
                closed_without_reply += 1
            if resolved_first is not None:
                fcr.append(resolved_first)
        if undone:  # kind reopen
            n = len(undone) if inside else sum(1 for o in undone if since <= o[0] < until)
            if n:
                reopens += n
                reopened.add(conv_id)
    return _made(None, business, conversations, mail_only, unanswered, customer_messages, agent_replies, frt, frt_b,
                 nxt, nxt_b, closed, closed_without_reply, res, res_b, net, net_b, to_resolve, fcr, reopens,
                 len(reopened))


def _snippets_used(row: ConvMetrics) -> Keys:
    return tuple(sorted({s for r in row.replies for s in r.snippets})) or (None,)


def _of_replies(fn: Callable[[ReplyFact], Keys]) -> KeyFn:
    """A key function of kinds reply and next, whose facts carry their Reply (see _facts)."""
    return cast(KeyFn, fn)


def _of_reopens(fn: Callable[[ReopenFact], Keys]) -> KeyFn:
    """A key function of kind reopen, whose facts carry their Reopen (see _facts)."""
    return cast(KeyFn, fn)


def _key_fn(by: str, kind: str, local: LocalTime) -> KeyFn:
    """item (time, payload, row) -> its keys in breakdown `by` (see the module docstring);
    day and week are inlined in _split."""
    if by == "tag":
        return lambda item: item[2].tags or (None,)
    if by == "domain":
        return lambda item: (item[2].customer_domain or None,)
    if by == "agent":
        if kind in ("reply", "next"):
            return _of_replies(lambda item: (item[1].agent,))
        attr = {"frt": "frt_agent", "close": "closed_by"}.get(kind, "assignee")
        if kind == "reopen":
            return _of_reopens(lambda item: (item[1].closed_by,))
        return lambda item: (getattr(item[2], attr),)
    if by == "snippet":
        if kind in ("reply", "next"):
            return _of_replies(lambda item: item[1].snippets or (None,))
        if kind == "frt":
            return lambda item: next((r.snippets for r in item[2].replies
                                      if r.waited_from == item[2].first_customer_at), ()) or (None,)
        used: dict[int, Keys] = {}  # per row: a conversation has many items of these kinds

        def conversation_snippets(item: Fact) -> Keys:
            row = item[2]
            keys = used.get(id(row))
            if keys is None:
                keys = used[id(row)] = _snippets_used(row)
            return keys
        return conversation_snippets
    raise ValueError(f"breakdown is one of {', '.join(BREAKDOWNS)}, not {by!r}")


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """(desk.reports pauses it likewise while reading a year of cached rows and grouping their
    questions.) Aggregation allocates a few hundred thousand small acyclic tuples and lists; with a large
    heap around (a store's worth of rows) the cyclic collector's passes over it cost more than
    the work (measured: x2-x4 in bench/metrics_bench.py). Nothing made here forms a cycle."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _ts(t: float | dt.datetime) -> float:
    return t.timestamp() if isinstance(t, dt.datetime) else float(t)


def report(rows: Iterable[ConvMetrics], since: float | dt.datetime, until: float | dt.datetime, *, zone: str = "UTC", by: Iterable[str] = (),
           business_hours: bool = False, agents: Iterable[str] = ()) -> Report:
    """The report over [since, until) (POSIX seconds or aware datetimes); `zone` is the desk's
    time zone for day/week keys; business_hours: give business-time statistics too (from rows
    computed with a business clock); agents: the names the config spells (desk.agent_names:
    by agent, names equal but for case are one group)."""
    since, until = _ts(since), _ts(until)
    by = tuple(by)
    for b in by:
        if b not in BREAKDOWNS:
            raise ValueError(f"breakdown is one of {', '.join(BREAKDOWNS)}, not {b!r}")
    if not by:
        return headline_report(rows, since, until, zone=zone, business_hours=business_hours)
    local = LocalTime(zone)
    with gc_paused():
        return _report(rows, since, until, local, by, business_hours, tuple(agents))


def headline_report(rows: Iterable[Sequence[Any]], since: float | dt.datetime, until: float | dt.datetime, *,
                    zone: str = "UTC", business_hours: bool = False) -> Report:
    """report(rows, since, until, zone=zone, business_hours=business_hours) without breakdowns,
    in one pass over `rows`: ConvMetrics, or their values as plain tuples in ConvMetrics' field
    order (Reply and Reopen likewise), as the cache keeps them (desk.report_data.plain) - a
    year's headline reads its rows one at a time and keeps none."""
    since, until = _ts(since), _ts(until)
    with gc_paused():
        return Report(since, until, LocalTime(zone).name, business_hours,
                      _headline(rows, since, until, business_hours), {})


def _report(rows: Iterable[ConvMetrics], since: float, until: float, local: LocalTime, by: tuple[str, ...],
            business_hours: bool, agents: tuple[str, ...] = ()) -> Report:
    facts = _facts(rows, since, until)
    breakdowns: dict[str, tuple[Group, ...]] = {}
    for b in by:
        bounds = _time_bounds(b, since, until, local) if b in ("day", "week") else None
        per_kind = {kind: _split(b, kind, facts[kind], local, bounds) for kind in KINDS}
        keys = {k for split in per_kind.values() for k in split}
        order = sorted(keys, key=lambda k: (k is None, k or ""))
        if b == "agent":  # each fact has one agent: merging the spellings counts none twice
            spelling = AgentNames(agents, keys)
            per_kind = {kind: _merged(split, spelling) for kind, split in per_kind.items()}
            order = sorted({spelling(k) for k in keys}, key=agent_order)
        breakdowns[b] = tuple(_group(k, {kind: per_kind[kind].get(k, ()) for kind in KINDS}, business_hours)
                              for k in order)
    return Report(since, until, local.name, business_hours, _group(None, facts, business_hours), breakdowns)


def _merged(split: dict[str | None, list[Fact]], spelling: AgentNames) -> dict[str | None, list[Fact]]:
    out: dict[str | None, list[Fact]] = {}
    for key, items in split.items():
        out.setdefault(spelling(key), []).extend(items)
    return out


def _split(by: str, kind: str, items: Sequence[Fact], local: LocalTime,
           bounds: list[tuple[float, str]] | None) -> dict[str | None, list[Fact]]:
    """The items of one kind by their key(s) in breakdown `by` (the per-item hot loop of --by)."""
    out: dict[str | None, list[Fact]] = {}
    if bounds is not None:  # day / week: keys are runs of time - sort once, cut at the bounds
        items = sorted(items, key=itemgetter(0))
        times = [item[0] for item in items]
        ends: list[tuple[float, str | None]] = [*bounds[1:], (math.inf, None)]
        for (start, run_key), (end, _) in zip(bounds, ends):
            lo, hi = bisect_left(times, start), bisect_left(times, end)
            if hi > lo:
                out.setdefault(run_key, []).extend(items[lo:hi])
        return out
    keys_of = _key_fn(by, kind, local)
    for item in items:
        for key in keys_of(item):
            dest = out.get(key)
            if dest is None:
                dest = out[key] = []
            dest.append(item)
    return out


def _time_bounds(by: str, since: float, until: float, local: LocalTime) -> list[tuple[float, str]]:
    """[(start, key)] where the local day / ISO week changes in [since, until); keys change only
    on quarter-hour boundaries (see load.BUCKET)."""
    index: Literal[4, 5] = 4 if by == "day" else 5
    bounds = [(since, local(since)[index])]
    t = (int(since // BUCKET) + 1) * BUCKET
    while t < until:
        key = local(t)[index]
        if key != bounds[-1][1]:
            bounds.append((t, key))
        t += BUCKET
    return bounds


EXPORT_HEADER = ("conv_id", "source", "customer_domain", "tags", "assignee", "first_customer_at",
                 "customer_messages", "agent_replies", "first_response", "first_response_business",
                 "first_response_agent", "next_responses", "next_response_median", "unanswered_since",
                 "closed_at", "closed_by", "resolution", "resolution_business", "resolution_net",
                 "resolution_net_business", "replies_to_resolve", "reopens", "reopened_within_7d", "fcr")


def export_rows(rows: Iterable[ConvMetrics], zone: str = "UTC") -> list[list[Any]]:
    """Header + one row per conversation (`tui-desk export`): times as ISO 8601 in `zone`,
    durations in seconds, tags joined by ", ", empty cells for None."""
    z = ZoneInfo(zone)

    def when(t: float | None) -> str:
        return "" if t is None else dt.datetime.fromtimestamp(t, z).isoformat()

    def cell(v: object) -> object:
        return "" if v is None else v
    out: list[list[Any]] = [list(EXPORT_HEADER)]
    for r in rows:
        nexts = [p.wait for p in r.replies if p.wait is not None and p.waited_from != r.first_customer_at]
        out.append([r.conv_id, r.source, r.customer_domain, ", ".join(r.tags), cell(r.assignee),
                    when(r.first_customer_at), len(r.customer_messages), len(r.replies), cell(r.frt),
                    cell(r.frt_business), cell(r.frt_agent), len(nexts), cell(stats(nexts).median),
                    when(r.unanswered_since), when(r.closed_at), cell(r.closed_by), cell(r.resolution),
                    cell(r.resolution_business), cell(r.resolution_net), cell(r.resolution_net_business),
                    cell(r.replies_to_resolve), "" if r.reopens is None else len(r.reopens),
                    cell(r.reopened_within_7d), cell(r.fcr)])
    return out
