"""Notices on a full screen (not a dialog) cover nothing the user types or reads: a new user's
tryout at 80x24 saw SLA notices drawn over the reply being typed and over the Reports screen.
On every full screen (ui/notify.NOTICES_ON_FULL_SCREEN) they take rows of their own above the
footer, the screen's content above them, for as long as they are up; a dialog keeps its own rule
(NOTICES_UNDER_DIALOG, tests/test_ui_80x24.py). The same in a real terminal:
tests/e2e/test_shift_80x24_polish.py."""

from __future__ import annotations

from textual.widgets import Footer, TextArea
from textual.widgets._toast import Toast

from ui_fake_desk import settle
from ui_support import make_app, started, until

SMALL = (80, 24)
NOTICE = ("SLA: first response for 'Cancel my subscription, and refund the last three months please' "
          "breached 2h 5m ago")


async def notices_up(pilot, count: int = 3) -> list:
    app = pilot.app
    for n in range(count):
        app.notify(f"{NOTICE} ({n})", title="SLA", severity="error", timeout=60)
    await until(pilot, lambda: len(app.screen.query(Toast)) == count)
    await pilot.pause(0.2)
    return list(app.screen.query(Toast))


def drawn(widget):
    """The part of the screen ``widget`` is drawn on (a toast scrolled out of its rack: none)."""
    geometry = widget.screen._compositor.find_widget(widget)
    return geometry.region.intersection(geometry.clip)


def assert_clear_of(toasts: list, widget, footer) -> None:
    assert any(drawn(toast).height for toast in toasts)  # the notices show
    for toast in toasts:
        for other in (widget, footer):
            assert not drawn(toast).intersection(drawn(other)).area, (drawn(toast), drawn(other))


async def test_notices_leave_the_reply_being_typed_readable(demo):
    from tui_desk.ui.compose import ComposeScreen

    make, _ = demo
    app = make()
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await started(app, pilot)
        await pilot.press("enter")
        await until(pilot, lambda: app.conversation_pane.conversation is not None)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen) and app.screen.focused is not None)
        screen = app.screen
        await pilot.press(*"Hello")
        toasts = await notices_up(pilot)
        body = screen.query_one("#compose-body", TextArea)
        assert_clear_of(toasts, body, screen.query_one(Footer))
        assert body.region.height >= 5 and body.text == "Hello"  # still a box to type in
        assert any(NOTICE in str(t.render()) for t in toasts)  # and the notices read


async def test_notices_leave_the_reports_readable(demo):
    from tui_desk.ui.reports import ReportsScreen

    make, _ = demo
    app = make()
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await started(app, pilot)
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, ReportsScreen) and not app.screen.reading, timeout=30)
        screen = app.screen
        toasts = await notices_up(pilot)
        assert_clear_of(toasts, screen.query_one("#reports-body"), screen.query_one(Footer))
        assert_clear_of(toasts, screen.query_one("#reports-title"), screen.query_one(Footer))


async def test_notices_leave_the_main_view_readable():
    """The main view is a full screen too: the panes and the status line keep clear of them."""
    app = make_app()
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        toasts = await notices_up(pilot)
        footer = screen.query_one(Footer)
        for part in ("#panes", "#status"):
            assert_clear_of(toasts, screen.query_one(part), footer)
        for toast in toasts:  # gone: the panes have the rows again
            toast._expire()
        await until(pilot, lambda: not screen.query(Toast))
        await settle(pilot)
        assert screen.query_one("#panes").region.bottom == screen.query_one("#status").region.y
        assert screen.query_one("#status").region.bottom == footer.region.y
