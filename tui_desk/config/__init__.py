"""config.toml: read with tomllib, checked key by key; errors name the file and the key.

The one schema of config.toml, on the ground floor where every layer reads it; one module per
idea, each a table's dataclass and its checker:

    common.py      ConfigError, TomlTable and the checks of one value (_expect, _str_list, _span,
                   _duration) every table uses
    accounts.py    [accounts.NAME] and its imap/smtp servers: AccountConfig, ServerConfig,
                   OAuth2Config, Security, Auth, is_loopback, the default ports
    priority.py    [priority] and its business calendar: PriorityConfig, WEEKDAY_NAMES
    sla.py         [sla] and [[sla.policy]]: SlaConfig, SlaPolicy
    automation.py  [rules], [autoreply], [followup], [csat]: AutoReplyConfig, FollowupConfig,
                   CsatConfig (the rules file and horizon are Config's own fields)
    snippets.py    [snippets] and [snippets.values]: SnippetsConfig, DESK_PLACEHOLDERS
    __init__.py    Config (with the top-level keys agent, agent_addresses, team, [keys]),
                   load_config, KNOWN_TOP, the default paths

Import from here: `from tui_desk.config import Config, ConfigError, load_config, ...`.
"""

from __future__ import annotations

import fnmatch
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir, user_data_dir

from tui_desk.config.accounts import (
    AccountConfig,
    Auth,
    OAuth2Config,
    Security,
    ServerConfig,
    _account,
    is_loopback,
)
from tui_desk.config.automation import (
    AutoReplyConfig,
    CsatConfig,
    FollowupConfig,
    _autoreply,
    _csat,
    _followup,
    _rules,
)
from tui_desk.config.common import ConfigError, TomlTable, _expect, _str_list, _unknown_key
from tui_desk.config.priority import WEEKDAY_NAMES, PriorityConfig, _priority
from tui_desk.config.sla import SlaConfig, SlaPolicy, _sla
from tui_desk.config.snippets import DESK_PLACEHOLDERS, SnippetsConfig, _snippets

__all__ = [
    "DESK_PLACEHOLDERS", "KNOWN_TOP", "WEEKDAY_NAMES", "AccountConfig", "Auth", "AutoReplyConfig", "Config",
    "ConfigError", "CsatConfig", "FollowupConfig", "OAuth2Config", "PriorityConfig", "Security", "ServerConfig",
    "SlaConfig", "SlaPolicy", "SnippetsConfig", "TomlTable", "default_config_path", "default_db_path",
    "is_loopback", "load_config",
]


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    agent: str = os.environ.get("USER", "agent")
    agent_addresses: tuple[str, ...] = ()  # glob patterns: "*@helpdesk.test", "support@example.com"
    team: tuple[str, ...] = ()  # teammates' names, as assigning (a) completes them
    keys: tuple[tuple[str, str], ...] = ()  # [keys]: (key id, "ctrl+t") rebindings; the app checks the ids
    priority: PriorityConfig = field(default_factory=PriorityConfig)
    accounts: tuple[AccountConfig, ...] = ()
    rules_file: Path | None = None  # [rules] file; None: rules.toml beside the config
    rules_horizon_hours: int = 24  # [rules] horizon_hours: new mail older than this never fires rules
    autoreply: AutoReplyConfig = field(default_factory=AutoReplyConfig)
    sla: SlaConfig = field(default_factory=SlaConfig)
    snippets: SnippetsConfig = field(default_factory=SnippetsConfig)
    followup: FollowupConfig = field(default_factory=FollowupConfig)
    csat: CsatConfig = field(default_factory=CsatConfig)

    def rules_path(self) -> Path:
        return self.rules_file or (self.path or default_config_path()).parent / "rules.toml"

    def account(self, name: str | None) -> AccountConfig:
        if not self.accounts:
            raise ConfigError(f"{self.path or default_config_path()}: no [accounts.NAME] configured")
        if name is None:
            return self.accounts[0]
        for a in self.accounts:
            if a.name == name:
                return a
        raise ConfigError(f"{self.path}: no account '{name}' (have: {', '.join(a.name for a in self.accounts)})")

    def is_agent_address(self, addr: str) -> bool:
        """The desk's own accounts and the agent_addresses patterns: mail from these is ours."""
        addr = addr.lower()
        return (any(addr == a.address.lower() for a in self.accounts)
                or any(fnmatch.fnmatchcase(addr, p) for p in self.agent_addresses))

    def agent_identity(self) -> str:
        """What is_agent_address depends on, as one string (stored: a change re-reads all mail)."""
        return repr(sorted({*(p.lower() for p in self.agent_addresses), *(a.address.lower() for a in self.accounts)}))


def default_config_path() -> Path:
    """Where config.toml is by default; snippets/ and themes/ are looked for beside it."""
    base = os.environ.get("XDG_CONFIG_HOME")
    root = Path(base) / "tui-desk" if base else Path(user_config_dir("tui-desk"))
    return root / "config.toml"


def default_db_path() -> Path:
    if os.environ.get("TUI_DESK_DB"):
        return Path(os.environ["TUI_DESK_DB"])
    base = os.environ.get("XDG_DATA_HOME")
    root = Path(base) / "tui-desk" if base else Path(user_data_dir("tui-desk"))
    return root / "desk.sqlite3"


KNOWN_TOP = {"agent", "agent_addresses", "team", "priority", "accounts", "keys", "rules", "autoreply", "sla",
             "snippets", "followup", "csat"}


def load_config(path: Path | None = None, *, required: bool = False) -> Config:
    """The config at `path` (or the default location). A missing default file means defaults;
    one named by $TUI_DESK_CONFIG is a mistake, as one named by --config (`required`)."""
    if path is None and os.environ.get("TUI_DESK_CONFIG"):  # as --config (`demo --keep` prints it)
        path, required = Path(os.environ["TUI_DESK_CONFIG"]), True
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
            raise _unknown_key(path, key, KNOWN_TOP)
    kwargs: dict[str, Any] = {"path": path}  # checked key by key: Config's fields are the types
    if "agent" in data:
        kwargs["agent"] = _expect(path, "agent", data["agent"], str, "a name")
    if "agent_addresses" in data:
        kwargs["agent_addresses"] = tuple(a.lower() for a in _str_list(path, "agent_addresses", data["agent_addresses"]))
    if "team" in data:
        kwargs["team"] = tuple(dict.fromkeys(" ".join(n.split()) for n in _str_list(path, "team", data["team"])
                                             if n.strip()))
    if "priority" in data:
        kwargs["priority"] = _priority(path, _expect(path, "priority", data["priority"], dict, "a table"))
    if "keys" in data:
        table = _expect(path, "keys", data["keys"], dict, "a table: tag = \"ctrl+t\"")
        kwargs["keys"] = tuple((k, " ".join(_expect(path, f"keys.{k}", v, str, "a key, e.g. \"ctrl+t\" or \"t,ctrl+t\"")
                                            .split())) for k, v in table.items())
    if "rules" in data:
        kwargs.update(_rules(path, _expect(path, "rules", data["rules"], dict, "a table")))
    if "autoreply" in data:
        kwargs["autoreply"] = _autoreply(path, _expect(path, "autoreply", data["autoreply"], dict, "a table"))
    if "followup" in data:
        kwargs["followup"] = _followup(path, _expect(path, "followup", data["followup"], dict, "a table"))
    if "sla" in data:
        kwargs["sla"] = _sla(path, _expect(path, "sla", data["sla"], dict, "a table"))
    if "snippets" in data:
        kwargs["snippets"] = _snippets(path, _expect(path, "snippets", data["snippets"], dict, "a table"))
    if "csat" in data:
        kwargs["csat"] = _csat(path, _expect(path, "csat", data["csat"], dict, "a table"))
    accounts = data.get("accounts", {})
    _expect(path, "accounts", accounts, dict, "a table of accounts")
    kwargs["accounts"] = tuple(_account(path, name, table) for name, table in accounts.items())
    # An account's own address is always an agent address.
    own = tuple(a.address.lower() for a in kwargs["accounts"])
    kwargs["agent_addresses"] = tuple(kwargs.get("agent_addresses", ())) + own
    return Config(**kwargs)
