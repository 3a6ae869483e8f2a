"""The parse pool's worker side (sync.parse_pool starts the workers and hands them batches).

A worker imports this module, the parser and zlib, nothing of the pool's side (asyncio,
concurrent.futures' executor, the store and its database driver): a spawned worker starts
with its imports, and a first sync waits for them (~0.15 s of CPU each with the pool's
imports; bench/sync_timeline.py shows the start)."""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Callable, Literal, TypeVar, overload

from tui_desk.mail.model import ParsedBody, ParsedMessage
from tui_desk.mail.packing import pack_raw
from tui_desk.mail.parse import last_resort_record, parse_body, parse_header_block, parse_message
from tui_desk.sync import collector

Parsed = tuple[ParsedMessage, str | None]  # the record, and the error if the parser gave up
Packed = tuple[ParsedMessage | ParsedBody, str | None, bytes]  # the same, and the raw bytes as the store keeps them
# what the raw bytes are, and so how they are read: a whole message (parse_message), a header
# block alone (parse_header_block), a whole message whose header block had no defects (parse_body)
Part = Literal["message", "header", "body"]
MessagePart = Literal["message", "header"]  # the parts read into a ParsedMessage
_READERS = {"message": parse_message, "header": parse_header_block, "body": parse_body}
# what a batch holds: raw messages (parse), or raw bytes each with its Part (parse_packed)
Item = TypeVar("Item", bytes, tuple[bytes, Part])
Result = TypeVar("Result")  # what a message's item becomes: Parsed or Packed

# Test hook (tests/test_hostile_intake.py): a worker parsing a message that contains these
# bytes never returns, as on the stdlib's endless loops. Read when a worker starts.
_TEST_HANG = os.environ.get("TUI_DESK_TEST_PARSE_HANG", "").encode()
_TEST_CRASH = os.environ.get("TUI_DESK_TEST_PARSE_CRASH", "").encode()  # these make it die


@overload
def parse_safely(raw: bytes, part: MessagePart = "message") -> Parsed: ...
@overload
def parse_safely(raw: bytes, part: Part) -> tuple[ParsedMessage | ParsedBody, str | None]: ...
def parse_safely(raw: bytes, part: Part = "message") -> tuple[ParsedMessage | ParsedBody, str | None]:
    try:
        return _READERS[part](raw), None
    except Exception as e:  # the parser promises not to raise; if it does, keep the mail anyway
        why = f"parser failed: {type(e).__name__}: {e}"
        return last_resort_record(raw, why), f"{type(e).__name__}: {e}"


# Each worker owns a slot of the pool's progress array, where it says what it is parsing
# (pid, batch token, index in the batch, when it started; started 0: idle).
SLOT_SIZE = 4
_progress: Any = None
_slot = -1


def _mark(token: float, index: int, started: float) -> None:
    if _progress is not None:
        base = _slot * SLOT_SIZE
        _progress[base + 3] = 0.0  # idle while the other fields change
        _progress[base + 1] = token
        _progress[base + 2] = index
        _progress[base + 3] = started


def _read_items(items: list[Item], token: float, read: Callable[[Item], Result]) -> list[Result]:
    out = []
    try:
        for i, item in enumerate(items):
            _mark(token, i, time.monotonic())
            if _TEST_HANG or _TEST_CRASH:
                _test_hooks(item[0] if isinstance(item, tuple) else item)
            out.append(read(item))
    finally:
        _mark(token, 0, 0.0)
    return out


def _test_hooks(raw: bytes) -> None:
    if _TEST_HANG and _TEST_HANG in raw:
        threading.Event().wait()
    if _TEST_CRASH and _TEST_CRASH in raw:
        os.abort()


def _parse_one(raw: bytes) -> Parsed:
    return parse_safely(raw)


def _parse_pack_one(item: tuple[bytes, Part]) -> Packed:
    # compressing here, not in the main process: it was a third of the sync's main-thread time
    raw, part = item
    return (*parse_safely(raw, part), pack_raw(raw, kept=part != "header"))


def parse_chunk(raws: list[bytes], token: float = 0.0) -> list[Parsed]:
    return _read_items(raws, token, _parse_one)


def parse_pack_chunk(items: list[tuple[bytes, Part]], token: float = 0.0) -> list[Packed]:
    return _read_items(items, token, _parse_pack_one)


def start_worker(quiet: bool, progress: Any, slots: Any, parent: int) -> None:
    """Worker initializer: exit_with_parent, a slot in the progress array, the collector's
    settings for a worker (collector.for_worker)."""
    global _progress, _slot
    exit_with_parent(quiet, parent)
    with slots.get_lock():
        _slot = slots.value
        slots.value += 1
    _progress = progress
    _progress[_slot * SLOT_SIZE] = os.getpid()
    collector.for_worker()


def exit_with_parent(quiet: bool = False, parent: int | None = None) -> None:
    """Worker initializer: a worker whose parent was killed (kill -9 mid-sync) exits too,
    instead of living on as an orphan. quiet: the parent's stderr is a terminal the app draws
    on, so what a worker might print goes nowhere instead. parent: the pool's process id, given
    by it: a parent killed while the worker was still starting is gone by the time this runs,
    and os.getppid() would then name the orphan's new parent, which never goes away."""
    if quiet:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    if parent is None:
        parent = os.getppid()
    if os.getppid() != parent:
        os._exit(0)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)
    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()
