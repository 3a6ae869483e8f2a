"""The parse pool's workers import the parser and zlib, not the pool's side: a spawned worker
pays for every import before it parses its first message (sync.parse_worker)."""

from __future__ import annotations

import subprocess
import sys
import zlib

from tui_desk.mail.packing import pack_raw
from tui_desk.store import ingest
from tui_desk.sync import parse_pool, parse_worker

def test_a_worker_imports_neither_the_store_nor_asyncio() -> None:
    code = ("import sys, tui_desk.sync.parse_worker; "
            "print('\\n'.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('asyncio', 'aiosqlite', 'sqlite3', 'textual') or m.startswith(('tui_desk.store', 'tui_desk.desk', 'tui_desk.cli')))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    heavy = done.stdout.split()
    assert heavy == [], f"parse_worker imports {heavy}"


def test_the_pool_and_the_store_pack_as_the_worker_does() -> None:
    raw = b"Subject: hi\r\n\r\nbody\r\n" * 50
    assert ingest.pack_raw is pack_raw  # one definition, below the store
    assert zlib.decompress(pack_raw(raw)) == raw and zlib.decompress(pack_raw(raw, kept=False)) == raw
    assert len(pack_raw(raw)) < len(raw) < len(pack_raw(raw, kept=False))  # level 0: stored blocks
    assert parse_pool._READERS is parse_worker._READERS  # tests replace a reader in the one dict
    got, error, packed = parse_worker.parse_pack_chunk([(raw, "message")])[0]
    assert error is None and got.subject == "hi" and packed == pack_raw(raw)
