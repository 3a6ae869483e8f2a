"""Import mail files into the store: parse on every core, store in batches, refresh the queue."""

from __future__ import annotations

import asyncio
import hashlib
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from tui_desk.desk.service import Desk
from tui_desk.mail.model import ParsedMessage
from tui_desk.mail.parse import parse_message
from tui_desk.mail.sources import RawMail, read_sources
from tui_desk.store import ingest as store_ingest

BATCH = 500


@dataclass
class ImportSummary:
    messages: int = 0  # new messages stored
    duplicates: int = 0
    errors: int = 0  # stored, but with a parse error
    conversations: set[int] = field(default_factory=set)
    error_lines: list[str] = field(default_factory=list)

    def line(self, total_conversations: int) -> str:
        return (f"imported {self.messages} messages ({self.duplicates} already known), "
                f"{len(self.conversations)} conversations touched, {total_conversations} in the store, "
                f"{self.errors} errors")


def _parse_safely(raw: bytes) -> tuple[ParsedMessage, str | None]:
    try:
        return parse_message(raw), None
    except Exception as e:  # the parser promises not to raise; if it does, keep the mail anyway
        digest = hashlib.sha256(raw).hexdigest()[:32]
        return ParsedMessage(
            message_id=f"sha256-{digest}@tui-desk.invalid", synthetic_id=True, in_reply_to=None,
            references=[], sender=None, to=[], cc=[], reply_to=[], date=None, subject="(unparseable message)",
            text="", text_from_html=False, defects=[f"parser failed: {type(e).__name__}: {e}"], size=len(raw),
        ), f"{type(e).__name__}: {e}"


def _parse_chunk(raws: list[bytes]) -> list[tuple[ParsedMessage, str | None]]:
    return [_parse_safely(r) for r in raws]


def _chunks(it: Iterable[RawMail], size: int) -> Iterable[list[RawMail]]:
    chunk: list[RawMail] = []
    for item in it:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def import_paths(desk: Desk, paths: list[Path],
                       progress: Callable[[int], None] | None = None,
                       workers: int | None = None) -> ImportSummary:
    """Idempotent: Message-IDs already stored are skipped (and counted as duplicates)."""
    summary = ImportSummary()
    workers = workers or min(4, os.cpu_count() or 1)
    loop = asyncio.get_running_loop()
    pool = ProcessPoolExecutor(max_workers=workers) if workers > 1 else None
    try:
        seen = 0
        pending: asyncio.Future | None = None
        pending_mails: list[RawMail] = []
        # Parse batch n+1 on the other cores while batch n is written.
        for mails in _chunks(read_sources(paths), BATCH):
            fut = _parse_batch(loop, pool, mails, workers)
            if pending is not None:
                await _store_batch(desk, pending_mails, await pending, summary)
                seen += len(pending_mails)
                if progress:
                    progress(seen)
            pending, pending_mails = fut, mails
        if pending is not None:
            await _store_batch(desk, pending_mails, await pending, summary)
            seen += len(pending_mails)
            if progress:
                progress(seen)
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    await desk.refresh(summary.conversations)
    return summary


def _parse_batch(loop, pool, mails: list[RawMail], workers: int) -> asyncio.Future:
    raws = [m.data for m in mails]
    if pool is None:
        return loop.run_in_executor(None, _parse_chunk, raws)
    step = max(1, len(raws) // workers + 1)
    parts = [loop.run_in_executor(pool, _parse_chunk, raws[i:i + step]) for i in range(0, len(raws), step)]

    async def gather() -> list:
        out: list = []
        for part in await asyncio.gather(*parts):
            out.extend(part)
        return out
    return asyncio.ensure_future(gather())


async def _store_batch(desk: Desk, mails: list[RawMail], parsed: list, summary: ImportSummary) -> None:
    items = []
    for mail, (p, error) in zip(mails, parsed):
        is_agent = bool(p.sender and desk.config.is_agent_address(p.sender.key))
        items.append(store_ingest.NewMessage(raw=mail.data, parsed=p, source=mail.source,
                                             is_agent=is_agent, error=error))
        if error:
            summary.errors += 1
            summary.error_lines.append(f"{mail.source}: {error}")
    result = await store_ingest.ingest(desk.store, items)
    summary.messages += result.added
    summary.duplicates += result.duplicates
    summary.conversations -= result.merged_away
    summary.conversations |= result.conversations
