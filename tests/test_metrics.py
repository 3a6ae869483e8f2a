"""Desk metrics on crafted timelines with known answers (issue 15): every metric, business time
across a weekend and a holiday, paused time, reopens on both sides of 7 days, non-answers,
merged and mail-only conversations, the heatmap over both DST weeks, p90 nearest rank."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
from zoneinfo import ZoneInfo

from tui_desk.desk.business_time import BusinessClock
from tui_desk.desk.metrics import (EXPORT_HEADER, ConvMetrics, SnoozeSpan, StatusChange, Timeline, Turn,
                                   conversation_metrics, export_rows, heatmap, merge_timelines, report,
                                   staffing, stats)

UTC = dt.timezone.utc
H = 3600
DAY = 86400


def at(day: int, hour: int = 0, minute: int = 0, month: int = 3) -> float:
    """March 2026 in UTC: the 2nd is a Monday, the 7th-8th a weekend, the 9th our holiday."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC).timestamp()


CLOCK = BusinessClock((dt.time(9), dt.time(17)), (0, 1, 2, 3, 4), "UTC", (dt.date(2026, 3, 9),))


def c(t, role="customer", agent=None, snippets=()):
    return Turn(t, role, agent, tuple(snippets))


def a(t, agent="alice", snippets=()):
    return Turn(t, "agent", agent, tuple(snippets))


def s(t, status, agent="alice"):
    return StatusChange(t, status, agent)


# --- statistics -------------------------------------------------------------------------------

@pytest.mark.parametrize("values, median, p90", [
    ([7], 7, 7),
    ([2, 1], 1.5, 2),  # ceil(0.9*2) = 2nd smallest
    ([3, 1, 2], 2, 3),  # ceil(2.7) = 3rd
    ([5, 1, 4, 2, 3], 3, 5),  # ceil(4.5) = 5th
    (list(range(1, 11)), 5.5, 9),  # ceil(9.0) = 9th, exactly: not the 10th
    (list(range(11, 0, -1)), 6, 10),  # ceil(9.9) = 10th
    (list(range(1, 21)), 10.5, 18),  # ceil(18.0) = 18th
    (list(range(1, 8)), 4, 7),  # ceil(6.3) = 7th (rounding would give the 6th)
    (list(range(1, 71)), 35.5, 63),  # ceil(63.0) = 63rd
])
def test_stats_median_and_p90_nearest_rank(values, median, p90):
    st = stats(values)
    assert (st.count, st.median, st.p90, st.mean) == (len(values), median, p90, sum(values) / len(values))


def test_stats_of_nothing():
    st = stats([])
    assert (st.count, st.median, st.p90, st.mean) == (0, None, None, None)


# --- first and next response --------------------------------------------------------------------

def test_notes_auto_replies_surveys_and_forwards_do_not_answer():
    t0 = at(2, 10)
    tl = Timeline("c", turns=(c(t0), c(t0 + 300, "note", "bob"), c(t0 + 360, "auto"), c(t0 + 420, "survey"),
                              c(t0 + 480, "forward", "bob"), a(t0 + 5400, "carol")))
    m = conversation_metrics(tl)
    assert (m.frt, m.frt_agent, len(m.replies), m.unanswered_since) == (5400, "carol", 1, None)


def test_a_customer_out_of_office_is_no_message_and_starts_no_wait():
    t0 = at(2, 10)
    tl = Timeline("c", turns=(c(t0, "auto"), c(t0 + 60), a(t0 + 600), c(t0 + 700, "auto"), a(t0 + 900)))
    m = conversation_metrics(tl)
    assert m.first_customer_at == t0 + 60 and m.customer_messages == (t0 + 60,)
    assert m.frt == 540
    assert [r.wait for r in m.replies] == [540, None]  # the second reply ended no wait


def test_next_responses_one_per_wait_from_its_first_message():
    tl = Timeline("c", turns=(c(0), a(100), c(200), c(300), c(350, "auto"), a(500, "bob"), c(600, "note"),
                              c(700), a(760), a(800), c(900)))
    m = conversation_metrics(tl)
    assert m.frt == 100
    nexts = [(r.waited_from, r.wait, r.agent) for r in m.replies if r.waited_from not in (None, 0)]
    assert nexts == [(200, 300, "bob"), (700, 60, "alice")]
    assert m.unanswered_since == 900 and len(m.replies) == 4


def test_an_agent_first_outbound_mail_is_not_an_answer_to_a_later_question():
    tl = Timeline("c", turns=(a(0), c(1000), a(1600)))
    m = conversation_metrics(tl)
    assert (m.first_customer_at, m.frt) == (1000, 600)


def test_business_time_across_a_weekend_and_a_holiday():
    asked, answered = at(6, 16), at(10, 10)  # Friday 16:00 -> Tuesday 10:00, Monday the 9th a holiday
    m = conversation_metrics(Timeline("c", turns=(c(asked), a(answered))), CLOCK)
    assert m.frt == 4 * DAY - 6 * H
    assert m.frt_business == 2 * H  # Friday 16-17 and Tuesday 9-10
    assert m.business


def test_without_business_hours_business_fields_stay_empty():
    always = BusinessClock()  # no hours configured: business time is not a separate figure
    m = conversation_metrics(Timeline("c", turns=(c(0), a(50))), always)
    assert (m.frt, m.frt_business, m.business) == (50, None, False)


# --- resolution and paused time -------------------------------------------------------------------

def paused_timeline(**kw) -> Timeline:
    t0 = at(2, 8)  # Monday 08:00 UTC, an hour before business opens
    return Timeline("p", turns=(c(t0), a(t0 + H), c(t0 + 3 * H)),
                    status_changes=(s(t0 + H, "pending"), s(t0 + 5 * H, "pending"), s(t0 + 7 * H, "open"),
                                    s(t0 + 10 * H, "closed", "bob")),
                    snoozes=(SnoozeSpan(t0 + 4 * H, t0 + 6 * H),) + kw.get("extra", ()))


def test_resolution_minus_snoozed_and_pending_time_counted_once():
    m = conversation_metrics(paused_timeline(), CLOCK)
    # pending 09-11 (ended by the customer's mail), snoozed 12-14, pending 13-15: paused 2h + 3h
    assert (m.resolution, m.resolution_net) == (10 * H, 5 * H)
    # business 09-17 of 08-18 is 8h; the paused hours all lie in it
    assert (m.resolution_business, m.resolution_net_business) == (8 * H, 3 * H)
    assert (m.closed_by, m.replies_to_resolve, m.fcr, m.reopens) == ("bob", 1, True, ())


def test_a_snooze_still_running_at_the_close_counts_up_to_the_close():
    t0 = at(2, 8)
    m = conversation_metrics(paused_timeline(extra=(SnoozeSpan(t0 + 9 * H, None), SnoozeSpan(t0 - 5 * H, t0))),
                             CLOCK)
    assert m.resolution_net == 4 * H  # 09h-10h snoozed too; the snooze before the first message is no pause
    assert m.resolution_net_business == 3 * H  # 17-18 is outside business hours


# --- reopens and FCR --------------------------------------------------------------------------------

ONE_REPLY = (a(H),)


def closed_then(*later_turns, later_status=(), replies=ONE_REPLY) -> ConvMetrics:
    return conversation_metrics(Timeline("r", turns=(c(0),) + tuple(replies) + tuple(later_turns),
                                         status_changes=(s(2 * H, "closed", "alice"),) + tuple(later_status)))


def test_fcr_one_reply_never_reopened():
    m = closed_then()
    assert (m.closed_at, m.replies_to_resolve, m.reopens, m.reopened_within_7d, m.fcr) == (2 * H, 1, (), False, True)


def test_customer_mail_within_7_days_reopens_and_spoils_fcr_even_without_a_second_reply():
    m = closed_then(c(2 * H + 3 * DAY), later_status=(s(2 * H + 3 * DAY + 60, "closed", "bob"),))
    assert [(r.at, r.closed_by) for r in m.reopens] == [(2 * H + 3 * DAY, "alice")]
    assert (m.closed_at, m.closed_by, m.replies_to_resolve, m.reopened_within_7d, m.fcr) == \
        (2 * H + 3 * DAY + 60, "bob", 1, True, False)
    assert m.resolution == 2 * H + 3 * DAY + 60


def test_customer_mail_after_7_days_keeps_fcr():
    m = closed_then(c(2 * H + 8 * DAY), later_status=(s(2 * H + 8 * DAY + 60, "closed"),))
    assert (len(m.reopens), m.reopened_within_7d, m.fcr) == (1, False, True)


def test_agent_reopen_within_7_days_and_exactly_at_7_days():
    within = closed_then(later_status=(s(2 * H + DAY, "open", "bob"), s(2 * H + DAY + 60, "closed")))
    edge = closed_then(later_status=(s(2 * H + 7 * DAY, "open", "bob"), s(2 * H + 7 * DAY + 60, "closed")))
    assert (len(within.reopens), within.fcr) == (1, False)
    assert (len(edge.reopens), edge.reopened_within_7d, edge.fcr) == (1, True, False)


def test_agent_reopen_after_7_days_keeps_fcr():
    m = closed_then(later_status=(s(2 * H + 7 * DAY + 1, "open", "bob"), s(2 * H + 8 * DAY, "closed")))
    assert (len(m.reopens), m.reopened_within_7d, m.fcr) == (1, False, True)


def test_a_reopen_by_mail_and_its_status_event_are_one_reopen():
    m = closed_then(c(5 * H), later_status=(s(5 * H, "open", None),))
    assert (len(m.reopens), m.closed_at, m.resolution, m.fcr) == (1, None, None, None)


def test_two_replies_are_not_first_contact_resolution():
    m = closed_then(replies=(a(H), a(H + 60)))
    assert (m.replies_to_resolve, m.fcr) == (2, False)


def test_closed_without_a_reply_is_not_eligible_for_fcr():
    m = closed_then(replies=())
    assert (m.closed_at, m.replies_to_resolve, m.fcr) == (2 * H, 0, None)


def test_replies_after_the_close_do_not_count_to_resolve_and_a_reply_with_the_close_does():
    m = conversation_metrics(Timeline("r", turns=(c(0), a(100), a(500)),
                                      status_changes=(s(100, "closed"),)))
    assert (m.replies_to_resolve, m.fcr) == (1, True)


def test_pending_and_spam_are_not_reopens_of_nothing():
    m = conversation_metrics(Timeline("r", turns=(c(0),), status_changes=(s(10, "spam"), s(20, "closed"),
                                                                          s(30, "spam"))))
    assert (m.reopens, m.closed_at) == ((), None)


# --- merged and mail-only conversations ---------------------------------------------------------

def test_merged_conversations_are_one_timeline():
    first = Timeline("a", "example.com", ("billing",), "alice", turns=(c(0), a(100)))
    second = Timeline("b", "example.org", ("refund",), "bob", turns=(c(200), a(450, "bob")),
                      status_changes=(s(500, "closed", "bob"),))
    m = conversation_metrics(merge_timelines(first, second))
    assert (m.conv_id, m.customer_domain, m.tags, m.assignee) == ("a", "example.com", ("billing", "refund"), "alice")
    assert m.frt == 100
    assert [(r.waited_from, r.wait) for r in m.replies] == [(0, 100), (200, 250)]
    assert (m.closed_at, m.resolution, m.replies_to_resolve, m.fcr) == (500, 500, 2, False)


def test_mail_only_gives_what_mail_can_tell_and_marks_it():
    tl = Timeline("m", turns=(c(0), a(100), c(300), a(360)), status_changes=(s(400, "closed"),), has_history=False)
    m = conversation_metrics(tl, CLOCK)
    assert (m.source, m.frt, len(m.replies), m.replies[1].wait) == ("mail", 100, 2, 60)
    assert (m.closed_at, m.resolution, m.replies_to_resolve, m.reopens, m.fcr) == (None, None, None, None, None)
    r = report([m], 0, DAY).headline
    assert (r.conversations, r.mail_only_conversations, r.closed, r.fcr_eligible) == (1, 1, 0, 0)


def test_rows_survive_a_json_round_trip():
    m = conversation_metrics(paused_timeline(), CLOCK)
    again = ConvMetrics.from_dict(json.loads(json.dumps(m.to_dict())))
    assert again == m
    m2 = closed_then(c(2 * H + DAY, snippets=()), later_status=(s(2 * H + DAY, "closed"),))
    assert ConvMetrics.from_dict(json.loads(json.dumps(m2.to_dict()))) == m2


# --- the report over a period ----------------------------------------------------------------------

def team_rows():
    """Three conversations on Mon 2 / Tue 3 March and one before the period."""
    d2, d3 = at(2, 10), at(3, 10)
    return [conversation_metrics(tl, CLOCK) for tl in (
        Timeline("1", "acme.com", ("billing",), "alice",
                 turns=(c(d2), a(d2 + 600, "alice", ["refund"]), c(d2 + H), a(d2 + 2 * H, "bob", ["refund", "hi"])),
                 status_changes=(s(d2 + 3 * H, "closed", "bob"),)),
        Timeline("2", "acme.com", ("billing", "vip"), "bob",
                 turns=(c(d3), a(d3 + 1200, "bob")), status_changes=(s(d3 + H, "closed", "bob"),)),
        Timeline("3", "", (), None, turns=(c(d3 + 2 * H),)),
        Timeline("old", "old.org", (), "alice", turns=(c(at(1, 10)), a(at(2, 11), "alice")),
                 status_changes=(s(at(2, 12), "closed", "alice"), s(at(4, 9), "open", "alice"))),
    )]


def test_report_headline_counts_each_item_by_its_own_time():
    rep = report(team_rows(), at(2), at(4), zone="UTC", business_hours=True)
    h = rep.headline
    assert (h.conversations, h.unanswered, h.customer_messages, h.agent_replies) == (3, 1, 4, 4)
    assert (h.first_response.calendar.count, h.first_response.calendar.median) == (2, 900)
    assert h.first_response.business.median == 900
    assert (h.next_response.calendar.count, h.next_response.calendar.mean) == (1, H)
    # closed in the period: "1" (3h) and "2" (1h); "old" was closed on the 2nd but reopened on the
    # 4th and is open now, so it is not a resolved conversation of any period
    assert h.closed == 2
    res = h.resolution.calendar
    assert (res.median, res.p90, res.mean) == (2 * H, 3 * H, 2 * H)
    assert (h.resolution.business.median, h.resolution_net.business.p90) == (2 * H, 3 * H)
    assert (h.replies_to_resolve.median, h.fcr_eligible, h.fcr_resolved, h.fcr_rate) == (1.5, 2, 1, 0.5)
    assert (h.reopens, h.reopened_conversations) == (0, 0)  # "old" reopened on the 4th, after the period


def test_unanswered_is_open_and_never_answered_and_a_close_without_a_reply_is_its_own_figure():
    """The tryout's "Unanswered 43" held 21 conversations closed without a reply: a lead reads
    it as customers still waiting (Help Scout / Zendesk: open, no reply). Those closes are
    `closed_without_reply`, and Replies to resolve (FCR likewise) is over closes an agent
    answered: a zero-reply close would pull its median to 0."""
    d2 = at(2, 10)
    rows = [conversation_metrics(tl, CLOCK) for tl in (
        Timeline("waiting", turns=(c(d2),)),
        Timeline("closed-silent", turns=(c(d2 + 60),), status_changes=(s(d2 + H, "closed"),)),
        Timeline("closed-then-open", turns=(c(d2 + 120),),
                 status_changes=(s(d2 + H, "closed"), s(d2 + 2 * H, "open"))),
        Timeline("answered", turns=(c(d2 + 180), a(d2 + 600)), status_changes=(s(d2 + H, "closed"),)),
        Timeline("two-replies", turns=(c(d2 + 240), a(d2 + 700), c(d2 + 800), a(d2 + 900)),
                 status_changes=(s(d2 + H, "closed"),)),
        Timeline("mail-only", turns=(c(d2 + 300),), has_history=False),
    )]
    for rep in (report(rows, at(2), at(4)), report(rows, at(2), at(4), by=("agent",))):
        h = rep.headline
        assert (h.conversations, h.unanswered, h.closed, h.closed_without_reply) == (6, 3, 3, 1)
        assert (h.replies_to_resolve.count, h.replies_to_resolve.median) == (2, 1.5)
        assert (h.fcr_eligible, h.fcr_resolved) == (2, 1)
        assert rep.to_json()["headline"]["closed_without_reply"] == 1


def test_period_bounds_since_inclusive_until_exclusive():
    rows = team_rows()
    d3 = at(3, 10)
    assert report(rows, d3, d3 + 1).headline.conversations == 1
    assert report(rows, d3 - 1, d3).headline.conversations == 0
    later = report(rows, at(4), at(5)).headline
    assert (later.conversations, later.reopens, later.reopened_conversations, later.closed) == (0, 1, 1, 0)


def test_breakdown_by_agent_uses_the_replier_and_the_closer():
    rep = report(team_rows(), at(2), at(4), by=("agent",))
    g = {x.key: x for x in rep.breakdowns["agent"]}
    assert list(g) == ["alice", "bob", None]
    assert (g["alice"].first_response.calendar.count, g["alice"].agent_replies, g["alice"].closed) == (1, 2, 0)
    assert (g["bob"].first_response.calendar.median, g["bob"].next_response.calendar.median) == (1200, H)
    assert (g["bob"].closed, g["bob"].fcr_resolved, g["bob"].fcr_eligible) == (2, 1, 2)
    assert (g["alice"].conversations, g["bob"].conversations, g[None].conversations) == (1, 1, 1)


def test_breakdown_by_tag_domain_and_snippet():
    rep = report(team_rows(), at(2), at(4), by=("tag", "domain", "snippet"))
    tags = {x.key: x for x in rep.breakdowns["tag"]}
    assert {k: v.conversations for k, v in tags.items()} == {"billing": 2, "vip": 1, None: 1}
    assert (tags[None].agent_replies, tags["billing"].closed) == (1, 2)  # "old"'s reply: no tags
    domains = {x.key: x.conversations for x in rep.breakdowns["domain"]}
    assert domains == {"acme.com": 2, None: 1, "old.org": 0}
    snip = {x.key: x for x in rep.breakdowns["snippet"]}
    assert snip["refund"].agent_replies == 2 and snip["hi"].agent_replies == 1
    assert snip["refund"].first_response.calendar.median == 600
    assert snip["hi"].next_response.calendar.median == H
    assert snip["refund"].closed == 1 and snip[None].closed == 1


def test_breakdown_by_day_and_iso_week_in_the_desk_zone():
    rows = team_rows()
    rep = report(rows, at(1), at(9), zone="America/New_York", by=("day", "week"))
    days = {x.key: x.conversations for x in rep.breakdowns["day"]}
    assert days["2026-03-01"] == 1 and days["2026-03-02"] == 1 and days["2026-03-03"] == 2
    assert [x.key for x in rep.breakdowns["day"]] == sorted(days)
    weeks = {x.key: x for x in rep.breakdowns["week"]}
    assert set(weeks) == {"2026-W09", "2026-W10"}  # Sunday the 1st closes ISO week 9
    assert weeks["2026-W09"].conversations == 1 and weeks["2026-W10"].reopens == 1


def test_unknown_breakdown_is_refused():
    with pytest.raises(ValueError, match="breakdown is one of"):
        report([], 0, 1, by=("colour",))


GROUP_KEYS = {"key", "conversations", "mail_only_conversations", "unanswered", "customer_messages",
              "agent_replies", "first_response", "next_response", "closed", "closed_without_reply", "resolution",
              "resolution_net",
              "replies_to_resolve", "fcr", "reopens", "reopened_conversations"}


def test_json_keys_are_the_documented_ones():
    data = json.loads(json.dumps(report(team_rows(), at(2), at(4), by=("agent", "week")).to_json()))
    assert set(data) == {"since", "until", "zone", "business_hours", "headline", "breakdowns", "csat"}
    assert data["csat"]["count"] == 0 and data["csat"]["breakdowns"] == {}  # no answers given to report()
    assert set(data["headline"]) == GROUP_KEYS
    assert set(data["headline"]["first_response"]) == {"calendar", "business"}
    assert data["headline"]["first_response"]["business"] is None  # business_hours not asked for
    assert set(data["headline"]["resolution"]["calendar"]) == {"count", "median", "p90", "mean"}
    assert set(data["headline"]["fcr"]) == {"eligible", "resolved", "rate"}
    assert set(data["breakdowns"]) == {"agent", "week"}
    assert all(set(g) == GROUP_KEYS for g in data["breakdowns"]["agent"])
    assert data["since"] == "2026-03-02T00:00:00+00:00"


def test_csv_rows_read_back_with_the_csv_module():
    rep = report(team_rows(), at(2), at(4), by=("agent",), business_hours=True)
    for by in (None, "agent"):
        buf = io.StringIO()
        csv.writer(buf).writerows(rep.csv_rows(by))
        read = list(csv.DictReader(io.StringIO(buf.getvalue())))
        assert len(read) == (1 if by is None else 3)
        assert "first_response_calendar_median" in read[0] and "fcr_rate" in read[0]
        if by is None:
            head = read[0]
    assert (head["key"], head["conversations"], head["first_response_business_median"]) == ("all", "3", "900.0")
    buf = io.StringIO()
    csv.writer(buf).writerows(export_rows(team_rows(), "UTC"))
    conv = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert list(conv[0]) == list(EXPORT_HEADER)
    first = conv[0]
    assert (first["conv_id"], first["first_response"], first["tags"]) == ("1", "600.0", "billing")
    assert first["fcr"] == "False"
    assert conv[2]["closed_at"] == "" and conv[2]["unanswered_since"] == "2026-03-03T12:00:00+00:00"


# --- load: heatmap over DST, staffing -----------------------------------------------------------

def local_ts(y, mo, d, h=0):
    return dt.datetime(y, mo, d, h, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()


def test_heatmap_in_the_spring_forward_week_in_berlin():
    msgs = (at(29, 0, 30), at(29, 1, 30), at(28, 12), at(28, 12, 5))  # 01:30 CET, 03:30 CEST, Sat 13:00 x2
    row = conversation_metrics(Timeline("h", turns=tuple(c(t) for t in msgs) + (c(at(30, 12), "auto"),)))
    hm = heatmap([row], local_ts(2026, 3, 23), local_ts(2026, 3, 30), "Europe/Berlin")
    assert hm.messages[6][1] == 1 and hm.messages[6][3] == 1 and hm.messages[5][13] == 2
    assert sum(map(sum, hm.messages)) == 4
    assert hm.hours[6][2] == 0 and hm.hours[6][3] == 1 and hm.hours[0][0] == 1
    assert sum(map(sum, hm.hours)) == 7 * 24 - 1
    assert hm.mean_load(5, 13) == 2.0 and hm.mean_load(6, 2) == 0.0
    assert hm.to_json()["zone"] == "Europe/Berlin"


def test_heatmap_in_the_fall_back_week_in_berlin():
    def oct25(h: int, m: int) -> float:
        return dt.datetime(2026, 10, 25, h, m, tzinfo=UTC).timestamp()

    row = conversation_metrics(Timeline("h", turns=(c(oct25(0, 30)), c(oct25(1, 30)))))  # 02:30 CEST, 02:30 CET
    hm = heatmap([row], local_ts(2026, 10, 19), local_ts(2026, 10, 26), "Europe/Berlin")
    assert hm.messages[6][2] == 2 and hm.hours[6][2] == 2 and hm.mean_load(6, 2) == 1.0
    assert sum(map(sum, hm.hours)) == 7 * 24 + 1


def test_staffing_hint_flags_hours_whose_load_exceeds_the_reply_rate():
    d = at(2)  # one Monday: every hour occurs once
    rows = [conversation_metrics(Timeline("s1", turns=(c(d + 10 * H), c(d + 10 * H + 60), a(d + 10 * H + 120),
                                                       a(d + 10 * H + 180), a(d + 10 * H + 240)))),
            conversation_metrics(Timeline("s2", turns=(c(d + 10 * H + 300), c(d + 11 * H), a(d + 14 * H))))]
    st = staffing(rows, d, d + DAY, "UTC")
    assert (st.replies, st.reply_hours, st.reply_rate) == (4, 2, 2.0)
    assert [(x.weekday, x.hour, x.messages, x.excess) for x in st.over_capacity] == [(0, 10, 3, 1.0)]
    assert [(x.weekday, x.hour, x.mean_load) for x in st.busiest] == [(0, 10, 3.0), (0, 11, 1.0)]
    assert set(st.to_json()) == {"replies", "reply_hours", "reply_rate", "busiest", "over_capacity"}
    assert set(st.to_json()["busiest"][0]) == {"weekday", "hour", "messages", "hours", "mean_load", "excess"}


def test_a_row_knows_its_time_span_and_periods_outside_it_see_nothing():
    m = closed_then(c(2 * H + 3 * DAY), later_status=(s(2 * H + 3 * DAY + 60, "closed", "bob"),))
    assert (m.first_at, m.last_at) == (0, 2 * H + 3 * DAY + 60)
    after = report([m], m.last_at + 1, m.last_at + DAY).headline
    assert (after.conversations, after.customer_messages, after.closed, after.reopens) == (0, 0, 0, 0)
    reopen_only = report([m], 2 * H + 3 * DAY, 2 * H + 3 * DAY + 1).headline
    assert (reopen_only.reopens, reopen_only.customer_messages, reopen_only.closed) == (1, 1, 0)
    last_second = report([m], m.last_at, m.last_at + 1).headline
    assert (last_second.closed, last_second.fcr_eligible, last_second.fcr_resolved) == (1, 1, 0)
    assert conversation_metrics(Timeline("empty")).first_at is None
    assert report([conversation_metrics(Timeline("empty"))], 0, DAY).headline.conversations == 0


def test_the_documented_json_table_names_every_group_key():
    import tui_desk.desk.metrics as package
    table = [line for line in package.__doc__.splitlines() if line.startswith("| GROUP")]
    documented = {k for line in table for k in re.findall(r"`([a-z_]+)`", line.split("|")[1])}
    assert documented == GROUP_KEYS
    with pytest.raises(ValueError, match="without the 'tag' breakdown"):
        report([], 0, 1).csv_rows("tag")


def test_breakdown_by_agent_is_one_group_per_agent_whatever_the_case_of_the_name():
    """Stores from before assignees kept their case hold 'bob okafor' beside 'Bob Okafor': one
    agent, shown with the spelling that has capitals (or the one the team's config gives)."""
    d2 = at(2, 10)
    rows = [conversation_metrics(tl, CLOCK) for tl in (
        Timeline("1", "", (), "Bob Okafor", turns=(c(d2), a(d2 + 600, "Bob Okafor"))),
        Timeline("2", "", (), "bob okafor", turns=(c(d2 + H), a(d2 + H + 600, "bob okafor"))),
        Timeline("3", "", (), "chen wei", turns=(c(d2 + 2 * H), a(d2 + 2 * H + 60, "chen wei"))),
    )]
    groups = report(rows, at(2), at(4), by=("agent",)).breakdowns["agent"]
    assert [(g.key, g.agent_replies) for g in groups] == [("Bob Okafor", 2), ("chen wei", 1)]
    groups = report(rows, at(2), at(4), by=("agent",), agents=("Chen Wei",)).breakdowns["agent"]
    assert [(g.key, g.agent_replies, g.first_response.calendar.count) for g in groups] == [
        ("Bob Okafor", 2, 2), ("Chen Wei", 1, 1)]
