import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tui_desk.desk.timefmt import (MONTHS, format_age, format_clock, format_datetime_short, format_day_time, format_stamp,
                                   format_wake)

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (dt.timedelta(seconds=0), "now"),
        (dt.timedelta(seconds=59), "now"),
        (dt.timedelta(seconds=-300), "now"),  # clock skew: a date slightly in the future
        (dt.timedelta(minutes=1), "1m"),
        (dt.timedelta(minutes=5, seconds=59), "5m"),
        (dt.timedelta(minutes=59), "59m"),
        (dt.timedelta(hours=1), "1h"),
        (dt.timedelta(hours=3, minutes=30), "3h"),
        (dt.timedelta(hours=23, minutes=59), "23h"),
        (dt.timedelta(days=1), "1d"),
        (dt.timedelta(days=2, hours=5), "2d"),
        (dt.timedelta(days=13), "13d"),
        (dt.timedelta(days=14), "2w"),
        (dt.timedelta(days=45), "6w"),
        (dt.timedelta(days=364), "52w"),
        (dt.timedelta(days=365), "1y"),
        (dt.timedelta(days=3 * 365 + 10), "3y"),
    ],
)
def test_format_age(delta: dt.timedelta, text: str) -> None:
    assert format_age(NOW - delta, NOW) == text


def test_format_age_is_short() -> None:
    ages = {format_age(NOW - dt.timedelta(minutes=m), NOW) for m in range(0, 200_000, 7)}
    assert max(len(a) for a in ages) <= 3


def test_format_age_across_time_zones() -> None:
    then = dt.datetime(2026, 11, 20, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    assert format_age(then, NOW) == "1h"


def test_format_datetime_short_same_year() -> None:
    when = dt.datetime(2026, 3, 5, 9, 7, tzinfo=UTC)
    assert format_datetime_short(when, NOW) == "Mar 5 09:07"


def test_format_datetime_short_other_year() -> None:
    when = dt.datetime(2025, 11, 25, 14, 3, tzinfo=UTC)
    assert format_datetime_short(when, NOW) == "2025-11-25"


def test_format_datetime_short_uses_the_zone_of_now() -> None:
    moscow = dt.timezone(dt.timedelta(hours=3))
    when = dt.datetime(2026, 11, 25, 22, 30, tzinfo=UTC)
    assert format_datetime_short(when, NOW.astimezone(moscow)) == "Nov 26 01:30"
    # the year boundary is judged in the zone of now, too
    new_year = dt.datetime(2026, 12, 31, 22, 0, tzinfo=UTC)
    assert format_datetime_short(new_year, NOW.astimezone(moscow)) == "2027-01-01"


def test_format_datetime_short_defaults_to_local_now() -> None:
    when = dt.datetime.now().astimezone()
    text = format_datetime_short(when)
    assert text.startswith(MONTHS) and text.endswith(f"{when:%H:%M}")


@pytest.mark.parametrize(
    ("when", "text"),
    [
        (dt.datetime(2026, 11, 20, 17, 30, tzinfo=UTC), "17:30"),  # today: the time alone
        (dt.datetime(2026, 11, 21, 9, 0, tzinfo=UTC), "Sat 9:00"),  # this coming week: day and time
        (dt.datetime(2026, 11, 26, 14, 5, tzinfo=UTC), "Thu 14:05"),
        (dt.datetime(2026, 11, 27, 9, 0, tzinfo=UTC), "Nov 27"),  # a week or more away: the date
        (dt.datetime(2026, 11, 19, 9, 0, tzinfo=UTC), "Nov 19"),  # passed
        (dt.datetime(2027, 1, 4, 9, 0, tzinfo=UTC), "2027-01-04"),
    ],
)
def test_format_when_is_short_for_markers(when, text):
    from tui_desk.desk.timefmt import format_when
    assert format_when(when, NOW) == text


@pytest.mark.parametrize(("when", "text"), [
    (dt.datetime(2026, 11, 20, 15, 0, tzinfo=UTC), "today 15:00"),
    (dt.datetime(2026, 11, 20, 23, 59, tzinfo=UTC), "today 23:59"),
    (dt.datetime(2026, 11, 21, 0, 5, tzinfo=UTC), "tomorrow Sat 0:05"),
    (dt.datetime(2026, 11, 21, 9, 0, tzinfo=UTC), "tomorrow Sat 9:00"),
    (dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC), "Mon 9:00"),
    (dt.datetime(2026, 11, 26, 9, 0, tzinfo=UTC), "Thu 9:00"),
    (dt.datetime(2026, 11, 27, 12, 0, tzinfo=UTC), "Fri Nov 27 12:00"),  # a week on: the date too
    (dt.datetime(2027, 1, 4, 9, 0, tzinfo=UTC), "2027-01-04 9:00"),
])
def test_format_wake_says_today_tomorrow_or_the_day(when, text):
    assert format_wake(when, NOW) == text


def test_format_wake_speaks_in_the_zone_of_now():
    late = dt.datetime(2026, 11, 20, 23, 30, tzinfo=UTC)  # already Saturday in Berlin
    assert format_wake(late, NOW.astimezone(ZoneInfo("Europe/Berlin"))) == "tomorrow Sat 0:30"


def test_stamps_day_times_and_clocks_are_shown_in_the_zone_asked_for():
    berlin = ZoneInfo("Europe/Berlin")
    t = dt.datetime(2026, 12, 7, 5, 37, 5, tzinfo=dt.timezone.utc)
    assert format_stamp(t.timestamp(), berlin) == format_stamp(t, berlin) == "2026-12-07 06:37"
    assert format_stamp(t) == "2026-12-07 05:37"  # an aware datetime in its own zone
    assert format_day_time(t, dt.datetime(2026, 12, 1, tzinfo=berlin)) == "Mon 07 Dec 06:37"
    assert format_clock(t.timestamp(), berlin) == "06:37:05"


@pytest.mark.parametrize(("zone", "month", "text"), [
    ("Europe/Berlin", 12, "11:15 CET"), ("Europe/Berlin", 7, "11:15 CEST"), ("America/New_York", 12, "11:15 EST"),
    ("UTC", 12, "11:15 UTC"), ("Europe/London", 12, "11:15 GMT"),
    # the tz database has no letters for these: the offset, as people write it
    ("Asia/Dubai", 12, "11:15 (UTC+4)"), ("America/Sao_Paulo", 12, "11:15 (UTC-3)"),
    ("Asia/Kathmandu", 12, "11:15 (UTC+5:45)"),
])
def test_a_clock_time_a_customer_reads_carries_the_zone(zone: str, month: int, text: str) -> None:
    from tui_desk.desk.timefmt import format_zoned_clock
    assert format_zoned_clock(dt.datetime(2026, month, 8, 11, 15, tzinfo=ZoneInfo(zone))) == text


def test_a_zoned_clock_without_letters_or_offset_names_it_by_offset() -> None:
    from tui_desk.desk.timefmt import format_zoned_clock, zone_label
    fixed = dt.timezone(dt.timedelta(hours=1))  # the machine's zone as astimezone() gives it: "UTC+01:00"
    assert format_zoned_clock(dt.datetime(2026, 12, 8, 9, 0, tzinfo=fixed)) == "9:00 (UTC+1)"
    assert zone_label(dt.datetime(2026, 12, 8, 9, 0, tzinfo=dt.timezone.utc)) == "UTC"
    with pytest.raises(ValueError):
        format_zoned_clock(dt.datetime(2026, 12, 8, 9, 0))  # naive: no zone to say
