"""Two apps on one store share drafts with no collision check between them: the app says so
when another running tui-desk app has the store open. The lock is fcntl's on a file beside the
store, which the OS lets go when the process dies (no stale pid file); CLI commands take none.
Another process holds it here: POSIX locks are per process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

from tui_desk.store import app_lock
from tui_desk.store.db import Store

HOLDER = """
import sys, time
from tui_desk.store import app_lock
print(app_lock.take(sys.argv[1]), flush=True)
time.sleep(600)
"""


async def made(db) -> None:
    await (await Store.open(db)).close()


def holder(db) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "None"  # it took the lock: nobody else had the store open
    return child


def test_a_second_app_on_a_store_is_told_the_first_ones_pid_and_not_after_it_died(tmp_path):
    db = tmp_path / "desk.db"
    first = holder(db)
    try:
        assert app_lock.take(db) == first.pid
        assert app_lock.other_app_line(db) == (
            f"another tui-desk (pid {first.pid}) has this store open: drafts and replies in progress are "
            "shared; each agent should have their own store, README 'Working as a team'")
        assert app_lock.take(tmp_path / "other.db") is None  # another store: no one else
        assert app_lock.other_app_line(tmp_path / "other.db") is None
    finally:
        os.kill(first.pid, signal.SIGKILL)  # no clean exit: the OS lets the lock go
        first.wait()
    assert app_lock.take(db) is None
    assert app_lock.other_app_line(db) is None
    second = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert second.stdout.readline().strip() == str(os.getpid())  # now this process holds it
    finally:
        second.kill()
        second.wait()
    assert (tmp_path / "desk.db.app-lock").exists()


def test_a_cli_command_takes_no_lock(tmp_path):
    """`tui-desk queue` beside a running app shares the store by design: it says nothing and
    leaves no lock behind for the app to find."""
    db = tmp_path / "desk.db"
    asyncio.run(made(db))
    out = subprocess.run([sys.executable, "-m", "tui_desk", "--db", str(db), "queue"], capture_output=True,
                         text=True, env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert "another tui-desk" not in out.stderr + out.stdout
    assert not (tmp_path / "desk.db.app-lock").exists()
