"""The parse pool's workers import the parser and zlib, not the pool's side: a spawned worker
pays for every import before it parses its first message (sync.parse_worker)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zlib
from pathlib import Path

from tui_desk.mail.packing import pack_raw
from tui_desk.store import ingest
from tui_desk.sync import parse_pool, parse_worker

ROOT = Path(__file__).resolve().parents[1]

def test_a_worker_imports_neither_the_store_nor_asyncio() -> None:
    code = ("import sys, tui_desk.sync.parse_worker; "
            "print('\\n'.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('asyncio', 'aiosqlite', 'sqlite3', 'textual') or m.startswith(('tui_desk.store', 'tui_desk.desk', 'tui_desk.cli')))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    heavy = done.stdout.split()
    assert heavy == [], f"parse_worker imports {heavy}"


def test_the_main_script_a_worker_runs_again_imports_nothing_of_the_cli() -> None:
    """Spawn runs the program's main script again in each worker: the `tui-desk` script imports
    tui_desk.__main__ (pyproject.toml), which leaves the CLI's imports to main()."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        assert tomllib.load(f)["project"]["scripts"]["tui-desk"] == "tui_desk.__main__:main"
    code = "import sys, tui_desk.__main__; print(sorted(m for m in sys.modules if m.startswith('tui_desk.') and m != 'tui_desk.__main__'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    help_text = subprocess.run([sys.executable, "-m", "tui_desk", "--help"], capture_output=True, text=True)
    assert help_text.returncode == 0 and help_text.stdout.startswith("usage: tui-desk")


def test_the_pool_and_the_store_pack_as_the_worker_does() -> None:
    raw = b"Subject: hi\r\n\r\nbody\r\n" * 50
    assert ingest.pack_raw is pack_raw  # one definition, below the store
    assert zlib.decompress(pack_raw(raw)) == raw and zlib.decompress(pack_raw(raw, kept=False)) == raw
    assert len(pack_raw(raw)) < len(raw) < len(pack_raw(raw, kept=False))  # level 0: stored blocks
    assert parse_pool._READERS is parse_worker._READERS  # tests replace a reader in the one dict
    got, error, packed = parse_worker.parse_pack_chunk([(raw, "message")])[0]
    assert error is None and got.subject == "hi" and packed == pack_raw(raw)
