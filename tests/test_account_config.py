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


def imap(tmp_path, keys: str):
    path = tmp_path / "config.toml"
    path.write_text('[accounts.support]\naddress = "support@example.com"\n\n'
                    f'[accounts.support.imap]\nhost = "imap.example.com"\nusername = "support@example.com"\n{keys}\n',
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("keys, auth", [
    ('oauth2_token_command = "oama access support@example.com"', "xoauth2"),  # auth follows the keys
    ('auth = "oauthbearer"\noauth2_token_command = "oama access support@example.com"', "oauthbearer"),
    ('auth = "xoauth2"\noauth2_token_url = "https://oauth2.googleapis.com/token"\noauth2_client_id = "id"\n'
     'oauth2_client_secret_command = "pass show oauth/secret"\npassword_command = "pass show oauth/refresh"', "xoauth2"),
    ('oauth2_token_url = "http://127.0.0.1:8080/token"\noauth2_client_id = "id"\nkeyring = true', "xoauth2"),
])
def test_oauth2_settings(tmp_path, keys, auth):
    server = load_config(imap(tmp_path, keys)).accounts[0].imap
    assert server.auth == auth and server.oauth2 is not None


@pytest.mark.parametrize("keys, message", [
    ('auth = "oauth"', "key 'accounts.support.imap.auth' must be \"password\", \"xoauth2\" or \"oauthbearer\", not 'oauth'"),
    ('auth = "xoauth2"', "key 'accounts.support.imap.auth' = 'xoauth2' needs oauth2_token_command or oauth2_token_url (one of them)"),
    ('auth = "password"\noauth2_token_command = "x"', "key 'accounts.support.imap.oauth2_token_command' needs auth = \"xoauth2\" or \"oauthbearer\""),
    ('oauth2_token_command = "x"\npassword_command = "y"',
     "keys 'accounts.support.imap.oauth2_token_command' and 'accounts.support.imap.password_command'/'keyring': use one of them"),
    ('oauth2_token_url = "http://auth.example.com/token"\noauth2_client_id = "id"\npassword_command = "y"',
     "key 'accounts.support.imap.oauth2_token_url' must be an https:// URL, not 'http://auth.example.com/token'"),
    ('oauth2_token_url = "https://auth.example.com/token"\npassword_command = "y"',
     "key 'accounts.support.imap.oauth2_client_id' is missing (oauth2_token_url needs it)"),
    ('oauth2_token_url = "https://auth.example.com/token"\noauth2_client_id = "id"',
     "key 'accounts.support.imap.oauth2_token_url' needs the refresh token from "
     "'accounts.support.imap.password_command' or 'accounts.support.imap.keyring'"),
])
def test_oauth2_settings_that_cannot_work_are_refused_at_load(tmp_path, keys, message):
    path = imap(tmp_path, keys)
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert str(e.value) == f"{path}: {message}"


@pytest.mark.parametrize("text, said", [
    ('agent_adresses = ["*@x.test"]\n', "unknown key 'agent_adresses' (did you mean 'agent_addresses'?)"),
    ("[priority]\nresponse_target_minute = 60\n",
     "unknown key 'priority.response_target_minute' (did you mean 'priority.response_target_minutes'?)"),
    ('[accounts.support]\naddress = "s@x.test"\n[accounts.support.imap]\nhost = "h"\npasword_command = "pass x"\n',
     "unknown key 'accounts.support.imap.pasword_command' (did you mean 'accounts.support.imap.password_command'?)"),
    ('[[sla.policy]]\nif = "tag:x"\nfirst_respons_minutes = 5\n',
     "unknown key 'sla.policy[1].first_respons_minutes' (did you mean 'sla.policy[1].first_response_minutes'?)"),
    ("[csat]\nenable = true\n", "unknown key 'csat.enable' (did you mean 'csat.enabled'?)"),
    ('colour = "red"\n', "unknown key 'colour'"),  # nothing near: no guess
])
def test_a_mistyped_key_is_answered_with_the_nearest_known_one(tmp_path, text, said):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert str(e.value) == f"{path}: {said}"
