"""Local store: SQLite (WAL, FTS5) through aiosqlite. A cache of the server plus local state."""

from tui_desk.store.db import Store, StoreError

__all__ = ["Store", "StoreError"]
