"""Snapshots of the TUI at 120×40, 80×24 and 60x20 (pytest-textual-snapshot).

The clock is fixed (FIXED_NOW) and the theme named, so the pictures do not depend on the day
or on a remembered choice. Update after a deliberate change with ``--snapshot-update`` and look
at the SVGs in tests/__snapshots__/ before committing them.
"""

from __future__ import annotations

import asyncio

import pytest

from tui_desk.ui.app import DeskApp

from tui_desk.desk.snippets import bundled_dir

try:
    from tests.ui_fake_desk import FIXED_NOW, FIXED_SNIPPETS, FakeDesk, settle
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_desk import FIXED_NOW, FIXED_SNIPPETS, FakeDesk, settle
from tests import reports_history

WIDE = (120, 40)
SMALL = (80, 24)
TINY = (60, 20)  # the smallest the app is made for: no heatmap on Reports


def make_app(theme: str = "tui-desk-dark", n: int = 40) -> DeskApp:
    # the shipped themes (not a user's own), fixed snippets, a fixed clock
    return DeskApp(
        FakeDesk(n, snippet_list=FIXED_SNIPPETS),
        clock=lambda: FIXED_NOW,
        theme=theme,
        theme_dirs=[bundled_dir("themes")],
    )


def keys(*press: str):
    """run_before: settle, press keys (settling after each), settle; no blinking cursors."""

    async def run_before(pilot) -> None:
        for widget in pilot.app.query("Input"):
            widget.cursor_blink = False
        await settle(pilot)
        for key in press:
            await pilot.press(key)
            await settle(pilot)
            for widget in pilot.app.screen.query("Input"):  # a prompt's box, once it is up
                widget.cursor_blink = False
        await settle(pilot)

    return run_before


def test_wide_conversation_open(snap_compare):
    assert snap_compare(make_app(), terminal_size=WIDE, run_before=keys("enter"))


def test_wide_search_results(snap_compare):
    assert snap_compare(make_app(), terminal_size=WIDE, run_before=keys("slash", *"refund", "enter", "enter"))


def test_wide_markup_shows_literally(snap_compare):
    assert snap_compare(make_app(), terminal_size=WIDE, run_before=keys("j", "j", "j", "enter"))


def test_wide_100k_at_the_bottom(snap_compare):
    assert snap_compare(make_app(n=100_000), terminal_size=WIDE, run_before=keys("G", "enter"))


def test_small_conversation_open(snap_compare):
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=keys("j", "enter"))


def test_small_quotes_expanded(snap_compare):
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=keys("enter", "tab", "x", "G"))


def test_small_snippets_over_conversation(snap_compare):
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=keys("enter", "S", *"outage"))


def test_small_help(snap_compare):
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=keys("question_mark"))


def test_small_light_theme(snap_compare):
    assert snap_compare(make_app("tui-desk-light"), terminal_size=SMALL, run_before=keys("enter"))


def test_small_high_contrast_theme(snap_compare):
    assert snap_compare(make_app("tui-desk-high-contrast"), terminal_size=SMALL, run_before=keys("enter"))


def test_small_tag_prompt_completing(snap_compare):
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=keys("enter", "t", *"+bi"))


def test_small_snooze_prompt(snap_compare):
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=keys("j", "z"))


def test_small_selected_rows_and_bulk_confirm(snap_compare):
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=keys("space", "j", "space", "c"))


def test_wide_reasons_popup_in_a_saved_view(snap_compare):
    assert snap_compare(make_app(), terminal_size=WIDE, run_before=keys("4", "p"))


# --- the Reports screen on a real desk with a crafted history (tests/reports_history.py) -----


@pytest.fixture(scope="module")
def reports_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("reports") / "reports.db"
    asyncio.run(reports_history.build_store(path))
    return path


def reports_app(path, theme: str = "tui-desk-dark") -> DeskApp:
    """The app opening the crafted store inside its own loop, the desk's clock and the app's at NOW."""
    from tui_desk.desk.service import Desk

    async def open_desk():
        return await Desk.open(path, reports_history.CONFIG, clock=lambda: reports_history.NOW.timestamp())
    return DeskApp(open_desk=open_desk, clock=lambda: reports_history.NOW, theme=theme,
                   theme_dirs=[bundled_dir("themes")])


def test_wide_reports(snap_compare, reports_store):
    assert snap_compare(reports_app(reports_store), terminal_size=WIDE, run_before=keys("D"))


def test_small_reports(snap_compare, reports_store):
    assert snap_compare(reports_app(reports_store), terminal_size=SMALL, run_before=keys("D"))


def test_small_reports_light_theme_seven_days(snap_compare, reports_store):
    assert snap_compare(reports_app(reports_store, "tui-desk-light"), terminal_size=SMALL, run_before=keys("D", "1"))


def test_small_reports_high_contrast_business_time(snap_compare, reports_store):
    assert snap_compare(reports_app(reports_store, "tui-desk-high-contrast"), terminal_size=SMALL,
                        run_before=keys("D", "b"))


def test_tiny_reports(snap_compare, reports_store):
    assert snap_compare(reports_app(reports_store), terminal_size=TINY, run_before=keys("D"))


def test_tiny_queue(snap_compare):
    assert snap_compare(make_app(), terminal_size=TINY)
