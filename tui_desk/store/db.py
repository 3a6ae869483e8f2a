"""Opening the store: file checks, pragmas, migrations, one-line errors."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import weakref
from pathlib import Path
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Iterable, Sequence

import aiosqlite

from tui_desk.store.schema import MIGRATIONS, SCHEMA_VERSION

SQLITE_MAGIC = b"SQLite format 3\x00"


class StoreError(Exception):
    """A problem with the store file, phrased as one line for the user."""


def as_json_list(values: Iterable[Any]) -> str:
    """Pass a list to SQL as one parameter: `... IN (SELECT value FROM json_each(?))`."""
    return json.dumps(list(values), ensure_ascii=False)


class Store:
    """One open store. All SQL lives in the store package; callers use its functions."""

    def __init__(self, db: aiosqlite.Connection, path: Path):
        self.db = db
        self.path = path
        # one connection is shared by the app, the sync and the outbox: their transactions take turns
        self._writer = asyncio.Lock()
        # set when a change for the server is queued (server_ops.enqueue): live syncs push it now
        self.ops_listeners: weakref.WeakSet[asyncio.Event] = weakref.WeakSet()

    @classmethod
    async def open(cls, path: str | Path) -> "Store":
        path = Path(path)
        _check_file(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as e:
            raise StoreError(f"cannot open store {path}: {e}") from None
        db.row_factory = sqlite3.Row
        store = cls(db, path)
        try:
            await store._prepare()
        except StoreError:
            await db.close()
            raise
        except sqlite3.DatabaseError as e:
            await db.close()
            raise StoreError(f"store {path} is damaged or not a tui-desk store ({e}); it was left untouched") from None
        return store

    async def _prepare(self) -> None:
        version = (await self.fetchone("PRAGMA user_version"))[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.path} was made by a newer tui-desk (schema {version}, this version knows "
                f"{SCHEMA_VERSION}); upgrade tui-desk — the file was left untouched"
            )
        if version == 0 and await self.fetchone("SELECT 1 FROM sqlite_master LIMIT 1"):
            raise StoreError(f"{self.path} is an SQLite database but not a tui-desk store; it was left untouched")
        await self.db.execute("PRAGMA journal_mode=WAL")
        await self.db.execute("PRAGMA synchronous=NORMAL")
        await self.db.execute("PRAGMA foreign_keys=ON")
        await self.db.execute("PRAGMA busy_timeout=10000")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            # executescript commits first; BEGIN..COMMIT makes each step all-or-nothing.
            await self.db.executescript(
                f"BEGIN IMMEDIATE;\n{MIGRATIONS[target - 1]}\nPRAGMA user_version={target};\nCOMMIT;"
            )

    async def close(self) -> None:
        await self.db.close()

    # small helpers so callers do not juggle cursors
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return list(await self.db.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        async with self.db.execute(sql, params) as cur:
            return await cur.fetchone()

    async def data_version(self) -> int:
        """Grows when another connection (another process) commits to the file; this
        connection's own commits leave it as it is (SQLite's PRAGMA data_version)."""
        row = await self.fetchone("PRAGMA data_version")
        return int(row[0]) if row is not None else 0

    def change_mark(self) -> tuple[int, ...]:
        """Differs after any commit to the file, from any process (ours too): the WAL's and
        the file's size and time. Unlike data_version it means the same on every connection:
        the app's first page is read on a connection of its own (first_page.py)."""
        marks: list[int] = []
        for path in (self.path, self.path.with_name(self.path.name + "-wal")):
            try:
                st = path.stat()
            except OSError:
                marks += [0, 0]
                continue
            marks += [st.st_mtime_ns, st.st_size]
        return tuple(marks)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        await self.db.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.db.executemany(sql, rows)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """All or nothing. BEGIN IMMEDIATE takes the write lock up front, so two writers
        (the app and a CLI command, say) wait for each other instead of failing mid-way. Within
        one process the lock does the same for tasks sharing this connection. Not re-entrant."""
        async with self._writer:
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if self.db.in_transaction:
                    await self.db.execute("ROLLBACK")
                raise
            await self.db.execute("COMMIT")

    async def get_meta(self, key: str) -> str | None:
        row = await self.fetchone("SELECT value FROM meta WHERE key=?", (key,))
        return row[0] if row else None

    async def set_meta(self, key: str, value: str) -> None:
        await self.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))


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
