#!/usr/bin/env python3
"""What the store's check before writing costs (PRAGMA quick_check, see tui_desk/store/db.py).

    .venv/bin/python bench/store_check.py [PATH] [--runs 5]

On the 100k-conversation store of bench/build_big_store.py (built when missing): quick_check
with the file's pages in the page cache (median of --runs) and read from disk (the file's pages
dropped with posix_fadvise first: Linux), integrity_check for comparison, and Desk.open without
and with the check. Prints a table, writes bench/out/store_check.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from build_big_store import DEFAULT_PATH, ensure_big_store
from tui_desk.desk.service import Desk


def pragma_seconds(path: Path, pragma: str, cold: bool = False) -> float:
    if cold:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        started = time.perf_counter()
        rows = con.execute(f"PRAGMA {pragma}").fetchall()
        took = time.perf_counter() - started
    finally:
        con.close()
    assert rows == [("ok",)], rows
    return took


async def open_seconds(path: Path, check: bool) -> float:
    started = time.perf_counter()
    desk = await Desk.open(path, check=check)
    took = time.perf_counter() - started
    await desk.close()
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    path = ensure_big_store(args.path)
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conversations = con.execute("SELECT count(*) FROM conversations").fetchone()[0]
    con.close()
    size = path.stat().st_size
    cold = pragma_seconds(path, "quick_check", cold=True)
    warm = statistics.median(pragma_seconds(path, "quick_check") for _ in range(args.runs))
    integrity = pragma_seconds(path, "integrity_check")
    unchecked = statistics.median(asyncio.run(open_seconds(path, False)) for _ in range(args.runs))
    checked = statistics.median(asyncio.run(open_seconds(path, True)) for _ in range(args.runs))
    figures = {"conversations": conversations, "file_mib": round(size / 2**20),
               "quick_check_warm_s": round(warm, 3), "quick_check_cold_s": round(cold, 3),
               "integrity_check_warm_s": round(integrity, 3),
               "desk_open_unchecked_s": round(unchecked, 3), "desk_open_checked_s": round(checked, 3)}
    print(f"store: {conversations} conversations, {figures['file_mib']} MiB")
    print(f"{'figure':<44} {'seconds':>8}")
    for label, key in [("PRAGMA quick_check, pages in memory (median)", "quick_check_warm_s"),
                       ("PRAGMA quick_check, pages read from disk", "quick_check_cold_s"),
                       ("PRAGMA integrity_check, pages in memory", "integrity_check_warm_s"),
                       ("Desk.open to read (no check, median)", "desk_open_unchecked_s"),
                       ("Desk.open to write (checked, median)", "desk_open_checked_s")]:
        print(f"{label:<44} {figures[key]:>8.3f}")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "store_check.json").write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
