"""[accounts.NAME] and its [accounts.NAME.imap] / [accounts.NAME.smtp] servers: addresses,
folders, TLS, ports, passwords and OAuth2 tokens (where they come from, never the secrets)."""

from __future__ import annotations

import ipaddress
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeGuard

from tui_desk.config.common import ConfigError, TomlTable, _expect, _str_list, _unknown_key


Security = Literal["tls", "starttls", "none"]
Auth = Literal["password", "xoauth2", "oauthbearer"]


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
            raise _unknown_key(path, f"{key}.{k}", known)
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
            raise _unknown_key(path, f"{key}.{k}", known)
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
