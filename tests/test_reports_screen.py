"""The Reports screen (issue 15) on a real Desk over a store with a crafted history
(tests/reports_history.py: the figures are known), driven with Pilot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from textual.color import Color
from textual.command import CommandPalette
from textual.widgets import Sparkline, Static

from tests.reports_history import CONFIG, NOW, Clock, conversation_ids, crafted_desk
from tests.ui_fake_desk import settle
from tui_desk.config import Config
from tui_desk.desk.service import Desk
from tui_desk.desk.snippets import bundled_dir
from tui_desk.store.search import SearchError, parse_query
from tui_desk.ui import reports as reports_module
from tui_desk.ui.app import DeskApp
from tui_desk.ui.help import HelpScreen
from tui_desk.ui.sparkline import GapSparkline
from tui_desk.ui.main_screen import MainScreen
from tui_desk.ui.reports import LoadHeatmap, QuestionList, ReportsScreen, contrast, heat_colours, heat_level

WIDE = (120, 40)
SMALL = (80, 24)
TINY = (60, 20)
THEMES = ("tui-desk-dark", "tui-desk-light", "tui-desk-high-contrast")


@pytest.fixture
async def desk(tmp_path):
    desk = await crafted_desk(tmp_path / "reports.db")
    yield desk
    await desk.close()


def make_app(desk, theme: str = "tui-desk-dark") -> DeskApp:
    return DeskApp(desk, clock=lambda: NOW, theme=theme, theme_dirs=[bundled_dir("themes")])


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def open_reports(pilot) -> ReportsScreen:
    await settle(pilot)
    await pilot.press("D")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReportsScreen)
    return screen


# --- the screen ---------------------------------------------------------------------------


async def test_d_opens_the_reports_with_the_known_figures_and_esc_goes_back(desk):
    app = make_app(desk)
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_reports(pilot)
        title = text_of(screen, "#reports-title")
        assert "last 30 days" in title and "Oct 21 – Nov 20" in title and "calendar time" in title
        headline = text_of(screen, "#reports-headline").splitlines()
        assert headline[1].split() == ["First", "response", "1h", "4h"]  # median 60 min, p90 240 min
        assert headline[2].split() == ["Resolution", "(net)", "2h", "1d", "1h"]  # 120 min, 25 h
        assert "FCR 75%" in headline[3] and "Replies to resolve 1" in headline[3] and "Reopened 1" in headline[3]
        assert headline[4] == "Conversations 9  Unanswered 2"
        assert headline[5] == "Mail only 5 (no history: closes unknown)"  # no event: only mail tells
        # per week (ISO weeks 43-47 of 2026): new conversations and the FRT median
        assert screen.query_one("#trend-volume", Sparkline).data == [0.0, 0.0, 4.0, 2.0, 3.0]
        frt = screen.query_one("#trend-frt", GapSparkline)
        assert frt.data == [None, None, 2700.0, 7200.0, 9000.0]
        # the weeks nobody was answered are gaps, not the lowest bar (the best week: 45m)
        drawn = frt.render().plain
        assert drawn[: len(drawn) * 2 // 5].strip() == "" and drawn[-1] == "█" and "▁" in drawn, drawn
        assert "45m … 2h 30m" in text_of(screen, "#trend-frt-label")
        staffing = text_of(screen, "#reports-staffing")
        assert staffing.startswith("Busiest Wed 10:00 0.8/h, Mon 10:00 0.5/h") and "team answers 1.0/h" in staffing
        assert [g.size for g in screen.groups] == [4, 3]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)


async def answered_surveys(desk) -> None:
    """Four survey answers (`csat` events) in the period, one before it: Alice's three, Bob's one."""
    import hashlib

    from tui_desk.store import events as store_events
    from tui_desk.store.events import Event, event_id
    ids = await conversation_ids(desk)
    anchors = await store_events.anchors(desk.store, list(ids.values()))
    day = 86400
    given = [("refund-a", 17, "great", "Alice Martin"), ("refund-b", 16, "great", "Alice Martin"),
             ("invoice", 14, "okay", "Alice Martin"), ("refund-c", 9, "bad", "Bob [b]Okafor[/b]"),
             ("refund-c", 45, "great", "Bob [b]Okafor[/b]")]  # 45 days ago: not in the period
    events = []
    for n, (name, days_ago, rating, agent) in enumerate(given):
        at = int(NOW.timestamp()) - days_ago * day
        events.append(Event(event_id(at * 1000, hashlib.sha256(f"answer{n}".encode()).hexdigest()[:20]), at, "alice",
                            "csat", anchors[ids[name]],
                            {"rating": rating, "score": {"great": 3, "okay": 2, "bad": 1}[rating], "comment": "",
                             "agent": agent, "snippets": [], "survey": f"csat.{n}@helpdesk.test"}))
    async with desk.store.transaction():
        await store_events.record(desk.store, events)


async def test_csat_shows_in_the_headline_and_by_agent_only_with_answers(desk):
    app = make_app(desk)
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_reports(pilot)  # no answers: no CSAT line anywhere, the layout as before
        assert "CSAT" not in screen_text(app)
        assert not screen.query_one("#reports-csat", Static).display
        await pilot.press("escape")
        await settle(pilot)
        await answered_surveys(desk)
        screen = await open_reports(pilot)
        headline = text_of(screen, "#reports-headline").splitlines()
        assert headline[6] == "CSAT 4 · 50% great · mean 2.2", headline  # (3 + 3 + 2 + 1) / 4 = 2.25
        by_agent = text_of(screen, "#reports-csat")
        # most answers first; an agent's name from history is shown literally
        assert by_agent == "CSAT by agent Alice Martin 2.7 (3, 67% great) · Bob [b]Okafor[/b] 1 (1, 0% great)", by_agent
        assert screen.query_one("#reports-csat", Static).display
        assert screen.query_one("#reports-top").region.height == 7  # mail-only and CSAT lines both fit
        await pilot.press("1")  # 7 days: no answer in them
        await settle(pilot)
        assert "CSAT" not in text_of(screen, "#reports-headline")
        assert not screen.query_one("#reports-csat", Static).display


async def test_csat_keeps_80x24_readable(desk):
    await answered_surveys(desk)
    app = make_app(desk)
    async with app.run_test(size=SMALL) as pilot:
        await open_reports(pilot)
        lines = screen_text(app).splitlines()
        assert any(line.startswith(" CSAT 4 · 50% great · mean 2.2") for line in lines), lines
        assert any(line.startswith(" CSAT by agent Alice Martin 2.7") for line in lines), lines
        title = next(i for i, line in enumerate(lines) if "Frequent questions:" in line)
        assert "refund" in lines[title + 1].lower()  # the questions still have rows below their title


async def test_60x20_gives_the_questions_rows_and_a_clean_footer(desk):
    """At 60x20 the heatmap gives way (the busiest hours stay on the staffing line): the
    questions have rows, ↓ and PgDn move in them, and the footer ends with the palette key."""
    await answered_surveys(desk)  # the CSAT lines too: the tallest headline
    app = make_app(desk)
    async with app.run_test(size=TINY) as pilot:
        screen = await open_reports(pilot)
        assert not screen.query_one(LoadHeatmap).display
        lines = screen_text(app).splitlines()
        assert len(lines) == 20 and lines[-1].endswith("▏^p palette"), lines[-1]
        assert any(line.startswith(" Busiest ") for line in lines)
        title = next(i for i, line in enumerate(lines) if "Frequent questions:" in line)
        assert "refund" in lines[title + 1].lower() and "password" in lines[title + 2].lower(), lines
        questions = screen.query_one(QuestionList)
        await pilot.press("down")
        await settle(pilot)
        assert questions.highlighted == 1
        await pilot.press("pagedown")
        await settle(pilot)
        assert questions.highlighted == questions.option_count - 1
        assert questions.region.bottom <= 19 and questions.region.height >= 2  # above the footer
        await pilot.resize_terminal(*SMALL)  # 80x24 has room for the heatmap again
        await settle(pilot)
        assert screen.query_one(LoadHeatmap).display


async def test_a_narrow_footer_has_no_leftovers_right_of_the_palette_key(desk):
    """The palette key is docked right: nothing of the keys that run on under it shows after it."""
    app = make_app(desk)
    async with app.run_test(size=TINY) as pilot:
        await settle(pilot)
        assert screen_text(app).splitlines()[-1].endswith("▏^p palette")
        await open_reports(pilot)
        assert screen_text(app).splitlines()[-1].endswith("▏^p palette")


async def test_the_heatmap_shows_each_hours_share_of_the_busiest(desk):
    app = make_app(desk)
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_reports(pilot)
        lines = str(screen.query_one(LoadHeatmap).render()).splitlines()
        assert lines[0].split()[:3] == ["0", "3", "6"]
        rows = {line[:3]: line for line in lines[1:]}
        cell = 3  # columns per hour at 120 columns
        at_ten = {day: rows[day][4 + 10 * cell:4 + 11 * cell].strip() for day in rows}
        # messages at 10:00 / that hour's occurrences in the 30 days; Wednesday's 3/4 is the busiest
        assert at_ten == {"Mon": "6", "Tue": "6", "Wed": "9", "Thu": "5", "Fri": "·", "Sat": "·", "Sun": "·"}
        assert all(rows[day][4:4 + 10 * cell].split() == ["·"] * 10 for day in rows)
        assert "9 = 0.8 messages/h" in "\n".join(lines)


@pytest.mark.parametrize("theme", THEMES)
async def test_every_heatmap_cell_is_readable_in_the_theme(desk, theme):
    app = make_app(desk, theme)
    async with app.run_test(size=SMALL) as pilot:
        await open_reports(pilot)
        colours = heat_colours(app.theme_variables)
        background = Color.parse(app.theme_variables["background"])
        assert len(colours) == 9
        for ink, cell in colours:
            assert contrast(ink, cell) >= 4.5, (theme, ink.hex, cell.hex)
        # each level a colour of its own, further from the background than the one before
        distances = [contrast(cell, background) for _, cell in colours]
        assert distances == sorted(distances) and len({c.hex for _, c in colours}) == 9
        # and what is drawn is those colours
        content = app.screen.query_one(LoadHeatmap).render()
        styles = {str(span.style) for span in content.spans}
        assert any(colours[8][1].hex.lower() in s.lower() for s in styles), styles


def test_contrast_and_levels():
    assert round(contrast(Color(0, 0, 0), Color(255, 255, 255)), 1) == 21.0
    assert contrast(Color(10, 20, 30), Color(10, 20, 30)) == 1.0
    assert [heat_level(x, 4.0) for x in (0, 0.01, 2.0, 4.0, 5.0)] == [0, 1, 5, 9, 9]
    assert heat_level(1.0, 0.0) == 0


async def test_period_keys_switch_and_the_title_says_which(desk):
    app = make_app(desk)
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_reports(pilot)
        await pilot.press("1")
        await settle(pilot)
        assert "last 7 days" in text_of(screen, "#reports-title")
        # Nov 13 12:00 .. Nov 20 12:00: refund-d (Nov 17), password-c (Nov 18), norway (Nov 19)
        assert "Conversations 3" in text_of(screen, "#reports-headline")
        assert len(screen.query_one("#trend-volume", Sparkline).data) == 8  # per day: Nov 13 … Nov 20
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert "last 30 days" in text_of(screen, "#reports-title")
        await pilot.press("right_square_bracket", "right_square_bracket", "right_square_bracket")
        await settle(pilot)
        assert "last 365 days · Nov 20 2025 – Nov 20" in text_of(screen, "#reports-title")
        assert "Conversations 9" in text_of(screen, "#reports-headline")
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert "last 90 days" in text_of(screen, "#reports-title")


async def test_b_switches_to_business_time(desk):
    app = make_app(desk)
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_reports(pilot)
        await pilot.press("b")
        await settle(pilot)
        assert "business time" in text_of(screen, "#reports-title")
        headline = text_of(screen, "#reports-headline").splitlines()
        # refund-c: closed at 10:00 the next day, 25 h after; 09:00-17:00 counts 7 h + 1 h + ... = 9 h
        assert "business time" in headline[0] and headline[2].split() == ["Resolution", "(net)", "2h", "9h"]
        await pilot.press("b")
        await settle(pilot)
        assert "calendar time" in text_of(screen, "#reports-title")


async def test_b_without_business_hours_says_so(tmp_path):
    desk = await Desk.open(tmp_path / "plain.db", Config(agent="alice"), clock=Clock(NOW))
    try:
        app = make_app(desk)
        async with app.run_test(size=SMALL, notifications=True) as pilot:
            screen = await open_reports(pilot)
            await pilot.press("b")
            await settle(pilot)
            assert "calendar time" in text_of(screen, "#reports-title")
            assert any("No business hours are configured" in str(n.message) for n in app._notifications)
            assert "no customer mail" in text_of(screen, "#reports-staffing")
            assert "none asked three times" in text_of(screen, "#reports-questions-title")
    finally:
        await desk.close()


async def test_enter_on_a_question_opens_its_conversations_as_a_search(desk):
    ids = await conversation_ids(desk)
    app = make_app(desk)
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_reports(pilot)
        assert app.focused is screen.query_one(QuestionList)
        await pilot.press("down", "enter")  # the second group: the password question
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        wanted = sorted(ids[n] for n in ("password-a", "password-b", "password-c"))
        assert app.main.query_text == "id:" + ",".join(str(i) for i in wanted)
        assert app.search_input.value == app.main.query_text
        assert sorted(app.queue.ids) == wanted
        await pilot.press("escape")  # the search clears: the queue again
        await settle(pilot)
        assert app.main.query_text == ""


async def test_mail_text_is_shown_literally(desk):
    app = make_app(desk)
    async with app.run_test(size=WIDE) as pilot:
        await open_reports(pilot)
        assert "Cannot reset my password [b]now[/b]" in screen_text(app)


async def test_a_store_change_reloads_the_figures(desk, tmp_path, monkeypatch):
    monkeypatch.setattr(reports_module, "REFRESH_DELAY", 0.01)
    ids = await conversation_ids(desk)
    app = make_app(desk)
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_reports(pilot)
        assert "FCR 75%" in text_of(screen, "#reports-headline")
        # a teammate's store write (another process) would come as StoreChanged, like the sync's
        other = await Desk.open(tmp_path / "reports.db", CONFIG, clock=Clock(NOW))
        try:
            await other.set_status([ids["refund-a"]], "open")
        finally:
            await other.close()
        from tui_desk.ui.bridge import StoreChanged
        app.main.post_message(StoreChanged())
        await settle(pilot)
        await pilot.pause(0.05)
        await settle(pilot)
        # refund-a is open again: 3 closed in the period, 2 of them at first contact
        assert "FCR 67%" in text_of(screen, "#reports-headline")


async def test_an_error_from_the_desk_is_said_on_the_screen(desk, monkeypatch):
    async def broken(*a, **kw):
        raise RuntimeError("disk on fire [b]")
    app = make_app(desk)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await settle(pilot)
        monkeypatch.setattr(desk, "report", broken)
        screen = await open_reports(pilot)
        assert "Could not read the reports: disk on fire [b]" in text_of(screen, "#reports-headline")
        assert app.is_running


async def test_help_lists_the_screens_keys_and_the_palette_its_commands(desk):
    app = make_app(desk)
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_reports(pilot)
        titles = {c.title for c in app.get_system_commands(screen)}
        assert {"Reports: Shorter", "Reports: Longer", "Reports: Business time", "Reports: Back", "Keys",
                "Quit"} <= titles
        assert "Triage: Close" not in titles  # the main view's keys do not act from here
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text", Static).render())
        for needle in ("[", "]", "Shorter period", "1 … 4", "7 days, 30 days, 90 days, 365 days", "business time",
                       "Enter", "as a search"):
            assert needle in text, needle
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"longer", "enter")
        await settle(pilot)
        assert app.screen is screen and "last 90 days" in text_of(screen, "#reports-title")


async def test_help_says_what_each_figure_means_wrapped_at_80x24(desk):
    """The tryout: `?` on Reports listed keys only; FCR, Resolution (net), Unanswered, Mail
    only, Reopened were explained nowhere in the app. After the keys: each figure's definition
    (desk.metrics.definitions, README's words), a long one wrapped under itself."""
    from tui_desk.desk.metrics.definitions import FIGURES
    app = make_app(desk)
    async with app.run_test(size=SMALL) as pilot:
        await open_reports(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        lines = str(app.screen.query_one("#help-text", Static).render()).splitlines()
        title = lines.index("What the figures mean")
        assert title > next(i for i, line in enumerate(lines) if "Shorter period" in line)  # keys first
        text = " ".join(" ".join(line.split()) for line in lines[title + 1:])
        for name, meaning in FIGURES:
            assert f"{name} {' '.join(meaning.split())}" in text, name
        box = app.screen.query_one("#help")
        assert box.size.width <= 80 and all(len(line) <= box.content_size.width for line in lines)
        unanswered = next(i for i, line in enumerate(lines) if line.strip().startswith("Unanswered "))
        indent = lines[unanswered].index("of those")
        assert lines[unanswered + 1].startswith(" " * indent) and lines[unanswered + 1].strip()  # hangs under itself
        await pilot.press("escape")
        await settle(pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert not any("Unanswered" in t for t in titles)  # definitions are no palette commands


async def test_the_headline_says_closes_without_a_reply_apart_from_unanswered(desk):
    """Unanswered is open and never answered; a close with no reply is its own figure."""
    import datetime as dt
    ids = await conversation_ids(desk)
    desk.clock.at(NOW - dt.timedelta(hours=1))  # in the period, which ends now
    await desk.set_status([ids["norway"]], "closed")  # nobody answered it
    desk.clock.at(NOW)
    app = make_app(desk)
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_reports(pilot)
        headline = text_of(screen, "#reports-headline").splitlines()
        assert "Conversations 9  Unanswered 1" in headline
        assert "Closed, no reply 1" in headline


async def test_the_palette_opens_the_reports(desk):
    app = make_app(desk)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert "Reports" in {c.title for c in app.get_system_commands(app.screen)}
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"reports", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ReportsScreen)


def test_the_reports_screen_is_not_imported_at_start():
    code = ("import sys, tui_desk.ui.app, tui_desk.cli; "
            "print(sorted(m for m in sys.modules if m in ('tui_desk.ui.reports', 'textual.widgets._sparkline',"
            " 'tui_desk.desk.metrics')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1]).stdout
    assert out.strip() == "[]"


# --- id: in the search language ------------------------------------------------------------


def test_id_search_terms_parse_and_bad_ones_are_said():
    assert parse_query("id:12,40,#41").ids == [[12, 40, 41]]
    assert parse_query("id:3 tag:bug").ids == [[3]]
    for bad in ("id:x", "id:1,,y", "id:-3"):
        with pytest.raises(SearchError, match="id: wants conversation numbers"):
            parse_query(bad)


async def test_id_search_finds_those_conversations_with_the_other_terms(desk):
    ids = await conversation_ids(desk)
    refunds = [ids[n] for n in ("refund-a", "refund-b", "refund-c", "refund-d")]
    listed = "id:" + ",".join(map(str, refunds))
    assert sorted(await desk.queue_ids(listed)) == sorted(refunds)
    assert sorted(await desk.queue_ids(listed + " status:closed")) == sorted(refunds[:3])
    assert await desk.queue_ids(f"id:{ids['norway']} refund") == []
    assert await desk.queue_ids("id:999999") == []
