#!/usr/bin/env python3
"""Reports at scale (issue 15): 100k conversations with a year of mail and history.

    .venv/bin/python bench/report_bench.py [--conversations 100000] [--keep PATH]

Builds the store fast, straight into a store file with executemany (conversations, messages,
thread_ids, tags, events: what the reports read; no raw mail, no full-text index), then runs the
real `tui-desk` in a child process for each step and prints its wall time and peak RSS next to
the target: `report --json` for the year with the cache empty (cold: every conversation's
metrics computed and stored) and then warm, the breakdowns, `report heatmap --json` and
`report questions --json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tui_desk.config import PriorityConfig
from tui_desk.store import Store

END = 1_796_000_000  # 2026-11-29 (UTC): the year runs up to here
YEAR = 365 * 86400
AGENTS = ("alice", "bob", "chen", "dana", "emil", "fatima")
TAGS = ("billing", "bug", "refund", "shipping", "vip", "api", "login")
SNIPPETS = ("refund-policy", "shipping-times", "reset-password", "thanks", "api-status")
QUESTIONS = [
    ("Where is my order #{n}?", "Hi, I ordered last week and the parcel has not arrived. Order {n}."),
    ("Refund for order #{n}", "Please refund my order {n}, the item was damaged."),
    ("Cannot log in to my account", "I reset my password twice and still cannot log in."),
    ("API returns 500 on /v2/orders", "Since this morning every call to /v2/orders fails with 500."),
    ("Change shipping address for order #{n}", "I moved, please send order {n} to my new address."),
    ("Question about pricing plans", "What is the difference between the team and business plans?"),
    ("Export to CSV is missing columns", "The CSV export has no tax column any more."),
    ("Please delete my account and data", "Under GDPR please delete my account and all my data."),
    ("Где мой заказ {n}?", "Здравствуйте, мой заказ {n} до сих пор не доставлен."),
    ("订单{n}什么时候发货", "你好，我的订单{n}还没有发货，请问什么时候发？"),
]
TOML = 'agent = "alice"\n[priority]\ntimezone = "Europe/Berlin"\n'
TARGETS = {"report": 1.0, "heatmap": 2.0, "questions": 2.0}
RSS_TARGET_MB = 200


def build(path: Path, conversations: int, seed: int = 15) -> dict[str, int]:
    """The store: through Store.open (schema and migrations), then plain sqlite3 executemany."""
    async def make() -> None:
        store = await Store.open(path)
        await store.close()
    asyncio.run(make())
    rnd = random.Random(seed)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    convs, msgs, threads, tags, events = [], [], [], [], []
    mid = 0
    ev = 0
    for c in range(1, conversations + 1):
        t = END - YEAR + rnd.random() * YEAR
        # office-hours-ish arrival: shift into 7..19 local-ish hours on most days
        t = int(t - (t % 86400) + rnd.choice((7, 8, 9, 9, 10, 10, 11, 13, 14, 15, 16, 20)) * 3600 + rnd.randrange(3600))
        q, body = QUESTIONS[rnd.randrange(len(QUESTIONS))]
        n = rnd.randrange(10_000, 99_999)
        customer = f"c{rnd.randrange(conversations // 2)}@cust{rnd.randrange(500)}.example"
        agent = rnd.choice(AGENTS)
        history = rnd.random() < 0.9  # the rest: mail from before history existed
        anchor = f"c{c}-1@bench.test"
        turns = [(t, False)]
        at = t
        for _ in range(rnd.choice((1, 1, 1, 2, 2, 3))):
            at += rnd.randrange(600, 2 * 86400)
            turns.append((at, True))
            if rnd.random() < 0.35:
                at += rnd.randrange(600, 86400)
                turns.append((at, False))
        for i, (when, is_agent) in enumerate(turns):
            mid += 1
            message_id = f"c{c}-{i + 1}@bench.test"
            sender = "support@desk.example" if is_agent else customer
            msgs.append((mid, message_id, c, when, sender, sender, (("Re: " if i else "") + q).format(n=n),
                         body.format(n=n) if i == 0 else "Thanks, any news?", int(is_agent), when))
            threads.append((message_id, c))
            if is_agent and history:
                ev += 1
                snip = [{"name": rnd.choice(SNIPPETS), "hash": None}] if rnd.random() < 0.4 else []
                events.append((f"{ev:032x}", when, agent, "reply", anchor,
                               json.dumps({"message_id": message_id, "snippets": snip}), 1))
        status = "open"
        if history and rnd.random() < 0.8:
            close = at + rnd.randrange(60, 86400)
            ev += 1
            events.append((f"{ev:032x}", close, agent, "status", anchor, json.dumps({"from": "open", "to": "closed"}), 1))
            status = "closed"
            if rnd.random() < 0.1:
                ev += 1
                events.append((f"{ev:032x}", close + rnd.randrange(3600, 14 * 86400), agent, "status", anchor,
                               json.dumps({"from": "closed", "to": "open"}), 1))
                status = "open"
            if rnd.random() < 0.15:
                ev += 1
                events.append((f"{ev:032x}", t + 600, agent, "snooze", anchor,
                               json.dumps({"until": t + 86400, "reply": False}), 1))
        if rnd.random() < 0.6:
            tags.append((c, rnd.choice(TAGS)))
        convs.append((c, q.format(n=n), customer, status, agent if history else None, len(turns), t, at))
    with db:
        db.executemany("INSERT INTO conversations(id, subject, customer_key, status, assignee, message_count,"
                       " first_date, last_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", convs)
        db.executemany("INSERT INTO messages(id, message_id, conv_id, date, sender_addr, sender_key, subject, body,"
                       " is_agent, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", msgs)
        db.executemany("INSERT INTO thread_ids(msgid, conv_id) VALUES (?, ?)", threads)
        db.executemany("INSERT INTO tags(conv_id, tag) VALUES (?, ?)", tags)
        db.executemany("INSERT INTO events(event_id, at, agent, kind, anchor, data_json, shared)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?)", events)
        # the priority settings the CLI's config gives: no re-rank on the first open
        prio = PriorityConfig(timezone="Europe/Berlin")
        db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                       [("priority_settings", repr(prio)), ("priority_loud_window", str(prio.loud_window_minutes))])
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return {"conversations": len(convs), "messages": len(msgs), "events": len(events)}


def run(db: Path, config: Path, *args: str) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, stdout) of one `tui-desk` child process (os.wait4 gives
    that child's own peak RSS)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "tui_desk", "--db", str(db), "--config", str(config), *args],
                                 stdout=out, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise SystemExit(f"tui-desk {' '.join(args)} failed: {err.read().decode()}")
        return wall, usage.ru_maxrss / 1024, out.read().decode()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conversations", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, help="build the store here and keep it")
    ap.add_argument("--build-only", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.build_only:
        print(json.dumps(build(args.build_only, args.conversations)))
        return 0
    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        db = args.keep or Path(tmp) / "bench.sqlite3"
        if db.exists():
            db.unlink()
        config = Path(tmp) / "config.toml"
        config.write_text(TOML)
        t = time.perf_counter()
        # built in a child: Linux keeps a process's peak RSS across fork and exec, so the
        # children timed below would report this process's build-time peak as their own
        built = subprocess.run([sys.executable, __file__, "--build-only", str(db), "--conversations",
                                str(args.conversations)], check=True, capture_output=True, text=True)
        sizes = json.loads(built.stdout)
        print(f"store: {sizes['conversations']} conversations, {sizes['messages']} messages, {sizes['events']} events"
              f" over a year, built in {time.perf_counter() - t:.1f} s")
        period = ["--since", "2025-11-29", "--until", "2026-11-28"]
        steps = [
            ("report --json, cold (cache empty)", "report", ["report", "--json", *period]),
            ("report --json, warm", "report", ["report", "--json", *period]),
            ("report --json --by agent", None, ["report", "--json", "--by", "agent", *period]),
            ("report --json --by week", None, ["report", "--json", "--by", "week", *period]),
            ("report --json --by tag,snippet,domain", None, ["report", "--json", "--by", "tag,snippet,domain", *period]),
            ("report heatmap --json", "heatmap", ["report", "heatmap", "--json", *period]),
            ("report questions --json", "questions", ["report", "questions", "--json", *period]),
        ]
        print(f"{'step':<40}{'wall s':>8}{'target':>8}{'RSS MB':>8}{'target':>8}")
        results = {}
        for label, target, argv in steps:
            wall, rss, out = run(db, config, *argv)
            results[label] = {"wall": wall, "rss_mb": rss}
            goal = f"{TARGETS[target]:.1f}" if target else "-"
            print(f"{label:<40}{wall:>8.2f}{goal:>8}{rss:>8.0f}{RSS_TARGET_MB:>8}")
            if label.endswith("warm"):
                headline = json.loads(out)["headline"]
                print(f"    ({headline['conversations']} conversations, {headline['closed']} closed, "
                      f"FRT median {headline['first_response']['calendar']['median']} s)")
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
