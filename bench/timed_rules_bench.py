#!/usr/bin/env python3
"""The timed rule events at 100k conversations (issue 16): what one look of desk.rules.timed
costs on a big store, with no server (the looks only; claiming is one STORE per occurrence).

    .venv/bin/python bench/timed_rules_bench.py [--db PATH] [--looks 5]

The store is bench/out/big-store.sqlite3 (bench/build_big_store.py's `ensure_big_store`, built
once when missing, a few minutes), copied to bench/out/timed-store.sqlite3 (the SQLite backup
API) since opening a desk may write. [sla]: first response 120, next response 240 business
minutes on a 9-17 Monday-Friday clock, without and with a resolution target (with one, every
open conversation has a target running; without, only those with a customer waiting).
Prints, for each:
  candidates    open conversations looked at (of all conversations)
  first look    SLA computed for every candidate, occurrences found
  next looks    a minute later each, nothing changed: only targets whose warning or breach
                may have come are computed again (median and the most; and the process's
                CPU time, both threads, which a loaded machine inflates less than wall time)
  schedule      one look of `if = "status:pending"`, `idle = "3d"`
Target (issue 16): SLA state for the whole queue <= 0.5 s; a look with nothing changed is far
below that.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.build_big_store import DEFAULT_PATH, ensure_big_store
from tui_desk.config import Config, PriorityConfig, SlaConfig
from tui_desk.desk.rules.load import parse_rules
from tui_desk.desk.rules.timed import TimedRules
from tui_desk.desk.service import Desk
from tui_desk.store.queries import counts

RULES = """
[[rule]]
name = "warn"
on = "sla-warning"
do = ["tag +at-risk"]

[[rule]]
name = "breach"
on = "sla-breach"
do = ["tag +breached"]

[[rule]]
name = "quiet"
on = "schedule"
every = "1h"
idle = "3d"
if = "status:pending"
do = ["status closed"]
"""


def copy_store(source: Path, target: Path) -> None:
    target.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


async def run(db: Path, looks: int, resolution: int | None) -> dict[str, float | int]:
    now = {"t": time.time()}
    config = Config(priority=PriorityConfig(business_hours=(dt.time(9), dt.time(17)), timezone="UTC"),
                    sla=SlaConfig(first_response_minutes=120, next_response_minutes=240, resolution_minutes=resolution))
    desk = await Desk.open(db, config, clock=lambda: now["t"])
    try:
        timed = TimedRules(desk, parse_rules(RULES, Path("rules.toml")))
        _, conversations = await counts(desk.store)
        t0 = time.perf_counter()
        found = await timed.sla_due(int(now["t"]))
        first = time.perf_counter() - t0
        candidates = timed.computed
        nexts, cpus, recomputed = [], [], []
        for _ in range(looks):
            now["t"] += 60
            before = timed.computed
            t0, c0 = time.perf_counter(), time.process_time()
            await timed.sla_due(int(now["t"]))
            nexts.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
            recomputed.append(timed.computed - before)
        rule = timed.schedule[0]
        t0 = time.perf_counter()
        quiet = await timed.schedule_occurrences(rule, int(now["t"] // 3600), int(now["t"]))
        schedule = time.perf_counter() - t0
        return {"conversations": conversations, "candidates": candidates, "first": first, "found": len(found),
                "next_median": statistics.median(nexts), "next_max": max(nexts), "next_cpu": statistics.median(cpus),
                "recomputed_max": max(recomputed), "schedule": schedule, "quiet": len(quiet)}
    finally:
        await desk.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=DEFAULT_PATH)
    ap.add_argument("--looks", type=int, default=5)
    args = ap.parse_args()
    source = ensure_big_store(args.db)
    work = ROOT / "bench" / "out" / "timed-store.sqlite3"
    for label, resolution in (("without resolution target", None), ("with resolution 16h", 16 * 60)):
        copy_store(source, work)
        r = asyncio.run(run(work, args.looks, resolution))
        print(f"{label}:")
        print(f"  candidates   {r['candidates']} open conversations looked at, of {r['conversations']}")
        print(f"  first look   {r['first'] * 1000:7.1f} ms  ({r['found']} warning/breach occurrences)")
        print(f"  next looks   {r['next_median'] * 1000:7.1f} ms median, {r['next_max'] * 1000:.1f} ms most "
              f"(at most {r['recomputed_max']} computed again); CPU {r['next_cpu'] * 1000:.1f} ms median")
        print(f"  schedule     {r['schedule'] * 1000:7.1f} ms  ({r['quiet']} pending and quiet for 3 days)")
    work.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
