#!/usr/bin/env python3
"""Rules and service levels at 100k conversations (issue 16): what a sync pass's rules and the
queue's SLA column cost. Prints a table against the targets and writes bench/out/rules_bench.json.

    .venv/bin/python bench/rules_bench.py [--db PATH] [--mails 1000] [--runs 5] [--keep-copy] [--profile]

Targets: all rules of the README's small-shop rules.toml evaluated on a sync batch of 1,000 new
mails <= 0.5 s; the SLA state of the whole queue <= 0.5 s.

The store is bench/out/big-store.sqlite3 (bench/build_big_store.py's `ensure_big_store`: 100k
conversations of generated mail through the real ingest, built once when missing). The bench
works on a copy (SQLite's backup API), bench/out/rules-store.sqlite3, into which the batch is
stored first (untimed): --mails new mails, four in five the demo generator's mail of the 24 hours
up to the latest weekday 18:00 UTC (another seed: other customers; new conversations and their
customers' follow-ups, auto-replies and bounces included; the agents' replies left out, they are
not the queue's mail), one in five a customer's
follow-up to an open conversation of the store (its thread found by In-Reply-To). Each is parsed
by the real parser and stored by the real ingest in batches, then Desk.refresh, as a sync does.
The config is the README's (agent addresses, team, [priority] with business hours and a VIP
domain the generator's customers use, [sla] with the vip policy); the rules are the README's
small-shop rules.toml, read from README.md itself.

Timed, median of --runs (the store is not changed by them):
1. rules on the batch, as RulesRunner.after_pass does once the server copies are known: each
   mail's event kind (desk.rules.fire: new or customer-reply), then gather_many (the store
   answers each rule's search terms once for the batch; per mail its conversation, its headers
   from the raw mail, the guards' verdict) and plan() for each mail. Claims and actions (IMAP,
   sending) are not part of it. The target is for gather_many + plan; the event kinds are shown
   beside it.
2. desk_sla over the whole queue (queue_ids: every open conversation not snoozed), as
   Desk.queue_rows calls it for the rows it shows, given the rows (conversation_rows, shown
   apart), from the stored SLA plans (store.sla_cache; the batch's conversations are computed
   by the untimed first call). Beside it, once: that first call with every plan computed and
   stored (a new store or a new [sla] config), on a thread (the app's loop goes on meanwhile).
Each figure is wall time with the CPU time beside it (on a shared machine wall time includes
waiting for a core); the load average is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Awaitable, Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.build_big_store import DEFAULT_PATH, ensure_big_store
from tui_desk.config import load_config
from tui_desk.demo import mailbox as generator
from tui_desk.desk.rules import plan
from tui_desk.desk.rules.facts import gather_many, in_business_hours
from tui_desk.desk.rules.fire import MAIL_EVENTS, _event_kind, read_rules
from tui_desk.desk.rules.model import Event
from tui_desk.desk.service import Desk
from tui_desk.desk.sla import desk_sla
from tui_desk.mail.parse import parse_message
from tui_desk.store import ingest as store_ingest
from tui_desk.store import queries, sla_cache
from tui_desk.sync.claims import Copy

OUT = ROOT / "bench" / "out"
TARGET_RULES_S = 0.5
TARGET_SLA_S = 0.5
BATCH = 200  # mails per ingest transaction, as a sync pass stores them
# the README's config, with the generator's agents' domain and one of its customer domains as VIP
CONFIG = """\
agent = "alice"
agent_addresses = ["*@helpdesk.test"]
team = ["bob", "Chen Wei"]

[priority]
response_target_minutes = 120
urgent_words = ["urgent", "asap", "срочно", "紧急"]
vip = ["corp.example", "ceo@partner.example"]
tag_weights = { outage = 120, billing = 20 }
business_hours = "09:00-17:00"
business_days = ["mon", "tue", "wed", "thu", "fri"]
timezone = "Europe/Berlin"
holidays = [2026-12-24, 2026-12-25]

[rules]
file = "rules.toml"

[sla]
first_response_minutes = 120
next_response_minutes = 240
resolution_minutes = 1440
warn_minutes = 30

[[sla.policy]]
name = "vip"
if = "vip:yes"
first_response_minutes = 30
"""


def readme_rules() -> str:
    """The small-shop rules.toml as README.md shows it (the first toml block after its intro)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"A rules file for a small shop:\s*```toml\n(.*?)```", text, re.S)
    if not found:
        raise SystemExit("README.md has no small-shop rules.toml block ('A rules file for a small shop:')")
    return found.group(1)


def copy_store(source: Path, copy: Path) -> float:
    for suffix in ("", "-wal", "-shm"):
        Path(str(copy) + suffix).unlink(missing_ok=True)
    began = time.perf_counter()
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(copy) as dst:
        src.backup(dst, pages=65536)
    return time.perf_counter() - began


def batch_end(now: float) -> dt.datetime:
    """The batch's last moment: the latest weekday 18:00 UTC before now, so its 24 hours hold a
    working day's business hours and a night whatever day the bench runs."""
    end = dt.datetime.fromtimestamp(now, dt.timezone.utc).replace(hour=18, minute=0, second=0, microsecond=0)
    while end.timestamp() > now or end.weekday() >= 5:
        end -= dt.timedelta(days=1)
    return end


def follow_up(i: int, customer: str, subject: str, parent: str, when: float) -> bytes:
    """A customer's plain follow-up in an existing thread."""
    subject = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    return (f"From: {customer}\nTo: support@helpdesk.test\nSubject: {subject}\n"
            f"Date: {format_datetime(dt.datetime.fromtimestamp(int(when), dt.timezone.utc))}\n"
            f"Message-ID: <bench-follow-up-{i}@mail.example>\nIn-Reply-To: <{parent}>\nReferences: <{parent}>\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
            "Hello again, any news on this? It is still not working for us.\n").encode()


async def new_mail(desk: Desk, count: int, end: dt.datetime, seed: int) -> list[tuple[bytes, str]]:
    """(raw, Message-ID) of the batch, oldest first: generator mail and follow-ups (see the docstring)."""
    rng = random.Random(seed)
    replies = count // 5
    # the generator's mail of one day, its agents' replies left out
    made = generator.Generator(count * 2, seed, end, 1).generate()
    theirs = [(m.when, m.raw, m.msgid.strip("<>")) for m in made if m.kind != "agent"][:count - replies]
    open_ids = await queries.queue_ids(desk.store, now=int(end.timestamp()))
    picked = rng.sample(open_ids, replies)
    rows = await queries.conversation_rows(desk.store, picked)
    ours = []
    for i, cid in enumerate(picked):
        last = (await queries.messages_of(desk.store, cid))[-1]
        when = end.timestamp() - rng.random() * 86400
        ours.append((when, follow_up(i, rows[cid]["customer_key"], rows[cid]["subject"], last["message_id"], when),
                     f"bench-follow-up-{i}@mail.example"))
    return [(raw, msgid) for _, raw, msgid in sorted(theirs + ours, key=lambda m: m[0])]


async def store_batch(desk: Desk, mails: list[tuple[bytes, str]]) -> float:
    """Parse and store the batch as a sync pass would (ingest in batches, then refresh)."""
    began = time.perf_counter()
    touched: set[int] = set()
    is_agent = desk.config.is_agent_address
    for start in range(0, len(mails), BATCH):
        items = []
        for raw, _ in mails[start:start + BATCH]:
            parsed = parse_message(raw)
            items.append(store_ingest.NewMessage(raw=raw, parsed=parsed, source="bench:rules",
                                                 is_agent=bool(parsed.sender and is_agent(parsed.sender.key))))
        result = await store_ingest.ingest(desk.store, items)
        touched -= result.merged_away
        touched |= result.conversations
    await desk.refresh(touched)
    return time.perf_counter() - began


async def copies_of(desk: Desk, mails: list[tuple[bytes, str]]) -> list[Copy]:
    """The batch as the mirror would hand it to RulesRunner (conversation and date from the store)."""
    found = {}
    for r in await desk.store.fetchall(
            "SELECT message_id, conv_id, date FROM messages WHERE message_id IN (SELECT value FROM json_each(?))",
            (json.dumps([m for _, m in mails]),)):
        found[r[0]] = r
    return [Copy("INBOX", uid, msgid, found[msgid][1], found[msgid][2], frozenset(), None)
            for uid, (_, msgid) in enumerate(mails, 1) if msgid in found]


PROFILE: dict[str, Any] = {}  # --profile: one cProfile per figure, over all its runs


async def timed(fn: Callable[[], Awaitable[Any]], name: str = "") -> tuple[float, float, Any]:
    profile = PROFILE.get(name)
    began, began_cpu = time.perf_counter(), time.process_time()
    if profile is not None:
        profile.enable()
    value = await fn()
    if profile is not None:
        profile.disable()
    return time.perf_counter() - began, time.process_time() - began_cpu, value


def median_pair(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


async def bench(db: Path, args: argparse.Namespace, home: Path) -> dict[str, Any]:
    (home / "config.toml").write_text(CONFIG, encoding="utf-8")
    (home / "rules.toml").write_text(readme_rules(), encoding="utf-8")
    config = load_config(home / "config.toml")
    began = time.perf_counter()
    desk = await Desk.open(db, config)  # a new config: ranks and agents worked out once, untimed
    open_s = time.perf_counter() - began
    result: dict[str, Any] = {"open_s": open_s}
    try:
        end = batch_end(desk.now())
        mails = await new_mail(desk, args.mails, end, args.seed)
        result["store_batch_s"] = await store_batch(desk, mails)
        copies = await copies_of(desk, mails)
        rules = [r for r in read_rules(desk).rules if r.on in MAIL_EVENTS]
        kinds_runs, rules_runs, sla_runs, rows_runs = [], [], [], []
        planned: list[Any] = []
        events: list[Event] = []
        for _ in range(args.runs):
            async def kinds() -> list[Event]:
                return [Event(await _event_kind(desk, c), c.conv_id, c.date or desk.now(), c.message_id)
                        for c in copies]
            wall, cpu, events = await timed(kinds)
            kinds_runs.append((wall, cpu))

            async def evaluate() -> list[Any]:
                facts = await gather_many(desk, rules, events)
                return [plan(rules, e, f) if f is not None else [] for e, f in zip(events, facts)]
            wall, cpu, planned = await timed(evaluate, "rules")
            rules_runs.append((wall, cpu))
        now = desk.now()
        ids = await queries.queue_ids(desk.store, now=int(now))
        rows: Any = {}
        slas: dict[int, Any] = {}
        rows = await queries.conversation_rows(desk.store, ids)

        async def cold_sla() -> dict[int, Any]:  # every plan computed and stored (a new store, a new [sla])
            await sla_cache.invalidate_all(desk.store)
            return await desk_sla(desk, rows, now)
        wall, cpu, _ = await timed(cold_sla)
        result["sla_cold"] = (wall, cpu)
        for _ in range(args.runs):
            async def read_rows() -> Any:
                return await queries.conversation_rows(desk.store, ids)
            wall, cpu, rows = await timed(read_rows)
            rows_runs.append((wall, cpu))

            async def sla() -> dict[int, Any]:
                return await desk_sla(desk, rows, now)
            wall, cpu, slas = await timed(sla, "sla")
            sla_runs.append((wall, cpu))
        fired = Counter(p.rule for actions in planned for p in actions)
        clock_runs = sum(1 for e in events if in_business_hours(desk, e.at))
        states = Counter(t.state for s in slas.values() for t in s.targets if t.kind == "first_response")
        result.update({
            "mails": len(copies), "events": dict(Counter(e.kind for e in events)), "rules": len(rules),
            "in_business_hours": clock_runs,
            "planned": sum(map(len, planned)), "held": sum(1 for a in planned for p in a if p.held),
            "fired": dict(fired), "queue": len(ids), "first_response_states": dict(states),
            "kinds": median_pair(kinds_runs), "rules_eval": median_pair(rules_runs),
            "rows": median_pair(rows_runs), "sla": median_pair(sla_runs),
            "runs": {"kinds": kinds_runs, "rules": rules_runs, "rows": rows_runs, "sla": sla_runs},
        })
    finally:
        await desk.close()
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, help="store to copy (default: the 100k store in bench/out, built if missing)")
    ap.add_argument("--mails", type=int, default=1000, help="new mails in the sync batch")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--keep-copy", action="store_true", help="leave bench/out/rules-store.sqlite3 for a look")
    ap.add_argument("--profile", action="store_true", help="cProfile the two timed figures (slows them; prints the top)")
    args = ap.parse_args()
    if args.profile:
        import cProfile
        PROFILE.update(rules=cProfile.Profile(), sla=cProfile.Profile())
    source = args.db or ensure_big_store(DEFAULT_PATH)
    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / "rules-store.sqlite3"
    copy_s = copy_store(source, db)
    try:
        with tempfile.TemporaryDirectory(prefix="rules-bench-") as home:
            r = asyncio.run(bench(db, args, Path(home)))
    finally:
        if not args.keep_copy:
            for suffix in ("", "-wal", "-shm"):
                Path(str(db) + suffix).unlink(missing_ok=True)
    load = os.getloadavg()
    print(f"store: a copy of {source} (copied in {copy_s:.1f} s, opened with the bench config in {r['open_s']:.1f} s);"
          f" load average {load[0]:.1f} / {load[1]:.1f} (1 / 5 min)")
    print(f"batch: {r['mails']} new mails stored and refreshed in {r['store_batch_s']:.1f} s (untimed); events "
          f"{r['events']}, {r['in_business_hours']} in business hours; {r['rules']} mail rules planned {r['planned']} actions ({r['held']} held): {r['fired']}")
    print(f"queue: {r['queue']} open conversations; first response {r['first_response_states']}")
    print(f"\n{'figure (median of ' + str(args.runs) + ')':<58}{'wall s':>8}{'CPU s':>8}{'target':>9}")

    def line(label: str, pair: tuple[float, float], target: float | None = None) -> None:
        verdict = "" if target is None else f"{target:>7.1f} s  {'ok' if pair[0] <= target else 'OVER'}"
        print(f"{label:<58}{pair[0]:>8.3f}{pair[1]:>8.3f}  {verdict}")
    line(f"rules: gather_many + plan, {r['mails']} mails", tuple(r["rules_eval"]), TARGET_RULES_S)
    line("  beside it: the event kinds (one messages_of per mail)", tuple(r["kinds"]))
    line(f"SLA: desk_sla over the queue ({r['queue']} rows)", tuple(r["sla"]), TARGET_SLA_S)
    line("  beside it: the first call, every plan computed (once)", tuple(r["sla_cold"]))
    line("  beside it: the queue's rows (conversation_rows)", tuple(r["rows"]))
    for name, profile in PROFILE.items():
        import pstats
        print(f"\n----- cProfile: {name} (all runs; the event loop's thread only)")
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    r.update({"source": str(source), "copy_s": copy_s, "load": load,
              "targets": {"rules": TARGET_RULES_S, "sla": TARGET_SLA_S}})
    (OUT / "rules_bench.json").write_text(json.dumps(r, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
