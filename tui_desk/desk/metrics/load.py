"""Load: customer messages by weekday x hour in the desk's time zone, busiest hours, staffing hint.

Heatmap cell (weekday 0 = Monday .. 6, hour 0..23, local time in `zone`): `messages` = customer
messages (not their auto-replies) sent in [since, until) in that local weekday and hour;
`hours` = how many times that local hour occurred in the period (a DST spring-forward day has no
02:00 hour, a fall-back day has two); `mean_load` = messages / hours (messages per occurrence).

Staffing hint: the team's measured reply rate = agent replies in the period / the number of
local clock hours (in the period) in which at least one agent reply was sent. A cell whose
mean_load exceeds that rate gets more customer messages per hour than the team answers in an
hour it is working (rate 0.0 when nobody replied): `over_capacity`, with `excess` =
mean_load - reply_rate. `busiest` = the `top` cells with messages by mean_load (ties: earlier
weekday, then earlier hour).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Sequence
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from tui_desk.desk.metrics.timeline import ConvMetrics

BUCKET = 900  # zone offsets are whole quarter hours and change on quarter-hour boundaries


class LocalTime:
    """POSIX time -> local (date, weekday, hour, offset) in one zone, memoised per quarter hour
    so a year of 100k conversations converts a few ten thousand instants, not millions."""

    def __init__(self, zone: str | ZoneInfo | dt.tzinfo):
        self.zone = ZoneInfo(zone) if isinstance(zone, str) else zone
        self.name = getattr(self.zone, "key", str(self.zone))
        self.memo: dict[int, tuple[dt.date, int, int, int, str, str]] = {}

    def __call__(self, t: float) -> tuple[dt.date, int, int, int, str, str]:
        """(date, weekday, hour, UTC offset seconds, ISO date, ISO week "YYYY-Www")."""
        b = int(t // BUCKET)
        hit = self.memo.get(b)
        if hit is None:
            local = dt.datetime.fromtimestamp(b * BUCKET, self.zone)
            date = local.date()
            year, week, _ = date.isocalendar()
            offset = local.utcoffset()
            assert offset is not None  # an aware datetime: its zone gives the offset (memo misses only)
            hit = (date, local.weekday(), local.hour, int(offset.total_seconds()),
                   date.isoformat(), f"{year}-W{week:02d}")
            self.memo[b] = hit
        return hit

    def day(self, t: float) -> str:
        return self(t)[4]

    def week(self, t: float) -> str:
        return self(t)[5]


@dataclass(frozen=True)
class Cell:
    weekday: int
    hour: int
    messages: int
    hours: int
    mean_load: float
    excess: float | None = None  # mean_load - reply_rate (staffing cells only)

    def to_json(self) -> dict[str, Any]:
        return {"weekday": self.weekday, "hour": self.hour, "messages": self.messages, "hours": self.hours,
                "mean_load": self.mean_load, "excess": self.excess}


@dataclass(frozen=True)
class Heatmap:
    zone: str
    messages: tuple[tuple[int, ...], ...]  # [weekday][hour]
    hours: tuple[tuple[int, ...], ...]

    def mean_load(self, weekday: int, hour: int) -> float:
        h = self.hours[weekday][hour]
        return self.messages[weekday][hour] / h if h else 0.0

    def cells(self) -> list[Cell]:
        return [Cell(d, h, self.messages[d][h], self.hours[d][h], self.mean_load(d, h))
                for d in range(7) for h in range(24)]

    def to_json(self) -> dict[str, Any]:
        return {"zone": self.zone, "messages": [list(r) for r in self.messages],
                "hours": [list(r) for r in self.hours],
                "mean_load": [[self.mean_load(d, h) for h in range(24)] for d in range(7)]}

    def csv_rows(self) -> list[list[Any]]:
        return [["weekday", "hour", "messages", "hours", "mean_load"]] + [
            [c.weekday, c.hour, c.messages, c.hours, c.mean_load] for c in self.cells()]


@dataclass(frozen=True)
class Staffing:
    replies: int
    reply_hours: int
    reply_rate: float  # replies per hour with at least one reply; 0.0 when nobody replied
    busiest: tuple[Cell, ...]
    over_capacity: tuple[Cell, ...]

    def to_json(self) -> dict[str, Any]:
        return {"replies": self.replies, "reply_hours": self.reply_hours, "reply_rate": self.reply_rate,
                "busiest": [c.to_json() for c in self.busiest],
                "over_capacity": [c.to_json() for c in self.over_capacity]}


def _local_hours(since: float, until: float, local: LocalTime) -> list[list[int]]:
    """How often each local weekday x hour occurs in [since, until): distinct local clock hours
    (date, hour, UTC offset) touched by the quarter hours of the period."""
    seen: set[tuple[dt.date, int, int, int]] = set()
    t = since
    while t < until:
        date, weekday, hour, offset = local(t)[:4]
        seen.add((date, hour, offset, weekday))
        t = (int(t // BUCKET) + 1) * BUCKET
    grid = [[0] * 24 for _ in range(7)]
    for _, hour, _, weekday in seen:
        grid[weekday][hour] += 1
    return grid


def heatmap(rows: Iterable[ConvMetrics], since: float, until: float, zone: str | ZoneInfo = "UTC",
            local: LocalTime | None = None) -> Heatmap:
    local = local or LocalTime(zone)
    grid = [[0] * 24 for _ in range(7)]
    for row in rows:
        if row.first_at is None or row.last_at is None or row.last_at < since or row.first_at >= until:
            continue
        for at in row.customer_messages:
            if since <= at < until:
                weekday, hour = local(at)[1:3]
                grid[weekday][hour] += 1
    hours = _local_hours(since, until, local)
    return Heatmap(local.name, tuple(map(tuple, grid)), tuple(map(tuple, hours)))


def staffing(rows: Iterable[ConvMetrics], since: float, until: float, zone: str | ZoneInfo = "UTC", top: int = 5,
             heat: Heatmap | None = None, local: LocalTime | None = None) -> Staffing:
    local = local or LocalTime(zone)
    seq: Sequence[ConvMetrics] = rows if isinstance(rows, (list, tuple)) else list(rows)
    heat = heat or heatmap(seq, since, until, local=local)
    replies = 0
    active: set[tuple[dt.date, int, int]] = set()
    for row in seq:
        if row.first_at is None or row.last_at is None or row.last_at < since or row.first_at >= until:
            continue
        for r in row.replies:
            if since <= r.at < until:
                replies += 1
                date, _, hour, offset = local(r.at)[:4]
                active.add((date, hour, offset))
    rate = replies / len(active) if active else 0.0
    cells = [c for c in heat.cells() if c.hours]
    top_cells = sorted((c for c in cells if c.messages), key=lambda c: (-c.mean_load, c.weekday, c.hour))[:top]
    over = tuple(Cell(c.weekday, c.hour, c.messages, c.hours, c.mean_load, c.mean_load - rate)
                 for c in cells if c.mean_load > rate)
    busiest = tuple(Cell(c.weekday, c.hour, c.messages, c.hours, c.mean_load, c.mean_load - rate)
                    for c in top_cells)
    return Staffing(replies, len(active), rate, busiest, over)
