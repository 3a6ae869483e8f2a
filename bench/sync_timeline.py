#!/usr/bin/env python3
"""CPU timeline of one `tui-desk sync --once`: where a core stands idle.

    .venv/bin/python bench/sync_timeline.py [-n 10000] [--compare-tree DIR] [--tree DIR] [--runs N]
    (or `bench/sync_vs_mbsync.py --timeline`: one timeline after the timed runs)

The real command (`python -m tui_desk sync --once`, nothing wrapped in it) runs into a fresh store
while a thread of this process samples, every `--every` seconds:
- /proc/PID/task/*/stat of the sync's process: its main thread (TID = PID) and its other
  threads (aiosqlite's SQLite thread, the pool's management threads: "sqlite+" below);
- /proc/CPID/stat of its children (the parse workers, and the resource tracker);
- /proc/stat, the whole machine: what other work took meanwhile ("others": the VM is shared);
- the store, from a read-only connection (WAL: never blocks the writer): headers committed
  (imap_messages) and bodies committed (body_state 'full'), which give the phase marks.
Printed: one row per `--bucket` (0.1 s): cores used by main thread / other threads / workers /
all of the sync, the cores the sync left idle on this machine (os.cpu_count() minus the sync,
minus others when they were busy too), the store's progress, and the marks: workers up, first
header batch committed, all headers, first body batch, all bodies, exit. Then the idle
core-seconds per segment (start, headers, header->body boundary, bodies, tail).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "bench", ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

TICK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


def _ticks(path: str) -> int:
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _machine() -> tuple[int, int]:
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[3] + v[4]  # total, idle + iowait


class Sampler(threading.Thread):
    """Samples the sync's threads and children, the machine and the store until stopped; each
    sample: (monotonic s, main thread ticks, other threads ticks, children ticks, machine busy
    ticks, machine total ticks, headers, bodies). Ticks of a thread or child that has gone keep
    their last value (a worker's CPU does not vanish when it exits)."""

    def __init__(self, pid: int, db: Path, every: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.db, self.every = pid, db, every
        self.samples: list[tuple[float, int, int, int, int, int, int, int]] = []
        self.workers_up: float | None = None  # when the first child had used CPU
        self._threads: dict[int, int] = {}
        self._children: dict[int, int] = {}
        self._halt = threading.Event()
        self._con: sqlite3.Connection | None = None

    def _store(self) -> tuple[int, int]:
        try:
            if self._con is None:
                if not self.db.exists():
                    return 0, 0
                self._con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=0.5,
                                            check_same_thread=False)
            heads = self._con.execute("SELECT count(*) FROM imap_messages").fetchone()[0]
            bodies = self._con.execute("SELECT count(*) FROM messages WHERE body_state = 'full'").fetchone()[0]
            return heads, bodies
        except sqlite3.Error:
            return 0, 0  # not created or not migrated yet

    def sample(self) -> None:
        now = time.monotonic()
        try:
            for tid in os.listdir(f"/proc/{self.pid}/task"):
                try:
                    self._threads[int(tid)] = _ticks(f"/proc/{self.pid}/task/{tid}/stat")
                    with open(f"/proc/{self.pid}/task/{tid}/children") as f:
                        for c in f.read().split():
                            self._children.setdefault(int(c), 0)
                except OSError:
                    pass
        except OSError:
            pass
        for c in list(self._children):
            try:
                self._children[c] = _ticks(f"/proc/{c}/stat")
            except OSError:
                pass
        if self.workers_up is None and any(self._children.values()):
            self.workers_up = now
        total, idle = _machine()
        main = self._threads.get(self.pid, 0)
        heads, bodies = self._store()
        self.samples.append((now, main, sum(self._threads.values()) - main, sum(self._children.values()),
                             total - idle, total, heads, bodies))

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.every)
        self.sample()
        if self._con is not None:
            self._con.close()

    def stop(self) -> None:
        self._halt.set()
        self.join()


def run_timeline(cfg: Path, db: Path, n: int, work: Path, tree: Path | None = None, every: float = 0.025) -> dict:
    """One `sync --once` of this checkout (or of tree's tui_desk) sampled; returns the samples,
    the start and end (monotonic s) and the marks."""
    from sync_vs_mbsync import PYTHON, desk_env
    cmd = [PYTHON, "-m", "tui_desk", "--config", str(cfg), "--db", str(db), "sync", "--once"]
    with (work / "timeline.out").open("wb") as out, (work / "timeline.err").open("wb") as err:
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, env=desk_env(work, tree), stdout=out, stderr=err, cwd=work)
        sampler = Sampler(proc.pid, db, every)
        sampler.start()
        code = proc.wait()
        t_end = time.monotonic()
        sampler.stop()
    if code != 0:
        raise RuntimeError(f"sync --once failed ({code}): {(work / 'timeline.err').read_text()[-2000:]}")
    s = sampler.samples

    def first(pred) -> float | None:
        return next((row[0] - t0 for row in s if pred(row)), None)

    marks = {"workers up": None if sampler.workers_up is None else sampler.workers_up - t0,
             "first header batch": first(lambda r: r[6] > 0),
             "all headers": first(lambda r: r[6] >= n),
             "first body batch": first(lambda r: r[7] > 0),
             "all bodies": first(lambda r: r[7] >= n),
             "exit": t_end - t0}
    return {"t0": t0, "end": t_end, "samples": s, "marks": marks, "n": n}


def buckets(tl: dict, width: float) -> list[dict]:
    """Cores used per bucket of `width` seconds: each sample's tick deltas go to the bucket its
    time falls in."""
    s, t0 = tl["samples"], tl["t0"]
    if not s:
        return []
    count = int((s[-1][0] - t0) / width) + 1
    acc = [[0] * 5 for _ in range(count)]
    heads, bodies = [0] * count, [0] * count
    prev = (t0, 0, 0, 0, s[0][4], s[0][5])
    for row in s:
        k = min(count - 1, int((row[0] - t0) / width))
        for i in range(5):
            acc[k][i] += row[i + 1] - prev[i + 1]
        heads[k], bodies[k] = row[6], row[7]
        prev = row
    rows = []
    for k in range(count):
        span = min(width, s[-1][0] - t0 - k * width) if k == count - 1 else width
        span = max(span, 1e-3)
        main, sqlite, workers, busy, total = acc[k]
        mine = (main + sqlite + workers) / TICK / span
        machine = busy / total * CORES if total else mine
        rows.append({"t": k * width, "main": main / TICK / span, "sqlite": sqlite / TICK / span,
                     "workers": workers / TICK / span, "sync": mine, "others": max(0.0, machine - mine),
                     "heads": heads[k] or (rows[-1]["heads"] if rows else 0),
                     "bodies": bodies[k] or (rows[-1]["bodies"] if rows else 0)})
    return rows


SEGMENTS = (("start (to first header batch)", None, "first header batch"),
            ("headers (to all headers)", "first header batch", "all headers"),
            ("boundary (to first body batch)", "all headers", "first body batch"),
            ("bodies (to all bodies)", "first body batch", "all bodies"),
            ("tail (to exit)", "all bodies", "exit"))


def report(tl: dict, label: str, width: float = 0.1) -> dict:
    rows = buckets(tl, width)
    marks = tl["marks"]
    print(f"\nCPU timeline, {label}: cores in use per {width * 1000:.0f} ms ({CORES} cores; "
          f"'idle' = cores neither the sync nor other work used)")
    print(f"{'t s':>5} {'main':>5} {'sqlite+':>7} {'workers':>7} {'sync':>5} {'others':>6} {'idle':>5} "
          f"{'headers':>7} {'bodies':>6}  bar (# sync, o others, . idle)")
    idle_by_segment = {name: 0.0 for name, _, _ in SEGMENTS}
    for r in rows:
        idle = max(0.0, CORES - r["sync"] - r["others"])
        r["idle"] = idle
        here = [k for k, v in marks.items() if v is not None and r["t"] <= v < r["t"] + width]
        cells = round(r["sync"] * 4), round(r["others"] * 4)
        bar = "#" * min(cells[0], CORES * 4) + "o" * max(0, min(cells[1], CORES * 4 - cells[0]))
        bar = bar.ljust(CORES * 4, ".")
        print(f"{r['t']:>5.1f} {r['main']:>5.2f} {r['sqlite']:>7.2f} {r['workers']:>7.2f} {r['sync']:>5.2f} "
              f"{r['others']:>6.2f} {idle:>5.2f} {r['heads']:>7} {r['bodies']:>6}  {bar}  {', '.join(here)}")
        for name, start, end in SEGMENTS:
            lo = 0.0 if start is None else marks.get(start)
            hi = marks.get(end)
            if lo is not None and hi is not None and lo <= r["t"] + width / 2 < hi:
                idle_by_segment[name] += idle * width
    print("marks: " + ", ".join(f"{k} {v:.2f} s" for k, v in marks.items() if v is not None))
    print("core-seconds the sync left idle (and no other work took), by segment: " + ", ".join(
        f"{name} {v:.2f}" for name, v in idle_by_segment.items()))
    s = tl["samples"]
    last = s[-1]
    cpu = (last[1] + last[2] + last[3]) / TICK
    print(f"CPU of the sync: main thread {last[1] / TICK:.2f} s, other threads {last[2] / TICK:.2f} s, "
          f"children {last[3] / TICK:.2f} s, all {cpu:.2f} s in {marks['exit']:.2f} s wall "
          f"(floor on {CORES} cores {cpu / CORES:.2f} s)")
    return {"label": label, "marks": marks, "idle_by_segment": idle_by_segment, "rows": rows, "cpu_s": cpu}


def main() -> int:
    from servers import DovecotServer, MaildirMessage, make_server_dir
    from sync_vs_mbsync import DAYS, END, imaplib_download, precompile, write_config
    from tui_desk.demo import mailbox as generator

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=1, help="timelines of each tree, alternating")
    ap.add_argument("--every", type=float, default=0.025, help="sampling interval, s")
    ap.add_argument("--bucket", type=float, default=0.1, help="row width, s")
    ap.add_argument("--compare-tree", type=Path, metavar="DIR", help="also the tui_desk package in DIR, first")
    ap.add_argument("--tree", type=Path, metavar="DIR", help="DIR's tui_desk instead of this checkout's")
    args = ap.parse_args()
    server_root = make_server_dir(Path(tempfile.gettempdir()))
    work = Path(tempfile.mkdtemp(prefix="tui-desk-bench-timeline-"))
    server = DovecotServer(server_root)
    try:
        server.start()
        user = server.new_user()
        msgs = generator.Generator(args.n, args.seed, END, DAYS).generate()
        server.load_maildir(user, [MaildirMessage(m.raw, m.flags, m.when) for m in msgs])
        del msgs
        imaplib_download(server, user, args.n)  # warms Dovecot and the page cache
        cfg = work / "plain.toml"
        write_config(cfg, server, user, "none")
        for tree in (args.compare_tree, args.tree):
            precompile(work, tree)
        trees = ([("old", args.compare_tree)] if args.compare_tree else []) + [
            ("new", args.tree) if args.tree else ("this checkout", None)]
        for run in range(args.runs):
            for label, tree in (trees if run % 2 == 0 else trees[::-1]):
                db = work / "timeline.sqlite3"
                tl = run_timeline(cfg, db, args.n, work, tree, args.every)
                report(tl, f"{label}{f' ({tree})' if tree else ''}, run {run + 1}", args.bucket)
                for p in work.glob(db.name + "*"):
                    p.unlink()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(server_root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
