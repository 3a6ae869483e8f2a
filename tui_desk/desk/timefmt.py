"""The one place that turns datetimes into short text for the queue, the thread and the CLI.

Month names are spelled here rather than taken from ``strftime("%b")`` so the output does not
depend on the locale of the machine.
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def format_age(then: dt.datetime, now: dt.datetime) -> str:
    """How long ago ``then`` was, in at most 3 characters: now, 5m, 3h, 2d, 6w, 1y.

    A ``then`` in the future (clock skew between mail servers) reads as "now".
    """
    seconds = (now - then).total_seconds()
    if seconds < 60:
        return "now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 24:
        return f"{hours}h"
    days = hours // 24
    if days < 14:
        return f"{days}d"
    if days < 365:
        return f"{days // 7}w"
    return f"{days // 365}y"


def format_datetime_short(when: dt.datetime, now: dt.datetime | None = None) -> str:
    """"Nov 25 14:03" within the current year, "2025-11-25" otherwise.

    Aware datetimes are shown in the time zone of ``now`` (the local zone when ``now`` is not
    given), so a fixed ``now`` gives the same text on every machine.
    """
    if now is None:
        now = dt.datetime.now().astimezone()
    if when.tzinfo is not None and now.tzinfo is not None:
        when = when.astimezone(now.tzinfo)
    if when.year == now.year:
        return f"{MONTHS[when.month - 1]} {when.day} {when:%H:%M}"
    return f"{when:%Y-%m-%d}"


def format_stamp(when: dt.datetime | float, zone: dt.tzinfo | None = None) -> str:
    """A moment in full, for lines that stand alone (history, incidents, report periods):
    "2026-12-07 06:37". A POSIX time is shown in ``zone`` (the desk's: local_zone), an aware
    datetime in ``zone`` when given, else in its own."""
    if not isinstance(when, dt.datetime):
        when = dt.datetime.fromtimestamp(when, zone or local_zone())
    elif zone is not None and when.tzinfo is not None:
        when = when.astimezone(zone)
    return f"{when:%Y-%m-%d %H:%M}"


def format_when(when: dt.datetime, now: dt.datetime) -> str:
    """A coming moment in at most 10 characters, for markers ("z Fri 9:00", "⏲ 17:30"):
    "17:30" today, "Fri 9:00" within the next six days, "Nov 27" this year, else "2027-01-04".
    Shown in the time zone of ``now``, as format_datetime_short does."""
    if when.tzinfo is not None and now.tzinfo is not None:
        when = when.astimezone(now.tzinfo)
    days = (when.date() - now.date()).days
    if days == 0:
        return f"{when.hour}:{when:%M}"
    if 0 < days < 7:
        return f"{WEEKDAYS[when.weekday()]} {when.hour}:{when:%M}"
    if when.year == now.year:
        return f"{MONTHS[when.month - 1]} {when.day}"
    return f"{when:%Y-%m-%d}"


def format_clock(when: float, zone: dt.tzinfo) -> str:
    """The time of day to the second, in ``zone`` (the desk's), for a run of sends: "06:37:05"."""
    return f"{dt.datetime.fromtimestamp(when, zone):%H:%M:%S}"


def zone_label(when: dt.datetime) -> str:
    """The zone of an aware ``when`` as people write it after a time: its letters ("CET", "CEST",
    "EST", "UTC"), else, where the zone has none (the tz database's "+04", a fixed offset's
    "UTC+01:00"), its offset in brackets: "(UTC+4)", "(UTC-3)", "(UTC+5:45)"."""
    offset = when.utcoffset()
    if offset is None:
        raise ValueError("a naive time has no zone to say")
    name = when.tzname() or ""
    if name.isalpha() and name.isupper() and 2 <= len(name) <= 5:
        return name
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    return f"(UTC{'+' if minutes > 0 else '-'}{hours}{f':{rest:02d}' if rest else ''})"


def format_zoned_clock(when: dt.datetime) -> str:
    """A clock time a customer reads, with the zone it is in (zone_label): "11:15 CET",
    "9:00 (UTC+4)". ``when`` is aware, in the desk's zone; the day, when not today, is said by
    the caller's words (desk.expected_wait.WORDS)."""
    return f"{when.hour}:{when:%M} {zone_label(when)}"


def format_day_time(when: dt.datetime, now: dt.datetime) -> str:
    """A moment for a one-line confirmation or listing, in the zone of ``now``, without the
    locale's names: "Mon 07 Dec 09:00"."""
    if when.tzinfo is not None and now.tzinfo is not None:
        when = when.astimezone(now.tzinfo)
    return f"{WEEKDAYS[when.weekday()]} {when.day:02d} {MONTHS[when.month - 1]} {when:%H:%M}"


def format_wake(when: dt.datetime, now: dt.datetime) -> str:
    """When a snooze ends or a reply goes, for a prompt's choices and previews, so that it
    cannot be misread late in the evening: "today 17:30", "tomorrow Sun 9:00", "Wed 9:00"
    within the week, "Sat Apr 4 23:45" this year, else "2027-01-04 9:00". In the zone of
    ``now``, as format_datetime_short."""
    if when.tzinfo is not None and now.tzinfo is not None:
        when = when.astimezone(now.tzinfo)
    days = (when.date() - now.date()).days
    clock = f"{when.hour}:{when:%M}"
    weekday = WEEKDAYS[when.weekday()]
    if days == 0:
        return f"today {clock}"
    if days == 1:
        return f"tomorrow {weekday} {clock}"
    if 1 < days < 7:
        return f"{weekday} {clock}"
    if when.year == now.year:
        return f"{weekday} {MONTHS[when.month - 1]} {when.day} {clock}"
    return f"{when:%Y-%m-%d} {clock}"


def format_duration(seconds: float, *, report: bool = False) -> str:
    """A span for reasons: "45m", "3h", "3h 10m", "2d 4h". report=True, for columns of figures
    (tui-desk report, the Reports screen): "45 s", "12 min", "2 h 05 min", "3 d 04 h"."""
    if report:
        whole = int(round(max(0.0, seconds)))
        if whole < 60:
            return f"{whole} s"
        minutes = whole // 60
        if minutes < 60:
            return f"{minutes} min"
        hours, minutes = divmod(minutes, 60)
        if hours < 24:
            return f"{hours} h {minutes:02d} min"
        days, hours = divmod(hours, 24)
        return f"{days} d {hours:02d} h"
    minutes = int(max(0, seconds) // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


def local_zone(name: str | None = None) -> dt.tzinfo:
    """The zone named (`[priority] timezone`), else this machine's, with its rules: "mon 9:00"
    said on the Saturday before a DST change is 9:00 of Monday's offset, not of today's.
    (`datetime.astimezone()` gives today's fixed offset.)"""
    for candidate in (name, os.environ.get("TZ", "").lstrip(":"), _etc_localtime()):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return dt.datetime.now().astimezone().tzinfo or dt.timezone.utc


def _etc_localtime() -> str | None:
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:
        return None
    return target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else None
