"""Replying is safe: keys typed right after Ctrl+S are not the mail's (they go to the queue),
nothing an agent wrote is lost when a reply comes back to the draft, and a second reply to a
conversation whose reply waits in the outbox is never written unknowingly."""

from __future__ import annotations

from textual import events

from tui_desk.ui.compose import ComposeScreen

try:
    from tests.ui_support import make_app, type_text, until
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_support import make_app, type_text, until

SIZE = (120, 40)


def burst(app, *keys: str) -> None:
    """Keys as a terminal delivers a fast burst: all queued to the app before any is handled."""
    for key in keys:
        app.post_message(events.Key(key, {"space": " "}.get(key, key if len(key) == 1 else None)))


async def compose_open(app, pilot) -> ComposeScreen:
    await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
    await pilot.pause(0.05)
    return app.screen  # type: ignore[return-value]


async def test_keys_right_after_ctrl_s_go_to_the_queue_not_into_the_mail():
    app = make_app(12)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: bool(app.queue.ids))
        first = app.queue.ids[0]
        await pilot.press("r")
        await compose_open(app, pilot)
        await type_text(pilot, "Fixed now")
        burst(app, "ctrl+s", "c")  # send, then close the conversation
        await until(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        await until(pilot, lambda: ("status", [first], "closed") in app.desk.actions)
        assert [body for _, body, _, _ in app.desk.replies] == ["Fixed now"]


async def test_a_burst_through_the_compose_screen_sends_what_was_typed_before_ctrl_s():
    app = make_app(12)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: bool(app.queue.ids))
        first = app.queue.ids[0]
        burst(app, "r", "O", "k", "space", "t", "h", "a", "n", "k", "s", "ctrl+s", "c", "j")
        await until(pilot, lambda: ("status", [first], "closed") in app.desk.actions)
        assert not isinstance(app.screen, ComposeScreen)
        assert [body for _, body, _, _ in app.desk.replies] == ["Ok thanks"]
