"""Business time: how much of a span fell inside working hours, minus weekends and holidays.

`elapsed(t)` counts business seconds from a fixed origin to `t`. It only ever grows, so waiting
time is `elapsed(now) - elapsed(since)` and a rank built from `elapsed(since)` keeps its order
as the clock runs (see desk.priority).

A working day has one interval ("09:00-17:00") or several ("09:00-12:00", "13:00-17:00"); times
of day are the desk zone's wall clock. `add(t, seconds)` goes the other way: the wall-clock
moment at which `seconds` business seconds have passed since `t` (due times, expected answers);
`next_open(t)` is `add(t, 0)`: `t` itself while the clock runs, else the next opening.
"""

from __future__ import annotations

import bisect
import datetime as dt
from typing import TYPE_CHECKING, Sequence, Union
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from tui_desk.config import PriorityConfig

ORIGIN = dt.date(2000, 1, 3)  # a Monday
SEARCH_DAYS = 3660  # add() gives up after ten years of days without an opening (all holidays)

Interval = tuple[dt.time, dt.time]
# one interval (the [priority] single form) or several, in any order, not overlapping
Hours = Union[Interval, Sequence[Interval]]


def intervals_of(hours: Hours) -> tuple[tuple[int, int], ...]:
    """(open, close) seconds of the day, sorted: one (start, end) pair or a sequence of them."""
    first, second = hours[0], hours[1] if len(hours) > 1 else None
    if isinstance(first, dt.time) and isinstance(second, dt.time):
        pairs: list[Interval] = [(first, second)]
    else:
        pairs = [(a, b) for a, b in (p for p in hours if isinstance(p, tuple))]
    out = sorted((a.hour * 3600 + a.minute * 60 + a.second, b.hour * 3600 + b.minute * 60 + b.second)
                 for a, b in pairs)
    for (_, close), (start, _) in zip(out, out[1:]):
        if start < close:
            raise ValueError("business hours intervals overlap")
    return tuple(out)


class BusinessClock:
    def __init__(self, hours: Hours | None = None, days: tuple[int, ...] = (0, 1, 2, 3, 4),
                 zone: str | None = None, holidays: tuple[dt.date, ...] = ()):
        self.always = not hours  # no business hours configured: every second counts
        self.zone = ZoneInfo(zone) if zone else None
        self.intervals = intervals_of(hours) if hours else ((0, 86400),)
        self.open, self.close = self.intervals[0][0], self.intervals[-1][1]
        self.day_len = sum(b - a for a, b in self.intervals)
        self.days = frozenset(days)
        self.holidays = sorted(h for h in set(holidays) if h.weekday() in self.days)

    def _local(self, t: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(t, self.zone) if self.zone else dt.datetime.fromtimestamp(t).astimezone()

    def elapsed(self, t: float) -> float:
        if self.always:
            return t
        local = self._local(t)
        day = local.date()
        n = (day - ORIGIN).days
        weeks, rest = divmod(n, 7)
        business_days = weeks * len(self.days) + sum(1 for i in range(rest) if i in self.days)
        business_days -= bisect.bisect_left(self.holidays, day) - bisect.bisect_left(self.holidays, ORIGIN)
        total: float = business_days * self.day_len
        if self.is_working_day(day):
            seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
            total += sum(min(max(seconds - a, 0), b - a) for a, b in self.intervals)
        return float(total)

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() in self.days and not self._holiday(day)

    def running(self, t: float) -> bool:
        """Whether `t` is inside working hours (the clock runs)."""
        return self.always or self.next_open(t) == t

    def next_open(self, t: float) -> float:
        """`t` while the clock runs, else the next moment it starts again."""
        return self.add(t, 0)

    def add(self, t: float, seconds: float) -> float:
        """The first moment u >= t (u > t when seconds > 0) with elapsed(u) - elapsed(t) == seconds,
        and the clock running at u when seconds is 0."""
        if self.always:
            return t + seconds
        local = self._local(t)
        day = local.date()
        now_s = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        left = max(0.0, seconds)
        for i in range(SEARCH_DAYS):
            if self.is_working_day(day):
                for a, b in self.intervals:
                    start = max(a, now_s) if i == 0 else a
                    if start >= b:
                        continue
                    if left <= b - start:
                        if i == 0 and start == now_s and left == 0:
                            return t
                        return self._wall(day, start + left)
                    left -= b - start
            day += dt.timedelta(days=1)
        raise ValueError("no working hours in ten years: check business_days and holidays")

    def _wall(self, day: dt.date, seconds: float) -> float:
        """The moment of `day` at `seconds` past local midnight, on the wall clock (as elapsed counts)."""
        whole = int(seconds)
        h, rem = divmod(whole, 3600)
        if h >= 24:
            return self._wall(day + dt.timedelta(days=1), seconds - 86400)
        naive = dt.datetime.combine(day, dt.time(h, rem // 60, rem % 60))
        local = naive.replace(tzinfo=self.zone) if self.zone else naive.astimezone()
        return local.timestamp() + (seconds - whole)

    def _holiday(self, day: dt.date) -> bool:
        i = bisect.bisect_left(self.holidays, day)
        return i < len(self.holidays) and self.holidays[i] == day


def business_clock(cfg: PriorityConfig) -> BusinessClock:
    """The clock of a [priority] config (config.PriorityConfig), made once per config: the
    config sits below the desk and does not build desk objects itself."""
    clock = cfg.__dict__.get("_business_clock")  # a frozen dataclass: its __dict__ holds the cache
    if not isinstance(clock, BusinessClock):
        clock = BusinessClock(cfg.business_hours, cfg.business_days, cfg.timezone, cfg.holidays)
        cfg.__dict__["_business_clock"] = clock
    return clock
