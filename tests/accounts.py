"""Accounts on the suite's Dovecot (and SMTP sink): the config file the CLI reads (and the
`tui-desk sync` command for it), the AccountConfig/Config the desk is opened with, a desk ready to
reply, an agent's own store and sync, and a plain IMAP login to look at the server side."""

from __future__ import annotations

import asyncio
import dataclasses
import imaplib
import re
import sys
import time

from tests.mailfactory import make_mail
from tui_desk.config import AccountConfig, Config, ServerConfig
from tui_desk.desk.service import Desk
from tui_desk.store.queries import thread_message_ids
from tui_desk.sync.delivery import OutboxSender
from tui_desk.sync.imap_sync import AccountSync


def write_config(path, dovecot, user, *, agent: str = "agent1", name: str | None = None, settings: str = "",
                 security: str = "starttls", smtp_port: int | None = None, auth: str | None = None,
                 login: str | None = None):
    """A config for the suite's Dovecot (and, with smtp_port, its SMTP sink); returns `path`.
    settings: more top-level lines. security: of the IMAP connection ("none": plain, no CA file). login: the IMAP sign-in keys (default: a password_command
    printing the user's password); with `auth`, an auth key goes before them and SMTP signs in
    the same way, as `user` (without: as agent1 with its password)."""
    imap_login = f'password_command = "echo {dovecot.password_of(user)}"' if login is None else login
    if auth is None:
        smtp_user, smtp_login = "agent1", 'password_command = "echo secret"'
    else:
        imap_login = smtp_login = f'auth = "{auth}"\n{imap_login}'
        smtp_user = user
    imap_ca = "" if security == "none" else f'ca_file = "{dovecot.ca_file}"'
    text = f"""
agent = "{agent}"
agent_addresses = ["*@helpdesk.test"]
{settings}
[accounts.support]
address = "{user}@helpdesk.test"
{f'name = "{name}"' if name else ""}
folders = ["INBOX"]

[accounts.support.imap]
host = "127.0.0.1"
port = {dovecot.imap_port}
security = "{security}"
username = "{user}"
{imap_login}
{imap_ca}
"""
    if smtp_port is not None:
        text += f"""
[accounts.support.smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "starttls"
username = "{smtp_user}"
{smtp_login}
ca_file = "{dovecot.ca_file}"
"""
    path.write_text(text, encoding="utf-8")
    return path


def sync_cmd(cfg, db) -> list[str]:
    """`tui-desk sync --once` with the config file `cfg` and the store `db`."""
    return [sys.executable, "-m", "tui_desk", "--config", str(cfg), "--db", str(db), "sync", "--once"]


def account_for(dovecot, user, **kw) -> AccountConfig:
    return AccountConfig(
        name="support", address=f"{user}@helpdesk.test",
        imap=ServerConfig("127.0.0.1", dovecot.imap_port, "starttls", user, ca_file=dovecot.ca_file), **kw)


def config_for(dovecot, user, smtp_port, **account) -> Config:
    """Agent Alice answering for `user`'s account, replies through the SMTP sink at smtp_port."""
    acct = account_for(
        dovecot, user, display_name="Helpdesk Support",
        smtp=ServerConfig("127.0.0.1", smtp_port, "starttls", "agent1", ca_file=dovecot.ca_file),
        undo_send_seconds=10, **account)
    return Config(agent="Alice", agent_addresses=("*@helpdesk.test",), accounts=(acct,))


async def replying_desk(tmp_path, dovecot, user, smtp_port, clock=None, **account):
    """Alice's desk on config_for's account with one customer question synced, and its outbox
    sender: (desk, sync, sender, the question's conversation)."""
    dovecot.load_maildir(user, [make_mail("q1@t", sender="Ann Lee <ann@c.test>", subject="Refund for order #123",
                                          body="Where is my refund?\n")])
    cfg = config_for(dovecot, user, smtp_port, **account)
    desk = await Desk.open(tmp_path / "s.db", cfg, clock=clock or time.time)
    sync = AccountSync(desk.store, cfg.accounts[0], dovecot.password_of(user), is_agent=cfg.is_agent_address,
                       on_change=desk.refresh)
    await sync.sync_once()
    sender = OutboxSender(desk.store, cfg, lambda a, k: "secret", on_change=desk.refresh, clock=clock or time.time)
    conv = next(iter(await thread_message_ids(desk.store)))
    return desk, sync, sender, conv


AGENTS = Config(agent_addresses=("*@helpdesk.test",))


async def agent(tmp_path, name, dovecot, user) -> tuple[Desk, AccountSync]:
    """Agent `name` with a store of its own, synced once with `user`'s mailbox."""
    account = account_for(dovecot, user)
    config = dataclasses.replace(AGENTS, agent=name, accounts=(account,))
    desk = await Desk.open(tmp_path / f"{name}.db", config)
    sync = AccountSync(desk.store, account, dovecot.password_of(user),
                       is_agent=config.is_agent_address, on_change=desk.refresh)
    await sync.sync_once()
    return desk, sync


def client(dovecot, user) -> imaplib.IMAP4:
    """A plain imaplib session logged in as `user`, to see what the server holds."""
    c = imaplib.IMAP4("127.0.0.1", dovecot.imap_port, timeout=30)
    c.login(user, dovecot.password_of(user))
    return c


def inbox_flags(dovecot, user) -> dict[str, set[str]]:
    """Message-ID -> the flags of its copy in INBOX, as the server holds them."""
    c = client(dovecot, user)
    try:
        c.select("INBOX")
        _, data = c.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    finally:
        c.logout()
    out: dict[str, set[str]] = {}
    for item in data:
        if not isinstance(item, tuple):
            continue
        flags = re.search(rb"FLAGS \(([^)]*)\)", item[0])
        mid = re.search(rb"<([^>]+)>", item[1])
        if flags and mid:
            out[mid.group(1).decode()] = set(flags.group(1).decode().split())
    return out


async def live(sync: AccountSync, seconds: float = 5.0) -> tuple[asyncio.Event, asyncio.Task[None]]:
    """The sync's run_forever started (stop it with the event, then await the task), returned
    once it is IDLE or after `seconds`: callers that need IDLE assert sync.state themselves."""
    stop = asyncio.Event()
    task = asyncio.create_task(sync.run_forever(stop))
    deadline = time.monotonic() + seconds
    while sync.state != "idle" and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return stop, task
