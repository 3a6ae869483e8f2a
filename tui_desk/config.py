"""config.toml: read with tomllib, checked key by key; errors name the file and the key."""

from __future__ import annotations

import fnmatch
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_config_dir, user_data_dir


class ConfigError(Exception):
    """One line: file, key, what is wrong."""


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


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    agent: str = os.environ.get("USER", "agent")
    agent_addresses: tuple[str, ...] = ()  # glob patterns: "*@helpdesk.test", "support@example.com"
    priority: PriorityConfig = field(default_factory=PriorityConfig)

    def is_agent_address(self, addr: str) -> bool:
        addr = addr.lower()
        return any(fnmatch.fnmatchcase(addr, p) for p in self.agent_addresses)


def default_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME")
    root = Path(base) / "tui-desk" if base else Path(user_config_dir("tui-desk"))
    return root / "config.toml"


def default_db_path() -> Path:
    if os.environ.get("TUI_DESK_DB"):
        return Path(os.environ["TUI_DESK_DB"])
    base = os.environ.get("XDG_DATA_HOME")
    root = Path(base) / "tui-desk" if base else Path(user_data_dir("tui-desk"))
    return root / "desk.sqlite3"


def _expect(path: Path, key: str, value, kind, what: str):
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{path}: key '{key}' must be {what}, not {value!r}")
    return value


def _str_list(path: Path, key: str, value) -> tuple[str, ...]:
    _expect(path, key, value, list, "a list of strings")
    for v in value:
        _expect(path, key, v, str, "a list of strings")
    return tuple(value)


_PRIORITY_INTS = {"response_target_minutes", "loud_messages", "loud_window_minutes",
                  "urgent_boost_minutes", "vip_boost_minutes"}


def _priority(path: Path, table: dict) -> PriorityConfig:
    kwargs: dict = {}
    for key, value in table.items():
        full = f"priority.{key}"
        if key in _PRIORITY_INTS:
            kwargs[key] = _expect(path, full, value, int, "a whole number")
            if kwargs[key] < 0 or (key in {"response_target_minutes", "loud_messages"} and kwargs[key] == 0):
                raise ConfigError(f"{path}: key '{full}' must be positive, not {value!r}")
        elif key in {"urgent_words", "vip"}:
            kwargs[key] = tuple(v.lower() for v in _str_list(path, full, value))
        elif key == "tag_weights":
            _expect(path, full, value, dict, "a table of tag = minutes")
            for tag, minutes in value.items():
                _expect(path, f"{full}.{tag}", minutes, int, "a whole number of minutes")
            kwargs[key] = {t.lower(): m for t, m in value.items()}
        else:
            raise ConfigError(f"{path}: unknown key '{full}'")
    return PriorityConfig(**kwargs)


KNOWN_TOP = {"agent", "agent_addresses", "priority", "accounts"}


def load_config(path: Path | None = None, *, required: bool = False) -> Config:
    """The config at `path` (or the default location). A missing default file means defaults."""
    path = path or default_config_path()
    if not path.exists():
        if required:
            raise ConfigError(f"{path}: no such config file")
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {e}") from None
    for key in data:
        if key not in KNOWN_TOP:
            raise ConfigError(f"{path}: unknown key '{key}'")
    kwargs: dict = {"path": path}
    if "agent" in data:
        kwargs["agent"] = _expect(path, "agent", data["agent"], str, "a name")
    if "agent_addresses" in data:
        kwargs["agent_addresses"] = tuple(a.lower() for a in _str_list(path, "agent_addresses", data["agent_addresses"]))
    if "priority" in data:
        kwargs["priority"] = _priority(path, _expect(path, "priority", data["priority"], dict, "a table"))
    accounts = data.get("accounts", {})
    _expect(path, "accounts", accounts, dict, "a table of accounts")
    # An account's own address is always an agent address.
    own = [a.get("address", "").lower() for a in accounts.values() if isinstance(a, dict) and a.get("address")]
    if own:
        kwargs["agent_addresses"] = tuple(kwargs.get("agent_addresses", ())) + tuple(own)
    return Config(**kwargs)
