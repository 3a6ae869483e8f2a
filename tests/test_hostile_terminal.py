"""Nothing a mail says reaches the terminal as a control: the CLI's lines, and the raw byte
stream the app writes into a real terminal (tmux)."""

from __future__ import annotations

import asyncio
import ctypes
import re
from email.header import Header
from pathlib import Path

import pytest

from e2e.harness import TUI_DESK, Terminal
from tui_desk.cli import main

# ESC, C0 but \n \t, DEL, C1: none of these may come out of a line built from mail
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# The hostile sender: the address writes the clipboard (OSC 52) and a hyperlink (OSC 8)
OSC_ADDRESS = '"\x1b]52;c;aGk=\x1b\\\x1b]8;;https://evil.example\x1b\\"@x.example'
CONFIG = """\
agent = "alice"
agent_addresses = ["*@helpdesk.test"]

[accounts.support]
address = "support@helpdesk.test"
name = "Support"
"""


def osc_mail(n: int, subject: str) -> bytes:
    return (f"From: x <{OSC_ADDRESS}>\nTo: support@helpdesk.test\nSubject: {subject}\n"
            f"Date: Fri, 20 Nov 2026 10:0{n}:00 +0000\nMessage-ID: <osc{n}@hostile.example>\n\n"
            "Hello\n").encode()


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def hostile_cli(tmp_path, capsys):
    """(--db, --config) arguments for a store holding the hostile sender's mail."""
    mails = tmp_path / "mail"
    mails.mkdir()
    (mails / "1.eml").write_bytes(osc_mail(1, "Clipboard \x1b]52;c;aGk=\x07 \x9b31m red"))
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    args = ("--db", tmp_path / "desk.db", "--config", config)
    code, out, err = run(capsys, *args, "import", mails)
    assert code == 0, err
    (tmp_path / "body.md").write_text("Hello\n")
    return args


def test_cli_reply_to_an_address_with_escapes_is_refused_in_one_clean_line(hostile_cli, capsys):
    """No such address can be written on the wire (compose refuses it): said in one line, in
    which the escapes are shown as text, and nothing is queued."""
    code, out, err = run(capsys, *hostile_cli, "reply", "1", "--body-file", hostile_cli[1].parent / "body.md", "--send-at", "2h")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "is not an email address" in err and "@x.example" in err and not CONTROL.search(err)

    code, out, err = run(capsys, *hostile_cli, "outbox")
    assert out == "Outbox is empty.\n" and not CONTROL.search(out + err)

    code, out, err = run(capsys, *hostile_cli, "queue")
    assert "Clipboard" in out and not CONTROL.search(out + err)


async def _queue_for_the_hostile_address(desk) -> int:
    """An outbox item to the hostile address, as an older tui-desk could have queued it, left
    refused by the server."""
    from tui_desk.store import outbox

    async with desk.store.transaction():
        item = await outbox.add(desk.store, account="support", conv_id=1, message_id="<old@helpdesk.test>",
                                raw=b"x", mail_from="support@helpdesk.test", recipients=[OSC_ADDRESS],
                                body_markdown="Hello", send_at=0)
        await desk.store.execute("UPDATE outbox SET state = 'failed'")
    return item


async def test_desk_lines_about_a_send_have_no_controls(hostile_cli, capsys):
    from tui_desk.config import load_config
    from tui_desk.desk.service import Desk

    config = load_config(hostile_cli[3], required=True)
    desk = await Desk.open(hostile_cli[1], config)
    try:
        with pytest.raises(Exception) as refused:
            await desk.reply(1, "Hello")
        assert "is not an email address" in str(refused.value) and not CONTROL.search(str(refused.value))
        outbox_id = await _queue_for_the_hostile_address(desk)
        said = await desk.send_anyway(outbox_id)
        assert "@x.example" in said and not CONTROL.search(said)
        assert all(not CONTROL.search(r) for e in await desk.outbox() for r in e.recipients)
    finally:
        await desk.close()


async def test_cli_resend_line_has_no_controls(hostile_cli, capsys, monkeypatch):
    import tui_desk.cli as cli
    from tui_desk.config import load_config
    from tui_desk.desk.service import Desk

    desk = await Desk.open(hostile_cli[1], load_config(hostile_cli[3], required=True))
    try:
        outbox_id = await _queue_for_the_hostile_address(desk)
    finally:
        await desk.close()

    from tui_desk.sync.delivery import OutboxReport

    class NoSend:  # the outbox's pass sends nothing: the command says so, naming the address
        async def run_due(self):
            return OutboxReport()

    monkeypatch.setattr(cli.commands, "outbox_sender", lambda desk, config: NoSend())
    code, out, err = await asyncio.to_thread(run, capsys, *hostile_cli, "outbox", "--resend", str(outbox_id))
    assert code == 1, err  # not sent
    assert f"sending #{outbox_id} to" in out and "@x.example" in out
    assert f"outbox #{outbox_id} to" in err and "@x.example" in err and "not sent" in err
    assert not CONTROL.search(out + err)


def test_json_output_escapes_what_a_terminal_would_obey(tmp_path, capsys):
    import json

    mails = tmp_path / "mail"
    mails.mkdir()
    # a Message-ID is kept as sent: here with a C1 CSI (UTF-8 encoded) and a bidi override
    (mails / "1.eml").write_bytes("From: a@b.test\nSubject: x\nMessage-ID: <a\x9b31m\u202eb@x>\n\nhi\n".encode())
    args = ("--db", tmp_path / "desk.db")
    assert run(capsys, *args, "import", mails)[0] == 0
    code, out, err = run(capsys, *args, "threads", "--json")
    assert code == 0, err
    assert not re.search("[\x80-\x9f\u202e]", out) and not CONTROL.search(out.replace("\n", ""))
    assert json.loads(out)[0]["messages"] == ["a\x9b31m\u202eb@x"]  # the data is the same


def test_warnings_logged_with_a_servers_words_are_sanitized(capsys):
    import logging

    from tui_desk.cli import log_warnings_sanitized

    log_warnings_sanitized()
    logging.getLogger("tui_desk.sync.imap_sync").warning("%s: %s", "acct", "NO \x1b]52;c;aGk=\x07[b]x\x9b31m")
    assert capsys.readouterr().err == "acct: NO [b]x\n"


def test_say_sanitizes_every_line(capsys):
    from tui_desk.cli import say

    say("a \x1b]52;c;aGk=\x07b \x9b31mc\x1b[0m")
    assert capsys.readouterr().out == "a b c\n"


# --- in a real terminal: tmux (tests/e2e/harness.py) -----------------------------------------


DEADLINE = 60.0  # seconds for the app to show what is waited for; a hung app fails, never waits forever


class Session:
    """The app in a 120x40 tmux terminal (tests/e2e/harness.Terminal), read as lines."""

    def __init__(self, tmp_path: Path) -> None:
        self.home = tmp_path / "home"
        self.home.mkdir(exist_ok=True)
        self.terminal = Terminal(tmp_path, width=120, height=40)

    def start(self, command: list[str]) -> None:
        self.terminal.start(command, {"XDG_STATE_HOME": str(self.home / "state"), "HOME": str(self.home),
                                      "XDG_CONFIG_HOME": str(self.home / "config"),
                                      "XDG_DATA_HOME": str(self.home / "data")})

    def wait_for(self, condition, what: str) -> list[str]:  # noqa: ANN001 - lines -> bool
        return self.terminal.wait_for(lambda s: condition(s.splitlines()), DEADLINE, what).splitlines()

    def keys(self, *keys: str) -> None:
        if keys[:1] == ("-l",):
            self.terminal.type(keys[1])
        else:
            self.terminal.keys(*keys)

    def raw_output(self) -> bytes:
        return self.terminal.raw_output()


@pytest.fixture
def tmux_session(tmp_path):
    session = Session(tmp_path)
    try:
        yield session
    finally:
        session.terminal.stop()


_libc = ctypes.CDLL(None)
_libc.wcwidth.argtypes = [ctypes.c_wchar]
_libc.wcwidth.restype = ctypes.c_int


def terminal_width(char: str) -> int:
    """How many cells tmux gives ``char``: tmux (built without utf8proc, as Debian's is) asks the
    C library's wcwidth; zero-width characters join the cell before."""
    return max(_libc.wcwidth(char), 0)


BORDERS = set("│╭╮╰╯")


def border_columns(line: str) -> list[int]:
    """The cell columns of the panes' vertical borders on one captured line."""
    cols, x = [], 0
    for char in line:
        if char in BORDERS:
            cols.append(x)
        x += terminal_width(char)
    return cols


EMOJI_MAIL = [
    ("Ann Lee", "ann@c.test", "Plain subject one"),
    ("Ann ❤️", "heart@c.test", "Thanks ❤️ for the help"),
    ("Bo 👩‍💻", "dev@c.test", "Dev 👩‍💻 question"),
    ("Cy", "cy@c.test", "🙏 please refund"),
    ("Di ☺️", "di@c.test", "Smile ☺️ ok"),
    ("Ed", "ed@c.test", "Press 1️⃣ now"),
    ("Fay 🇫🇷", "fay@c.test", "Trip 🇫🇷 booking"),
    ("Gus", "gus@c.test", "Great 👍🏽 work 🏳️‍🌈"),
    ("Hal", "hal@c.test", "Plain subject two"),
]


def emoji_store(tmp_path: Path, capsys) -> tuple[Path, Path]:
    mails = tmp_path / "emoji"
    mails.mkdir()
    for i, (name, addr, subject) in enumerate(EMOJI_MAIL):
        (mails / f"{i}.eml").write_bytes(
            (f"From: {Header(name, 'utf-8').encode()} <{addr}>\nTo: support@helpdesk.test\n"
             f"Subject: {Header(subject, 'utf-8').encode()}\nDate: Fri, 20 Nov 2026 10:0{i}:00 +0000\n"
             f"Message-ID: <e{i}@c.test>\nContent-Type: text/plain; charset=utf-8\n"
             "Content-Transfer-Encoding: 8bit\n\n"
             f"Hello {subject}\n").encode())
    config = tmp_path / "config.toml"
    config.write_text('agent = "alice"\nagent_addresses = ["*@helpdesk.test"]\n')
    db = tmp_path / "emoji.db"
    code, out, err = run(capsys, "--db", db, "--config", config, "import", mails)
    assert code == 0, err
    return db, config


def test_emoji_rows_line_up_in_tmux(tmp_path, capsys, tmux_session):
    db, config = emoji_store(tmp_path, capsys)
    tmux_session.start([str(TUI_DESK), "--db", str(db), "--config", str(config)])
    lines = tmux_session.wait_for(lambda ls: any("Plain subject two" in line for line in ls), "the queue")
    expected = border_columns(lines[0])  # the top line: each pane's corners
    assert len(expected) == 6, lines[0]
    rows = lines[1:len(EMOJI_MAIL) * 2 + 1]
    for line in rows:
        assert border_columns(line) == expected, "\n".join(lines)

    # a search shows other rows over the same cells: nothing of the old ones may stay
    tmux_session.keys("/")
    tmux_session.keys("-l", "Plain")
    lines = tmux_session.wait_for(lambda ls: not any("Thanks" in line for line in ls), "the search")
    for line in lines[1:12]:
        assert border_columns(line) == expected, "\n".join(lines)
    # and the open conversation: its body has the emoji too
    tmux_session.keys("Escape")
    tmux_session.wait_for(lambda ls: any("Thanks" in line for line in ls), "the queue again")
    tmux_session.keys("g", "j", "Enter")
    lines = tmux_session.wait_for(lambda ls: any("Hello Thanks" in line for line in ls), "the conversation")
    for line in lines[1:30]:
        assert border_columns(line)[:4] == expected[:4], "\n".join(lines)


# --- the raw stream the app writes -----------------------------------------------------------


def q(text: str) -> str:
    """An RFC 2047 encoded word: how a sender gets any byte into a header."""
    return "=?utf-8?q?" + "".join(f"={b:02X}" for b in text.encode()) + "?="


# Every kind of terminal string a sender might try, in names, subjects and bodies.
ATTACKS = {
    "osc52": "\x1b]52;c;aGk=\x07",
    "osc8": "\x1b]8;;https://evil.example/o\x1b\\",
    "dcs": "\x1bP1$qm\x1b\\",
    "apc": "\x1b_Gf=100;AAAA\x1b\\",
    "pm": "\x1b^pm\x1b\\",
    "sos": "\x1bXsos\x1b\\",
    "c1": "\x9b31m\x9d0;t\x9c",
}
MARKUP = [
    '[link="https://evil.example/x"]Click to verify[/link]',
    "[@click=app.quit]x[/]",
    "Refund [/nope]",
]
SEARCH = dict(zip(MARKUP, ("verify", "quit", "refund")))


def hostile_terminal_mail(folder: Path) -> None:
    n = 0
    for i, subject in enumerate(MARKUP):
        attack = list(ATTACKS.values())[i]
        for again in ("", " again"):  # two conversations of one customer: h shows the other
            n += 1
            name = q(f"{MARKUP[(i + 1) % len(MARKUP)]} {attack}")
            (folder / f"{n}.eml").write_bytes(
                (f"From: {name} <m{i}@hostile.test>\nTo: support@helpdesk.test\n"
                 f"Subject: {q(subject + ' ' + attack + again)}\nDate: Fri, 20 Nov 2026 10:0{n}:00 +0000\n"
                 f"Message-ID: <t{n}@hostile.test>\nContent-Type: text/plain; charset=utf-8\n"
                 "Content-Transfer-Encoding: 8bit\n\n"
                 + "".join(f"{k}: {v} end\n" for k, v in ATTACKS.items())).encode())
    for k, attack in ATTACKS.items():
        n += 1
        (folder / f"{n}.eml").write_bytes(
            (f"From: {q('x' + attack)} <{q(attack)}@x.example>\nTo: support@helpdesk.test\n"
             f"Subject: {q(k + ' ' + attack)}\nDate: Fri, 20 Nov 2026 09:0{n % 10}:00 +0000\n"
             f"Message-ID: <a{n}@hostile.test>\n\nHello\n").encode())


# What the app may write: CSI sequences (cursor, colours, modes), the two-byte ESC forms
# (keypad ESC = / ESC >, DECSC/DECRC ESC 7 / ESC 8) and Textual's one OSC, 22, the mouse
# pointer's shape, by name. Nothing else: no other OSC (no title, no hyperlink, no clipboard:
# nothing in this run copies to the clipboard), no DCS, APC, PM or SOS string, no C1 control.
CSI = re.compile(r"\x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]")
SHORT_ESC = re.compile(r"\x1b[=>78]")
POINTER_SHAPE = re.compile(r"\x1b\]22;[a-z-]+\x07")


def terminal_strings(stream: str) -> list[str]:
    """Every escape the stream holds other than the allowed ones, and every C1 control."""
    rest = POINTER_SHAPE.sub("", SHORT_ESC.sub("", CSI.sub("", stream)))
    found = [rest[m.start():m.start() + 12] for m in re.finditer("\x1b", rest)]
    return found + [repr(c) for c in re.findall("[\x80-\x9f]", rest)]


def test_the_app_writes_no_terminal_string_from_mail(tmp_path, capsys, tmux_session):
    mails = tmp_path / "hostile"
    mails.mkdir()
    hostile_terminal_mail(mails)
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    db = tmp_path / "hostile.db"
    code, out, err = run(capsys, "--db", db, "--config", config, "import", mails)
    assert code == 0, err
    # the harness starts the app once the recording runs: its first frame is recorded too
    tmux_session.start([str(TUI_DESK), "--db", str(db), "--config", str(config)])
    wait = tmux_session.wait_for
    wait(lambda ls: any("conversations" in line for line in ls), "the queue")

    def on_screen(text: str):
        return lambda ls: any(text in line for line in ls)

    def gone(text: str):
        return lambda ls: not any(text in line for line in ls)

    def searched(word: str):
        """The result is listed and the queue has the focus again (the footer shows its keys)."""
        return lambda ls: any(f" {word} · " in line for line in ls) and any("⏎ Open" in line for line in ls)

    for subject in MARKUP:
        tmux_session.keys("/")
        tmux_session.keys("-l", SEARCH[subject])
        tmux_session.keys("Enter")
        wait(searched(SEARCH[subject]), f"the search for {subject!r}")
        for key, shows in (("t", "Tag #"), ("z", "Snooze #"), ("a", "Assign #"), ("n", "Note on #")):
            tmux_session.keys(key)
            wait(on_screen(shows), shows)
            tmux_session.keys("Escape")
            wait(gone(shows), f"{shows} closed")
        tmux_session.keys("p")
        wait(on_screen("is here"), "why here")
        tmux_session.keys("Escape")
        wait(gone("is here"), "why here closed")
        tmux_session.keys("Enter")
        wait(on_screen("osc52:"), "the conversation")
        tmux_session.keys("h")
        wait(on_screen("pick, Enter opens"), "the history")
        tmux_session.keys("Escape")
        wait(gone("pick, Enter opens"), "the history closed")
        tmux_session.keys("r")
        wait(on_screen("Reply"), "the reply")
        tmux_session.keys("-l", "Hello")
        tmux_session.keys("C-s")
        wait(lambda ls: on_screen("Sending to")(ls) and on_screen("⏎ Open")(ls), "the sending notice")
    tmux_session.keys("O")
    wait(on_screen("Outbox"), "the outbox")
    tmux_session.keys("Escape")
    wait(gone("Outbox"), "the outbox closed")
    for key in ATTACKS:  # the conversations whose address and subject are the attack
        tmux_session.keys("/")
        tmux_session.keys("-l", key)
        tmux_session.keys("Enter")
        wait(searched(key), f"the search for {key}")
        tmux_session.keys("Enter", "t")
        wait(on_screen("Tag #"), "the tag prompt")
        tmux_session.keys("Escape")
        wait(gone("Tag #"), "closed")
    tmux_session.keys("q")
    # the last "Hello" may still be due (this config has no SMTP: it fails once the sender takes
    # it, and a loaded machine takes it later): the quit question asks, `l` leaves it queued
    wait(lambda ls: tmux_session.terminal.exited() or on_screen("waiting to be sent")(ls), "the app to end")
    if not tmux_session.terminal.exited():
        tmux_session.keys("l")
    wait(lambda ls: tmux_session.terminal.exited(), "the app to end")

    stream = tmux_session.raw_output().decode("utf-8", errors="replace")
    assert "Sending to" in stream and "Tag #" in stream  # the recording has what was shown
    assert "\x1b]52" not in stream and "\x1b]8;" not in stream
    assert sorted(set(terminal_strings(stream))) == []
