#!/usr/bin/env python3
"""Every benchmark, one after another, each in its own process; `make bench` runs this.

    .venv/bin/python bench/run_all.py [--skip import,ui,triage,sync,store,reports,rules]

1. bench/parse_speed.py -n 10000               parser speed per message
2. bench/import_vs_notmuch.py -n 10000        import rate against `notmuch new`
3. bench/ui_bench.py                           first paint, keystroke-to-repaint, RSS (100k store)
4. bench/triage_bench.py                       tag/snooze/close/undo -> repainted queue, priority
                                               recomputation (a copy of the 100k store)
5. bench/sync_vs_mbsync.py -n 10000 --runs 3   IMAP first sync against mbsync (when the file exists)
6. bench/store_check.py                        the check before writing (PRAGMA quick_check, 100k store)
7. bench/reports_screen_bench.py --runs 3      the Reports screen: first paint, figures, stalls (100k store)
8. bench/rules_bench.py                        rules on a 1,000-mail sync batch, the queue's SLA (a copy of
                                               the 100k store)

Each one prints its own table (streamed as it runs) and writes its JSON to bench/out/. A failing
benchmark does not stop the others; the exit status is non-zero when any failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent

BENCHMARKS = [
    ("parse", "parse_speed.py", ["-n", "10000"]),
    ("import", "import_vs_notmuch.py", ["-n", "10000"]),
    ("ui", "ui_bench.py", []),
    ("triage", "triage_bench.py", []),
    ("sync", "sync_vs_mbsync.py", ["-n", "10000", "--runs", "3"]),
    ("store", "store_check.py", []),
    ("reports", "reports_screen_bench.py", ["--runs", "3"]),
    ("rules", "rules_bench.py", []),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip", default="", help="comma-separated names to leave out: parse, import, ui, triage, sync, store, reports, "
                    "rules")
    args = ap.parse_args()
    skip = {name.strip() for name in args.skip.split(",") if name.strip()}
    unknown = skip - {name for name, _, _ in BENCHMARKS}
    if unknown:
        ap.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    outcome: list[tuple[str, str]] = []
    for name, script, script_args in BENCHMARKS:
        path = BENCH / script
        if name in skip:
            outcome.append((script, "skipped (--skip)"))
            continue
        if not path.exists():
            outcome.append((script, "not run (no such file)"))
            continue
        command = [sys.executable, str(path), *script_args]
        print(f"\n===== {script} {' '.join(script_args)}".rstrip(), flush=True)
        started = time.perf_counter()
        code = subprocess.run(command, cwd=BENCH.parent).returncode
        took = time.perf_counter() - started
        outcome.append((script, f"ok in {took:.0f} s" if code == 0 else f"FAILED (exit {code}) after {took:.0f} s"))

    print("\n===== summary")
    for script, what in outcome:
        print(f"  {script:<24} {what}")
    return 1 if any("FAILED" in what for _, what in outcome) else 0


if __name__ == "__main__":
    sys.exit(main())
