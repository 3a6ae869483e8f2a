"""Times said across a daylight-saving change mean the wall-clock time of that day."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest

from tui_desk.config import Config, PriorityConfig
from tui_desk.desk.service import Desk
from tui_desk.desk.timefmt import local_zone
from tui_desk.store import queries

BERLIN = ZoneInfo("Europe/Berlin")
# Saturday 28 March 2026, noon in Berlin (CET, +01:00); clocks go to CEST (+02:00) on Sunday
SATURDAY_NOON = dt.datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN).timestamp()


@pytest.fixture
def berlin_machine(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def _desk_with_a_conversation(tmp_path, config: Config) -> tuple[Desk, int]:
    from mailfactory import make_mail
    from tui_desk.desk.importer import import_paths

    # a customer mail of the week before (mailfactory dates are in November 2026)
    (tmp_path / "m.eml").write_bytes(make_mail("dst@c.test", subject="Clocks", minutes=-60 * 24 * 230))
    desk = await Desk.open(tmp_path / "desk.sqlite3", config, clock=lambda: SATURDAY_NOON)
    await import_paths(desk, [tmp_path / "m.eml"])
    return desk, (await queries.queue_ids(desk.store, statuses=("open", "pending", "closed")))[0]


@pytest.mark.parametrize("zone_from", ["machine", "config"])
async def test_snooze_until_monday_9_is_9_cest_after_the_change(tmp_path, berlin_machine, monkeypatch, zone_from):
    config = Config()
    if zone_from == "config":  # the machine elsewhere; the desk's zone from the config
        monkeypatch.setenv("TZ", "America/New_York")
        time.tzset()
        config = Config(priority=PriorityConfig(timezone="Europe/Berlin"))
    desk, conv = await _desk_with_a_conversation(tmp_path, config)
    try:
        await desk.snooze([conv], "mon 9:00")
        view = await desk.conversation(conv)
        until = view.snoozed_until.astimezone(BERLIN)
        assert (until.date(), until.hour, until.minute) == (dt.date(2026, 3, 30), 9, 0), until
        assert until.utcoffset() == dt.timedelta(hours=2)
        sent_at = desk._send_at("mon 9:00")
        assert dt.datetime.fromtimestamp(sent_at, BERLIN).hour == 9
    finally:
        await desk.close()


def test_the_local_zone_is_a_zone_with_rules_not_todays_offset(berlin_machine):
    zone = local_zone()
    summer = dt.datetime(2026, 7, 1, 12, tzinfo=zone)
    winter = dt.datetime(2026, 1, 1, 12, tzinfo=zone)
    assert summer.utcoffset() != winter.utcoffset()
    assert local_zone("Asia/Tokyo") == ZoneInfo("Asia/Tokyo")
