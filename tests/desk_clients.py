"""Agents' clients on one Dovecot mailbox for the automation tests (rules, timed rules, the
acknowledgement, incidents, the survey): each its own store and desk on a clock the test moves,
a sync whose passes run a runner (desk.rules.fire.RulesRunner, desk.csat.SurveyRunner…) and an
outbox sender to aiosmtpd."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import Any, Callable

from tests.accounts import account_for
from tests.clock import Clock
from tui_desk.config import AccountConfig, Config, ServerConfig
from tui_desk.desk.service import Desk
from tui_desk.sync.delivery import OutboxSender
from tui_desk.sync.imap_sync import AccountSync


# the acknowledgement snippet the rules tests reply with (`reply auto-ack`)
ACK = "---\ntitle: Acknowledgement\n---\nHi {{customer_first_name}}, we have your mail ({{subject}}).\n"


@dataclasses.dataclass
class Agent:
    name: str
    desk: Desk
    sync: AccountSync
    runner: Any  # what runs after each sync pass (its after_pass)
    sender: OutboxSender | None = None
    read_back: bool = False  # a second pass after sending: the Sent copy and History batch read

    async def round(self) -> None:
        """One sync pass (the runner runs after it) and one outbox pass."""
        await self.sync.sync_once()
        if self.sender is not None:
            await self.sender.run_due()
            if self.read_back:
                await self.sync.sync_once()


def snippet_home(tmp_path: Path, monkeypatch, snippets: dict[str, str]) -> Path:
    """`tmp_path` as the XDG config home, with these snippets (name -> file text)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    folder = tmp_path / "xdg" / "tui-desk" / "snippets"
    folder.mkdir(parents=True)
    for name, text in snippets.items():
        (folder / f"{name}.md").write_text(text, encoding="utf-8")
    return tmp_path


def support_account(dovecot, user: str, smtp_sink) -> AccountConfig:
    """The support account: IMAP on the test Dovecot, SMTP to the test sink."""
    return account_for(dovecot, user, display_name="Support",
                       smtp=ServerConfig("127.0.0.1", smtp_sink.port, "starttls", "agent1", ca_file=dovecot.ca_file))


async def open_agent_client(db: Path, config: Config, dovecot, user: str, clock: Clock,
                            runner: Callable[[Desk], Any], sends: bool = True, read_back: bool = False) -> Agent:
    """The desk on `db` with `config`, `runner(desk)` (or what it returns awaited) after each pass of the sync of the config's
    first account, and (`sends`) an outbox sender; `read_back`: see Agent."""
    desk = await Desk.open(db, config, clock=clock)
    running = runner(desk)
    if inspect.isawaitable(running):  # a runner that reads the store first (desk.rules.fire.read_rules)
        running = await running
    account = config.accounts[0]
    sync = AccountSync(desk.store, account, dovecot.password_of(user), is_agent=config.is_agent_address,
                       on_change=desk.refresh)
    sync.after_pass = running.after_pass
    sender = (OutboxSender(desk.store, config, lambda a, k: "secret", on_change=desk.refresh, clock=clock)
              if sends else None)
    return Agent(config.agent, desk, sync, running, sender, read_back)
