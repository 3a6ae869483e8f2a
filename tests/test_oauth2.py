"""OAuth2 (XOAUTH2, OAUTHBEARER) as Gmail and Microsoft 365 require it, against Dovecot's own
oauth2 passdb asking a local token endpoint (tests/oauth2_server.py), and the SMTP sink."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from oauth2_server import CLIENT_ID, CLIENT_SECRET, OAuth2Endpoint, access_token, refresh_token
from servers import DovecotServer, SmtpSink, failing_login_source, running_dovecot
from tests.accounts import write_config
from tests.mailfactory import make_mail
from tui_desk.config import load_config
from tui_desk.desk.replies import queue_reply
from tui_desk.desk.service import Desk
from tui_desk.mail.imap import ImapAuthError, ImapConnection, sasl_oauth2
from tui_desk.sync.delivery import OutboxSender
from tui_desk.sync.imap_sync import AccountSync
from tui_desk.secrets import SecretError, password_lookup
from tui_desk.store import outbox
from tui_desk.store.queries import thread_message_ids


@pytest.fixture(scope="module")
def oauth2_endpoint() -> Iterator[OAuth2Endpoint]:
    endpoint = OAuth2Endpoint()
    endpoint.start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


@pytest.fixture(scope="module")
def oauth2_dovecot(tmp_path_factory, tls_files, oauth2_endpoint) -> Iterator[DovecotServer]:
    """A Dovecot of its own that also takes bearer tokens (passwords keep working)."""
    with running_dovecot(tmp_path_factory.getbasetemp(), tls_files, oauth2_url=oauth2_endpoint.url) as server:
        yield server


@pytest.mark.parametrize("mechanism", ["XOAUTH2", "OAUTHBEARER"])
@pytest.mark.parametrize("sasl_ir", [True, False])
async def test_imap_authenticate_with_a_bearer_token(oauth2_dovecot, mechanism, sasl_ir):
    user = oauth2_dovecot.new_user()
    conn = ImapConnection("127.0.0.1", oauth2_dovecot.imap_port, security="starttls", ca_file=oauth2_dovecot.ca_file)
    await conn.connect()
    assert {f"AUTH={mechanism}", "SASL-IR"} <= conn.capabilities
    if not sasl_ir:  # as a server without SASL-IR: the token waits for the server's "+"
        conn._proto.capabilities.discard("SASL-IR")
    await conn.authenticate_oauth2(user, access_token(user), mechanism)
    assert "CONDSTORE" in conn.capabilities  # learnt after login, as with LOGIN
    assert [f.name for f in await conn.list_folders()]
    await conn.logout()


@pytest.mark.parametrize("mechanism", ["XOAUTH2", "OAUTHBEARER"])
async def test_imap_wrong_token_is_the_one_line_login_error(oauth2_dovecot, mechanism):
    user = oauth2_dovecot.new_user()
    conn = ImapConnection("127.0.0.1", oauth2_dovecot.imap_port, security="starttls", ca_file=oauth2_dovecot.ca_file,
                          source_address=failing_login_source())
    await conn.connect()
    with pytest.raises(ImapAuthError) as e:
        await conn.authenticate_oauth2(user, "wrong-token", mechanism)
    assert str(e.value).startswith(f"login failed for {user} at ") and "\n" not in str(e.value)
    assert "wrong-token" not in str(e.value)
    conn.close()


# -- the whole path: config keys, token lookup, sync --once, the outbox ------------------------------


NO_SERVER = SimpleNamespace(imap_port=9, ca_file=__file__)  # for configs that never connect


def token_command_keys(user: str, token: str | None = None) -> str:
    return f'oauth2_token_command = "echo {token or access_token(user)}"'


def refresh_flow_keys(user: str, endpoint: OAuth2Endpoint) -> str:
    return (f'oauth2_token_url = "{endpoint.url}/token"\noauth2_client_id = "{CLIENT_ID}"\n'
            f'oauth2_client_secret_command = "echo {CLIENT_SECRET}"\npassword_command = "echo {refresh_token(user)}"')


async def run_cli(*argv) -> subprocess.CompletedProcess:
    return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "tui_desk", *map(str, argv)],
                                   capture_output=True, text=True, timeout=120)


def secret_forms(user: str, token: str) -> list[str]:
    """The token as such and inside each SASL message, as a log could hold it."""
    return [token, *(base64.b64encode(sasl_oauth2(m, user, token)).decode() for m in ("XOAUTH2", "OAUTHBEARER"))]


@pytest.mark.parametrize("auth, how", [("xoauth2", "token_command"), ("oauthbearer", "refresh_flow")])
async def test_sync_once_signs_in_with_oauth2_and_keeps_the_token_out_of_the_log(
        tmp_path, oauth2_dovecot, oauth2_endpoint, auth, how):
    user = oauth2_dovecot.new_user()
    oauth2_dovecot.load_maildir(user, [make_mail("o1@t", subject="Token test")])
    keys = token_command_keys(user) if how == "token_command" else refresh_flow_keys(user, oauth2_endpoint)
    cfg = write_config(tmp_path / "config.toml", oauth2_dovecot, user, auth=auth, login=keys)
    before = len(oauth2_endpoint.token_requests())
    log = tmp_path / "debug.log"
    done = await run_cli("--config", cfg, "--db", tmp_path / "d.db", "--log", log, "sync", "--once")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("support: ") and "1 new" in done.stdout
    refreshes = oauth2_endpoint.token_requests()[before:]
    assert len(refreshes) == (1 if how == "refresh_flow" else 0)
    text = log.read_text()
    assert f"AUTHENTICATE {auth.upper()} ****" in text
    for secret in [*secret_forms(user, access_token(user)), refresh_token(user), CLIENT_SECRET]:
        assert secret not in text and secret not in done.stderr


def test_refreshed_token_is_kept_until_shortly_before_it_expires(tmp_path, oauth2_endpoint):
    user = "agent1"
    cfg = load_config(write_config(tmp_path / "c.toml", NO_SERVER,
                                   user, auth="xoauth2", login=refresh_flow_keys(user, oauth2_endpoint)))
    lookup = password_lookup(cfg)
    before = len(oauth2_endpoint.token_requests())
    assert lookup("support", "imap") == lookup("support", "imap") == access_token(user)
    assert len(oauth2_endpoint.token_requests()) == before + 1, "cached while valid"
    sent = oauth2_endpoint.token_requests()[-1]
    assert sent == {"grant_type": "refresh_token", "refresh_token": refresh_token(user), "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET}
    oauth2_endpoint.expires_in = 30  # less than the safety margin: every lookup refreshes
    try:
        cfg2 = load_config(write_config(tmp_path / "c2.toml", NO_SERVER,
                                        "agent2", auth="xoauth2", login=refresh_flow_keys("agent2", oauth2_endpoint)))
        lookup2 = password_lookup(cfg2)
        lookup2("support", "imap")
        lookup2("support", "imap")
        assert len(oauth2_endpoint.token_requests()) == before + 3
    finally:
        oauth2_endpoint.expires_in = 3600


def test_a_refused_refresh_is_one_line_without_secrets(tmp_path, oauth2_endpoint):
    keys = refresh_flow_keys("nobody", oauth2_endpoint).replace(CLIENT_SECRET, "not-the-secret")
    cfg = load_config(write_config(tmp_path / "c.toml", NO_SERVER,
                                   "nobody", auth="xoauth2", login=keys))
    with pytest.raises(SecretError) as e:
        password_lookup(cfg)("support", "imap")
    assert str(e.value) == (f"{tmp_path / 'c.toml'}: accounts.support.imap.oauth2_token_url: "
                            f"the token endpoint refused the refresh (400 invalid_grant)")
    assert "not-the-secret" not in str(e.value) and "refresh-nobody" not in str(e.value)


@pytest.mark.parametrize("auth", ["xoauth2", "oauthbearer"])
async def test_reply_goes_out_over_smtp_with_oauth2_and_is_filed_in_sent(tmp_path, oauth2_dovecot, tls_files, auth):
    sink = SmtpSink(tls=tls_files, oauth2=True)
    sink.start()
    try:
        user = oauth2_dovecot.new_user()
        oauth2_dovecot.load_maildir(user, [make_mail("q@t", sender="Ann <ann@c.test>", subject="Help")])
        cfg = load_config(write_config(tmp_path / "c.toml", oauth2_dovecot, user, auth=auth, login=token_command_keys(user),
                                       smtp_port=sink.port))
        desk = await Desk.open(tmp_path / "s.db", cfg)
        lookup = password_lookup(cfg)
        await AccountSync(desk.store, cfg.accounts[0], lambda: lookup("support", "imap"),
                          is_agent=cfg.is_agent_address).sync_once()
        sender = OutboxSender(desk.store, cfg, lookup, clock=time.time)
        conv = next(iter(await thread_message_ids(desk.store)))
        q = await queue_reply(desk, conv, "Token-signed", send_at=0)
        assert (await sender.run_due()).sent == [q.message_id]
        assert sink.oauth2_logins == [(auth.upper(), user)]
        assert sink.wait_for(1)[0].auth_user == user
        assert (await outbox.get(desk.store, q.outbox_id)).state == "done", "filed in Sent over IMAP with the token"
        await desk.close()
    finally:
        sink.stop()


async def test_smtp_wrong_token_fails_once_with_the_login_line(tmp_path, oauth2_dovecot, tls_files):
    sink = SmtpSink(tls=tls_files, oauth2=True)
    sink.start()
    try:
        user = oauth2_dovecot.new_user()
        oauth2_dovecot.load_maildir(user, [make_mail("q@t", sender="Ann <ann@c.test>", subject="Help")])
        cfg = load_config(write_config(tmp_path / "c.toml", oauth2_dovecot, user, auth="oauthbearer",
                                       login=token_command_keys(user), smtp_port=sink.port))
        desk = await Desk.open(tmp_path / "s.db", cfg)
        lookup = password_lookup(cfg)
        await AccountSync(desk.store, cfg.accounts[0], lambda: lookup("support", "imap"),
                          is_agent=cfg.is_agent_address).sync_once()
        sender = OutboxSender(desk.store, cfg, lambda a, k: "wrong-token", clock=time.time)
        conv = next(iter(await thread_message_ids(desk.store)))
        q = await queue_reply(desk, conv, "Nope", send_at=0)
        assert (await sender.run_due()).failed == [q.message_id]
        error = (await outbox.get(desk.store, q.outbox_id)).last_error
        assert error.startswith(f"127.0.0.1:{sink.port}: login failed (535") and "wrong-token" not in error
        assert sink.messages == []
        await desk.close()
    finally:
        sink.stop()


async def test_a_cached_token_the_server_refuses_is_refreshed_at_the_next_try(tmp_path, oauth2_dovecot, oauth2_endpoint,
                                                                              monkeypatch):
    from tui_desk import secrets
    from tui_desk.sync import imap_sync as sync_module
    # each connection from an address of its own: Dovecot slows logins from where one failed
    monkeypatch.setattr(sync_module, "ImapConnection",
                        lambda *a, **kw: ImapConnection(*a, source_address=failing_login_source(), **kw))
    user = oauth2_dovecot.new_user()
    cfg = load_config(write_config(tmp_path / "c.toml", oauth2_dovecot, user, auth="xoauth2",
                                   login=refresh_flow_keys(user, oauth2_endpoint)))
    server = cfg.accounts[0].imap
    lookup = password_lookup(cfg)
    lookup("support", "imap")
    key = (server.oauth2.token_url, CLIENT_ID, server.host, server.username)
    secrets._access_tokens[key] = ("revoked-token", time.monotonic() + 3600)  # revoked early
    desk = await Desk.open(tmp_path / "s.db", cfg)
    sync = AccountSync(desk.store, cfg.accounts[0], lambda: lookup("support", "imap"), is_agent=cfg.is_agent_address)
    before = len(oauth2_endpoint.token_requests())
    with pytest.raises(ImapAuthError):
        await sync.connect()
    conn = await sync.connect()  # refreshed: signed in
    assert conn.user == user and len(oauth2_endpoint.token_requests()) == before + 1
    await conn.logout()
    await desk.close()


# Late in this module: a failed login from 127.0.0.1 slows this Dovecot's next logins from there.
async def test_sync_once_with_a_wrong_token_is_the_one_line_login_error(tmp_path, oauth2_dovecot):
    user = oauth2_dovecot.new_user()
    cfg = write_config(tmp_path / "config.toml", oauth2_dovecot, user, auth="xoauth2",
                       login=token_command_keys(user, "wrong-token"))
    log = tmp_path / "debug.log"
    done = await run_cli("--config", cfg, "--db", tmp_path / "d.db", "--log", log, "sync", "--once")
    assert done.returncode != 0
    [line] = done.stderr.splitlines()
    # the live sync's line since sync --once judges a failed connect as it does (exit 1)
    assert done.returncode == 1
    assert line.startswith(f"tui-desk: sync: support: login failed for {user} at 127.0.0.1:{oauth2_dovecot.imap_port}: "), line
    assert "wrong-token" not in done.stderr and "wrong-token" not in log.read_text()
