"""Parsing many messages on every core; used by import and by sync."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Literal

from tui_desk.mail.model import ParsedBody, ParsedMessage
from tui_desk.mail.parse import parse_body, parse_header_block, parse_message, synthetic_message_id
from tui_desk.store.ingest import pack_raw

Parsed = tuple[ParsedMessage, str | None]  # the record, and the error if the parser gave up
Packed = tuple[ParsedMessage | ParsedBody, str | None, bytes]  # the same, and the raw bytes as the store keeps them
# what the raw bytes are, and so how they are read: a whole message (parse_message), a header
# block alone (parse_header_block), a whole message whose header block had no defects (parse_body)
Part = Literal["message", "header", "body"]
_READERS = {"message": parse_message, "header": parse_header_block, "body": parse_body}


def parse_safely(raw: bytes, part: Part = "message") -> tuple[ParsedMessage | ParsedBody, str | None]:
    try:
        return _READERS[part](raw), None
    except Exception as e:  # the parser promises not to raise; if it does, keep the mail anyway
        return ParsedMessage(
            message_id=synthetic_message_id(raw), synthetic_id=True, in_reply_to=None,
            references=[], sender=None, to=[], cc=[], reply_to=[], date=None, subject="(unparseable message)",
            text="", text_from_html=False, defects=[f"parser failed: {type(e).__name__}: {e}"], size=len(raw),
        ), f"{type(e).__name__}: {e}"


def _parse_chunk(raws: list[bytes]) -> list[Parsed]:
    return [parse_safely(r) for r in raws]


def _parse_pack_chunk(items: list[tuple[bytes, Part]]) -> list[Packed]:
    # compressing here, not in the main process: it was a third of the sync's main-thread time
    return [(*parse_safely(r, part), pack_raw(r)) for r, part in items]


def _exit_with_parent(quiet: bool = False) -> None:
    """Worker initializer: a worker whose parent was killed (kill -9 mid-sync) exits too,
    instead of living on as an orphan. quiet: the parent's stderr is a terminal the app draws
    on, so what a worker might print goes nowhere instead."""
    if quiet:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)
    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


def _stderr_is_captured() -> bool:
    """Inside the Textual app sys.stderr is a capture object whose fileno() is -1."""
    try:
        return sys.stderr is None or sys.stderr.fileno() < 0
    except (AttributeError, OSError, ValueError):
        return True


def _start_resource_tracker() -> None:
    """multiprocessing's resource tracker is started on first use with sys.stderr's fd passed
    to it; a captured stderr (fileno -1) makes that start fail with "bad value(s) in
    fds_to_keep", which killed the app's sync. Start it here with a real file instead: /dev/null,
    since fd 2 is the terminal the app draws on."""
    from multiprocessing import resource_tracker

    if not _stderr_is_captured():
        return
    saved = sys.stderr
    with open(os.devnull, "w") as devnull:
        sys.stderr = devnull
        try:
            resource_tracker.ensure_running()
        finally:
            sys.stderr = saved


class ParsePool:
    """`async with ParsePool() as pool: parsed = await pool.parse(raws)` (order kept)."""

    def __init__(self, workers: int | None = None, min_parallel: int = 64):
        self.workers = workers or min(4, os.cpu_count() or 1)
        self.min_parallel = min_parallel  # small batches are not worth the pickling
        self._pool: ProcessPoolExecutor | None = None  # None once broken: parse in-process
        self._executor: ProcessPoolExecutor | None = None  # shut down on exit either way

    async def __aenter__(self) -> "ParsePool":
        if self.workers > 1:
            # spawn: workers start clean and inherit no IMAP socket or database handle of
            # ours (forked ones kept both open after a kill -9 of the app)
            quiet = _stderr_is_captured()
            if quiet:
                _start_resource_tracker()
            self._pool = ProcessPoolExecutor(max_workers=self.workers, initializer=_exit_with_parent,
                                             initargs=(quiet,), mp_context=multiprocessing.get_context("spawn"))
            self._executor = self._pool
        return self

    async def __aexit__(self, *exc) -> None:
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)

    def start(self) -> None:
        """Start the workers (and their imports of the parser) now rather than at the first
        parse: each takes ~0.15 s."""
        if self._pool is not None:
            for _ in range(self.workers):
                self._pool.submit(_parse_pack_chunk, [])

    def parse(self, raws: list[bytes]) -> asyncio.Future[list[Parsed]]:
        """Starts at once; await the result when it is needed."""
        return self._run(_parse_chunk, raws)

    def parse_packed(self, raws: list[bytes], parts: list[Part] | None = None) -> asyncio.Future[list[Packed]]:
        """As parse, each result with the raw bytes compressed for the store (pack_raw).
        parts: what each raw is (see Part); whole messages when not given."""
        return self._run(_parse_pack_chunk, list(zip(raws, parts or ["message"] * len(raws))))

    def _run(self, chunk_fn, raws: list[bytes]) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        if self._pool is None or len(raws) < self.min_parallel:
            return loop.run_in_executor(None, chunk_fn, raws)
        step = len(raws) // self.workers + 1
        parts = [loop.run_in_executor(self._pool, chunk_fn, raws[i:i + step]) for i in range(0, len(raws), step)]

        async def gather() -> list:
            try:
                return [p for part in await asyncio.gather(*parts) for p in part]
            except BrokenProcessPool:
                # workers could not start (an embedding program's __main__ cannot be re-imported,
                # say): parse here rather than fail the import or the sync
                self._pool = None
                return await loop.run_in_executor(None, chunk_fn, raws)
        return asyncio.ensure_future(gather())
