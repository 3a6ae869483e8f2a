"""Quitting the app: what Ctrl+C says, and a reply still in its undo window is never dropped
without a word (the confirm on quit: send now and quit, leave it in the outbox, or cancel)."""

from __future__ import annotations

try:
    from tests.ui_support import make_app
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_support import make_app

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
