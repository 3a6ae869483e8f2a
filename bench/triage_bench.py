#!/usr/bin/env python3
"""Triage at 100k conversations (issue 6): each action applied and the queue repainted, the
same actions on the desk alone, and a full priority recomputation.
Prints a table against the targets and writes bench/out/triage.json.

    .venv/bin/python bench/triage_bench.py [--db PATH] [--reps 20] [--recompute-runs 3] [--profile]
                                           [--skip ui,core,recompute] [--what-if FILE]

Targets (issue 6): tag, snooze, close (and undo) applied and the queue repainted <= 50 ms;
priority recomputation for the whole store <= 1 s.

The store is bench/out/big-store.sqlite3 (bench/build_big_store.py's `ensure_big_store`, built
once when missing, about 3 minutes). The actions change the store, so every run works on a
fresh copy, bench/out/triage-store.sqlite3 (SQLite's backup API, so a store someone has open
is copied consistently); the big store itself is never written. Each phase runs in its own
interpreter, with default config and a throw-away XDG config/data dir (as bench/ui_bench.py).

1. In the TUI: DeskApp under `App.run_test(size=(120, 40))`, keys sent through the driver as
   Pilot does (`driver.send_message`), one at a time, the app left to settle in between, and
   only once the app's start-up workers are done (the snippet statistics hold the desk's SQLite
   thread for seconds at 100k; how long and which is printed). For rows at the top and in the
   middle of the queue, `--reps` times each:
     tag           `t`, type "bench", Enter            (timed from Enter)
     close         `c`                                  (timed from c)
     snooze        `z`, Enter on the first preset       (timed from Enter)
     snooze text   `z`, type "3d", Enter                (timed from Enter)
   each followed by `u` (undo, timed from u), so the store stays as it was.
   Latency = from just before the key is sent to the end of the first frame (render_update +
   render_segments, what the terminal driver does) in which the queue drew its lines from the
   reloaded list (`QueueView.set_ids` called after the key) with every row loaded - i.e. the
   queue as it is after the action, not a "…" placeholder. Also reported: the first frame after
   the reload (placeholders allowed), when the new id list arrived (set_ids), the desk calls in
   between (action, queue_ids, queue_rows, timed by wrapping the Desk), and for `t`/`z` the key
   to the first frame showing the prompt. Each action is checked (the tag is on the row, a
   closed/snoozed row has left the list, an undone one is back). Garbage collections
   (gc.callbacks) and the process's CPU time are recorded per action, so a slow one can be
   told apart: a full collection inside it, or the process waiting for a core.
2. The desk alone (no UI) on the same copy: Desk.tag / set_status / snooze / undo on the same
   rows, `--reps` each, plus what the TUI does after each (queue_ids, one queue_rows page).
3. Priority recomputation: `Desk.refresh_all()` over every conversation (what `Desk.open` runs
   when the priority settings changed), `--recompute-runs` times; median. Then one more run
   with the time split by step (every SQL statement, the row -> record conversions, the
   Python ranking), and a cProfile run when it misses its target (or with --profile). Also
   what the agent waits for: `Desk.open` after a priority setting changed (a tag weight), and
   once more with the settings as they were.

`--what-if FILE`: every child runs FILE after its imports (a monkeypatch with a proposed fix),
so its effect can be measured without touching the tree; results go to triage-what-if.json.

Before each phase the bench waits (up to 20 s) for the CPUs to be idle; load averages are
recorded in the JSON. Children cache bytecode under bench/out/pycache, as bench/ui_bench.py.
"""

from __future__ import annotations

import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench.frame_timing import FrameProbe, frame_counting_app, install_frame_probe, record_gc, send_key
from bench.frame_timing import settle as frame_settle
from bench.frame_timing import wait_for as frame_wait_for
from bench.ui_bench import SIZE, child_env, loadavg, summary, top_functions, wait_until_quiet

TARGET_ACTION_MS = 50.0
TARGET_RECOMPUTE_S = 1.0
TAG = "bench"
ACTIONS = ("tag", "close", "snooze", "snooze_text", "undo")
LABELS = {
    "tag": "tag: t, 'bench', Enter",
    "close": "close: c",
    "snooze": "snooze: z, Enter (first preset)",
    "snooze_text": "snooze: z, '3d', Enter",
    "undo": "undo: u",
}
RESULT_MARK = "TRIAGE_BENCH_RESULT "


def what_if(path: str | None) -> None:
    """A proposed fix, tried without touching the tree (see --what-if)."""
    if path:
        with open(path) as f:
            exec(compile(f.read(), path, "exec"), {"__name__": "triage_bench_what_if"})


def full_reads(desk) -> int | None:
    """How often the desk read the open queue whole (desk/queue_ids.py; else it moved the ids
    that changed); None for a tree without it."""
    return getattr(getattr(desk, "open_queue", None), "full_reads", None)


def emit(result: dict) -> None:
    import json

    sys.stdout.write(RESULT_MARK + json.dumps(result) + "\n")


# =========================================================================== 1. the TUI


def child_ui(db: str, reps: int, fix: str | None) -> None:
    import asyncio
    import gc

    from tui_desk.config import load_config
    from tui_desk.desk.service import Desk
    from tui_desk.ui.queue import QueueView
    from tui_desk.ui.triage import ActionPrompt

    what_if(fix)

    class Probe(FrameProbe):
        """FrameProbe's frames plus (queue generation, prompt on screen, CPU time of the process
        at the end)."""

        def frame_end_fields(self) -> tuple:
            return (time.process_time(),)

    probe = Probe()
    gc_runs: list[tuple[int, float, float]] = []  # generation, start, end
    record_gc(gc_runs)
    set_ids_calls: list[tuple[float, int]] = []  # (time, generation after the call)
    desk_calls: list[tuple[str, float, float]] = []  # (name, start, end)

    install_frame_probe(probe)
    original_set_ids = QueueView.set_ids

    def set_ids(self: QueueView, *args, **kwargs) -> None:
        original_set_ids(self, *args, **kwargs)
        set_ids_calls.append((time.perf_counter(), self._generation))

    QueueView.set_ids = set_ids  # type: ignore[method-assign]  # timing probe on the live class

    BenchApp = frame_counting_app(
        lambda app, screen: probe.frame_done(app.queue._generation, isinstance(screen, ActionPrompt)))

    config = load_config(None)
    running: list[BenchApp] = []

    def timed(name: str, method):
        async def call(*args, **kwargs):
            start = time.perf_counter()
            try:
                return await method(*args, **kwargs)
            finally:
                desk_calls.append((name, start, time.perf_counter()))
        return call

    async def open_desk():
        desk = await Desk.open(db, config)
        for name in ("tag", "set_status", "snooze", "undo", "queue_ids", "queue_rows", "known_tags"):
            setattr(desk, name, timed(name, getattr(desk, name)))
        return desk

    async def wait_for(predicate, timeout: float, what: str) -> None:
        await frame_wait_for(probe, predicate, timeout, what, lambda: running[0] if running else None, poll=0.05)

    async def settle(app, quiet: float = 0.03, timeout: float = 5.0) -> None:
        await frame_settle(probe, quiet, timeout, idle=lambda: not app.type_ahead.busy and not any(
            w.group == "triage" and not w.is_finished for w in app.workers))

    send = send_key

    async def type_text(app, text: str) -> None:
        for char in text:
            send(app, char)
            await asyncio.sleep(0)
        await settle(app)

    async def timed_action(app, action: str, key: str, character: str | None = None) -> dict:
        """Send the key that applies the action; wait for the reloaded queue on screen."""
        cpu0 = time.process_time()
        t0 = send(app, key, character)

        def repainted() -> bool:
            gens = [g for t, g in set_ids_calls if t > t0]
            return bool(gens) and any(f[1] > t0 and f[2] and not f[4] and f[5] >= gens[0] for f in probe.frames)

        await wait_for(repainted, 10, f"the queue after {action}")
        reload_t, generation = next((t, g) for t, g in set_ids_calls if t > t0)
        frames = [f for f in probe.frames if f[1] > t0]
        first = next(f for f in frames if f[2] and f[5] >= generation)
        complete = next(f for f in frames if f[2] and not f[4] and f[5] >= generation)
        await settle(app)
        calls: dict[str, list[float]] = {}
        timeline = []  # what happened between the key and the repainted queue, ms from the key
        for name, start, end in desk_calls:
            if start >= t0 and end <= complete[1]:
                calls.setdefault(name, []).append((end - start) * 1000)
                timeline.append((round((start - t0) * 1000, 2), round((end - t0) * 1000, 2), name))
        for f in frames:
            if f[1] <= complete[1]:
                what = f"frame: {f[2]} queue lines, {f[4]} '…'" if f[2] else "frame: no queue lines"
                timeline.append((round(((f[0] or f[1]) - t0) * 1000, 2), round((f[1] - t0) * 1000, 2), what))
        timeline.append((round((reload_t - t0) * 1000, 2), round((reload_t - t0) * 1000, 2), "set_ids"))
        gcs = [(g, b, e) for g, b, e in gc_runs if t0 <= b <= complete[1]]
        for g, b, e in gcs:
            timeline.append((round((b - t0) * 1000, 2), round((e - t0) * 1000, 2), f"gc generation {g}"))
        timeline.sort()
        return {
            "action": action,
            "repaint_ms": (complete[1] - t0) * 1000,
            "first_frame_ms": (first[1] - t0) * 1000,
            "reload_ms": (reload_t - t0) * 1000,  # set_ids: the action done, the new id list in
            "frame_ms": (complete[1] - complete[0]) * 1000 if complete[0] else None,
            "frames": sum(1 for f in frames if f[1] <= complete[1]),
            "desk_ms": {k: sum(v) for k, v in calls.items()},
            "desk_calls": {k: len(v) for k, v in calls.items()},
            "timeline": timeline,
            "cpu_ms": (complete[7] - cpu0) * 1000,  # both threads: UI and aiosqlite
            "gc_ms": sum(e - b for _, b, e in gcs) * 1000,
            "gc_generations": sorted({g for g, _, _ in gcs}),
        }

    async def open_prompt(app, key: str) -> float:
        """t or z: the key to the first frame showing the prompt (untimed for the target)."""
        t0 = send(app, key)
        await wait_for(lambda: any(f[1] > t0 and f[6] for f in probe.frames), 5, f"the {key} prompt")
        shown = next(f for f in probe.frames if f[1] > t0 and f[6])
        await wait_for(lambda: isinstance(app.screen, ActionPrompt) and app.screen.loaded.is_set(), 5,
                       "the prompt's suggestions")
        await settle(app)
        return (shown[1] - t0) * 1000

    async def place(app, where: str) -> int:
        queue = app.queue
        index = 0 if where == "top" else len(queue.ids) // 2
        queue.move_to(index)
        await wait_for(lambda: queue.current_row is not None and queue.cursor == index, 5, "the row")
        await settle(app, 0.1)
        return queue.current_id

    async def run() -> dict:
        app = BenchApp(open_desk=open_desk)
        running.append(app)
        samples: list[dict] = []
        prompts: dict[str, list[float]] = {"t": [], "z": []}
        checks: list[str] = []
        async with app.run_test(size=SIZE):
            await wait_for(lambda: any(f[3] for f in probe.frames), 60, "the first queue rows")
            await settle(app, 0.3, 20)
            # the app's start-up work (the store's check, the start worker, the first SLA look,
            # imports on a thread) holds the desk's SQLite thread and a core for seconds at
            # 100k: wait for its workers, so the top row is not timed against it
            started = time.perf_counter()
            startup_work = sorted({f"{w.group}/{w.name}" for w in app.workers if not w.is_finished})
            await wait_for(lambda: all(w.is_finished for w in app.workers), 120, "the app's start-up work")
            await settle(app, 0.3, 20)
            queue = app.queue
            info = {"queue_len": len(queue.ids), "startup_work_s": time.perf_counter() - started,
                    "startup_work": startup_work}
            for where in ("top", "middle"):
                for rep in range(reps):
                    conv = await place(app, where)

                    def check(ok: bool, what: str) -> None:
                        if not ok:
                            checks.append(f"{where} rep {rep} #{conv}: {what}")

                    steps = [
                        ("tag", "t", TAG, lambda: TAG in (queue.row(conv).tags if queue.row(conv) else ()),
                         "tag not on the row"),
                        ("close", "c", None, lambda: conv not in queue.ids, "closed row still listed"),
                        ("snooze", "z", "", lambda: conv not in queue.ids, "snoozed row still listed"),
                        ("snooze_text", "z", "3d", lambda: conv not in queue.ids, "snoozed row still listed"),
                    ]
                    for action, key, text, done, problem in steps:
                        if text is None:
                            r = await timed_action(app, action, key)
                        else:
                            prompts[key].append(await open_prompt(app, key))
                            await type_text(app, text)
                            r = await timed_action(app, action, "enter", "\r")
                        check(done(), problem)
                        samples.append({**r, "where": where})
                        r = await timed_action(app, "undo", "u")
                        check(conv in queue.ids and TAG not in (queue.row(conv).tags if queue.row(conv) else ()),
                              f"undo of {action} did not restore it")
                        samples.append({**r, "where": where, "undoes": action})
            info["gc_frozen"] = gc.get_freeze_count()
            info["queue_full_reads"] = full_reads(app.desk)
        return {"samples": samples, "prompt_open_ms": prompts, "checks": checks, **info}

    emit(asyncio.run(run()))


# =========================================================================== 2. the desk alone


def child_core(db: str, reps: int, fix: str | None) -> None:
    import asyncio

    from tui_desk.config import load_config
    from tui_desk.desk.service import Desk
    from tui_desk.ui.queue import PAGE_SIZE

    what_if(fix)
    async def run() -> dict:
        desk = await Desk.open(db, load_config(None))
        out: dict[str, list] = {}

        async def timed(name: str, make) -> object:
            t = time.perf_counter()
            result = await make()
            out.setdefault(name, []).append((time.perf_counter() - t) * 1000)
            return result

        try:
            ids = await desk.queue_ids()
            targets = {"top": ids[0], "middle": ids[len(ids) // 2]}
            for conv in targets.values():
                for _ in range(reps):
                    for action, make in (
                        ("tag", lambda: desk.tag([conv], [TAG])),
                        ("close", lambda: desk.set_status([conv], "closed")),
                        ("snooze", lambda: desk.snooze([conv], "tomorrow 9:00")),
                        ("snooze_text", lambda: desk.snooze([conv], "3d")),
                    ):
                        await timed(action, make)
                        await timed("undo", desk.undo)
                        # what the TUI does after each action: the list again, the page on screen
                        fresh = await timed("queue_ids", desk.queue_ids)
                        at = fresh.index(conv) if conv in fresh else 0
                        page = at // PAGE_SIZE * PAGE_SIZE
                        await timed("queue_rows_page", lambda: desk.queue_rows(fresh[page:page + PAGE_SIZE]))
            return {"ms": out, "queue_len": len(ids), "targets": targets, "queue_full_reads": full_reads(desk)}
        finally:
            await desk.close()

    emit(asyncio.run(run()))


# =========================================================================== 3. recomputation


def child_recompute(db: str, runs: int, prof_path: str | None, fix: str | None) -> None:
    import asyncio
    import collections

    from tui_desk.config import load_config
    from tui_desk.desk import priority
    from tui_desk.desk.service import Desk
    from tui_desk.store import mirror, queries, server_ops
    from tui_desk.store.db import Store

    import dataclasses

    what_if(fix)

    async def run() -> dict:
        desk = await Desk.open(db, load_config(None))
        try:
            n = len(await queries.all_conversation_ids(desk.store))
            seconds = []
            for _ in range(runs):
                t = time.perf_counter()
                await desk.refresh_all()
                seconds.append(time.perf_counter() - t)

            # one more run, split by step: SQL per statement, the functions around them
            sql: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])
            steps: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])
            patched = []

            def patch(owner, name: str, table: dict, key=None, is_async: bool = True) -> None:
                original = getattr(owner, name)
                label = key or f"{getattr(owner, '__name__', owner.__class__.__name__).split('.')[-1]}.{name}"
                if is_async:
                    async def wrapper(*args, **kwargs):
                        t = time.perf_counter()
                        try:
                            return await original(*args, **kwargs)
                        finally:
                            k = label(args) if callable(label) else label
                            table[k][0] += 1
                            table[k][1] += time.perf_counter() - t
                else:
                    def wrapper(*args, **kwargs):
                        t = time.perf_counter()
                        try:
                            return original(*args, **kwargs)
                        finally:
                            table[label][0] += 1
                            table[label][1] += time.perf_counter() - t
                setattr(owner, name, wrapper)
                patched.append((owner, name, original))

            for method in ("fetchall", "fetchone", "execute", "executemany"):
                patch(Store, method, sql, key=lambda args, m=method: f"{m}: {' '.join(args[1].split())[:110]}")
            for name in ("message_facts", "conversation_states", "open_conversations_of_customers",
                         "write_states", "write_summaries", "all_conversation_ids"):
                patch(queries, name, steps)
            patch(mirror, "conversation_copies", steps)
            patch(server_ops, "pending_message_ids", steps)
            patch(Desk, "_summaries", steps)
            patch(Desk, "_state_from_server", steps)
            patch(priority, "summarize", steps, is_async=False)
            patch(priority, "rank_customer_bursts", steps, is_async=False)
            t = time.perf_counter()
            await desk.refresh_all()
            split_total = time.perf_counter() - t
            for owner, name, original in patched:
                setattr(owner, name, original)

            profile = None
            if prof_path:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
                t = time.perf_counter()
                await desk.refresh_all()
                profile = time.perf_counter() - t
                profiler.disable()
                profiler.dump_stats(prof_path)
            return {"conversations": n, "seconds": seconds, "split_total_s": split_total,
                    "sql": {k: v for k, v in sql.items()}, "steps": {k: v for k, v in steps.items()},
                    "profiled_s": profile}
        finally:
            await desk.close()

    async def reopen() -> list[float]:
        """What the agent waits for: Desk.open after a priority setting changed (a tag weight),
        then again with the settings as they were (which recomputes again)."""
        base = load_config(None)
        changed = dataclasses.replace(base, priority=dataclasses.replace(base.priority, tag_weights={TAG: 5}))
        out = []
        for config in (changed, base):
            t = time.perf_counter()
            desk = await Desk.open(db, config)
            out.append(time.perf_counter() - t)
            await desk.close()
        return out

    async def both() -> dict:
        result = await run()
        if not prof_path:
            result["open_after_change_s"] = await reopen()
        return result

    emit(asyncio.run(both()))


# =========================================================================== the parent side


def main() -> int:
    import argparse
    import datetime as dt
    import importlib.metadata as md
    import json
    import platform
    import shutil
    import sqlite3
    import statistics
    import subprocess
    import tempfile
    from pathlib import Path

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, help="store to copy and work on (default: the 100k store in bench/out, "
                    "built if missing)")
    ap.add_argument("--conversations", type=int, default=100_000, help="size of the default store")
    ap.add_argument("--reps", type=int, default=20, help="repetitions of each action at each place (default 20)")
    ap.add_argument("--recompute-runs", type=int, default=3, help="timed full recomputations (default 3)")
    ap.add_argument("--skip", default="", help="comma-separated phases to leave out: ui, core, recompute")
    ap.add_argument("--profile", action="store_true", help="profile the recomputation even when it meets its target")
    ap.add_argument("--no-profile", action="store_true", help="never profile")
    ap.add_argument("--out", type=Path, default=Path(ROOT) / "bench" / "out", help="where the JSON and the copy go")
    ap.add_argument("--what-if", type=Path, help="Python file run in every child after its imports (before the "
                    "desk is opened): measure a proposed fix (monkeypatch) without editing the tree; the JSON "
                    "goes to triage-what-if.json")
    ap.add_argument("--child", choices=["ui", "core", "recompute"], help=argparse.SUPPRESS)
    ap.add_argument("--prof-path", help=argparse.SUPPRESS)
    args = ap.parse_args()
    fix = str(args.what_if.resolve()) if args.what_if else None
    if args.child == "ui":
        child_ui(str(args.db), args.reps, fix)
        return 0
    if args.child == "core":
        child_core(str(args.db), args.reps, fix)
        return 0
    if args.child == "recompute":
        child_recompute(str(args.db), args.recompute_runs, args.prof_path, fix)
        return 0

    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if skip - {"ui", "core", "recompute"}:
        ap.error(f"unknown phase(s) in --skip: {', '.join(sorted(skip - {'ui', 'core', 'recompute'}))}")
    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.db is None:
        from bench.build_big_store import DEFAULT_PATH, ensure_big_store

        source = ensure_big_store(DEFAULT_PATH, args.conversations)
    else:
        source = args.db
    if not source.exists():
        print(f"triage_bench: no store at {source}", file=sys.stderr)
        return 2
    source = source.resolve()
    db = (out_dir / "triage-store.sqlite3").resolve()

    work = Path(tempfile.mkdtemp(prefix="tui-desk-triage-bench-"))
    env = child_env(work, out_dir)
    loads: list[str] = []

    def wait_quiet(what: str) -> None:
        wait_until_quiet(what, loads)

    def run_child(mode: str, *extra: str) -> dict:
        cmd = [sys.executable, os.path.abspath(__file__), "--child", mode, "--db", str(db),
               "--reps", str(args.reps), "--recompute-runs", str(args.recompute_runs), *extra]
        if fix:
            cmd += ["--what-if", fix]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
        for line in proc.stdout.splitlines():
            if line.startswith(RESULT_MARK):
                return json.loads(line[len(RESULT_MARK):])
        raise SystemExit(f"triage_bench child {mode} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")

    # a fresh copy: the actions write to it
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    t = time.perf_counter()
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(db) as dst:
        src.backup(dst, pages=65536)
    copy_s = time.perf_counter() - t
    # Desk.open recomputes every rank when the stored priority settings differ from the config's:
    # do that once here (untimed) so no phase pays for it by surprise
    opened = subprocess.run(
        [sys.executable, "-c", "import asyncio, sys, time\n"
         "from tui_desk.config import load_config\nfrom tui_desk.desk.service import Desk\n"
         "async def main():\n    t = time.perf_counter(); d = await Desk.open(sys.argv[1], load_config(None))\n"
         "    print(time.perf_counter() - t); await d.close()\nasyncio.run(main())", str(db)],
        env=env, capture_output=True, text=True, check=True)
    first_open_s = float(opened.stdout.split()[-1])

    with open("/proc/cpuinfo") as f:
        cpu_model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        conversations = con.execute("SELECT count(*) FROM conversations").fetchone()[0]
        messages = con.execute("SELECT count(*) FROM messages").fetchone()[0]
    result: dict = {
        "bench": "triage_bench", "source": str(source), "store": str(db), "size": list(SIZE), "reps": args.reps,
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(), "textual": md.version("textual"), "cpus": os.cpu_count(),
        "cpu": cpu_model, "load_start": loadavg(), "conversations": conversations, "messages": messages,
        "copy_s": copy_s, "first_open_s": first_open_s,
        "targets": {"action_ms": TARGET_ACTION_MS, "recompute_s": TARGET_RECOMPUTE_S},
    }
    print(f"Triage bench on a copy of {source} ({conversations} conversations, {messages} messages; copied in "
          f"{copy_s:.1f} s, first Desk.open {first_open_s:.2f} s), {SIZE[0]}x{SIZE[1]}, Textual "
          f"{result['textual']}, Python {result['python']}, {os.cpu_count()} CPUs", flush=True)

    s: dict = {}
    if "ui" not in skip:
        print(f"TUI: {len(ACTIONS) - 1} actions + undo, {args.reps} times at the top and in the middle…", flush=True)
        wait_quiet("ui")
        ui = run_child("ui")
        result["ui"] = ui
        for where in ("top", "middle", None):
            for action in ACTIONS:
                rows = [x for x in ui["samples"] if x["action"] == action and (where is None or x["where"] == where)]
                key = f"{action}_{where or 'all'}"
                s[f"ui_{key}_ms"] = summary([x["repaint_ms"] for x in rows])
                s[f"ui_{key}_first_frame_ms"] = summary([x["first_frame_ms"] for x in rows])
                s[f"ui_{key}_reload_ms"] = summary([x["reload_ms"] for x in rows])
                calls: dict[str, list[float]] = {}
                for x in rows:
                    for name, ms in x["desk_ms"].items():
                        calls.setdefault(name, []).append(ms)
                s[f"ui_{key}_desk_ms"] = {k: statistics.median(v) for k, v in calls.items()}
                s[f"ui_{key}_frame_ms"] = summary([x["frame_ms"] for x in rows if x["frame_ms"] is not None])
        s["ui_prompt_open_ms"] = {k: summary(v) for k, v in ui["prompt_open_ms"].items()}
    if "core" not in skip:
        print(f"desk alone: the same actions, {args.reps} times at the top and in the middle…", flush=True)
        wait_quiet("core")
        core = run_child("core")
        result["core"] = core
        for name, values in core["ms"].items():
            s[f"core_{name}_ms"] = summary(values)
        if core.get("queue_full_reads") is not None:
            print(f"  desk alone: the open queue read whole {core['queue_full_reads']} times in "
                  f"{len(core['ms']['queue_ids']) + 1} queue_ids calls (else the ids that changed moved)", flush=True)
    if "recompute" not in skip:
        print(f"priority recomputation over the whole store: {args.recompute_runs} runs + 1 split by step…",
              flush=True)
        wait_quiet("recompute")
        rec = run_child("recompute")
        s["recompute_s"] = summary(rec["seconds"])
        s["recompute_s"]["median"] = statistics.median(rec["seconds"])
        s["open_after_change_s"] = summary(rec.get("open_after_change_s", []))
        if not args.no_profile and (args.profile or s["recompute_s"]["median"] > TARGET_RECOMPUTE_S):
            prof_path = out_dir / ("triage_recompute-what-if.prof" if fix else "triage_recompute.prof")
            wait_quiet("recompute profile")
            profiled = run_child("recompute", "--prof-path", str(prof_path))
            rec["profile"] = {"prof": str(prof_path), "profiled_s": profiled["profiled_s"],
                              "seconds_before": profiled["seconds"]}
        result["recompute"] = rec

    result["summary"] = s
    result["load_end"] = loadavg()
    result["quiet_checks"] = loads

    # ---- table
    print()
    print(f"Triage at {SIZE[0]}x{SIZE[1]} on {conversations} conversations"
          + (f" ({result['ui']['queue_len']} in the open queue)" if "ui" in result else "")
          + f", {args.reps} reps per action and place, Textual {result['textual']}, Python {result['python']}, "
          f"{os.cpu_count()} CPUs ({cpu_model})")
    print()
    rows: list[tuple[str, str, str, str, str, str]] = []

    def ok(value: float, target: float) -> str:
        return "yes" if value <= target else "NO"

    def ms(v: dict, k: str) -> str:
        return f"{v[k]:.1f} ms" if v.get("n") else "-"

    if "ui" in result:
        for action in ACTIONS:
            for where in ("top", "middle"):
                v = s[f"ui_{action}_{where}_ms"]
                if v["n"]:
                    rows.append((f"TUI key -> queue repainted, {LABELS[action]}, {where} ({v['n']})", ms(v, "p50"),
                                 ms(v, "p95"), ms(v, "max"), f"<= {TARGET_ACTION_MS:.0f} ms",
                                 ok(v["p95"], TARGET_ACTION_MS)))
    if "core" in result:
        for name, label in (("tag", "Desk.tag"), ("close", "Desk.set_status closed"),
                            ("snooze", "Desk.snooze 'tomorrow 9:00'"), ("snooze_text", "Desk.snooze '3d'"),
                            ("undo", "Desk.undo"), ("queue_ids", "  then Desk.queue_ids (reload)"),
                            ("queue_rows_page", "  then Desk.queue_rows, one page of 100")):
            v = s.get(f"core_{name}_ms")
            if v and v["n"]:
                rows.append((f"desk alone: {label} ({v['n']})", ms(v, "p50"), ms(v, "p95"), ms(v, "max"), "", ""))
    if "recompute" in result:
        v = s["recompute_s"]
        rows.append((f"priority recomputation, Desk.refresh_all, {result['recompute']['conversations']} "
                     f"conversations ({v['n']} runs)", f"{v['median']:.2f} s", "", f"{v['max']:.2f} s",
                     f"<= {TARGET_RECOMPUTE_S:.0f} s", ok(v["median"], TARGET_RECOMPUTE_S)))
        v = s["open_after_change_s"]
        if v["n"]:
            rows.append((f"  Desk.open after a priority setting changed, and back ({v['n']})", f"{v['p50']:.2f} s",
                         "", f"{v['max']:.2f} s", f"<= {TARGET_RECOMPUTE_S:.0f} s", ok(v["p50"], TARGET_RECOMPUTE_S)))
    headers = ("measure", "median/p50", "p95", "max", "target", "met")
    widths = [max(len(r[i]) for r in rows + [headers]) for i in range(6)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
              + " |")

    if "ui" in result:
        ui = result["ui"]
        print("\nTUI, where the time goes (medians over both places, ms from the key):")
        print(f"  {'action':<12} {'new list in':>11} {'1st frame':>9} {'repainted':>9} {'frame':>6}  desk calls "
              "inside (median ms)")
        for action in ACTIONS:
            key = f"{action}_all"
            desk = ", ".join(f"{k} {v:.1f}" for k, v in sorted(s[f"ui_{key}_desk_ms"].items()))
            print(f"  {action:<12} {s[f'ui_{key}_reload_ms']['p50']:>11.1f} "
                  f"{s[f'ui_{key}_first_frame_ms']['p50']:>9.1f} {s[f'ui_{key}_ms']['p50']:>9.1f} "
                  f"{s[f'ui_{key}_frame_ms'].get('p50', 0):>6.1f}  {desk}")
        print("  (new list in = QueueView.set_ids called: the desk action, the prompt closing and queue_ids done;"
              " 1st frame = first queue frame after it, rows may still be '…'; frame = render + encode of the"
              " repainted frame)")
        slow = [x for x in ui["samples"] if x["repaint_ms"] > TARGET_ACTION_MS]
        s["ui_slow"] = {
            "n": len(slow), "of": len(ui["samples"]),
            "with_gen2_gc": sum(1 for x in slow if 2 in x.get("gc_generations", ())),
            # the process got less than half the CPU it waited for: other work on the machine
            "cpu_starved": sum(1 for x in slow if x["cpu_ms"] < 0.5 * x["repaint_ms"]),
        }
        s["ui_cpu_ms"] = summary([x["cpu_ms"] for x in ui["samples"]])
        print(f"  {len(slow)} of {len(ui['samples'])} actions over {TARGET_ACTION_MS:.0f} ms: "
              f"{s['ui_slow']['with_gen2_gc']} with a full (gen-2) garbage collection, {s['ui_slow']['cpu_starved']} "
              f"where the process used under half that time in CPU (waiting for a core: other work on the "
              f"machine); CPU time per action (both threads) p50 {s['ui_cpu_ms']['p50']:.1f} ms")
        for key, v in s["ui_prompt_open_ms"].items():
            if v["n"]:
                print(f"  key -> prompt on screen, {key}: p50 {v['p50']:.1f} ms, p95 {v['p95']:.1f} ms")
        if "startup_work_s" in ui:
            print(f"  timed after the app's start-up work ended, {ui['startup_work_s']:.1f} s after the first rows "
                  f"showed ({', '.join(ui['startup_work']) or 'none running'})")
        if ui.get("queue_full_reads") is not None:
            print(f"  the open queue was read whole {ui['queue_full_reads']} times in the run "
                  f"(else the ids that changed moved, desk/queue_ids.py)")
        if ui["checks"]:
            print(f"  WARNING: {len(ui['checks'])} actions did not show their effect: " + "; ".join(ui["checks"][:5]))
        else:
            print(f"  every action checked on screen ({len(ui['samples'])} actions): tag on the row, closed/snoozed "
                  f"rows gone, undone rows back")

    if "recompute" in result:
        rec = result["recompute"]
        print(f"\nrecomputation split by step (one more run, {rec['split_total_s']:.2f} s with the timers in):")
        for k, (n, sec) in sorted(rec["steps"].items(), key=lambda kv: -kv[1][1]):
            print(f"  {sec:7.3f} s {int(n):7d}x  {k}")
        print("  SQL statements (time in aiosqlite, the row tuples included):")
        for k, (n, sec) in sorted(rec["sql"].items(), key=lambda kv: -kv[1][1])[:8]:
            print(f"  {sec:7.3f} s {int(n):7d}x  {k}")
        if "profile" in rec:
            cumulative, own = top_functions(rec["profile"]["prof"])
            cumulative = [line for line in cumulative if "triage_bench" not in line]
            print(f"\nrecomputation under cProfile ({rec['profile']['profiled_s']:.2f} s with the profiler; "
                  f"{rec['profile']['prof']}); top by cumulative time, event loop frames left out (epoll: the loop "
                  f"waiting for the SQLite thread):")
            print(f"  {'cum s':>7} {'self s':>7} {'calls':>7}  function")
            print("\n".join(cumulative))
            print("top 10 by own time:")
            print(f"  {'self s':>7} {'calls':>7}  function")
            print("\n".join(own))
            rec["profile"]["top"] = "\n".join(cumulative + ["own time:"] + own)

    print(f"\nload average at start {result['load_start']}, at end {result['load_end']}")
    if any("NOT quiet" in x for x in loads):
        print("warning: the CPUs were busy before some phases:", "; ".join(x for x in loads if "NOT" in x))
    result["what_if"] = fix
    path = out_dir / ("triage-what-if.json" if fix else "triage.json")
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {path}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
