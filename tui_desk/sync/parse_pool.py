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
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Literal, Sequence, TypeVar, overload

from tui_desk.mail.model import ParsedBody, ParsedMessage
from tui_desk.mail.parse import last_resort_record, parse_body, parse_header_block, parse_message
from tui_desk.store.ingest import pack_raw
from tui_desk.sync import collector

Parsed = tuple[ParsedMessage, str | None]  # the record, and the error if the parser gave up
Packed = tuple[ParsedMessage | ParsedBody, str | None, bytes]  # the same, and the raw bytes as the store keeps them
PackedMessage = tuple[ParsedMessage, str | None, bytes]  # a Packed of a whole message or a header block
# what the raw bytes are, and so how they are read: a whole message (parse_message), a header
# block alone (parse_header_block), a whole message whose header block had no defects (parse_body)
Part = Literal["message", "header", "body"]
MessagePart = Literal["message", "header"]  # the parts read into a ParsedMessage
_READERS = {"message": parse_message, "header": parse_header_block, "body": parse_body}
# what a batch holds: raw messages (parse), or raw bytes each with its Part (parse_packed)
_Item = TypeVar("_Item", bytes, tuple[bytes, Part])
_Result = TypeVar("_Result")  # what a message's item becomes: Parsed or Packed

#: Longest one message may take to parse, in seconds; over it, it is stored unparsed.
PARSE_BUDGET = 5.0
_WATCH_INTERVAL = 0.2  # how often the budget is checked while a batch is parsed
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


def unparsed(raw: bytes, why: str) -> Parsed:
    """The record of a message whose parse ran over the budget or killed its worker, and its
    error (the import and the sync count it as one)."""
    return last_resort_record(raw, f"{why}: stored unparsed"), why


# Worker side: each worker owns a slot of the pool's progress array, where it says what it is
# parsing (pid, batch token, index in the batch, when it started; started 0: idle).
_SLOT_SIZE = 4
_progress: Any = None
_slot = -1


def _mark(token: float, index: int, started: float) -> None:
    if _progress is not None:
        base = _slot * _SLOT_SIZE
        _progress[base + 3] = 0.0  # idle while the other fields change
        _progress[base + 1] = token
        _progress[base + 2] = index
        _progress[base + 3] = started


def _read_items(items: list[_Item], token: float, read: Callable[[_Item], _Result]) -> list[_Result]:
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


def _parse_chunk(raws: list[bytes], token: float = 0.0) -> list[Parsed]:
    return _read_items(raws, token, _parse_one)


def _parse_pack_chunk(items: list[tuple[bytes, Part]], token: float = 0.0) -> list[Packed]:
    return _read_items(items, token, _parse_pack_one)


def _start_worker(quiet: bool, progress: Any, slots: Any, parent: int) -> None:
    """Worker initializer: _exit_with_parent, a slot in the progress array, the collector's
    settings for a worker (collector.for_worker)."""
    global _progress, _slot
    _exit_with_parent(quiet, parent)
    with slots.get_lock():
        _slot = slots.value
        slots.value += 1
    _progress = progress
    _progress[_slot * _SLOT_SIZE] = os.getpid()
    collector.for_worker()


def _exit_with_parent(quiet: bool = False, parent: int | None = None) -> None:
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
        self.progress = ctx.Array("d", count * _SLOT_SIZE, lock=False)
        self.executor = ProcessPoolExecutor(max_workers=count, initializer=_start_worker,
                                            initargs=(quiet, self.progress, ctx.Value("i", 0), os.getpid()),
                                            mp_context=ctx)

    def in_progress(self) -> list[tuple[int, float, int, float]]:
        """(pid, token, index, started) of each worker parsing a message now."""
        p = self.progress
        out = []
        for base in range(0, self.count * _SLOT_SIZE, _SLOT_SIZE):
            started = p[base + 3]
            pid, token, index = int(p[base]), p[base + 1], int(p[base + 2])
            if started and p[base + 3] == started:  # not changed while read
                out.append((pid, token, index, started))
        return out

    def ever_started(self) -> bool:
        return any(self.progress[base] for base in range(0, self.count * _SLOT_SIZE, _SLOT_SIZE))

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
                self._pool.executor.submit(_parse_pack_chunk, [])

    def parse(self, raws: list[bytes]) -> asyncio.Future[list[Parsed]]:
        """Starts at once; await the result when it is needed."""
        return self._run(_parse_chunk, raws, unparsed)

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
        return self._run(_parse_pack_chunk, list(zip(raws, every)),
                         lambda item, why: (*unparsed(item[0], why), pack_raw(item[0], kept=item[1] != "header")))

    def _run(self, chunk_fn: Callable[[list[_Item], float], list[_Result]], items: list[_Item],
             over: Callable[[_Item, str], _Result]) -> asyncio.Future[list[_Result]]:
        loop = asyncio.get_running_loop()
        if self._pool is None:
            return loop.run_in_executor(None, chunk_fn, items, 0.0)
        return asyncio.ensure_future(self._bounded(chunk_fn, items, over))

    async def _bounded(self, chunk_fn: Callable[[list[_Item], float], list[_Result]], items: list[_Item],
                       over: Callable[[_Item, str], _Result]) -> list[_Result]:
        results: list[_Result | None] = [None] * len(items)
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

    async def _round(self, pool: _Workers, chunk_fn: Callable[[list[_Item], float], list[_Result]],
                     items: list[_Item], todo: list[int], results: list[_Result | None],
                     over: Callable[[_Item, str], _Result]) -> list[int]:
        """Parse items[todo] on pool's workers, into results; returns what is left to parse
        (the unfinished items, when a worker was killed or died)."""
        step = len(todo) if len(todo) < self.min_parallel else len(todo) // self.workers + 1
        chunks: dict[float, list[int]] = {}  # token -> indices of the items sent with it
        running: dict[asyncio.Future[list[_Result]], float] = {}
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

    def _recover(self, pool: _Workers, chunks: dict[float, list[int]], results: list[_Result | None],
                 items: list[_Item], over: Callable[[_Item, str], _Result]) -> None:
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
