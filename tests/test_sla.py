"""SLA due times and states (issue 16) on crafted timelines and on a real store with an injected
clock: two business intervals a day across a weekend and a holiday, warning before breach, met
and missed, the next response, resolution paused by pending, snooze and closed time, policies
chosen by search query (first match wins), the [sla] config and its errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from zoneinfo import ZoneInfo

from tests.mailfactory import BASE, make_mail
from tui_desk.config import Config, ConfigError, PriorityConfig, SlaConfig, SlaPolicy, load_config
from tui_desk.desk.business_time import BusinessClock
from tui_desk.desk.metrics import SnoozeSpan, StatusChange, Timeline, Turn
from tui_desk.desk.sla import NO_SLA, Targets, conversation_sla, paused_spans, targets_of

BERLIN = ZoneInfo("Europe/Berlin")
H = 3600
M = 60
# December 2026: the 7th is a Monday; the 25th (Friday) is a holiday
CLOCK = BusinessClock(((dt.time(9), dt.time(12)), (dt.time(13), dt.time(17))), zone="Europe/Berlin",
                      holidays=(dt.date(2026, 12, 25),))


def t(day: int, hour: int = 0, minute: int = 0) -> float:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=BERLIN).timestamp()


def customer(at: float) -> Turn:
    return Turn(at, "customer")


def agent(at: float) -> Turn:
    return Turn(at, "agent", "alice")


def sla_at(tl: Timeline, now: float, targets: Targets, status: str = "open", snoozed: bool = False):
    return conversation_sla(tl, targets, now=now, status=status, snoozed=snoozed, clock=CLOCK)


FIRST_2H = Targets(first_response=120)


def test_first_response_due_across_a_holiday_and_a_weekend_then_warning_then_breach():
    tl = Timeline("1", turns=(customer(t(24, 16)),))  # Thursday before Christmas, 16:00
    ok = sla_at(tl, t(28, 9, 20), FIRST_2H).target("first_response")
    # 16:00-17:00 Thursday, Friday a holiday, the weekend, 9:00-10:00 Monday
    assert (ok.state, ok.due, ok.left) == ("ok", t(28, 10), 40 * M)
    warning = sla_at(tl, t(28, 9, 35), FIRST_2H).target("first_response")
    assert (warning.state, warning.left) == ("warning", 25 * M)  # within warn_minutes (30)
    breached = sla_at(tl, t(28, 10, 5), FIRST_2H).target("first_response")
    assert (breached.state, breached.due, breached.left) == ("breached", t(28, 10), -5 * M)
    # on Christmas Day nothing moves
    assert sla_at(tl, t(25, 11), FIRST_2H).target("first_response").left == 60 * M
    sla = sla_at(tl, t(28, 9, 35), FIRST_2H)
    assert sla.most_urgent() == warning
    assert sla.to_json()["first_response"] == {"minutes": 120, "state": "warning", "due": "2026-12-28T09:00:00+00:00",
                                               "left_seconds": 1500}
    assert sla.to_json()["next_response"] == {"minutes": None, "state": "none", "due": None, "left_seconds": None}


def test_two_intervals_a_day_skip_lunch():
    tl = Timeline("1", turns=(customer(t(8, 11)),))
    target = sla_at(tl, t(8, 11, 30), FIRST_2H).target("first_response")
    assert target.due == t(8, 14)  # 11-12 and 13-14


def test_answered_in_time_is_met_late_is_missed():
    met = sla_at(Timeline("1", turns=(customer(t(24, 16)), agent(t(28, 9, 50)))), t(30, 9), FIRST_2H)
    assert (met.target("first_response").state, met.target("first_response").left) == ("met", 10 * M)
    late = sla_at(Timeline("1", turns=(customer(t(24, 16)), agent(t(28, 10, 30)))), t(30, 9), FIRST_2H)
    assert (late.target("first_response").state, late.target("first_response").left) == ("missed", -30 * M)
    assert met.most_urgent() is None  # nothing runs


def test_next_response_runs_from_the_first_customer_mail_after_a_reply():
    targets = Targets(first_response=120, next_response=60)
    tl = Timeline("1", turns=(customer(t(8, 9)), agent(t(8, 10)), customer(t(8, 11, 30)), customer(t(8, 14))))
    nxt = sla_at(tl, t(8, 14, 10), targets).target("next_response")
    assert (nxt.start, nxt.due, nxt.state) == (t(8, 11, 30), t(8, 13, 30), "breached")  # lunch skipped
    answered = Timeline("1", turns=(*tl.turns, agent(t(8, 14, 20))))
    assert sla_at(answered, t(8, 15), targets).target("next_response").state == "none"  # no wait open now
    # pending: nobody waits on us, a response target stands still
    assert sla_at(tl, t(8, 14, 10), targets, status="pending").target("next_response").state == "paused"


def test_resolution_pauses_while_pending_snoozed_or_closed():
    targets = Targets(resolution=8 * 60)
    tl = Timeline("1", turns=(customer(t(7, 9)), agent(t(7, 10)), customer(t(7, 14))),
                  status_changes=(StatusChange(t(7, 10), "pending"),),
                  snoozes=(SnoozeSpan(t(7, 15), t(7, 16)),))
    assert paused_spans(tl, t(8, 12)) == [(t(7, 10), t(7, 14)), (t(7, 15), t(7, 16))]
    # running: Mon 9-10, 14-15, 16-17 and Tue 9-12: 6h of 8h -> 2h left, due Tue 15:00 (lunch)
    res = sla_at(tl, t(8, 12), targets).target("resolution")
    assert (res.state, res.left, res.due) == ("ok", 2 * H, t(8, 15))
    # pending now: no due time, the time left stays where it was
    pending = Timeline("1", turns=tl.turns, status_changes=(*tl.status_changes, StatusChange(t(8, 12), "pending")),
                       snoozes=tl.snoozes)
    later = sla_at(pending, t(9, 16), targets, status="pending").target("resolution")
    assert (later.state, later.due, later.left) == ("paused", None, 2 * H)
    # snoozed now (still snoozed: no end yet)
    snoozed = Timeline("1", turns=tl.turns, status_changes=tl.status_changes,
                       snoozes=(*tl.snoozes, SnoozeSpan(t(8, 12), None)))
    assert sla_at(snoozed, t(9, 16), targets, snoozed=True).target("resolution").left == 2 * H
    # closed Tue 14:00: 7h used -> met; a reopen by the customer on Wed 9:00 goes on from there
    closed = Timeline("1", turns=tl.turns, status_changes=(*tl.status_changes, StatusChange(t(8, 14), "closed")),
                      snoozes=tl.snoozes)
    done = sla_at(closed, t(9, 8), targets, status="closed").target("resolution")
    assert (done.state, done.left) == ("met", H)
    reopened = Timeline("1", turns=(*tl.turns, customer(t(9, 11))), status_changes=closed.status_changes,
                        snoozes=tl.snoozes)
    again = sla_at(reopened, t(9, 11, 30), targets).target("resolution")
    assert (again.state, again.left, again.due) == ("warning", 30 * M, t(9, 12))  # the closed night did not count
    over = sla_at(reopened, t(9, 13, 15), targets).target("resolution")
    assert (over.state, over.left) == ("breached", -15 * M)


def test_a_breach_has_the_moment_it_happened_as_due():
    targets = Targets(resolution=60)
    tl = Timeline("1", turns=(customer(t(11, 16)),), status_changes=(StatusChange(t(11, 16, 30), "pending"),
                                                                      StatusChange(t(14, 9), "open")))
    res = sla_at(tl, t(14, 11), targets).target("resolution")
    # Friday 16:00-16:30, pending over the weekend, Monday 9:00-9:30: due Monday 9:30
    assert (res.state, res.due, res.left) == ("breached", t(14, 9, 30), -90 * M)


def test_policies_override_targets_and_warning_margin():
    cfg = SlaConfig(first_response_minutes=120, resolution_minutes=1440, warn_minutes=30,
                    policies=(SlaPolicy("tag:vip", "vip", first_response_minutes=30, warn_minutes=10),))
    assert targets_of(cfg, None) == Targets(120, None, 1440, 30, "")
    assert targets_of(cfg, cfg.policies[0]) == Targets(30, None, 1440, 10, "vip")
    assert targets_of(cfg, SlaPolicy("domain:x.test")).policy == "domain:x.test"  # no name: the query
    assert cfg.configured() and not SlaConfig().configured()
    assert SlaConfig(policies=(SlaPolicy("tag:vip", resolution_minutes=60),)).configured()


def test_sla_config_is_read_and_checked(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text('[sla]\nfirst_response_minutes = 120\nnext_response_minutes = 240\nwarn_minutes = 15\n'
                    '[[sla.policy]]\nname = "vip"\nif = "vip:yes"\nfirst_response_minutes = 30\n'
                    '[[sla.policy]]\nif = "tag:billing"\nresolution_minutes = 600\n')
    sla = load_config(path).sla
    assert (sla.first_response_minutes, sla.next_response_minutes, sla.resolution_minutes, sla.warn_minutes) == \
        (120, 240, None, 15)
    assert sla.policies == (SlaPolicy("vip:yes", "vip", first_response_minutes=30),
                            SlaPolicy("tag:billing", resolution_minutes=600))
    for bad, says in [("[sla]\nfirst_response_minutes = 0\n", "'sla.first_response_minutes' must be positive"),
                      ("[sla]\nfirst_response = 10\n", "unknown key 'sla.first_response'"),
                      ('[sla]\nresolution_minutes = "1d"\n', "whole number of minutes"),
                      ("[[sla.policy]]\nfirst_response_minutes = 10\n", "'sla.policy[1].if' is missing"),
                      ('[[sla.policy]]\nif = "tag:x"\nwhen = 1\n', "unknown key 'sla.policy[1].when'")]:
        path.write_text(bad)
        with pytest.raises(ConfigError, match=says.replace("[", r"\[").replace("]", r"\]")):
            load_config(path)


# --- a real store: queue rows carry the SLA; the clock is the test's ------------------------------

async def add(desk, raws: list[bytes]) -> None:
    """Into the store, agent mail known by the desk's agent addresses."""
    from tui_desk.mail.parse import parse_message
    from tui_desk.store import ingest
    items = [ingest.NewMessage(raw=r, parsed=(p := parse_message(r)), is_agent=desk.config.is_agent_address(p.sender.key))
             for r in raws]
    result = await ingest.ingest(desk.store, items)
    await desk.refresh(result.conversations)


async def test_queue_rows_and_show_carry_due_times_and_states(tmp_path: Path):
    from tui_desk.desk.service import Desk
    # BASE is Monday 09:00 UTC; the desk works 9-12 and 13-17 UTC
    cfg = Config(agent_addresses=("*@helpdesk.test",), priority=PriorityConfig(
        business_hours=((dt.time(9), dt.time(12)), (dt.time(13), dt.time(17))), timezone="UTC",
        vip=("bigcorp.test",)),
        sla=SlaConfig(first_response_minutes=120, resolution_minutes=8 * 60, policies=(
            SlaPolicy("tag:urgent", "urgent tag", first_response_minutes=20),
            SlaPolicy("vip:yes", "vip", first_response_minutes=60),
        )))
    t0 = BASE.timestamp()
    now = {"t": t0 + 30 * M}
    desk = await Desk.open(tmp_path / "s.db", cfg, clock=lambda: now["t"])
    await add(desk, [make_mail("plain@t", sender="ann@c.test", subject="plain", minutes=0),
                     make_mail("boss@t", sender="boss@bigcorp.test", subject="from a vip", minutes=0),
                     make_mail("tagged@t", sender="tom@bigcorp.test", subject="tagged", minutes=0)])
    ids = {r.subject: r.id for r in await desk.queue_rows(await desk.queue_ids())}
    await desk.tag([ids["tagged"]], ["urgent"])  # first match wins: the tag policy, not vip

    def by_subject(rows):
        return {r.subject: r.sla for r in rows}
    slas = by_subject(await desk.queue_rows(list(ids.values())))
    assert {k: (s.policy, s.target("first_response").minutes, s.target("first_response").state)
            for k, s in slas.items()} == {"plain": ("", 120, "ok"), "from a vip": ("vip", 60, "warning"),
                                          "tagged": ("urgent tag", 20, "breached")}
    assert slas["plain"].target("first_response").due == t0 + 2 * H

    # pending from 9:30 to 13:30 pauses the resolution clock of "plain"
    await desk.set_status([ids["plain"]], "pending")
    now["t"] = t0 + 4.5 * H  # 13:30
    paused = by_subject(await desk.queue_rows([ids["plain"]]))["plain"]
    assert paused.target("resolution").state == "paused" and paused.target("resolution").left == 7.5 * H
    assert paused.target("first_response").state == "paused"  # nobody waits on us while pending
    await desk.set_status([ids["plain"]], "open")
    now["t"] = t0 + 5 * H  # 14:00
    running = by_subject(await desk.queue_rows([ids["plain"]]))["plain"]
    res = running.target("resolution")
    # used: 9:00-9:30 and 13:30-14:00 = 1h of 8h; 7h left: 14-17 Monday, 9-12 and 13-14 Tuesday
    assert (res.state, res.left, res.due) == ("ok", 7 * H, t0 + 29 * H)
    first = running.target("first_response")  # due 11:00; 9-12 and 13-14 make 4h of its 2h
    assert (first.state, first.due, first.left) == ("breached", t0 + 2 * H, -2 * H)

    # an agent's answer meets the vip's first response... late
    await add(desk, [make_mail("re@t", sender="agent1@helpdesk.test", refs=["boss@t"], minutes=5 * 60)])
    vip = by_subject(await desk.queue_rows([ids["from a vip"]]))["from a vip"]
    assert vip.target("first_response").state == "missed"
    view = await desk.conversation(ids["from a vip"])
    assert view is not None and view.sla == vip

    # no [sla]: nothing is computed, and the JSON says so with nulls
    plain = dataclasses.replace(cfg, sla=SlaConfig())
    desk.config = plain
    [row] = await desk.queue_rows([ids["plain"]])
    assert row.sla is None
    assert NO_SLA.to_json() == {"policy": None, **{k: {"minutes": None, "state": "none", "due": None,
                                                       "left_seconds": None}
                                                   for k in ("first_response", "next_response", "resolution")}}
    await desk.close()


async def test_a_policy_query_the_grammar_refuses_is_a_config_error(tmp_path: Path):
    from tui_desk.desk.service import Desk
    cfg = Config(agent_addresses=("*@helpdesk.test",),
                 sla=SlaConfig(first_response_minutes=60, policies=(SlaPolicy("colour:red"),)))
    desk = await Desk.open(tmp_path / "e.db", cfg, clock=lambda: BASE.timestamp())
    await add(desk, [make_mail("x@t", sender="ann@c.test")])
    with pytest.raises(ConfigError, match=r"sla.policy\[1\].if': unknown search field 'colour:'"):
        await desk.queue_rows(await desk.queue_ids())
    desk.config = dataclasses.replace(cfg, sla=SlaConfig(policies=(SlaPolicy("header:X-Foo", first_response_minutes=5),)))
    with pytest.raises(ConfigError, match="about one mail"):
        await desk.queue_rows(await desk.queue_ids())
    await desk.close()


def test_queue_markers_say_due_or_breached_against_the_clock_now():
    from tui_desk.desk.markers import state_markers, state_words
    from tui_desk.desk.views import QueueRow
    tl = Timeline("1", turns=(customer(t(24, 16)),))
    sla = sla_at(tl, t(24, 16, 30), Targets(first_response=120, resolution=60 * 24))
    assert sla.next_due() == sla.target("first_response")  # Monday 10:00, before resolution's due

    def row(s):
        return QueueRow(1, "Ann", "ann@c.test", "help", "open", (), 1, dt.datetime.fromtimestamp(t(24, 16), BERLIN),
                        0.0, " ", (), sla=s)

    def at(ts: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(ts, BERLIN)
    assert state_markers(row(sla), at(t(24, 16, 30))) == ("due Mon 10:00",)  # more than 12 hours ahead
    assert state_markers(row(sla), at(t(28, 9, 35))) == ("due 25m",)  # the wall clock since it was computed
    assert state_markers(row(sla), at(t(28, 11, 5))) == ("breached 1h 5m",)
    assert state_markers(row(sla), at(t(28, 9, 35)), roomy=True) == ("first response due 25m",)
    assert state_words(row(sla), at(t(28, 9, 35))) == ("SLA: first response due 25m",)
    assert state_markers(row(None), at(t(28, 9, 35))) == ()
    # first: a row or header too narrow for all is cut from the end, and a breach matters most
    handed = dataclasses.replace(row(sla), assignee="alice", has_draft=True)
    assert state_markers(handed, at(t(28, 11, 5))) == ("breached 1h 5m", "@alice", "✎draft")
    assert state_markers(handed, at(t(28, 11, 5)), roomy=True) == ("first response breached 1h 5m", "@alice", "✎draft")
    assert state_markers(row(NO_SLA), at(t(28, 9, 35))) == ()
