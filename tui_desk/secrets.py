"""Passwords and OAuth2 access tokens: from a command or the system keyring, never from the
config file.

A password or token never appears in logs, exception messages or reprs: errors name the
command's exit status and the last line of its stderr, never its output.
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Callable

from tui_desk.config import Config, ConfigError, ServerConfig, default_config_path


class SecretError(Exception):
    """A secret could not be had. `lasting`: asking again cannot help until the config or the
    secret changes (the command is missing or fails, the keyring holds none, the token endpoint
    refuses the refresh); otherwise (a command that hangs, an endpoint out of reach or busy)
    a later try may work."""

    def __init__(self, message: str, *, lasting: bool = False) -> None:
        super().__init__(message)
        self.lasting = lasting


COMMAND_SECONDS = 60  # a command still silent after this has failed (a pinentry nobody answers)
STOP_GRACE = 0.2  # seconds a stopped command has to end after SIGTERM before SIGKILL

# The commands running now, each in a process group of its own: stop_commands ends them (and
# what they started: gpg, a pinentry) when the app quits, instead of waiting for them.
_running: set[subprocess.Popen[bytes]] = set()
_stopped: set[subprocess.Popen[bytes]] = set()  # of those, the ones stop_commands ended
_running_lock = threading.Lock()


def _run(command: str, where: str) -> tuple[int, bytes, bytes]:
    """(exit status, output, errors) of a shell command in a process group of its own."""
    proc = subprocess.Popen(command, shell=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    with _running_lock:
        _running.add(proc)
    try:
        out, err = proc.communicate(timeout=COMMAND_SECONDS)
    except subprocess.TimeoutExpired:
        _end_group(proc, signal.SIGKILL)
        proc.communicate()
        raise SecretError(f"{where} did not finish within {COMMAND_SECONDS} s") from None
    finally:
        with _running_lock:
            _running.discard(proc)
            stopped = proc in _stopped
            _stopped.discard(proc)
    if stopped and proc.returncode != 0:  # ended by stop_commands, not by itself
        raise SecretError(f"{where} was stopped: tui-desk is quitting")
    return proc.returncode, out, err


def _end_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_commands() -> None:
    """End every password or token command running now, with its process group: SIGTERM, then
    SIGKILL for what is still there after STOP_GRACE. Their lookups fail with SecretError."""
    with _running_lock:
        procs = list(_running)
        _stopped.update(procs)
    for proc in procs:
        _end_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    for proc in procs:
        try:
            proc.wait(max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            pass
        _end_group(proc, signal.SIGKILL)  # the shell may be gone and a child of it not


def _failure(returncode: int, stdout: bytes, stderr: bytes) -> str:
    """How a secret's command failed: its exit status (127: the shell found no such program)
    and the last line it wrote on stderr, which says why; left out when it holds any of what
    the command printed (that may be the secret). The one who shows it sanitizes it."""
    said = "not found (exit status 127)" if returncode == 127 else f"failed with exit status {returncode}"
    errors = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    printed = [line.strip() for line in stdout.decode("utf-8", "replace").splitlines() if line.strip()]
    if errors and not any(p in errors[-1] for p in printed):
        said += f": {errors[-1][:200]}"
    return said


def _first_line_of(command: str, where: str, what: str) -> str:
    returncode, stdout, stderr = _run(command, where)
    if returncode != 0:
        raise SecretError(f"{where} {_failure(returncode, stdout, stderr)}", lasting=True)
    lines = stdout.decode("utf-8", "replace").splitlines()
    first = lines[0] if lines else ""
    if what != "password":  # a token or an id has no spaces to keep
        first = first.strip()
    if not first:
        raise SecretError(f"{where} printed no {what}", lasting=True)
    return first


def get_password(server: ServerConfig, where: str) -> str:
    """The password for `server`; `where` names the config key for error messages."""
    if server.password_command:
        return _first_line_of(server.password_command, f"{where}.password_command", "password")
    if server.keyring:
        try:
            import keyring  # optional: only needed by accounts that ask for it
        except ImportError:
            raise SecretError(f"{where}.keyring = true, but the Python package 'keyring' is not installed",
                              lasting=True) from None
        secret: str | None = keyring.get_password(f"tui-desk:{server.host}", server.username)
        if not secret:
            raise SecretError(f"{where}.keyring: no password stored for {server.username} at "
                              f"tui-desk:{server.host} (store one with: keyring set tui-desk:{server.host} {server.username})",
                              lasting=True)
        return secret
    raise ConfigError(f"{where}: set password_command or keyring = true")


# (token URL, client id, host, user) -> (access token, time.monotonic() it stops being used)
_access_tokens: dict[tuple[str, str | None, str, str], tuple[str, float]] = {}
_token_lock = threading.Lock()  # lookups run in threads (off the event loop)


def get_access_token(server: ServerConfig, where: str) -> str:
    """An OAuth2 access token for `server` (auth "xoauth2" / "oauthbearer"): printed by
    oauth2_token_command, or got from oauth2_token_url with the refresh token (the account's
    password_command / keyring) and kept until shortly before it expires."""
    oauth2 = server.oauth2
    if oauth2 is None:
        raise ConfigError(f"{where}: set oauth2_token_command or oauth2_token_url")
    if oauth2.token_command:  # such helpers keep their own cache: ask every time
        return _first_line_of(oauth2.token_command, f"{where}.oauth2_token_command", "access token")
    assert oauth2.token_url is not None
    key = (oauth2.token_url, oauth2.client_id, server.host, server.username)
    with _token_lock:
        token, good_until = _access_tokens.get(key, ("", 0.0))
        if token and time.monotonic() < good_until:
            return token
        form = {"grant_type": "refresh_token", "refresh_token": get_password(server, where),
                "client_id": oauth2.client_id or ""}
        if oauth2.client_secret_command:
            form["client_secret"] = _first_line_of(oauth2.client_secret_command,
                                                   f"{where}.oauth2_client_secret_command", "client secret")
        token, expires_in = _refresh(oauth2.token_url, form, f"{where}.oauth2_token_url")
        _access_tokens[key] = (token, time.monotonic() + max(expires_in - 60, 0))
        return token


def forget_access_token(server: ServerConfig) -> None:
    """The server refused the token (revoked before it expired): refresh it next time."""
    if server.oauth2 is not None and server.oauth2.token_url:
        with _token_lock:
            _access_tokens.pop((server.oauth2.token_url, server.oauth2.client_id, server.host, server.username), None)


def _refresh(url: str, form: dict[str, str], where: str) -> tuple[str, int]:
    """POST a refresh-token grant (RFC 6749 §6); TLS verified. Errors name the endpoint's
    error code, never the tokens or the secret."""
    request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded",
                                              "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30, context=ssl.create_default_context()) as response:
            body = json.load(response)
    except urllib.error.HTTPError as e:
        try:
            error = json.load(e).get("error", "")
        except (ValueError, AttributeError, OSError):
            error = ""
        # 4xx: the refresh token or the client is refused; 5xx, 408, 429: busy, try again later
        raise SecretError(f"{where}: the token endpoint refused the refresh ({e.code} {error or e.reason})".strip(),
                          lasting=400 <= e.code < 500 and e.code not in (408, 429)) from None
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        raise SecretError(f"{where}: cannot reach the token endpoint: {getattr(e, 'reason', e)}") from None
    except ValueError:
        raise SecretError(f"{where}: the token endpoint did not answer JSON") from None
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise SecretError(f"{where}: the token endpoint's answer has no access_token")
    expires_in = body.get("expires_in", 3600)
    return token, expires_in if isinstance(expires_in, int) and expires_in > 0 else 3600


def password_lookup(config: Config) -> Callable[[str, str], str | None]:
    """(account name, "imap" | "smtp") -> password (asked for once per run), OAuth2 access token
    (fresh enough, see get_access_token) or None."""
    cache: dict[tuple[str, str], str | None] = {}

    def lookup(account_name: str, kind: str) -> str | None:
        server: ServerConfig | None = getattr(config.account(account_name), kind)
        where = f"{config.path or default_config_path()}: accounts.{account_name}.{kind}"
        if server is not None and server.auth != "password":
            return get_access_token(server, where)
        if (account_name, kind) not in cache:
            cache[(account_name, kind)] = (
                get_password(server, where) if server and (server.password_command or server.keyring) else None)
        return cache[(account_name, kind)]
    return lookup
