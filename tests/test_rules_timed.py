"""The rule events the desk's clock raises (issue 16: sla-warning, sla-breach, schedule) on the
real Dovecot, with the time moved by an injected clock: a warning then a breach fire each rule
once, three agents' clients fire each occurrence once, a schedule rule closes only what is
quiet, a client that was away fires what is still true when it returns, and the claim on the
server outlives a restart."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from pathlib import Path

import pytest

from tests.accounts import account_for, inbox_flags, live
from tests.clock import Clock
from tests.desk_clients import Agent, open_agent_client, snippet_home
from tests.mailfactory import BASE, make_mail
from tui_desk.config import Config, SlaConfig
from tui_desk.desk.history import conversation_history
from tui_desk.desk.keywords import TIMED
from tui_desk.desk.rules.fire import RulesRunner
from tui_desk.desk.rules.load import checks_for, parse_rules
from tui_desk.desk.service import Desk
from tui_desk.store.queries import conversation_states, thread_message_ids

T0 = BASE.timestamp()  # the customers' mail: Monday 09:00 UTC
M, H, D = 60, 3600, 86400

SLA_RULES = """
[[rule]]
name = "at risk"
on = "sla-warning"
do = ["tag +at-risk"]

[[rule]]
name = "escalate"
on = "sla-breach"
do = ["assign carol", "note breached: escalated to carol"]
"""

SCHEDULE_RULES = """
[[rule]]
name = "close what went quiet"
on = "schedule"
every = "1h"
idle = "3d"
if = "status:pending"
do = ["status closed", "note closed after 3 quiet days"]
"""


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    return snippet_home(tmp_path, monkeypatch, {})


async def open_agent(home: Path, name: str, dovecot, user: str, clock: Clock, rules: str = SLA_RULES,
                     db: str | None = None) -> Agent:
    """An agent's client: its own store (`db`, default the agent's name), the rules, a sync
    that runs them after each pass. SLA: first response in 60 minutes, warning 30 before;
    every hour counts (no business hours)."""
    config = Config(agent=name, agent_addresses=("*@helpdesk.test",), team=("alice", "bob", "carol"),
                    accounts=(account_for(dovecot, user),), sla=SlaConfig(first_response_minutes=60))
    ruleset = parse_rules(rules, home / "rules.toml", checks_for(config.team, None, config.is_agent_address))
    return await open_agent_client(home / f"{db or name}.db", config, dovecot, user, clock,
                                   lambda desk: RulesRunner(desk, ruleset), sends=False)


def timed_keywords(dovecot, user) -> dict[str, set[str]]:
    """Message-ID -> the td:fire: keywords of its copy in INBOX, as the server holds them."""
    return {mid: {f for f in flags if f.startswith(TIMED)} for mid, flags in inbox_flags(dovecot, user).items()}


def claims_and_done(keywords: set[str]) -> tuple[int, int]:
    """(claims, done keywords) among a mail's td:fire: keywords."""
    return sum(1 for k in keywords if k.count(":") == 3), sum(1 for k in keywords if k.count(":") == 2)


async def conv_of(desk: Desk, message_id: str) -> int:
    return next(c for c, ids in (await thread_message_ids(desk.store)).items() if message_id in ids)


async def rule_lines(desk: Desk, message_id: str) -> list[str]:
    return [h.text for h in await conversation_history(desk, await conv_of(desk, message_id)) if h.kind == "rule"]


async def notes_of(desk: Desk, message_id: str) -> list[str]:
    cid = await conv_of(desk, message_id)
    return [r[0].strip() for r in await desk.store.fetchall(
        "SELECT body FROM messages WHERE is_note = 1 AND conv_id = ? ORDER BY id", (cid,))]


async def state_of(desk: Desk, message_id: str):
    cid = await conv_of(desk, message_id)
    return (await conversation_states(desk.store, [cid]))[cid]


async def close(*agents: Agent) -> None:
    for a in agents:
        await a.desk.close()


WARNED = ["rule 'at risk' tagged +at-risk"]
ESCALATED = WARNED + ["rule 'escalate' assigned carol", "rule 'escalate' added a note"]


async def test_a_warning_then_a_breach_fire_each_rule_once(home, dovecot, mail_user):
    dovecot.load_maildir(mail_user, [
        make_mail("wait@t", sender="ann@c.test", subject="Where is my order"),
        make_mail("answered@t", sender="bo@d.test", subject="Question", minutes=1),
        make_mail("re@t", sender="agent1@helpdesk.test", refs=["answered@t"], minutes=10),
        make_mail("closed@t", sender="cy@e.test", subject="Thanks", minutes=2)])
    clock = Clock(T0 + 20 * M)
    alice = await open_agent(home, "alice", dovecot, mail_user, clock)
    await alice.round()
    assert await rule_lines(alice.desk, "wait@t") == []  # 40 minutes left: nothing yet
    # only open conversations with a customer waiting are computed (no resolution target):
    # not the answered one
    assert alice.runner.timed.computed == 2
    await alice.desk.set_status([await conv_of(alice.desk, "closed@t")], "closed")
    clock.now += 10
    await alice.round()  # within CHECK_EVERY: no look at all
    clock.now += 2 * M
    await alice.round()  # closed: not looked at; the other unchanged and not due to warn yet
    assert alice.runner.timed.computed == 2

    clock.now = T0 + 35 * M  # 25 minutes left: warning
    for _ in range(3):
        await alice.round()
        clock.now += 2 * M
    assert await rule_lines(alice.desk, "wait@t") == WARNED
    assert set((await state_of(alice.desk, "wait@t")).tags) == {"at-risk"}

    clock.now = T0 + 61 * M  # over: breached
    for _ in range(3):
        await alice.round()
        clock.now += 5 * M
    assert await rule_lines(alice.desk, "wait@t") == ESCALATED
    assert (await state_of(alice.desk, "wait@t")).assignee == "carol"
    assert await notes_of(alice.desk, "wait@t") == ["breached: escalated to carol"]
    for other in ("answered@t", "closed@t", "re@t"):
        assert await rule_lines(alice.desk, other) == []
    # two occurrences, claimed and done on the mail that started the wait
    keywords = timed_keywords(dovecot, mail_user)
    assert claims_and_done(keywords["wait@t"]) == (0, 2)
    assert all(k.endswith(":alice") for k in keywords["wait@t"] if k.count(":") == 3)
    assert keywords["answered@t"] == keywords["closed@t"] == set()
    assert alice.runner.timed.claimed == 2
    await close(alice)


async def test_the_next_wait_warns_again(home, dovecot, mail_user):
    dovecot.load_maildir(mail_user, [make_mail("w1@t", sender="ann@c.test", subject="Order")])
    clock = Clock(T0 + 40 * M)
    rules = SLA_RULES.replace('do = ["tag +at-risk"]', 'do = ["note at risk"]')
    alice = await open_agent(home, "alice", dovecot, mail_user, clock, rules=rules)
    alice.desk.config = dataclasses.replace(alice.desk.config, sla=SlaConfig(first_response_minutes=60,
                                                                              next_response_minutes=60))
    await alice.round()
    assert await notes_of(alice.desk, "w1@t") == ["at risk"]
    # answered in time, then the customer writes again: a new wait (the next response) warns again
    dovecot.deliver(mail_user, make_mail("r1@t", sender="agent1@helpdesk.test", refs=["w1@t"], minutes=45))
    dovecot.deliver(mail_user, make_mail("w2@t", sender="ann@c.test", refs=["w1@t", "r1@t"], minutes=120))
    clock.now = T0 + 160 * M  # the second wait is 40 minutes old: warning again
    await alice.round()
    assert await notes_of(alice.desk, "w1@t") == ["at risk", "at risk"]
    keywords = timed_keywords(dovecot, mail_user)
    assert claims_and_done(keywords["w1@t"]) == (0, 1) and claims_and_done(keywords["w2@t"]) == (0, 1)
    await close(alice)


async def test_three_clients_fire_each_occurrence_once(home, dovecot, mail_user):
    customers = [f"c{i}@shop{i}.test" for i in range(5)]
    dovecot.load_maildir(mail_user, [make_mail(f"t{i}@t", sender=who, subject=f"Help {i}", minutes=i)
                                     for i, who in enumerate(customers)])
    clock = Clock(T0 + 10 * M)
    team = [await open_agent(home, n, dovecot, mail_user, clock) for n in ("alice", "bob", "carol")]
    for a in team:
        await a.round()
    clock.now = T0 + 40 * M  # every wait in warning
    await asyncio.gather(*(a.sync.sync_once() for a in team))  # all three at once
    clock.now = T0 + 70 * M  # every wait breached
    await asyncio.gather(*(a.sync.sync_once() for a in team))
    for _ in range(2):  # everyone hears of everything (keywords, the History folder)
        clock.now += 2 * M
        for a in team:
            await a.round()
    keywords = timed_keywords(dovecot, mail_user)
    for i in range(len(customers)):
        assert claims_and_done(keywords[f"t{i}@t"]) == (0, 2), keywords[f"t{i}@t"]  # claims off once done
        for a in team:  # the winner's rule events reached the others through History
            assert await rule_lines(a.desk, f"t{i}@t") == ESCALATED, (a.name, i)
            state = await state_of(a.desk, f"t{i}@t")
            assert (set(state.tags), state.assignee) == ({"at-risk"}, "carol"), a.name
        assert len(await notes_of(team[0].desk, f"t{i}@t")) == 1
    assert sum(a.runner.timed.claimed for a in team) == 2 * len(customers)
    await close(*team)


async def test_the_live_sync_fires_them_as_the_clock_moves(home, dovecot, mail_user):
    """In the live loop (the app, `tui-desk sync`): each pass looks, at most once a minute of
    the desk's clock; a catch-up stands in for the poll that comes at least every minute."""
    dovecot.load_maildir(mail_user, [make_mail("live@t", sender="ann@c.test", subject="Waiting live")])
    clock = Clock(T0 + 10 * M)
    alice = await open_agent(home, "alice", dovecot, mail_user, clock)
    stop, task = await live(alice.sync)
    try:
        assert alice.sync.state == "idle"
        assert await rule_lines(alice.desk, "live@t") == []
        clock.now = T0 + 45 * M
        await alice.sync.catch_up()
        assert await rule_lines(alice.desk, "live@t") == WARNED
        clock.now = T0 + 90 * M
        await alice.sync.catch_up()
        assert await rule_lines(alice.desk, "live@t") == ESCALATED
    finally:
        stop.set()
        await task
    assert claims_and_done(timed_keywords(dovecot, mail_user)["live@t"]) == (0, 2)  # claims off once done
    await close(alice)


async def test_a_schedule_rule_closes_only_what_went_quiet(home, dovecot, mail_user):
    day = D // M
    dovecot.load_maildir(mail_user, [
        make_mail("quiet@t", sender="ann@c.test", subject="Pending and quiet"),
        make_mail("recent@t", sender="bo@d.test", subject="Pending, wrote yesterday"),
        make_mail("recent2@t", sender="bo@d.test", refs=["recent@t"], minutes=3 * day),
        make_mail("open@t", sender="cy@e.test", subject="Open and quiet")])
    clock = Clock(T0 + 4 * D)
    alice, bob = [await open_agent(home, n, dovecot, mail_user, clock, rules=SCHEDULE_RULES)
                  for n in ("alice", "bob")]
    await alice.sync.sync_once()  # no rule does anything yet: nothing pending
    await alice.desk.set_status([await conv_of(alice.desk, m) for m in ("quiet@t", "recent@t")], "pending")
    assert alice.runner.timed.claimed == 0
    await alice.round()  # the status reaches the server; the rule looked this hour already
    assert [(await state_of(alice.desk, m)).status for m in ("quiet@t", "recent@t", "open@t")] == [
        "pending", "pending", "open"]
    clock.now += H  # the next hour: the rule looks again, on both clients
    await bob.round()
    await alice.round()
    await bob.round()
    for a in (alice, bob):
        assert [(await state_of(a.desk, m)).status for m in ("quiet@t", "recent@t", "open@t")] == [
            "closed", "pending", "open"], a.name
        assert await rule_lines(a.desk, "quiet@t") == [
            "rule 'close what went quiet' set status closed", "rule 'close what went quiet' added a note"]
        assert await rule_lines(a.desk, "recent@t") == await rule_lines(a.desk, "open@t") == []
    assert (alice.runner.timed.claimed, bob.runner.timed.claimed) == (0, 1)
    # two days later the other one is quiet too: closed in the hour after
    clock.now += 2 * D
    await alice.round()
    assert (await state_of(alice.desk, "recent@t")).status == "closed"
    assert await notes_of(alice.desk, "quiet@t") == ["closed after 3 quiet days"]
    await close(alice, bob)


REMINDER_RULES = """
[[rule]]
name = "out of sight for a while"
on = "schedule"
every = "1h"
if = "status:open"
do = ["snooze 30m"]
"""


async def test_a_schedule_rule_that_keeps_firing_leaves_few_keywords(home, dovecot, mail_user):
    """Five hours of a rule that fires every hour, two clients at once each hour: five snoozes,
    and on the mail no claim and at most two done keywords (this period's and the last)."""
    dovecot.load_maildir(mail_user, [make_mail("open@t", sender="ann@c.test", subject="Still open")])
    clock = Clock(T0 + 10 * M)
    alice, bob = [await open_agent(home, n, dovecot, mail_user, clock, rules=REMINDER_RULES) for n in ("alice", "bob")]
    for hour in range(5):
        clock.now += H if hour else 0
        await asyncio.gather(alice.sync.sync_once(), bob.sync.sync_once())  # racing for each period
        claims, done = zip(*map(claims_and_done, timed_keywords(dovecot, mail_user).values()))
        assert (sum(claims), sum(done)) == (0, min(hour + 1, 2)), (hour, timed_keywords(dovecot, mail_user))
    for a in (alice, bob):
        await a.round()
    lines = await rule_lines(alice.desk, "open@t")
    assert lines == ["rule 'out of sight for a while' snoozed 30m"] * 5, lines
    assert alice.runner.timed.claimed + bob.runner.timed.claimed == 5
    await close(alice, bob)


async def test_a_client_away_during_the_breach_fires_what_is_still_true(home, dovecot, mail_user):
    dovecot.load_maildir(mail_user, [
        make_mail("late@t", sender="ann@c.test", subject="Still waiting"),
        make_mail("met@t", sender="bo@d.test", subject="Answered in time", minutes=1),
        make_mail("ancient@t", sender="cy@e.test", subject="Over for days", minutes=-3 * D // M)])
    clock = Clock(T0 + 10 * M)
    bob = await open_agent(home, "bob", dovecot, mail_user, clock)
    await bob.round()  # everything ok; then bob is away
    dovecot.deliver(mail_user, make_mail("re@t", sender="agent1@helpdesk.test", refs=["met@t"], minutes=50))
    clock.now = T0 + 3 * H  # bob is back: one wait is breached, the other was met
    await bob.round()
    await bob.round()
    # the breach that is still a breach fires; its warning, long over, does not
    assert await rule_lines(bob.desk, "late@t") == ["rule 'escalate' assigned carol", "rule 'escalate' added a note"]
    assert await rule_lines(bob.desk, "met@t") == []
    # breached three days ago, longer than the horizon (24 hours): history, not fired
    assert await rule_lines(bob.desk, "ancient@t") == []
    assert (await state_of(bob.desk, "met@t")).assignee is None
    keywords = timed_keywords(dovecot, mail_user)
    assert claims_and_done(keywords["late@t"]) == (0, 1) and keywords["met@t"] == keywords["ancient@t"] == set()
    await close(bob)


async def test_the_claim_outlives_a_restart_and_a_client_stopped_midway_finishes_once(home, dovecot, mail_user,
                                                                                    monkeypatch):
    from tui_desk.sync import claims
    dovecot.load_maildir(mail_user, [make_mail("once@t", sender="ann@c.test", subject="Breached"),
                                     make_mail("midway@t", sender="bo@d.test", subject="Breached too", minutes=1)])
    clock = Clock(T0 + 2 * H)
    done = claims.ClaimSession.done

    async def stopped_on_the_second(session, copy, keys):
        if copy.message_id == "midway@t":
            raise ConnectionError("lost between claim and done")
        await done(session, copy, keys)
    monkeypatch.setattr(claims.ClaimSession, "done", stopped_on_the_second)
    alice = await open_agent(home, "alice", dovecot, mail_user, clock)
    with pytest.raises(ConnectionError):
        await alice.round()
    await alice.desk.close()
    keywords = timed_keywords(dovecot, mail_user)
    assert claims_and_done(keywords["once@t"]) == (0, 1)  # done: its claim came off
    assert claims_and_done(keywords["midway@t"]) == (1, 0)  # claimed, acted, not marked done
    monkeypatch.setattr(claims.ClaimSession, "done", done)

    # alice again on the same store, and bob with a new one: nothing fires twice
    alice = await open_agent(home, "alice", dovecot, mail_user, clock)
    bob = await open_agent(home, "bob", dovecot, mail_user, clock)
    await bob.round()  # alice's claim on midway@t is there: bob leaves it
    await alice.round()  # alice finishes her own claim: done, nothing done twice
    clock.now += 2 * M
    await bob.round()
    await alice.round()
    keywords = timed_keywords(dovecot, mail_user)
    assert claims_and_done(keywords["once@t"]) == claims_and_done(keywords["midway@t"]) == (0, 1)
    for a in (alice, bob):
        for mid in ("once@t", "midway@t"):
            assert await rule_lines(a.desk, mid) == [
                "rule 'escalate' assigned carol", "rule 'escalate' added a note"], (a.name, mid)
    assert await notes_of(alice.desk, "midway@t") == ["breached: escalated to carol"]
    assert (alice.runner.timed.claimed, bob.runner.timed.claimed) == (1, 0)
    await close(alice, bob)


def test_claim_keywords_are_short_atoms_and_not_conversation_state():
    from tui_desk.desk.keywords import (
        MAX_KEYWORD, occurrence_code, ours, timed_claim_keyword, timed_done_keyword,
    )
    code = occurrence_code("schedule close what went quiet 491234")
    assert re.fullmatch(r"[a-z2-7]{10}", code) and code == occurrence_code("schedule close what went quiet 491234")
    assert code != occurrence_code("schedule close what went quiet 491235")
    assert timed_claim_keyword(code, "Alice") == f"td:fire:{code}:alice"
    long = timed_claim_keyword(code, "Maximiliane Alexandra von Hohenzollern-Sigmaringen")
    assert len(long) <= MAX_KEYWORD and long != timed_claim_keyword(code, "Maximiliane Alexandra von Hohenzollern")
    assert ours({timed_done_keyword(code), long, "td:tag:vip"}) == {"td:tag:vip"}  # a merge leaves them be


def test_the_readme_sla_rules_are_a_valid_rules_file():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("\n## Rules\n")[1].split("```toml\n")[2].split("```")[0]
    rules = parse_rules(block, Path("rules.toml"), checks_for(["alice", "bob"], None, None)).rules
    assert [(r.name, r.on) for r in rules] == [("about to breach", "sla-warning"), ("breached", "sla-breach")]
