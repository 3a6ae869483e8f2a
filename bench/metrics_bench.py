#!/usr/bin/env python3
"""Metrics at 100k conversations over a year (issue 15): per-conversation compute, then the
aggregation the report does over cached rows.

    .venv/bin/python bench/metrics_bench.py [--conversations 100000] [--seed 15] [--zone Europe/Berlin]

Synthetic timelines (seeded, no store): 1-4 customer messages, agent replies by 8 agents with
snippets, notes, auto-replies, status changes (pending, close, some reopens), snoozes, tags and
domains; 10% mail only. Prints the time of:
  compute      conversation_metrics for every timeline, with a Berlin 09-17 business clock
  json         to_dict -> json -> from_dict for every row (what a store cache costs)
  report       report() for the year, headline only, and with by=agent / week / tag / snippet;
               one week's headline (rows outside it are skipped by their time span)
  heatmap      heatmap() + staffing() for the year
The first line times a bare Python loop: on a shared machine, scale the other figures by it.
Target (issue 15): `report --json` for a year <= 1 s over the cached rows (compute is done once
per conversation and cached, so it is not in that budget).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tui_desk.desk.business_time import BusinessClock
from tui_desk.desk.metrics import (ConvMetrics, SnoozeSpan, StatusChange, Timeline, Turn,
                                   conversation_metrics, heatmap, report, staffing)

AGENTS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")
TAGS = ("billing", "refund", "bug", "login", "vip", "shipping", "api", "feature")
SNIPPETS = ("hello", "refund-policy", "reset-password", "shipping-times", "thanks", "escalate")


def synthetic(n: int, start: float, seed: int) -> list[Timeline]:
    rnd = random.Random(seed)
    year = 365 * 86400
    out = []
    for i in range(n):
        t = start + rnd.random() * (year - 20 * 86400)
        turns, status, snoozes = [], [], []
        for _ in range(rnd.choice((1, 1, 2, 2, 3, 4))):
            turns.append(Turn(t, "customer"))
            if rnd.random() < 0.05:
                turns.append(Turn(t + 5, "auto"))
            if rnd.random() < 0.2:
                turns.append(Turn(t + rnd.random() * 3600, "note", rnd.choice(AGENTS)))
            t += rnd.expovariate(1 / 14400)
            agent = rnd.choice(AGENTS)
            snips = tuple(rnd.sample(SNIPPETS, rnd.choice((0, 0, 1, 2))))
            turns.append(Turn(t, "agent", agent, snips))
            if rnd.random() < 0.3:
                status.append(StatusChange(t, "pending", agent))
            if rnd.random() < 0.1:
                snoozes.append(SnoozeSpan(t + 60, t + rnd.random() * 86400 * 2))
            t += rnd.expovariate(1 / 86400)
        if rnd.random() < 0.85:
            status.append(StatusChange(t, "closed", rnd.choice(AGENTS)))
            if rnd.random() < 0.1:
                status.append(StatusChange(t + rnd.random() * 10 * 86400, "open", rnd.choice(AGENTS)))
        out.append(Timeline(f"c{i}", f"customer{i % 5000}.example", tuple(rnd.sample(TAGS, rnd.choice((0, 1, 1, 2)))),
                            rnd.choice(AGENTS), tuple(turns), tuple(status), tuple(snoozes),
                            has_history=rnd.random() >= 0.1))
    return out


def timed(label: str, fn):
    """Wall and CPU time of this process: on a shared machine the CPU figure is the fair one."""
    t0, c0 = time.perf_counter(), time.process_time()
    value = fn()
    print(f"{label:<44} {time.perf_counter() - t0:8.3f} s wall {time.process_time() - c0:8.3f} s cpu")
    return value


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--conversations", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--zone", default="Europe/Berlin")
    args = ap.parse_args()
    zone = args.zone
    timed("calibration: 3M-step Python loop (~0.1 s idle)", lambda: sum(1 for _ in range(3_000_000)))
    since = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc).timestamp()
    until = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc).timestamp()
    timelines = timed(f"synthesise {args.conversations} timelines",
                      lambda: synthetic(args.conversations, since, args.seed))
    clock = BusinessClock((dt.time(9), dt.time(17)), (0, 1, 2, 3, 4), zone, (dt.date(2025, 12, 25),))
    rows = timed("compute (per conversation, cached)", lambda: [conversation_metrics(tl, clock) for tl in timelines])
    timelines = []  # free them (the rows are what stays)
    gc.collect()
    gc.freeze()  # the rows are the long-lived heap, as in an app that loaded them once
    blob = timed("json dump of all rows", lambda: json.dumps([r.to_dict() for r in rows]))
    print(f"{'  json size':<44} {len(blob) / 1e6:8.1f} MB")
    back = timed("json load + from_dict of all rows", lambda: [ConvMetrics.from_dict(d) for d in json.loads(blob)])
    assert back == rows
    blob, back = "", []
    rep = timed("report: year, headline", lambda: report(rows, since, until, zone=zone, business_hours=True))
    timed("report: year, headline -> json", lambda: json.dumps(rep.to_json()))
    for by in ("agent", "week", "tag", "snippet"):
        timed(f"report: year, by {by}", lambda: report(rows, since, until, zone=zone, by=(by,), business_hours=True))
    week = since + 180 * 86400
    timed("report: one week of the year, headline", lambda: report(rows, week, week + 7 * 86400, zone=zone,
                                                                    business_hours=True))
    heat = timed("heatmap: year", lambda: heatmap(rows, since, until, zone))
    timed("staffing: year (heatmap given)", lambda: staffing(rows, since, until, zone, heat=heat))
    h = rep.headline
    frt = h.first_response
    print(f"\nheadline: {h.conversations} conversations, {h.closed} closed, FRT median "
          f"{frt.calendar.median / 3600:.2f} h (business median {frt.business.median / 3600:.2f} h, "
          f"mean {frt.business.mean / 3600:.2f} h), "
          f"FCR {h.fcr_rate:.1%}, reopens {h.reopens}")
    print(f"peak memory (ru_maxrss): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
