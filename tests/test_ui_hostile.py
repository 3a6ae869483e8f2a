"""Mail is data, never code: markup-shaped subjects and names on every screen a key opens.

A real store made from hostile mail (the desk as the app uses it), then each key that puts a
subject, a name or an address into a title, a prompt, a notice or a list: no crash, the text
is on screen as it was written, and no link, click action or style came out of it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import mailbox
import re
import shutil
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from textual.content import Content

from tui_desk.config import AccountConfig, Config
from tui_desk.desk.snippets import bundled_dir
from tui_desk.ui.app import DeskApp
from tui_desk.ui.text import literal

try:
    from tests.ui_fake_desk import settle
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_desk import settle

WIDE = (160, 45)
# an account without servers: replies queue (and wait in the outbox), nothing connects
CONFIG = Config(agent="alice", agent_addresses=("*@helpdesk.test",),
                accounts=(AccountConfig(name="support", address="support@helpdesk.test", display_name="Support"),))

# (display name, address, subject): each one breaks Rich markup in its own way
HOSTILE = [
    ("[/] x", "slash@hostile.test", "Refund [/nope]"),
    ("[b]x", "bold@hostile.test", "[URGENT] please [b]x"),
    ("Eve", "eve@hostile.test", '[link="https://evil.example/x"]Click to verify[/link]'),
    ("[@click=app.quit]x[/]", "click@hostile.test", "[@click=app.quit]x[/]"),
]
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# an address that writes the clipboard (OSC 52) and a hyperlink (OSC 8) when printed raw
OSC_ADDRESS = '"\x1b]52;c;aGk=\x1b\\\x1b]8;;https://evil.example\x1b\\"@x.example'
OSC_SUBJECT = "Clipboard"


@pytest.fixture(autouse=True)
def _no_background(monkeypatch):
    # no sync or delivery beside the app: the account has no servers, replies wait in the outbox
    monkeypatch.setattr(DeskApp, "_start_background", lambda self: None)


def _mail(n: int, name: str, addr: str, subject: str, minutes_ago: int) -> bytes:
    m = EmailMessage()
    m["From"] = f'"{name}" <{addr}>'
    m["To"] = "Support <support@helpdesk.test>"
    m["Subject"] = subject
    m["Date"] = format_datetime(dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=minutes_ago))
    m["Message-ID"] = f"<h{n}@hostile.example>"
    m.set_content(f"Message {n}\n")
    m.add_attachment(b"x", maintype="application", subtype="octet-stream", filename="[b]bold[/b].bin")
    return bytes(m)


def osc_mail() -> bytes:
    """Written by hand: EmailMessage would quote the address its own way."""
    date = format_datetime(dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1))
    return (f"From: x <{OSC_ADDRESS}>\nTo: support@helpdesk.test\nSubject: {OSC_SUBJECT}\nDate: {date}\n"
            "Message-ID: <osc@hostile.example>\n\nHello\n").encode()


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory) -> Path:
    from tui_desk.desk.importer import import_paths
    from tui_desk.desk.service import Desk

    root = tmp_path_factory.mktemp("hostile-desk")
    box = mailbox.mbox(root / "hostile.mbox")
    n = 0
    for name, addr, subject in HOSTILE:
        for extra in ("", " (again)"):  # two conversations each: h has a history to show
            n += 1
            box.add(_mail(n, name, addr, subject + extra, 10 * n))
    box.add(osc_mail())
    box.close()

    async def build() -> None:
        desk = await Desk.open(root / "template.db", CONFIG)
        try:
            await import_paths(desk, [root / "hostile.mbox"], workers=1)
        finally:
            await desk.close()

    asyncio.run(build())
    return root / "template.db"


@pytest.fixture
async def desk(hostile_store, tmp_path):
    from tui_desk.desk.service import Desk

    shutil.copy(hostile_store, tmp_path / "desk.db")
    desk = await Desk.open(tmp_path / "desk.db", CONFIG)
    yield desk
    await desk.close()


def screen_lines(app: DeskApp) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


def applied_from_mail(app: DeskApp) -> list[str]:
    """Links and click actions anywhere on screen (the app itself makes none)."""
    found = []
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            style = segment.style
            if style is not None and (style.link or (style.meta or {}).get("@click")):
                found.append(f"{segment.text!r}: link={style.link!r} meta={style.meta!r}")
    return found


def border_title(widget) -> str:
    """The title as drawn (the attribute reads back as markup, which Textual does not always
    escape so that it parses back the same: "[URGENT]" is lost on the way)."""
    return widget._border_title.plain


def on_screen(app: DeskApp, text: str) -> bool:
    return any(text in line for line in screen_lines(app))


def notices(app: DeskApp) -> list[str]:
    return [n.message for n in app._notifications]


def row_with(app: DeskApp, subject: str) -> int:
    queue = app.queue
    for index, conv_id in enumerate(queue.ids):
        row = queue.row(conv_id)
        if row is not None and row.subject == subject:
            return index
    raise AssertionError(f"no row {subject!r}")


async def on_row(pilot, subject: str) -> None:
    app = pilot.app
    app.queue.move_to(row_with(app, subject))
    await settle(pilot)


def make_app(desk) -> DeskApp:
    return DeskApp(desk, theme="tui-desk-dark", theme_dirs=[bundled_dir("themes")])


def test_literal_is_content_without_markup_or_controls():
    shown = literal('[link="https://evil.example"]x[/link] \x1b]52;c;aGk=\x07[/]')
    assert isinstance(shown, Content)
    assert shown.plain == '[link="https://evil.example"]x[/link] [/]'
    assert not shown.spans
    kept = Content.styled("kept", "bold")
    assert literal(kept) is kept


@pytest.mark.parametrize(("name", "addr", "subject"), HOSTILE)
async def test_triage_prompts_show_subjects_literally(desk, name, addr, subject):
    app = make_app(desk)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        await on_row(pilot, subject)
        for key in ("t", "z", "a"):
            await pilot.press(key)
            await settle(pilot)
            assert app.is_running
            title = border_title(app.screen.query_one("#prompt"))
            assert subject[:30] in title, (key, title)
            assert on_screen(app, subject[:30]), key
            assert not applied_from_mail(app), key
            await pilot.press("escape")
            await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert on_screen(app, "Note on #") and on_screen(app, subject[:30])
        assert not applied_from_mail(app)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert on_screen(app, subject) and on_screen(app, name)
        assert not applied_from_mail(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.is_running


@pytest.mark.parametrize(("name", "addr", "subject"), HOSTILE)
async def test_history_reply_forward_and_attachments_show_names_literally(desk, name, addr, subject):
    app = make_app(desk)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        await on_row(pilot, subject)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        assert app.is_running
        conv_id = app.conversation_pane.conversation.id
        assert border_title(app.screen.query_one("#prompt")) == f"Other conversations of {name} (#{conv_id})"
        assert on_screen(app, f"Other conversations of {name}")
        assert on_screen(app, subject[:30])
        assert not applied_from_mail(app)
        await pilot.press("escape")
        await settle(pilot)

        for key in ("r", "R", "f"):
            await pilot.press(key)
            await settle(pilot)
            assert app.is_running, key
            assert on_screen(app, subject[:30]), key
            assert on_screen(app, f"{name} wrote"), key
            assert not applied_from_mail(app), key
            await pilot.press("escape")
            await settle(pilot)

        await pilot.press("s")
        await settle(pilot)
        assert on_screen(app, "[b]bold[/b].bin")
        assert not applied_from_mail(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.is_running


async def test_sending_notice_and_outbox_show_addresses_literally(desk):
    name, addr, subject = HOSTILE[0]
    app = make_app(desk)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        await on_row(pilot, subject)
        await pilot.press("r", *"Hello [b]there[/b]", "ctrl+s")
        await settle(pilot)
        assert app.is_running
        sending = [n for n in notices(app) if n.startswith("Sending to")]
        assert sending and addr in sending[-1]
        assert on_screen(app, "Sending to")
        assert not applied_from_mail(app)
        await pilot.press("O")
        await settle(pilot)
        assert on_screen(app, addr)
        assert not applied_from_mail(app)
        await pilot.press("escape")
        await settle(pilot)


async def test_notify_is_never_markup(desk):
    app = make_app(desk)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        app.notify('[link="https://evil.example"]x[/link] [/nope] \x1b]52;c;aGk=\x07', title="[/] t")
        await settle(pilot)
        assert app.is_running
        assert notices(app)[-1] == '[link="https://evil.example"]x[/link] [/nope] '
        assert on_screen(app, "[/nope]") and on_screen(app, "[/] t")
        assert not applied_from_mail(app)


async def test_a_reply_to_an_escape_sequence_address_is_refused_in_a_clean_line(desk):
    """Such an address cannot be written on the wire: compose says so in the reply screen (the
    escapes shown as text), nothing is queued, nothing reaches the terminal."""
    from tui_desk.ui.compose import ComposeScreen

    app = make_app(desk)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        await on_row(pilot, OSC_SUBJECT)
        await pilot.press("r", *"Hello", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)  # still writing: nothing was sent
        assert not [n for n in notices(app) if n.startswith("Sending to")]
        assert on_screen(app, "is not an email address")
        assert not CONTROL.search("".join(screen_lines(app)))
        assert await desk.outbox() == []


async def test_a_servers_refusal_in_the_draft_is_shown_sanitized_and_literal(desk):
    from tui_desk.store import outbox

    name, addr, subject = HOSTILE[0]
    app = make_app(desk)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        conv_id = app.queue.ids[row_with(app, subject)]
        async with desk.store.transaction():  # as the sender leaves a reply the server refused
            await outbox.save_draft(desk.store, conv_id, "Hello", error="550 \x1b]52;c;aGk=\x07[b]no[/b] \x9b31mthanks")
        await on_row(pilot, subject)
        await pilot.press("r")
        await settle(pilot)
        assert on_screen(app, "The server refused the last send: 550 [b]no[/b] thanks")
        assert not CONTROL.search("".join(screen_lines(app)))
        assert not applied_from_mail(app)


async def test_a_tag_with_an_escape_sequence_is_drawn_without_it(desk):
    # tags come from agents and from IMAP keywords another client set: the queue's cached
    # strips write them straight to the terminal
    name, addr, subject = HOSTILE[0]
    app = make_app(desk)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        conv_id = app.queue.ids[row_with(app, subject)]
        await desk.tag([conv_id], ["a\x1b]52;c;aGk=\x07b\x9b31m"])
        app.main.load_queue("")
        await settle(pilot)
        await on_row(pilot, subject)
        assert on_screen(app, "ab")
        assert not CONTROL.search("".join(screen_lines(app)))


async def test_the_line_a_desk_that_cannot_open_ends_with_is_not_markup():
    import io

    from rich.console import Console

    async def open_desk():
        raise ValueError("/tmp/[b]x[/b] [/nope] \x1b]52;c;aGk=\x07.sqlite3 is not a tui-desk store")

    app = DeskApp(open_desk=open_desk, theme="tui-desk-dark", theme_dirs=[bundled_dir("themes")])
    messages = []
    exit_app = app.exit

    def exit_with(*args, **kwargs):
        messages.append(kwargs.get("message"))
        exit_app(*args, **kwargs)

    app.exit = exit_with
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
    assert app.return_code == 2 and messages
    out = io.StringIO()
    for message in messages:  # as Textual prints it once the screen is gone
        Console(file=out, width=200).print(message)
    assert out.getvalue() == "tui-desk: /tmp/[b]x[/b] [/nope] .sqlite3 is not a tui-desk store\n"
