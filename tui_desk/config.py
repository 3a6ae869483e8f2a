"""config.toml: read with tomllib, checked key by key; errors name the file and the key.

Why this file is long: it is the one schema of config.toml, each table's dataclass and its
checker (priority, accounts, rules, autoreply, sla, snippets, followup, csat), on the ground
floor where every layer reads it. The next table should make it a package (config/: the
accounts' tables apart, the desk's tables apart, load_config and the shared checkers in
__init__ re-exporting what the layers import today)."""

from __future__ import annotations

import datetime as dt
import fnmatch
import ipaddress
import os
import re
import tomllib
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeGuard, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_config_dir, user_data_dir


WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Security = Literal["tls", "starttls", "none"]
Auth = Literal["password", "xoauth2", "oauthbearer"]
# A table as tomllib gives it: values are unchecked until _expect has looked at them.
TomlTable = dict[str, Any]
_T = TypeVar("_T")


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
    # one ("09:00-17:00") or several intervals a day (["09:00-12:00", "13:00-17:00"]); None: 24/7
    business_hours: tuple[dt.time, dt.time] | tuple[tuple[dt.time, dt.time], ...] | None = None
    business_days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    timezone: str | None = None  # IANA name; None: this machine's zone
    holidays: tuple[dt.date, ...] = ()


@dataclass(frozen=True)
class AutoReplyConfig:
    """[autoreply]: limits on mail the desk sends by itself (rules' replies, acknowledgements)."""
    customer_interval_minutes: int = 180  # at most one automatic mail per customer in this time
    conversation_interval_minutes: int = 180  # ... and per conversation
    max_per_hour: int = 30  # the whole desk's hard cap
    snippet: str = "auto-ack"  # the acknowledgement's snippet (it may use {{expected_wait}})
    default_wait_seconds: int = 4 * 3600  # default_wait = "4h": the expected wait with too little history
    min_samples: int = 5  # fewer measured first responses than this: default_wait
    # every new conversation gets `snippet` without a rule (desk.rules.acknowledge), unless a
    # rule replies to that mail itself
    acknowledge: bool = False


@dataclass(frozen=True)
class FollowupConfig:
    """[followup]: bulk follow-ups (desk.followup) go out through the outbox at this pace."""
    per_minute: int = 30  # follow-up mails per minute, all follow-ups together (the outbox spaces them)


@dataclass(frozen=True)
class CsatConfig:
    """[csat]: the satisfaction survey mailed after a close (desk.csat)."""
    enabled: bool = False
    delay_minutes: int = 0  # after the close, on the desk's clock
    snippet: str = "csat"  # the survey's text (bundled)
    min_days_between: int = 30  # never two surveys to one customer within this many days
    answer_days: int = 30  # a survey's links and replies count this long after it was sent
    secret_file: Path | None = None  # the token key; none: secret_command, else csat.secret beside the store
    secret_command: str | None = None


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


@dataclass(frozen=True)
class SnippetsConfig:
    """[snippets]: when `tui-desk snippets suggest` offers a snippet for automation or a new one."""
    automate_share: float = 0.8  # a snippet that solves this share of its conversations ...
    min_uses: int = 10  # ... answered at least this many: offered as a rule draft
    good_share: float = 0.5  # a question group whose top snippet solves less: offered a new snippet
    # [snippets.values]: the team's own placeholders, the same in every reply ({{status_page_url}})
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ServerConfig:
    host: str
    port: int
    security: Security
    username: str
    password_command: str | None = None
    keyring: bool = False
    ca_file: Path | None = None
    auth: Auth = "password"
    oauth2: OAuth2Config | None = None  # where the bearer token comes from (auth != "password")


@dataclass(frozen=True)
class OAuth2Config:
    token_command: str | None = None  # prints an access token (oama, mutt_oauth2.py, ...)
    token_url: str | None = None  # or: refresh it ourselves; the refresh token is the "password"
    client_id: str | None = None
    client_secret_command: str | None = None


@dataclass(frozen=True)
class AccountConfig:
    name: str
    address: str
    display_name: str = ""
    folders: tuple[str, ...] = ("INBOX",)
    imap: ServerConfig | None = None
    smtp: ServerConfig | None = None
    max_message_bytes: int = 25 * 1024 * 1024  # larger mail is kept header-only until asked for
    save_sent: bool = True  # APPEND a copy to Sent; false when the server files sent mail itself
    undo_send_seconds: int = 10


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
    base = os.environ.get("XDG_CONFIG_HOME")
    root = Path(base) / "tui-desk" if base else Path(user_config_dir("tui-desk"))
    return root / "config.toml"


def default_db_path() -> Path:
    if os.environ.get("TUI_DESK_DB"):
        return Path(os.environ["TUI_DESK_DB"])
    base = os.environ.get("XDG_DATA_HOME")
    root = Path(base) / "tui-desk" if base else Path(user_data_dir("tui-desk"))
    return root / "desk.sqlite3"


def _expect(path: Path, key: str, value: object, kind: type[_T], what: str) -> _T:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{path}: key '{key}' must be {what}, not {value!r}")
    return value


def _str_list(path: Path, key: str, value: object) -> tuple[str, ...]:
    return tuple(_expect(path, key, v, str, "a list of strings")
                 for v in _expect(path, key, value, list, "a list of strings"))


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
            raise ConfigError(f"{path}: unknown key '{full}'")
    return PriorityConfig(**kwargs)


def _span(path: Path, key: str, value: object) -> tuple[dt.time, dt.time]:
    span = _expect(path, key, value, str, 'a span like "09:00-17:00"')
    try:
        start, end = (dt.time.fromisoformat(v.strip()) for v in span.split("-"))
    except ValueError:
        raise ConfigError(f"{path}: key '{key}' must look like \"09:00-17:00\", not {value!r}") from None
    if end <= start:
        raise ConfigError(f"{path}: key '{key}' must end after it starts, not {value!r}")
    return start, end


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


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _is_security(value: str) -> TypeGuard[Security]:
    return value in ("tls", "starttls", "none")


def _is_auth(value: str) -> TypeGuard[Auth]:
    return value in ("password", "xoauth2", "oauthbearer")


_DEFAULT_PORT = {("imap", "tls"): 993, ("imap", "starttls"): 143, ("imap", "none"): 143,
                 ("smtp", "tls"): 465, ("smtp", "starttls"): 587, ("smtp", "none"): 25}


def _server(path: Path, key: str, kind: str, table: TomlTable) -> ServerConfig:
    known = {"host", "port", "security", "username", "password_command", "keyring", "ca_file", "auth", *_OAUTH2}
    for k in table:
        if k not in known:
            raise ConfigError(f"{path}: unknown key '{key}.{k}'")
    if "host" not in table:
        raise ConfigError(f"{path}: key '{key}.host' is missing")
    host = _expect(path, f"{key}.host", table["host"], str, "a host name")
    security = _expect(path, f"{key}.security", table.get("security", "tls"), str, '"tls", "starttls" or "none"')
    if not _is_security(security):
        raise ConfigError(f"{path}: key '{key}.security' must be \"tls\", \"starttls\" or \"none\", not {security!r}")
    if security == "none" and not is_loopback(host):
        raise ConfigError(f"{path}: key '{key}.security' = \"none\" sends in clear text: only for loopback, not {host!r}")
    port = _expect(path, f"{key}.port", table.get("port", _DEFAULT_PORT[(kind, security)]), int, "a port number")
    if not 0 < port < 65536:
        raise ConfigError(f"{path}: key '{key}.port' must be a port number, not {port}")
    username = _expect(path, f"{key}.username", table.get("username", ""), str, "a user name")
    command = table.get("password_command")
    if command is not None:
        _expect(path, f"{key}.password_command", command, str, "a shell command")
    use_keyring = _expect(path, f"{key}.keyring", table.get("keyring", False), bool, "true or false")
    if command and use_keyring:
        raise ConfigError(f"{path}: keys '{key}.password_command' and '{key}.keyring': use one of them")
    ca_file = None
    if table.get("ca_file") is not None:
        ca_file = Path(_expect(path, f"{key}.ca_file", table["ca_file"], str, "a file path")).expanduser()
        if not ca_file.is_file():
            raise ConfigError(f"{path}: key '{key}.ca_file': no such file {ca_file}")
    auth, oauth2 = _oauth2(path, key, table)
    return ServerConfig(host, port, security, username, command, use_keyring, ca_file, auth, oauth2)


_OAUTH2 = {"oauth2_token_command", "oauth2_token_url", "oauth2_client_id", "oauth2_client_secret_command"}


def _oauth2(path: Path, key: str, table: TomlTable) -> tuple[Auth, OAuth2Config | None]:
    given = {k[len("oauth2_"):]: _expect(path, f"{key}.{k}", table[k], str, "a string") for k in _OAUTH2 if k in table}
    auth = _expect(path, f"{key}.auth", table.get("auth", "xoauth2" if given else "password"), str,
                   '"password", "xoauth2" or "oauthbearer"')
    if not _is_auth(auth):
        raise ConfigError(f"{path}: key '{key}.auth' must be \"password\", \"xoauth2\" or \"oauthbearer\", not {auth!r}")
    if auth == "password":
        if given:
            raise ConfigError(f"{path}: key '{key}.oauth2_{next(iter(given))}' needs auth = \"xoauth2\" or \"oauthbearer\"")
        return auth, None
    refresh_token = table.get("password_command") or table.get("keyring")
    if ("token_command" in given) == ("token_url" in given):
        raise ConfigError(f"{path}: key '{key}.auth' = {auth!r} needs oauth2_token_command or oauth2_token_url (one of them)")
    if "token_command" in given and refresh_token:
        raise ConfigError(f"{path}: keys '{key}.oauth2_token_command' and '{key}.password_command'/'keyring': use one of them")
    if "token_url" in given:
        url = urllib.parse.urlsplit(given["token_url"])
        if not (url.scheme == "https" or (url.scheme == "http" and is_loopback(url.hostname or ""))):
            raise ConfigError(f"{path}: key '{key}.oauth2_token_url' must be an https:// URL, not {given['token_url']!r}")
        if "client_id" not in given:
            raise ConfigError(f"{path}: key '{key}.oauth2_client_id' is missing (oauth2_token_url needs it)")
        if not refresh_token:
            raise ConfigError(f"{path}: key '{key}.oauth2_token_url' needs the refresh token from "
                              f"'{key}.password_command' or '{key}.keyring'")
    return auth, OAuth2Config(**given)


def _account(path: Path, name: str, table: TomlTable) -> AccountConfig:
    key = f"accounts.{name}"
    _expect(path, key, table, dict, "a table")
    known = {"address", "name", "folders", "imap", "smtp", "max_message_mb", "save_sent", "undo_send_seconds"}
    for k in table:
        if k not in known:
            raise ConfigError(f"{path}: unknown key '{key}.{k}'")
    if "address" not in table:
        raise ConfigError(f"{path}: key '{key}.address' is missing")
    address = _expect(path, f"{key}.address", table["address"], str, "an email address")
    if "@" not in address:
        raise ConfigError(f"{path}: key '{key}.address' must be an email address, not {address!r}")
    kwargs: dict[str, Any] = {"name": name, "address": address,  # checked: AccountConfig's fields are the types
                    "display_name": _expect(path, f"{key}.name", table.get("name", ""), str, "a display name")}
    if "folders" in table:
        kwargs["folders"] = _str_list(path, f"{key}.folders", table["folders"])
    if "max_message_mb" in table:
        mb = _expect(path, f"{key}.max_message_mb", table["max_message_mb"], int, "a whole number of MB")
        kwargs["max_message_bytes"] = mb * 1024 * 1024
    if "save_sent" in table:
        kwargs["save_sent"] = _expect(path, f"{key}.save_sent", table["save_sent"], bool, "true or false")
    if "undo_send_seconds" in table:
        kwargs["undo_send_seconds"] = _expect(path, f"{key}.undo_send_seconds", table["undo_send_seconds"], int,
                                              "a whole number of seconds")
    for kind in ("imap", "smtp"):
        if kind in table:
            sub = _expect(path, f"{key}.{kind}", table[kind], dict, "a table")
            kwargs[kind] = _server(path, f"{key}.{kind}", kind, sub)
    return AccountConfig(**kwargs)


KNOWN_TOP = {"agent", "agent_addresses", "team", "priority", "accounts", "keys", "rules", "autoreply", "sla",
             "snippets", "followup", "csat"}


def _rules(path: Path, table: TomlTable) -> dict[str, Any]:
    """[rules]: `file` (the rules file) and `horizon_hours`; at least one of them."""
    for k in table:
        if k not in ("file", "horizon_hours"):
            raise ConfigError(f"{path}: unknown key 'rules.{k}'")
    if not table:
        raise ConfigError(f"{path}: key 'rules.file' is missing")
    out: dict[str, Any] = {}
    if "horizon_hours" in table:
        hours = _expect(path, "rules.horizon_hours", table["horizon_hours"], int, "a whole number of hours")
        if hours < 0:
            raise ConfigError(f"{path}: key 'rules.horizon_hours' must be 0 or more, not {hours!r}")
        out["rules_horizon_hours"] = hours
    if "file" in table:
        file = Path(_expect(path, "rules.file", table["file"], str, "a file path")).expanduser()
        out["rules_file"] = file if file.is_absolute() else path.parent / file  # relative: beside the config
    return out


_DURATION = re.compile(r"\s*(\d+)\s*([dhm])\s*")
_DURATION_UNITS = {"d": 86400, "h": 3600, "m": 60}


def _duration(path: Path, key: str, value: object) -> int:
    """"4h", "90m", "1d", "1h30m": seconds."""
    text = _expect(path, key, value, str, 'a duration like "4h" or "90m"')
    parts = _DURATION.findall(text)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != "".join(text.split()):
        raise ConfigError(f"{path}: key '{key}' must be a duration like \"4h\" or \"90m\", not {value!r}")
    return sum(int(n) * _DURATION_UNITS[u] for n, u in parts)


def _autoreply(path: Path, table: TomlTable) -> AutoReplyConfig:
    kwargs: dict[str, Any] = {}  # checked key by key: AutoReplyConfig's fields are the types
    for key, value in table.items():
        full = f"autoreply.{key}"
        if key == "default_wait":
            kwargs["default_wait_seconds"] = _duration(path, full, value)
            continue
        if key == "snippet":
            kwargs[key] = _expect(path, full, value, str, "a snippet's name")
            continue
        if key == "acknowledge":
            kwargs[key] = _expect(path, full, value, bool, "true or false")
            continue
        if key not in AutoReplyConfig.__dataclass_fields__ or key == "default_wait_seconds":
            raise ConfigError(f"{path}: unknown key '{full}'")
        kwargs[key] = _expect(path, full, value, int, "a whole number")
        if kwargs[key] < 0 or (key == "min_samples" and kwargs[key] == 0):
            raise ConfigError(f"{path}: key '{full}' must be {'1' if key == 'min_samples' else '0'} or more, "
                              f"not {value!r}")
    return AutoReplyConfig(**kwargs)


def _followup(path: Path, table: TomlTable) -> FollowupConfig:
    for key in table:
        if key != "per_minute":
            raise ConfigError(f"{path}: unknown key 'followup.{key}'")
    per_minute = _expect(path, "followup.per_minute", table.get("per_minute", FollowupConfig.per_minute), int,
                         "a whole number")
    if per_minute < 1:
        raise ConfigError(f"{path}: key 'followup.per_minute' must be 1 or more, not {per_minute!r}")
    return FollowupConfig(per_minute)


def _csat(path: Path, table: TomlTable) -> CsatConfig:
    kwargs: dict[str, Any] = {}  # checked key by key: CsatConfig's fields are the types
    for key, value in table.items():
        full = f"csat.{key}"
        if key == "enabled":
            kwargs[key] = _expect(path, full, value, bool, "true or false")
        elif key in ("snippet", "secret_command"):
            kwargs[key] = _expect(path, full, value, str, "a snippet's name" if key == "snippet" else "a command")
        elif key == "secret_file":
            file = Path(_expect(path, full, value, str, "a file path")).expanduser()
            kwargs[key] = file if file.is_absolute() else path.parent / file
        elif key in ("delay_minutes", "min_days_between", "answer_days"):
            kwargs[key] = _expect(path, full, value, int, "a whole number")
            if kwargs[key] < 0 or (key == "answer_days" and kwargs[key] == 0):
                raise ConfigError(f"{path}: key '{full}' must be {'1' if key == 'answer_days' else '0'} or more, "
                                  f"not {value!r}")
        else:
            raise ConfigError(f"{path}: unknown key '{full}'")
    return CsatConfig(**kwargs)


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
            raise ConfigError(f"{path}: unknown key 'sla.{key}'")
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
            raise ConfigError(f"{path}: unknown key '{key}.{k}'")
    if "query" not in kwargs:
        raise ConfigError(f"{path}: key '{key}.if' is missing")
    return SlaPolicy(**kwargs)


def _snippets(path: Path, table: TomlTable) -> SnippetsConfig:
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        full = f"snippets.{key}"
        if key in ("automate_share", "good_share"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
                raise ConfigError(f"{path}: key '{full}' must be a share above 0 and at most 1 (0.8), not {value!r}")
            kwargs[key] = float(value)
        elif key == "min_uses":
            kwargs[key] = _expect(path, full, value, int, "a whole number")
            if kwargs[key] < 1:
                raise ConfigError(f"{path}: key '{full}' must be 1 or more, not {value!r}")
        elif key == "values":
            kwargs[key] = _snippet_values(path, _expect(path, full, value, dict, "a table"))
        else:
            raise ConfigError(f"{path}: unknown key '{full}'")
    return SnippetsConfig(**kwargs)


# filled by the desk for each reply (desk.replies.placeholder_values): not the team's to set
DESK_PLACEHOLDERS = frozenset({"customer_first_name", "customer_name", "ticket_id", "agent_name", "agent_first_name",
                               "subject", "expected_wait", "incident"})


def _snippet_values(path: Path, table: TomlTable) -> tuple[tuple[str, str], ...]:
    """[snippets.values]: name = "text" for {{name}} in every snippet and reply."""
    out = []
    for name, value in table.items():
        full = f"snippets.values.{name}"
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ConfigError(f"{path}: key '{full}' is not a placeholder name (letters, digits, _)")
        if name in DESK_PLACEHOLDERS:
            raise ConfigError(f"{path}: key '{full}': the desk fills {{{{{name}}}}} itself")
        out.append((name, _expect(path, full, value, str, "a text")))
    return tuple(out)


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
