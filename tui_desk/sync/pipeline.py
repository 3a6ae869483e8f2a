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


#: batches downloaded ahead of the one being stored: fetch(k+2) may run while batch k is written
#: and batch k+1 parsed, so the workers have the next batch when one is done (bench/sync_timeline.py)
AHEAD = 2


async def pipelined(batches: Sequence[Batch], fetch: Callable[[Batch], Awaitable[Job]],
                    store: Callable[[Job], Awaitable[None]], before_last_store: BeforeLastStore | None = None,
                    ahead: int = AHEAD) -> None:
    """fetch(batch) downloads a batch and starts its parsing on the workers; store(job) waits
    for the parse and commits. Downloads run up to `ahead` batches past the last one stored (the
    main thread decoding the wire while the workers parse and SQLite's thread writes). One store
    at a time, in batch order, none past a batch whose store failed, so a crash never leaves a
    gap below the recorded progress. before_last_store: the next phase's first download, made
    while the last batch is parsed and written, where the wire would stand idle
    (AccountSync._start_bodies). The garbage collector runs in bulk steps meanwhile
    (collector.bulk)."""
    with collector.bulk():
        await _run_pipeline(batches, fetch, store, before_last_store, ahead)


async def _run_pipeline(batches: Sequence[Batch], fetch: Callable[[Batch], Awaitable[Job]],
                        store: Callable[[Job], Awaitable[None]], before_last_store: BeforeLastStore | None,
                        ahead: int) -> None:
    stores: list[asyncio.Future[None]] = []  # in batch order, each begun once the one before committed

    async def after(previous: asyncio.Future[None] | None, job: Job) -> None:
        if previous is not None:
            await previous  # its error ends this one too: nothing is stored past a failed batch
        await store(job)

    try:
        for k, batch in enumerate(batches):
            if len(stores) > ahead:
                await stores[-ahead - 1]
            job = await fetch(batch)
            overlap = None
            if before_last_store is not None and k == len(batches) - 1:
                if stores:
                    await stores[-1]
                overlap = await before_last_store()
            stores.append(asyncio.ensure_future(after(stores[-1] if stores else None, job)))
            if overlap is not None:
                await overlap()
        if stores:
            await stores[-1]
    finally:
        running = [s for s in stores if not s.done()]
        if running:  # the download failed: let the batches being stored commit
            try:
                await asyncio.wait(running)
            except asyncio.CancelledError:
                for s in running:
                    s.cancel()  # their transactions roll back; nothing is left running
                raise
        for s in stores:
            if not s.cancelled():
                s.exception()  # raised already, or secondary to the error being raised
