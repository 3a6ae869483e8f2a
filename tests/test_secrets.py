"""Password commands: a command still running (`pass` waiting on a GPG pinentry) is ended,
with all it started, when the app quits; quitting does not wait for it. A command that fails says
why (its exit status, 127 as "not found", and the last line of its stderr), never what it printed."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import pytest

from tui_desk.config import ServerConfig, load_config
from tui_desk.secrets import SecretError, get_password, password_lookup, stop_commands

from tests.processes import running


def wait_for_file(path: Path, seconds: float = 10.0) -> str:
    deadline = time.monotonic() + seconds
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() < deadline, f"{path} not written within {seconds} s"
        time.sleep(0.02)
    return path.read_text().strip()


def test_a_password_command_still_running_is_killed_with_its_group(tmp_path):
    shell, child = tmp_path / "shell.pid", tmp_path / "child.pid"
    # a shell that started a child and waits for it, as `pass` waits for gpg
    command = f"echo $$ > {shell}; sleep 100 & echo $! > {child}; wait"
    server = ServerConfig("127.0.0.1", 993, "tls", "u", password_command=command)
    outcome: list[BaseException | str] = []

    def ask() -> None:
        try:
            outcome.append(get_password(server, "accounts.support.imap"))
        except BaseException as e:  # noqa: BLE001 - what the thread ended with is the test's
            outcome.append(e)

    asking = threading.Thread(target=ask)
    asking.start()
    pids = [int(wait_for_file(shell)), int(wait_for_file(child))]
    assert all(running(pid) for pid in pids)
    stop_commands()
    asking.join(10)
    assert not asking.is_alive()
    assert [type(o) for o in outcome] == [SecretError]
    assert "stopped" in str(outcome[0])
    deadline = time.monotonic() + 10  # the killed are reaped by init: that may take a moment
    while any(running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [pid for pid in pids if running(pid)] == []


def test_a_password_command_after_stop_still_runs():
    """Stopping ends what runs now; the next lookup (a later sync) works as before."""
    stop_commands()
    server = ServerConfig("127.0.0.1", 993, "tls", "u", password_command="echo s3cret")
    assert get_password(server, "accounts.support.imap") == "s3cret"


def test_a_failing_command_says_its_exit_status_not_its_output():
    server = ServerConfig("127.0.0.1", 993, "tls", "u", password_command="echo s3cret; exit 3")
    with pytest.raises(SecretError) as e:
        get_password(server, "accounts.support.imap")
    assert "exit status 3" in str(e.value) and "s3cret" not in str(e.value)


def config_with(tmp_path, command: str):
    path = tmp_path / "c.toml"
    path.write_text('[accounts.support]\naddress = "support@example.com"\n\n'
                    '[accounts.support.imap]\nhost = "imap.example.com"\nusername = "support@example.com"\n'
                    f"password_command = {json.dumps(command)}\n", encoding="utf-8")
    return load_config(path)


@pytest.mark.parametrize("command, said", [
    ("no-such-pass-helper show support", r"not found \(exit status 127\): .*no-such-pass-helper.*not found"),
    ("echo 'gpg: decryption failed: No secret key' >&2; exit 2",
     r"failed with exit status 2: gpg: decryption failed: No secret key"),
    # what it printed may be the password: a stderr line holding it is not shown
    ("echo Hunter2-secret; echo 'bad Hunter2-secret' >&2; exit 1", r"failed with exit status 1"),
])
def test_a_failing_password_command_says_why_without_the_password(tmp_path, command, said):
    cfg = config_with(tmp_path, command)
    with pytest.raises(SecretError) as e:
        password_lookup(cfg)("support", "imap")
    prefix = f"{tmp_path / 'c.toml'}: accounts.support.imap.password_command "
    assert str(e.value).startswith(prefix) and re.fullmatch(said, str(e.value)[len(prefix):]), str(e.value)
    assert "Hunter2" not in str(e.value)
