"""Time expressions agents type: snooze until, send later. One parser for both.

    later today | tonight | tomorrow [9:00] | next monday [9:00] | in a week | mon 8:30 |
    fri 14:00 | 3d | 2h | 45m | 1w | 2026-12-01 [14:00] | 14:00 | until reply

Times without a date mean the next time that clock time comes; days without a time mean
9:00 (the start of a working day). All in the agent's time zone; results are aware datetimes.
Minutes and hours are time that passes ("2h" at 1:30 on the night the clocks go forward is
4:30); days and weeks keep the clock time ("3d" at 16:20 is 16:20).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

DAY_START = dt.time(9, 0)
LATER_TODAY_HOURS = 3
WEEKDAYS = {name: i for i, names in enumerate([
    ("mon", "monday"), ("tue", "tues", "tuesday"), ("wed", "wednesday"), ("thu", "thur", "thurs", "thursday"),
    ("fri", "friday"), ("sat", "saturday"), ("sun", "sunday")]) for name in names}
UNITS = {"m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60, "h": 3600, "hr": 3600, "hrs": 3600,
         "hour": 3600, "hours": 3600, "d": 86400, "day": 86400, "days": 86400, "w": 604800,
         "week": 604800, "weeks": 604800}
UNTIL_REPLY = {"until reply", "until the customer replies", "until customer replies", "reply", "until replied"}

# presets offered by the snooze prompt, in order (snooze_presets: as offered at a given time)
PRESETS = ("later today", "tomorrow 9:00", "next monday 9:00", "in a week", "until reply")
LATER_TODAY_AT_NIGHT = f"in {LATER_TODAY_HOURS} hours"  # "later today" once that is tomorrow
# and by the send-later prompt: a reply goes at a moment, never "until reply"
SEND_LATER_PRESETS = ("in 1 hour", "tomorrow 9:00", "Monday 9:00")
SNOOZE_EXAMPLES = "'tomorrow 9:00', '3d', 'fri 14:00', '2026-12-01' or 'until reply'"
SEND_LATER_EXAMPLES = "'in 1 hour', 'tomorrow 9:00', 'mon 8:30' or '2026-12-01 14:00'"


class WhenError(ValueError):
    pass


def snooze_presets(now: dt.datetime) -> tuple[str, ...]:
    """PRESETS as offered at ``now``: late in the evening "later today" is tomorrow, so it is
    offered as what it is, "in 3 hours" (the same moment)."""
    later = _after(now, dt.timedelta(hours=LATER_TODAY_HOURS))
    if later.date() == now.date():
        return PRESETS
    return tuple(LATER_TODAY_AT_NIGHT if p == "later today" else p for p in PRESETS)


def _after(now: dt.datetime, span: dt.timedelta, *, wall_clock: bool = False) -> dt.datetime:
    """``span`` after ``now`` as time passing (across a DST change too), or ``wall_clock``
    (days, weeks) at the same clock time; always a time the zone has."""
    if wall_clock:
        return _real(now + span)
    return (now.astimezone(dt.timezone.utc) + span).astimezone(now.tzinfo)


def _real(when: dt.datetime) -> dt.datetime:
    """A wall-clock time the zone skips (the hour the clocks go forward) as the moment it
    stands for, said on the new clock: 2:30 -> 3:30."""
    return when.astimezone(dt.timezone.utc).astimezone(when.tzinfo)


@dataclass(frozen=True)
class When:
    at: dt.datetime | None  # None: until the customer replies
    until_reply: bool = False


_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")
_SPAN = re.compile(r"^(?:in\s+)?(\d+|a|an|one)\s*([a-z]+)$")


def _clock(text: str) -> dt.time | None:
    m = _TIME.match(text.strip())
    if not m:
        return None
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if m.group(3):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if m.group(3) == "pm" else 0)
    elif m.group(2) is None:
        return None  # a bare number is not a time ("3" could be anything)
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def parse_span(text: str) -> int | None:
    """A length of time, "3d", "1h", "45 minutes", "a week", in seconds; None if it is not one."""
    m = _SPAN.match(" ".join(text.lower().split()))
    if not m or m.group(2) not in UNITS:
        return None
    return (1 if m.group(1) in ("a", "an", "one") else int(m.group(1))) * UNITS[m.group(2)]


def parse_send_at(text: str, now: dt.datetime) -> dt.datetime:
    """A send-later time: the same forms as parse_when, but a reply needs a moment, so
    "until reply" (and the snooze's "off") are refused, and errors give send-later examples."""
    words = " ".join(text.lower().split())
    if words in UNTIL_REPLY or words in ("off", "wake", "none"):
        raise WhenError(f"a reply needs a time: e.g. {SEND_LATER_EXAMPLES}")
    when = parse_when(text, now, examples=SEND_LATER_EXAMPLES)
    assert when.at is not None
    return when.at


def parse_when(text: str, now: dt.datetime, *, examples: str = SNOOZE_EXAMPLES) -> When:
    """`now` is aware, in the agent's zone. Raises WhenError with what was not understood."""
    raw = text
    text = " ".join(text.lower().strip().split())
    if not text:
        raise WhenError(f"say when: e.g. {examples}")
    if text in UNTIL_REPLY:
        return When(None, until_reply=True)
    tz = now.tzinfo
    day = now.date()

    def at(d: dt.date, t: dt.time) -> dt.datetime:
        return _real(dt.datetime.combine(d, t, tzinfo=tz))

    if text == "later today":
        return When(_after(now, dt.timedelta(hours=LATER_TODAY_HOURS)))
    if text == "tonight":
        return When(at(day, dt.time(19, 0)) if now.time() < dt.time(19, 0) else _after(now, dt.timedelta(hours=1)))
    m = _SPAN.match(text)
    if m and m.group(2) in UNITS:
        count = 1 if m.group(1) in ("a", "an", "one") else int(m.group(1))
        unit = UNITS[m.group(2)]
        return When(_after(now, dt.timedelta(seconds=count * unit), wall_clock=unit >= UNITS["d"]))

    words = text.split(" ")
    clock: dt.time | None = None
    if len(words) >= 2 and (c := _clock(" ".join(words[-2:]))) is not None and words[-1] in ("am", "pm"):
        clock, words = c, words[:-2]
    elif (c := _clock(words[-1])) is not None:
        clock, words = c, words[:-1]
    rest = " ".join(words)
    if rest in ("", "today"):
        if clock is None:
            raise WhenError(f"not a time: {raw!r}")
        target = at(day, clock)
        if target <= now:
            if rest == "today":
                raise WhenError(f"{raw!r} is already past")
            target = at(day + dt.timedelta(days=1), clock)
        return When(target)
    if rest == "tomorrow":
        return When(at(day + dt.timedelta(days=1), clock or DAY_START))
    next_word = rest.startswith("next ")
    name = rest[5:] if next_word else rest
    if name in WEEKDAYS:
        ahead = (WEEKDAYS[name] - now.weekday()) % 7
        if next_word and ahead == 0:  # "next monday" said on a Monday: not today, a week on
            ahead = 7
        target = at(day + dt.timedelta(days=ahead), clock or DAY_START)
        if target <= now:
            target = at(day + dt.timedelta(days=ahead + 7), clock or DAY_START)
        return When(target)
    if next_word and name == "week":
        monday = day + dt.timedelta(days=7 - now.weekday())
        return When(at(monday, clock or DAY_START))
    try:
        date = dt.date.fromisoformat(rest)
    except ValueError:
        raise WhenError(f"cannot read {raw!r}: try {examples}") from None
    target = at(date, clock or DAY_START)
    if target <= now:
        raise WhenError(f"{raw!r} is already past")
    return When(target)


PERIOD_EXAMPLES = "'2026-11-01', '7d', '4w', 'today' or 'now'"


def parse_period_bound(text: str, now: dt.datetime, *, end: bool = False) -> dt.datetime:
    """A report period's bound, in the past: "2026-11-01" (a date in the agent's zone: its start,
    or with end=True the start of the next day, so an end date is included), "7d" / "4w" / "12h"
    (that long before now), "today" (its start; end=True: tomorrow's start), "now"."""
    text = " ".join(text.lower().strip().split())
    tz = now.tzinfo
    if text == "now":
        return now
    if text in ("today", "yesterday"):
        day = now.date() - dt.timedelta(days=1 if text == "yesterday" else 0)
        return dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time(0), tzinfo=tz)
    m = _SPAN.match(text.removesuffix(" ago"))
    if m and m.group(2) in UNITS:
        count = 1 if m.group(1) in ("a", "an", "one") else int(m.group(1))
        return now - dt.timedelta(seconds=count * UNITS[m.group(2)])
    try:
        date = dt.date.fromisoformat(text)
    except ValueError:
        raise WhenError(f"cannot read {text!r}: try {PERIOD_EXAMPLES}") from None
    return dt.datetime.combine(date + dt.timedelta(days=1 if end else 0), dt.time(0), tzinfo=tz)
