#!/usr/bin/env python3
"""The Reports screen on the 100k-conversation store (issue 15: first paint <= 0.5 s).

    .venv/bin/python bench/reports_screen_bench.py [--db PATH] [--runs 5] [--no-cold]

The store is bench/out/big-store.sqlite3 (bench/build_big_store.py builds it when missing). The
app runs headless at 120x40 on the real Desk (as `tui-desk --db STORE`), with a throw-away XDG
state dir; the queue is painted first. Then, for each measurement, "D" is sent through the
driver as a terminal key would be, and times are taken from just before sending to the end of
the first frame (encoded as the terminal driver would) that shows:
  screen     the Reports screen itself (the module and its widgets imported on that key)
  headline   the headline figures (Desk.report for the period, per-week breakdown included)
  heatmap    the load heatmap and staffing line (Desk.load)
  questions  the frequent questions (Desk.questions)
and the longest stall of the event loop while the screen filled in (a 5 ms ticker's largest
gap: what a key pressed meanwhile would wait at most).
  cold       the first open after the metrics cache is invalidated (the cache key in the store's
             meta is changed: every conversation's metrics are computed again), 30 days
  warm       later opens (the cache is up to date), 30 days; then the 365-day period ("4")
The first paint figure of the issue is `screen` (and `headline` warm: the numbers themselves).
Writes bench/out/reports_screen_bench.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_FIRST_PAINT = 0.5  # seconds (issue 15)


async def measure(db: Path, runs: int, cold: bool) -> dict:
    from textual import events

    from tui_desk.config import Config
    from tui_desk.desk.service import Desk
    from tui_desk.ui.main_screen import MainScreen

    from bench.frame_timing import frame_counting_app

    async def open_desk():
        return await Desk.open(db, Config(), check=False)

    BenchApp = frame_counting_app(lambda _app, screen: on_frame(screen))
    app = BenchApp(open_desk=open_desk, theme="tui-desk-dark")
    marks: dict[str, float] = {}
    before: list = [None, None]  # the report and heatmap on screen before the timed key

    def on_frame(screen) -> None:
        now = time.perf_counter()
        if type(screen).__name__ != "ReportsScreen":
            return
        marks.setdefault("screen", now)
        if screen.report is not None and screen.report is not before[0]:
            marks.setdefault("headline", now)
        if screen.heat is not None and screen.heat is not before[1]:
            marks.setdefault("heatmap", now)
        if "heatmap" in marks and not screen.reading:
            marks.setdefault("questions", now)

    async def until(predicate, timeout: float = 600.0) -> None:
        deadline = time.perf_counter() + timeout
        while not predicate():
            if time.perf_counter() > deadline:
                raise TimeoutError("the app did not get there")
            await asyncio.sleep(0.005)

    def send(key: str) -> float:
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(app)
        t = time.perf_counter()
        app._driver.send_message(event)
        return t

    async def one(keys: list[str]) -> dict:
        """Send keys (the last one timed, the Reports screen filling in after it)."""
        stall = [0.0]
        stop = asyncio.Event()

        async def ticker() -> None:
            last = time.perf_counter()
            while not stop.is_set():
                await asyncio.sleep(0.005)
                now = time.perf_counter()
                stall[0] = max(stall[0], now - last - 0.005)
                last = now
        for key in keys[:-1]:
            send(key)
            await until(lambda: "questions" in marks)
        marks.clear()
        before[:] = [getattr(app.screen, "report", None), getattr(app.screen, "heat", None)]
        tick = asyncio.ensure_future(ticker())
        t0 = send(keys[-1])
        await until(lambda: "questions" in marks)
        stop.set()
        await tick
        out = {k: round(v - t0, 4) for k, v in marks.items()}
        out["longest_stall"] = round(stall[0], 4)
        return out

    results: dict = {"cold": None, "warm_30_days": [], "warm_365_days": []}
    async with app.run_test(size=(120, 40)) as pilot:
        await until(lambda: app.desk is not None and app.main.alive() and bool(app.queue.ids), 120)
        await pilot.pause(0.5)
        if cold:
            await app.desk.store.set_meta("metrics_cache_key", "bench: cold")
            results["cold"] = await one(["D"])
            send("escape")
            await until(lambda: isinstance(app.screen, MainScreen))
        for _ in range(runs):
            results["warm_30_days"].append(await one(["D"]))
            send("escape")
            await until(lambda: isinstance(app.screen, MainScreen))
        for _ in range(runs):
            results["warm_365_days"].append(await one(["D", "4"]))
            send("escape")
            await until(lambda: isinstance(app.screen, MainScreen))
        results["conversations"] = len(app.queue.ids)
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, help="store (default: the 100k store in bench/out, built if missing)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-cold", action="store_true", help="skip the cold-cache open")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = ap.parse_args()
    db = args.db
    if db is None:
        from bench.build_big_store import ensure_big_store
        db = ensure_big_store()
    os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="reports-bench-")
    os.environ["XDG_CONFIG_HOME"] = os.environ["XDG_STATE_HOME"]
    results = asyncio.run(measure(db, args.runs, not args.no_cold))

    def median(rows: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    print(f"Reports screen on {db} ({results['conversations']} conversations in the queue), 120x40, seconds "
          "from the key to the frame showing it")
    print(f"{'':22}{'screen':>8}{'headline':>10}{'heatmap':>9}{'questions':>11}{'stall':>8}")
    rows = []
    if results["cold"]:
        rows.append(("cold cache, 30 days", results["cold"]))
    for name, key in (("warm, 30 days", "warm_30_days"), ("warm, 365 days", "warm_365_days")):
        runs = results[key]
        rows.append((f"{name} (median)", {k: median(runs, k) for k in runs[0]}))
    for name, r in rows:
        print(f"{name:22}{r['screen']:>8.3f}{r['headline']:>10.3f}{r['heatmap']:>9.3f}{r['questions']:>11.3f}"
              f"{r['longest_stall']:>8.3f}")
    warm = rows[-2][1]
    verdict = "ok" if warm["screen"] <= TARGET_FIRST_PAINT else "OVER"
    print(f"first paint (warm, 30 days): {warm['screen']:.3f} s, target <= {TARGET_FIRST_PAINT} s: {verdict}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "reports_screen_bench.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
