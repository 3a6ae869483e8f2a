"""The queue's first screenful, read on a thread of its own while the TUI is still being
imported and built.

Start-up is mostly the main thread importing and laying out Textual (~0.2 s); reading the
store meanwhile on a second core takes the store off the path to the first painted rows.
Only plain values (ids and rows) come back to the app.

Python holds the GIL: every bit of Python this thread runs, the main thread's imports wait
for. So it reads on a plain sqlite3 connection (store.db.PlainReads: no aiosqlite thread)
with the store's own queries and desk.queue_rows, and leaves the desk itself (desk.service
and all it imports) to the app, after the first paint. A store that must first be brought
up to date (new priority settings, a changed agent identity) or whose rows carry SLA timelines
([sla] targets: their plans are computed and stored) is read as before, through a Desk opened
here with its own event loop, and closed again. A store made by an older tui-desk is not read
here at all: the app's own open upgrades it (an upgrade can take seconds).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tui_desk.config import Config
from tui_desk.desk.views import QueueRow

Page = tuple[list[int], list[QueueRow]]


class FirstPageReader:
    """`reader = FirstPageReader(db, config)` starts at once; `reader.result()` waits for
    (every id of the queue, the rows of the first `rows` of them), or None when reading
    failed: the app then reads the queue itself and reports the error as it would."""

    def __init__(self, db_path: str | Path, config: Config, rows: int = 100,
                 clock: Callable[[], float] = time.time) -> None:
        self._db_path = Path(db_path)
        self._config = config
        self._rows = rows
        self._clock = clock  # as Desk's
        self._page: Page | None = None
        self.mark: tuple[int, ...] | None = None  # the store's change mark before the read
        self._thread = threading.Thread(target=self._run, name="first-page", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._page = asyncio.run(self._read())
        except Exception:  # noqa: BLE001 - the app's own open says what is wrong
            self._page = None

    async def _read(self) -> Page:
        page = await self._read_plain()
        if page is None:
            page = await self._read_with_desk()
        return page

    async def _read_plain(self) -> Page | None:
        """The page, or None when the store needs a Desk to read it (see the module's doc)."""
        from tui_desk.desk.queue_rows import build_rows, outdated, stored_rows
        from tui_desk.store import queries
        from tui_desk.store.db import PlainReads, change_mark
        from tui_desk.store.schema import SCHEMA_VERSION

        config = self._config
        if config.sla.configured() or not self._db_path.exists():
            return None
        store = PlainReads(self._db_path)
        try:
            if store.version != SCHEMA_VERSION:
                return None
            todo = await outdated(store, config)
            if todo.senders or todo.ranks:
                return None
            self.mark = change_mark(self._db_path)
            now = int(self._clock())  # as Desk.now()
            ids, _ = await queries.queue_list(store, now)  # what Desk.queue_ids reads (desk.queue_ids)
            first = ids[:self._rows]
            return ids, build_rows(first, await stored_rows(store, first, config), now, config)
        finally:
            store.close()

    async def _read_with_desk(self) -> Page:
        from tui_desk.desk.service import Desk

        # it reads; the app's own open checks, and upgrades an old store (a long upgrade here would
        # hold the app's open behind it)
        desk = await Desk.open(self._db_path, self._config, clock=self._clock, check=False, migrate=False)
        try:
            self.mark = desk.store_mark()
            ids = await desk.queue_ids()
            return ids, await desk.queue_rows(ids[:self._rows])
        finally:
            await desk.close()

    def result(self) -> Page | None:
        self._thread.join()
        return self._page
