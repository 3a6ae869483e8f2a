"""The note popup's @name completion, decided as GitHub and Slack do it: Tab puts one space after
the completed name so typing goes on; that space never doubles (a space typed out of habit, a
name completed in front of a space), gives way to punctuation or Enter typed right after it, and
no whitespace is left at the end of the saved note. Keys act in the order typed, bursts too."""

from __future__ import annotations


from tui_desk.ui.note import NoteScreen

try:
    from tests.ui_support import burst, make_app, type_text, until
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_support import burst, make_app, type_text, until

SMALL = (80, 24)
TEAM = ["Alice Martin", "bob"]


async def note_open(app, pilot, added: list[str]) -> NoteScreen:
    async def add(text: str) -> str:
        added.append(text)
        return "note added"

    await until(pilot, lambda: bool(app.queue.ids))
    screen = NoteScreen("Note on #1", add, TEAM)
    app.push_screen(screen)
    await until(pilot, lambda: app.screen is screen and getattr(screen.focused, "id", None) == "note-body")
    return screen


async def test_the_completed_name_gets_one_space_and_the_saved_note_ends_without_it():
    app, added = make_app(6), []
    async with app.run_test(size=SMALL) as pilot:
        screen = await note_open(app, pilot, added)
        await type_text(pilot, "Refund ok, @al")
        await pilot.press("tab")
        assert screen.body.text == "Refund ok, @Alice.Martin "  # typing goes on after one space
        await pilot.press("ctrl+s")
        await until(pilot, lambda: bool(added))
        assert added == ["Refund ok, @Alice.Martin"]  # no trailing whitespace saved


async def test_a_space_typed_right_after_the_completion_makes_one_space_even_in_a_burst():
    app, added = make_app(6), []
    async with app.run_test(size=SMALL) as pilot:
        screen = await note_open(app, pilot, added)
        burst(app, "@", "a", "l", "tab", "space", "p", "l", "s")
        await pilot.pause(0.2)
        assert screen.body.text == "@Alice.Martin pls"


async def test_punctuation_or_enter_right_after_the_completion_takes_the_spaces_place():
    app, added = make_app(6), []
    async with app.run_test(size=SMALL) as pilot:
        screen = await note_open(app, pilot, added)
        await type_text(pilot, "@bo")
        await pilot.press("tab")
        await type_text(pilot, ", see @al")
        await pilot.press("tab", "enter")
        await type_text(pilot, "thanks")
        assert screen.body.text == "@bob, see @Alice.Martin\nthanks"  # no line ends in a space


async def test_a_name_completed_in_front_of_a_space_adds_none():
    app, added = make_app(6), []
    async with app.run_test(size=SMALL) as pilot:
        screen = await note_open(app, pilot, added)
        await type_text(pilot, "@al please")
        await pilot.press("home", "right", "right", "right", "tab")
        assert screen.body.text == "@Alice.Martin please"
        await type_text(pilot, "x")  # the cursor went past the space that was there
        assert screen.body.text == "@Alice.Martin xplease"


async def test_keys_typed_right_behind_a_bound_key_act_in_order():
    app, added = make_app(6), []
    async with app.run_test(size=SMALL) as pilot:
        screen = await note_open(app, pilot, added)
        await type_text(pilot, "Refund done")
        burst(app, "home", "O", "k", "space")
        await pilot.pause(0.2)
        assert screen.body.text == "Ok Refund done"
