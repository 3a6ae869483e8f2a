"""The one-line text boxes (the search box, the prompts, the forward's To line, the snippet
filter, the palette) act on their keys in the order typed: a bound key (Backspace, an arrow,
Home, Ctrl+W) is not overtaken by the letters typed right behind it in one burst."""

from __future__ import annotations

from textual.command import CommandInput, CommandPalette

from tui_desk.ui.compose import ComposeScreen
from tui_desk.ui.inputs import InOrderInput
from tui_desk.ui.triage import ActionPrompt

try:
    from tests.ui_support import burst, make_app, type_text, until
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_support import burst, make_app, type_text, until

SMALL = (80, 24)


async def test_in_the_search_box_letters_behind_a_bound_key_land_where_it_left_the_cursor():
    app = make_app(12)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: bool(app.queue.ids))
        await pilot.press("slash")
        box = app.search_input
        await until(pilot, lambda: app.focused is box)
        await type_text(pilot, "refunx")
        burst(app, "backspace", "d")  # the d typed before the Backspace ran: "refunx"
        await pilot.pause(0.3)
        assert box.value == "refund"
        burst(app, "home", "o", "r", "space")  # "refund or "
        burst(app, "end", "space", "b", "u", "g")
        await pilot.pause(0.3)
        assert box.value == "or refund bug"
        burst(app, "ctrl+w", "x", "y")  # the word went, then "xy"
        await pilot.pause(0.3)
        assert box.value == "or refund xy"
        burst(app, "left", "left", "z")
        await pilot.pause(0.3)
        assert box.value == "or refund zxy"


async def test_in_a_prompt_a_corrected_word_typed_at_once_is_what_applies():
    app = make_app(12)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: bool(app.queue.ids))
        first = app.queue.current_id
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, ActionPrompt))
        await type_text(pilot, "bux")
        burst(app, "backspace", "g", "enter")  # one burst: the tag is "bug", not "bu"
        await until(pilot, lambda: not isinstance(app.screen, ActionPrompt))
        assert ("tag", [first], ["bug"], []) in app.desk.actions, app.desk.actions


async def test_the_forwards_to_line_keeps_the_order_too():
    app = make_app(12)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: bool(app.queue.ids))
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
        to = app.screen.query_one("#compose-to-input")
        await until(pilot, lambda: app.focused is to)
        await type_text(pilot, "bo@example.cxm")
        burst(app, "left", "backspace", "o")
        await pilot.pause(0.3)
        assert to.value == "bo@example.com"


async def test_the_snippet_filter_keeps_the_order_too():
    app = make_app(12)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: bool(app.queue.ids))
        box = app.snippet_pane.filter_input
        box.focus()
        await until(pilot, lambda: app.focused is box)
        await type_text(pilot, "pasx")
        burst(app, "backspace", "s")
        await pilot.pause(0.3)
        assert box.value == "pass"


async def test_every_one_line_box_the_app_uses_is_an_in_order_one():
    from tui_desk.ui.compose import RecipientsInput
    from tui_desk.ui.inputs import FollowingInput
    from tui_desk.ui.palette import InOrderCommandInput
    from tui_desk.ui.snippets import SnippetFilter
    from tui_desk.ui.triage import PromptInput

    for box in (FollowingInput, RecipientsInput, SnippetFilter, PromptInput, InOrderCommandInput):
        assert issubclass(box, InOrderInput), box


async def test_the_theme_picker_is_an_in_order_palette_too():
    app = make_app(12)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: bool(app.queue.ids))
        app.search_themes()
        await until(pilot, lambda: isinstance(app.screen, CommandPalette) and app.screen.query(CommandInput))
        box = app.screen.query_one(CommandInput)
        await until(pilot, lambda: app.focused is box)
        assert isinstance(box, InOrderInput)
        await type_text(pilot, "lighx")
        burst(app, "backspace", "t")
        await pilot.pause(0.3)
        assert box.value == "light"


async def test_in_the_palette_letters_behind_backspace_are_kept():
    app = make_app(12)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: bool(app.queue.ids))
        app.action_command_palette()
        await until(pilot, lambda: isinstance(app.screen, CommandPalette) and app.screen.query(CommandInput))
        box = app.screen.query_one(CommandInput)
        await until(pilot, lambda: app.focused is box)
        await type_text(pilot, "sex")
        burst(app, "backspace", "a", "r")
        await pilot.pause(0.3)
        assert box.value == "sear"
