"""The report over a period [since, until): headline numbers and breakdowns from cached rows.

Which conversation counts where (an item is counted when its own time is in the period):
- conversations, unanswered, mail_only_conversations, first_response: conversations whose first
  customer message is in the period (first_response: those answered; unanswered: not yet).
- customer_messages: customer messages sent in the period; agent_replies: replies sent in it.
- next_response: waits whose customer message (the first of the wait) is in the period and that
  an agent reply ended (the first wait of a conversation is its first response, not counted here).
- closed, resolution, resolution_net, replies_to_resolve, fcr: conversations whose closing (the
  close that left them closed) is in the period; resolution needs a first customer message.
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

import datetime as dt
from dataclasses import dataclass
from typing import Iterable
from zoneinfo import ZoneInfo

from tui_desk.desk.metrics.load import LocalTime
from tui_desk.desk.metrics.stats import Stats, stats
from tui_desk.desk.metrics.timeline import ConvMetrics

BREAKDOWNS = ("agent", "tag", "snippet", "domain", "day", "week")


@dataclass(frozen=True)
class Durations:
    calendar: Stats
    business: Stats | None  # None: the report was made without business hours

    def to_json(self) -> dict:
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
    resolution: Durations
    resolution_net: Durations
    replies_to_resolve: Stats
    fcr_eligible: int
    fcr_resolved: int
    fcr_rate: float | None
    reopens: int
    reopened_conversations: int

    def to_json(self) -> dict:
        return {"key": self.key, "conversations": self.conversations,
                "mail_only_conversations": self.mail_only_conversations, "unanswered": self.unanswered,
                "customer_messages": self.customer_messages, "agent_replies": self.agent_replies,
                "first_response": self.first_response.to_json(), "next_response": self.next_response.to_json(),
                "closed": self.closed, "resolution": self.resolution.to_json(),
                "resolution_net": self.resolution_net.to_json(),
                "replies_to_resolve": self.replies_to_resolve.to_json(),
                "fcr": {"eligible": self.fcr_eligible, "resolved": self.fcr_resolved, "rate": self.fcr_rate},
                "reopens": self.reopens, "reopened_conversations": self.reopened_conversations}


def flatten(d: dict, prefix: str = "") -> dict:
    """{"a": {"b": 1}} -> {"a_b": 1}: the CSV columns of a JSON group."""
    out = {}
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

    def to_json(self) -> dict:
        z = ZoneInfo(self.zone)
        return {"since": dt.datetime.fromtimestamp(self.since, z).isoformat(),
                "until": dt.datetime.fromtimestamp(self.until, z).isoformat(),
                "zone": self.zone, "business_hours": self.business_hours,
                "headline": self.headline.to_json(),
                "breakdowns": {by: [g.to_json() for g in groups] for by, groups in self.breakdowns.items()}}

    def csv_rows(self, by: str | None = None) -> list[list]:
        """Header + rows: the headline (key "all") or one row per group of breakdown `by`."""
        groups = [self.headline] if by is None else list(self.breakdowns[by])
        flat = [flatten(g.to_json()) for g in groups]
        header = list(flat[0]) if flat else list(flatten(self.headline.to_json()))
        if by is None:
            flat[0]["key"] = "all"
        return [header] + [[f[h] for h in header] for f in flat]


class _Acc:
    __slots__ = ("convs", "mail", "unanswered", "msgs", "replies", "frt", "frt_b", "next", "next_b", "closed",
                 "res", "res_b", "net", "net_b", "rtr", "eligible", "fcr", "reopens", "reopened")

    def __init__(self):
        self.convs = self.mail = self.unanswered = self.msgs = self.replies = 0
        self.closed = self.eligible = self.fcr = self.reopens = 0
        self.frt, self.frt_b, self.next, self.next_b = [], [], [], []
        self.res, self.res_b, self.net, self.net_b, self.rtr = [], [], [], [], []
        self.reopened = set()

    def add(self, kind: str, row: ConvMetrics, x) -> None:
        if kind == "conv":
            self.convs += 1
            self.mail += row.source == "mail"
            self.unanswered += row.frt is None
        elif kind == "msg":
            self.msgs += 1
        elif kind == "reply":
            self.replies += 1
        elif kind == "frt":
            self.frt.append(row.frt)
            if row.frt_business is not None:
                self.frt_b.append(row.frt_business)
        elif kind == "next":
            self.next.append(x.wait)
            if x.wait_business is not None:
                self.next_b.append(x.wait_business)
        elif kind == "close":
            self.closed += 1
            if row.resolution is not None:
                self.res.append(row.resolution)
                self.net.append(row.resolution_net)
                if row.resolution_business is not None:
                    self.res_b.append(row.resolution_business)
                    self.net_b.append(row.resolution_net_business)
            self.rtr.append(row.replies_to_resolve)
            if row.fcr is not None:
                self.eligible += 1
                self.fcr += row.fcr
        elif kind == "reopen":
            self.reopens += 1
            self.reopened.add(row.conv_id)

    def group(self, key: str | None, business: bool) -> Group:
        def durations(cal, bus):
            return Durations(stats(cal), stats(bus) if business else None)
        return Group(key, self.convs, self.mail, self.unanswered, self.msgs, self.replies,
                     durations(self.frt, self.frt_b), durations(self.next, self.next_b), self.closed,
                     durations(self.res, self.res_b), durations(self.net, self.net_b), stats(self.rtr),
                     self.eligible, self.fcr, self.fcr / self.eligible if self.eligible else None,
                     self.reopens, len(self.reopened))


def _items(row: ConvMetrics, since: float, until: float):
    """(kind, time, payload) of everything of this row that falls in the period."""
    first = row.first_customer_at
    out = []
    if first is not None and since <= first < until:
        out.append(("conv", first, None))
        if row.frt is not None:
            out.append(("frt", first, None))
    for at in row.customer_messages:
        if since <= at < until:
            out.append(("msg", at, None))
    for r in row.replies:
        if since <= r.at < until:
            out.append(("reply", r.at, r))
        w = r.waited_from
        if w is not None and w != first and since <= w < until:
            out.append(("next", w, r))
    if row.closed_at is not None and since <= row.closed_at < until:
        out.append(("close", row.closed_at, None))
    for r in row.reopens or ():
        if since <= r.at < until:
            out.append(("reopen", r.at, r))
    return out


def _keys(by: str, kind: str, at: float, x, row: ConvMetrics, local: LocalTime) -> Iterable[str | None]:
    if by == "day":
        return (local.day(at),)
    if by == "week":
        return (local.week(at),)
    if by == "tag":
        return row.tags or (None,)
    if by == "domain":
        return (row.customer_domain or None,)
    if by == "agent":
        if kind in ("reply", "next"):
            return (x.agent,)
        if kind == "frt":
            return (row.frt_agent,)
        if kind == "close":
            return (row.closed_by,)
        if kind == "reopen":
            return (x.closed_by,)
        return (row.assignee,)
    if by == "snippet":
        if kind in ("reply", "next"):
            return x.snippets or (None,)
        if kind == "frt":
            used = next((r.snippets for r in row.replies if r.waited_from == row.first_customer_at), ())
            return used or (None,)
        used = sorted({s for r in row.replies for s in r.snippets})
        return used or (None,)
    raise ValueError(f"breakdown is one of {', '.join(BREAKDOWNS)}, not {by!r}")


def _ts(t) -> float:
    return t.timestamp() if isinstance(t, dt.datetime) else float(t)


def report(rows: Iterable[ConvMetrics], since, until, *, zone: str = "UTC", by: Iterable[str] = (),
           business_hours: bool = False) -> Report:
    """The report over [since, until) (POSIX seconds or aware datetimes); `zone` is the desk's
    time zone for day/week keys; business_hours: give business-time statistics too (from rows
    computed with a business clock)."""
    since, until = _ts(since), _ts(until)
    by = tuple(by)
    for b in by:
        if b not in BREAKDOWNS:
            raise ValueError(f"breakdown is one of {', '.join(BREAKDOWNS)}, not {b!r}")
    local = LocalTime(zone)
    head = _Acc()
    groups: dict[str, dict[str | None, _Acc]] = {b: {} for b in by}
    for row in rows:
        items = _items(row, since, until)
        for kind, at, x in items:
            head.add(kind, row, x)
        for b in by:
            table = groups[b]
            for kind, at, x in items:
                for key in _keys(b, kind, at, x, row, local):
                    acc = table.get(key)
                    if acc is None:
                        acc = table[key] = _Acc()
                    acc.add(kind, row, x)
    order = lambda key: (key is None, key or "")  # noqa: E731
    return Report(since, until, local.name, business_hours, head.group(None, business_hours),
                  {b: tuple(groups[b][k].group(k, business_hours) for k in sorted(groups[b], key=order))
                   for b in by})


EXPORT_HEADER = ("conv_id", "source", "customer_domain", "tags", "assignee", "first_customer_at",
                 "customer_messages", "agent_replies", "first_response", "first_response_business",
                 "first_response_agent", "next_responses", "next_response_median", "unanswered_since",
                 "closed_at", "closed_by", "resolution", "resolution_business", "resolution_net",
                 "resolution_net_business", "replies_to_resolve", "reopens", "reopened_within_7d", "fcr")


def export_rows(rows: Iterable[ConvMetrics], zone: str = "UTC") -> list[list]:
    """Header + one row per conversation (`tui-desk export`): times as ISO 8601 in `zone`,
    durations in seconds, tags joined by ", ", empty cells for None."""
    z = ZoneInfo(zone)

    def when(t):
        return "" if t is None else dt.datetime.fromtimestamp(t, z).isoformat()

    def cell(v):
        return "" if v is None else v
    out: list[list] = [list(EXPORT_HEADER)]
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
