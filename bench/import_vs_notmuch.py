#!/usr/bin/env python3
"""Import rate: `tui-desk import` into a fresh store against `notmuch new` into a fresh database,
on the same generated Maildir. Prints a table and writes bench/out/import_vs_notmuch-<N>.json.

    .venv/bin/python bench/import_vs_notmuch.py [-n 10000] [--runs 3]

Both tools read the same files from a warm page cache, one after the other (all tui-desk runs,
then all notmuch runs). Memory, per tool:
- max RSS: ru_maxrss of the finished command (wait4; includes the descendants it reaped), i.e.
  the largest single process of the tree: for tui-desk the main process or a parser worker.
  For tui-desk it is cross-checked with getrusage(RUSAGE_CHILDREN) after its runs, before
  notmuch ever ran (the generator runs inside this process, not as a child).
- tree PSS: proportional set size summed over the whole process tree, sampled from /proc every
  100 ms (the import forks parser workers; PSS does not count their shared pages twice).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tui_desk.demo import mailbox as generator

OUT = ROOT / "bench" / "out"
END = dt.datetime(2026, 11, 20, 23, 59, tzinfo=dt.timezone.utc)  # the generator's default


def generate(maildir: Path, n: int, seed: int) -> int:
    msgs = generator.Generator(n, seed, END, 60).generate()
    generator.write_maildir(msgs, str(maildir), None, None)
    return sum(len(m.raw) for m in msgs)


def warm(maildir: Path) -> None:
    for p in (maildir / "cur").iterdir():
        p.read_bytes()


def _tree_pss_kib(pid: int) -> int:
    """PSS of pid and all its descendants (KiB), from /proc."""
    parent_of: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            parent_of[int(entry.name)] = int(stat.rsplit(b")", 1)[1].split()[1])
    tree, frontier = {pid}, [pid]
    while frontier:
        p = frontier.pop()
        for child, parent in parent_of.items():
            if parent == p and child not in tree:
                tree.add(child)
                frontier.append(child)
    total = 0
    for p in tree:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def timed(cmd: list[str], env: dict[str, str], work: Path) -> tuple[float, int, int, str]:
    """Wall time (s), ru_maxrss (KiB), peak tree PSS (KiB) and stdout of one command."""
    out_path, err_path = work / "cmd.out", work / "cmd.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        peak = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, _tree_pss_kib(proc.pid))
            time.sleep(0.1)
        elapsed = time.perf_counter() - t0
    proc.returncode = code = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
    if code != 0:
        sys.exit(f"{' '.join(cmd)} failed ({code}):\n{err_path.read_text(errors='replace')}")
    return elapsed, usage.ru_maxrss, peak, out_path.read_text(errors="replace").strip()


def run_desk(maildir: Path, work: Path, runs: int) -> dict:
    env = {**os.environ, "XDG_DATA_HOME": str(work / "xdg-data"), "XDG_CONFIG_HOME": str(work / "xdg-config")}
    env.pop("TUI_DESK_DB", None)
    times, maxrss, pss, store_bytes, line = [], [], [], 0, ""
    for i in range(runs):
        db = work / f"desk-{i}.sqlite3"
        elapsed, rss, peak, line = timed(
            [sys.executable, "-m", "tui_desk", "--db", str(db), "import", str(maildir)], env, work)
        times.append(elapsed)
        maxrss.append(rss)
        pss.append(peak)
        files = list(work.glob(f"desk-{i}.sqlite3*"))
        store_bytes = sum(p.stat().st_size for p in files)
        for p in files:
            p.unlink()
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    return {"times_s": times, "ru_maxrss_mib": max(maxrss) / 1024, "rusage_children_maxrss_mib": children / 1024,
            "tree_pss_peak_mib": max(pss) / 1024, "store_mib": store_bytes / 2**20, "summary": line}


def run_notmuch(notmuch: str, maildir: Path, work: Path, runs: int) -> dict:
    times, maxrss, pss, db_bytes = [], [], [], 0
    for i in range(runs):
        db = work / f"notmuch-db-{i}"
        db.mkdir()
        config = work / f"notmuch-config-{i}"
        config.write_text(f"[database]\npath={db}\nmail_root={maildir}\n"
                          "[new]\ntags=\nignore=\n[maildir]\nsynchronize_flags=false\n")
        env = {**os.environ, "NOTMUCH_CONFIG": str(config)}
        env.pop("NOTMUCH_PROFILE", None)
        elapsed, rss, peak, _ = timed([notmuch, "new", "--quiet"], env, work)
        times.append(elapsed)
        maxrss.append(rss)
        pss.append(peak)
        db_bytes = sum(p.stat().st_size for p in db.rglob("*") if p.is_file())
        shutil.rmtree(db)
    return {"times_s": times, "ru_maxrss_mib": max(maxrss) / 1024, "tree_pss_peak_mib": max(pss) / 1024,
            "db_mib": db_bytes / 2**20}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=10000, help="messages to generate (default 10000)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=OUT, help="where the JSON goes (default bench/out)")
    args = ap.parse_args()
    notmuch = shutil.which("notmuch")
    if notmuch is None:
        print("notmuch is not installed (apt-get install notmuch)", file=sys.stderr)
        return 2
    version = subprocess.run([notmuch, "--version"], capture_output=True, text=True).stdout.strip()

    with tempfile.TemporaryDirectory(prefix="tui-desk-bench-") as tmp:
        work = Path(tmp)
        maildir = work / "mail"
        t0 = time.perf_counter()
        mail_bytes = generate(maildir, args.n, args.seed)
        print(f"generated {args.n} messages ({mail_bytes / 2**20:.1f} MiB) in {time.perf_counter() - t0:.1f} s; "
              f"timing {args.runs} runs of each tool…", flush=True)
        warm(maildir)
        desk = run_desk(maildir, work, args.runs)
        nm = run_notmuch(notmuch, maildir, work, args.runs)

    for r in (desk, nm):
        r["min_s"], r["median_s"] = min(r["times_s"]), statistics.median(r["times_s"])
        r["msgs_per_s_median"] = args.n / r["median_s"]
        r["msgs_per_s_best"] = args.n / r["min_s"]
    ratio = desk["msgs_per_s_median"] / nm["msgs_per_s_median"]

    print(f"\nimport of {args.n} generated messages ({mail_bytes / 2**20:.1f} MiB), {args.runs} runs each, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}\n")
    print(f"| {'tool':<16} | {'min s':>6} | {'median s':>8} | {'msgs/s (median)':>15} | {'max RSS MiB':>11} "
          f"| {'tree PSS MiB':>12} |")
    print(f"|{'-' * 18}|{'-' * 8}|{'-' * 10}|{'-' * 17}|{'-' * 13}|{'-' * 14}|")
    for name, r in (("tui-desk import", desk), (version, nm)):
        print(f"| {name:<16} | {r['min_s']:>6.2f} | {r['median_s']:>8.2f} | {r['msgs_per_s_median']:>15.0f} "
              f"| {r['ru_maxrss_mib']:>11.0f} | {r['tree_pss_peak_mib']:>12.0f} |")
    print(f"\ntui-desk / notmuch rate (median): {ratio:.2f}x")
    print(f"tui-desk getrusage(RUSAGE_CHILDREN).ru_maxrss after its runs: {desk['rusage_children_maxrss_mib']:.0f} MiB")
    print(f"store {desk['store_mib']:.1f} MiB, notmuch database {nm['db_mib']:.1f} MiB")
    print(f"tui-desk said: {desk['summary']}")

    args.out.mkdir(parents=True, exist_ok=True)
    result = {"bench": "import_vs_notmuch", "messages": args.n, "runs": args.runs, "seed": args.seed,
              "mail_mib": mail_bytes / 2**20, "cpus": os.cpu_count(), "python": platform.python_version(),
              "notmuch": version, "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "tui_desk": desk, "notmuch_new": nm, "rate_ratio_median": ratio}
    path = args.out / f"import_vs_notmuch-{args.n}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
