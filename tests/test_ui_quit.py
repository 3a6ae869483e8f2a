"""Quitting the app: what Ctrl+C says, and a reply still in its undo window is never dropped
without a word (the confirm on quit: send now and quit, leave it in the outbox, or cancel)."""

from __future__ import annotations

import socket

from textual.widgets import Static

from tui_desk.ui.app import DeskApp
from tui_desk.ui.compose import ComposeScreen
from tui_desk.ui.quitting import QuitScreen

try:
    from tests.ui_support import make_app, until
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_support import make_app, until

SIZE = (120, 40)


async def test_ctrl_c_says_how_to_quit_in_plain_text():
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+c")
        await pilot.pause()
        said = [(str(n.title), str(n.message)) for n in app._notifications]
        assert said == [("Do you want to quit?", "Press q to quit tui-desk")]


async def test_ctrl_c_names_the_rebound_quit_key():
    app = make_app(keys=[("quit", "ctrl+q")])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert [str(n.message) for n in app._notifications] == ["Press Ctrl+q to quit tui-desk"]


# --- a reply in its undo window: over a real Desk on the demo store, with its SMTP sink -----

async def reply_queued(app: DeskApp, pilot, text: str = "Thanks, refunded.") -> None:
    """r on the first row, a body, Ctrl+S: the reply waits out its undo window (10 s)."""
    await until(pilot, lambda: app.background is not None and bool(app.queue.ids))
    await pilot.pause(0.1)
    await pilot.press("r")
    await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
    await pilot.pause(0.05)
    for char in text:
        await pilot.press({" ": "space", ",": "comma", ".": "full_stop"}.get(char, char))
    await pilot.press("ctrl+s")
    await until(pilot, lambda: not isinstance(app.screen, ComposeScreen))


def shown(screen) -> str:
    return " ".join(str(s.render()) for s in screen.query(Static))


async def test_quit_with_a_reply_in_its_undo_window_asks_and_sends_it_by_default(demo):
    make_app, sink = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await reply_queued(app, pilot)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen))
        said = shown(app.screen)
        assert "1 reply is waiting to be sent" in said and "Enter" in said and "Esc" in said
        await pilot.press("enter")  # the default: send now and quit
        await until(pilot, lambda: not app.is_running, timeout=20)
    assert len(sink.received) == 1
    assert b"refunded" in sink.received[0]
    assert app.return_code == 0
    assert app.exit_line is not None and "sent" in app.exit_line


async def test_quit_cancelled_keeps_the_app_and_the_reply_waiting(demo):
    make_app, sink = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await reply_queued(app, pilot)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, QuitScreen))
        assert app.is_running
        assert [e.state for e in await app.desk.outbox()] == ["queued"]
        assert sink.received == []


async def test_quit_leaving_it_in_the_outbox_says_when_it_goes(demo):
    make_app, sink = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await reply_queued(app, pilot)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("l")
        await until(pilot, lambda: not app.is_running)
        desk = app.desk
    assert sink.received == []
    assert app.exit_line is not None and "outbox" in app.exit_line and "next time" in app.exit_line
    assert desk is not None


async def test_send_now_with_the_server_unreachable_says_it_stays_queued(demo):
    make_app, sink = demo
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    app = make_app(smtp_port=closed)
    async with app.run_test(size=SIZE) as pilot:
        await reply_queued(app, pilot)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("enter")
        await until(pilot, lambda: not app.is_running, timeout=20)
    assert app.exit_line is not None and "stays in the outbox" in app.exit_line
    assert app.return_code == 0


async def test_the_demo_says_a_reply_left_behind_is_dropped_with_its_mailbox(demo):
    make_app, sink = demo
    app = make_app(temporary_store=True)
    async with app.run_test(size=SIZE) as pilot:
        await reply_queued(app, pilot)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen))
        said = shown(app.screen)
        assert "demo" in said and "deleted" in said


async def test_quit_without_a_waiting_reply_quits_at_once(demo):
    make_app, sink = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.background is not None and bool(app.queue.ids))
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    assert app.exit_line is None


async def test_a_reply_whose_account_is_gone_is_held_and_not_counted_as_waiting(demo):
    """Left in the outbox by a run whose config called the account "demo"; this run's config
    calls it "support": the reply is held (never sent from another account), and q quits at once."""
    make_app, sink = demo
    before = make_app()
    async with before.run_test(size=SIZE) as pilot:
        await reply_queued(before, pilot)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(before.screen, QuitScreen))
        await pilot.press("l")  # leave it in the outbox
        await until(pilot, lambda: not before.is_running)
    app = make_app(account_name="support")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.background is not None and app.background.delivery_passes >= 1)
        [entry] = await app.desk.outbox()
        assert (entry.state, entry.error) == ("held", "held: no account 'demo' in config")
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    assert app.exit_line is None  # nothing is waiting to be sent: no question
    assert sink.received == []
