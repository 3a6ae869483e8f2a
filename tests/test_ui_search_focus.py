"""A search that fails keeps the focus in the search box with its text, so the user can fix it:
a new user's `from:` (a field with no value) said one clear line, then the next keys acted on
the queue (`S` opened the snippets). A search that works still goes back to the queue. The same
in a real terminal: tests/e2e/test_shift_80x24_polish.py."""

from __future__ import annotations

from ui_fake_desk import settle
from ui_support import make_app, screen_lines

SMALL = (80, 24)


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in screen_lines(app))


async def test_a_failed_search_keeps_the_focus_and_the_text_in_the_search_box():
    app = make_app()
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await settle(pilot)
        queued = list(app.queue.ids)
        await pilot.press("slash", *"from:", "enter")
        await settle(pilot)
        assert "from: needs a value" in screen_text(app)  # the one clear line
        assert app.focused is app.search_input and app.search_input.value == "from:"
        assert app.queue.ids == queued  # the list as it was
        await pilot.press("S")  # typed into the box: no snippet pane
        await settle(pilot)
        assert not app.snippet_pane.display and app.search_input.value == "from:S"
        await pilot.press("backspace", *"ana", "enter")  # fixed: the search runs, back to the queue
        await settle(pilot)
        assert app.desk.queries[-1] == "from:ana" and app.focused is app.queue


async def test_keys_typed_right_behind_a_failed_search_land_in_the_box():
    """A fast typist's "/from:⏎S" at once: the S waits for the search and goes where the focus is."""
    from textual import events

    app = make_app()
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await settle(pilot)
        for char in "/from:\rS":
            event = events.Key({"/": "slash", "\r": "enter", ":": "colon"}.get(char, char),
                               None if char == "\r" else char)
            event.set_sender(app)
            app._driver.send_message(event)
        await settle(pilot)
        assert app.focused is app.search_input and app.search_input.value == "from:S"
        assert not app.snippet_pane.display
