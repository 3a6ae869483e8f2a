"""End-to-end shifts: the real `tui-desk` in tmux against the suite's Dovecot and SMTP sink."""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e.harness import AgentHome, Terminal, agent_home
from servers import MaildirMessage
from tui_desk.demo import mailbox as generator

PROPAGATION = 2.0  # seconds the issue allows for a change to reach a screen (a teammate's, too)
MAILBOX_SEED = 7
MAILBOX_END = dt.datetime.now(dt.timezone.utc)  # ages in the app are against the real clock


def realistic_mailbox(n: int, seed: int = MAILBOX_SEED) -> list[MaildirMessage]:
    """Support mail as the demo generator writes it (customers in four languages, agent replies,
    auto-replies, attachments), dated over the last two weeks."""
    msgs = generator.Generator(n, seed, MAILBOX_END, 14).generate()
    return [MaildirMessage(m.raw, date=m.when) for m in msgs]


class Terminals(list):
    """The terminals a test opened; the fixture stops them after it, whatever happens."""

    def __init__(self, workdir: Path) -> None:
        super().__init__()
        self.workdir = workdir

    def open(self, argv: list[str], env: dict[str, str] | None = None, *, width: int = 120,
             height: int = 40, name: str = "app") -> Terminal:
        term = Terminal(self.workdir, width=width, height=height, name=name)
        self.append(term)
        return term.start(argv, env)

    def open_home(self, home: AgentHome, **size) -> Terminal:
        """The app as this agent starts it: their config, store and XDG folders."""
        return self.open(home.argv(), home.env(), **size)


@pytest.fixture
def terminals(tmp_path: Path) -> Iterator[Terminals]:
    made = Terminals(tmp_path)
    yield made
    for t in made:
        t.stop()


def home_with_mail(dovecot, root: Path, messages: int, **account) -> tuple[str, AgentHome]:
    """(a fresh mailbox on the suite's Dovecot holding realistic mail, alice's config for it)."""
    user = dovecot.new_user()
    dovecot.load_maildir(user, realistic_mailbox(messages))
    return user, agent_home(root / "alice", "alice", dovecot, user, **account)


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


def fresh_mail(msgid: str, subject: str, sender: str = "Zed Quill <zed@customer.test>") -> bytes:
    return (f"From: {sender}\r\nTo: support@helpdesk.test\r\nSubject: {subject}\r\n"
            f"Date: {email.utils.formatdate()}\r\nMessage-ID: <{msgid}>\r\n\r\nHello?\r\n").encode()
