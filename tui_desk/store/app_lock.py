"""One app on a store, or the app says so. Two tui-desk apps on one store share the drafts and
the replies in progress, with no collision check between them (each agent has a store of their
own: README 'Working as a team'). The app takes an fcntl lock on a file beside the store
(`<store>.app-lock`, holding the holder's pid for the message) and keeps it while it runs: the
OS lets it go when the process dies, however it dies, so a lock is never stale. CLI commands
take none: they share the store with the app by design.

POSIX locks belong to a process: a fork (the first page's reader) does not inherit it, and a
second take in the process holding it succeeds."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

SUFFIX = ".app-lock"

_held: dict[Path, int] = {}  # the lock file -> its descriptor, kept open while this process runs


def lock_path(db: str | Path) -> Path:
    db = Path(db).absolute()
    return db.with_name(db.name + SUFFIX)


def take(db: str | Path) -> int | None:
    """Take this store's app lock for as long as the process runs. None when it is this
    process's now; the pid of the running app holding it otherwise (0 when it has not written
    its pid yet). A lock file that cannot be made (a read-only folder) counts as taken: the
    store's own open says what is wrong."""
    path = lock_path(db)
    if path in _held:
        return None
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        return None
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        try:
            said = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        finally:
            os.close(fd)
        return int(said) if said.isdigit() else 0
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    _held[path] = fd
    return None


def other_app_line(db: str | Path) -> str | None:
    """The one line the app says at its start (and on screen) when another running tui-desk app
    has this store open (take() again: the lock is this app's once the other has quit)."""
    pid = take(db)
    if pid is None:
        return None
    return (f"another tui-desk (pid {pid or '?'}) has this store open: drafts and replies in progress are "
            "shared; each agent should have their own store, README 'Working as a team'")
