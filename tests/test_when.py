"""Snooze / send-later expressions in several forms and time zones."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tui_desk.desk.when import PRESETS, SEND_LATER_PRESETS, WhenError, parse_send_at, parse_when, snooze_presets

BERLIN = ZoneInfo("Europe/Berlin")
# Wednesday 25 Nov 2026, 16:20 in Berlin
NOW = dt.datetime(2026, 11, 25, 16, 20, tzinfo=BERLIN)


@pytest.mark.parametrize("text, expected", [
    ("later today", dt.datetime(2026, 11, 25, 19, 20, tzinfo=BERLIN)),
    ("tomorrow", dt.datetime(2026, 11, 26, 9, 0, tzinfo=BERLIN)),
    ("tomorrow 9:00", dt.datetime(2026, 11, 26, 9, 0, tzinfo=BERLIN)),
    ("Tomorrow 2pm", dt.datetime(2026, 11, 26, 14, 0, tzinfo=BERLIN)),
    ("next monday 9:00", dt.datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)),
    ("mon 8:30", dt.datetime(2026, 11, 30, 8, 30, tzinfo=BERLIN)),
    ("fri 14:00", dt.datetime(2026, 11, 27, 14, 0, tzinfo=BERLIN)),
    ("wed 10:00", dt.datetime(2026, 12, 2, 10, 0, tzinfo=BERLIN)),  # today's 10:00 is past
    ("wed 18:00", dt.datetime(2026, 11, 25, 18, 0, tzinfo=BERLIN)),
    ("in a week", dt.datetime(2026, 12, 2, 16, 20, tzinfo=BERLIN)),
    ("3d", dt.datetime(2026, 11, 28, 16, 20, tzinfo=BERLIN)),
    ("2h", dt.datetime(2026, 11, 25, 18, 20, tzinfo=BERLIN)),
    ("in 45 minutes", dt.datetime(2026, 11, 25, 17, 5, tzinfo=BERLIN)),
    ("2026-12-01", dt.datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN)),
    ("2026-12-01 14:30", dt.datetime(2026, 12, 1, 14, 30, tzinfo=BERLIN)),
    ("17:00", dt.datetime(2026, 11, 25, 17, 0, tzinfo=BERLIN)),
    ("8:00", dt.datetime(2026, 11, 26, 8, 0, tzinfo=BERLIN)),
    ("next week", dt.datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)),
])
def test_forms(text, expected):
    assert parse_when(text, NOW).at == expected


def test_until_reply():
    w = parse_when("until the customer replies", NOW)
    assert w.until_reply and w.at is None


def test_same_words_other_zone():
    tokyo = NOW.astimezone(ZoneInfo("Asia/Tokyo"))  # Thu 00:20 in Tokyo
    w = parse_when("tomorrow 9:00", tokyo)
    assert w.at == dt.datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def test_dst_change_keeps_wall_clock():
    before = dt.datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)  # Saturday before DST starts
    w = parse_when("mon 9:00", before)
    assert w.at.hour == 9 and w.at.utcoffset() == dt.timedelta(hours=2)


def test_presets_all_parse():
    for p in PRESETS:
        parse_when(p, NOW)


@pytest.mark.parametrize("text", ["", "someday", "2020-01-01", "25:00", "today 9:00", "blursday 3pm"])
def test_bad_input_says_what(text):
    with pytest.raises(WhenError):
        parse_when(text, NOW)


def test_send_later_presets_and_words_are_its_own():
    assert SEND_LATER_PRESETS == ("in 1 hour", "tomorrow 9:00", "Monday 9:00")
    assert [parse_send_at(p, NOW) for p in SEND_LATER_PRESETS] == [
        dt.datetime(2026, 11, 25, 17, 20, tzinfo=BERLIN), dt.datetime(2026, 11, 26, 9, 0, tzinfo=BERLIN),
        dt.datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)]
    assert parse_send_at("fri 14:00", NOW) == dt.datetime(2026, 11, 27, 14, 0, tzinfo=BERLIN)


@pytest.mark.parametrize("text", ["", "until reply", "off", "someday", "2020-01-01"])
def test_send_later_refuses_snooze_words_and_never_names_them(text):
    with pytest.raises(WhenError) as caught:
        parse_send_at(text, NOW)
    said = str(caught.value)
    assert "until reply" not in said and "wake" not in said and "snooze" not in said


# --- the night the clocks go forward in Berlin (Sun 29 Mar 2026, 2:00 -> 3:00) ---------------
SAT_NIGHT = dt.datetime(2026, 3, 28, 23, 45, tzinfo=BERLIN)


@pytest.mark.parametrize("text, expected", [
    ("later today", dt.datetime(2026, 3, 29, 3, 45, tzinfo=BERLIN)),  # three hours pass
    ("in 3 hours", dt.datetime(2026, 3, 29, 3, 45, tzinfo=BERLIN)),
    ("45m", dt.datetime(2026, 3, 29, 0, 30, tzinfo=BERLIN)),
    ("3d", dt.datetime(2026, 3, 31, 23, 45, tzinfo=BERLIN)),  # days keep the clock time
    ("in a week", dt.datetime(2026, 4, 4, 23, 45, tzinfo=BERLIN)),
    ("2:30", dt.datetime(2026, 3, 29, 3, 30, tzinfo=BERLIN)),  # a time that night skips: the moment it stands for
    ("tomorrow 9:00", dt.datetime(2026, 3, 29, 9, 0, tzinfo=BERLIN)),
])
def test_across_the_spring_dst_change(text, expected):
    at = parse_when(text, SAT_NIGHT).at
    assert at == expected and at.utcoffset() == expected.utcoffset()
    assert (at.hour, at.minute) == (expected.hour, expected.minute)  # said on the clock the zone has


def test_hours_that_pass_across_the_change():
    assert parse_when("3h", SAT_NIGHT).at.timestamp() - SAT_NIGHT.timestamp() == 3 * 3600


@pytest.mark.parametrize("now, first", [
    (dt.datetime(2026, 11, 25, 20, 59, tzinfo=BERLIN), "later today"),  # 23:59: still today
    (dt.datetime(2026, 11, 25, 21, 0, tzinfo=BERLIN), "in 3 hours"),  # midnight is tomorrow
    (dt.datetime(2026, 11, 25, 23, 45, tzinfo=BERLIN), "in 3 hours"),
    (dt.datetime(2026, 11, 26, 0, 0, tzinfo=BERLIN), "later today"),
    (SAT_NIGHT, "in 3 hours"),
])
def test_later_today_is_offered_only_when_it_is_today(now, first):
    presets = snooze_presets(now)
    assert presets[0] == first and presets[1:] == PRESETS[1:]
    assert parse_when(presets[0], now) == parse_when("later today", now)  # the same moment either way


MONDAY_NIGHT = dt.datetime(2026, 11, 30, 2, 13, tzinfo=BERLIN)  # a Monday, before 9:00


@pytest.mark.parametrize("text, expected", [
    ("next monday 9:00", dt.datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN)),  # a week on, not in 7 hours
    ("next monday", dt.datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN)),
    ("mon 9:00", dt.datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)),  # "mon" alone: today's is still ahead
    ("next tuesday", dt.datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN)),
])
def test_next_weekday_said_on_that_day_is_a_week_on(text, expected):
    assert parse_when(text, MONDAY_NIGHT).at == expected
