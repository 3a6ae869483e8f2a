"""SLA in the queue (issue 16): the order by due time, the `sla:` search terms and the Breaching
view, and the watch behind the app's notices, on business hours and a clock the tests move."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from zoneinfo import ZoneInfo

from tests.mailfactory import BASE, make_mail
from tui_desk.config import Config, PriorityConfig, SlaConfig
from tui_desk.desk.business_time import BusinessClock
from tui_desk.desk.metrics import Timeline, Turn
from tui_desk.desk.sla import Sla, SlaTarget, Targets, conversation_sla, sla_matches, sla_order
from tui_desk.desk.sla_watch import SlaWatch, alert_text, short_subject, sla_news
from tui_desk.store.search import SearchError, parse_query, search_ids

UTC = dt.timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
H = 3600
M = 60
FIRST_2H = Targets(first_response=120)
# December 2026: the 7th is a Monday; the 25th (Friday) is a holiday
CLOCK = BusinessClock(((dt.time(9), dt.time(12)), (dt.time(13), dt.time(17))), zone="Europe/Berlin",
                      holidays=(dt.date(2026, 12, 25),))


def t(day: int, hour: int = 0, minute: int = 0) -> float:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=BERLIN).timestamp()


async def add(desk, raws: list[bytes]) -> None:
    """Into the store, agent mail known by the desk's agent addresses."""
    from tui_desk.mail.parse import parse_message
    from tui_desk.store import ingest
    items = [ingest.NewMessage(raw=r, parsed=(p := parse_message(r)), is_agent=desk.config.is_agent_address(p.sender.key))
             for r in raws]
    result = await ingest.ingest(desk.store, items)
    await desk.refresh(result.conversations)


def sla(*targets: SlaTarget) -> Sla:
    return Sla("", targets)


def running(kind: str, state: str, due: float, left: float) -> SlaTarget:
    return SlaTarget(kind, 60, state, due, left)


# --- the order and the terms: pure ------------------------------------------------------------

def test_sla_order_breached_most_over_first_then_by_due_then_the_rest_as_given():
    now = 10_000.0
    slas = {
        1: sla(SlaTarget("first_response", 60, "met", now - 50, 10)),  # done: no running target
        2: sla(running("first_response", "ok", now + 3 * H, 3 * H)),
        3: sla(running("first_response", "breached", now - 10 * M, -10 * M)),
        4: sla(running("resolution", "warning", now + 20 * M, 20 * M)),
        5: sla(running("first_response", "breached", now - 2 * H, -2 * H)),
        # two running: the one due first counts (as the row's "due" marker says)
        6: sla(running("first_response", "ok", now + 5 * H, 5 * H), running("next_response", "ok", now + H, H)),
        7: sla(SlaTarget("resolution", 60, "paused", None, 30 * M)),
    }
    ids = [7, 1, 2, 3, 4, 5, 6, 8]  # priority order; 8 has no SLA at all
    assert sla_order(ids, slas) == [5, 3, 4, 6, 2, 7, 1, 8]
    assert sla_order(ids, {}) == ids  # nothing to order by: as given
    assert sla_order([], slas) == []


def test_sla_terms_match_running_targets_only():
    breached = sla(running("first_response", "breached", 0, -60), SlaTarget("resolution", 60, "ok", 99, 99))
    warning = sla(running("next_response", "warning", 0, 60))
    calm = sla(running("first_response", "ok", 0, 3 * H), SlaTarget("resolution", 60, "missed", 0, -5))
    assert [sla_matches(s, ["soon"]) for s in (breached, warning, calm, None)] == [True, True, False, False]
    assert [sla_matches(s, ["breached"]) for s in (breached, warning, calm)] == [True, False, False]
    assert [sla_matches(s, ["warning"]) for s in (breached, warning, calm)] == [False, True, False]
    assert sla_matches(breached, ["soon", "breached"]) and not sla_matches(breached, ["soon", "warning"])


def test_the_grammar_reads_sla_terms_and_leaves_them_to_the_desk():
    assert parse_query("sla:Soon tag:x").sla == ["soon"]
    with pytest.raises(SearchError, match="sla: is one of soon, warning, breached, not 'late'"):
        parse_query("sla:late")
    # rules and [[sla.policy]] have events of their own (on = "sla-warning"); the term would loop
    with pytest.raises(SearchError, match="'sla:' is for searches and views"):
        parse_query("sla:soon", rule_keys=True)


async def test_search_ids_refuses_the_term_it_cannot_answer(tmp_path: Path):
    from tui_desk.store import Store
    store = await Store.open(tmp_path / "s.db")
    try:
        with pytest.raises(SearchError, match="'sla:' is not available here"):
            await search_ids(store, "sla:soon", 0)
    finally:
        await store.close()


# --- the watch: pure, business hours, the clock given ------------------------------------------

def test_the_watch_says_warning_then_breach_once_each_across_a_holiday_weekend():
    tl = Timeline("1", turns=(Turn(t(24, 16), "customer"),))  # Thursday before Christmas, 16:00; 2 h target
    watch = SlaWatch()
    subjects = {1: "Printer on fire"}

    def look(now: float) -> list[str]:
        slas = {1: conversation_sla(tl, FIRST_2H, now=now, status="open", snoozed=False, clock=CLOCK)}
        return [a.text for a in watch.look(slas, subjects, now, BERLIN)]

    assert look(t(24, 16, 30)) == []  # the first look takes note
    assert look(t(25, 11)) == []  # Christmas Day: nothing moves
    assert look(t(28, 9, 20)) == []  # Monday: 40 min left, not yet within warn_minutes (30)
    assert look(t(28, 9, 35)) == ["SLA: first response for 'Printer on fire' due in 25m"]
    assert look(t(28, 9, 40)) == []  # said once
    assert look(t(28, 10, 5)) == ["SLA: first response for 'Printer on fire' breached 5m ago"]
    assert look(t(28, 11)) == []


def test_what_was_late_before_is_not_news_and_a_jump_to_breached_is_said_once():
    now = 50_000.0
    late = {1: sla(running("first_response", "breached", now - H, -H))}
    seen, alerts = sla_news(None, late, {1: "old"}, now)
    assert alerts == [] and seen == {(1, "first_response"): "breached"}
    # a conversation first seen already late (a first sync of old mail): noted, not said
    both = {**late, 2: sla(running("resolution", "warning", now + 10 * M, 10 * M))}
    seen, alerts = sla_news(seen, both, {1: "old", 2: "new"}, now)
    assert alerts == [] and seen[(2, "resolution")] == "warning"
    # ok straight to breached between two looks: one notice; a paused target resuming late is not news
    calm = {3: sla(running("first_response", "ok", now + H, H), SlaTarget("resolution", 60, "paused", None, -60))}
    seen, _ = sla_news(seen, calm, {3: "x"}, now)
    over = {3: sla(running("first_response", "breached", now - 2 * M, -2 * M),
                   running("resolution", "breached", now - M, -M))}
    seen, alerts = sla_news(seen, over, {3: "x"}, now)
    assert [(a.conv_id, a.kind, a.state, a.text) for a in alerts] == [
        (3, "first_response", "breached", "SLA: first response for 'x' breached 2m ago")]
    # answered (met) and later a new wait: its warning is news again
    seen, alerts = sla_news(seen, {3: sla(SlaTarget("first_response", 60, "met", now, 5))}, {3: "x"}, now)
    assert alerts == [] and seen == {}
    seen, _ = sla_news(seen, {3: sla(running("next_response", "ok", now + H, H))}, {3: "x"}, now)
    seen, alerts = sla_news(seen, {3: sla(running("next_response", "warning", now + 5 * M, 5 * M))}, {3: "x"}, now)
    assert [a.text for a in alerts] == ["SLA: next response for 'x' due in 5m"]


def test_notice_words_subjects_through_the_sanitizer_and_far_due_times():
    assert short_subject("\x1b[31mRed\nalert") == "Red alert"
    assert short_subject("  ") == "(no subject)"
    long = short_subject("A" * 80)
    assert len(long) == 40 and long.endswith("…")
    now = dt.datetime(2026, 12, 4, 17, 50, tzinfo=UTC).timestamp()  # Friday evening
    monday = dt.datetime(2026, 12, 7, 9, 15, tzinfo=UTC).timestamp()
    assert alert_text("resolution", "warning", "s", monday, now, UTC) == "SLA: resolution for 's' due Mon 9:15"
    assert alert_text("first_response", "breached", "s", now - 20, now, UTC) == "SLA: first response for 's' breached"


# --- the desk: a real store, the clock injected ------------------------------------------------

BUSINESS = PriorityConfig(business_hours=((dt.time(9), dt.time(12)), (dt.time(13), dt.time(17))), timezone="UTC")


async def sla_desk(tmp_path: Path, now: dict[str, float]):
    from tui_desk.desk.service import Desk
    cfg = Config(agent_addresses=("*@helpdesk.test",), priority=BUSINESS,
                 sla=SlaConfig(first_response_minutes=120))
    desk = await Desk.open(tmp_path / "s.db", cfg, clock=lambda: now["t"])
    # BASE is Monday 09:00 UTC; first responses due 2 business hours after the customer wrote
    await add(desk, [
        make_mail("early@t", sender="ann@c.test", subject="early", minutes=0),  # due 11:00
        make_mail("second@t", sender="bo@c.test", subject="\x1b[31msecond", minutes=10),  # due 11:10
        make_mail("later@t", sender="cy@c.test", subject="later", minutes=60),  # due 12:00
        make_mail("newer@t", sender="di@c.test", subject="newer", minutes=90),  # due 13:30 (lunch)
        make_mail("answered@t", sender="ed@c.test", subject="answered", minutes=0),
        make_mail("re@t", sender="agent@helpdesk.test", subject="Re: answered", refs=["answered@t"], minutes=10),
        make_mail("pending@t", sender="fi@c.test", subject="pending", minutes=30),
    ])
    ids = {r.subject: r.id for r in await desk.queue_rows(await desk.queue_ids("status:open"))}
    await desk.set_status([ids["pending"]], "pending")
    return desk, ids  # subjects as rows show them: "second" without its escape sequence


@pytest.mark.parametrize("part", [500, 2])  # 2: the desk works out a long list part by part
async def test_the_desk_orders_by_sla_and_answers_sla_terms_and_the_breaching_view(tmp_path: Path, monkeypatch,
                                                                                   part: int):
    from tui_desk.desk import sla as sla_module
    monkeypatch.setattr(sla_module, "SLA_PART", part)
    t0 = BASE.timestamp()
    now = {"t": t0 + 100 * M}  # 10:40
    desk, ids = await sla_desk(tmp_path, now)
    try:
        early, second, later, newer = ids["early"], ids["second"], ids["later"], ids["newer"]
        queue = await desk.queue_ids()
        assert {early, second, later, newer} <= set(queue) and ids["pending"] not in queue
        rest = [i for i in queue if i not in (early, second, later, newer)]
        # 10:40: early 20 min left and second 30 (warning), later and newer ok
        assert await desk.sla_order(queue) == [early, second, later, newer, *rest]
        assert await desk.queue_ids("sla:soon") == [second, early]  # a search: newest first
        assert await desk.view_ids("sla:warning") == [i for i in queue if i in (early, second)]
        assert await desk.queue_ids("sla:breached") == []
        assert ("Breaching", "sla:soon") in desk.views()
        now["t"] = t0 + 160 * M  # 11:40: early 40 min over, second 30, later 20 min left
        assert await desk.sla_order(queue) == [early, second, later, newer, *rest]
        assert await desk.view_ids("sla:breached") == [i for i in queue if i in (early, second)]
        assert set(await desk.view_ids("sla:soon")) == {early, second, later}
        assert await desk.queue_ids("sla:soon subject:later") == [later]  # ANDed with the store's terms
        assert ids["pending"] not in await desk.view_ids("sla:soon")  # pending: nobody waits on us
        # without [sla] targets: no Breaching view, nothing matches, the order stays
        desk.config = dataclasses.replace(desk.config, sla=SlaConfig())
        assert "Breaching" not in [name for name, _ in desk.views()]
        assert await desk.queue_ids("sla:soon") == [] and await desk.sla_order(queue) == queue
        assert await desk.sla_news() == []
    finally:
        await desk.close()


async def test_the_desk_says_each_change_once_as_the_clock_moves(tmp_path: Path, monkeypatch):
    from tui_desk.desk import sla as sla_module
    monkeypatch.setattr(sla_module, "SLA_PART", 3)  # the open conversations in parts
    t0 = BASE.timestamp()
    now = {"t": t0 + 60 * M}  # 10:00
    desk, ids = await sla_desk(tmp_path, now)
    try:
        assert await desk.sla_news() == []  # the first look takes note
        now["t"] = t0 + 95 * M  # 10:35: early has 25 min left
        [alert] = await desk.sla_news()
        assert (alert.conv_id, alert.state, alert.text) == (ids["early"], "warning",
                                                            "SLA: first response for 'early' due in 25m")
        assert await desk.sla_news() == []  # once
        now["t"] = t0 + 125 * M  # 11:05: early breached, second within its last 5 minutes
        alerts = await desk.sla_news()
        assert sorted(a.text for a in alerts) == ["SLA: first response for 'early' breached 5m ago",
                                                  "SLA: first response for 'second' due in 5m"]
        assert all("\x1b" not in a.text for a in alerts)  # the subject went through the sanitizer
        now["t"] = t0 + 135 * M  # 11:15
        assert [a.text for a in await desk.sla_news()] == ["SLA: first response for 'second' breached 5m ago"]
        now["t"] = t0 + 250 * M  # 13:10: later breached 70 min ago, but an agent answered it first
        await add(desk, [make_mail("re2@t", sender="agent@helpdesk.test", subject="Re: later", refs=["later@t"],
                                   minutes=100)])
        assert [a.text for a in await desk.sla_news()] == ["SLA: first response for 'newer' due in 20m"]
    finally:
        await desk.close()
