"""Times on show follow the clock while they stay on screen (the clock is injected: the tests
move it, nothing sleeps)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from textual.widgets import Static

from tui_desk.desk.sla import Sla, SlaTarget
from tui_desk.desk.views import ActionLine
from tui_desk.desk.when import parse_when
from tui_desk.ui.app import DeskApp
from tui_desk.ui.conversation import MessageBox
from tui_desk.ui.triage import ActionPrompt

try:
    from tests.ui_fake_desk import FIXED_NOW, FakeDesk, settle
    from tests.ui_support import THEME_DIRS, plain_text
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_desk import FIXED_NOW, FakeDesk, settle
    from ui_support import THEME_DIRS, plain_text

WIDE = (120, 40)


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


# --- the snooze and send-later presets say when they really wake ------------------------------

BERLIN = ZoneInfo("Europe/Berlin")


async def preset_labels(now: dt.datetime, key: str = "z") -> list[str]:
    app = DeskApp(FakeDesk(40), clock=MovingClock(now), theme="tui-desk-dark", theme_dirs=THEME_DIRS)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, ActionPrompt)
        return [" ".join(str(label).split()) for label, _ in prompt.choices]


@pytest.mark.parametrize("now, labels", [
    # Wednesday afternoon: "later today" is today
    (dt.datetime(2026, 11, 25, 16, 20, tzinfo=BERLIN),
     ["later today today 19:20", "tomorrow 9:00 tomorrow Thu 9:00", "next monday 9:00 Mon 9:00",
      "in a week Wed Dec 2 16:20", "until reply until the customer replies"]),
    # 23:45: three hours on is tomorrow, and the preset says so
    (dt.datetime(2026, 11, 25, 23, 45, tzinfo=BERLIN),
     ["in 3 hours tomorrow Thu 2:45", "tomorrow 9:00 tomorrow Thu 9:00", "next monday 9:00 Mon 9:00",
      "in a week Wed Dec 2 23:45", "until reply until the customer replies"]),
    # just past midnight: "tomorrow" is the day after the one that has just begun
    (dt.datetime(2026, 11, 26, 0, 30, tzinfo=BERLIN),
     ["later today today 3:30", "tomorrow 9:00 tomorrow Fri 9:00", "next monday 9:00 Mon 9:00",
      "in a week Thu Dec 3 0:30", "until reply until the customer replies"]),
    # Saturday evening before the clocks go forward (Sun 29 Mar 2026, 2:00 -> 3:00): three
    # hours from 23:45 are 3:45 on the new clock; the days keep their wall-clock times
    (dt.datetime(2026, 3, 28, 23, 45, tzinfo=BERLIN),
     ["in 3 hours tomorrow Sun 3:45", "tomorrow 9:00 tomorrow Sun 9:00", "next monday 9:00 Mon 9:00",
      "in a week Sat Apr 4 23:45", "until reply until the customer replies"]),
    (dt.datetime(2026, 3, 28, 20, 30, tzinfo=BERLIN),
     ["later today today 23:30", "tomorrow 9:00 tomorrow Sun 9:00", "next monday 9:00 Mon 9:00",
      "in a week Sat Apr 4 20:30", "until reply until the customer replies"]),
])
async def test_each_snooze_preset_says_when_it_really_wakes(now, labels):
    assert await preset_labels(now) == labels


async def test_a_snooze_at_2345_lands_where_its_label_says():
    """The desk is given the preset's words and reads them at the same moment: what it
    applies is the time the label showed."""
    now = dt.datetime(2026, 3, 28, 23, 45, tzinfo=BERLIN)
    app = DeskApp(FakeDesk(40), clock=MovingClock(now), theme="tui-desk-dark", theme_dirs=THEME_DIRS)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("z", "enter")  # the first preset
        await settle(pilot)
        kind, _, words = app.desk.actions[-1]
        assert kind == "snooze" and words == "in 3 hours"
        woke = parse_when(words, now).at
        assert woke == dt.datetime(2026, 3, 29, 3, 45, tzinfo=BERLIN) and woke.utcoffset() == dt.timedelta(hours=2)
        assert woke.timestamp() - now.timestamp() == 3 * 3600  # three hours pass; no 2:45 that never comes
