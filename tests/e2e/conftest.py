"""End-to-end shifts: the real `tui-desk` in tmux against the suite's Dovecot and SMTP sink."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e.harness import AgentHome, Terminal
from servers import MaildirMessage
from tui_desk.demo import mailbox as generator

MAILBOX_SEED = 7
MAILBOX_END = dt.datetime.now(dt.timezone.utc)  # ages in the app are against the real clock


def realistic_mailbox(n: int, seed: int = MAILBOX_SEED) -> list[MaildirMessage]:
    """Support mail as the demo generator writes it (customers in four languages, agent replies,
    auto-replies, attachments), dated over the last two weeks."""
    msgs = generator.Generator(n, seed, MAILBOX_END, 14).generate()
    return [MaildirMessage(m.raw, date=m.when) for m in msgs]


@pytest.fixture
def terminals(tmp_path: Path) -> Iterator[list[Terminal]]:
    """Terminals made in a test are stopped after it, whatever happens."""
    made: list[Terminal] = []
    yield made
    for t in made:
        t.stop()


def imported_home(root: Path, messages: int, config_text: str) -> AgentHome:
    """An agent with no account: a store made by `tui-desk import` of realistic mail."""
    mails = root / "mails"
    mails.mkdir()
    for i, m in enumerate(realistic_mailbox(messages)):
        (mails / f"{i}.eml").write_bytes(m.raw)
    config = root / "config.toml"
    config.write_text(config_text)
    home = AgentHome(root, "alice", config, root / "desk.sqlite3", root / "alice.log")
    home.cli("import", str(mails))
    return home
