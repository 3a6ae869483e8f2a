"""Which conversation a key acts on (the focused pane decides), and prompts that preview exactly
what they apply."""

from __future__ import annotations

from textual.widgets import Static

from tui_desk.desk.views import HistoryItem
from tui_desk.ui.popups import ConfirmScreen
from tui_desk.ui.triage import ActionPrompt

try:
    from tests.ui_fake_desk import FakeDesk, settle
    from tests.ui_support import make_app, plain_text
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_desk import FakeDesk, settle
    from ui_support import make_app, plain_text

WIDE = (120, 40)


def last_notice(app) -> str:
    return list(app._notifications)[-1].message if app._notifications else ""


async def test_the_tag_preview_shows_the_tags_the_desk_applies():
    app = make_app()
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        await pilot.press("t")
        await settle(pilot)
        app.screen.text_input.value = "+Needs Review +größe -Login"
        await settle(pilot)
        preview = plain_text(app.screen.query_one("#prompt-note", Static))
        assert preview == "adds +needs +review +größe  removes -login"
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, ActionPrompt)
        assert desk.actions[-1] == ("tag", [1], ["needs", "review", "größe"], ["login"])
        assert last_notice(app) == "tagged 1 conversation +needs +review +größe -login  (u undoes)"
        assert preview.removeprefix("adds ").replace("  removes", "") in last_notice(app)


# --- the focused pane decides which conversation a key acts on ------------------------------


def prompt_title(app) -> str:
    return str(app.screen.query_one("#prompt").border_title)


def other(conv_id: int, subject: str) -> HistoryItem:
    return HistoryItem(conv_id, subject, "closed", None, True)


async def test_after_the_open_row_leaves_the_queue_the_queue_keys_act_on_the_cursor_row():
    """The report: #1 open, it leaves the queue (closed, or pending after a reply), the cursor
    lands on #2 while the pane still shows #1. With the queue focused every key acts on #2,
    h too; in the conversation pane every key acts on #1. The prompts name which."""
    app = make_app()
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        desk.histories = {1: (other(31, "Old refund of #1's customer"),),
                          2: (other(32, "Older login trouble of #2's customer"),)}
        await pilot.press("enter", "c")
        await settle(pilot)
        assert desk.actions[-1] == ("status", [1], "closed")
        assert app.conversation_pane.conversation.id == 1 and app.queue.current_id == 2
        assert app.focused is app.queue

        await pilot.press("h")
        await settle(pilot)
        assert prompt_title(app).endswith("(#2)")
        assert "Older login trouble" in " ".join(str(o.prompt) for o in app.screen.choice_list._options)
        await pilot.press("escape", "t")
        await settle(pilot)
        assert prompt_title(app).startswith("Tag #2 ")
        await pilot.press(*"+bug", "enter")
        await settle(pilot)
        assert desk.actions[-1] == ("tag", [2], ["bug"], [])
        for key, title in (("n", "Note on #2 "), ("z", "Snooze #2 "), ("a", "Assign #2 ")):
            await pilot.press(key)
            await settle(pilot)
            assert str(app.screen.query_one("#prompt").border_title).startswith(title), key
            await pilot.press("escape")
            await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert "Why #2 " in str(app.screen.query_one("#prompt").border_title)
        await pilot.press("escape", "r")
        await settle(pilot)
        assert app.screen.conv.id == 2
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("tab")  # into the conversation pane: the conversation it shows
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        assert prompt_title(app).endswith("(#1)")
        assert "Old refund" in " ".join(str(o.prompt) for o in app.screen.choice_list._options)
        await pilot.press("escape", "t")
        await settle(pilot)
        assert prompt_title(app).startswith("Tag #1 ")
        await pilot.press(*"+vip", "enter")
        await settle(pilot)
        assert desk.actions[-1] == ("tag", [1], ["vip"], [])
        await pilot.press("p")
        await settle(pilot)
        assert "Why #1 " in str(app.screen.query_one("#prompt").border_title)
        await pilot.press("escape", "r")
        await settle(pilot)
        assert app.screen.conv.id == 1


async def test_the_conversation_pane_acts_on_the_open_conversation_and_keeps_the_selection():
    app = make_app()
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        await pilot.press("j", "j", "enter", "g", "space", "space")  # #3 open; #1 and #2 selected
        await settle(pilot)
        assert app.queue.selected_ids == [1, 2]
        await pilot.press("tab", "t", *"+bug", "enter")
        await settle(pilot)
        assert desk.actions[-1] == ("tag", [3], ["bug"], [])  # the one being read, not the selection
        assert app.queue.selected_ids == [1, 2]  # still there for the queue's keys
        await pilot.press("M")  # the selection joins the conversation being read
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        asked = plain_text(app.screen.query_one("#confirm-text", Static))  # three customers: asked
        assert asked.startswith("#3 (") and "are different customers" in asked and "join #3 " in asked
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("shift+tab", "t")
        await settle(pilot)
        assert prompt_title(app) == "Tag 2 conversations"
        await pilot.press(*"+vip", "enter")
        await settle(pilot)
        assert desk.actions[-1] == ("tag", [1, 2], ["vip"], [])
        assert app.queue.selected_ids == []


async def test_h_says_which_conversation_has_no_other():
    app = make_app()
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("j", "h")
        await settle(pilot)
        assert not isinstance(app.screen, ActionPrompt)
        assert last_notice(app) == "The customer of #2 has no other conversations"
