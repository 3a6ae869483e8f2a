"""A new user's tryout at 80x24 over SSH, driven with Pilot: `?` help and the Reports screen
read whole (a line that cannot fit wraps under itself), notices never hide a dialog's text or
keys, the palette opens on the useful commands, and a view whose rows share one status does not
repeat it on every row. The same in a real terminal: tests/e2e/test_shift_80x24.py."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from textual.command import CommandList, CommandPalette

from tui_desk.desk.markers import shared_status, state_markers
from tui_desk.ui.help import HelpScreen
from tui_desk.ui.popups import ConfirmScreen
from tui_desk.ui.quitting import QuitScreen
from ui_fake_desk import settle
from ui_support import make_app, screen_lines, started, until

SMALL = (80, 24)
WIDE = (120, 40)
NOTICE = ("SLA: first response for 'Cancel my subscription, and refund the last three months please' "
          "breached 2h 5m ago")


def words(text: str) -> str:
    return " ".join(text.split())


def box_lines(app, widget) -> list[str]:
    """The lines of `widget`'s region as the terminal shows them (borders and scrollbar cut off)."""
    box = widget.scrollable_content_region
    return [strip.crop(box.x, box.right).text.rstrip() for strip in screen_lines(app)[box.y:box.bottom]]


async def scrolled_through(pilot, widget, key: str = "j") -> list[str]:
    """Every line a person reads scrolling `widget` from top to bottom with `key`, in order,
    each once (a scroll shows the lines below the ones already read)."""
    seen: list[str] = []
    for _ in range(200):
        lines = box_lines(pilot.app, widget)
        if not seen:
            seen = lines
        else:  # the new screen overlaps the old one: add what follows the overlap
            for start in range(len(lines)):
                tail = lines[: len(lines) - start]
                if seen[len(seen) - len(tail):] == tail:
                    seen += lines[len(tail):]
                    break
        if widget.scroll_y >= widget.max_scroll_y:
            return seen
        await pilot.press(key)
        await pilot.pause()
    raise AssertionError("never reached the end")


# --- 1. `?` help ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [SMALL, WIDE])
async def test_help_shows_every_description_whole_wrapped_under_itself(size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        box = app.screen.query_one("#help")
        read = await scrolled_through(pilot, box)
        text = words("\n".join(read))
        for title, rows in app.screen.sections:
            assert words(title) in text
            for keys, description in rows:
                assert words(f"{keys} {description}") in text, (keys, description)
        # a description that wraps goes on under itself, not under its key
        follow = next(n for n, line in enumerate(read) if line.lstrip().startswith("F ")) + 1
        key_column = re.match(r"\s+F\s+", read[follow - 1]).end()  # where the descriptions start
        if size == SMALL:  # the bulk follow-up's line is longer than 80 columns can hold
            assert read[follow][:key_column].strip() == "" and read[follow][key_column] != " ", read[follow - 1:follow + 2]


# --- 2. the Reports screen -----------------------------------------------------------------------


@pytest.mark.parametrize("size", [SMALL, WIDE])
async def test_every_line_of_the_reports_screen_reads_whole(demo, size):
    from tui_desk.ui.reports import QuestionList, ReportsScreen, csat_breakdown, question_prompt, staffing_text

    make, _ = demo
    app = make()
    async with app.run_test(size=size) as pilot:
        await started(app, pilot)
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, ReportsScreen) and app.screen.groups
                    and not app.screen.reading, timeout=30)
        await pilot.pause(0.3)  # the demo's background never finishes: no settle
        screen = app.screen
        by_agent = csat_breakdown(screen.report.csat)
        assert by_agent is not None
        for selector, full in (("#reports-staffing", staffing_text(screen.staffing)), ("#reports-csat", by_agent.plain),
                               *((label, "  ".join(part.plain for part in screen.query_one(label).parts))
                                 for label in ("#trend-frt-label", "#trend-volume-label"))):
            widget = screen.query_one(selector)
            widget.scroll_visible(animate=False)  # the screen scrolls when its lines need more rows
            await pilot.pause()
            assert words("\n".join(box_lines(app, widget))) == words(full), selector
        assert "…" not in "\n".join(box_lines(app, screen.query_one("#reports-headline")))
        questions = screen.query_one(QuestionList)
        body = screen.query_one("#reports-body")
        # the screen opens at its top; once the cursor moves, the question under it is there
        # whole, the first one too (back up to it)
        await pilot.press("down", "up")
        await pilot.pause()
        for n, group in enumerate(screen.groups):
            if n:
                await pilot.press("down")
                await pilot.pause()
            seen = body.scrollable_content_region.intersection(questions.scrollable_content_region)
            lines = [strip.crop(seen.x, seen.right).text for strip in screen_lines(app)[seen.y:seen.bottom]]
            assert words(question_prompt(group).plain) in words("\n".join(lines)), (group.label, lines)


def screen_lines_text(app) -> list[str]:
    return [strip.text.rstrip() for strip in screen_lines(app)]


# --- 3. notices never cover a dialog --------------------------------------------------------------


async def test_notices_leave_a_confirm_question_and_its_keys_readable():
    app = make_app()
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await settle(pilot)
        question = "Close 12 conversations? Their customers get no mail, the queue loses them"
        app.push_screen(ConfirmScreen(question, "u undoes"))
        await settle(pilot)
        for n in range(4):
            app.notify(f"{NOTICE} ({n})", title="SLA", severity="error", timeout=60)
        await settle(pilot)
        await pilot.pause(0.2)
        dialog = app.screen.query_one("#prompt")
        text = words("\n".join(box_lines(app, dialog)))
        assert words(question) in text and "y / Enter yes n / Esc no" in text, text
        # the notices are still up, around the dialog
        assert "SLA" in "\n".join(screen_lines_text(app))


async def test_notices_leave_every_prompt_readable():
    """A new-user tryout saw notices cover the assign prompt's hint line: every dialog built on
    the prompts' CSS (tag, assign, snooze, follow-up, outbox, note, attachments...) keeps them under."""
    from tui_desk.ui.triage import ActionPrompt

    async def apply(_: object) -> str:
        return ""

    hint = "Enter assigns · Tab completes · Esc cancels"
    app = make_app()
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await settle(pilot)
        app.push_screen(ActionPrompt("Assign #12 to", apply=apply, placeholder="name", hints=[hint],
                                     choices=[("Bob Okafor", "Bob Okafor"), ("Chen Wei", "Chen Wei")]))
        await settle(pilot)
        for n in range(4):
            app.notify(f"{NOTICE} ({n})", title="SLA", severity="error", timeout=60)
        await settle(pilot)
        await pilot.pause(0.2)
        dialog = app.screen.query_one("#prompt")
        text = words("\n".join(box_lines(app, dialog)))
        for said in (hint, "Bob Okafor", "Chen Wei"):
            assert words(said) in text, text
        assert "SLA" in "\n".join(screen_lines_text(app))


async def test_notices_leave_the_quit_question_readable():
    app = make_app()
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await settle(pilot)

        async def never() -> str:
            return ""

        waiting = "1 reply is waiting to be sent (to ana@customer.test, in 8 s)."
        app.push_screen(QuitScreen(waiting, 1, send_and_quit=never))
        await settle(pilot)
        for n in range(4):
            app.notify(f"{NOTICE} ({n})", title="SLA", severity="warning", timeout=60)
        await settle(pilot)
        await pilot.pause(0.2)
        dialog = app.screen.query_one("#prompt")
        text = words("\n".join(box_lines(app, dialog)))
        for said in (waiting, "Enter send now and quit", "l quit; it stays in the outbox", "Esc cancel"):
            assert said in text, text


# --- 4. the palette opens on the useful commands ---------------------------------------------------


async def palette_titles(pilot) -> list[str]:
    app = pilot.app
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, CommandPalette)
                and app.screen.query_one(CommandList).option_count > 0)
    await settle(pilot)
    options = app.screen.query_one(CommandList)
    return [str(options.get_option_at_index(n).prompt).split("\n")[0] for n in range(options.option_count)]


async def test_the_palette_opens_on_the_most_useful_commands_then_the_recent_ones():
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        titles = await palette_titles(pilot)
        assert titles[0] != "Back" and "Back" not in titles[:8], titles[:8]
        assert titles[:4] == ["Search", "Reply: Reply", "Triage: Tag", "Triage: Snooze"], titles[:8]
        assert len(titles) == len(set(titles))  # each command once
        from tui_desk.ui.palette import USEFUL
        assert set(USEFUL) <= set(titles)  # each a command of the registry's, as it names them
        await pilot.press(*"theme", "enter")  # run one from the palette: it comes first next time
        await settle(pilot)
        assert not isinstance(app.screen, CommandPalette)
        titles = await palette_titles(pilot)
        assert titles[0] == "Theme", titles[:4]
        assert titles[1:4] == ["Search", "Reply: Reply", "Triage: Tag"], titles[:4]


async def test_a_command_run_by_its_key_is_not_listed_first_in_the_palette():
    """Only palette runs are recent (ui/palette.py says why): `t` then Esc leaves the order."""
    from tui_desk.ui.triage import ActionPrompt

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        before = await palette_titles(pilot)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, ActionPrompt))
        await pilot.press("escape")
        await settle(pilot)
        assert await palette_titles(pilot) == before and before[0] == "Search"


# --- 5. a view's own status is not repeated on its rows --------------------------------------------


def test_shared_status_is_the_one_status_a_query_admits():
    assert shared_status("status:pending") == "pending"
    assert shared_status("status:closed from:ana") == "closed"
    assert shared_status("sla:soon") == "open"
    assert shared_status('assignee:"alice" status:open') == "open"
    assert shared_status("status:pending status:closed") is None  # either: a row says which
    assert shared_status("refund") is None  # a search lists pending and closed beside the open
    assert shared_status("") is None
    assert shared_status("status:nonsense") is None  # the parser refuses it: the search says so


def test_the_status_marker_shows_only_where_it_differs_from_the_views():
    class Row:
        assignee = None
        snoozed_until = None
        snoozed_until_reply = False
        has_draft = False
        scheduled_reply_at = None

    now = dt.datetime(2026, 12, 7, 9, tzinfo=dt.timezone.utc)
    assert state_markers(Row(), now, status="pending") == ("pending",)  # a search's row
    assert state_markers(Row(), now, status="pending", view_status="pending") == ()
    assert state_markers(Row(), now, status="open", view_status="pending") == ("open",)  # reopened meanwhile
    assert state_markers(Row(), now, status="open") == ()


async def test_the_pending_view_shows_no_pending_marker_but_a_search_does():
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("4")  # the Pending view
        await until(pilot, lambda: app.main.current_view[0] == "Pending" and bool(app.queue.ids))
        await settle(pilot)
        rows = box_lines(app, app.queue)
        assert len(app.queue.ids) >= 2 and not any("pending" in row for row in rows), rows
        await pilot.press("slash", *"tag:bug", "enter")  # a search within the view: all pending still
        await settle(pilot)
        assert app.queue.ids and not any("pending" in row for row in box_lines(app, app.queue))
        await pilot.press("escape", "1", "slash", *"status:pending", "enter")  # the Queue view, searched
        await until(pilot, lambda: app.main.current_view[0] == "Queue" and app.main.query_text == "status:pending")
        await settle(pilot)
        rows = box_lines(app, app.queue)
        assert sum("pending" in row for row in rows) == len(app.queue.ids) >= 2, rows


# --- 5. the queue's rows at 80 columns ------------------------------------------------------------


def make_app_with(desk):
    from tui_desk.ui.app import DeskApp
    from ui_fake_desk import FIXED_NOW
    from ui_support import THEME_DIRS
    return DeskApp(desk, clock=lambda: FIXED_NOW, theme="tui-desk-dark", theme_dirs=THEME_DIRS)


def queue_rows_shown(app) -> dict[int, list[str]]:
    """Conversation id -> its lines as the queue shows them."""
    queue = app.queue
    per = queue._lines_per_row
    lines = [queue.render_line(y).text for y in range(queue.scrollable_content_region.height)]
    top = int(queue.scroll_y) // per
    return {queue.ids[top + n]: lines[n * per:(n + 1) * per] for n in range(len(lines) // per)
            if top + n < len(queue.ids)}


async def test_a_narrow_queue_row_keeps_a_useful_share_of_its_subject_beside_the_sla():
    from ui_fake_data import first_response

    from tui_desk.ui.queue_columns import MIN_SUBJECT
    from ui_fake_desk import FakeDesk

    desk = FakeDesk(40, slas={n: first_response("breached", -89) for n in range(1, 8)})
    app = make_app_with(desk)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("a", *"bob", "enter")  # the first row is bob's: "@bob" beside the breach
        await settle(pilot)
        shown = queue_rows_shown(app)
        subject_width = app.queue.scrollable_content_region.width - 2
        for cid, lines in shown.items():
            row = app.queue.row(cid)
            if row is None or row.sla is None:
                continue
            text = " ".join(lines)
            assert "⚠1h29m" in text and "breached" not in text, lines  # the SLA's short form
            subject = lines[-1].strip()
            kept = len(subject.split(" ⚠")[0].rstrip("…"))
            # the subject keeps about half its line, and more than the markers' floor
            assert kept >= min(len(row.subject), max(MIN_SUBJECT + 3, subject_width // 2)), lines
        first = app.queue.ids[0]
        assert app.queue.row(first).assignee and "@bob" in " ".join(shown[first]), shown[first]


# --- 6. the conversation's headers at 80 columns ------------------------------------------------


async def test_the_conversation_headers_keep_who_when_and_the_owner_at_80_columns():
    import dataclasses

    from ui_fake_data import first_response

    from tui_desk.desk.views import MessageView, TextBlock
    from tui_desk.ui.conversation import MessageBox
    from ui_fake_desk import FIXED_NOW

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        pane = app.conversation_pane
        conv = pane.conversation
        when = FIXED_NOW - dt.timedelta(hours=19)
        note = MessageView(90, "Alice Martin <alice@example.com>", "", "", when, True,
                           (TextBlock("Checking with billing", False),), (), (), is_note=True)
        reply = MessageView(91, "Helpdesk Support <support@example.com>", "", "", when, True,
                            (TextBlock("We are on it", False),), (), ())
        conv = dataclasses.replace(conv, messages=(*conv.messages, note, reply), assignee="Alice Martin",
                                   sla=first_response("breached", -(19 * 60 + 54)))
        await pane.show(conv)
        await settle(pilot)
        meta = " ".join(box_lines(app, pane.query_one("#conv-meta")))
        assert "@Alice" in meta and "19h54m" in meta.replace(" ", ""), meta  # the owner and the breach read
        headers = {}
        for box in pane.query(MessageBox):
            if box.message.id in (90, 91):
                header = box.query_one(".message--header")
                headers[box.message.id] = " ".join(box_lines(app, header))
        assert "Alice Martin" in headers[90] and "NOTE" in headers[90] and "19h" in headers[90], headers
        assert "Helpdesk Support" in headers[91] and "agent" in headers[91] and "19h" in headers[91], headers


# --- 7. the first start's empty queue ------------------------------------------------------------


async def test_the_first_start_hint_wraps_at_words_and_a_long_path_after_a_slash():
    from pathlib import Path

    from tui_desk.desk.setup_hint import setup_hint_text
    from ui_fake_desk import FakeDesk

    hint = setup_hint_text(Path.home() / ".config" / "tui-desk" / "config.toml")

    class FirstStart(FakeDesk):
        async def queue_ids(self, *args, **kw) -> list[int]:
            return []

        async def setup_hint(self) -> str | None:
            return hint

    app = make_app_with(FirstStart(0))
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await until(pilot, lambda: "No mail yet" in app.queue.render_line(0).text)
        lines = [app.queue.render_line(y).text.strip() for y in range(app.queue.scrollable_content_region.height)]
        lines = [line for line in lines if line]
        words_of_hint = set(hint.split())
        pieces = [word for line in lines for word in line.split()]
        # every word whole on a line, but for a path too long for one: cut after a "/"
        cut = [word for word in pieces if word not in words_of_hint]
        assert all(word.endswith("/") or any(w.endswith(word) for w in words_of_hint) for word in cut), lines
        assert "config.toml" in pieces, lines
        assert words(" ".join(lines)).replace("/ ", "/") == words(hint), lines
