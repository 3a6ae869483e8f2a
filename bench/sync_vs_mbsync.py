#!/usr/bin/env python3
"""IMAP first sync: `tui-desk sync --once` against `mbsync` + `notmuch new` and a stdlib imaplib
download, all from one private Dovecot in the same run. Prints a table and writes
bench/out/sync_vs_mbsync-<N>.json.

    .venv/bin/python bench/sync_vs_mbsync.py [-n 10000] [--runs 3] [--profile] [--compare-tree DIR]

`--compare-tree DIR`: DIR holds another tui_desk package (say `cp -r tui_desk /tmp/old/` before a
change); every run then times that one too, just before this checkout's, so before/after figures
come from the same minutes of a shared machine and the same mbsync runs.

Setup: a private Dovecot (tests/servers.py) in a temp dir on 127.0.0.1, one user seeded with N
generated messages (tui_desk.demo.mailbox, seed 1, fixed end date, flags and dates kept), one
untimed imaplib download to warm Dovecot's caches and the page cache. Then per run, in this order,
each step waiting for an idle CPU first (`--quiet-pct`, `--quiet-max`) after `sync(2)`:

1. `tui-desk sync --once` into a fresh store, plain IMAP (security "none", loopback):
   - full: process start to exit, i.e. every header and body stored and in the FTS index
     (checked afterwards: imap_messages = N, body_state 'full' = N, FTS rows = N);
   - queue usable: process start until `SELECT count(*) FROM imap_messages` = N, polled every
     20 ms from a read-only connection (WAL: readers never block the writer);
   - first batch: until the first header batch is committed (the queue shows something).
   Run 1 also syncs once with STARTTLS (ca_file = the server's self-signed cert) to show the
   TLS cost.
2. `mbsync` (isync 1.4, `SSLType None`) into a fresh Maildir with FSync yes, then `notmuch new`
   on that Maildir (fresh database outside it, mbsync's state files ignored); then mbsync with
   FSync no into another fresh Maildir. Baseline = mbsync FSync yes + notmuch new, as in the
   issue and the lab (fsync per message: survives a power cut). tui-desk's store is WAL with
   synchronous=NORMAL: a commit survives kill -9 but is not flushed to disk, the same class as
   mbsync FSync no, so the ratio against FSync no + notmuch new is printed too.
3. stdlib imaplib: UID FETCH (RFC822.SIZE FLAGS INTERNALDATE BODY.PEEK[]) in chunks of 500 UIDs;
   bytes only, nothing parsed or stored: the protocol floor.
Nothing is deleted between runs (deleting 10k files made the next timed run 2-8x slower on this
VM); everything goes when the bench ends.

After the runs, once: live latency. `tui-desk sync` (live, IDLE) on the last synced store; one
untimed warm-up delivery, then `--live` messages delivered one by one through LMTP, `--live-gap`
seconds apart; for each, delivery (LMTP DATA answered) -> its Message-ID in `messages`
(polled every 10 ms), and -> its body stored. Before that, the server's own floor: a bare IDLE
client (raw socket) timing delivery -> `* N EXISTS` 5 times.

Memory of every tui-desk run: /proc polled every 100 ms for the main process's VmHWM (its peak
RSS), the parse workers' VmHWM (ProcessPoolExecutor children) and the peak of the tree's summed
RSS; plus ru_maxrss from wait4 (the largest single process of the tree).

`--timeline`: one more `sync --once` (the real command, nothing wrapped), before the live part,
with its CPU timeline (bench/sync_timeline.py): cores used every 0.1 s by the main thread, the
other threads (SQLite), the parse workers and the rest of the machine, the store's progress and
the phase marks (workers up, first header batch, all headers, first body batch, all bodies, exit),
and the core-seconds left idle per segment. `--live 0` skips the live part.

`--profile`: two more `sync --once` runs into fresh stores, before the live part (it adds mail):
- under `python -m cProfile -o bench/out/sync_once-<N>.prof`: the main thread of the main
  process only. SQLite runs in aiosqlite's thread and parsing in forked ProcessPoolExecutor
  workers, so both show up as time in `epoll.poll`; the workers inherit the profiler hook (they
  are forked while it is on), so this run is slower than the timed ones. Printed: the top entries
  by cumulative time from tui_desk, aiosqlite and zlib.
- with wall-clock accumulators wrapped around the sync's phases (IMAP FETCH, waiting for the
  parse pool, header and body store steps, SQLite calls, commits), in-process: where the wall
  time goes, including the time the main thread waits for other threads and processes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.utils
import imaplib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import accounts
from servers import DovecotServer, MaildirMessage, make_server_dir, make_test_cert
from tui_desk.demo import mailbox as generator

OUT = ROOT / "bench" / "out"
END = dt.datetime(2026, 11, 20, 23, 59, tzinfo=dt.timezone.utc)  # the generator's default
DAYS = 60
FETCH_CHUNK = 500
TARGETS = {"ratio": 0.25, "queue_usable_s": 2.0, "live_s": 1.0, "rss_mib": 150.0}
VENV_PY = ROOT / ".venv" / "bin" / "python"
PYTHON = str(VENV_PY) if VENV_PY.exists() else sys.executable


# -- machine load --------------------------------------------------------------------------------
def _cpu_snapshot() -> tuple[int, int]:
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[3] + v[4]  # total, idle + iowait


def busy_pct(seconds: float = 1.0) -> float:
    t1, i1 = _cpu_snapshot()
    time.sleep(seconds)
    t2, i2 = _cpu_snapshot()
    return 100.0 * (1 - (i2 - i1) / max(1, t2 - t1))


class Quiet:
    """Waits (at most max_s) for a second in which the CPUs are less than pct busy; keeps what it
    saw so the JSON says how loaded the machine was when each figure was taken."""

    def __init__(self, pct: float, max_s: float) -> None:
        self.pct, self.max_s = pct, max_s
        self.log: list[dict] = []

    def wait(self, label: str) -> None:
        os.sync()
        start = time.monotonic()
        busy = 0.0
        while self.max_s > 0:
            busy = busy_pct()
            if busy < self.pct or time.monotonic() - start >= self.max_s:
                break
            time.sleep(1.0)
        waited = time.monotonic() - start
        entry = {"step": label, "busy_pct": round(busy, 1), "waited_s": round(waited, 1),
                 "loadavg": os.getloadavg()[0]}
        if self.max_s > 0 and busy >= self.pct:
            entry["noisy"] = True
            print(f"  WARNING: {label}: CPUs still {busy:.0f}% busy after {waited:.0f} s; timing anyway",
                  file=sys.stderr, flush=True)
        self.log.append(entry)


# -- process memory from /proc ------------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def _status_kib(pid: int, keys: tuple[str, ...]) -> dict[str, int]:
    got: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k = line.split(":", 1)[0]
                if k in keys:
                    got[k] = int(line.split()[1])
    except OSError:
        pass
    return got


class MemWatch(threading.Thread):
    """Peak RSS of a process (VmHWM), of its descendants (each one's VmHWM), and of the summed
    tree RSS, sampled every `every` seconds until stopped."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.main_hwm = 0
        self.worker_hwm: dict[int, int] = {}
        self.tree_peak = 0
        self._halt = threading.Event()

    def sample(self) -> None:
        tree, frontier = [], [self.pid]
        while frontier:
            p = frontier.pop()
            tree.append(p)
            frontier += _children(p)
        total = 0
        for p in tree:
            st = _status_kib(p, ("VmHWM", "VmRSS"))
            total += st.get("VmRSS", 0)
            if p == self.pid:
                self.main_hwm = max(self.main_hwm, st.get("VmHWM", 0))
            elif st:
                self.worker_hwm[p] = max(self.worker_hwm.get(p, 0), st.get("VmHWM", 0))
        self.tree_peak = max(self.tree_peak, total)

    def run(self) -> None:
        while not self._halt.wait(self.every):
            self.sample()

    def stop(self) -> dict:
        self._halt.set()
        self.join()
        return {"main_vmhwm_mib": self.main_hwm / 1024,
                "workers": len(self.worker_hwm),
                "worker_vmhwm_max_mib": max(self.worker_hwm.values(), default=0) / 1024,
                "tree_rss_peak_mib": self.tree_peak / 1024}


# -- the store, seen from outside ------------------------------------------------------------------------
def ro_connect(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1.0, check_same_thread=False)


class HeaderPoller(threading.Thread):
    """Polls `SELECT count(*) FROM imap_messages` every `every` s; records when it first was > 0
    and when it reached n (seconds after t0)."""

    def __init__(self, db: Path, n: int, t0: float, every: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.db, self.n, self.t0, self.every = db, n, t0, every
        self.first_s: float | None = None
        self.all_s: float | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        con = None
        while not self._halt.is_set() and self.all_s is None:
            now = time.perf_counter()
            try:
                if con is None:
                    if not self.db.exists():
                        raise sqlite3.OperationalError("no store yet")
                    con = ro_connect(self.db)
                count = con.execute("SELECT count(*) FROM imap_messages").fetchone()[0]
            except sqlite3.Error:
                count = 0  # not created or not migrated yet
            if count and self.first_s is None:
                self.first_s = now - self.t0
            if count >= self.n:
                self.all_s = now - self.t0
            self._halt.wait(self.every)
        if con is not None:
            con.close()

    def stop(self) -> None:
        self._halt.set()
        self.join()


def store_check(db: Path) -> dict:
    con = ro_connect(db)
    try:
        def q(sql):
            return con.execute(sql).fetchone()[0]

        return {"imap_messages": q("SELECT count(*) FROM imap_messages"),
                "messages": q("SELECT count(*) FROM messages"),
                "bodies_full": q("SELECT count(*) FROM messages WHERE body_state = 'full'"),
                "fts_rows": q("SELECT count(*) FROM messages_fts"),
                "errors": q("SELECT count(*) FROM messages WHERE error IS NOT NULL")}
    finally:
        con.close()


def store_bytes(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))


# -- tui-desk ------------------------------------------------------------------------------------------
def write_config(path: Path, server: DovecotServer, user: str, security: str) -> None:
    accounts.write_config(path, server, user, security=security)


PYCACHE = OUT / "pycache"


def desk_env(work: Path, tree: Path | None = None) -> dict[str, str]:
    """tree: run the tui_desk package found in that directory (a copy of an older version, say)
    instead of this checkout's. Bytecode is read from (and written to) PYCACHE, as after any
    install, even where PYTHONDONTWRITEBYTECODE is set and for copies without __pycache__:
    compiling tui_desk from source cost every sync ~0.2 s of the main thread's start and some
    of each parse worker's (see precompile)."""
    env = {**os.environ, "XDG_DATA_HOME": str(work / "xdg-data"),
           "XDG_CONFIG_HOME": str(work / "xdg-config"), "PYTHONPYCACHEPREFIX": str(PYCACHE)}
    for name in ("TUI_DESK_DB", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    return env


def precompile(work: Path, tree: Path | None = None) -> None:
    """The bytecode of tree's tui_desk (or this checkout's) into PYCACHE before any timed run."""
    package = (tree if tree is not None else ROOT) / "tui_desk"
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(package)], env=desk_env(work, tree), check=True,
                   stdout=subprocess.DEVNULL)


def run_desk_once(cfg: Path, db: Path, n: int, work: Path, prefix: list[str] | None = None,
                  tree: Path | None = None) -> dict:
    """One `tui-desk sync --once` into a fresh store: times, memory, what the store holds."""
    cmd = [*(prefix or [PYTHON]), "-m", "tui_desk", "--config", str(cfg), "--db", str(db), "sync", "--once"]
    out_path, err_path = work / "desk.out", work / "desk.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=desk_env(work, tree), stdout=out, stderr=err, cwd=work)
        poller = HeaderPoller(db, n, t0)
        mem = MemWatch(proc.pid)
        poller.start()
        mem.start()
        _, status, usage = os.wait4(proc.pid, 0)
        total = time.perf_counter() - t0
        proc.returncode = code = os.waitstatus_to_exitcode(status)  # Popen must not wait again
    memory = mem.stop()
    poller.stop()
    if code != 0:
        raise RuntimeError(f"tui-desk sync --once failed ({code}):\n{err_path.read_text(errors='replace')[-3000:]}")
    check = store_check(db)
    want = {"imap_messages": n, "messages": n, "bodies_full": n, "fts_rows": n}
    if any(check[k] != v for k, v in want.items()):
        raise RuntimeError(f"store after sync is incomplete: {check} (want {want})")
    memory["ru_maxrss_mib"] = usage.ru_maxrss / 1024
    return {"total_s": total, "queue_usable_s": poller.all_s if poller.all_s is not None else total,
            "first_batch_s": poller.first_s, "cpu_user_s": usage.ru_utime, "cpu_sys_s": usage.ru_stime,
            "memory": memory, "store": check, "store_mib": store_bytes(db) / 2**20,
            "summary": out_path.read_text(errors="replace").strip()}


# -- mbsync + notmuch ----------------------------------------------------------------------------------------
def run_mbsync(dest: Path, fsync: bool, server: DovecotServer, user: str, n: int) -> float:
    mail = dest / "mail"
    mail.mkdir(parents=True)
    rc = dest / "mbsyncrc"
    # isync 1.4 spelling: SSLType (TLSType is 1.5+), Far/Near.
    rc.write_text(f"""\
# generated by bench/sync_vs_mbsync.py
FSync {'yes' if fsync else 'no'}
IMAPAccount bench
Host 127.0.0.1
Port {server.imap_port}
User {user}
Pass {server.password_of(user)}
SSLType None
AuthMechs LOGIN

IMAPStore bench-far
Account bench

MaildirStore bench-near
Path {mail}/
Inbox {mail}/INBOX
SubFolders Verbatim

Channel bench
Far :bench-far:
Near :bench-near:
Patterns INBOX
Create Near
Sync Pull
Expunge None
SyncState *
""")
    t0 = time.perf_counter()
    done = subprocess.run(["mbsync", "-q", "-c", str(rc), "bench"], capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    err = "\n".join(line for line in done.stderr.splitlines() if "sent in the clear" not in line)
    if done.returncode != 0:
        raise RuntimeError(f"mbsync failed ({done.returncode}): {err}")
    got = sum(len(os.listdir(mail / "INBOX" / d)) for d in ("cur", "new"))
    if got != n:
        raise RuntimeError(f"mbsync stored {got} of {n} messages: {err}")
    return elapsed


def run_notmuch(mail_root: Path, dest: Path, n: int) -> float:
    db = dest / "notmuch-db"
    db.mkdir(parents=True)
    cfg = dest / "notmuch-config"
    cfg.write_text(f"""\
[database]
path={db}
mail_root={mail_root}
[user]
name=Bench Agent
primary_email=agent1@helpdesk.test
[new]
tags=unread;inbox;
ignore=.mbsyncstate;.mbsyncstate.journal;.mbsyncstate.new;.mbsyncstate.lock;.uidvalidity;.isyncuidmap.db
[search]
exclude_tags=deleted;spam;
[maildir]
synchronize_flags=true
""")
    env = {**os.environ, "NOTMUCH_CONFIG": str(cfg)}
    env.pop("NOTMUCH_PROFILE", None)
    t0 = time.perf_counter()
    subprocess.run(["notmuch", "new", "--quiet"], env=env, check=True, capture_output=True)
    elapsed = time.perf_counter() - t0
    count = int(subprocess.run(["notmuch", "count", "*"], env=env, check=True, capture_output=True,
                               text=True).stdout)
    if count != n:
        raise RuntimeError(f"notmuch indexed {count} of {n} messages")
    return elapsed


# -- imaplib --------------------------------------------------------------------------------------------
SIZE_RE = re.compile(rb"RFC822\.SIZE (\d+)")


def imaplib_download(server: DovecotServer, user: str, n: int, starttls: bool = False) -> float:
    t0 = time.perf_counter()
    m = imaplib.IMAP4(server.host, server.imap_port, timeout=120)
    if starttls:
        m.starttls(ssl_context=ssl.create_default_context(cafile=str(server.ca_file)))
    m.login(user, server.password_of(user))
    m.select("INBOX", readonly=True)
    _, data = m.uid("SEARCH", None, "ALL")
    uids = [int(u) for u in data[0].split()]
    got = nbytes = sizes = 0
    for i in range(0, len(uids), FETCH_CHUNK):
        chunk = uids[i:i + FETCH_CHUNK]
        _, data = m.uid("FETCH", f"{chunk[0]}:{chunk[-1]}", "(RFC822.SIZE FLAGS INTERNALDATE BODY.PEEK[])")
        for item in data:
            if isinstance(item, tuple):
                got += 1
                nbytes += len(item[1])
                sizes += int(SIZE_RE.search(item[0]).group(1))
    m.logout()
    elapsed = time.perf_counter() - t0
    if got != n or nbytes != sizes:
        raise RuntimeError(f"imaplib got {got}/{n} messages, {nbytes} bytes vs RFC822.SIZE sum {sizes}")
    return elapsed


# -- live ---------------------------------------------------------------------------------------------------
def live_message(i: int, token: str) -> tuple[str, bytes]:
    msgid = f"live-{i}-{token}@bench.helpdesk.test"
    raw = (f"From: Live Customer {i} <live.customer{i}@example.com>\r\n"
           f"To: Support <support@helpdesk.test>\r\n"
           f"Subject: Where is my order #{70000 + i}?\r\n"
           f"Date: {email.utils.format_datetime(dt.datetime.now(dt.timezone.utc))}\r\n"
           f"Message-ID: <{msgid}>\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n"
           f"Hello,\r\n\r\nI ordered on Monday and the tracking page still says 'label created'.\r\n"
           f"Order #{70000 + i}. Can you check?\r\n\r\nThanks,\r\nLive Customer {i}\r\n").encode()
    return msgid, raw


def wait_visible(con: sqlite3.Connection, msgid: str, t0: float, timeout: float) -> tuple[float | None, float | None]:
    """Seconds from t0 until the message's row exists, and until its body is stored (10 ms polls)."""
    seen = full = None
    deadline = t0 + timeout
    while time.perf_counter() < deadline:
        row = con.execute("SELECT body_state FROM messages WHERE message_id = ?", (msgid,)).fetchone()
        now = time.perf_counter() - t0
        if row is not None and seen is None:
            seen = now
        if row is not None and row[0] == "full":
            full = now
            break
        time.sleep(0.01)
    return seen, full


def live_latency(server: DovecotServer, user: str, cfg: Path, db: Path, work: Path, count: int,
                 gap: float) -> dict:
    cmd = [PYTHON, "-m", "tui_desk", "--config", str(cfg), "--db", str(db), "sync"]
    err_path = work / "live.err"
    token = secrets.token_hex(4)
    with (work / "live.out").open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(cmd, env=desk_env(work), stdout=out, stderr=err, cwd=work)
    mem = MemWatch(proc.pid)
    mem.start()
    con = ro_connect(db)
    samples = []
    try:
        # Warm-up, untimed: proves the catch-up pass is done and the client is IDLE.
        msgid, raw = live_message(0, token)
        time.sleep(1.0)
        t0 = time.perf_counter()
        server.deliver(user, raw)
        seen, _ = wait_visible(con, msgid, t0, 60)
        if seen is None:
            raise RuntimeError(f"live sync did not pick up the warm-up message in 60 s:\n"
                               f"{err_path.read_text(errors='replace')[-2000:]}")
        time.sleep(gap)
        for i in range(1, count + 1):
            msgid, raw = live_message(i, token)
            t_send = time.perf_counter()
            server.deliver(user, raw)
            t0 = time.perf_counter()
            seen, full = wait_visible(con, msgid, t0, 30)
            samples.append({"lmtp_s": t0 - t_send, "visible_s": seen, "body_s": full})
            rest = gap - (time.perf_counter() - t_send)
            if rest > 0:
                time.sleep(rest)
    finally:
        con.close()
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        if not _wait_exit(proc, 10):
            proc.kill()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        memory = mem.stop()
    memory["ru_maxrss_mib"] = usage.ru_maxrss / 1024
    vis = [s["visible_s"] for s in samples if s["visible_s"] is not None]
    return {"samples": samples, "missed": sum(s["visible_s"] is None for s in samples),
            "p50_s": statistics.median(vis) if vis else None, "max_s": max(vis) if vis else None,
            "body_p50_s": statistics.median([s["body_s"] for s in samples if s["body_s"] is not None] or [0]),
            "memory": memory}


def idle_floor(server: DovecotServer, user: str, samples: int, gap: float) -> list[float]:
    """The server's own push delay: a bare IDLE client (raw socket), delivery (LMTP answered) ->
    `* N EXISTS`. Dovecot batches mailbox change notifications (about 0.5 s), so no client
    can show a new message sooner than this."""
    token = secrets.token_hex(4)
    out = []
    with socket.create_connection((server.host, server.imap_port), timeout=30) as sock:
        lines = sock.makefile("rb")

        def command(tag: str, text: str) -> None:
            sock.sendall(f"{tag} {text}\r\n".encode())
            while not (line := lines.readline()).startswith(tag.encode() + b" "):
                if not line:
                    raise RuntimeError("IDLE probe: connection closed")
            if not line.startswith(tag.encode() + b" OK"):
                raise RuntimeError(f"IDLE probe: {line!r}")

        lines.readline()  # greeting
        command("a", f"LOGIN {user} {server.password_of(user)}")
        command("b", "SELECT INBOX")
        for i in range(samples):
            sock.sendall(b"c IDLE\r\n")
            while not lines.readline().startswith(b"+"):
                pass
            _, raw = live_message(100 + i, token)
            server.deliver(user, raw)
            t0 = time.perf_counter()
            while b"EXISTS" not in (line := lines.readline()):
                if not line:
                    raise RuntimeError("IDLE probe: connection closed")
            out.append(time.perf_counter() - t0)
            sock.sendall(b"DONE\r\n")
            while not lines.readline().startswith(b"c "):
                pass
            time.sleep(gap)
        command("d", "LOGOUT")
    return out


def _wait_exit(proc: subprocess.Popen, timeout: float) -> bool:
    """True once the process has exited (not yet reaped), False after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:
            return False
        time.sleep(0.05)
    return False


# -- profile --------------------------------------------------------------------------------------------------
def profile_once(cfg: Path, db: Path, n: int, work: Path, out: Path) -> dict:
    import pstats
    prof = out / f"sync_once-{n}.prof"
    res = run_desk_once(cfg, db, n, work, prefix=[PYTHON, "-m", "cProfile", "-o", str(prof)])
    stats = pstats.Stats(str(prof))
    stats.sort_stats("cumulative")
    rows = []
    for func, (_cc, nc, tt, ct, _) in sorted(stats.stats.items(), key=lambda kv: -kv[1][3])[:150]:
        rows.append({"func": f"{Path(func[0]).name}:{func[1]}({func[2]})", "ncalls": nc,
                     "tottime_s": round(tt, 3), "cumtime_s": round(ct, 3)})
    return {"prof": str(prof), "total_s": res["total_s"], "queue_usable_s": res["queue_usable_s"],
            "top_cumulative": rows, "phases": None}


# Runs the CLI in-process with wall-clock accumulators around the sync's steps. The names are
# the engine's internals (tui_desk/sync/imap_sync.py, mail/imap/, store/); a missing one is skipped.
PHASES_HARNESS = r"""
import asyncio, collections, functools, json, sys, time
from tui_desk.mail import imap as I
from tui_desk.sync import imap_sync as S, parse_pool as PP
from tui_desk.store import ingest as IN, db as DB
acc, cnt = collections.defaultdict(float), collections.Counter()
def wrap(owner, name, label):
    f = getattr(owner, name, None)
    if f is None:
        return
    @functools.wraps(f)
    async def timed(*a, **k):
        t = time.perf_counter()
        try:
            return await f(*a, **k)
        finally:
            acc[label] += time.perf_counter() - t
            cnt[label] += 1
    setattr(owner, name, timed)
for owner, names in [(I.ImapConnection, ["connect", "login", "select", "uid_search", "uid_fetch"]),
                     (S.AccountSync, ["_new_messages", "_store_headers", "fetch_bodies", "_store_bodies"]),
                     (DB.Store, ["begin", "commit", "execute", "executemany", "fetchall", "fetchone"])]:
    for name in names:
        wrap(owner, name, f"{owner.__name__}.{name}")
wrap(IN, "ingest_in_transaction", "ingest.ingest_in_transaction")
wrap(IN, "replace_bodies", "ingest.replace_bodies")
def timed_submit(name):
    submit = getattr(PP.ParsePool, name, None)
    if submit is None:
        return
    label = f"ParsePool.{name} (submitted -> done)"
    def parse(self, raws, *rest):
        fut, t = submit(self, raws, *rest), time.perf_counter()
        def done(_):
            acc[label] += time.perf_counter() - t
        fut.add_done_callback(done)
        cnt[label] += 1
        return fut
    setattr(PP.ParsePool, name, parse)
timed_submit("parse")
timed_submit("parse_packed")
# CPU of the SQLite thread by statement: every aiosqlite call is timed where it runs
sql_cpu, sql_cnt = collections.defaultdict(float), collections.Counter()
try:
    import aiosqlite.core as AC
    _execute = AC.Connection._execute
    async def sql_timed(self, fn, *args, **kwargs):
        key = " ".join(args[0].split())[:90] if args and isinstance(args[0], str) else getattr(fn, "__name__", "?")
        def run(*a, **k):
            t = time.thread_time()
            try:
                return fn(*a, **k)
            finally:
                sql_cpu[key] += time.thread_time() - t
                sql_cnt[key] += 1
        return await _execute(self, run, *args, **kwargs)
    AC.Connection._execute = sql_timed
except (ImportError, AttributeError):
    pass
# the parse workers are spawned and import __main__ again: only the parent runs the sync
if __name__ == "__main__":
    from tui_desk import cli
    t0 = time.perf_counter()
    try:
        argv = sys.argv[2:]
        code = cli.main(argv[2:] if argv[:2] == ["-m", "tui_desk"] else argv)
    finally:
        rows = [{"what": k, "wall_s": round(v, 3), "calls": cnt[k]} for k, v in sorted(acc.items(), key=lambda kv: -kv[1])]
        import resource
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = {"main_thread_s": time.thread_time(), "sqlite_thread_s": sum(sql_cpu.values()),
               "process_s": me.ru_utime + me.ru_stime, "workers_s": kids.ru_utime + kids.ru_stime}
        sql = [{"what": k, "cpu_s": round(v, 3), "calls": sql_cnt[k]} for k, v in sorted(sql_cpu.items(), key=lambda kv: -kv[1])]
        with open(sys.argv[1], "w") as f:
            json.dump({"total_s": time.perf_counter() - t0, "phases": rows, "cpu": cpu, "sql": sql[:12]}, f)
    sys.exit(code)
"""


def phases_once(cfg: Path, db: Path, n: int, work: Path) -> dict:
    harness, out = work / "phases_harness.py", work / "phases.json"
    harness.write_text(PHASES_HARNESS)
    res = run_desk_once(cfg, db, n, work, prefix=[PYTHON, str(harness), str(out)])
    got = json.loads(out.read_text())
    got["queue_usable_s"] = res["queue_usable_s"]
    return got


# -- report ---------------------------------------------------------------------------------------------------
def mm(values: list[float]) -> tuple[float, float]:
    return min(values), statistics.median(values)


def fmt_s(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f} s"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=10000, help="messages to generate (default 10000)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--live", type=int, default=20, help="messages delivered for the live latency (default 20)")
    ap.add_argument("--live-gap", type=float, default=1.0, help="seconds between live deliveries")
    ap.add_argument("--quiet-pct", type=float, default=20, help="idle means CPUs less than this %% busy")
    ap.add_argument("--quiet-max", type=float, default=90, help="wait at most this long for idle (0: never)")
    ap.add_argument("--profile", action="store_true", help="one more sync --once under cProfile")
    ap.add_argument("--timeline", action="store_true",
                    help="one more sync --once with its CPU timeline (bench/sync_timeline.py): idle cores, phase marks")
    ap.add_argument("--out", type=Path, default=OUT, help="where the JSON goes (default bench/out)")
    ap.add_argument("--compare-tree", type=Path, metavar="DIR",
                    help="also time the tui_desk package in DIR (e.g. a copy of the previous version) "
                         "in every run, just before this one, against the same mbsync figures")
    args = ap.parse_args()
    for tool in ("mbsync", "notmuch"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed (apt-get install isync notmuch)", file=sys.stderr)
            return 2
    versions = {
        "mbsync": subprocess.run(["mbsync", "--version"], capture_output=True, text=True).stdout.strip(),
        "notmuch": subprocess.run(["notmuch", "--version"], capture_output=True, text=True).stdout.strip(),
        "python": platform.python_version()}
    args.out.mkdir(parents=True, exist_ok=True)
    quiet = Quiet(args.quiet_pct, args.quiet_max)
    load_at_start = os.getloadavg()

    server_root = make_server_dir(Path(tempfile.gettempdir()))
    work = Path(tempfile.mkdtemp(prefix="tui-desk-bench-sync-"))
    server = DovecotServer(server_root, tls=make_test_cert(server_root / "tls"))
    desk: list[dict] = []
    runs: list[dict] = []
    result: dict = {}
    try:
        server.start()
        user = server.new_user()
        t0 = time.perf_counter()
        msgs = generator.Generator(args.n, args.seed, END, DAYS).generate()
        gen_s = time.perf_counter() - t0
        mail_bytes = sum(len(m.raw) for m in msgs)
        t0 = time.perf_counter()
        server.load_maildir(user, [MaildirMessage(m.raw, m.flags, m.when) for m in msgs])
        load_s = time.perf_counter() - t0
        del msgs
        print(f"generated {args.n} messages ({mail_bytes / 2**20:.1f} MiB) in {gen_s:.1f} s, seeded Dovecot "
              f"in {load_s:.1f} s; load average {load_at_start[0]:.2f}", flush=True)
        warm_s = imaplib_download(server, user, args.n)  # untimed: warms Dovecot's caches and the page cache
        print(f"warm-up download {warm_s:.2f} s; {args.runs} runs, steps interleaved", flush=True)

        precompile(work)
        if args.compare_tree:
            precompile(work, args.compare_tree)
        cfg_plain, cfg_tls = work / "plain.toml", work / "starttls.toml"
        write_config(cfg_plain, server, user, "none")
        write_config(cfg_tls, server, user, "starttls")
        starttls: dict | None = None
        last_db: Path | None = None
        for run in range(1, args.runs + 1):
            r: dict = {"run": run}
            if args.compare_tree:
                quiet.wait(f"run {run}: tui-desk from {args.compare_tree}")
                db = work / f"desk-compare-{run}.sqlite3"
                c = run_desk_once(cfg_plain, db, args.n, work, tree=args.compare_tree)
                r["compare_full_s"], r["compare_queue_usable_s"] = c["total_s"], c["queue_usable_s"]
                r["compare_first_batch_s"], r["compare_cpu_s"] = c["first_batch_s"], c["cpu_user_s"] + c["cpu_sys_s"]
                print(f"run {run}: {args.compare_tree}: tui-desk sync --once {c['total_s']:.2f} s (queue usable "
                      f"{c['queue_usable_s']:.2f} s, first batch {fmt_s(c['first_batch_s'])}; cpu "
                      f"{c['cpu_user_s']:.1f}+{c['cpu_sys_s']:.1f} s)", flush=True)
                for p in work.glob(db.name + "*"):
                    p.unlink()
            quiet.wait(f"run {run}: tui-desk")
            db = work / f"desk-{run}.sqlite3"
            d = run_desk_once(cfg_plain, db, args.n, work)
            desk.append(d)
            r["desk_full_s"], r["desk_queue_usable_s"] = d["total_s"], d["queue_usable_s"]
            r["desk_cpu_s"] = d["cpu_user_s"] + d["cpu_sys_s"]
            print(f"run {run}: tui-desk sync --once {d['total_s']:.2f} s (queue usable {d['queue_usable_s']:.2f} s, "
                  f"first batch {fmt_s(d['first_batch_s'])}; cpu {d['cpu_user_s']:.1f}+{d['cpu_sys_s']:.1f} s; "
                  f"main peak RSS {d['memory']['main_vmhwm_mib']:.0f} MiB) — {d['summary']}", flush=True)
            if last_db is not None:
                for p in work.glob(last_db.name + "*"):
                    p.unlink()
            last_db = db
            if run == 1:
                quiet.wait("run 1: tui-desk starttls")
                starttls = run_desk_once(cfg_tls, work / "desk-starttls.sqlite3", args.n, work)
                print(f"run 1: tui-desk sync --once STARTTLS {starttls['total_s']:.2f} s "
                      f"(queue usable {starttls['queue_usable_s']:.2f} s)", flush=True)
            quiet.wait(f"run {run}: mbsync fsync yes")
            r["mbsync_yes_s"] = run_mbsync(work / f"mbsync-yes-{run}", True, server, user, args.n)
            quiet.wait(f"run {run}: notmuch new")
            r["notmuch_new_s"] = run_notmuch(work / f"mbsync-yes-{run}" / "mail", work / f"notmuch-{run}", args.n)
            quiet.wait(f"run {run}: mbsync fsync no")
            r["mbsync_no_s"] = run_mbsync(work / f"mbsync-no-{run}", False, server, user, args.n)
            quiet.wait(f"run {run}: imaplib")
            r["imaplib_s"] = imaplib_download(server, user, args.n)
            if run == 1:
                quiet.wait("run 1: imaplib starttls")
                r["imaplib_starttls_s"] = imaplib_download(server, user, args.n, starttls=True)
            r["baseline_s"] = r["mbsync_yes_s"] + r["notmuch_new_s"]
            r["ratio"] = r["desk_full_s"] / r["baseline_s"]
            r["baseline_nofsync_s"] = r["mbsync_no_s"] + r["notmuch_new_s"]
            r["ratio_nofsync"] = r["desk_full_s"] / r["baseline_nofsync_s"]
            if args.compare_tree:
                r["compare_ratio"] = r["compare_full_s"] / r["baseline_s"]
            print(f"run {run}: mbsync FSync yes {r['mbsync_yes_s']:.2f} s + notmuch new {r['notmuch_new_s']:.2f} s "
                  f"= {r['baseline_s']:.2f} s; mbsync FSync no {r['mbsync_no_s']:.2f} s; imaplib {r['imaplib_s']:.2f} s"
                  f"; ratio {r['ratio']:.2f}x", flush=True)
            runs.append(r)

        profile = timeline = None
        if args.profile:  # before the live part: that one adds mail to the server
            quiet.wait("profile")
            profile = profile_once(cfg_plain, work / "desk-profile.sqlite3", args.n, work, args.out)
            quiet.wait("phases")
            profile["phases"] = phases_once(cfg_plain, work / "desk-phases.sqlite3", args.n, work)
        if args.timeline:  # before the live part too: a first sync of the same mailbox
            from sync_timeline import report as timeline_report, run_timeline
            quiet.wait("timeline")
            tl = run_timeline(cfg_plain, work / "desk-timeline.sqlite3", args.n, work)
            timeline = timeline_report(tl, "this checkout")
        live = None  # --live 0: no live part
        if args.live > 0:
            quiet.wait("idle floor")
            floor = idle_floor(server, user, 5, args.live_gap)
            print(f"server push floor (bare IDLE client, delivery → EXISTS): median {statistics.median(floor):.2f} s, "
                  f"max {max(floor):.2f} s", flush=True)
            quiet.wait("live")
            live = live_latency(server, user, cfg_plain, last_db, work, args.live, args.live_gap)
            live["idle_floor_s"] = floor
            print(f"live: {args.live} deliveries, visible p50 {fmt_s(live['p50_s'])}, max {fmt_s(live['max_s'])}, "
                  f"missed {live['missed']}", flush=True)
        result = report(args, versions, mail_bytes, gen_s, load_s, load_at_start, runs, desk, starttls,
                        live, profile, quiet)
        if timeline is not None:
            result["timeline"] = timeline
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(server_root, ignore_errors=True)
    path = args.out / f"sync_vs_mbsync-{args.n}.json"
    path.write_text(json.dumps(result, indent=1, default=str) + "\n")
    print(f"wrote {path}")
    return 0


def report(args, versions, mail_bytes, gen_s, load_s, load_at_start, runs, desk, starttls, live, profile,
           quiet) -> dict:
    def col(key):
        return [r[key] for r in runs]

    rows: list[tuple[str, list[float] | None, str]] = [
        ("tui-desk sync --once: queue usable (all headers)", col("desk_queue_usable_s"),
         f"≤ {TARGETS['queue_usable_s']:.0f} s"),
        ("tui-desk sync --once: first header batch visible",
         [d["first_batch_s"] for d in desk if d["first_batch_s"] is not None], ""),
        ("tui-desk sync --once: full (bodies + FTS)", col("desk_full_s"), ""),
        ("  same, STARTTLS (run 1 only)", [starttls["total_s"]] if starttls else None, ""),
        ("  same, STARTTLS: queue usable", [starttls["queue_usable_s"]] if starttls else None, ""),
        ("mbsync FSync yes", col("mbsync_yes_s"), ""),
        ("mbsync FSync no", col("mbsync_no_s"), ""),
        ("notmuch new (on the FSync yes Maildir)", col("notmuch_new_s"), ""),
        ("baseline: mbsync FSync yes + notmuch new", col("baseline_s"), ""),
        ("  mbsync FSync no + notmuch new", col("baseline_nofsync_s"), ""),
        ("stdlib imaplib UID FETCH, 500/command (floor)", col("imaplib_s"), ""),
        ("  same, STARTTLS (run 1 only)", [runs[0]["imaplib_starttls_s"]], ""),
    ]
    ratios = col("ratio")
    ratio_of_medians = statistics.median(col("desk_full_s")) / statistics.median(col("baseline_s"))
    peak_main = max(d["memory"]["main_vmhwm_mib"] for d in desk)
    peak_worker = max(d["memory"]["worker_vmhwm_max_mib"] for d in desk)
    peak_tree = max(d["memory"]["tree_rss_peak_mib"] for d in desk)
    ru = max(d["memory"]["ru_maxrss_mib"] for d in desk)
    workers = max(d["memory"]["workers"] for d in desk)
    noisy = [q for q in quiet.log if q.get("noisy")]

    print(f"\nIMAP first sync of {args.n} generated messages ({mail_bytes / 2**20:.1f} MiB), private Dovecot on "
          f"loopback, plain IMAP unless noted; {args.runs} runs, steps interleaved per run; {os.cpu_count()} CPUs, "
          f"Python {versions['python']}, {versions['mbsync']}, {versions['notmuch']}\n")
    print(f"| {'figure':<50} | {'min':>8} | {'median':>8} | {'target':>8} |")
    print(f"|{'-' * 52}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    for label, values, target in rows:
        if values:
            lo, med = mm(values)
            print(f"| {label:<50} | {lo:>6.2f} s | {med:>6.2f} s | {target:>8} |")
    lo, med = mm(ratios)
    print(f"| {'ratio tui-desk full / (mbsync yes + notmuch)':<50} | {lo:>7.2f}x | {med:>7.2f}x | "
          f"{'≤ 0.25x':>8} |")
    lo, med = mm(col("ratio_nofsync"))
    print(f"| {'  same against mbsync FSync no + notmuch':<50} | {lo:>7.2f}x | {med:>7.2f}x | {'':>8} |")
    print(f"| {'tui-desk sync --once: CPU, all processes':<50} | {min(col('desk_cpu_s')):>6.2f} s | "
          f"{statistics.median(col('desk_cpu_s')):>6.2f} s | {'':>8} |")
    if args.compare_tree:
        print(f"| {f'compared tree ({args.compare_tree}), same runs:':<50} | {'':>8} | {'':>8} | {'':>8} |")
        for label, key in (("  queue usable", "compare_queue_usable_s"), ("  full", "compare_full_s"),
                           ("  CPU, all processes", "compare_cpu_s")):
            lo, med = mm(col(key))
            print(f"| {label:<50} | {lo:>6.2f} s | {med:>6.2f} s | {'':>8} |")
        lo, med = mm(col("compare_ratio"))
        print(f"| {'  ratio full / (mbsync yes + notmuch)':<50} | {lo:>7.2f}x | {med:>7.2f}x | {'':>8} |")
    if live is not None and live["p50_s"] is not None:
        print(f"| {'live: delivery → visible in store, p50 / max':<50} | {live['p50_s']:>6.2f} s | "
              f"{live['max_s']:>6.2f} s | {'≤ 1 s':>8} |")
    if live is not None:
        floor = live["idle_floor_s"]
        print(f"| {'  server floor: bare IDLE client, median / max':<50} | {statistics.median(floor):>6.2f} s | "
              f"{max(floor):>6.2f} s | {'':>8} |")
    print(f"| {'peak RSS, sync --once main process (VmHWM)':<50} | {peak_main:>4.0f} MiB | {'':>8} | "
          f"{'≤ 150 MiB':>8} |")
    print(f"| {f'peak RSS, each parse worker ({workers} workers)':<50} | {peak_worker:>4.0f} MiB | {'':>8} | {'':>8} |")
    print(f"| {'peak summed RSS of the process tree':<50} | {peak_tree:>4.0f} MiB | {'':>8} | {'':>8} |")

    verdict = {
        "ratio": statistics.median(ratios) <= TARGETS["ratio"],
        "queue_usable": statistics.median(col("desk_queue_usable_s")) <= TARGETS["queue_usable_s"],
        "live": (None if live is None  # --live 0: not measured
                 else live["max_s"] is not None and live["max_s"] <= TARGETS["live_s"] and not live["missed"]),
        "rss": peak_main <= TARGETS["rss_mib"],
    }
    print(f"\nratio of medians {ratio_of_medians:.2f}x (target ≤ 0.25x: tui-desk full ≤ "
          f"{0.25 * statistics.median(col('baseline_s')):.2f} s here)")
    print("targets: " + ", ".join(f"{k} {'not measured' if v is None else 'met' if v else 'MISSED'}"
                                  for k, v in verdict.items()))
    live_peak = "not run" if live is None else f"{live['memory']['main_vmhwm_mib']:.0f} MiB"
    print(f"wait4 ru_maxrss (largest single process of the tree): {ru:.0f} MiB; live sync main process "
          f"peak {live_peak}; store {desk[-1]['store_mib']:.1f} MiB")
    if live is not None and live["samples"]:
        print(f"live: LMTP delivery itself p50 {statistics.median(s['lmtp_s'] for s in live['samples']):.3f} s "
              f"(not counted); body stored p50 {live['body_p50_s']:.2f} s after delivery; {live['missed']} missed")
    print(f"load: average {load_at_start[0]:.2f} at start; {len(noisy)} of {len(quiet.log)} timed steps started "
          f"while the CPUs were ≥ {args.quiet_pct:.0f}% busy after waiting {args.quiet_max:.0f} s")
    if profile:
        print(f"\ncProfile of one sync --once, main thread ({profile['total_s']:.1f} s under the profiler; "
              f"{profile['prof']}); top 15 by cumulative time of tui_desk, aiosqlite, zlib, and the event loop's wait:")
        shown = [r for r in profile["top_cumulative"]
                 if re.search(r"^(cli|sync|imap|ingest|db|mirror|fts|service|parse_pool|core)\.py:|method 'poll'|zlib",
                              r["func"])]
        for row in shown[:15]:
            print(f"  {row['cumtime_s']:>8.2f} s cum {row['tottime_s']:>7.2f} s own {row['ncalls']:>9}  {row['func']}")
        ph = profile["phases"]
        print(f"\nwall time by phase, one sync --once with accumulators ({ph['total_s']:.1f} s in-process, "
              f"queue usable {ph['queue_usable_s']:.1f} s); nested, so the rows overlap:")
        for row in ph["phases"]:
            print(f"  {row['wall_s']:>8.2f} s {row['calls']:>7}  {row['what']}")
        cpu = ph["cpu"]
        print(f"\nCPU of that run: main thread {cpu['main_thread_s']:.2f} s, SQLite thread {cpu['sqlite_thread_s']:.2f} s, "
              f"main process {cpu['process_s']:.2f} s, parse workers {cpu['workers_s']:.2f} s; SQLite by statement:")
        for row in ph["sql"]:
            print(f"  {row['cpu_s']:>8.2f} s {row['calls']:>7}  {row['what']}")
    return {"bench": "sync_vs_mbsync", "messages": args.n, "runs": args.runs, "seed": args.seed,
            "end": END.isoformat(), "days": DAYS, "mail_mib": mail_bytes / 2**20, "cpus": os.cpu_count(),
            "versions": versions, "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "generate_s": gen_s, "seed_dovecot_s": load_s, "loadavg_at_start": load_at_start,
            "per_run": runs, "tui_desk_runs": desk, "tui_desk_starttls": starttls, "live": live,
            "ratio_min": min(ratios), "ratio_median": statistics.median(ratios),
            "ratio_of_medians": ratio_of_medians, "ratio_nofsync_median": statistics.median(col("ratio_nofsync")),
            "targets": TARGETS, "verdict": verdict,
            "memory_peak_mib": {"main_vmhwm": peak_main, "worker_vmhwm": peak_worker, "tree_rss": peak_tree,
                                "wait4_ru_maxrss": ru, "workers": workers},
            "quiet": quiet.log, "profile": profile}


if __name__ == "__main__":
    sys.exit(main())
