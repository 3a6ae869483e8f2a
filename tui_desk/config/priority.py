"""[priority]: what makes a conversation urgent, and the business calendar (hours, days, zone,
holidays) the priority and the SLA count their minutes in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tui_desk.config.common import ConfigError, TomlTable, _expect, _span, _str_list, _unknown_key


WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class PriorityConfig:
    response_target_minutes: int = 120
    loud_messages: int = 3  # this many customer mails ...
    loud_window_minutes: int = 10  # ... within this window flag the conversation "loud"
    urgent_words: tuple[str, ...] = ("urgent", "asap", "срочно", "紧急", "至急", "emergency")
    urgent_boost_minutes: int = 30  # capped: saying it louder or more often adds nothing
    vip: tuple[str, ...] = ()  # addresses or domains
    vip_boost_minutes: int = 60
    tag_weights: dict[str, int] = field(default_factory=dict)  # minutes per tag
    # one ("09:00-17:00") or several intervals a day (["09:00-12:00", "13:00-17:00"]); None: 24/7
    business_hours: tuple[dt.time, dt.time] | tuple[tuple[dt.time, dt.time], ...] | None = None
    business_days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    timezone: str | None = None  # IANA name; None: this machine's zone
    holidays: tuple[dt.date, ...] = ()


_PRIORITY_INTS = {"response_target_minutes", "loud_messages", "loud_window_minutes",
                  "urgent_boost_minutes", "vip_boost_minutes"}


def _priority(path: Path, table: TomlTable) -> PriorityConfig:
    kwargs: dict[str, Any] = {}  # checked key by key: PriorityConfig's fields are the types
    for key, value in table.items():
        full = f"priority.{key}"
        if key in _PRIORITY_INTS:
            kwargs[key] = _expect(path, full, value, int, "a whole number")
            if kwargs[key] < 0 or (key in {"response_target_minutes", "loud_messages"} and kwargs[key] == 0):
                raise ConfigError(f"{path}: key '{full}' must be positive, not {value!r}")
        elif key == "business_hours":
            kwargs[key] = _business_hours(path, full, value)
        elif key == "business_days":
            names = [v.lower()[:3] for v in _str_list(path, full, value)]
            if not names or any(n not in WEEKDAY_NAMES for n in names):
                raise ConfigError(f"{path}: key '{full}' lists days like [\"mon\", \"tue\"], not {value!r}")
            kwargs[key] = tuple(sorted({WEEKDAY_NAMES.index(n) for n in names}))
        elif key == "timezone":
            zone = _expect(path, full, value, str, 'an IANA zone like "Europe/Berlin"')
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ConfigError(f"{path}: key '{full}': unknown time zone {value!r}") from None
            kwargs[key] = zone
        elif key == "holidays":
            try:
                kwargs[key] = tuple(v if isinstance(v, dt.date) else dt.date.fromisoformat(v)
                                    for v in _expect(path, full, value, list, "a list of dates"))
            except (TypeError, ValueError):
                raise ConfigError(f"{path}: key '{full}' must list dates like 2026-12-25, not {value!r}") from None
        elif key in {"urgent_words", "vip"}:
            kwargs[key] = tuple(v.lower() for v in _str_list(path, full, value))
        elif key == "tag_weights":
            weights = _expect(path, full, value, dict, "a table of tag = minutes")
            kwargs[key] = {tag.lower(): _expect(path, f"{full}.{tag}", minutes, int, "a whole number of minutes")
                           for tag, minutes in weights.items()}
        else:
            raise _unknown_key(path, full, PriorityConfig.__dataclass_fields__)
    return PriorityConfig(**kwargs)


def _business_hours(path: Path, key: str,
                    value: object) -> tuple[dt.time, dt.time] | tuple[tuple[dt.time, dt.time], ...]:
    """"09:00-17:00" (one interval a day) or ["09:00-12:00", "13:00-17:00"] (several)."""
    if not isinstance(value, list):
        return _span(path, key, value)
    spans = sorted(_span(path, key, v) for v in value)
    if not spans:
        raise ConfigError(f"{path}: key '{key}' lists no span")
    for (_, end), (start, _) in zip(spans, spans[1:]):
        if start < end:
            raise ConfigError(f"{path}: key '{key}': spans overlap, {value!r}")
    return tuple(spans)
