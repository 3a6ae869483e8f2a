"""Business time: how much of a span fell inside working hours, minus weekends and holidays.

`elapsed(t)` counts business seconds from a fixed origin to `t`. It only ever grows, so waiting
time is `elapsed(now) - elapsed(since)` and a rank built from `elapsed(since)` keeps its order
as the clock runs (see desk.priority).
"""

from __future__ import annotations

import bisect
import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from tui_desk.config import PriorityConfig

ORIGIN = dt.date(2000, 1, 3)  # a Monday


class BusinessClock:
    def __init__(self, hours: tuple[dt.time, dt.time] | None = None, days: tuple[int, ...] = (0, 1, 2, 3, 4),
                 zone: str | None = None, holidays: tuple[dt.date, ...] = ()):
        self.always = hours is None  # no business hours configured: every second counts
        self.zone = ZoneInfo(zone) if zone else None
        if hours:
            self.open = hours[0].hour * 3600 + hours[0].minute * 60
            self.close = hours[1].hour * 3600 + hours[1].minute * 60
        else:
            self.open, self.close = 0, 86400
        self.day_len = self.close - self.open
        self.days = frozenset(days)
        self.holidays = sorted(h for h in set(holidays) if h.weekday() in self.days)

    def elapsed(self, t: float) -> float:
        if self.always:
            return t
        local = dt.datetime.fromtimestamp(t, self.zone) if self.zone else dt.datetime.fromtimestamp(t).astimezone()
        day = local.date()
        n = (day - ORIGIN).days
        weeks, rest = divmod(n, 7)
        business_days = weeks * len(self.days) + sum(1 for i in range(rest) if i in self.days)
        business_days -= bisect.bisect_left(self.holidays, day) - bisect.bisect_left(self.holidays, ORIGIN)
        total: float = business_days * self.day_len
        if day.weekday() in self.days and not self._holiday(day):
            seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
            total += min(max(seconds - self.open, 0), self.day_len)
        return float(total)

    def _holiday(self, day: dt.date) -> bool:
        i = bisect.bisect_left(self.holidays, day)
        return i < len(self.holidays) and self.holidays[i] == day


def business_clock(cfg: PriorityConfig) -> BusinessClock:
    """The clock of a [priority] config (config.PriorityConfig), made once per config: the
    config sits below the desk and does not build desk objects itself."""
    clock: BusinessClock | None = cfg.__dict__.get("_business_clock")  # a frozen dataclass: its __dict__ holds the cache
    if clock is None:
        clock = BusinessClock(cfg.business_hours, cfg.business_days, cfg.timezone, cfg.holidays)
        cfg.__dict__["_business_clock"] = clock
    return clock
