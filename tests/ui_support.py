"""What the app tests share: an app over the stand-in desk with the shipped themes, apps over a
real Desk on the demo store with its SMTP sink, waiting for a condition, and the text a Static
shows."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import events
from textual.widgets import Static

from tui_desk.desk.snippets import bundled_dir
from tui_desk.ui.app import DeskApp

try:
    from tests.ui_fake_desk import FIXED_NOW, FakeDesk
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_desk import FIXED_NOW, FakeDesk

THEME_DIRS = [bundled_dir("themes")]  # the shipped themes, not a user's own


def make_app(n: int = 40, **kw) -> DeskApp:
    kw.setdefault("theme", "tui-desk-dark")
    kw.setdefault("theme_dirs", THEME_DIRS)
    return DeskApp(FakeDesk(n), clock=lambda: FIXED_NOW, **kw)


def plain_text(static: Static) -> str:
    """What a Static shows, as plain text (markup would have been consumed)."""
    return str(static.render())


def screen_lines(app) -> list:
    """The screen as it would be written to the terminal: a Strip per line (``.text`` is plain)."""
    return app.screen._compositor.render_strips()


async def until(pilot, condition: Callable[[], Any], timeout: float = 10.0) -> None:
    """Pause until ``condition()`` holds (the background worker never finishes, so no settle)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


async def demo_apps(folder: Path):
    """(make_app, sink): the demo store in ``folder`` with its outbox emptied (the demo's reply
    for tomorrow: the tests count their own) and its SMTP sink started (the caller stops it).
    make_app(undo_seconds=10, smtp_port=None, temporary_store=False, account_name=None, clock=None)
    opens a real Desk, sending to the sink (or to smtp_port: nothing listens on a closed one);
    account_name: the demo's account under another name (the config renamed it); clock: the
    desk's and the app's "now" (a test moves it), else the real one."""
    from tui_desk.cli import prepare_demo
    from tui_desk.demo import DemoMailSink, demo_config
    from tui_desk.desk.service import Desk

    db = folder / "demo.db"
    await prepare_demo(db)
    with sqlite3.connect(db) as con:
        con.execute("DELETE FROM outbox")
    sink = DemoMailSink()
    port = sink.start()

    def make_app(undo_seconds: int = 10, smtp_port: int | None = None, temporary_store: bool = False,
                 account_name: str | None = None, clock: Callable[[], float] | None = None) -> DeskApp:
        config = demo_config(port if smtp_port is None else smtp_port)
        renamed = {"name": account_name} if account_name else {}
        account = dataclasses.replace(config.accounts[0], undo_send_seconds=undo_seconds, **renamed)
        config = dataclasses.replace(config, accounts=(account,))

        async def open_desk():
            return await (Desk.open(db, config) if clock is None else Desk.open(db, config, clock=clock))

        return DeskApp(open_desk=open_desk, theme="tui-desk-dark", theme_dirs=THEME_DIRS,
                       temporary_store=temporary_store,
                       clock=None if clock is None else lambda: dt.datetime.fromtimestamp(clock()).astimezone())

    return make_app, sink


async def started(app: DeskApp, pilot) -> int:
    """The app up with its rows and background; the first conversation's id."""
    await until(pilot, lambda: app.background is not None and bool(app.queue.ids))
    await pilot.pause(0.1)
    return app.queue.ids[0]


def burst(app, *keys: str) -> None:
    """Keys as a terminal delivers a fast burst: all queued to the app before any is handled
    (Pilot.press waits for each key to be handled before the next)."""
    for key in keys:
        app.post_message(events.Key(key, {"space": " "}.get(key, key if len(key) == 1 else None)))


async def type_text(pilot, text: str) -> None:
    """Press the keys that type ``text`` (Textual's names for the characters that need one)."""
    for char in text:
        await pilot.press({" ": "space", "\n": "enter", "{": "left_curly_bracket", "}": "right_curly_bracket",
                           ":": "colon", ",": "comma", ".": "full_stop", "-": "minus"}.get(char, char))


async def open_attachments(app: DeskApp, pilot) -> Any:
    """The first open or pending conversation with attachments opened in the pane, then `s`:
    its attachments screen is up. The conversation is returned."""
    from tui_desk.ui.attachments import AttachmentsScreen
    desk = app.desk
    assert desk is not None
    ids = await desk.queue_ids("status:open") + await desk.queue_ids("status:pending")
    conv = next(c for c in [await desk.conversation(i) for i in ids[:400]]
                if c is not None and any(m.attachments for m in c.messages))
    app.main.open_conversation(conv.id)
    await until(pilot, lambda: app.conversation_pane.conversation is not None
                and app.conversation_pane.conversation.id == conv.id)
    app.conversation_pane.thread.focus()
    await pilot.press("s")
    await until(pilot, lambda: isinstance(app.screen, AttachmentsScreen))
    return conv
