"""What every table's checker uses: ConfigError, the TomlTable tomllib gives, and the checks of
one value (_expect a type, _str_list, _span "09:00-17:00", _duration "4h").

The underscore names are the package's own: the tables' modules import them, nothing outside
tui_desk.config does."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar


# A table as tomllib gives it: values are unchecked until _expect has looked at them.
TomlTable = dict[str, Any]
_T = TypeVar("_T")


class ConfigError(Exception):
    """One line: file, key, what is wrong."""


def _unknown_key(path: Path, full: str, known: Iterable[str]) -> ConfigError:
    """The error for a key the table does not have, with the nearest one it has (a typo is the
    usual cause: `agent_adresses`)."""
    table, _, name = full.rpartition(".")
    near = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    hint = f" (did you mean '{table + '.' if table else ''}{near[0]}'?)" if near else ""
    return ConfigError(f"{path}: unknown key '{full}'{hint}")


def _expect(path: Path, key: str, value: object, kind: type[_T], what: str) -> _T:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{path}: key '{key}' must be {what}, not {value!r}")
    return value


def _str_list(path: Path, key: str, value: object) -> tuple[str, ...]:
    return tuple(_expect(path, key, v, str, "a list of strings")
                 for v in _expect(path, key, value, list, "a list of strings"))


def _span(path: Path, key: str, value: object) -> tuple[dt.time, dt.time]:
    span = _expect(path, key, value, str, 'a span like "09:00-17:00"')
    try:
        start, end = (dt.time.fromisoformat(v.strip()) for v in span.split("-"))
    except ValueError:
        raise ConfigError(f"{path}: key '{key}' must look like \"09:00-17:00\", not {value!r}") from None
    if end <= start:
        raise ConfigError(f"{path}: key '{key}' must end after it starts, not {value!r}")
    return start, end


_DURATION = re.compile(r"\s*(\d+)\s*([dhm])\s*")
_DURATION_UNITS = {"d": 86400, "h": 3600, "m": 60}


def _duration(path: Path, key: str, value: object) -> int:
    """"4h", "90m", "1d", "1h30m": seconds."""
    text = _expect(path, key, value, str, 'a duration like "4h" or "90m"')
    parts = _DURATION.findall(text)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != "".join(text.split()):
        raise ConfigError(f"{path}: key '{key}' must be a duration like \"4h\" or \"90m\", not {value!r}")
    return sum(int(n) * _DURATION_UNITS[u] for n, u in parts)
