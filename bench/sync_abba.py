#!/usr/bin/env python3
"""First-sync CPU of two trees, in ABBA pairs, against one private Dovecot: for a loaded machine,
where only paired ratios mean something.

    .venv/bin/python bench/sync_abba.py --compare-tree DIR [-n 10000] [--pairs 6] [--phases]

Setup as in bench/sync_vs_mbsync.py (the same generated mailbox, one untimed warm-up download).
Each pair runs `tui-desk sync --once` of DIR's tui_desk (old) and of this checkout (new) into
fresh stores, in the order old-new, new-old, old-new, ...; per run: wall, CPU of the sync's
process tree (user + sys from wait4), CPU of Dovecot's process tree over the same run (every
process's own and reaped children's ticks from /proc), and "queue usable" (all headers stored).
After the first pair the two stores are compared: every table's rows (raw mail decompressed),
so a change that alters what is stored fails here. `--phases`: one in-process run of this
checkout with the CPU of the main thread, the SQLite thread by statement and the workers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "bench", ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from servers import DovecotServer, MaildirMessage, make_server_dir
from sync_vs_mbsync import (DAYS, END, PHASES_HARNESS, PYTHON, imaplib_download, precompile, run_desk_once,
                            write_config)
from tui_desk.demo import mailbox as generator

TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu(root_pid: int) -> float:
    """CPU seconds of a process tree: each live process's own and reaped children's time."""
    total, frontier = 0, [root_pid]
    while frontier:
        pid = frontier.pop()
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    frontier += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return total / TICK


def table_rows(db: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            " AND name NOT LIKE 'messages_fts_%'")]
        out = {}
        for name in names:
            cols = [r[1] for r in con.execute(f"PRAGMA table_info({name})")]
            # the clock, the server's MODSEQs (each sync's own) and the dirty marks' order
            keep = [c for c in cols if c not in ("added_at", "at", "updated_at", "modseq", "seq")]
            sel = ", ".join(keep) if keep else "*"
            rows = con.execute(f"SELECT {sel} FROM {name}").fetchall()
            if name == "raw_messages":
                rows = [(r[0], zlib.decompress(r[1])) for r in rows]
            if name == "imap_messages":  # \Recent: the session that saw the mail first, not the mail
                at = keep.index("flags")
                rows = [(*r[:at], " ".join(f for f in r[at].split() if f != "\\Recent"), *r[at + 1:]) for r in rows]
            out[name] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def compare_stores(a: Path, b: Path) -> list[str]:
    ra, rb = table_rows(a), table_rows(b)
    diffs = []
    for name in sorted(set(ra) | set(rb)):
        if (ra.get(name) or []) != (rb.get(name) or []):  # a new empty table is no difference
            x, y = ra.get(name) or [], rb.get(name) or []
            first = next((i for i, (p, q) in enumerate(zip(x, y)) if p != q), min(len(x), len(y)))
            diffs.append(f"{name}: {len(x)} vs {len(y)} rows, first difference at row {first}: "
                         f"{str(x[first:first + 1])[:300]} vs {str(y[first:first + 1])[:300]}")
    return diffs


def phases_of(cfg: Path, db: Path, n: int, work: Path, tree: Path | None) -> dict:
    """sync_vs_mbsync.phases_once for either tree: CPU of the main thread, the SQLite thread by
    statement and the workers, in-process."""
    harness, out = work / "phases_harness.py", work / "phases.json"
    harness.write_text(PHASES_HARNESS)
    run_desk_once(cfg, db, n, work, prefix=[PYTHON, str(harness), str(out)], tree=tree)
    return json.loads(out.read_text())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compare-tree", type=Path, required=True, metavar="DIR")
    ap.add_argument("--tree", type=Path, metavar="DIR",
                    help="the new side: DIR's tui_desk instead of this checkout's (a snapshot, so the "
                         "checkout can change while the pairs run)")
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--pairs", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--phases", action="store_true")
    args = ap.parse_args()
    server_root = make_server_dir(Path(tempfile.gettempdir()))
    work = Path(tempfile.mkdtemp(prefix="tui-desk-bench-abba-"))
    server = DovecotServer(server_root)
    try:
        server.start()
        master = server._process.pid  # the master stays our child (dovecot -F)
        user = server.new_user()
        msgs = generator.Generator(args.n, args.seed, END, DAYS).generate()
        server.load_maildir(user, [MaildirMessage(m.raw, m.flags, m.when) for m in msgs])
        del msgs
        imaplib_download(server, user, args.n)
        cfg = work / "plain.toml"
        write_config(cfg, server, user, "none")
        precompile(work, args.compare_tree)
        precompile(work, args.tree)
        got: dict[str, list[dict]] = {"old": [], "new": []}
        for pair in range(args.pairs):
            order = ("old", "new") if pair % 2 == 0 else ("new", "old")
            dbs = {}
            for which in order:
                db = work / f"{which}-{pair}.sqlite3"
                before = tree_cpu(master)
                r = run_desk_once(cfg, db, args.n, work, tree=args.compare_tree if which == "old" else args.tree)
                r["dovecot_cpu_s"] = tree_cpu(master) - before
                r["cpu_s"] = r["cpu_user_s"] + r["cpu_sys_s"]
                r["load"] = os.getloadavg()[0]
                got[which].append(r)
                dbs[which] = db
                print(f"pair {pair + 1} {which}: wall {r['total_s']:.2f} s, queue usable {r['queue_usable_s']:.2f} s,"
                      f" cpu {r['cpu_s']:.2f} s, dovecot {r['dovecot_cpu_s']:.2f} s, load {r['load']:.1f}", flush=True)
            if pair == 0:
                diffs = compare_stores(dbs["old"], dbs["new"])
                print("stores: " + ("identical" if not diffs else "DIFFER: " + "; ".join(diffs)), flush=True)
            for db in dbs.values():
                for p in work.glob(db.name + "*"):
                    p.unlink()
        print()
        for key, label in (("cpu_s", "CPU, sync process tree"), ("dovecot_cpu_s", "CPU, Dovecot"),
                           ("total_s", "wall"), ("queue_usable_s", "queue usable")):
            old = [r[key] for r in got["old"]]
            new = [r[key] for r in got["new"]]
            ratios = sorted(n / o for n, o in zip(new, old) if o)
            print(f"{label:<24} old median {statistics.median(old):6.2f} s  new median {statistics.median(new):6.2f} s"
                  f"  new/old pairs median {statistics.median(ratios):.3f} ({ratios[0]:.2f}-{ratios[-1]:.2f})")
        both = sorted((n["cpu_s"] + n["dovecot_cpu_s"]) / (o["cpu_s"] + o["dovecot_cpu_s"])
                      for n, o in zip(got["new"], got["old"]))
        print(f"{'CPU, sync + Dovecot':<24} new/old pairs median {statistics.median(both):.3f} ({both[0]:.2f}-{both[-1]:.2f})")
        if args.phases:
            for which, tree in (("old", args.compare_tree), ("new", args.tree)):
                ph = phases_of(cfg, work / f"phases-{which}.sqlite3", args.n, work, tree)
                cpu = ph["cpu"]
                print(f"\nphases run, {which}: main thread {cpu['main_thread_s']:.2f} s, SQLite thread "
                      f"{cpu['sqlite_thread_s']:.2f} s, workers {cpu['workers_s']:.2f} s")
                for row in ph["sql"]:
                    print(f"  {row['cpu_s']:>8.2f} s {row['calls']:>7}  {row['what']}")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(server_root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
