"""[sla] and its [[sla.policy]] entries: service-level targets in business minutes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_desk.config.common import ConfigError, TomlTable, _expect, _unknown_key


@dataclass(frozen=True)
class SlaPolicy:
    """[[sla.policy]]: targets for the conversations the search query `query` finds (first match
    wins); a target left out is the [sla] table's."""
    query: str
    name: str = ""
    first_response_minutes: int | None = None
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None
    warn_minutes: int | None = None


@dataclass(frozen=True)
class SlaConfig:
    """[sla]: service-level targets in business minutes ([priority]'s calendar); None: no target."""
    first_response_minutes: int | None = None
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None
    warn_minutes: int = 30  # "warning" this long before a due time
    policies: tuple[SlaPolicy, ...] = ()

    def configured(self) -> bool:
        """Any target set, here or in a policy."""
        sets: list[SlaConfig | SlaPolicy] = [self, *self.policies]
        return any(m is not None for p in sets
                   for m in (p.first_response_minutes, p.next_response_minutes, p.resolution_minutes))


_SLA_TARGETS = ("first_response_minutes", "next_response_minutes", "resolution_minutes", "warn_minutes")


def _sla_minutes(path: Path, key: str, value: object) -> int:
    minutes = _expect(path, key, value, int, "a whole number of minutes")
    if minutes <= 0 and not key.endswith("warn_minutes"):
        raise ConfigError(f"{path}: key '{key}' must be positive, not {value!r}")
    if minutes < 0:
        raise ConfigError(f"{path}: key '{key}' must be 0 or more, not {value!r}")
    return minutes


def _sla(path: Path, table: TomlTable) -> SlaConfig:
    """[sla] targets and [[sla.policy]] entries. A policy's `if` is a search query: the desk
    reads it (desk.sla), the config only checks it is there."""
    kwargs: dict[str, Any] = {}  # checked key by key: SlaConfig's fields are the types
    for key, value in table.items():
        if key == "policy":
            entries = _expect(path, "sla.policy", value, list, "a list of [[sla.policy]] tables")
            kwargs["policies"] = tuple(_sla_policy(path, f"sla.policy[{i + 1}]", e) for i, e in enumerate(entries))
        elif key in _SLA_TARGETS:
            kwargs[key] = _sla_minutes(path, f"sla.{key}", value)
        else:
            raise _unknown_key(path, f"sla.{key}", (*_SLA_TARGETS, "policy"))
    return SlaConfig(**kwargs)


def _sla_policy(path: Path, key: str, entry: object) -> SlaPolicy:
    table = _expect(path, key, entry, dict, "a table")
    kwargs: dict[str, Any] = {}
    for k, value in table.items():
        if k == "if":
            kwargs["query"] = _expect(path, f"{key}.if", value, str, 'a search query like "tag:vip"')
            if not kwargs["query"].strip():
                raise ConfigError(f"{path}: key '{key}.if' is empty")
        elif k == "name":
            kwargs["name"] = _expect(path, f"{key}.name", value, str, "a name")
        elif k in _SLA_TARGETS:
            kwargs[k] = _sla_minutes(path, f"{key}.{k}", value)
        else:
            raise _unknown_key(path, f"{key}.{k}", (*_SLA_TARGETS, "if", "name"))
    if "query" not in kwargs:
        raise ConfigError(f"{path}: key '{key}.if' is missing")
    return SlaPolicy(**kwargs)
