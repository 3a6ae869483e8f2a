"""The measured expected wait (issue 16) on crafted histories: business calendars with two
intervals a day across a weekend and a holiday, off-hours arrival moved to the next opening, too
little data -> the configured default, the comparable-class fallback (tag, priority class, all),
the words a customer reads, and {{expected_wait}} filled for a conversation of a real store
with an injected clock."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from zoneinfo import ZoneInfo

from tests.mailfactory import BASE, make_mail
from tui_desk.config import AutoReplyConfig, Config, ConfigError, PriorityConfig, load_config
from tui_desk.desk.business_time import BusinessClock
from tui_desk.desk.expected_wait import (WINDOW, Sample, comparable, expected_wait, first_responses,
                                         for_conversation, words)
from tui_desk.desk.metrics import Timeline, Turn, conversation_metrics
from tui_desk.desk.snippets import bundled_dir, fill, load_snippets, placeholders

BERLIN = ZoneInfo("Europe/Berlin")
H = 3600
M = 60
# December 2026: the 7th is a Monday; the 25th (Friday) is our holiday
LUNCH = BusinessClock(((dt.time(9), dt.time(12)), (dt.time(13), dt.time(17))), zone="Europe/Berlin",
                      holidays=(dt.date(2026, 12, 25),))


def t(day: int, hour: int = 0, minute: int = 0) -> float:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=BERLIN).timestamp()


# --- the calendar: several intervals a day ---------------------------------------------------------

def test_two_intervals_a_day_count_only_working_time():
    assert LUNCH.day_len == 7 * H
    assert LUNCH.elapsed(t(8, 17)) - LUNCH.elapsed(t(8, 9)) == 7 * H  # lunch does not count
    assert LUNCH.elapsed(t(8, 13)) - LUNCH.elapsed(t(8, 12)) == 0
    assert LUNCH.elapsed(t(8, 12, 30)) - LUNCH.elapsed(t(8, 11)) == H
    # Thursday 24th 16:00 -> Monday 28th 10:00: Christmas Friday and the weekend count nothing
    assert LUNCH.elapsed(t(28, 10)) - LUNCH.elapsed(t(24, 16)) == 2 * H


def test_add_and_next_open_skip_lunch_nights_weekends_and_holidays():
    assert LUNCH.next_open(t(8, 10)) == t(8, 10)  # open: now
    assert LUNCH.next_open(t(8, 12, 20)) == t(8, 13)  # lunch
    assert LUNCH.next_open(t(8, 17)) == t(9, 9)  # closing time: tomorrow
    assert LUNCH.next_open(t(24, 18)) == t(28, 9)  # Christmas Friday and the weekend
    assert LUNCH.add(t(8, 11), 2 * H) == t(8, 14)  # one hour before lunch, one after
    assert LUNCH.add(t(11, 16), 2 * H) == t(14, 10)  # Friday 16:00 + 2h: Monday 10:00
    assert LUNCH.add(t(24, 16, 30), H) == t(28, 9, 30)
    assert LUNCH.running(t(8, 9)) and not LUNCH.running(t(8, 12)) and not LUNCH.running(t(12, 10))
    for start in (t(8, 8), t(8, 11, 59), t(11, 16, 59), t(24, 12, 30), t(26, 3)):
        for seconds in (1, 59 * M, 3 * H, 7 * H, 20 * H):
            end = LUNCH.add(start, seconds)
            assert LUNCH.elapsed(end) - LUNCH.elapsed(start) == pytest.approx(seconds)
            assert LUNCH.elapsed(end - 1) - LUNCH.elapsed(start) < seconds  # the first such moment


def test_the_single_interval_form_is_unchanged():
    one = BusinessClock((dt.time(9), dt.time(17)), zone="UTC")
    assert one.intervals == ((9 * H, 17 * H),) and one.day_len == 8 * H
    always = BusinessClock()
    assert always.add(100.0, 50) == 150.0 and always.next_open(7.0) == 7.0


def test_config_reads_one_or_several_intervals(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text('[priority]\nbusiness_hours = ["13:00-17:00", "09:00-12:00"]\ntimezone = "Europe/Berlin"\n'
                    '[autoreply]\ndefault_wait = "1h30m"\nmin_samples = 3\nsnippet = "auto-ack"\n')
    cfg = load_config(path)
    assert cfg.priority.business_hours == ((dt.time(9), dt.time(12)), (dt.time(13), dt.time(17)))
    assert cfg.autoreply.default_wait_seconds == 90 * M and cfg.autoreply.min_samples == 3
    path.write_text('[priority]\nbusiness_hours = "09:00-17:00"\n')
    assert load_config(path).priority.business_hours == (dt.time(9), dt.time(17))
    for bad, says in [('business_hours = ["09:00-13:00", "12:00-17:00"]', "overlap"),
                      ('business_hours = ["09:00-08:00"]', "end after"),
                      ('business_hours = []', "no span")]:
        path.write_text(f"[priority]\n{bad}\n")
        with pytest.raises(ConfigError, match=says):
            load_config(path)
    for bad in ('default_wait = "4 hours"', 'default_wait = 4', "min_samples = 0"):
        path.write_text(f"[autoreply]\n{bad}\n")
        with pytest.raises(ConfigError, match="autoreply"):
            load_config(path)
    assert AutoReplyConfig().default_wait_seconds == 4 * H and AutoReplyConfig().min_samples == 5


# --- the wait and its words -----------------------------------------------------------------------

def waits(*hours: float, tags: tuple[str, ...] = (), klass: str = "normal") -> list[Sample]:
    return [Sample(h * H, tags, klass) for h in hours]


def wait_at(samples: list[Sample], arrival: float, *, tags: tuple[str, ...] = (), klass: str = "normal",
            clock: BusinessClock = LUNCH, min_samples: int = 5):
    return expected_wait(samples, tags=tags, priority_class=klass, arrival=arrival, now=arrival, clock=clock,
                         zone=BERLIN, default_seconds=4 * H, min_samples=min_samples)


def test_p75_in_business_time_across_lunch():
    # Tuesday 10:00, p75 of 1..8 hours (nearest rank: the 6th smallest of 8) is 2h15m here
    got = wait_at(waits(0.25, 0.5, 1, 1.5, 2, 2.25, 3, 6), t(8, 10))
    assert (got.p75, got.samples, got.default, got.comparable) == (2.25 * H, 8, False, "priority:normal")
    assert got.opens == got.arrival == t(8, 10)
    assert got.answer_by == t(8, 13, 15)  # 10:00-12:00, lunch, 13:00-13:15
    assert got.words == "in about 3 hours"
    assert "p75 2h 15m business time of 8 first responses of priority normal, last 7 days" in got.how()
    always = wait_at(waits(0.25, 0.5, 1, 1.5, 2, 2.25, 3, 6), t(8, 10), clock=BusinessClock())  # no hours set
    assert "p75 2h 15m of 8 first responses of priority normal, last 7 days" in always.how()
    assert wait_at(waits(*[0.5] * 5), t(8, 10)).words == "within the hour"
    assert wait_at(waits(*[6] * 5), t(8, 9)).words == "later today, by 16:00 CET"  # 3h before lunch, 3h after


def test_off_hours_arrival_waits_for_the_next_opening():
    # Sunday 20:00 on a calendar opening at 8:00: Monday 8:00 + 1h
    early = BusinessClock(((dt.time(8), dt.time(12)), (dt.time(13), dt.time(17))), zone="Europe/Berlin")
    got = wait_at(waits(*[1] * 5), t(6, 20), clock=early)
    assert got.opens == t(7, 8) and got.answer_by == t(7, 9)
    assert got.words == "tomorrow morning, Monday 9:00 CET"
    assert got.how().endswith(", from the next opening)")
    # Tuesday 20:00, 30 minutes: Wednesday 9:30
    assert wait_at(waits(*[0.5] * 5), t(8, 20)).words == "tomorrow morning, Wednesday 9:30 CET"
    # Thursday 24th 18:00: Christmas Friday and the weekend, Monday 9:00 + 1h
    xmas = wait_at(waits(*[1] * 5), t(24, 18))
    assert xmas.answer_by == t(28, 10) and xmas.words == "on Monday morning, 10:00 CET"
    # during lunch: from 13:00
    assert wait_at(waits(*[2] * 5), t(8, 12, 10)).answer_by == t(8, 15)


def test_too_little_history_gives_the_configured_default():
    got = wait_at(waits(0.5, 0.5, 0.5, 0.5), t(8, 10))  # 4 < 5
    assert got.default and got.p75 is None and got.wait == 4 * H and got.samples == 4
    assert got.answer_by == t(8, 15)  # 10-12, 13-15
    assert got.words == "in about 5 hours"
    assert "default wait 4h: only 4 first responses of all conversations in the last 7 days, 5 needed" in got.how()
    assert wait_at([], t(8, 10)).default


def test_with_no_history_the_sla_target_is_told_not_a_default_that_contradicts_it():
    """The tryout's team desk: first_response_minutes = 60 and no answers yet told "in about 4
    hours" (default_wait). The target is what the desk holds itself to."""
    always = BusinessClock()
    got = expected_wait([], tags=(), priority_class="normal", arrival=t(8, 10), now=t(8, 10), clock=always, zone=BERLIN,
                        default_seconds=4 * H, min_samples=5, target_seconds=1 * H)
    assert (got.wait, got.default, got.target) == (1 * H, True, True)
    assert got.words == "within the hour"
    assert got.how() == ("expected wait 'within the hour' (the SLA's first-response target 1h: no first responses "
                         "of all conversations in the last 7 days, 5 needed)")
    one = expected_wait(waits(2), tags=(), priority_class="normal", arrival=t(8, 10), now=t(8, 10), clock=always,
                        zone=BERLIN, default_seconds=4 * H, min_samples=5)
    assert "default wait 4h: only 1 first response of all conversations" in one.how()


def test_the_backlog_ahead_raises_the_wait_never_below_what_is_measured():
    """The tryout's demo: p75 5h while 12 open conversations had waited longer. At the week's pace
    (every sample was answered in the last 7 days) the queue ahead takes ahead * week / answers."""
    always = BusinessClock()
    week = 7 * 86400.0
    history = waits(*[5] * 84)  # 84 first answers in 7 days: 12 a day, one each 2 hours

    def at(ahead: int):
        return expected_wait(history, tags=(), priority_class="normal", arrival=t(8, 10), now=t(8, 10), clock=always,
                             zone=BERLIN, default_seconds=4 * H, min_samples=5, ahead=ahead, week_seconds=week)
    assert at(0).wait == 5 * H and at(0).backlog is None
    assert at(2).wait == 5 * H and at(2).backlog == 4 * H  # within the measured p75: it stands
    busy = at(12)
    assert busy.wait == busy.backlog == 24 * H and busy.p75 == 5 * H
    assert busy.words == "tomorrow morning, Wednesday 10:00 CET"
    assert busy.how() == ("expected wait 'tomorrow morning, Wednesday 10:00 CET' (p75 5h of 84 first responses "
                          "of priority normal, last 7 days; 12 conversations wait longer: 1d at the pace of 84 first "
                          "answers in 7 days, which is longer)")
    assert "; 2 conversations wait longer: 4h at the pace of 84 first answers in 7 days, within that)" in at(2).how()
    nothing = expected_wait([], tags=(), priority_class="normal", arrival=t(8, 10), now=t(8, 10), clock=always,
                            zone=BERLIN, default_seconds=4 * H, min_samples=5, ahead=3, week_seconds=week)
    assert nothing.wait == 4 * H and nothing.how().endswith(
        "; 3 conversations wait longer (no answers in the last 7 days to measure their pace))")


def test_comparable_conversations_same_tag_else_priority_class_else_all():
    history = (waits(1, 1, 1, 1, 1, tags=("billing",)) + waits(3, 3, 3, 3, 3, tags=("shipping",), klass="vip")
               + waits(8, 8, tags=("bug",), klass="urgent"))
    assert comparable(history, ("billing", "x"), "normal", 5) == ([H] * 5, "tag:billing,x")
    assert comparable(history, ("bug",), "vip", 5) == ([3 * H] * 5, "priority:vip")  # 2 bug samples: too few
    waits_all, which = comparable(history, ("bug",), "urgent", 5)
    assert which == "all" and len(waits_all) == 12
    vip = wait_at(history, t(8, 10), tags=("new-tag",), klass="vip")
    assert (vip.comparable, vip.p75) == ("priority:vip", 3 * H)
    assert "of priority vip, last 7 days" in vip.how()


@pytest.mark.parametrize("hours_ahead, expected", [
    (0.2, "within the hour"), (1.0, "within the hour"), (1.4, "in about an hour"), (2.2, "in about 2 hours"),
    (5.4, "in about 5 hours"),
])
def test_words_near(hours_ahead: float, expected: str):
    assert words(t(8, 9), t(8, 9) + hours_ahead * H, BERLIN) == expected


def test_words_far_round_the_time_up_to_the_quarter_hour():
    assert words(t(8, 8), t(8, 16, 1), BERLIN) == "later today, by 16:15 CET"
    assert words(t(8, 20), t(9, 14), BERLIN) == "tomorrow afternoon, Wednesday 14:00 CET"
    assert words(t(8, 8), t(9, 18), BERLIN) == "tomorrow evening, Wednesday 18:00 CET"
    assert words(t(8, 8), t(11, 9), BERLIN) == "on Friday morning, 9:00 CET"
    assert words(t(8, 8), t(21, 9), BERLIN) == "on Monday 21 December, 9:00 CET"
    # in the desk's zone: 8:00 UTC is 9:00 in Berlin
    utc8 = dt.datetime(2026, 12, 9, 8, tzinfo=dt.timezone.utc).timestamp()
    assert words(t(8, 8), utc8, BERLIN) == "tomorrow morning, Wednesday 9:00 CET"


def test_a_time_the_customer_reads_says_the_desks_zone():
    """A customer elsewhere cannot read "by 16:15": the zone goes with it, by its letters where it
    has them (summer time too), else by its offset; and the day when it is not today there."""
    summer = dt.datetime(2026, 7, 7, 8, tzinfo=BERLIN).timestamp()
    assert words(summer, summer + 8 * H, BERLIN) == "later today, by 16:00 CEST"
    dubai = ZoneInfo("Asia/Dubai")
    at = dt.datetime(2026, 12, 8, 20, tzinfo=dubai).timestamp()  # Tuesday evening there
    assert words(at, at + 13 * H, dubai) == "tomorrow morning, Wednesday 9:00 (UTC+4)"
    # 23:00 UTC on Tuesday is Wednesday 0:00 in Berlin: Wednesday 10:00 is today there
    late = dt.datetime(2026, 12, 8, 23, tzinfo=dt.timezone.utc).timestamp()
    assert words(late, late + 10 * H, BERLIN) == "later today, by 10:00 CET"


# --- the history: first answers of the last 7 days ------------------------------------------------

def test_first_responses_of_the_last_seven_days_in_business_time():
    now = t(14, 12)
    def row(conv: str, asked: float, answered: float | None, tags: tuple[str, ...] = ()):
        turns = [Turn(asked, "customer")] + ([Turn(answered, "agent", "alice")] if answered else [])
        return conversation_metrics(Timeline(conv, tags=tags, turns=tuple(turns)), LUNCH)
    rows = [row("1", t(11, 16), t(14, 10), ("billing",)),  # Friday 16:00 -> Monday 10:00: 2h business
            row("2", t(4, 10), t(4, 11)),  # answered 10 days ago: out
            row("3", t(14, 9), None),  # not answered: no sample
            row("4", t(6, 23), t(7, 12, 30)),  # asked 8 days ago, answered within 7: in; 3h business
            row("5", t(14, 9), t(14, 9, 30))]  # answered: in (the conversation asked for is left out)
    got = first_responses(rows, now, {"1": "vip"}, exclude="5")
    assert sorted((s.wait, s.tags, s.priority_class) for s in got) == [
        (2 * H, ("billing",), "vip"), (3 * H, (), "normal")]
    assert WINDOW == 7 * 86400


# --- a real store: {{expected_wait}} for a conversation ------------------------------------------

async def add(desk, raws: list[bytes]) -> None:
    """Into the store, agent mail known by the desk's agent addresses."""
    from tui_desk.mail.parse import parse_message
    from tui_desk.store import ingest
    items = [ingest.NewMessage(raw=r, parsed=(p := parse_message(r)), is_agent=desk.config.is_agent_address(p.sender.key))
             for r in raws]
    result = await ingest.ingest(desk.store, items)
    await desk.refresh(result.conversations)


def _desk_config(**priority) -> Config:
    # BASE is a Monday 09:00 UTC; the desk works 9-12 and 13-17 UTC on weekdays
    from tui_desk.config import AccountConfig
    return Config(agent="Alice Martin", agent_addresses=("*@helpdesk.test",),
                  accounts=(AccountConfig("support", "support@helpdesk.test", "Support"),),
                  priority=PriorityConfig(business_hours=((dt.time(9), dt.time(12)), (dt.time(13), dt.time(17))),
                                          **({"timezone": "UTC"} | priority)),
                  autoreply=AutoReplyConfig(min_samples=3, default_wait_seconds=6 * H))


async def _three_answered_and_a_new_one(tmp_path: Path, cfg: Config, sender_name: str = ""):
    """(desk, the new conversation, now): Monday's three first answers (30m, 1h, 1h30m) and a
    question from new@c.test a minute before Wednesday 11:00, now."""
    from tui_desk.desk.service import Desk
    assert BASE.weekday() == 0 and BASE.hour == 9 and BASE.tzinfo is not None
    now = {"t": BASE.timestamp() + 2 * 86400 + 2 * H}  # Wednesday 11:00
    desk = await Desk.open(tmp_path / "w.db", cfg, clock=lambda: now["t"])
    mails = []
    for i, answer_minutes in enumerate((30, 60, 90)):
        mails.append(make_mail(f"q{i}@t", sender=f"c{i}@c.test", subject=f"question {i}", minutes=i * 5))
        mails.append(make_mail(f"a{i}@t", sender="agent1@helpdesk.test", refs=[f"q{i}@t"],
                               minutes=i * 5 + answer_minutes))
    sender = f"{sender_name} <new@c.test>" if sender_name else "new@c.test"
    mails.append(make_mail("new@t", sender=sender, subject="new question", minutes=2 * 1440 + 2 * 60 - 1))
    await add(desk, mails)
    [new] = await desk.queue_ids("from:new@c.test")
    return desk, new, now


async def test_the_placeholder_is_filled_for_a_conversation_of_the_store(tmp_path: Path):
    from tui_desk.desk.replies import measured_values
    cfg = _desk_config()
    desk, new, now = await _three_answered_and_a_new_one(tmp_path, cfg)
    got = await for_conversation(desk, new)
    assert (got.samples, got.p75, got.default) == (3, 90 * M, False)  # nearest rank: ceil(2.25) = 3rd
    assert got.arrival == now["t"] - 60 and got.answer_by == now["t"] - 60 + 2.5 * H  # across lunch
    assert got.words == "in about 2 hours"  # 2h29m from now
    body = next(s for s in load_snippets([bundled_dir("snippets")])[0] if s.name == "auto-ack").body  # type: ignore[list-item]
    assert "expected_wait" in placeholders(body)
    values = await measured_values(desk, new, body)
    filled, missing = fill(body, {**values, "customer_first_name": "Ann", "ticket_id": str(new), "agent_name": "x"})
    assert missing == [] and "will answer in about 2 hours." in filled
    assert await measured_values(desk, new, "no placeholder here") == {}
    assert "expected_wait" in desk.reply_placeholders()
    # with min_samples = 4 the same three answers are too few: the default
    fewer = dataclasses.replace(cfg, autoreply=AutoReplyConfig(min_samples=4, default_wait_seconds=6 * H))
    desk.config = fewer
    got = await for_conversation(desk, new)
    assert got.default and got.wait == 6 * H and got.samples == 3
    await desk.close()


async def test_a_follow_up_tells_a_far_wait_with_the_desks_zone(tmp_path: Path):
    """What desk.followup and the reply send (desk.replies.reply_text), and the rules' automatic
    replies (the acknowledgement, an incident's mail): a wait past five hours is a clock time, and
    the customer reads the desk's zone with it."""
    from tui_desk.desk.replies import reply_text
    cfg = _desk_config(timezone="America/New_York")  # the business hours are New York's too
    desk, new, now = await _three_answered_and_a_new_one(tmp_path, cfg)
    desk.config = dataclasses.replace(cfg, autoreply=AutoReplyConfig(min_samples=4, default_wait_seconds=6 * H))
    _, _, plain = await reply_text(desk, new, "We will answer {{expected_wait}}.")
    # Wednesday 10:59 UTC is 5:59 in New York: the desk opens at 9:00 there, 6h on is 16:00 with lunch
    assert plain == "We will answer later today, by 16:00 EST."
    # the acknowledgement and an incident's mail measure it as a rule's reply does (what `rules test` shows)
    from tui_desk.desk.rules.execute import told_wait
    assert await told_wait(desk, new, "auto-ack") == "later today, by 16:00 EST"
    await desk.close()


async def test_the_compose_preview_shows_each_value_as_it_will_be_sent(tmp_path: Path):
    """desk.replies.fill_preview: what the compose box's Fills line shows, one entry per
    placeholder, each value as the reply fills it now (plain, sanitized), or why there is none and
    that the send waits for it."""
    from tui_desk.desk.replies import fill_preview, reply_text
    cfg = _desk_config()
    desk, new, now = await _three_answered_and_a_new_one(tmp_path, cfg, sender_name="Ann\x1b[31m Lee")
    desk.config = dataclasses.replace(cfg, autoreply=AutoReplyConfig(min_samples=4, default_wait_seconds=6 * H))
    body = ("Hi {{customer_first_name}} ({{customer_name}}), ticket {{ticket_id}}: "
            "we answer {{expected_wait}}. Refund {{refund_id}}, {{nonsense}}.")
    got = {f.name: f for f in await fill_preview(desk, new, body)}
    assert list(got) == ["customer_first_name", "customer_name", "ticket_id", "expected_wait", "refund_id", "nonsense"]
    assert got["ticket_id"].value == str(new)
    assert got["customer_first_name"].value == "Ann"
    assert got["customer_name"].value is not None and "\x1b" not in got["customer_name"].value
    wait = await for_conversation(desk, new)
    assert got["expected_wait"].value == wait.words == "tomorrow morning, Thursday 10:00 UTC"
    _, _, plain = await reply_text(desk, new, "we answer {{expected_wait}}.")
    assert plain == f"we answer {got['expected_wait'].value}."  # what the preview says is what goes
    # refund_id is no snippet's capture and nothing else fills it: said, with what sending does
    for name in ("refund_id", "nonsense"):
        assert got[name].value is None
        assert "nothing fills it" in got[name].why and "the send waits" in got[name].why
    await desk.close()


async def test_the_preview_says_a_capture_that_found_nothing(tmp_path: Path, monkeypatch):
    from tui_desk.desk.replies import fill_preview
    from tui_desk.desk.snippets import Snippet
    cfg = _desk_config()
    desk, new, now = await _three_answered_and_a_new_one(tmp_path, cfg)
    order = Snippet("order", "Order", (), "Order {{order_id}}", capture=(("order_id", r"order\s*#?(\d+)"),))
    monkeypatch.setattr(desk, "snippets", lambda: [order])
    [fill] = await fill_preview(desk, new, "Order {{order_id}}")
    assert fill.value is None and "not in the customer's mail" in fill.why and "the send waits" in fill.why
    await desk.close()
