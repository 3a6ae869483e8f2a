"""Times on show follow the clock while they stay on screen (the clock is injected: the tests
move it, nothing sleeps)."""

from __future__ import annotations

import datetime as dt

import pytest
from textual.widgets import Static

from tui_desk.desk.sla import Sla, SlaTarget
from tui_desk.desk.views import ActionLine
from tui_desk.ui.app import DeskApp
from tui_desk.ui.conversation import MessageBox

try:
    from tests.ui_fake_desk import FIXED_NOW, FakeDesk, settle
    from tests.ui_support import THEME_DIRS, plain_text
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_desk import FIXED_NOW, FakeDesk, settle
    from ui_support import THEME_DIRS, plain_text

WIDE = (120, 40)


@pytest.fixture(autouse=True)
def _private_state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


class MovingClock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def due_in(minutes: float) -> Sla:
    due = FIXED_NOW.timestamp() + minutes * 60
    return Sla("", (SlaTarget("first_response", 120, "warning", due, minutes * 60),
                    SlaTarget("next_response", None, "none"), SlaTarget("resolution", None, "none")))


async def test_the_open_conversation_s_times_follow_the_clock_without_asking_the_store():
    clock = MovingClock(FIXED_NOW)
    desk = FakeDesk(40, slas={1: due_in(20)})
    desk.action_lines[1] = (ActionLine(FIXED_NOW - dt.timedelta(days=3, hours=1), "rule 'refunds' tagged +billing"),)
    app = DeskApp(desk, clock=clock, theme="tui-desk-dark", theme_dirs=THEME_DIRS)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        pane = app.conversation_pane
        first = pane.query(MessageBox).first()
        meta = pane.query_one("#conv-meta", Static)
        action = pane.query_one(".thread--action", Static)
        assert plain_text(first.query_one(".message--date", Static)) == "Nov 17 10:00 · 3d"
        assert "first response due 20m" in plain_text(meta)
        assert plain_text(action).startswith("· Nov 17 11:00  ")
        asked: list[int] = []
        loaded = desk.conversation

        async def conversation(conv_id: int):
            asked.append(conv_id)
            return await loaded(conv_id)
        desk.conversation = conversation

        clock.now = FIXED_NOW + dt.timedelta(minutes=30)
        app.main.follow_clock()  # what the screen's AGE_REFRESH interval runs
        await pilot.pause()
        assert plain_text(first.query_one(".message--date", Static)) == "Nov 17 10:00 · 3d"
        assert "first response breached 10m" in plain_text(meta)

        clock.now = FIXED_NOW + dt.timedelta(days=45)  # into the next year: dates get their year
        app.main.follow_clock()
        await pilot.pause()
        assert plain_text(first.query_one(".message--date", Static)) == "2026-11-17 · 6w"
        assert plain_text(action).startswith("· 2026-11-17  ")
        assert pane.query(MessageBox).first() is first  # the same widgets, only their texts renewed
        assert asked == []  # from the conversation on show: the store is not asked
