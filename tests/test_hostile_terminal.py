"""Nothing a mail says reaches the terminal as a control: the CLI's lines, and the raw byte
stream the app writes into a real terminal (tmux)."""

from __future__ import annotations

import re

import pytest

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


def test_cli_reply_and_outbox_lines_have_no_controls(hostile_cli, capsys):
    code, out, err = run(capsys, *hostile_cli, "reply", "1", "--body-file", hostile_cli[1].parent / "body.md", "--send-at", "2h")
    assert code == 0, err
    assert "@x.example" in out and not CONTROL.search(out + err)

    code, out, err = run(capsys, *hostile_cli, "outbox")
    assert "@x.example" in out and not CONTROL.search(out + err)

    code, out, err = run(capsys, *hostile_cli, "queue")
    assert "Clipboard" in out and not CONTROL.search(out + err)


async def test_desk_lines_about_a_send_have_no_controls(hostile_cli, capsys):
    from tui_desk.config import load_config
    from tui_desk.desk.service import Desk
    from tui_desk.store import outbox

    config = load_config(hostile_cli[3], required=True)
    desk = await Desk.open(hostile_cli[1], config)
    try:
        outbox_id, said = await desk.reply(1, "Hello")
        assert "@x.example" in said and not CONTROL.search(said)
        async with desk.store.transaction():  # as the sender leaves a refused reply
            await desk.store.execute("UPDATE outbox SET state = 'failed' WHERE id = ?", (outbox_id,))
        said = await desk.send_anyway(outbox_id)
        assert "@x.example" in said and not CONTROL.search(said)
        assert all(not CONTROL.search(r) for e in await desk.outbox() for r in e.recipients)
        assert await outbox.items(desk.store)
    finally:
        await desk.close()


def test_cli_resend_line_has_no_controls(hostile_cli, capsys, monkeypatch):
    import tui_desk.cli as cli

    code, out, err = run(capsys, *hostile_cli, "reply", "1", "--body-file", hostile_cli[1].parent / "body.md", "--send-at", "2h")
    assert code == 0, err
    import sqlite3

    con = sqlite3.connect(hostile_cli[1])
    con.execute("UPDATE outbox SET state = 'failed'")
    con.commit()
    con.close()

    class NoSend:
        async def run_due(self):
            return None

    monkeypatch.setattr(cli, "outbox_sender", lambda desk, config: NoSend())
    code, out, err = run(capsys, *hostile_cli, "outbox", "--resend", "1")
    assert code == 0, err
    assert "sending #1 to" in out and "@x.example" in out
    assert not CONTROL.search(out + err)


def test_say_sanitizes_every_line(capsys):
    from tui_desk.cli import say

    say("a \x1b]52;c;aGk=\x07b \x9b31mc\x1b[0m")
    assert capsys.readouterr().out == "a b c\n"

