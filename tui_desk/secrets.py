"""Passwords: from a password_command or the system keyring, never from the config file.

A password never appears in logs, exception messages or reprs: errors name the command's
exit status, not its output.
"""

from __future__ import annotations

import subprocess

from tui_desk.config import ConfigError, ServerConfig


class SecretError(Exception):
    pass


def get_password(server: ServerConfig, where: str) -> str:
    """The password for `server`; `where` names the config key for error messages."""
    if server.password_command:
        try:
            done = subprocess.run(server.password_command, shell=True, capture_output=True, timeout=60,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise SecretError(f"{where}.password_command did not finish within 60 s") from None
        if done.returncode != 0:
            raise SecretError(f"{where}.password_command failed with exit status {done.returncode}")
        lines = done.stdout.decode("utf-8", "replace").splitlines()
        if not lines or not lines[0]:
            raise SecretError(f"{where}.password_command printed no password")
        return lines[0]
    if server.keyring:
        try:
            import keyring  # optional: only needed by accounts that ask for it
        except ImportError:
            raise SecretError(f"{where}.keyring = true, but the Python package 'keyring' is not installed") from None
        secret = keyring.get_password(f"tui-desk:{server.host}", server.username)
        if not secret:
            raise SecretError(f"{where}.keyring: no password stored for {server.username} at "
                              f"tui-desk:{server.host} (store one with: keyring set tui-desk:{server.host} {server.username})")
        return secret
    raise ConfigError(f"{where}: set password_command or keyring = true")


def password_lookup(config):
    """(account name, "imap" | "smtp") -> password or None, each asked for once per run."""
    cache: dict[tuple[str, str], str | None] = {}

    def lookup(account_name: str, kind: str) -> str | None:
        if (account_name, kind) not in cache:
            server = getattr(config.account(account_name), kind)
            cache[(account_name, kind)] = (
                get_password(server, f"{config.path}: accounts.{account_name}.{kind}")
                if server and (server.password_command or server.keyring) else None)
        return cache[(account_name, kind)]
    return lookup
