"""The SLA plans (issue 16 speed): desk_sla from the stored plans (store.sla_cache, schema 12)
says exactly what the pure path says (each conversation's timeline read from the store and
conversation_sla on it, as desk_sla did before the plans) for every conversation, at many
moments of a generated store's life: business hours, evenings, a weekend, the Christmas
holidays, snoozes set and waking, pending and closed conversations reopened, mail dated ahead,
a policy's tag added, the [sla] targets changed. The clock is injected; nothing sleeps."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import sqlite3
from pathlib import Path
from typing import Any

from tests.mailfactory import BASE, make_mail
from tui_desk.config import Config, PriorityConfig, SlaConfig, SlaPolicy
from tui_desk.desk import sla as sla_module
from tui_desk.desk.business_time import BusinessClock
from tui_desk.desk.priority import is_vip
from tui_desk.desk.report_data import timeline
from tui_desk.desk.sla import (KINDS, Sla, SlaTarget, conversation_sla, desk_sla, parsed_policies, plan_of, sla_of_plan,
                               targets_of)
from tui_desk.store import queries, report_cache
from tui_desk.store.db import Store
from tui_desk.store.search import matching_ids

H = 3600
BERLIN = "Europe/Berlin"
PRIORITY = PriorityConfig(business_hours=((dt.time(9), dt.time(12)), (dt.time(13), dt.time(17))), timezone=BERLIN,
                          holidays=(dt.date(2026, 12, 24), dt.date(2026, 12, 25)), vip=("vip.test",))
SLA = SlaConfig(first_response_minutes=120, next_response_minutes=240, resolution_minutes=960, warn_minutes=30,
                policies=(SlaPolicy(query="vip:yes", name="vip", first_response_minutes=30),
                          SlaPolicy(query="tag:urgent", name="urgent", resolution_minutes=240, warn_minutes=60)))
START = dt.datetime(2026, 12, 17, 8, 0, tzinfo=dt.timezone.utc).timestamp()  # a Thursday


async def pure_sla(desk: Any, rows: dict[int, Any], now: float) -> dict[int, Sla]:
    """desk_sla as it was before the plans: the policies matched on the store, every
    conversation's timeline read and conversation_sla on it."""
    cfg = desk.config
    ids = sorted(rows)
    policy_of: dict[int, Any] = {}
    for policy, q in parsed_policies(cfg.sla, cfg.path):
        left = [i for i in ids if i not in policy_of]
        found = set(await matching_ids(desk.store, q, left, int(now))) if q.store_terms() else set(left)
        for i in left:
            vip = is_vip(rows[i]["customer_key"] or "", cfg.priority)
            if i in found and all(wanted == vip for wanted in q.vip):
                policy_of[i] = policy
    sources = await report_cache.sources(desk.store, ids)
    p = cfg.priority
    clock = BusinessClock(p.business_hours, p.business_days, p.timezone, p.holidays)
    out = {}
    for i in ids:
        targets = targets_of(cfg.sla, policy_of.get(i))
        if i not in sources:
            out[i] = Sla(targets.policy, tuple(SlaTarget(k, targets.minutes(k), "none") for k in KINDS))
            continue
        r = rows[i]
        snoozed = bool(r["snooze_reply"]) or bool(r["snooze_until"] and r["snooze_until"] > now)
        tl = timeline(sources[i])
        out[i] = conversation_sla(tl, targets, now=now, status=r["status"], snoozed=snoozed, clock=clock)
        plan = plan_of(tl, targets, clock)  # the pure plan path too, no store
        if now > plan[1]:
            assert sla_of_plan(plan, now=now, now_elapsed=clock.elapsed(now), status=r["status"],
                                          snoozed=snoozed, clock=clock) == out[i]
    return out


async def add(desk: Any, raws: list[bytes]) -> None:
    """Into the store, arrived at the desk's clock (the Date is believed up to a day ahead of it)."""
    from tui_desk.mail.parse import parse_message
    from tui_desk.store import ingest
    items = [ingest.NewMessage(raw=r, parsed=(p := parse_message(r)), is_agent=desk.config.is_agent_address(p.sender.key),
                               arrived=desk.now(), arrived_by="the desk's clock") for r in raws]
    result = await ingest.ingest(desk.store, items)
    await desk.refresh(result.conversations)


def minutes_at(t: float) -> float:
    return (t - BASE.timestamp()) / 60


class Life:
    """A seeded helpdesk's days: customers write (some ahead of the clock), agents answer, set
    statuses, snooze, tag; `step` does one thing at the clock's moment."""

    def __init__(self, desk: Any, now: dict[str, float], seed: int) -> None:
        self.desk, self.now, self.rng = desk, now, random.Random(seed)
        self.threads: dict[int, str] = {}  # conversation -> its first Message-ID
        self.n = 0

    def mid(self) -> str:
        self.n += 1
        return f"m{self.n}@gen.test"

    async def new_conversation(self) -> None:
        # one in ten an agent's mail out (no customer message: nothing to measure yet)
        sender = self.rng.choice(["ann@c.test", "bo@d.test", "boss@vip.test", "cy@e.test", "ann@c.test",
                                  "bo@d.test", "boss@vip.test", "cy@e.test", "ann@c.test", "agent@helpdesk.test"])
        first = self.mid()
        await add(self.desk, [make_mail(first, sender=sender, subject=f"case {self.n}",
                                        minutes=minutes_at(self.now["t"]))])
        cid = (await self.desk.store.fetchone("SELECT conv_id FROM messages WHERE message_id = ?", (first,)))[0]
        self.threads[cid] = first

    async def step(self) -> None:
        rng, now = self.rng, self.now["t"]
        if not self.threads or rng.random() < 0.25:
            return await self.new_conversation()
        cid = rng.choice(sorted(self.threads))
        first = self.threads[cid]
        what = rng.random()
        if what < 0.25:
            ahead = 3 * H if rng.random() < 0.1 else 0  # a customer's clock ahead of ours
            await add(self.desk, [make_mail(self.mid(), sender="ann@c.test", subject="Re: more", refs=[first],
                                            minutes=minutes_at(now + ahead))])
        elif what < 0.5:
            await add(self.desk, [make_mail(self.mid(), sender="agent@helpdesk.test", subject="Re: answer",
                                            refs=[first], minutes=minutes_at(now))])
        elif what < 0.7:
            await self.desk.set_status([cid], rng.choice(["pending", "closed", "open", "spam"]))
        elif what < 0.9:
            await self.desk.snooze([cid], rng.choice(["2h", "45m", "3d", "until reply", "off", "tomorrow 9:00"]))
        else:
            await self.desk.tag([cid], add=["urgent"] if rng.random() < 0.7 else [], remove=["urgent"])


async def compare(desk: Any, now: float, states: set[tuple[str, str]]) -> int:
    """desk_sla against the pure path for every conversation at `now`; returns how many, adds
    the (kind, state) pairs seen to `states`."""
    ids = [int(r[0]) for r in await desk.store.fetchall("SELECT id FROM conversations")]
    rows = await queries.conversation_rows(desk.store, ids)
    want = await pure_sla(desk, rows, now)
    got = await desk_sla(desk, rows, now)
    for i in ids:
        assert got[i] == want[i], (i, now, got[i], want[i])
        states.update((t.kind, t.state) for t in got[i].targets)
    assert await desk_sla(desk, rows, now) == want  # again, from the plans stored by the first
    return len(ids)


async def test_the_plans_say_what_the_pure_path_says_at_every_moment(tmp_path: Path, monkeypatch):
    now = {"t": START}
    from tui_desk.desk.service import Desk
    cfg = Config(agent_addresses=("*@helpdesk.test",), priority=PRIORITY, sla=SLA)
    desk = await Desk.open(tmp_path / "s.db", cfg, clock=lambda: now["t"])
    life = Life(desk, now, seed=16)
    rng = random.Random(7)
    compared = 0
    states: set[tuple[str, str]] = set()
    made: list[int] = []

    def counting_plan_of(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
        made.append(1)
        return plan_of(*args, **kwargs)
    monkeypatch.setattr(sla_module, "plan_of", counting_plan_of)
    live: list[int] = []  # desk_sla's own conversation_sla calls: moments before a plan's horizon

    def counting_conversation_sla(*args: Any, **kwargs: Any) -> Sla:
        live.append(1)
        return conversation_sla(*args, **kwargs)
    monkeypatch.setattr(sla_module, "conversation_sla", counting_conversation_sla)
    try:
        end = dt.datetime(2026, 12, 30, 12, 0, tzinfo=dt.timezone.utc).timestamp()
        while now["t"] < end:
            for _ in range(rng.randint(1, 6)):
                await life.step()
            # moments: now, a few minutes on (odd seconds too), hours on, days on (snoozes waking)
            for later in (0, rng.randint(1, 600), rng.randint(H, 9 * H), rng.randint(20 * H, 80 * H)):
                compared += await compare(desk, now["t"] + later, states)
            now["t"] += rng.choice([17 * 60, 50 * 60, 2 * H, 5 * H + 7, 9 * H, 16 * H])
        assert len(life.threads) > 40 and compared > 4000, (len(life.threads), compared)
        # snoozes still to wake, mail dated ahead, a change at that very second: a few (this mix snoozes a lot)
        assert 0 < len(live) < compared / 4, (len(live), compared)
        # the plans were used: an unchanged store computes none again
        ids = [int(r[0]) for r in await desk.store.fetchall("SELECT id FROM conversations")]
        rows = await queries.conversation_rows(desk.store, ids)
        await desk_sla(desk, rows, now["t"] + 100 * H)
        made.clear()
        await desk_sla(desk, rows, now["t"] + 101 * H)
        assert made == []
        # another [sla] config: every plan again, and the same answers as the pure path
        desk.config = dataclasses.replace(cfg, sla=dataclasses.replace(SLA, first_response_minutes=60,
                                                                       resolution_minutes=None))
        await compare(desk, now["t"] + 3 * H, states)
        assert len(made) == len(ids)
        # inside a caller's transaction (not re-entrant): the plans are worked out, used and not kept
        desk.config = cfg
        async with desk.store.transaction():
            made.clear()
            await compare(desk, now["t"] + 5 * H, states)
            assert len(made) == 2 * len(ids)  # both looks: nothing was kept between them
        assert await desk.store.get_meta("sla_plans_key") != sla_module.plans_key(desk)
        # the mix met every state of every target
        every = {(k, s) for k in KINDS for s in ("ok", "warning", "breached", "paused", "none")}
        every |= {("first_response", "met"), ("first_response", "missed"), ("resolution", "met"), ("resolution", "missed")}
        assert every <= states, every - states
    finally:
        await desk.close()


async def test_a_schema_11_store_gets_the_plans_tables_marked_by_the_metrics_triggers(tmp_path: Path):
    """Schema 12: a store made before it is upgraded in place with every conversation marked;
    a change that marks conv_dirty marks sla_dirty with the same seq; a conversation deleted
    takes its plan and mark along."""
    from tui_desk.store import sla_cache
    from tui_desk.store.schema import MIGRATIONS, SCHEMA_VERSION
    path = tmp_path / "v11.db"
    con = sqlite3.connect(path)
    con.executescript("".join(MIGRATIONS[:11]) + "\nPRAGMA user_version=11;")
    con.executemany("INSERT INTO conversations(id, subject) VALUES (?, ?)", [(1, "a"), (2, "b"), (3, "c")])
    con.commit()
    con.close()
    store = await Store.open(path)
    try:
        assert (await store.fetchone("PRAGMA user_version"))[0] == SCHEMA_VERSION
        plans, stale = await sla_cache.read(store, [1, 2, 3, 4])
        assert plans == {} and stale == {1: 0, 2: 0, 3: 0, 4: None}
        await sla_cache.save(store, [(1, b"p1"), (2, b"p2"), (4, b"gone")], [(1, 0), (2, 0)])
        plans, stale = await sla_cache.read(store, [1, 2, 3, 4])
        assert plans == {1: b"p1", 2: b"p2"} and stale == {3: 0, 4: None}
        # a tag on 2 marks it (conv_dirty's trigger, then ours): its plan is stale, whatever is stored
        async with store.transaction():
            await store.execute("INSERT INTO tags(conv_id, tag) VALUES (2, 'x')")
        seq = (await store.fetchone("SELECT seq FROM conv_dirty WHERE conv_id = 2"))[0]
        plans, stale = await sla_cache.read(store, [1, 2])
        assert plans == {1: b"p1"} and stale == {2: seq}
        # a plan saved from data read before a newer change keeps the newer mark
        async with store.transaction():
            await store.execute("INSERT INTO tags(conv_id, tag) VALUES (2, 'y')")
        await sla_cache.save(store, [(2, b"p2 again")], [(2, seq)])
        assert (await sla_cache.read(store, [2]))[1] == {2: seq + 1}
        async with store.transaction():
            await store.execute("DELETE FROM conversations WHERE id = 1")
        assert await store.fetchall("SELECT conv_id FROM conv_sla WHERE conv_id = 1") == []
        await sla_cache.invalidate_all(store)
        assert (await sla_cache.read(store, [2, 3])) == ({}, {2: seq + 1, 3: 0})
    finally:
        await store.close()
