"""Parsing many messages on every core; used by import and by sync.

Every message is parsed in a worker process under a time budget (PARSE_BUDGET): a message
the parser has not read by then (the stdlib has loops no input should reach, but hostile
mail finds them) is stored as a last-resort record, its workers are killed (a thread cannot
be), and the other messages are parsed again by fresh ones."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Sequence, overload

from tui_desk.mail.model import ParsedMessage
from tui_desk.mail.packing import pack_raw
from tui_desk.mail.parse import last_resort_record
from tui_desk.sync.parse_worker import (SLOT_SIZE, Item, MessagePart, Packed, Parsed, Part, Result,
                                        parse_chunk, parse_pack_chunk, parse_safely, start_worker)
from tui_desk.sync.parse_worker import _READERS  # noqa: F401 - the one dict: tests replace a reader in it

__all__ = ["PARSE_BUDGET", "MessagePart", "Packed", "PackedMessage", "Parsed", "ParsePool", "Part",
           "parse_one", "parse_safely", "unparsed"]

PackedMessage = tuple[ParsedMessage, str | None, bytes]  # a Packed of a whole message or a header block

#: Longest one message may take to parse, in seconds; over it, it is stored unparsed.
PARSE_BUDGET = 5.0
_WATCH_INTERVAL = 0.2  # how often the budget is checked while a batch is parsed


def unparsed(raw: bytes, why: str) -> Parsed:
    """The record of a message whose parse ran over the budget or killed its worker, and its
    error (the import and the sync count it as one)."""
    return last_resort_record(raw, f"{why}: stored unparsed"), why


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


class _Workers:
    """One ProcessPoolExecutor and the progress array its workers write (see _mark)."""

    def __init__(self, count: int) -> None:
        # spawn: workers start clean and inherit no IMAP socket or database handle of
        # ours (forked ones kept both open after a kill -9 of the app)
        quiet = _stderr_is_captured()
        if quiet:
            _start_resource_tracker()
        ctx = multiprocessing.get_context("spawn")
        self.count = count
        self.progress = ctx.Array("d", count * SLOT_SIZE, lock=False)
        self.executor = ProcessPoolExecutor(max_workers=count, initializer=start_worker,
                                            initargs=(quiet, self.progress, ctx.Value("i", 0), os.getpid()),
                                            mp_context=ctx)

    def in_progress(self) -> list[tuple[int, float, int, float]]:
        """(pid, token, index, started) of each worker parsing a message now."""
        p = self.progress
        out = []
        for base in range(0, self.count * SLOT_SIZE, SLOT_SIZE):
            started = p[base + 3]
            pid, token, index = int(p[base]), p[base + 1], int(p[base + 2])
            if started and p[base + 3] == started:  # not changed while read
                out.append((pid, token, index, started))
        return out

    def ever_started(self) -> bool:
        return any(self.progress[base] for base in range(0, self.count * SLOT_SIZE, SLOT_SIZE))

    def crashed(self, pid: int) -> bool:
        """The worker died by itself (not terminated by the executor when another one died)."""
        proc = (getattr(self.executor, "_processes", None) or {}).get(pid)
        try:
            return proc is not None and proc.exitcode not in (None, -signal.SIGTERM)
        except Exception:
            return False

    def kill(self) -> None:
        for proc in list((getattr(self.executor, "_processes", None) or {}).values()):
            try:
                proc.kill()
            except Exception:
                pass
        self.executor.shutdown(wait=False, cancel_futures=True)


class ParsePool:
    """`async with ParsePool() as pool: parsed = await pool.parse(raws)` (order kept).

    workers: worker processes (default: up to 4, one per core); 0 parses in this process, in a
    thread, without a time budget (for tests that watch the parser from here).
    budget: seconds one message may take (PARSE_BUDGET)."""

    def __init__(self, workers: int | None = None, min_parallel: int = 64, budget: float | None = None):
        self.workers = min(4, os.cpu_count() or 1) if workers is None else workers
        self.min_parallel = min_parallel  # smaller batches go to one worker: not worth splitting
        self.budget = PARSE_BUDGET if budget is None else budget
        self._pool: _Workers | None = None  # None: parse in-process (workers=0, or they cannot start)
        self._token = 0
        self._out: set[Any] = set()  # futures of chunks sent to the workers, not yet back
        self.restarts = 0  # workers killed for a message over budget (or replaced after a crash)

    async def __aenter__(self) -> "ParsePool":
        if self.workers > 0:
            self._pool = _Workers(self.workers)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._pool is not None:
            if any(not f.done() for f in self._out):  # abandoned (a sync stopped mid-batch): may never end
                self._pool.kill()
            else:
                self._pool.executor.shutdown(cancel_futures=True)

    def start(self) -> None:
        """Start the workers (and their imports of the parser) now rather than at the first
        parse: each takes ~0.15 s."""
        if self._pool is not None:
            for _ in range(self.workers):
                self._pool.executor.submit(parse_pack_chunk, [])

    def parse(self, raws: list[bytes]) -> asyncio.Future[list[Parsed]]:
        """Starts at once; await the result when it is needed."""
        return self._run(parse_chunk, raws, unparsed)

    @overload
    def parse_packed(self, raws: list[bytes],
                     parts: Sequence[MessagePart] | None = None) -> asyncio.Future[list[PackedMessage]]: ...
    @overload
    def parse_packed(self, raws: list[bytes], parts: Sequence[Part]) -> asyncio.Future[list[Packed]]: ...
    def parse_packed(self, raws: list[bytes], parts: Sequence[Part] | None = None,
                     ) -> asyncio.Future[list[Packed]] | asyncio.Future[list[PackedMessage]]:
        """As parse, each result with the raw bytes packed for the store (pack_raw; a header
        block, which its body replaces, is stored uncompressed).
        parts: what each raw is (see Part); whole messages when not given. Message and header
        parts give a ParsedMessage each (parse_safely)."""
        every: list[Part] = list(parts) if parts else ["message"] * len(raws)
        return self._run(parse_pack_chunk, list(zip(raws, every)),
                         lambda item, why: (*unparsed(item[0], why), pack_raw(item[0], kept=item[1] != "header")))

    def _run(self, chunk_fn: Callable[[list[Item], float], list[Result]], items: list[Item],
             over: Callable[[Item, str], Result]) -> asyncio.Future[list[Result]]:
        loop = asyncio.get_running_loop()
        if self._pool is None:
            return loop.run_in_executor(None, chunk_fn, items, 0.0)
        return asyncio.ensure_future(self._bounded(chunk_fn, items, over))

    async def _bounded(self, chunk_fn: Callable[[list[Item], float], list[Result]], items: list[Item],
                       over: Callable[[Item, str], Result]) -> list[Result]:
        results: list[Result | None] = [None] * len(items)
        todo = list(range(len(items)))
        while todo:
            if self._pool is None:  # the workers could not start: see _recover
                rest = await asyncio.get_running_loop().run_in_executor(
                    None, chunk_fn, [items[i] for i in todo], 0.0)
                for i, r in zip(todo, rest):
                    results[i] = r
                break
            todo = await self._round(self._pool, chunk_fn, items, todo, results, over)
        done = [r for r in results if r is not None]
        assert len(done) == len(items)  # every item is parsed or has its last-resort record by now
        return done

    async def _round(self, pool: _Workers, chunk_fn: Callable[[list[Item], float], list[Result]],
                     items: list[Item], todo: list[int], results: list[Result | None],
                     over: Callable[[Item, str], Result]) -> list[int]:
        """Parse items[todo] on pool's workers, into results; returns what is left to parse
        (the unfinished items, when a worker was killed or died)."""
        step = len(todo) if len(todo) < self.min_parallel else len(todo) // self.workers + 1
        chunks: dict[float, list[int]] = {}  # token -> indices of the items sent with it
        running: dict[asyncio.Future[list[Result]], float] = {}
        try:
            for k in range(0, len(todo), step):
                self._token += 1
                token = float(self._token)
                chunks[token] = todo[k:k + step]
                sent = pool.executor.submit(chunk_fn, [items[i] for i in chunks[token]], token)
                self._out.add(sent)
                sent.add_done_callback(self._out.discard)
                running[asyncio.wrap_future(sent)] = token
        except (BrokenProcessPool, RuntimeError):  # killed meanwhile by a parse running alongside
            broken = True
        else:
            broken = False
        while running and not broken:
            done, _ = await asyncio.wait(running, timeout=_WATCH_INTERVAL)
            for fut in done:
                token = running.pop(fut)
                try:
                    got = fut.result()
                except BrokenProcessPool:  # a worker died, or the workers were killed
                    broken = True
                    continue
                for i, r in zip(chunks.pop(token), got):
                    results[i] = r
            broken = broken or bool(running) and self._overrun(pool, chunks)
        for fut in running:
            fut.cancel()
        if not broken:
            return []
        self._recover(pool, chunks, results, items, over)
        return [i for indices in chunks.values() for i in indices if results[i] is None]

    def _overrun(self, pool: _Workers, chunks: dict[float, list[int]]) -> bool:
        now = time.monotonic()
        return any(token in chunks and now - started > self.budget for _, token, _, started in pool.in_progress())

    def _recover(self, pool: _Workers, chunks: dict[float, list[int]], results: list[Result | None],
                 items: list[Item], over: Callable[[Item, str], Result]) -> None:
        """pool is stuck or broken: the items its workers were on when over budget, or when
        their worker died, get the last-resort record; fresh workers will take the rest."""
        if pool is not self._pool:
            return  # a parse running alongside found it broken first, and replaced it
        now = time.monotonic()
        culprits = 0
        for pid, token, index, started in pool.in_progress():
            if token in chunks and index < len(chunks[token]):
                i = chunks[token][index]
                if now - started > self.budget:
                    results[i] = over(items[i], f"parse budget exceeded ({self.budget:g} s)")
                elif pool.crashed(pid):
                    results[i] = over(items[i], "parser crashed (its worker process died)")
                else:
                    continue
                culprits += 1
        if not culprits and not pool.ever_started():
            # the workers could not start (an embedding program's __main__ cannot be
            # re-imported, say): parse here rather than fail the import or the sync
            pool.executor.shutdown(wait=False, cancel_futures=True)
            self._pool = None
            return
        pool.kill()
        self.restarts += 1
        self._pool = _Workers(self.workers)


async def parse_one(raw: bytes) -> Parsed:
    """One message parsed under the budget, for the odd message that comes alone (a body
    fetched on demand): a worker of its own, started for it (~0.2 s)."""
    async with ParsePool(workers=1) as pool:
        return (await pool.parse([raw]))[0]
