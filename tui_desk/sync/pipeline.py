"""The sync's batch pipeline: download batch k+1 while batch k is parsed and stored."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, Sequence, TypeVar

from tui_desk.sync import collector

Batch = TypeVar("Batch")
Job = TypeVar("Job")
# called once before the last batch's store starts, when every earlier batch is committed and
# no store of the pipeline runs; what it returns is awaited while that last store runs
Overlap = Callable[[], Awaitable[None]]
BeforeLastStore = Callable[[], Awaitable[Overlap | None]]


async def pipelined(batches: Sequence[Batch], fetch: Callable[[Batch], Awaitable[Job]],
                    store: Callable[[Job], Awaitable[None]], before_last_store: BeforeLastStore | None = None) -> None:
    """fetch(batch) downloads a batch and starts its parsing on the workers; store(job) waits
    for the parse and commits. Batch k+1 is downloaded (the main thread decoding the wire) while
    batch k is parsed and written (the workers, SQLite's thread). One store at a time, in batch
    order, so a crash never leaves a gap below the recorded progress. before_last_store: the
    next phase's first download, made while the last batch is parsed and written, where the
    wire would stand idle (AccountSync._start_bodies). The garbage collector runs in bulk steps
    meanwhile (collector.bulk)."""
    with collector.bulk():
        await _run_pipeline(batches, fetch, store, before_last_store)


async def _run_pipeline(batches: Sequence[Batch], fetch: Callable[[Batch], Awaitable[Job]],
                        store: Callable[[Job], Awaitable[None]], before_last_store: BeforeLastStore | None) -> None:
    storing: asyncio.Future[None] | None = None
    try:
        for k, batch in enumerate(batches):
            job = await fetch(batch)
            if storing is not None:
                await storing
            overlap = await before_last_store() if before_last_store and k == len(batches) - 1 else None
            storing = asyncio.ensure_future(store(job))
            if overlap is not None:
                await overlap()
        if storing is not None:
            await storing
    finally:
        if storing is not None:
            if not storing.done():  # the download failed: let the batch being stored commit
                try:
                    await asyncio.wait({storing})
                except asyncio.CancelledError:
                    storing.cancel()  # its transaction rolls back; nothing is left running
                    raise
            if not storing.cancelled():
                storing.exception()  # raised already, or secondary to the error being raised
