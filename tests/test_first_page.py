"""desk.first_page: the queue's first page, read in a forked child (`tui-desk`) or on a thread
while the app starts. A store that needs nothing done to it is read on a plain connection
without the desk's modules; one that must be brought up to date, or whose rows carry SLA
timelines, through a Desk as before. Either way the page is the one the app's own desk would
read."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import sqlite3
import subprocess
import sys

import pytest

from tui_desk.cli import prepare_demo
from tui_desk.config import Config
from tui_desk.demo import DEMO_CONFIG
from tui_desk.desk.first_page import FirstPageReader
from tui_desk.desk.service import Desk
from tui_desk.store.db import PlainReads

NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.timezone.utc)
# the demo's agent and priority settings (its store's ranks are made with them), without its [sla] targets
PLAIN = Config(agent=DEMO_CONFIG.agent, agent_addresses=DEMO_CONFIG.agent_addresses, priority=DEMO_CONFIG.priority)


def clock() -> float:
    return NOW.timestamp()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    asyncio.run(prepare_demo(db, NOW))
    return db


async def desks_page(db, config: Config, rows: int):
    desk = await Desk.open(db, config, clock=clock)
    try:
        ids = await desk.queue_ids()
        return ids, await desk.queue_rows(ids[:rows])
    finally:
        await desk.close()


async def read(db, config: Config, rows: int = 1000):
    reader = FirstPageReader(db, config, rows=rows, clock=clock)
    return reader, await asyncio.to_thread(reader.result)


async def test_a_store_needing_nothing_is_read_without_a_desk(demo_db, monkeypatch):
    def no_desk(self):
        raise AssertionError("read through a Desk")
    monkeypatch.setattr(FirstPageReader, "_read_with_desk", no_desk)
    reader, page = await read(demo_db, PLAIN)
    assert page is not None
    assert page == await desks_page(demo_db, PLAIN, 1000)
    ids, rows = page
    assert len(rows) == len(ids) > 20
    # what a row shows beyond the mail: all of it read the same way
    assert any(r.tags for r in rows) and any(r.assignee for r in rows) and any(r.flags for r in rows)
    assert any(r.has_draft for r in rows) and any(r.scheduled_reply_at for r in rows)
    assert reader.mark is not None and len(reader.mark) == 4


async def test_the_first_rows_only(demo_db):
    _, page = await read(demo_db, PLAIN, rows=5)
    assert page is not None
    ids, rows = page
    assert [r.id for r in rows] == ids[:5] and len(ids) > 5


@pytest.mark.parametrize("change", ["ranks", "bursts", "agent"])
async def test_a_store_to_bring_up_to_date_is_read_through_a_desk(demo_db, tmp_path, monkeypatch, change):
    """New priority settings (a new loud window too) or a new agent identity: the Desk opened on
    the thread works the ranks out again first, as the app's own would."""
    db = tmp_path / "copy.sqlite3"
    with sqlite3.connect(demo_db) as source, sqlite3.connect(db) as target:
        source.backup(target)
    priority = PLAIN.priority
    if change == "ranks":
        priority = dataclasses.replace(priority, response_target_minutes=30)
    elif change == "bursts":
        priority = dataclasses.replace(priority, loud_window_minutes=60)
    config = dataclasses.replace(PLAIN, priority=priority,
                                 agent_addresses=PLAIN.agent_addresses + (("*@else.test",) if change == "agent" else ()))
    through_desk = []
    original = FirstPageReader._read_with_desk

    async def spy(self):
        through_desk.append(True)
        return await original(self)
    monkeypatch.setattr(FirstPageReader, "_read_with_desk", spy)
    _, page = await read(db, config)
    assert through_desk == [True] and page is not None
    assert page == await desks_page(db, config, 1000)
    _, again = await read(db, config)  # brought up to date: the plain read from now on
    assert again == page and through_desk == [True]


async def test_sla_targets_are_read_through_a_desk(demo_db):
    assert DEMO_CONFIG.sla.configured()
    _, page = await read(demo_db, DEMO_CONFIG)
    assert page is not None
    assert page == await desks_page(demo_db, DEMO_CONFIG, 1000)
    assert any(r.sla is not None for r in page[1])


async def test_plain_reads_neither_write_nor_make_a_store(demo_db, tmp_path):
    store = PlainReads(demo_db)
    try:
        with pytest.raises(sqlite3.OperationalError):
            await store.fetchall("DELETE FROM tags")
        assert await store.fetchone("SELECT count(*) FROM tags") is not None
    finally:
        store.close()
    missing = tmp_path / "none.sqlite3"
    with pytest.raises(sqlite3.OperationalError):
        PlainReads(missing)
    assert not missing.exists()
    odd = tmp_path / "a #1 ?x%.sqlite3"  # a path is not read as a URI's query or fragment
    with sqlite3.connect(demo_db) as source, sqlite3.connect(odd) as target:
        source.backup(target)
    store = PlainReads(odd)
    try:
        assert store.version > 0
    finally:
        store.close()


def test_plain_reads_run_without_an_event_loop(demo_db):
    """PlainReads.run: the child's read and the setup hint need no event loop; a coroutine that
    waits for one is a bug, said, not a hang."""
    store = PlainReads(demo_db)
    try:
        assert PlainReads.run(store.get_meta("agent_identity")) is not None

        async def waits():
            await asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="waited"):
            PlainReads.run(waits())
    finally:
        store.close()


def test_the_thread_leaves_the_desks_modules_to_the_app(demo_db, tmp_path):
    """What the thread imports the app's own imports wait for (the GIL): the desk's service and
    the rest of its modules are imported after the first paint (ui.app.run_app)."""
    code = ("import sys\nfrom tui_desk.config import Config, PriorityConfig\n"
            "from tui_desk.desk.first_page import FirstPageReader\n"
            f"r = FirstPageReader({str(demo_db)!r}, Config(agent={PLAIN.agent!r}, "
            f"agent_addresses={PLAIN.agent_addresses!r}, priority={PLAIN.priority!r}))\n"
            "assert r.result() is not None\n"
            "print('tui_desk.desk.service' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout.strip() == "False"


# `tui-desk` reads the page in a forked child (fork=True): run in a fresh interpreter, as the
# app's start is, where no other thread runs (a process with threads reads on a thread instead)
FORKED = """
import atexit, json, os, signal, sys
from tui_desk.config import Config, PriorityConfig
from tui_desk.desk.first_page import FirstPageReader

db, config, now = sys.argv[1], Config(agent={agent!r}, agent_addresses={addresses!r}, priority={priority!r}), {now!r}
parent = os.getpid()
atexit.register(print, "atexit ran")  # in the parent only: the child leaves by os._exit
blocked, _never_written = os.pipe()

class Child(FirstPageReader):
    how = None
    async def _read_plain(self):
        if os.getpid() != parent:
            print("the child on stdout"); print("the child on stderr", file=sys.stderr)
            if self.how == "dies":
                os.kill(os.getpid(), signal.SIGKILL)
            if self.how == "waits":
                os.read(blocked, 1)
        return await super()._read_plain()

def no_child_left():
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False

out = {{}}
thread = FirstPageReader(db, config, clock=lambda: now)
expected = thread.result()
out["thread_forked"] = thread.forked
for how in ("reads", "dies", "waits", "closed"):
    Child.how = how
    reader = Child(db, config, clock=lambda: now, fork=True)
    forked, pid = reader.forked, reader._child[0] if reader._child else None
    if how == "waits":
        os.kill(pid, signal.SIGINT)  # Ctrl+C in the terminal reaches the child too
    done = None
    if how == "reads":
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # until it has left (not reaped)
        done = reader.done()  # the app takes the page at once then
    if how == "closed":
        reader.close()  # the app never took the page
        page = None
    else:
        page = reader.result()
    status = reader._child_status
    out[how] = dict(forked=forked, done=done, same=page == expected, mark=reader.mark is not None and len(reader.mark) == 4, exited=os.WIFEXITED(status) and os.WEXITSTATUS(status),
                    signal=os.WIFSIGNALED(status) and signal.Signals(os.WTERMSIG(status)).name, no_child_left=no_child_left(),
                    timings=sorted(reader.timings))

# new priority settings: the child says the store needs a Desk, which reads it here
import dataclasses, sqlite3
copy = "outdated.sqlite3"
with sqlite3.connect(db) as source, sqlite3.connect(copy) as target:
    source.backup(target)
changed = dataclasses.replace(config, priority=dataclasses.replace(config.priority, response_target_minutes=30))
reader = Child(copy, changed, clock=lambda: now, fork=True)
os.waitid(os.P_PID, reader._child[0], os.WEXITED | os.WNOWAIT)
done = reader.done()  # False: the page is still to be read (not on the app's event loop)
page = reader.result()
out["outdated"] = dict(forked=reader.forked, done=done, no_child_left=no_child_left(),
                       same=page is not None and page == FirstPageReader(copy, changed, clock=lambda: now).result())
print(json.dumps(out))
"""


def test_the_forked_read_sends_the_threads_page_and_leaves_no_trace(demo_db, tmp_path):
    """The child's page is the one the thread reads; a child that dies or is interrupted
    (Ctrl+C) leaves the page to be read the thread's way, a store to bring up to date through a
    Desk as the thread would; none is left unreaped, none runs the
    parent's atexit handlers or writes to the terminal."""
    import json
    code = FORKED.format(agent=PLAIN.agent, addresses=PLAIN.agent_addresses, priority=PLAIN.priority,
                         now=NOW.timestamp())
    done = subprocess.run([sys.executable, "-c", code, str(demo_db)], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    *printed, last, atexit_line = done.stdout.splitlines()
    assert printed == [] and done.stderr == "" and atexit_line == "atexit ran"
    out = json.loads(last)
    assert out["thread_forked"] is False
    timings = ["ids_query_s", "ids_read", "rows_made", "rows_s"]
    assert out["reads"] == dict(forked=True, done=True, same=True, mark=True, exited=0, signal=False, no_child_left=True,
                                timings=timings)
    assert out["dies"] == dict(forked=True, done=None, same=True, mark=True, exited=False, signal="SIGKILL",
                               no_child_left=True, timings=timings)  # read again here
    assert out["waits"] == dict(forked=True, done=None, same=True, mark=True, exited=False, signal="SIGINT",
                                no_child_left=True, timings=timings)
    assert out["closed"]["forked"] is True and out["closed"]["no_child_left"]
    assert out["closed"]["signal"] == "SIGKILL" or out["closed"]["exited"] == 0  # ended, unless it was done already
    assert out["outdated"] == dict(forked=True, done=False, no_child_left=True, same=True)


def test_no_child_for_sla_targets_a_missing_store_or_a_process_with_threads(demo_db, tmp_path):
    """[sla] targets are read through a Desk (its thread), and a store not there yet is made by
    the app's own open: no child for them. With another thread running, a fork could copy a
    lock that thread holds: the thread's way again."""
    for reader in (FirstPageReader(demo_db, DEMO_CONFIG, fork=True),
                   FirstPageReader(tmp_path / "none.sqlite3", PLAIN, fork=True)):
        assert reader.forked is False
        reader.result()  # its thread done: a desk it still had open is no store the test left open
    import threading
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        reader = FirstPageReader(demo_db, PLAIN, clock=clock, fork=True)
        assert reader.forked is False and reader.result() is not None
    finally:
        release.set()
        other.join()
