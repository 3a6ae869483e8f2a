"""Account settings that are refused when the config is read, with the file and the key, rather
than as a traceback when the app first connects."""

from __future__ import annotations

import pytest

from tui_desk.config import ConfigError, load_config


def write(tmp_path, server: str) -> object:
    path = tmp_path / "config.toml"
    path.write_text('[accounts.support]\naddress = "support@example.com"\n\n'
                    f'[accounts.support.smtp]\n{server}\n', encoding="utf-8")
    return path


@pytest.mark.parametrize("host", ["smtp.example.com", "192.0.2.7", "::ffff:10.0.0.1"])
def test_no_encryption_to_another_host_is_refused_at_load(tmp_path, host):
    path = write(tmp_path, f'host = "{host}"\nsecurity = "none"')
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert str(e.value) == (f"{path}: key 'accounts.support.smtp.security' = \"none\" sends in clear text: "
                            f"only for loopback, not {host!r}")
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.3.4.5"])
def test_no_encryption_on_loopback_is_fine(tmp_path, host):
    cfg = load_config(write(tmp_path, f'host = "{host}"\nsecurity = "none"'))
    assert cfg.accounts[0].smtp.security == "none"
