"""The TUI driven with Pilot over the in-memory stand-in desk."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual import events
from textual.command import CommandInput, CommandList, CommandPalette
from textual.widgets import Input, Static

from tui_desk.config import Config
from tui_desk.desk import themes as desk_themes
from tui_desk.desk.views import ConversationView
from tui_desk.ui.app import DeskApp
from tui_desk.ui.conversation import MessageBox, QuotedBlock, ThreadView, human_size
from tui_desk.ui.help import HelpScreen
from tui_desk.ui.queue import QueueView, columns_for, fit
from tui_desk.ui.snippets import SnippetPane
from tui_desk.ui.popups import ConfirmScreen, ReasonsScreen, ViewPicker
from tui_desk.ui.triage import ActionPrompt

try:
    from tests.ui_fake_desk import FIXED_NOW, FakeDesk, settle
    from tests.ui_support import THEME_DIRS, make_app, plain_text, until
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_desk import FIXED_NOW, FakeDesk, settle
    from ui_support import THEME_DIRS, make_app, plain_text, until

WIDE = (120, 40)
SMALL = (80, 24)


# FakeDesk(40) queues 38: #7 and #33 are pending (waiting for the customer), as in the real queue
QUEUED = 38
LAST = QUEUED - 1  # the cursor on the last row


async def named_on(desk, ids: list[int]) -> str:
    """How an undo names the conversations it acted on (desk.commands.named)."""
    from tui_desk.desk.commands import named
    return named(ids, (await desk.conversation(ids[0])).subject if len(ids) == 1 else "")


def visible_lines(queue: QueueView) -> list[str]:
    return [queue.render_line(y).text for y in range(queue.scrollable_content_region.height)]


# --- queue ---------------------------------------------------------------------------------


async def test_starts_with_queue_focused_and_rows_painted():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        queue = app.queue
        assert app.focused is queue
        assert queue.ids[:3] == [1, 2, 3]
        lines = visible_lines(queue)
        assert lines[0].startswith("! Anna Petrova")
        assert "Charged twice for order #48213" in lines[1]
        assert "waiting 5h of 2h target" in plain_text(app.query_one("#status", Static))
        assert plain_text(app.query_one("#status", Static)).startswith(f"1/{QUEUED}  #1  score 9.5")
        assert str(app.query_one("#queue-pane").border_subtitle) == f"{QUEUED} conversations"


async def test_navigation_keys_move_the_cursor():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        queue = app.queue
        await pilot.press("j", "j", "down")
        assert queue.cursor == 3
        await pilot.press("k", "up")
        assert queue.cursor == 1
        await pilot.press("G")
        assert queue.cursor == LAST
        await pilot.press("j")
        assert queue.cursor == LAST  # stays on the last row
        await pilot.press("g")
        assert queue.cursor == 0
        await pilot.press("k")
        assert queue.cursor == 0
        await pilot.press("pagedown")
        page = queue.cursor
        assert page > 5
        await pilot.press("pagedown", "pageup")
        assert queue.cursor == page
        await pilot.press("end")
        assert queue.cursor == LAST
        await pilot.press("home")
        assert queue.cursor == 0
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        assert plain_text(app.query_one("#status", Static)).startswith(f"2/{QUEUED}  #2")


async def test_cursor_stays_visible_when_moving_past_the_screen():
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        queue = app.queue
        for _ in range(25):
            await pilot.press("j")
        await settle(pilot)
        lines = queue._lines_per_row
        top = int(queue.scroll_y)
        height = queue.scrollable_content_region.height
        assert top <= queue.cursor * lines < top + height
        await pilot.press("g")
        await settle(pilot)
        assert queue.scroll_y == 0


async def test_enter_opens_the_conversation_newest_last():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        pane = app.conversation_pane
        assert pane.conversation is not None and pane.conversation.id == 1
        boxes = list(pane.query(MessageBox))
        assert [b.message.id for b in boxes] == [101, 102, 103]  # oldest first, newest last
        assert plain_text(pane.query_one("#conv-subject", Static)) == "Charged twice for order #48213"
        thread = pane.thread
        assert thread.max_scroll_y > 0
        assert thread.scroll_y == thread.max_scroll_y  # opened at the newest message
        assert app.focused is app.queue  # keep triaging with j/k
        assert boxes[1].has_class("-agent") and not boxes[0].has_class("-agent")

        await pilot.press("j", "enter")
        await settle(pilot)
        assert pane.conversation.id == 2
        assert [b.message.id for b in pane.query(MessageBox)] == [201, 202, 203]


async def test_click_opens_a_conversation():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        lines = app.queue._lines_per_row
        await pilot.click("#queue", offset=(5, 2 * lines))
        await settle(pilot)
        assert app.queue.cursor == 2
        assert app.conversation_pane.conversation.id == 3


async def test_quoted_text_is_folded_and_x_expands_it():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        quotes = list(app.query(QuotedBlock))
        assert len(quotes) == 2
        folded = plain_text(quotes[0])
        assert folded == "▸ 12 quoted lines"
        assert "Visa ending 4242" not in folded
        await pilot.press("tab")
        assert isinstance(app.focused, ThreadView)
        await pilot.press("x")
        await pilot.pause()
        assert all(q.expanded for q in quotes)
        assert "> Card: Visa ending 4242" in plain_text(quotes[0])
        await pilot.press("x")
        await pilot.pause()
        assert not any(q.expanded for q in quotes)


async def test_headers_attachments_and_defects():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        boxes = list(app.query(MessageBox))
        first = boxes[0]
        header = plain_text(first.query_one(".message--sender", Static))
        assert header == "Anna Petrova"
        assert plain_text(first.query_one(".message--date", Static)) == "Nov 17 10:00 · 3d"
        # the usual To (the desk) and the agent's Cc of the desk are not repeated
        assert not list(app.query(".message--to"))
        attachments = [plain_text(s) for s in app.query(".message--attachment")]
        assert "+ statement-nov.pdf  application/pdf, 180 KB" in attachments
        assert "+ выписка.png  image/png, 71 KB" in attachments
        assert "+ bank-letter.pdf  application/pdf, 2.3 MB" in attachments
        assert plain_text(boxes[1].query_one(".message--sender", Static)) == "Alice Martin · agent"

        await pilot.press("j", "j", "j", "j", "enter")  # the SSO one: extra recipients
        await settle(pilot)
        to_line = plain_text(app.query_one(".message--to", Static))
        assert to_line == (
            "To: support@helpdesk.test, sso-team@helpdesk.test  Cc: cto@very-long-company-name.example.com"
        )

        await pilot.press("g", *["j"] * 6, "enter")  # the bounce (#7 is pending, not queued): defects
        await settle(pilot)
        assert app.conversation_pane.conversation.id == 8
        defect = plain_text(app.query_one(".message--defect", Static))
        assert defect == "Malformed mail: InvalidHeaderDefect: Date, CloseBoundaryNotFoundDefect"


async def test_missing_conversation_shows_a_note():
    desk = FakeDesk(40)

    async def vanished(conv_id: int) -> ConversationView | None:
        return None

    desk.conversation = vanished  # type: ignore[method-assign]
    app = DeskApp(desk, clock=lambda: FIXED_NOW, theme="tui-desk-dark", theme_dirs=THEME_DIRS)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert plain_text(app.query_one("#conv-subject", Static)) == "Conversation #1 no longer exists"
        assert not list(app.query(MessageBox))


async def test_desk_errors_are_reported_not_fatal():
    desk = FakeDesk(40)

    async def broken(ids: list[int]):
        raise RuntimeError("database is locked")

    desk.queue_rows = broken  # type: ignore[method-assign]
    app = DeskApp(desk, clock=lambda: FIXED_NOW, theme="tui-desk-dark", theme_dirs=THEME_DIRS)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        assert app.is_running
        assert any("database is locked" in n.message for n in app._notifications)
        await pilot.press("j")
        assert app.queue.cursor == 1


# --- search ---------------------------------------------------------------------------------


async def test_slash_searches_and_escape_goes_back():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        search = app.query_one("#search", Input)
        assert app.focused is search and search.display
        await pilot.press(*"refund", "enter")
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        assert desk.queries[-1] == "refund"
        expected = await desk.queue_ids("refund")
        assert app.queue.ids == expected and 0 < len(expected) < QUEUED
        assert app.focused is app.queue
        rows = [app.queue.row(i) for i in expected]
        assert all("refund" in (r.subject + " ".join(r.tags)).casefold() for r in rows)
        assert str(app.query_one("#queue-pane").border_subtitle) == f"refund · {len(expected)} conversations"
        assert plain_text(app.query_one("#status", Static)).startswith(f"1/{len(expected)}  #")

        await pilot.press("escape")
        await settle(pilot)
        assert len(app.queue.ids) == QUEUED
        assert not search.display and search.value == ""
        assert app.focused is app.queue


async def test_a_search_shows_which_of_its_rows_are_not_open():
    """A search lists pending and closed conversations beside the open ones: a row that is not
    open says so (the tryout read a pending #78 as open); an open row says nothing of it."""
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"status:pending", "enter")
        await settle(pilot)
        assert sorted(app.queue.ids) == [7, 33]
        lines = visible_lines(app.queue)
        assert sum("pending" in line for line in lines) == 2, lines
        await pilot.press("escape")
        await settle(pilot)
        assert not any("pending" in line or "closed" in line for line in visible_lines(app.queue))


async def test_search_runs_while_typing_and_q_is_text_there():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"qu?")
        assert app.is_running  # q and ? were typed into the box, not taken as keys
        assert app.search_input.value == "qu?"
        for _ in range(50):  # the search waits for a pause in typing (0.2 s)
            await pilot.pause(0.1)
            if app.desk.queries[-1] == "qu?":
                break
        await settle(pilot)
        assert app.desk.queries[-1] == "qu?"
        assert app.queue.ids == []
        assert "Nothing matches 'qu?'" in visible_lines(app.queue)[0]
        await pilot.press("escape")
        await settle(pilot)
        assert len(app.queue.ids) == QUEUED


async def burst(app: DeskApp, keys: str) -> None:
    """Send keys all at once, as a fast typist or a paste over SSH delivers them."""
    names = {"/": "slash", "\r": "enter", "\t": "tab", " ": "space", "↓": "down", "↑": "up"}
    for char in keys:
        event = events.Key(names.get(char, char), None if char in "\r\t↓↑" else char)
        event.set_sender(app)
        app._driver.send_message(event)


async def test_keys_typed_right_after_slash_go_into_the_search_box():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await burst(app, "/refund\r")
        await settle(pilot)
        assert app.search_input.value == "refund"
        assert app.desk.queries[-1] == "refund"
        assert app.focused is app.queue
        assert len(app.queue.ids) < QUEUED


async def test_keys_typed_right_after_tab_go_to_the_new_pane():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await burst(app, "\t\tpass")
        await settle(pilot)
        assert app.snippet_pane.filter_input.value == "pass"


async def test_a_key_left_in_a_box_after_the_focus_moved_reaches_the_focused_widget():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert app.focused is app.queue
        app.search_input._forward_event(events.Key("j", "j"))  # queued there before a focus move
        await settle(pilot)
        assert app.search_input.value == ""
        assert app.queue.cursor == 1


async def test_initial_query():
    app = make_app(query="Дмитрий")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert app.queue.ids == [2]
        assert app.search_input.value == "Дмитрий"


# --- help, focus, palette -------------------------------------------------------------------


async def test_question_mark_lists_every_key():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = plain_text(app.screen.query_one("#help-text", Static))
        for needle in (
            "j / ↓",
            "Next conversation",
            "k / ↑",
            "PgDn",
            "PgUp",
            "g / Home",
            "G / End",
            "Enter",
            "Open",
            "/",
            "Search conversations",
            "?",
            "Tab",
            "Shift+Tab",
            "F2",
            "also while typing",
            "Show or hide the snippet pane",
            "T",
            "Next theme",
            "q",
            "Quit",
            "x",
            "Fold or unfold quoted text",
            "Esc",
            "Ctrl+P",
        ):
            assert needle in text, needle
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        assert app.is_running


async def test_tab_cycles_the_panes():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert app.focused is app.queue
        await pilot.press("tab")
        assert app.focused is app.conversation_pane.thread
        await pilot.press("tab")
        assert app.focused is app.snippet_pane.filter_input
        await pilot.press("tab")
        assert app.focused is app.queue
        await pilot.press("shift+tab")
        assert app.focused is app.snippet_pane.filter_input
        await pilot.press("shift+tab", "shift+tab")
        assert app.focused is app.queue
        # from the search box, Tab goes on to the conversation
        await pilot.press("slash", "tab")
        assert app.focused is app.conversation_pane.thread


async def test_palette_lists_every_action():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        expected = {
            "Search",
            "Back",
            "Keys",
            "Next pane",
            "Previous pane",
            "Snippets",
            "Theme",
            "Quit",
            "Queue: Next conversation",
            "Queue: Previous conversation",
            "Queue: Page down",
            "Queue: Page up",
            "Queue: First conversation",
            "Queue: Last conversation",
            "Queue: Open",
            "Conversation: Scroll down",
            "Conversation: Scroll up",
            "Conversation: Top of thread",
            "Conversation: End of thread",
            "Conversation: Quoted text",
            "Conversation: Page down",
            "Conversation: Page up",
            "Snippets: Next snippet",
            "Snippets: Previous snippet",
        }
        assert expected <= titles
        assert len([t for t in titles if t == "Quit"]) == 1

        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        shown = app.screen.query_one(CommandList).option_count
        assert shown >= len(expected)
        await pilot.press(*"last conversation")
        await settle(pilot)
        assert app.screen.query_one(CommandInput).value == "last conversation"
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, CommandPalette)
        assert app.queue.cursor == LAST


async def test_the_palette_finds_a_command_by_the_words_of_its_help():
    """The tryout typed "csat" and got "Queue: Next conversation" first, never Reports: a
    command's help words count (Reports' help names CSAT); a name still finds it as before."""
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"csat")
        await until(pilot, lambda: app.screen.query_one(CommandList).option_count > 0)
        first = str(app.screen.query_one(CommandList).get_option_at_index(0).prompt)
        assert "Reports" in first, first
        await pilot.press("enter")
        await settle(pilot)
        from tui_desk.ui.reports import ReportsScreen
        assert isinstance(app.screen, ReportsScreen)


# --- layout ---------------------------------------------------------------------------------


async def test_three_panes_with_titles():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        panes = [app.query_one(p) for p in ("#queue-pane", "#conversation-pane", "#snippet-pane")]
        assert [str(p.border_title) for p in panes] == ["Queue", "Conversation", "Snippets"]
        assert all(p.display for p in panes)
        regions = [p.region for p in panes]
        assert regions[0].right <= regions[1].x and regions[1].right <= regions[2].x


async def test_snippet_pane_toggles_when_wide():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("S")
        assert not app.snippet_pane.display
        assert app.conversation_pane.display
        await pilot.press("S")
        assert app.snippet_pane.display
        assert app.focused is app.snippet_pane.filter_input
        await pilot.press("escape")  # out of the filter box, back to the queue
        assert app.focused is app.queue and app.snippet_pane.display


async def test_wide_queue_shows_the_queue_alone_a_row_a_line_and_enter_brings_the_panes_back():
    """`w` at 80x24 (a triage pass over SSH): the queue across the width, one line a row with its
    tags column, twice the rows of the split view; Enter opens the row with the panes back."""
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        queue, conversation = app.queue, app.conversation_pane
        split_rows = queue.scrollable_content_region.height // columns_for(queue.scrollable_content_region.width).lines_per_row
        await pilot.press("w")
        await pilot.pause()
        assert not conversation.display and not app.snippet_pane.display
        width = queue.scrollable_content_region.width
        assert width >= 74 and columns_for(width).lines_per_row == 1 and columns_for(width).tags > 0
        assert queue.scrollable_content_region.height >= 2 * split_rows - 1
        lines = visible_lines(queue)
        first = queue.row(queue.ids[0])
        assert first.customer in lines[0] and first.subject[:20] in lines[0]  # customer and subject on one line
        await pilot.press("j", "enter")
        await settle(pilot)
        assert conversation.display and app.query_one("#queue-pane").region.width <= 40
        assert conversation.conversation is not None and conversation.conversation.id == queue.ids[1]
        await pilot.press("w", "w")  # and back by the key itself
        await pilot.pause()
        assert conversation.display and app.focused is queue


async def test_small_terminal_folds_snippets_and_the_key_brings_them_back():
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        snippets, conversation = app.snippet_pane, app.conversation_pane
        assert not snippets.display and conversation.display
        queue_width = app.query_one("#queue-pane").region.width
        assert 28 <= queue_width <= 40  # both panes readable
        assert conversation.region.width >= 40
        await pilot.press("enter")
        await settle(pilot)
        # a queue row at 80 columns still shows customer, age and a readable subject
        lines = visible_lines(app.queue)
        assert lines[0].startswith("! Anna Petrova") and lines[0].rstrip().endswith("5h")
        assert "Charged twice for order" in lines[1]

        await pilot.press("S")
        await pilot.pause()
        assert snippets.display and not conversation.display  # takes the conversation's place
        assert snippets.region.width >= 40
        assert app.focused is snippets.filter_input
        await pilot.press("escape")
        await pilot.pause()
        assert not snippets.display and conversation.display
        assert app.focused is app.queue
        await pilot.press("S", *"Sx")  # S shows the pane; in its filter box S is just a letter
        await pilot.pause()
        assert snippets.display and snippets.filter_input.value == "Sx"
        await pilot.press("f2")  # F2 toggles from anywhere
        await pilot.pause()
        assert not snippets.display and conversation.display
        assert app.focused is app.queue


async def test_resize_across_100_columns():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("tab", "tab")
        assert app.focused is app.snippet_pane.filter_input
        await pilot.resize_terminal(99, 30)
        await settle(pilot)
        assert not app.snippet_pane.display
        assert app.focused is app.queue  # focus does not stay in a hidden pane
        await pilot.resize_terminal(100, 30)
        await settle(pilot)
        assert app.snippet_pane.display


# --- snippets -------------------------------------------------------------------------------


async def test_snippets_filter_as_you_type_with_preview():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        pane: SnippetPane = app.snippet_pane
        assert len(pane.shown) >= 10
        await pilot.press("tab", "tab", *"refund")
        await settle(pilot)
        names = [s.name for s in pane.shown]
        assert names and names[0].startswith("refund")
        assert all(
            "refund" in (s.name + s.title + " ".join(s.tags) + s.body).casefold() for s in pane.shown
        )
        assert pane.current is pane.shown[0]
        fills = plain_text(pane.query_one("#snippet-fills", Static))
        assert fills.startswith("::" + names[0])
        await pilot.press("down")
        await settle(pilot)
        assert pane.current is pane.shown[1]
        preview = pane.query_one("#snippet-preview")
        assert preview.source == pane.shown[1].body
        await pilot.press(*"zzzz-nothing")
        await settle(pilot)
        assert pane.shown == [] and pane.current is None
        assert plain_text(pane.query_one("#snippet-fills", Static)) == "No snippet matches."


async def test_enter_on_a_snippet_copies_it():
    app = make_app()
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("tab", "tab", *"password", "enter")
        await settle(pilot)
        assert copied and copied[0] == app.snippet_pane.shown[0].body


# --- themes ---------------------------------------------------------------------------------


async def test_themes_load_from_files_and_the_choice_is_remembered():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert app.theme == "tui-desk-dark"
        assert app.theme_names == ["tui-desk-dark", "tui-desk-light", "tui-desk-high-contrast"]
        await pilot.press("T")
        await settle(pilot)
        assert app.theme == "tui-desk-light"
        assert desk_themes.remembered_theme() == "tui-desk-light"
        await pilot.press("T")
        await settle(pilot)
        assert app.theme == "tui-desk-high-contrast"
        # the queue repaints in the new colours (strips are cached per theme)
        assert app.queue.render_line(0).text.startswith("! Anna Petrova")
        await pilot.press("T")
        await settle(pilot)
        assert app.theme == "tui-desk-dark"

    desk_themes.remember_theme("tui-desk-high-contrast")
    again = DeskApp(FakeDesk(40), clock=lambda: FIXED_NOW, theme_dirs=THEME_DIRS)
    async with again.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert again.theme == "tui-desk-high-contrast"


async def test_unknown_remembered_theme_falls_back_to_dark():
    desk_themes.remember_theme("no-such-theme")
    app = DeskApp(FakeDesk(40), clock=lambda: FIXED_NOW, theme_dirs=THEME_DIRS)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert app.theme == "tui-desk-dark"


# --- hostile text ---------------------------------------------------------------------------


async def test_markup_in_mail_shows_literally():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        lines = visible_lines(app.queue)
        assert any("[red]Mallory[/red]" in line for line in lines)
        assert any("[bold]x[/] and [link=https://evil." in line for line in lines)
        assert any("[b]tag[/b]" in line for line in lines)
        await pilot.press("j", "j", "j")
        await settle(pilot)
        assert "[i]not[/i] a reason" in plain_text(app.query_one("#status", Static))
        await pilot.press("enter")
        await settle(pilot)
        pane = app.conversation_pane
        assert plain_text(pane.query_one("#conv-subject", Static)) == (
            "[bold]x[/] and [link=https://evil.example/]click me[/link]"
        )
        assert plain_text(pane.query_one("#conv-meta", Static)).startswith("open · #[b]tag[/b] · [red]Mallory[/red]")
        box = pane.query_one(MessageBox)
        assert plain_text(box.query_one(".message--sender", Static)) == "[red]Mallory[/red]"
        body = plain_text(box.query_one(".message--text", Static))
        assert body == "[blink]Hello[/blink] [@click=app.quit]press here[/]\nNothing to see."
        # the clickable-looking text does nothing when clicked
        await pilot.click(".message--text")
        await settle(pilot)
        assert app.is_running


# --- 100k conversations ---------------------------------------------------------------------


async def test_100k_queue_is_lazy_and_G_reaches_the_last_row():
    app = make_app(n=100_000)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        queue = app.queue
        queued = await desk.queue_ids()  # the open ones: the generated pending ones wait elsewhere
        assert queue.ids == queued and 70_000 < len(queued) < 100_000
        fetched = sum(len(c) for c in desk.row_calls)
        assert fetched <= 200  # only what is on screen, a page at a time
        await pilot.press("G")
        await settle(pilot)
        assert queue.cursor == len(queued) - 1
        last = desk._row(queued[-1])
        lines = visible_lines(queue)
        text = "\n".join(lines)
        assert last.customer in text
        assert last.subject[:20] in text
        assert not any(line.strip() == "…" for line in lines)  # every visible row arrived
        assert plain_text(app.query_one("#status", Static)).startswith(f"{len(queued)}/{len(queued)}  #{queued[-1]}")
        assert sum(len(c) for c in desk.row_calls) <= 400
        for _ in range(30):
            await pilot.press("pageup")
        await settle(pilot)
        assert queue.cursor < len(queued) - 1 - 300
        assert "…" not in [line.strip() for line in visible_lines(queue)]
        await pilot.press("enter")
        await settle(pilot)
        assert app.conversation_pane.conversation.id == queue.ids[queue.cursor]
        assert sum(len(c) for c in desk.row_calls) < 5_000


# --- pieces ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("Refund", 10, "Refund    "),
        ("Refund for order", 10, "Refund fo…"),
        ("订单还没有发货", 8, "订单还… "),  # no half of a wide character
        ("订单还没有发货", 7, "订单还…"),
        ("Возврат денег", 8, "Возврат…"),
        ("x", 0, ""),
    ],
)
def test_fit_cuts_by_cell_width(text: str, width: int, expected: str):
    result = fit(text, width)
    assert cell_len(result) == width
    assert result == expected


def test_fit_right_aligns():
    assert fit("5h", 3, right=True) == " 5h"


@pytest.mark.parametrize("width", [20, 29, 40, 55, 56, 80, 120, 200])
def test_columns_fill_the_width(width: int):
    cols = columns_for(width)
    if cols.lines_per_row == 1:
        used = 2 + cols.customer + 1 + cols.subject + 1 + 3 + (cols.tags + 1 if cols.tags else 0)
        assert used == width
        assert cols.subject >= 20
    else:
        used = 2 + cols.customer + (cols.tags + 1 if cols.tags else 0) + 4
        assert used == width
        assert cols.subject == width - 2


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (912, "912 B"), (1536, "1.5 KB"), (184_320, "180 KB"), (2_412_000, "2.3 MB"), (5 * 1024**4, "5120 GB")],
)
def test_human_size(size: int, text: str):
    assert human_size(size) == text



# --- opening the desk, bad theme files -------------------------------------------------------


async def test_opens_the_real_desk_inside_the_app(tmp_path):
    from tui_desk.desk.service import Desk

    opened: list[Desk] = []

    async def open_desk() -> Desk:
        desk = await Desk.open(tmp_path / "desk.sqlite3")
        opened.append(desk)
        return desk

    app = DeskApp(open_desk=open_desk, clock=lambda: FIXED_NOW, theme="tui-desk-dark", theme_dirs=THEME_DIRS)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert app.desk is opened[0]
        assert app.queue.ids == []
        assert "No mail yet" in visible_lines(app.queue)[0]  # no account, no mail: how to start
        await pilot.press("j", "G", "enter")  # nothing to move to or open: no error
        await settle(pilot)
        assert app.conversation_pane.conversation is None


async def test_a_desk_that_cannot_open_ends_with_one_line():
    async def open_desk():
        raise ValueError("/tmp/x.sqlite3 is not a tui-desk store")

    app = DeskApp(open_desk=open_desk, theme="tui-desk-dark", theme_dirs=THEME_DIRS)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
    assert app.return_code == 2


async def _store_with_mail(path: Path, n: int) -> None:
    """A real store holding n one-message conversations."""
    from tui_desk.desk.importer import import_paths
    from tui_desk.desk.service import Desk
    try:
        from tests.mailfactory import make_mail
    except ImportError:
        from mailfactory import make_mail
    mails = path.parent / "mails"
    mails.mkdir()
    for i in range(n):
        (mails / f"{i}.eml").write_bytes(make_mail(f"m{i}@t", subject=f"Question {i}",
                                                   sender=f"Customer {i} <c{i}@customer.test>", minutes=i))
    desk = await Desk.open(path)
    try:
        await import_paths(desk, [mails], workers=1)
    finally:
        await desk.close()


async def test_the_first_page_read_beforehand_is_painted_before_the_desk_opens(tmp_path):
    """`tui-desk` reads the first page on a thread while the TUI is imported (desk.first_page):
    the rows are on screen before the app's own desk is open, and the rest follows it."""
    import asyncio

    from tui_desk.desk.first_page import FirstPageReader
    from tui_desk.desk.service import Desk

    db = tmp_path / "desk.sqlite3"
    await _store_with_mail(db, 150)
    reader = FirstPageReader(db, Config(), rows=100)
    page = await asyncio.to_thread(reader.result)
    assert page is not None
    ids, rows = page
    expected = await Desk.open(db)
    try:
        assert ids == await expected.queue_ids()
        assert rows == await expected.queue_rows(ids[:100])
    finally:
        await expected.close()

    may_open = asyncio.Event()
    opened: list[Desk] = []

    async def open_desk() -> Desk:
        await may_open.wait()
        opened.append(await Desk.open(db))
        return opened[0]

    app = DeskApp(open_desk=open_desk, first_page=reader, clock=lambda: FIXED_NOW, theme="tui-desk-dark",
                  theme_dirs=THEME_DIRS)
    async with app.run_test(size=WIDE) as pilot:
        for _ in range(500):  # not settle(): it would wait for the desk, held back here (10 s at most)
            await pilot.pause(0.02)
            if app.queue.ids:
                break
        await pilot.pause()
        assert app.desk is None
        assert app.queue.ids == ids
        lines = visible_lines(app.queue)
        assert rows[0].customer in lines[0] and rows[0].subject in lines[1]  # two lines a row here
        assert "…" not in "".join(lines)
        may_open.set()
        await settle(pilot)
        assert app.desk is opened[0]
        await pilot.press("G")  # past the first page: fetched through the app's own desk
        await settle(pilot)
        assert app.queue.current_row is not None and app.queue.current_row.id == ids[-1]


async def _app_whose_desk_waits(tmp_path):
    """An app showing the first page read beforehand while its own desk waits for ``may_open``:
    the moments after start when keys come before the desk does."""
    import asyncio

    from tui_desk.desk.first_page import FirstPageReader
    from tui_desk.desk.service import Desk

    db = tmp_path / "desk.sqlite3"
    await _store_with_mail(db, 30)
    reader = FirstPageReader(db, Config(), rows=100)
    may_open = asyncio.Event()

    async def open_desk() -> Desk:
        await may_open.wait()
        return await Desk.open(db)

    app = DeskApp(open_desk=open_desk, first_page=reader, clock=lambda: FIXED_NOW, theme="tui-desk-dark",
                  theme_dirs=THEME_DIRS)
    return app, may_open


async def _first_page_shown(app, pilot) -> None:
    for _ in range(500):  # not settle(): it would wait for the desk, held back here (10 s at most)
        await pilot.pause(0.02)
        if app.queue.ids:
            return


async def test_a_search_typed_before_the_desk_is_open_waits_for_it(tmp_path):
    """Keys typed while the first page is on screen and the desk still opens: the search runs
    once the desk is there (it used to crash the app: load_queue asserted a desk)."""
    app, may_open = await _app_whose_desk_waits(tmp_path)
    async with app.run_test(size=WIDE) as pilot:
        await _first_page_shown(app, pilot)
        all_ids = list(app.queue.ids)
        await pilot.press("slash", *"nothing-matches-this", "enter")
        await pilot.pause(0.1)
        assert app.desk is None and app.is_running
        may_open.set()
        await settle(pilot)
        assert app.is_running and app.main.query_text == "nothing-matches-this"
        assert app.queue.ids == [] and all_ids


async def test_a_row_opened_before_the_desk_is_open_opens_once_it_is(tmp_path):
    """Keys typed while the first page shows and the desk still opens (a new user typed `jjjj`
    and Enter while the demo started: the cursor moved, the Enter was lost)."""
    app, may_open = await _app_whose_desk_waits(tmp_path)
    async with app.run_test(size=WIDE) as pilot:
        await _first_page_shown(app, pilot)
        await pilot.press("j", "j", "enter")
        await pilot.pause(0.1)
        assert app.desk is None and app.is_running
        may_open.set()
        await settle(pilot)
        pane = app.conversation_pane
        assert app.is_running and pane.conversation is not None and pane.conversation.id == app.queue.ids[2]


async def test_a_triage_key_typed_before_the_desk_is_open_acts_once_it_is(tmp_path):
    """`t` (or any desk key) typed while the first page shows and the desk still opens: the
    prompt comes once the desk is there, and the keys typed after it go into it. It used to be
    dropped (the e2e rebound-keys shift lost its Ctrl+T once the first page came sooner)."""
    from tui_desk.ui.triage import ActionPrompt
    app, may_open = await _app_whose_desk_waits(tmp_path)
    async with app.run_test(size=WIDE) as pilot:
        await _first_page_shown(app, pilot)
        import asyncio
        pressed = asyncio.create_task(pilot.press("t"))  # the press waits with the action: for the desk
        await pilot.pause(0.1)
        assert app.desk is None and app.is_running
        may_open.set()
        await pressed
        await until(pilot, lambda: isinstance(app.screen, ActionPrompt))
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, ActionPrompt) and app.is_running


async def test_an_old_store_is_left_to_the_apps_own_open_which_upgrades_it(tmp_path):
    """The first-page reader does not upgrade a store (a long upgrade would hold the app's own
    open behind it for longer than SQLite waits): the app opens it, upgrades it, shows the rows."""
    import asyncio
    import sqlite3

    from tui_desk.desk.first_page import FirstPageReader
    from tui_desk.desk.service import Desk
    from tui_desk.store.schema import SCHEMA_VERSION

    db = tmp_path / "desk.sqlite3"
    await _store_with_mail(db, 30)
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version={SCHEMA_VERSION - 1}")  # its last step still to run
    con.close()
    reader = FirstPageReader(db, Config())
    assert await asyncio.to_thread(reader.result) is None
    version = sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0]
    assert version == SCHEMA_VERSION - 1
    app = DeskApp(open_desk=lambda: Desk.open(db), first_page=reader, clock=lambda: FIXED_NOW,
                  theme="tui-desk-dark", theme_dirs=THEME_DIRS)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert len(app.queue.ids) > 0 and app.queue.row(app.queue.ids[0]) is not None
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


async def test_a_store_the_reader_cannot_open_is_reported_by_the_app(tmp_path):
    import asyncio

    from tui_desk.desk.first_page import FirstPageReader
    from tui_desk.desk.service import Desk

    db = tmp_path / "desk.sqlite3"
    db.write_bytes(b"not a database" * 100)
    reader = FirstPageReader(db, Config())
    assert await asyncio.to_thread(reader.result) is None
    app = DeskApp(open_desk=lambda: Desk.open(db), first_page=reader, theme="tui-desk-dark", theme_dirs=THEME_DIRS)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
    assert app.return_code == 2
    assert db.read_bytes() == b"not a database" * 100  # never overwritten


@pytest.mark.parametrize("check_beside", [False, True])
async def test_a_damaged_store_is_reported_by_the_app_and_never_written(tmp_path, check_beside):
    """Damage the first page does not read (the raw mail): the queue shows, then the desk's check
    before writing (PRAGMA quick_check: in its open, or begun there and run beside the queue as
    run_app does) finds it; one line, exit 2, the file as it was."""
    import asyncio

    try:
        from tests.damaged_store import damage, file_state, imported_store
    except ImportError:
        from damaged_store import damage, file_state, imported_store
    from tui_desk.desk.first_page import FirstPageReader
    from tui_desk.desk.service import Desk

    db = await asyncio.to_thread(imported_store, tmp_path)  # the CLI runs a loop of its own
    damage(db, ["raw_messages"])
    before = file_state(db)
    reader = FirstPageReader(db, Config())
    assert await asyncio.to_thread(reader.result) is not None  # what it reads is whole
    async def open_desk() -> Desk:
        if not check_beside:
            return await Desk.open(db, Config())
        desk = await Desk.open(db, Config(), check=False)
        desk.store.start_check()
        return desk

    app = DeskApp(open_desk=open_desk, first_page=reader, theme="tui-desk-dark", theme_dirs=THEME_DIRS)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
    assert app.return_code == 2
    said = app.exit_line  # what run_app prints, as it is: one line however narrow the terminal
    assert said.startswith(f"tui-desk: store {db} is damaged (") and said.endswith("it was left untouched")
    assert "\n" not in said
    assert file_state(db) == before


async def test_quitting_while_the_desk_opens_still_closes_it(tmp_path):
    """An aiosqlite connection left open keeps the process alive after the app has gone."""
    import asyncio

    from tui_desk.desk.service import Desk

    started, may_finish = asyncio.Event(), asyncio.Event()
    opened: list[Desk] = []

    async def open_desk() -> Desk:
        started.set()
        await may_finish.wait()
        opened.append(await Desk.open(tmp_path / "desk.sqlite3"))
        return opened[0]

    app = DeskApp(open_desk=open_desk, theme="tui-desk-dark", theme_dirs=THEME_DIRS)
    async with app.run_test(size=SMALL):
        await started.wait()
        asyncio.get_running_loop().call_later(0.1, may_finish.set)
    assert opened and opened[0].store.db._connection is None  # closed


async def test_a_bad_theme_file_is_skipped_with_a_notice(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('name = "mine"\nprimary = "#123456"\n', encoding="utf-8")
    (tmp_path / "bad.toml").write_text('name = "broken"\nprimary = "not a colour at all"\n', encoding="utf-8")
    app = DeskApp(FakeDesk(40), clock=lambda: FIXED_NOW, theme_dirs=[tmp_path])
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await settle(pilot)
        assert app.theme_names == ["mine"]
        assert app.theme == "mine"
        assert any("bad.toml" in n.message for n in app._notifications)


# --- triage keys (stand-in desk) ------------------------------------------------------------


def choice_labels(prompt: ActionPrompt) -> list[str]:
    options = prompt.choice_list
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


def last_notice(app: DeskApp) -> str:
    return list(app._notifications)[-1].message if app._notifications else ""


async def test_t_tags_with_completion_and_u_undoes():
    app = make_app()
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        await pilot.press("j", "t")  # row 2 is tagged account, login
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, ActionPrompt)
        assert str(prompt.query_one("#prompt").border_title).startswith("Tag #2 Не могу войти")
        hints = " ".join(plain_text(s) for s in prompt.query(".prompt--hint"))
        assert "on it: account login" in hints and "billing" in hints  # known tags, loaded
        box = prompt.text_input
        await pilot.press(*"+bi")
        await settle(pilot)
        assert box._suggestion == "+billing"
        await pilot.press("tab", *" -lo")  # Tab takes the completion; "-" completes its own tags
        await settle(pilot)
        assert box._suggestion == "+billing -login"
        await pilot.press("right")
        assert box.value == "+billing -login"
        assert plain_text(prompt.query_one("#prompt-note", Static)) == "adds +billing  removes -login"
        await pilot.press("enter")
        await settle(pilot)
        assert desk.actions[-1] == ("tag", [2], ["billing"], ["login"])
        assert not isinstance(app.screen, ActionPrompt)
        assert app.main.last_action == "tagged 1 conversation +billing -login"
        assert last_notice(app) == "tagged 1 conversation +billing -login  (u undoes)"
        assert app.queue.row(2).tags == ("account", "billing")
        assert app.queue.cursor == 1  # still on the tagged row
        await pilot.press("u")
        await settle(pilot)
        assert app.main.last_action == f"undid: tagged 1 conversation +billing -login ({await named_on(desk, [2])})"
        assert app.queue.row(2).tags == ("account", "login")


async def test_tag_prompt_bare_word_adds_and_bad_input_is_shown_inline():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        await pilot.press("t", "enter")
        await settle(pilot)
        note = app.screen.query_one("#prompt-note", Static)
        assert note.has_class("-error") and "Type a tag" in plain_text(note)
        long_tag = "x" * 70
        await pilot.press(*long_tag, "enter")
        await settle(pilot)
        assert isinstance(app.screen, ActionPrompt)  # still open: fix it or Esc
        assert "at most 64 characters" in plain_text(app.screen.query_one("#prompt-note", Static))
        app.screen.text_input.value = ""
        await pilot.press(*"urgent", "enter")
        await settle(pilot)
        assert desk.actions[-1] == ("tag", [1], ["urgent"], [])
        await pilot.press("t", "escape")
        await settle(pilot)
        assert not isinstance(app.screen, ActionPrompt)
        assert desk.actions[-1] == ("tag", [1], ["urgent"], [])  # Esc did nothing


async def test_c_closes_o_reopens_and_the_cursor_goes_to_the_next_row():
    app = make_app()
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        await pilot.press("j", "j", "c")  # no confirmation for one conversation
        await settle(pilot)
        assert desk.actions[-1] == ("status", [3], "closed")
        assert 3 not in app.queue.ids and len(app.queue.ids) == QUEUED - 1
        assert app.queue.cursor == 2 and app.queue.current_id == 4  # the row that took its place
        assert last_notice(app).startswith("closed 1 conversation")
        await pilot.press("u")
        await settle(pilot)
        assert 3 in app.queue.ids and app.main.last_action == f"undid: closed 1 conversation ({await named_on(desk, [3])})"
        assert app.queue.current_id == 3  # the cursor goes to the one that came back
        await pilot.press("7")  # the Closed view
        await settle(pilot)
        assert app.queue.ids == []
        await pilot.press("1", "c")  # back in the queue, at the top
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        assert app.queue.ids == [1]
        await pilot.press("o")
        await settle(pilot)
        assert desk.actions[-1] == ("status", [1], "open")
        assert app.queue.ids == [] and "Nothing in Closed" in visible_lines(app.queue)[0]


async def test_spam_asks_first_even_for_one():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert plain_text(app.screen.query_one("#confirm-text", Static)).startswith(
            "Mark #1 Charged twice for order #48213 as spam?"
        )
        await pilot.press("n")
        await settle(pilot)
        assert not desk.actions and 1 in app.queue.ids
        await pilot.press("exclamation_mark", "y")
        await settle(pilot)
        assert desk.actions == [("status", [1], "spam")]
        assert 1 not in app.queue.ids
        await pilot.press("u")
        await settle(pilot)
        assert app.queue.ids[0] == 1


async def test_space_selects_rows_across_scrolling_and_bulk_close_asks_with_the_count():
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        queue = app.queue
        await pilot.press("space")  # selects row 1 and moves on
        assert queue.selected == {1} and queue.cursor == 1
        assert visible_lines(queue)[0].startswith("!✓Anna Petrova")
        await pilot.press("G", "space")  # far below, out of sight of the first one
        await settle(pilot)
        assert queue.selected == {1, 40}
        await pilot.press("g")
        await settle(pilot)
        assert visible_lines(queue)[0].startswith("!✓Anna Petrova")  # still marked
        assert str(app.query_one("#queue-pane").border_subtitle) == f"2 of {QUEUED} selected"
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert plain_text(app.screen.query_one("#confirm-text", Static)) == "Close 2 conversations?"
        await pilot.press("escape")
        await settle(pilot)
        assert not desk.actions and queue.selected == {1, 40}  # cancelled: nothing changed
        await pilot.press("c", "enter")
        await settle(pilot)
        assert desk.actions == [("status", [1, 40], "closed")]
        assert 1 not in queue.ids and 40 not in queue.ids
        assert queue.selected == set()  # done with them
        assert app.main.last_action == "closed 2 conversations"
        await pilot.press("u")
        await settle(pilot)
        assert len(queue.ids) == QUEUED and app.main.last_action == "undid: closed 2 conversations (#1 and #40)"
        # space again unselects; Esc clears a selection
        await pilot.press("space", "k", "space")
        assert queue.selected == set()
        await pilot.press("space", "space")
        assert len(queue.selected) == 2
        await pilot.press("escape")
        assert queue.selected == set()


async def test_star_selects_the_whole_search_result():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        await pilot.press("slash", *"refund", "enter")
        await settle(pilot)
        found = list(app.queue.ids)
        assert 1 < len(found) < QUEUED
        await pilot.press("asterisk")
        assert app.queue.selected == set(found)
        subtitle = str(app.query_one("#queue-pane").border_subtitle)
        assert subtitle == f"refund · {len(found)} of {len(found)} selected"
        await pilot.press("z")
        await settle(pilot)
        assert str(app.screen.query_one("#prompt").border_title) == f"Snooze {len(found)} conversations"
        await pilot.press("enter")  # the first preset: later today
        await settle(pilot)
        assert desk.actions[-1] == ("snooze", sorted(found, key=found.index), "later today")
        assert app.main.last_action == f"snoozed {len(found)} conversations until Fri 20 Nov 15:00"
        await pilot.press("escape")  # back to the queue: the snoozed ones are gone from it
        await settle(pilot)
        assert not set(found) & set(app.queue.ids)
        await pilot.press("asterisk", "asterisk")  # twice: none
        assert app.queue.selected == set()


async def test_snooze_presets_free_text_and_a_time_it_cannot_read():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        await pilot.press("z")
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, ActionPrompt)
        labels = choice_labels(prompt)
        assert labels[0].startswith("later today") and labels[0].endswith("today 15:00")
        assert labels[1].endswith("tomorrow Sat 9:00")
        assert labels[2].endswith("Mon 9:00")
        assert labels[4].endswith("until the customer replies")
        await pilot.press("down", "enter")  # tomorrow 9:00
        await settle(pilot)
        assert desk.actions[-1] == ("snooze", [1], "tomorrow 9:00")
        assert app.main.last_action == "snoozed 1 conversation until Sat 21 Nov 09:00"
        assert 1 not in app.queue.ids

        await pilot.press("z", *"someday", "enter")
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, ActionPrompt)  # still open, the desk's message inline
        note = prompt.query_one("#prompt-note", Static)
        assert note.has_class("-error") and plain_text(note).startswith("cannot read 'someday'")
        prompt.text_input.value = ""
        await pilot.press(*"fri 14:00")
        await settle(pilot)
        assert plain_text(prompt.query_one("#prompt-note", Static)) == "→ today 14:00"
        assert prompt.choice_list.highlighted is None  # typing takes the highlight off
        await pilot.press("enter")
        await settle(pilot)
        assert desk.actions[-1] == ("snooze", [2], "fri 14:00")
        assert app.main.last_action == "snoozed 1 conversation until Fri 20 Nov 14:00"

        await pilot.press("5")  # Snoozed
        await settle(pilot)
        assert str(app.query_one("#queue-pane").border_title) == "Snoozed"
        assert sorted(app.queue.ids) == [1, 2]
        await pilot.press("z", "up", "enter")  # the last preset, wrapping: until reply
        await settle(pilot)
        assert desk.actions[-1] == ("snooze", [1], "until reply")
        await pilot.press("z", *"off", "enter")
        await settle(pilot)
        assert app.main.last_action == "woke 1 conversation"
        assert app.queue.ids == [2]


async def test_a_assigns_to_me_a_teammate_or_nobody_and_mine_shows_it():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        await pilot.press("a")
        await settle(pilot)
        prompt = app.screen
        assert choice_labels(prompt) == ["me  alice", "bob", "unassign"]  # teammates: known_agents()
        await pilot.press("enter")
        await settle(pilot)
        assert desk.actions[-1] == ("assign", [1], "alice")
        await pilot.press("j", "a", *"carol", "enter", "enter")  # not a known agent: Enter again confirms
        await settle(pilot)
        assert desk.actions[-1] == ("assign", [2], "carol")
        await pilot.press("2")  # Mine
        await settle(pilot)
        assert str(app.query_one("#queue-pane").border_title) == "Mine"
        assert app.queue.ids == [1]
        await pilot.press("a", "down", "down", "down", "enter")  # me, bob, carol, unassign
        await settle(pilot)
        assert desk.actions[-1] == ("assign", [1], None)
        assert app.main.last_action == "unassigned 1 conversation"
        assert app.queue.ids == []
        await pilot.press("u")
        await settle(pilot)
        assert app.queue.ids == [1]


async def test_v_picks_a_saved_view_and_numbers_switch_directly():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        pane = app.query_one("#queue-pane")
        assert str(pane.border_title) == "Queue"
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ViewPicker)
        await pilot.press("down", "down", "down", "enter")  # Pending
        await settle(pilot)
        assert str(pane.border_title) == "Pending"
        assert app.queue.ids and all(app.queue.row(i).status == "pending" for i in app.queue.ids)
        await pilot.press("v", "3")
        await settle(pilot)
        assert str(pane.border_title) == "Unassigned"
        await pilot.press("9")
        await settle(pilot)
        assert str(pane.border_title) == "Unassigned"  # there is no view 9: said, nothing else
        await pilot.press("1")
        await settle(pilot)
        assert str(pane.border_title) == "Queue" and len(app.queue.ids) == QUEUED


async def test_search_narrows_the_current_view():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("4", "slash", *"account", "enter")
        await settle(pilot)
        assert app.desk.queries[-1] == "status:pending account"
        assert app.queue.ids and all(app.queue.row(i).status == "pending" for i in app.queue.ids)


async def test_p_shows_every_reason_of_the_row():
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ReasonsScreen)
        text = plain_text(app.screen.query_one("#reasons-text", Static))
        for needle in ("Charged twice for order #48213", "score 9.5", "! overdue", "• waiting 5h of 2h target",
                       "• vip customer", "• reopened by customer", "flags: vip", "tags: billing refund vip"):
            assert needle in text, needle
        await pilot.press("escape")
        await pilot.press("j", "j", "j", "p")  # reasons from mail stay literal
        await settle(pilot)
        assert "• [i]not[/i] a reason" in plain_text(app.screen.query_one("#reasons-text", Static))


async def test_typing_in_a_box_never_triggers_triage_keys():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        keys = ["t", "z", "a", "c", "o", "exclamation_mark", "u", "p", "v", "1", "2", "space", "asterisk"]
        await pilot.press("slash", *keys)
        await settle(pilot)
        assert app.search_input.value == "tzaco!upv12 *"
        assert isinstance(app.screen, type(app.screen_stack[0])) and not desk.actions
        assert str(app.query_one("#queue-pane").border_title) == "Queue"
        await pilot.press("escape", "tab", "tab", *keys)
        await settle(pilot)
        assert app.snippet_pane.filter_input.value == "tzaco!upv12 *"
        assert not desk.actions and not app.queue.selected
        # T is still the theme and t the tag prompt
        await pilot.press("escape", "T")
        await settle(pilot)
        assert app.theme == "tui-desk-light" and not isinstance(app.screen, ActionPrompt)


async def test_keys_typed_at_once_act_in_order():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        await burst(app, "tbug\rcjc")  # a prompt takes what follows it; each c acts on its row
        await settle(pilot)
        assert desk.actions == [("tag", [1], ["bug"], []), ("status", [1], "closed"), ("status", [3], "closed")]
        assert app.queue.ids[:3] == [2, 4, 5] and app.queue.current_id == 4
        await burst(app, "  c\r")  # select two, close them (Enter confirms)
        await settle(pilot)
        assert desk.actions[-1] == ("status", [4, 5], "closed")
        await burst(app, "tre\t\r")  # Tab takes the completion before Enter applies
        await settle(pilot)
        assert desk.actions[-1] == ("tag", [app.queue.current_id], ["refund"], [])
        await burst(app, "z↓↓\r")  # the third preset
        await settle(pilot)
        assert desk.actions[-1][2] == "next monday 9:00"


async def test_action_from_the_conversation_pane_updates_its_header():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        await pilot.press("enter", "j", "j", "tab")  # #1 is open, the cursor is on #3
        await settle(pilot)
        pane = app.conversation_pane
        thread = pane.thread
        thread.scroll_to(y=2, animate=False)
        await settle(pilot)
        await pilot.press("t", *"+bug", "enter")
        await settle(pilot)
        assert desk.actions[-1] == ("tag", [1], ["bug"], [])  # the conversation being read
        meta = plain_text(pane.query_one("#conv-meta", Static))
        assert meta.startswith("open · #billing #bug #refund #vip · Anna Petrova")
        assert thread.scroll_y == 2  # the thread stayed where it was
        await pilot.press("c")
        await settle(pilot)
        assert plain_text(pane.query_one("#conv-meta", Static)).startswith("closed · ")
        assert app.queue.current_id == 3


async def test_help_and_palette_list_the_triage_actions():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for title in ("Triage: Tag", "Triage: Snooze", "Triage: Assign", "Triage: Close", "Triage: Reopen",
                      "Triage: Spam", "Triage: Undo", "Triage: Why here", "Triage: Views", "Queue: Select",
                      "Queue: Select all", "View: Queue", "View: Mine", "View: Snoozed", "View: Closed"):
            assert title in titles, title
        await pilot.press("question_mark")
        await pilot.pause()
        text = plain_text(app.screen.query_one("#help-text", Static))
        for needle in ("Which conversation the keys below act on: the focused pane decides",
                       "The selected rows, else the row under the cursor",
                       "The open conversation, not the cursor's row",
                       "Triage: the selected rows, else the current one (or the open one)",
                       "Tag: +bug -question", "Snooze:",
                       "Assign to me", "Close", "Reopen", "!", "Mark as spam", "Undo the last", "Why it ranks",
                       "Saved views", "1 … 9", "Space", "Select or unselect", "*", "Prompts"):
            assert needle in text, needle
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"view: snoozed", "enter")
        await settle(pilot)
        assert str(app.query_one("#queue-pane").border_title) == "Snoozed"
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"triage: close", "enter")
        await settle(pilot)
        assert not app.desk.actions  # nothing snoozed yet: nothing to close


async def test_no_conversation_no_action():
    app = make_app()
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("6", "c", "t")  # Waking today: empty
        await settle(pilot)
        assert not app.desk.actions and not isinstance(app.screen, ActionPrompt)
        assert last_notice(app) == "No conversation to act on"
        await pilot.press("u")
        await settle(pilot)
        assert last_notice(app) == "Nothing to undo"


# --- triage keys on the real desk -----------------------------------------------------------


def _mail(n: int, sender: str, subject: str, minutes_ago: int, *, reply_to: int | None = None) -> bytes:
    from email.message import EmailMessage
    from email.utils import format_datetime

    m = EmailMessage()
    m["From"] = sender
    m["To"] = "Support <support@helpdesk.test>" if reply_to is None else "customer"
    m["Subject"] = subject if reply_to is None else f"Re: {subject}"
    m["Date"] = format_datetime(dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=minutes_ago))
    m["Message-ID"] = f"<m{n}@ui-test.example>"
    if reply_to is not None:
        m["In-Reply-To"] = m["References"] = f"<m{reply_to}@ui-test.example>"
    m.set_content(f"Message {n}: {subject}\n")
    return bytes(m)


REAL_CONFIG = Config(agent="alice", agent_addresses=("*@helpdesk.test",))


@pytest.fixture(scope="module")
def real_store(tmp_path_factory) -> Path:
    """A small store made the real way: an mbox imported by the desk. Four open conversations
    and one pending (the agent replied)."""
    import asyncio
    import mailbox

    from tui_desk.desk.importer import import_paths
    from tui_desk.desk.service import Desk

    root = tmp_path_factory.mktemp("real-desk")
    box = mailbox.mbox(root / "support.mbox")
    for raw in (
        _mail(1, "Ann Lee <ann@customer.test>", "Refund for order 1001", 300),
        _mail(2, "Bob Stone <bob@acme.test>", "Cannot log in", 240),
        _mail(3, "Alice <alice@helpdesk.test>", "Cannot log in", 200, reply_to=2),
        _mail(4, "Carol King <carol@example.org>", "URGENT: invoice is wrong", 30),
        _mail(5, "Dave Roe <dave@example.net>", "Feature request: dark mode", 500),
        _mail(6, "Erin Moss <erin@example.com>", "Password reset never arrives", 120),
    ):
        box.add(raw)
    box.close()

    async def build() -> None:
        desk = await Desk.open(root / "template.db", REAL_CONFIG)
        try:
            await import_paths(desk, [root / "support.mbox"], workers=1)
        finally:
            await desk.close()

    asyncio.run(build())
    return root / "template.db"


@pytest.fixture
async def real_desk(real_store, tmp_path):
    from tui_desk.desk.service import Desk

    shutil.copy(real_store, tmp_path / "desk.db")
    desk = await Desk.open(tmp_path / "desk.db", REAL_CONFIG)
    yield desk
    await desk.close()


def real_app(desk) -> DeskApp:
    return DeskApp(desk, theme="tui-desk-dark", theme_dirs=THEME_DIRS)


async def state_of(desk, conv_id: int):
    from tui_desk.store import queries

    return (await queries.conversation_states(desk.store, [conv_id]))[conv_id]


async def test_real_desk_tag_close_spam_reopen_each_undone(real_desk):
    desk = real_desk
    app = real_app(desk)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        queue = app.queue
        start = list(queue.ids)
        assert len(start) == 4  # Bob's is pending: not in the queue
        first, second = start[0], start[1]

        await pilot.press("t", *"+bug billing", "enter")
        await settle(pilot)
        assert (await state_of(desk, first)).tags == ("billing", "bug")
        assert queue.row(first).tags == ("billing", "bug")
        assert app.main.last_action == "tagged 1 conversation +bug +billing"
        await pilot.press("t", *"-billing", "enter")
        await settle(pilot)
        assert (await state_of(desk, first)).tags == ("bug",)
        await pilot.press("u")
        await settle(pilot)
        assert app.main.last_action == f"undid: tagged 1 conversation -billing ({await named_on(desk, [first])})"
        assert (await state_of(desk, first)).tags == ("billing", "bug")

        await pilot.press("c")
        await settle(pilot)
        assert (await state_of(desk, first)).status == "closed"
        assert queue.ids == start[1:] and queue.current_id == second
        await pilot.press("u")
        await settle(pilot)
        assert (await state_of(desk, first)).status == "open"
        assert queue.ids == start
        assert app.main.last_action == f"undid: closed 1 conversation ({await named_on(desk, [first])})"

        await pilot.press("exclamation_mark", "y")
        await settle(pilot)
        assert (await state_of(desk, first)).status == "spam"
        assert first not in queue.ids
        await pilot.press("u")
        await settle(pilot)
        assert (await state_of(desk, first)).status == "open"

        await pilot.press("c", "7")  # closed, then the Closed view
        await settle(pilot)
        assert str(app.query_one("#queue-pane").border_title) == "Closed"
        assert queue.ids == [first]
        await pilot.press("o")
        await settle(pilot)
        assert (await state_of(desk, first)).status == "open"
        assert queue.ids == []
        await pilot.press("1")
        await settle(pilot)
        assert first in queue.ids


async def test_real_desk_snooze_and_assign_with_views(real_desk):
    desk = real_desk
    app = real_app(desk)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        queue = app.queue
        start = list(queue.ids)
        first = start[0]

        await pilot.press("z", "down", "enter")  # tomorrow 9:00
        await settle(pilot)
        state = await state_of(desk, first)
        tomorrow = (dt.datetime.now().astimezone() + dt.timedelta(days=1)).replace(hour=9, minute=0, second=0)
        assert state.snooze_until == int(tomorrow.replace(microsecond=0).timestamp())
        assert first not in queue.ids
        assert app.main.last_action.startswith("snoozed 1 conversation until ")
        await pilot.press("5")  # Snoozed
        await settle(pilot)
        assert queue.ids == [first]
        await pilot.press("z", *"off", "enter")
        await settle(pilot)
        assert (await state_of(desk, first)).snooze_until is None
        assert queue.ids == []
        await pilot.press("u")  # snoozed again
        await settle(pilot)
        assert queue.ids == [first]

        await pilot.press("1", "z", *"next tuesday at noon", "enter")
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, ActionPrompt)  # the desk could not read it: said inline
        assert "cannot read" in plain_text(prompt.query_one("#prompt-note", Static))
        prompt.text_input.value = ""
        await pilot.press(*"3d", "enter")
        await settle(pilot)
        second = start[1]
        assert (await state_of(desk, second)).snooze_until is not None
        await pilot.press("z", *"until reply", "enter")
        await settle(pilot)
        assert (await state_of(desk, start[2])).snooze_reply

        await pilot.press("a", "enter")  # me
        await settle(pilot)
        mine = queue.current_id
        assert (await state_of(desk, mine)).assignee == "alice"
        assert app.main.last_action == "assigned 1 conversation to alice"
        await pilot.press("2")  # Mine
        await settle(pilot)
        assert str(app.query_one("#queue-pane").border_title) == "Mine" and queue.ids == [mine]
        await pilot.press("a")
        await settle(pilot)
        assert choice_labels(app.screen) == ["me  alice", "unassign"]
        await pilot.press(*"bob", "enter", "enter")  # bob is new to this desk: asked, then confirmed
        await settle(pilot)
        assert (await state_of(desk, mine)).assignee == "bob" and queue.ids == []
        await pilot.press("u", "u")
        await settle(pilot)
        assert (await state_of(desk, mine)).assignee is None
        assert app.main.last_action == f"undid: assigned 1 conversation to alice ({await named_on(desk, [mine])})"


async def test_real_desk_bulk_close_of_a_search_result_and_undo(real_desk):
    desk = real_desk
    app = real_app(desk)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        queue = app.queue
        await pilot.press("slash", *"status:open", "enter")
        await settle(pilot)
        found = list(queue.ids)
        assert len(found) == 4
        await pilot.press("asterisk", "c")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert plain_text(app.screen.query_one("#confirm-text", Static)) == "Close 4 conversations?"
        await pilot.press("y")
        await settle(pilot)
        assert queue.ids == [] and "Nothing matches 'status:open'" in visible_lines(queue)[0]
        assert all([(await state_of(desk, i)).status == "closed" for i in found])
        assert app.main.last_action == "closed 4 conversations"
        await pilot.press("u")
        await settle(pilot)
        assert sorted(queue.ids) == sorted(found)
        assert all([(await state_of(desk, i)).status == "open" for i in found])
        # a selection inside the result: two of them, tagged at once
        await pilot.press("g", "space", "space", "t")
        await settle(pilot)
        assert str(app.screen.query_one("#prompt").border_title) == "Tag 2 conversations"
        await pilot.press(*"refund", "enter")
        await settle(pilot)
        assert app.main.last_action == "tagged 2 conversations +refund"
        assert [i for i in found if "refund" in (await state_of(desk, i)).tags] == found[:2]


async def test_background_delivers_a_reply_and_the_queue_follows(tmp_path):
    """The app starts desk.background for a desk with accounts: a queued reply goes out to
    the demo's SMTP sink and the answered conversation leaves the open queue on its own."""
    from tui_desk.cli import prepare_demo
    from tui_desk.demo import DemoMailSink, demo_config
    from tui_desk.desk.replies import queue_reply
    from tui_desk.desk.service import Desk
    from tui_desk.ui.app import DeskApp

    await prepare_demo(tmp_path / "demo.db")
    sink = DemoMailSink()
    port = sink.start()
    try:
        async def open_desk():
            return await Desk.open(tmp_path / "demo.db", demo_config(port))
        app = DeskApp(open_desk=open_desk, theme="tui-desk-dark")
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(100):
                if app.background is not None and app.queue.ids:
                    break
                await pilot.pause(0.05)
            first = app.queue.ids[0]
            await queue_reply(app.desk, first, "Hi {{customer_first_name}}, sorted.", send_at=0)
            def ours() -> list[bytes]:
                return [m for m in sink.received if b"sorted." in m]
            for _ in range(100):
                if ours() and first not in app.queue.ids:
                    break
                await pilot.pause(0.1)
            assert len(ours()) == 1
            # the rest: the demo's own acknowledgement, which its rule queued when the demo was built
            assert all(b"Auto-Submitted: auto-replied" in m for m in sink.received if m not in ours())
            assert first not in app.queue.ids
    finally:
        sink.stop()


def shown_lines(widget) -> list[str]:
    """The lines of the screen where ``widget`` is, as the terminal gets them (cut, ellipsis…)."""
    region = widget.content_region.intersection(widget.parent.scrollable_content_region)  # the visible part
    screen = widget.screen._compositor.render_strips()  # what would be written to the terminal
    return [screen[y].crop(region.x, region.right).text for y in range(region.y, region.bottom)]


async def test_long_lines_end_in_an_ellipsis_at_60_by_20_and_help_wraps_them():
    """The status line ends in an ellipsis; a help line wider than the box wraps under its
    description instead (tests/test_ui_80x24.py reads the whole help)."""
    app = make_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        status = app.query_one("#status", Static)
        [line] = shown_lines(status)
        assert cell_len(plain_text(status)) > status.content_region.width  # it is too long for the line
        assert line.rstrip().endswith("…"), line
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.query_one("#help-text", Static)
        lines = shown_lines(text)
        width = text.content_region.width
        long = [(keys, description) for _, rows in app.screen.sections for keys, description in rows
                if 2 + cell_len(keys) + 2 + cell_len(description) > width]
        assert long, "some help lines are wider than 60 columns"
        rendered = plain_text(text).split("\n")
        assert all(cell_len(row) <= width for row in rendered)
        assert [row.rstrip() for row in rendered[:len(lines)]] == [line.rstrip() for line in lines]  # as the terminal shows them
        joined = " ".join(" ".join(rendered).split())
        for keys, description in long:  # whole, on two lines or more
            assert " ".join(f"{keys} {description}".split()) in joined, description


async def test_real_desk_rows_header_and_reasons_show_assignee_snooze_draft_and_scheduled_reply(real_desk):
    """The hand-off state, read with the rows (one query), on the queue row within 80 columns,
    in the conversation header and in p."""
    import time

    from tui_desk.store import outbox

    desk = real_desk
    first, second, third = (await desk.queue_ids())[:3]
    await desk.assign([first], "bob")
    await desk.save_draft(first, "Half-written answer")
    async with desk.store.transaction():
        await outbox.add(desk.store, account="support", conv_id=second, message_id="<later@helpdesk.test>",
                         raw=b"x", mail_from="support@helpdesk.test", recipients=["bob@acme.test"],
                         body_markdown="Later", send_at=int(time.time()) + 86400)
    await desk.snooze([third], "2099-01-02 09:00")
    app = real_app(desk)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        queue = app.queue
        width = queue.scrollable_content_region.width
        lines = visible_lines(queue)
        assert all(cell_len(line) == width for line in lines)
        assert "@bob" in lines[1] and "✎draft" in lines[1]  # two lines a row: subject and markers
        assert "⏲" in lines[3] and "@" not in lines[3]
        await pilot.press("enter")
        await settle(pilot)
        meta = plain_text(app.conversation_pane.query_one("#conv-meta", Static))
        assert "@bob" in meta and "✎draft" in meta
        await pilot.press("p")
        await settle(pilot)
        text = plain_text(app.screen.query_one("#reasons-text", Static))
        assert "assigned: bob" in text and "✎ draft saved" in text
        await pilot.press("escape", "5")  # Snoozed
        await settle(pilot)
        assert queue.ids == [third]
        assert "z 2099-01-02" in visible_lines(queue)[1]


async def test_no_account_and_no_mail_the_empty_queue_says_how_to_start(tmp_path):
    from tui_desk.desk.service import Desk

    desk = await Desk.open(tmp_path / "empty.db", Config(agent="alice", path=tmp_path / "config.toml"))
    try:
        hint = await desk.setup_hint()
        assert hint and str(tmp_path / "config.toml") in hint and "tui-desk demo" in hint
        app = real_app(desk)
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            queue = app.queue
            width = queue.scrollable_content_region.width
            lines = visible_lines(queue)
            assert all(cell_len(line) <= width for line in lines)
            shown = " ".join(" ".join(lines).split())
            assert "No mail yet" in shown and "[accounts.NAME]" in shown and "tui-desk demo" in shown
    finally:
        await desk.close()


async def test_with_nothing_in_the_queue_the_conversation_pane_does_not_ask_to_pick_one():
    from textual.widgets import Static

    def placeholder(app) -> str:
        return str(app.screen.query_one(".thread--empty", Static).render())

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert placeholder(app) == "Pick a conversation in the queue and press Enter."
        await pilot.press("slash", *"zzqx-nothing-has-this", "enter")
        await settle(pilot)
        assert app.queue.ids == []
        assert placeholder(app) == "Nothing to open: the queue is empty."
        await pilot.press("escape")  # the search clears: the queue again
        await settle(pilot)
        assert app.queue.ids and placeholder(app) == "Pick a conversation in the queue and press Enter."


async def test_h_lists_the_other_conversations_in_columns():
    """#88 and #106: the ids are padded, so status, date and subject line up."""
    import dataclasses

    from tui_desk.desk.views import HistoryItem
    from tui_desk.ui.triage import ActionPrompt

    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        desk = app.desk
        real = desk._conversation
        history = (HistoryItem(88, "Refund", "pending", None, True), HistoryItem(106, "Login", "pending", None, True))
        desk._conversation = lambda cid: dataclasses.replace(real(cid), history=history)
        await pilot.press("enter", "h")
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, ActionPrompt)
        texts = [str(text) for text, _ in prompt.choices]
        assert texts[0].startswith("#88  pending") and texts[1].startswith("#106 pending"), texts
        assert texts[0].index("Refund") == texts[1].index("Login")


async def test_a_completes_known_agents_and_asks_before_assigning_a_stranger():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        await pilot.press("a", *"BO", "tab", "enter")  # Tab completes a known agent, spelt as the desk does
        await settle(pilot)
        assert desk.actions[-1] == ("assign", [1], "bob")
        assert "@bob" in " ".join(visible_lines(app.queue)[:2])
        await pilot.press("a", *"bbo", "enter")  # a typo: asked, not done
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, ActionPrompt)
        assert desk.actions[-1] == ("assign", [1], "bob")
        assert "bbo is not a known agent — assign anyway? Enter/Esc" in plain_text(
            prompt.query_one("#prompt-note", Static))
        await pilot.press("escape")
        await settle(pilot)
        assert desk.actions[-1] == ("assign", [1], "bob")
        await pilot.press("a", *"dora", "enter", "enter")  # a new teammate: Enter again assigns
        await settle(pilot)
        assert desk.actions[-1] == ("assign", [1], "dora")


async def test_a_first_name_assigns_the_one_agent_it_begins():
    """The tryout: a, bob, Enter asked "bob is not a known agent" though "Bob Okafor" was the only
    match. The one rule of the CLI's assign (desk.agent_names.resolve): assigned, not asked; a
    beginning several agents share is asked about, naming them."""
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]

        async def known_agents() -> list[str]:
            return ["alice", "Bob Okafor", "Bonnie Lee"]
        desk.known_agents = known_agents  # type: ignore[method-assign]
        await pilot.press("a", *"bob", "enter")
        await settle(pilot)
        assert desk.actions[-1] == ("assign", [1], "Bob Okafor")
        await pilot.press("a", *"bo", "enter")
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, ActionPrompt)
        assert desk.actions[-1] == ("assign", [1], "Bob Okafor")
        assert "bo could be Bob Okafor, Bonnie Lee — assign anyway? Enter/Esc" in plain_text(
            prompt.query_one("#prompt-note", Static))
        await pilot.press("escape")
        await settle(pilot)
