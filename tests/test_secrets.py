"""Passwords from a command (tui_desk.secrets): a command that fails says why (its exit status,
127 as "not found", and the last line of its stderr), never what it printed."""

from __future__ import annotations

import json
import re

import pytest

from tui_desk.config import load_config
from tui_desk.secrets import SecretError, password_lookup


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
