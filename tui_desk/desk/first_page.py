"""The queue's first screenful, read on a thread of its own while the TUI is still being
imported and built.

Start-up is mostly the main thread importing and laying out Textual (~0.2 s); reading the
store meanwhile on a second core takes the store off the path to the first painted rows.
The thread runs its own event loop and opens (and closes) its own Desk, so nothing it made
is shared with the app's loop: only plain values (ids and rows) come back.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from tui_desk.config import Config
from tui_desk.desk.views import QueueRow


class FirstPageReader:
    """`reader = FirstPageReader(db, config)` starts at once; `reader.result()` waits for
    (every id of the queue, the rows of the first `rows` of them), or None when reading
    failed: the app then reads the queue itself and reports the error as it would."""

    def __init__(self, db_path: str | Path, config: Config, rows: int = 100) -> None:
        self._db_path = db_path
        self._config = config
        self._rows = rows
        self._page: tuple[list[int], list[QueueRow]] | None = None
        self.mark: tuple[int, ...] | None = None  # the store's change mark before the read
        self._thread = threading.Thread(target=self._run, name="first-page", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._page = asyncio.run(self._read())
        except Exception:  # noqa: BLE001 - the app's own open says what is wrong
            self._page = None

    async def _read(self) -> tuple[list[int], list[QueueRow]]:
        from tui_desk.desk.service import Desk

        # it reads; the app's own open checks, and upgrades an old store (a long upgrade here would
        # hold the app's open behind it)
        desk = await Desk.open(self._db_path, self._config, check=False, migrate=False)
        try:
            self.mark = desk.store_mark()
            ids = await desk.queue_ids()
            return ids, await desk.queue_rows(ids[:self._rows])
        finally:
            await desk.close()

    def result(self) -> tuple[list[int], list[QueueRow]] | None:
        self._thread.join()
        return self._page
