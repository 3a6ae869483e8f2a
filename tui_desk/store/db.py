"""Opening the store: file checks, pragmas, migrations, one-line errors."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import weakref
from pathlib import Path
from contextlib import asynccontextmanager, contextmanager, suppress
from typing import Any, AsyncIterator, Coroutine, Iterable, Iterator, Protocol, Sequence, TypeVar

import aiosqlite

from tui_desk.store.schema import MIGRATIONS, SCHEMA_VERSION

T = TypeVar("T")

SQLITE_MAGIC = b"SQLite format 3\x00"

# SQLite's primary result codes: an sqlite3.Error's sqlite_errorcode & 0xff
SQLITE_PERM, SQLITE_READONLY, SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB = (
    3, 8, 10, 11, 13, 14, 26)


# what a ? in SQL takes (sqlite3's own types; bool is an int)
SqlValue = str | bytes | int | float | None


class StoreError(Exception):
    """A problem with the store file, phrased as one line for the user."""


def store_error(path: Path, exc: BaseException) -> StoreError | None:
    """What an error met opening or using the store at `path` means, as one line; None for an
    error that says nothing about the file or its folder (a bug: its traceback is wanted).
    The one place that tells a damaged store from a read-only one or a bad folder."""
    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, OSError):
        said = place_problem(path)
        return StoreError(said or f"store {path}: {exc.strerror or exc}: {exc.filename or path}")
    if not isinstance(exc, sqlite3.Error):
        return None
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        what = "is damaged" if code == SQLITE_CORRUPT else "is damaged or not a tui-desk store"
        return StoreError(f"store {path} {what} ({exc}): {DAMAGED_ADVICE}; it was left untouched")
    if code in (SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_IOERR):
        # SQLite's words ("unable to open database file") do not say which: the file system does
        said = place_problem(path)
        if said:
            return StoreError(said)
        if code == SQLITE_READONLY:
            return StoreError(f"store {path} is read-only: {exc}")
        if code == SQLITE_IOERR:
            return StoreError(f"store {path} cannot be read or written ({exc}); check the disk")
        return StoreError(f"cannot open store {path}: {exc}")
    if code == SQLITE_FULL:
        return StoreError(f"store {path}: the disk is full ({exc}); the change was not saved")
    return None


DAMAGED_ADVICE = "keep a copy, then try sqlite3's .recover or move it aside and import or sync again"


@contextmanager
def store_errors(path: Path) -> Iterator[None]:
    """SQLite's errors about the store's file inside the block become one-line StoreErrors
    (store_error); others go on as they are (an OSError there may be the network's)."""
    try:
        yield
    except sqlite3.Error as e:
        said = store_error(path, e)
        if said is None:
            raise
        raise said from None


def place_problem(path: Path, making: bool = True) -> str | None:
    """Why the file system will not let tui-desk use a store at `path`, or None when it sees
    nothing wrong. `making`: the store and its folder may be made (else a missing folder is
    for the caller to name). os.access, not the mode bits: root, immutable files (EPERM) and
    read-only mounts (EROFS) answer it too."""
    folder = path.parent
    existing = folder
    while True:
        try:
            existing.stat()
        except (FileNotFoundError, NotADirectoryError):
            if existing == existing.parent:
                return None
            existing = existing.parent
            continue
        except PermissionError:
            return f"store {path}: no permission to look in {_first_closed(existing)}"
        except OSError as e:
            return f"store {path}: {existing}: {e.strerror}"
        break
    if not os.path.isdir(existing):
        return f"store {path}: {existing} is a file, not a folder"
    if existing != folder:
        if making and not os.access(existing, os.W_OK | os.X_OK):
            return f"cannot make the folder {folder} for store {path}: {_no_write(existing)}"
        return None
    if not os.access(folder, os.X_OK):
        return f"store {path}: no permission to look in {folder}"
    if path.is_dir():
        return f"store path {path} is a directory"
    if not path.exists():
        if making and not os.access(folder, os.W_OK):
            return f"cannot make store {path}: {_no_write(folder)}"
        return None
    if not os.access(path, os.R_OK):
        return f"store {path}: no permission to read it"
    if not os.access(path, os.W_OK):
        return f"store {path} is read-only: {_no_write(path)}"
    if not os.access(folder, os.W_OK):
        # WAL: SQLite keeps the -wal and -shm files beside the store and makes them when it opens
        return f"store {path} is read-only: {_no_write(folder)} (SQLite keeps its -wal and -shm files there)"
    return None


def _no_write(place: Path) -> str:
    try:
        if os.statvfs(place).f_flag & os.ST_RDONLY:
            return f"{place} is on a read-only file system"
    except OSError:
        pass
    return f"no permission to write {place}"


def _first_closed(place: Path) -> Path:
    """The outermost folder on the way to `place` that cannot be searched."""
    for p in reversed([place, *place.parents]):
        if not os.access(p, os.X_OK):
            return p
    return place


def sql_statements(script: str) -> list[str]:
    """A script's statements one by one (a trigger's body keeps its own semicolons)."""
    statements, current = [], ""
    for piece in script.split(";"):
        current += piece + ";"
        if sqlite3.complete_statement(current):
            if current.strip().strip(";").strip():
                statements.append(current.strip())
            current = ""
    return statements


def as_json_list(values: Iterable[str | int]) -> str:
    """Pass a list to SQL as one parameter: `... IN (SELECT value FROM json_each(?))`."""
    return json.dumps(list(values), ensure_ascii=False)


def change_mark(path: Path) -> tuple[int, ...]:
    """Differs after any commit to the store at `path`, from any process (ours too): the WAL's
    and the file's size and time. Unlike data_version it means the same on every connection:
    the app's first page is read on a connection of its own (desk/first_page.py)."""
    marks: list[int] = []
    for file in (path, path.with_name(path.name + "-wal")):
        try:
            st = file.stat()
        except OSError:
            marks += [0, 0]
            continue
        marks += [st.st_mtime_ns, st.st_size]
    return tuple(marks)


class StoreReads(Protocol):
    """What the store's read queries ask of a store: a Store, or PlainReads."""

    async def fetchall(self, sql: str, params: Sequence[SqlValue] = ()) -> list[sqlite3.Row]: ...

    async def fetchone(self, sql: str, params: Sequence[SqlValue] = ()) -> sqlite3.Row | None: ...

    async def get_meta(self, key: str) -> str | None: ...


class _ReadHelpers:
    """Small helpers over fetchone, so callers do not juggle cursors (Store and PlainReads)."""

    async def fetchone(self, sql: str, params: Sequence[SqlValue] = ()) -> sqlite3.Row | None:
        raise NotImplementedError

    async def fetch_int(self, sql: str, params: Sequence[SqlValue] = ()) -> int:
        """The integer in the first column of a row the query always has: an aggregate
        (count(*), coalesce(max(id), 0)), a PRAGMA, a row the caller knows is there."""
        row = await self.fetchone(sql, params)
        assert row is not None, sql
        value: int = row[0]
        return value

    async def get_meta(self, key: str) -> str | None:
        row = await self.fetchone("SELECT value FROM meta WHERE key=?", (key,))
        value: str | None = row[0] if row else None
        return value


class PlainReads(_ReadHelpers):
    """Reads of the store at `path` on a plain sqlite3 connection of its own that cannot write
    (PRAGMA query_only): for the thread that reads the queue's first page while the app starts
    (desk/first_page.py), with no aiosqlite thread and little Python to share the GIL with the
    app's imports. Its coroutines never wait: they run the SQL where they are awaited. A store
    that is not there is not made (mode=rw); it is not migrated either: `version` says which
    schema it has."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path.absolute().as_uri() + "?mode=rw", uri=True, isolation_level=None,
                                  check_same_thread=False)
        try:
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA busy_timeout=10000")  # as Store's
            self.db.execute("PRAGMA query_only=1")
            self.version: int = self.db.execute("PRAGMA user_version").fetchone()[0]
        except BaseException:
            self.db.close()
            raise

    async def fetchall(self, sql: str, params: Sequence[SqlValue] = ()) -> list[sqlite3.Row]:
        return self.db.execute(sql, params).fetchall()

    async def fetchone(self, sql: str, params: Sequence[SqlValue] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute(sql, params).fetchone()
        return row

    def close(self) -> None:
        self.db.close()

    @staticmethod
    def run(reads: Coroutine[Any, Any, T]) -> T:
        """The result of a coroutine that reads only through PlainReads, run to its end without
        an event loop (none to set up and tear down): it never waits. One that does is a bug."""
        try:
            reads.send(None)
        except StopIteration as done:
            result: T = done.value
            return result
        reads.close()
        raise RuntimeError("a read on PlainReads waited")


# The stores opened and not closed yet. aiosqlite's worker thread is no daemon (0.22; its
# maintainers keep it so: omnilib/aiosqlite#299) and only close() ends it: a store a failing
# test left open, kept alive by the traceback, would keep pytest from exiting; tests/conftest.py
# closes those a test leaves (`open_stores`).
_open_stores: weakref.WeakSet[Store] = weakref.WeakSet()


def open_stores() -> list[Store]:
    """The stores opened in this process and not closed yet (those still referenced)."""
    return list(_open_stores)


class Store(_ReadHelpers):
    """One open store. All SQL lives in the store package; callers use its functions."""

    def __init__(self, db: aiosqlite.Connection, path: Path):
        self.db = db
        self.path = path
        _open_stores.add(self)
        # one connection is shared by the app, the sync and the outbox: their transactions take turns
        self._writer = asyncio.Lock()
        # set when a change for the server is queued (server_ops.enqueue): live syncs push it now
        self.ops_listeners: weakref.WeakSet[asyncio.Event] = weakref.WeakSet()
        self._intact = False  # check_intact passed
        self._check: asyncio.Future[list[str]] | None = None  # start_check's quick_check
        self._check_db: sqlite3.Connection | None = None  # its connection, while it runs

    @classmethod
    async def open(cls, path: str | Path, check: bool = True, migrate: bool = True) -> "Store":
        """`check`: make sure the file is whole (PRAGMA quick_check) before it opens. A store
        opened only to read (queue, show, search, threads, the app's first page) skips it:
        reading the whole file costs ~1 s (6–12 s from disk) at 100k conversations
        (bench/store_check.py), five to ten times such a command's own time, and damage a reader
        meets is reported as it is met. Without it the check still runs before the first write
        (check_intact: a migration, new priority settings, a change), or beside the reads once
        start_check begins it (the app). `migrate=False`: an old store is refused (StoreError)
        instead of upgraded: the app's first-page reader leaves the upgrade to the app's own open."""
        path = Path(path)
        try:
            _check_file(path)
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:  # a file where the folder should be, a folder closed to us
            said = store_error(path, e)
            assert said is not None  # an OSError always says something about the place
            raise said from None
        connection = aiosqlite.connect(path, isolation_level=None)
        try:
            db = await connection
        except sqlite3.Error as e:
            # aiosqlite stops its thread without waiting: let it finish while the loop still runs
            thread = getattr(connection, "_thread", None)
            if thread is not None:
                await asyncio.to_thread(thread.join)
            raise store_error(path, e) or StoreError(f"cannot open store {path}: {e}") from None
        db.row_factory = sqlite3.Row
        store = cls(db, path)
        try:
            await store._prepare(check, migrate)
        except BaseException as e:
            await db.close()
            if not isinstance(e, (sqlite3.Error, OSError)):
                raise
            raise store_error(path, e) or StoreError(
                f"store {path} is damaged or not a tui-desk store ({e}); it was left untouched") from None
        return store

    async def _prepare(self, check: bool, migrate: bool) -> None:
        await self.db.execute("PRAGMA busy_timeout=10000")
        version = await self.fetch_int("PRAGMA user_version")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.path} was made by a newer tui-desk (schema {version}, this version knows "
                f"{SCHEMA_VERSION}); upgrade tui-desk — the file was left untouched"
            )
        if version == 0 and await self.fetchone("SELECT 1 FROM sqlite_master LIMIT 1"):
            raise StoreError(f"{self.path} is an SQLite database but not a tui-desk store; it was left untouched")
        if version < SCHEMA_VERSION and not migrate:
            raise StoreError(f"store {self.path} needs an upgrade (schema {version} -> {SCHEMA_VERSION})")
        if check or version < SCHEMA_VERSION:
            await self.check_intact()
        await self.db.execute("PRAGMA journal_mode=WAL")
        await self.db.execute("PRAGMA synchronous=NORMAL")
        await self.db.execute("PRAGMA foreign_keys=ON")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            await self._migrate(target)

    async def _migrate(self, target: int) -> None:
        """One schema step, all or nothing, and once: another process may open the same old
        store at the same time (a sync beside the app), so the write lock is taken first and the
        version read again under it."""
        await self.db.execute("BEGIN IMMEDIATE")
        try:
            if await self.fetch_int("PRAGMA user_version") < target:
                for statement in sql_statements(MIGRATIONS[target - 1]):
                    await self.db.execute(statement)
                await self.db.execute(f"PRAGMA user_version={target}")
            await self.db.execute("COMMIT")
        except BaseException:
            with suppress(sqlite3.Error):
                await self.db.execute("ROLLBACK")
            raise

    async def check_intact(self) -> None:
        """Refuse to write to a damaged file: writing into a broken b-tree spreads the damage.
        PRAGMA quick_check reads every page (integrity_check also compares every index with its
        table: four times as long). Once per open store; see start_check."""
        if self._intact:
            return
        self.start_check()
        assert self._check is not None
        with store_errors(self.path):  # damage bad enough stops the check itself
            problems = await asyncio.shield(self._check)
        if problems:
            more = ", and more" if len(problems) > 1 else ""
            raise StoreError(f"store {self.path} is damaged (quick_check: {problems[0]}{more}): {DAMAGED_ADVICE}; "
                             "it was left untouched")
        self._intact = True

    def start_check(self) -> None:
        """Begin the check on a connection of its own, so reads on this one go on meanwhile
        (the app: the queue can be scrolled and searched while it runs); writes wait for it."""
        if self._check is None:
            self._check = asyncio.ensure_future(asyncio.to_thread(self._quick_check))

    def _quick_check(self) -> list[str]:
        db = sqlite3.connect(f"file:{self.path}?mode=rw", uri=True, check_same_thread=False)
        self._check_db = db
        try:
            rows = db.execute("PRAGMA quick_check(5)").fetchall()
        finally:
            self._check_db = None
            db.close()
        # a row may hold several lines, the first naming the schema ("*** in database main ***")
        return [line.strip() for r in rows if r[0] != "ok" for line in str(r[0]).splitlines()
                if line.strip() and not line.startswith("***")]

    async def close(self) -> None:
        if self._check is not None and not self._check.done():
            checking = self._check_db
            if checking is not None:
                checking.interrupt()  # a second of reading nobody waits for, at 100k conversations
            with suppress(Exception):
                await self._check
        _open_stores.discard(self)
        await self.db.close()

    # small helpers so callers do not juggle cursors
    async def fetchall(self, sql: str, params: Sequence[SqlValue] = ()) -> list[sqlite3.Row]:
        return list(await self.db.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Sequence[SqlValue] = ()) -> sqlite3.Row | None:
        async with self.db.execute(sql, params) as cur:
            return await cur.fetchone()

    async def data_version(self) -> int:
        """Grows when another connection (another process) commits to the file; this
        connection's own commits leave it as it is (SQLite's PRAGMA data_version)."""
        row = await self.fetchone("PRAGMA data_version")
        return int(row[0]) if row is not None else 0

    def change_mark(self) -> tuple[int, ...]:
        """See change_mark()."""
        return change_mark(self.path)

    # the write helpers (reads use fetchone/fetchall): a change outside a transaction (a draft
    # saved, say) waits for check_intact like one inside
    async def execute(self, sql: str, params: Sequence[SqlValue] = ()) -> None:
        await self.check_intact()
        await self.db.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[SqlValue]]) -> None:
        await self.check_intact()
        await self.db.executemany(sql, rows)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """All or nothing. BEGIN IMMEDIATE takes the write lock up front, so two writers
        (the app and a CLI command, say) wait for each other instead of failing mid-way. Within
        one process the lock does the same for tasks sharing this connection. Not re-entrant."""
        async with self._writer:
            await self.check_intact()
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if self.db.in_transaction:
                    await self.db.execute("ROLLBACK")
                raise
            await self.db.execute("COMMIT")

    async def set_meta(self, key: str, value: str) -> None:
        await self.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))


def inserted_rowid(cursor: aiosqlite.Cursor) -> int:
    """The rowid the INSERT just run on `cursor` gave its row."""
    rowid = cursor.lastrowid
    assert rowid is not None  # set by every INSERT (the type allows None for other statements)
    return rowid


def _check_file(path: Path) -> None:
    if path.is_dir():
        raise StoreError(f"store path {path} is a directory")
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as e:
        raise StoreError(f"cannot read store {path}: {e.strerror}") from None
    if head != SQLITE_MAGIC:
        raise StoreError(f"{path} is not a tui-desk store (not an SQLite database); it was left untouched")
