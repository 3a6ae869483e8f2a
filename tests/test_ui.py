"""The TUI driven with Pilot over the in-memory stand-in desk."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual import events
from textual.command import CommandInput, CommandList, CommandPalette
from textual.widgets import Input, Static

from tui_desk.desk import themes as desk_themes
from tui_desk.desk.snippets import bundled_dir
from tui_desk.desk.views import ConversationView
from tui_desk.ui.app import DeskApp
from tui_desk.ui.conversation import MessageBox, QuotedBlock, ThreadView, human_size
from tui_desk.ui.help import HelpScreen
from tui_desk.ui.queue import QueueView, columns_for, fit
from tui_desk.ui.snippets import SnippetPane

try:
    from tests.ui_fake_desk import FIXED_NOW, FakeDesk, settle
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_desk import FIXED_NOW, FakeDesk, settle

WIDE = (120, 40)
SMALL = (80, 24)


@pytest.fixture(autouse=True)
def _private_state(tmp_path, monkeypatch):
    """The remembered theme goes to a temporary state dir, never the user's."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


THEME_DIRS = [bundled_dir("themes")]  # the shipped themes, not a user's own


def make_app(n: int = 40, **kw) -> DeskApp:
    kw.setdefault("theme", "tui-desk-dark")
    kw.setdefault("theme_dirs", THEME_DIRS)
    return DeskApp(FakeDesk(n), clock=lambda: FIXED_NOW, **kw)


def visible_lines(queue: QueueView) -> list[str]:
    return [queue.render_line(y).text for y in range(queue.scrollable_content_region.height)]


def plain_text(static: Static) -> str:
    """What a Static shows, as plain text (markup would have been consumed)."""
    return str(static.render())


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
        assert plain_text(app.query_one("#status", Static)).startswith("1/40  #1  score 9.5")
        assert str(app.query_one("#queue-pane").border_subtitle) == "40 conversations"


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
        assert queue.cursor == 39
        await pilot.press("j")
        assert queue.cursor == 39  # stays on the last row
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
        assert queue.cursor == 39
        await pilot.press("home")
        assert queue.cursor == 0
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        assert plain_text(app.query_one("#status", Static)).startswith("2/40  #2")


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

        await pilot.press("g", *["j"] * 7, "enter")  # the bounce: defects
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
        assert app.queue.ids == expected and 0 < len(expected) < 40
        assert app.focused is app.queue
        rows = [app.queue.row(i) for i in expected]
        assert all("refund" in (r.subject + " ".join(r.tags)).casefold() for r in rows)
        assert str(app.query_one("#queue-pane").border_subtitle) == f"refund · {len(expected)} conversations"
        assert plain_text(app.query_one("#status", Static)).startswith(f"1/{len(expected)}  #")

        await pilot.press("escape")
        await settle(pilot)
        assert len(app.queue.ids) == 40
        assert not search.display and search.value == ""
        assert app.focused is app.queue


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
        assert len(app.queue.ids) == 40


async def burst(app: DeskApp, keys: str) -> None:
    """Send keys all at once, as a fast typist or a paste over SSH delivers them."""
    names = {"/": "slash", "\r": "enter", "\t": "tab"}
    for char in keys:
        event = events.Key(names.get(char, char), None if char in "\r\t" else char)
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
        assert len(app.queue.ids) < 40


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
        assert app.queue.cursor == 39


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
        assert plain_text(pane.query_one("#conv-meta", Static)).startswith("[red]Mallory[/red]")
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
        assert len(queue.ids) == 100_000
        fetched = sum(len(c) for c in desk.row_calls)
        assert fetched <= 200  # only what is on screen, a page at a time
        await pilot.press("G")
        await settle(pilot)
        assert queue.cursor == 99_999
        last = desk._row(100_000)
        lines = visible_lines(queue)
        text = "\n".join(lines)
        assert last.customer in text
        assert last.subject[:20] in text
        assert not any(line.strip() == "…" for line in lines)  # every visible row arrived
        assert plain_text(app.query_one("#status", Static)).startswith("100000/100000  #100000")
        assert sum(len(c) for c in desk.row_calls) <= 400
        for _ in range(30):
            await pilot.press("pageup")
        await settle(pilot)
        assert queue.cursor < 99_999 - 300
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
        assert "The queue is empty" in visible_lines(app.queue)[0]
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
