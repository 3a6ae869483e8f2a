"""Keys typed at once after launch, before the app's first frame, do what they would do typed
later."""

from __future__ import annotations

import pytest
from textual import events

try:
    from tests.ui_fake_desk import settle
    from tests.ui_support import make_app
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_desk import settle
    from ui_support import make_app

WIDE = (120, 40)
SMALL = (80, 24)


@pytest.fixture(autouse=True)
def _private_state(tmp_path, monkeypatch):
    """The remembered theme goes to a temporary state dir, never the user's."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def type_at_once(app, *keys: str) -> None:
    """Keys as a fast typist's burst reaches the app: all queued before it handles the first.
    Before the app runs: as keys typed right after launch, which Textual's input thread hands
    over while the app builds its screen, ahead of what its start queues."""
    for key in keys:
        name = {"/": "slash", "\t": "tab"}.get(key, key)
        event = events.Key(name, key if len(key) == 1 else None)
        event.set_sender(app)
        app.post_message(event)


async def test_s_and_a_filter_typed_at_start_reach_the_snippet_filter():
    """At 80 columns S brings the folded pane over the conversation, its filter focused; the
    keys right behind it are the filter's, "/" too (in a text box it is text, not search)."""
    app = make_app()
    type_at_once(app, "S", *"pass", "/")
    async with app.run_test(size=SMALL) as pilot:
        pane = app.snippet_pane
        await settle(pilot)
        assert pane.display and not app.conversation_pane.display
        assert app.focused is pane.filter_input and pane.filter_input.value == "pass/"
        assert not app.query_one("#queue-pane").has_class("-searching")
        type_at_once(app, "backspace")
        await settle(pilot)
        assert pane.shown and pane.shown[0].name == "password-reset"
        assert pane.current is pane.shown[0]


async def test_tab_and_a_filter_typed_at_start_reach_the_snippet_filter():
    app = make_app()
    type_at_once(app, "\t", "\t", *"refund")
    async with app.run_test(size=WIDE) as pilot:
        pane = app.snippet_pane
        await settle(pilot)
        assert app.focused is pane.filter_input and pane.filter_input.value == "refund"
        assert pane.shown and pane.shown[0].name.startswith("refund")
        assert pane.current is pane.shown[0]


async def test_f2_typed_at_start_folds_the_snippet_pane_away():
    app = make_app()
    type_at_once(app, "f2")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert not app.snippet_pane.display and app.focused is app.queue
        type_at_once(app, "f2", *"x")  # and back: its filter takes the keys
        await settle(pilot)
        assert app.snippet_pane.display and app.snippet_pane.filter_input.value == "x"
