#!/usr/bin/env python3
"""The TUI on a 100k-conversation store: first paint, keystroke-to-repaint, RSS.
Prints a table against the targets and writes bench/out/ui_bench.json.

    .venv/bin/python bench/ui_bench.py [--db PATH] [--runs 5] [-j 300] [--pgdn 50] [--profile]

The store is bench/out/big-store.sqlite3, built once by bench/build_big_store.py when missing
(about 3 minutes). The app runs at 120x40 with default config and a throw-away XDG config/data
dir (so no remembered theme is read or written), COLORTERM=truecolor, TERM=tmux-256color.

1. First paint, two ways, each `--runs` times in a fresh process after one untimed warm-up:
   a. in-process: a child interpreter does what `tui-desk` does (cli.main, cli.run_tui): imports
      the CLI, reads the command line and the config (and the setup hint's store check, as
      a start without accounts does), forks the child process reading the queue's first page (desk.first_page: the
      thread when it cannot fork; the JSON says which), imports the TUI,
      builds DeskApp with the same `open_desk` factory and reader as `run_app`, and runs it under
      `App.run_test(size=(120, 40))`
      (headless). Each frame the screen hands to `App._display` is also encoded with
      `render_segments` (what the terminal driver does; the headless driver skips it). First
      paint = the end of the first frame in which QueueView.render_line drew a line of a loaded
      row (not "Loading…", not a "…" placeholder). Times are taken from the parent's clock just
      before it spawned the child, and split into: interpreter start, imports, DeskApp(), the
      first-page reader's reads of the queue's ids and of the first page's rows (its own wall
      clock, sent back with the page), first frame, first row frame, the app's
      own Desk.open (after the rows are on screen). Also the CPU time of the process (both
      threads) up to that frame: on a shared machine it varies far less than the wall time.
   b. end-to-end: `tui-desk --db STORE` in a private tmux server (`tmux -L <name> new -d -x 120
      -y 40`, status line off); the pane runs `date +%s.%N >t0; exec tui-desk ...`, so t0 is the
      process start. `tmux capture-pane -p` is polled every 10 ms until a line shows the
      customer of one of the first three queue rows (from `tui-desk queue --json`).
      Process start -> visible includes tmux parsing the output and the polling interval
      (a capture costs a few ms of its own; its mean is reported).
2. Keystroke-to-repaint, in-process (same child as 1a, after first paint): `-j` presses of j,
   then `--pgdn` of PageDown, one at a time. Each key is a Key event sent through the driver as
   Pilot does (`driver.send_message`); latency = from just before sending to the end of the
   first frame (render_update + render_segments) that redrew queue lines. It includes the
   event queue, the binding, the action, the screen's idle check and update timer (a repaint is
   immediate when the last frame is older than 1/60 s), the compositor and the encoding; not
   the write to a real terminal. Between keys the app is left to settle (no frame for 30 ms and
   no "…" placeholder on screen). Also reported: time until the rows of a page that had to be
   fetched are on screen, and the time to settle (status line included).
   For comparison only: `await pilot.press("j"); await pilot.pause()`, which is not a latency:
   press() itself waits for idle twice (asyncio sleeps of 20 ms while the process is busy)
   and pause() waits for idle again and forces a repaint.
   And a held key: j sent at 30/s (terminal autorepeat) without waiting in between.
   Garbage collections are recorded (gc.callbacks), so a slow key can be told apart: a full
   collection inside its frame, or a wait for the screen's 60 fps update timer.
   End-to-end in tmux (informative, coarse): after a key is sent with `tmux send-keys`,
   `capture-pane -p -e` (attributes included, so a moved cursor shows) is polled until the
   screen differs.
3. RSS of the tmux-run process (VmRSS/VmHWM from /proc/PID/status): right at first paint, 1 s
   later, and after scrolling (`-j` j and `--pgdn` PageDown sent at 60/s with send-keys).

Reference: the same tmux measurement for a Textual app that shows one Static (the floor any
Textual app pays on this machine: interpreter, Textual's imports, first frame).

Before each timed phase the bench waits (up to 20 s) for the CPUs to be idle, since other
work on this machine would show up as latency; load averages are recorded in the JSON.
Children run with bytecode cached under bench/out/pycache (as after any install; the tree gets
no __pycache__) even where PYTHONDONTWRITEBYTECODE is set.

Profiles (`--profile`; automatic for a figure that misses its target):
- first paint: one more in-process first paint under cProfile (bench/out/ui_first_paint.prof),
  top 15 by cumulative time, top 10 by own time, plus the heaviest imports (`-X importtime`);
- keys: the isolated j/PageDown run under cProfile (bench/out/ui_keys.prof).
`--what-if FILE`: every in-process child runs FILE after its imports and before DeskApp is
built, e.g. a monkeypatch with a proposed fix, so its effect can be measured without touching
the tree (results go to ui_bench-what-if.json; add --no-tmux, the tmux runs use the tree as is).
`--instructions [--compare-tree DIR]`: instead of the above, the in-process first paint once
under valgrind's callgrind, ended at the first row frame: the instructions of the app's process
up to it (the forked reader apart), the same from run to run (±0.05 %) whatever else the
machine runs, where times on a shared VM vary by ±10 % and more. With --compare-tree, DIR's
tui_desk the same way (a checkout of another commit, e.g. `git archive REV tui_desk | tar -x
-C DIR`); both trees are copied to sibling temporary folders first (where a tree lies counts:
~0.7 % between two places of one tree) and run by this file's child; --what-if applies to
this tree only. ~20 s a run; needs valgrind.

Why this file is long: one bench, whose child (in-process runs) and parent (tmux, the
summary) share their protocol and figures; split, each half would be read with the other.
"""

from __future__ import annotations

import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZE = (120, 40)
TARGET_FIRST_PAINT_S = 0.3
TARGET_P95_MS = 16.0
TARGET_RSS_MIB = 150.0
ENV_EXTRA = {"COLORTERM": "truecolor", "TERM": "tmux-256color"}


def pct(values: list[float], p: float) -> float:
    """The p-th percentile, interpolated between the two nearest values."""
    values = sorted(values)
    if len(values) == 1:
        return values[0]
    k = (len(values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def summary(values: list[float | None]) -> dict:
    values = [v for v in values if v is not None]
    return {"n": len(values), "p50": pct(values, 50), "p95": pct(values, 95), "max": max(values),
            "min": min(values)} if values else {"n": 0}


def child_env(work, out_dir) -> dict[str, str]:
    """The environment of the app processes the benches start: no TUI_DESK_/TEXTUAL settings of
    the caller, a throw-away XDG config and data dir in `work`, this tree on the path.
    Bytecode is cached as after any install, but under out_dir/pycache, not in the tree. (With
    PYTHONDONTWRITEBYTECODE, as set on some machines, every start would compile tui_desk from
    source: about 50 ms more.)"""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TUI_DESK_", "TEXTUAL")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(ENV_EXTRA, XDG_CONFIG_HOME=str(work / "config"), XDG_DATA_HOME=str(work / "data"),
               PYTHONPATH=ROOT, PYTHONPYCACHEPREFIX=str(out_dir / "pycache"))
    return env


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def cpu_idle_fraction(window: float = 0.25) -> float:
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v)
    i0, t0 = sample()
    time.sleep(window)
    i1, t1 = sample()
    return (i1 - i0) / max(1, t1 - t0)


def wait_until_quiet(what: str, loads: list[str], need: float = 0.85, max_wait: float = 20.0) -> bool:
    """Wait (up to max_wait) for idle CPUs before a timed phase: other work on the machine
    would show up as latency. What was found goes to `loads`; False if never quiet."""
    deadline = time.time() + max_wait
    while time.time() < deadline:
        if cpu_idle_fraction() >= need:
            loads.append(f"{what}: quiet, load {loadavg()}")
            return True
    loads.append(f"{what}: NOT quiet after {max_wait:.0f} s, load {loadavg()}")
    print(f"  warning: CPUs busy before {what} (load {loadavg()}); figures may be inflated", flush=True)
    return False


def vm_status(pid: int | str = "self") -> dict[str, float]:
    """VmRSS and VmHWM in MiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024
    return out


# =========================================================================== the child side
# Runs in a fresh interpreter: `ui_bench.py --child first-paint|keys|profile|profile-keys --db PATH
# --spawned T`. Only os/sys/time are imported before the timed imports.


def child(mode: str, db: str, spawned: float, n_j: int, n_pgdn: int, prof_path: str | None,
          what_if: str | None) -> None:
    script_start = time.time()
    offset = time.time() - time.perf_counter()  # perf_counter -> wall clock
    profiler = None
    if mode == "profile":
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()

    import asyncio

    import tui_desk.cli  # what the `tui-desk` script imports first
    from tui_desk.cli.output import log_warnings_sanitized
    from tui_desk.cli.parser import parse_args
    from tui_desk.config import load_config
    from tui_desk.desk.first_page import FirstPageReader

    marks: dict[str, float] = {}
    info: dict = {}

    def mark(name: str) -> None:
        marks.setdefault(name, time.time())

    # as cli.main before run_tui: the command line, the warnings' handler, the config, the
    # store's folder checked, and without accounts the setup hint (the bench has none)
    cli_args = parse_args(["--db", db])
    log_warnings_sanitized()
    config = load_config(None)
    tui_desk.cli._check_store_folder(cli_args, config)
    if not config.accounts:
        info["setup_hint"] = tui_desk.cli._app_setup_hint(cli_args.db, config)
    # as `tui-desk` does (cli.run_tui): no garbage collection until the app has started, the
    # first page read in a forked child while the TUI is imported (its times come back with it)
    import gc

    gc.disable()
    reader = FirstPageReader(db, config, fork=True)
    info["first_page_forked"] = reader.forked

    import tui_desk.ui.app as app_module  # as cli.run_tui: the TUI, imported while the child reads

    imported = time.time()
    info["cpu_at_imported_s"] = time.process_time()  # the process (the forked child is not in it)
    if what_if:
        # a proposed fix, tried without touching the tree (see --what-if)
        with open(what_if) as f:
            exec(compile(f.read(), what_if, "exec"), {"__name__": "ui_bench_what_if"})

    from bench.frame_timing import FrameProbe, frame_counting_app, install_frame_probe, record_gc, send_key
    from bench.frame_timing import settle as frame_settle
    from bench.frame_timing import wait_for as frame_wait_for

    class Probe(FrameProbe):
        def drawn(self) -> None:
            if self.rows:
                if "first_row_frame" not in marks:  # both threads' CPU: the noise of a shared machine is in wall time
                    info["cpu_to_first_row_s"] = time.process_time()
                    info["main_cpu_from_construct_s"] = time.thread_time() - info["main_cpu_at_construct"]
                    if mode == "instructions":  # callgrind counts up to here (reader.close: the forked child ends)
                        reader.close()
                        sys.stdout.write(f"UI_BENCH_FRAMES {len(self.frames)}\n")
                        sys.stdout.flush()
                        os._exit(0)
                mark("first_row_frame")
            mark("first_frame")

    probe = Probe()

    gc_runs: list[tuple[int, float, float]] = []  # generation, start, end (perf_counter)
    record_gc(gc_runs)
    install_frame_probe(probe)

    BenchApp = frame_counting_app(lambda app, screen: probe.frame_done())

    running_app = None

    async def open_desk():
        desk_class = await asyncio.to_thread(app_module._desk_class)  # as run_app: after the first page
        desk = await desk_class.open(db, config)
        mark("desk_opened")
        return desk

    async def wait_for(predicate, timeout: float) -> None:
        await frame_wait_for(probe, predicate, timeout, "the app to paint what was expected", lambda: running_app)

    async def settle(quiet: float = 0.03, timeout: float = 3.0) -> None:
        await frame_settle(probe, quiet, timeout)

    send = send_key

    def per_key(sent: list[tuple[str, float, float]]) -> list[dict]:
        """For each (key, sent, settled): first queue frame, rows complete, settle time."""
        out = []
        frames = probe.frames
        for key, t0, done in sent:
            after = [f for f in frames if t0 < f[1] <= done + 1e-9]
            queue = [f for f in after if f[2]]
            if not queue:
                out.append({"key": key, "repaint_ms": None})
                continue
            first = queue[0]
            complete = next((f for f in queue if f[2] and not f[4]), None)
            gcs = [(g, e - b) for g, b, e in gc_runs if t0 <= b <= first[1]]
            out.append({
                "gc_ms": sum(d for _, d in gcs) * 1000,
                "gc_generations": sorted({g for g, _ in gcs}),
                "key": key,
                "repaint_ms": (first[1] - t0) * 1000,
                "frame_ms": (first[1] - first[0]) * 1000 if first[0] else None,
                "before_frame_ms": ((first[0] or first[1]) - t0) * 1000,
                "placeholders": any(f[4] for f in queue),
                "rows_ms": (complete[1] - t0) * 1000 if complete else None,
                "settled_ms": (after[-1][1] - t0) * 1000,
                "queue_lines": first[2],
            })
        return out

    async def keys(app, pilot) -> dict:
        result: dict = {}
        await settle(0.2, 10)
        sent = []
        key_profiler = None
        if mode == "profile-keys":
            import cProfile

            key_profiler = cProfile.Profile()
            key_profiler.enable()
        for key in ["j"] * n_j + ["pagedown"] * n_pgdn:
            t0 = send(app, key)
            await wait_for(lambda: any(f[2] for f in probe.frames if f[1] > t0), 5)
            await settle()
            sent.append((key, t0, probe.last_end))
        result["isolated"] = per_key(sent)
        result["gc_during_isolated"] = [(g, b - sent[0][1], e - b) for g, b, e in gc_runs
                                        if sent[0][1] <= b <= sent[-1][2]]
        if key_profiler is not None:
            key_profiler.disable()
            if prof_path:
                key_profiler.dump_stats(prof_path)
            return result
        result["cursor_after"] = app.queue.cursor
        result["rss_after_scroll"] = vm_status()

        # held key: 30/s without waiting for the screen
        await settle(0.2, 10)
        sent, start = [], time.perf_counter()
        held = max(30, n_j // 2)
        for i in range(held):
            delay = start + i / 30 - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sent.append(("j", send(app, "j"), 0.0))
        await settle(0.1, 10)
        # a key's repaint may come after the next key was sent: no upper bound per key
        result["held_30hz"] = per_key([(k, t0, float("inf")) for k, t0, _ in sent])

        # Pilot's own press + pause, for reference
        await settle(0.2, 10)
        pilot_ms = []
        for _ in range(30):
            t = time.perf_counter()
            await pilot.press("j")
            await pilot.pause()
            pilot_ms.append((time.perf_counter() - t) * 1000)
        result["pilot_press_pause_ms"] = pilot_ms
        return result

    async def main() -> dict:
        mark("loop_started")
        nonlocal running_app
        app = running_app = BenchApp(open_desk=open_desk, first_page=reader)
        mark("constructed")
        info["main_cpu_at_construct"] = time.thread_time()
        out: dict = {}
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(lambda: "first_row_frame" in marks, 60)
            info["queue_len"] = len(app.queue.ids)
            if profiler is not None:
                profiler.disable()
            out["rss_first_paint"] = vm_status()
            out["color_system"] = app.console.color_system
            out["frames_to_first_row"] = [
                ((f[0] or f[1]) + offset - spawned, f[1] - (f[0] or f[1]), f[2]) for f in probe.frames]
            if mode in ("keys", "profile-keys"):
                out["keys"] = await keys(app, pilot)
        return out

    out = asyncio.run(main())
    reader.close()
    timings = reader.timings  # the child's clock is the same wall clock
    if "ids_read" in timings:
        marks["ids_loaded"] = timings["ids_read"]
        marks["first_rows_fetched"] = timings["rows_made"]
        info["queue_ids_s"] = timings["ids_query_s"]
        info["queue_rows_s"] = [timings["rows_s"]]
    if profiler is not None and prof_path:
        profiler.dump_stats(prof_path)
    marks.update({"spawned": spawned, "script_start": script_start, "imported": imported})
    out.update(info)
    out["marks"] = {k: v - spawned for k, v in marks.items()}
    out["frames_before_first_row"] = sum(1 for f in probe.frames if f[1] + offset <= marks["first_row_frame"])
    import json

    sys.stdout.write("UI_BENCH_RESULT " + json.dumps(out) + "\n")


# =========================================================================== the parent side


def main() -> int:
    import argparse
    import datetime as dt
    import json
    import platform
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, help="store to open (default: the 100k store in bench/out, built if missing)")
    ap.add_argument("--conversations", type=int, default=100_000, help="size of the default store")
    ap.add_argument("--runs", type=int, default=5, help="first-paint runs of each kind (after one warm-up)")
    ap.add_argument("-j", type=int, default=300, dest="n_j", help="j presses (default 300)")
    ap.add_argument("--pgdn", type=int, default=50, help="PageDown presses (default 50)")
    ap.add_argument("--e2e-keys", type=int, default=15, help="tmux keystroke samples of each key per run")
    ap.add_argument("--profile", action="store_true",
                    help="profile first paint and the keys even when they meet their targets")
    ap.add_argument("--no-profile", action="store_true", help="never profile")
    ap.add_argument("--no-tmux", action="store_true", help="skip the end-to-end tmux runs")
    ap.add_argument("--what-if", type=Path, help="Python file run in every in-process child after its "
                    "imports, before DeskApp is built: measure a proposed fix (monkeypatch) without editing "
                    "the tree; the tmux runs are unaffected (combine with --no-tmux)")
    ap.add_argument("--out", type=Path, default=Path(ROOT) / "bench" / "out",
                    help="where the JSON goes (default bench/out; the name gets -what-if with --what-if)")
    ap.add_argument("--instructions", action="store_true",
                    help="only: the instructions of the in-process first paint, under valgrind (see above)")
    ap.add_argument("--compare-tree", type=Path, help="with --instructions: a tree (holding tui_desk/) to count too")
    ap.add_argument("--child", choices=["first-paint", "keys", "profile", "profile-keys", "instructions"],
                    help=argparse.SUPPRESS)
    ap.add_argument("--spawned", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--prof-path", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, str(args.db), args.spawned, args.n_j, args.pgdn, args.prof_path,
              str(args.what_if) if args.what_if else None)
        return 0

    import statistics

    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.db is None:
        sys.path.insert(0, ROOT)
        from bench.build_big_store import DEFAULT_PATH, ensure_big_store

        db = ensure_big_store(DEFAULT_PATH, args.conversations)
    else:
        db = args.db
    if not db.exists():
        print(f"ui_bench: no store at {db}", file=sys.stderr)
        return 2
    db = db.resolve()
    bindir = Path(sys.executable).parent
    tui = bindir / "tui-desk" if (bindir / "tui-desk").exists() else shutil.which("tui-desk")
    if tui is None:
        print("ui_bench: the tui-desk script is not installed (make venv)", file=sys.stderr)
        return 2
    tmux = shutil.which("tmux")
    if tmux is None and not args.no_tmux:
        print("ui_bench: tmux is not installed (apt-get install tmux), or pass --no-tmux", file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="tui-desk-ui-bench-"))
    env = child_env(work, out_dir)
    if args.instructions:
        return count_instructions(db, work, env, args.compare_tree, args.what_if)
    loads: list[str] = []

    def wait_quiet(what: str) -> bool:
        return wait_until_quiet(what, loads)

    def run_child(mode: str, prof_path: Path | None = None) -> dict:
        cmd = [sys.executable, os.path.abspath(__file__), "--child", mode, "--db", str(db),
               "-j", str(args.n_j), "--pgdn", str(args.pgdn)]
        if args.what_if:
            cmd += ["--what-if", str(args.what_if.resolve())]
        if prof_path:
            cmd += ["--prof-path", str(prof_path)]
        spawned = time.time()
        proc = subprocess.run(cmd + ["--spawned", repr(spawned)], env=env, capture_output=True, text=True,
                              timeout=600)
        for line in proc.stdout.splitlines():
            if line.startswith("UI_BENCH_RESULT "):
                return json.loads(line.split(" ", 1)[1])
        raise SystemExit(f"ui_bench child {mode} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")

    with open("/proc/cpuinfo") as f:
        cpu_model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    import importlib.metadata as md

    result: dict = {
        "bench": "ui_bench", "store": str(db), "size": list(SIZE), "runs": args.runs,
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(), "textual": md.version("textual"), "cpus": os.cpu_count(),
        "cpu": cpu_model, "load_start": loadavg(),
        "targets": {"first_paint_s": TARGET_FIRST_PAINT_S, "p95_repaint_ms": TARGET_P95_MS,
                    "rss_mib": TARGET_RSS_MIB},
    }
    import sqlite3

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        result["conversations"] = con.execute("SELECT count(*) FROM conversations").fetchone()[0]
        result["messages"] = con.execute("SELECT count(*) FROM messages").fetchone()[0]
    print(f"UI bench on {db} ({result['conversations']} conversations, {result['messages']} messages), "
          f"{SIZE[0]}x{SIZE[1]}, Textual {result['textual']}, Python {result['python']}, "
          f"{os.cpu_count()} CPUs", flush=True)

    # ---- 1a. first paint in-process
    print(f"in-process first paint: 1 warm-up + {args.runs} runs…", flush=True)
    run_child("first-paint")
    inproc = []
    for _ in range(args.runs):
        wait_quiet("in-process first paint")
        inproc.append(run_child("first-paint"))
    result["in_process_first_paint"] = inproc
    queue_len = inproc[0].get("queue_len")

    # ---- 2. keys in-process
    print(f"in-process keys: {args.n_j} j + {args.pgdn} PageDown, then held j at 30/s…", flush=True)
    wait_quiet("in-process keys")
    keys_run = run_child("keys")
    result["in_process_keys"] = keys_run

    # ---- 1b + 3. tmux
    tmux_runs: list[dict] = []
    if not args.no_tmux:
        print(f"tmux end-to-end: 1 warm-up + {args.runs} runs…", flush=True)
        expect = expected_customers(tui, db, env)
        result["tmux_expect"] = expect
        for i in range(args.runs + 1):
            wait_quiet("tmux run")
            r = tmux_run(tmux, [str(tui), "--db", str(db)], work / f"tmux-{i}", env, expect, args.n_j,
                         args.pgdn, args.e2e_keys if i else 0)
            if i:
                tmux_runs.append(r)
        result["tmux"] = tmux_runs
        print(f"tmux floor (a Textual app showing one Static): {args.runs} runs…", flush=True)
        floor_runs = []
        for i in range(args.runs):
            wait_quiet("tmux floor")
            floor_runs.append(tmux_run(tmux, [sys.executable, "-c", FLOOR_APP], work / f"floor-{i}", env,
                                       ["UIBENCH FLOOR"], full=False))
        result["tmux_floor"] = floor_runs

    # ---- summaries
    def mark_list(name: str) -> list[float]:
        return [r["marks"][name] for r in inproc if name in r["marks"]]

    fp_inproc = mark_list("first_row_frame")
    fp_construct = [r["marks"]["first_row_frame"] - r["marks"]["constructed"] for r in inproc]
    iso = keys_run["keys"]["isolated"]
    by_key = {k: [x for x in iso if x["key"] == k and x["repaint_ms"] is not None] for k in ("j", "pagedown")}
    held = [x for x in keys_run["keys"]["held_30hz"] if x["repaint_ms"] is not None]
    s = {
        "first_paint_in_process_s": summary(fp_inproc),
        "first_paint_in_process_from_construct_s": summary(fp_construct),
        "cpu_to_first_row_s": summary([r.get("cpu_to_first_row_s") for r in inproc]),
        "cpu_at_imported_s": summary([r.get("cpu_at_imported_s") for r in inproc]),
        "repaint_j_ms": summary([x["repaint_ms"] for x in by_key["j"]]),
        "repaint_pgdn_ms": summary([x["repaint_ms"] for x in by_key["pagedown"]]),
        "repaint_all_ms": summary([x["repaint_ms"] for x in iso if x["repaint_ms"] is not None]),
        "frame_j_ms": summary([x["frame_ms"] for x in by_key["j"] if x["frame_ms"] is not None]),
        "frame_pgdn_ms": summary([x["frame_ms"] for x in by_key["pagedown"] if x["frame_ms"] is not None]),
        "rows_after_fetch_ms": summary([x["rows_ms"] for x in iso if x["placeholders"] and x["rows_ms"]]),
        "settled_ms": summary([x["settled_ms"] for x in iso]),
        "held_30hz_ms": summary([x["repaint_ms"] for x in held]),
        "pilot_press_pause_ms": summary(keys_run["keys"]["pilot_press_pause_ms"]),
        "keys_with_placeholders": sum(1 for x in iso if x["placeholders"]),
        "phases_ms": {},
    }
    names = ["script_start", "imported", "loop_started", "constructed", "first_frame", "desk_opened",
             "ids_loaded", "first_rows_fetched", "first_row_frame"]
    medians = {name: statistics.median(mark_list(name)) for name in names if mark_list(name)}
    prev = 0.0
    for name in sorted(medians, key=medians.get):  # the store is read on a thread: in any order
        med = medians[name]
        s["phases_ms"][name] = {"at": med * 1000, "step": (med - prev) * 1000}
        prev = med
    s["queue_ids_ms"] = statistics.median(r["queue_ids_s"] for r in inproc) * 1000
    s["first_queue_rows_ms"] = statistics.median(r["queue_rows_s"][0] for r in inproc) * 1000
    if tmux_runs:
        s["first_paint_tmux_s"] = summary([r["visible_s"] for r in tmux_runs])
        s["floor_tmux_s"] = summary([r["visible_s"] for r in result["tmux_floor"]])
        s["floor_rss_mib"] = summary([r["rss_first_paint"]["VmRSS"] for r in result["tmux_floor"]])
        s["first_frame_tmux_s"] = summary([r["first_frame_s"] for r in tmux_runs if r["first_frame_s"]])
        s["launch_to_visible_s"] = summary([r["launch_to_visible_s"] for r in tmux_runs])
        s["capture_ms"] = statistics.mean(r["capture_ms"] for r in tmux_runs)
        s["rss_first_paint_mib"] = summary([r["rss_first_paint"]["VmRSS"] for r in tmux_runs])
        s["rss_settled_mib"] = summary([r["rss_settled"]["VmRSS"] for r in tmux_runs])
        s["rss_after_scroll_mib"] = summary([r["rss_after_scroll"]["VmRSS"] for r in tmux_runs])
        s["hwm_mib"] = summary([r["rss_after_scroll"]["VmHWM"] for r in tmux_runs])
        for key in ("j", "PageDown"):
            vals = [v for r in tmux_runs for k, v in r["e2e_keys"] if k == key and v is not None]
            s[f"tmux_key_{key}_ms"] = summary(vals)
    result["summary"] = s
    result["queue_len"] = queue_len
    result["load_end"] = loadavg()
    result["quiet_checks"] = loads

    # ---- table
    print()
    print(f"UI at {SIZE[0]}x{SIZE[1]} on {result['conversations']} conversations "
          f"({queue_len} in the open queue), {args.runs} runs, Textual {result['textual']}, "
          f"Python {result['python']}, {os.cpu_count()} CPUs ({cpu_model})")
    print()
    rows: list[tuple[str, str, str, str, str]] = []

    def ok(value: float, target: float) -> str:
        return "yes" if value <= target else "NO"

    if tmux_runs:
        v = s["first_paint_tmux_s"]
        rows.append(("first paint, tmux: process start -> row visible", f"{v['p50']:.3f} s",
                     f"{v['max']:.3f} s", f"<= {TARGET_FIRST_PAINT_S} s", ok(v["p50"], TARGET_FIRST_PAINT_S)))
        v = s["floor_tmux_s"]
        rows.append(("  floor: Textual app with one Static, tmux", f"{v['p50']:.3f} s", f"{v['max']:.3f} s",
                     "", ""))
    v = s["first_paint_in_process_s"]
    rows.append(("first paint, in-process: spawn -> row frame", f"{v['p50']:.3f} s", f"{v['max']:.3f} s",
                 f"<= {TARGET_FIRST_PAINT_S} s", ok(v["p50"], TARGET_FIRST_PAINT_S)))
    v = s["first_paint_in_process_from_construct_s"]
    rows.append(("  of which DeskApp() -> row frame", f"{v['p50']:.3f} s", f"{v['max']:.3f} s", "", ""))
    v = s["cpu_to_first_row_s"]
    rows.append(("  CPU of the process up to the row frame", f"{v['p50']:.3f} s", f"{v['max']:.3f} s", "", ""))
    v = s["cpu_at_imported_s"]
    rows.append(("  of it up to the imports' end (cli, the config, ui.app)", f"{v['p50']:.3f} s", f"{v['max']:.3f} s",
                 "", ""))
    for name, key in (("j", "repaint_j_ms"), ("PageDown", "repaint_pgdn_ms"), ("all keys", "repaint_all_ms")):
        v = s[key]
        rows.append((f"key -> queue repaint, {name} ({v['n']}) p50 | p95", f"{v['p50']:.1f} ms", f"{v['p95']:.1f} ms",
                     f"p95 <= {TARGET_P95_MS:.0f} ms", ok(v["p95"], TARGET_P95_MS)))
    v = s["held_30hz_ms"]
    rows.append((f"key -> queue repaint, j held at 30/s ({v['n']}) p50 | p95", f"{v['p50']:.1f} ms",
                 f"{v['p95']:.1f} ms", f"p95 <= {TARGET_P95_MS:.0f} ms", ok(v["p95"], TARGET_P95_MS)))
    if tmux_runs:
        for key in ("j", "PageDown"):
            v = s[f"tmux_key_{key}_ms"]
            if v["n"]:
                rows.append((f"key -> screen changed, tmux, {key} ({v['n']}) p50 | p95", f"{v['p50']:.1f} ms",
                             f"{v['p95']:.1f} ms", "(coarse)", ""))
        for label, key in (("RSS at first paint (tmux process)", "rss_first_paint_mib"),
                           ("RSS 1 s after first paint", "rss_settled_mib"),
                           (f"RSS after {args.n_j} j + {args.pgdn} PageDown", "rss_after_scroll_mib"),
                           ("peak RSS (VmHWM) after scrolling", "hwm_mib")):
            v = s[key]
            rows.append((label, f"{v['p50']:.0f} MiB", f"{v['max']:.0f} MiB", f"<= {TARGET_RSS_MIB:.0f} MiB",
                         ok(v["max"], TARGET_RSS_MIB)))
        v = s["floor_rss_mib"]
        rows.append(("  floor: RSS of the one-Static Textual app", f"{v['p50']:.0f} MiB", f"{v['max']:.0f} MiB",
                     "", ""))
    headers = ("measure", "median/p50", "max/p95", "target", "met")
    widths = [max(len(r[i]) for r in rows + [headers]) for i in range(5)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) + " |")

    print("\nfirst paint in-process, median of the runs (ms since the parent spawned the child):")
    labels = {"script_start": "interpreter started", "imported": "imports done (tui_desk.cli, textual, ui.app)",
              "loop_started": "asyncio loop running", "constructed": "DeskApp() built",
              "first_frame": "first frame", "desk_opened": "the app's own Desk.open done",
              "ids_loaded": f"first-page child: the queue's ids read ({queue_len} ids, query {s['queue_ids_ms']:.0f} ms)",
              "first_rows_fetched": f"first-page child: its rows made (queries and rows {s['first_queue_rows_ms']:.0f} ms)",
              "first_row_frame": "first frame with rows"}
    for name, v in s["phases_ms"].items():
        print(f"  {v['at']:7.1f}  (+{v['step']:6.1f})  {labels[name]}")
    before = [[f for f in r["frames_to_first_row"] if f[0] <= r["marks"]["first_row_frame"] + 1e-6] for r in inproc]
    s["frames_before_first_row"] = statistics.median(len(b) for b in before)
    s["frame_work_before_first_row_ms"] = statistics.median(sum(f[1] for f in b) for b in before) * 1000
    print(f"  UI thread: {s['frames_before_first_row']:.0f} frames up to the first row frame, "
          f"{s['frame_work_before_first_row_ms']:.0f} ms of layout + render + encode in them")
    print(f"\nkeys in-process: frame work (render_update + encode) j p50 {s['frame_j_ms']['p50']:.1f} ms, "
          f"PageDown p50 {s['frame_pgdn_ms']['p50']:.1f} ms; {s['keys_with_placeholders']} of {len(iso)} keys "
          f"showed '…' first, their rows after p50 {s['rows_after_fetch_ms'].get('p50', 0):.1f} ms; "
          f"settled (status line too) p95 {s['settled_ms']['p95']:.1f} ms")
    gen2 = [d * 1000 for g, _, d in keys_run["keys"]["gc_during_isolated"] if g == 2]
    slow = [x for x in iso if x["repaint_ms"] is not None and x["repaint_ms"] > TARGET_P95_MS]
    s["gen2_gc_ms"] = gen2
    s["slow_keys"] = {"n": len(slow), "with_gen2_gc": sum(1 for x in slow if 2 in x["gc_generations"]),
                      "waited_for_timer": sum(1 for x in slow if x["before_frame_ms"] > 10)}
    print(f"  {len(gen2)} full (gen-2) garbage collections during those keys"
          + (f", {min(gen2):.0f}-{max(gen2):.0f} ms each" if gen2 else "")
          + f"; of the {len(slow)} keys over {TARGET_P95_MS:.0f} ms, {s['slow_keys']['with_gen2_gc']} had a gen-2 "
          f"collection in their frame and {s['slow_keys']['waited_for_timer']} waited > 10 ms for the screen's "
          f"update timer")
    print(f"Pilot press()+pause() for reference (not a latency: both wait for idle in 20 ms sleeps): "
          f"p50 {s['pilot_press_pause_ms']['p50']:.0f} ms")
    if tmux_runs:
        print(f"tmux: tmux new-session -> row visible p50 {s['launch_to_visible_s']['p50']:.3f} s; first frame "
              f"of any kind p50 {s['first_frame_tmux_s'].get('p50', 0):.3f} s; one capture-pane costs "
              f"{s['capture_ms']:.1f} ms; cursor after scrolling: {tmux_runs[-1].get('status', '?')}")
    print(f"load average at start {result['load_start']}, at end {result['load_end']}")
    if any("NOT quiet" in x for x in loads):
        print("warning: the CPUs were busy before some phases:", "; ".join(x for x in loads if "NOT" in x))

    # ---- profile
    first_paint = s["first_paint_tmux_s"]["p50"] if tmux_runs else s["first_paint_in_process_s"]["p50"]
    if not args.no_profile and (args.profile or first_paint > TARGET_FIRST_PAINT_S):
        result["profile"] = profile_first_paint(run_child, out_dir, env)
    p95 = s["repaint_all_ms"]["p95"]
    if not args.no_profile and (args.profile or p95 > TARGET_P95_MS):
        result["profile_keys"] = profile_keys(run_child, out_dir)

    path = out_dir / ("ui_bench-what-if.json" if args.what_if else "ui_bench.json")
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {path}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


def count_instructions(db, work, env, compare_tree, what_if) -> int:
    """--instructions: callgrind's count of the app process's instructions up to the first row
    frame, this tree (and --compare-tree's): see the module's docstring."""
    import re
    import shutil
    import subprocess

    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("ui_bench: --instructions needs valgrind (apt-get install valgrind)", file=sys.stderr)
        return 2
    trees = {"this tree": ROOT}
    if compare_tree is not None:
        trees[f"compared: {compare_tree}"] = str(compare_tree)
    counts: dict[str, int] = {}
    for n, (label, tree) in enumerate(trees.items()):
        place = work / f"tree{n}"  # siblings: the same length of path for each
        shutil.copytree(os.path.join(tree, "tui_desk"), place / "tui_desk",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(os.path.join(ROOT, "bench"), place / "bench",
                        ignore=shutil.ignore_patterns("__pycache__", "out"))
        run_env = dict(env, PYTHONPATH=str(place), PYTHONHASHSEED="0")
        cmd = [sys.executable, os.path.abspath(__file__), "--child", "instructions", "--db", str(db),
               "-j", "0", "--pgdn", "0"]
        if what_if and n == 0:
            cmd += ["--what-if", str(what_if.resolve())]
        # once as is (the bytecode cache filled), then counted
        subprocess.run(cmd + ["--spawned", repr(time.time())], env=run_env, capture_output=True, timeout=600)
        proc = subprocess.run([valgrind, "--tool=callgrind", f"--callgrind-out-file={work}/callgrind.%p", *cmd,
                               "--spawned", repr(time.time())], env=run_env, capture_output=True, text=True,
                              timeout=1200)
        first = re.search(r"^==(\d+)==", proc.stderr, re.M)  # valgrind's banner: the app's process, before any fork
        mine = first and re.search(rf"^=={first.group(1)}== Collected : (\d+)", proc.stderr, re.M)
        frames = re.search(r"^UI_BENCH_FRAMES (\d+)", proc.stdout, re.M)
        if mine is None or frames is None:
            raise SystemExit(f"ui_bench: the counted run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        counts[label] = int(mine.group(1))
        print(f"{label}: {counts[label] / 1e6:,.1f} M instructions to the first row frame "
              f"(frame {frames.group(1)}: frames before it count too)", flush=True)
    if len(counts) == 2:
        new, old = counts.values()
        print(f"this tree - compared: {(new - old) / 1e6:+,.1f} M ({(new - old) / old * 100:+.2f} %)")
    return 0


def top_functions(prof_path, n: int = 15) -> tuple[list[str], list[str]]:
    """Top `n` by cumulative time and top 10 by own time, as printable lines; the event loop,
    importlib and Textual's callback wrappers top any cumulative list without saying anything,
    so they are left out."""
    import io
    import pstats

    stats = pstats.Stats(str(prof_path), stream=io.StringIO())
    noise = ("asyncio/", "<frozen importlib", "_contextvars", "textual/_callback.py", "textual/message_pump.py",
             "builtins.exec", "textual/app.py:3364", "textual/app.py:3420", "textual/timer.py",
             "textual/app.py:2178", "textual/_wait.py", "selectors.py", "bench/ui_bench.py")
    site = os.path.dirname(os.path.dirname(os.path.abspath(__import__("textual").__file__))) + "/"
    entries = []
    for (file, line, func), (_cc, nc, tt, ct, _) in stats.stats.items():
        where = func if file == "~" else f"{file}:{line}({func})"
        if any(x in where for x in noise):
            continue
        entries.append((ct, tt, nc, where.replace(site, "").replace(ROOT + "/", "")))
    cumulative = [f"  {ct:7.3f} {tt:7.3f} {nc:7d}  {where}" for ct, tt, nc, where in sorted(entries, reverse=True)[:n]]
    own = [f"  {tt:7.3f} {nc:7d}  {where}" for ct, tt, nc, where in sorted(entries, key=lambda e: -e[1])[:10]]
    return cumulative, own


def print_profile(title: str, prof_path) -> str:
    cumulative, own = top_functions(prof_path)
    print(f"\n{title}; top 15 by cumulative time, event loop / importlib frames left out:")
    print(f"  {'cum s':>7} {'self s':>7} {'calls':>7}  function")
    print("\n".join(cumulative))
    print("top 10 by own time:")
    print(f"  {'self s':>7} {'calls':>7}  function")
    print("\n".join(own))
    return "\n".join(cumulative + ["own time:"] + own)


def profile_keys(run_child, out_dir) -> dict:
    prof_path = out_dir / "ui_keys.prof"
    r = run_child("profile-keys", prof_path)
    n = len(r["keys"]["isolated"])
    text = print_profile(f"{n} keys (isolated j and PageDown) under cProfile, from first key to last settle "
                         f"({prof_path}; idle time shows as epoll)", prof_path)
    return {"prof": str(prof_path), "top": text}


def profile_first_paint(run_child, out_dir, env) -> dict:
    import subprocess

    prof_path = out_dir / "ui_first_paint.prof"
    r = run_child("profile", prof_path)
    text = print_profile(f"first paint under cProfile (spawn -> row frame {r['marks']['first_row_frame']:.3f} s, "
                         f"inflated by the profiler; {prof_path})", prof_path)

    # import cost by top-level package (self time), as `python -X importtime` sees it
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import tui_desk.cli, tui_desk.cli.output, tui_desk.cli.parser, tui_desk.ui.app"],
                          env=env, capture_output=True, text=True)
    by_pkg: dict[str, int] = {}
    cumulative: dict[str, int] = {}
    total = 0
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, self_us, cum_us, name = _importtime_fields(line)
        pkg = name.split(".")[0]
        by_pkg[pkg] = by_pkg.get(pkg, 0) + self_us
        cumulative[name] = cum_us
        total += self_us
    top = sorted(by_pkg.items(), key=lambda kv: -kv[1])[:10]
    print(f"\nimport self time by top-level package (python -X importtime, total {total / 1000:.0f} ms):")
    print("  " + ", ".join(f"{k} {v / 1000:.0f} ms" for k, v in top))
    mine = sorted(((v, k) for k, v in cumulative.items() if k.startswith("tui_desk.")), reverse=True)[:8]
    print("  tui_desk modules by cumulative import time (their own imports included): "
          + ", ".join(f"{k} {v / 1000:.0f} ms" for v, k in mine))
    return {"prof": str(prof_path), "run": r, "cumulative_top15": text, "imports_ms": {k: v / 1000 for k, v in top},
            "imports_total_ms": total / 1000, "tui_desk_cumulative_ms": {k: v / 1000 for v, k in mine}}


def _importtime_fields(line: str):
    """("", self_us, cumulative_us, module) from one `-X importtime` line."""
    parts = line.replace("import time:", "").split("|")
    return "", int(parts[0]), int(parts[1]), parts[2].strip()


def expected_customers(tui, db, env) -> list[str]:
    """The customers of the first queue rows, cut to what surely fits the queue's column."""
    import json
    import subprocess
    import unicodedata

    proc = subprocess.run([str(tui), "--db", str(db), "queue", "--json", "--limit", "3"], env=env,
                          capture_output=True, text=True, check=True)
    out = []
    for row in json.loads(proc.stdout):
        prefix, cells = "", 0
        for ch in row["customer"]:
            cells += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
            if cells > 8:
                break
            prefix += ch
        if prefix.strip():
            out.append(prefix)
    return out


FLOOR_APP = """
from textual.app import App
from textual.widgets import Static
class Floor(App):
    def compose(self):
        yield Static("UIBENCH FLOOR")
Floor().run()
"""


def tmux_run(tmux, argv, work, env, expect, n_j=0, n_pgdn=0, e2e_keys=0, full=True) -> dict:
    """One program (`tui-desk --db STORE`) in a private tmux server: first paint; when `full`,
    also RSS, keystrokes and scrolling, then `q`."""
    import re
    import shlex
    import subprocess

    work.mkdir(parents=True, exist_ok=True)
    sock = f"tui-desk-bench-{os.getpid()}"
    conf = work / "tmux.conf"
    conf.write_text("set -g default-terminal tmux-256color\nset -g default-shell /bin/sh\n"
                    "set -g escape-time 0\nset -g status off\nset -g history-limit 0\n")
    t0_file = work / "t0"
    base = [tmux, "-L", sock]
    capture_times: list[float] = []

    def capture(escapes: bool = False) -> str:
        t = time.perf_counter()
        proc = subprocess.run(base + ["capture-pane", "-p", "-t", "ui"] + (["-e"] if escapes else []),
                              capture_output=True, text=True)
        capture_times.append(time.perf_counter() - t)
        return proc.stdout

    def keys(*names: str) -> None:
        subprocess.run(base + ["send-keys", "-t", "ui", *names], check=True)

    def visible(screen: str) -> bool:
        return any(c in screen for c in expect)

    command = f"date +%s.%N >{t0_file}; exec {shlex.join(argv)}"
    r: dict = {}
    launched = time.time()
    subprocess.run(base + ["-f", str(conf), "new-session", "-d", "-s", "ui", "-x", str(SIZE[0]),
                           "-y", str(SIZE[1]), command], env=env, check=True)
    try:
        first_frame = seen = None
        while time.time() - launched < 30:
            screen = capture()
            now = time.time()
            if first_frame is None and screen.strip():
                first_frame = now
            if visible(screen):
                seen = now
                break
            time.sleep(0.01)
        if seen is None:
            raise SystemExit(f"ui_bench: {expect} not on the tmux screen after 30 s:\n{capture()}")
        pid = int(subprocess.run(base + ["display", "-p", "-t", "ui", "#{pane_pid}"], capture_output=True,
                                 text=True).stdout)
        r["rss_first_paint"] = vm_status(pid)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            r["cmdline"] = f.read().replace(b"\0", b" ").decode().strip()[:200]
        t0 = float(t0_file.read_text())
        r["visible_s"] = seen - t0
        r["first_frame_s"] = first_frame - t0 if first_frame else None
        r["launch_to_visible_s"] = seen - launched
        if not full:
            keys("C-q")
            return r
        time.sleep(1.0)
        r["rss_settled"] = vm_status(pid)

        samples = []
        for key in ["j"] * e2e_keys + ["PageDown"] * e2e_keys:
            before = capture(True)
            t = time.time()
            keys(key)
            changed = None
            while time.time() - t < 2:
                if capture(True) != before:
                    changed = (time.time() - t) * 1000
                    break
                time.sleep(0.002)
            samples.append((key, changed))
            time.sleep(0.05)
        r["e2e_keys"] = samples

        start = time.perf_counter()
        for i, key in enumerate(["j"] * n_j + ["PageDown"] * n_pgdn):
            delay = start + i / 60 - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            keys(key)
        last, stable_since = capture(), time.time()
        while time.time() - stable_since < 0.5:
            time.sleep(0.05)
            screen = capture()
            if screen != last:
                last, stable_since = screen, time.time()
        r["rss_after_scroll"] = vm_status(pid)
        m = re.search(r"(\d+)/(\d+)\s+#\d+", last)
        r["status"] = m.group(0) if m else None
        keys("q")
        deadline = time.time() + 5
        while os.path.exists(f"/proc/{pid}") and time.time() < deadline:
            time.sleep(0.02)
        r["quit_ok"] = not os.path.exists(f"/proc/{pid}")
    finally:
        subprocess.run(base + ["kill-server"], capture_output=True)
    r["capture_ms"] = sum(capture_times) / len(capture_times) * 1000
    return r


if __name__ == "__main__":
    sys.exit(main())
