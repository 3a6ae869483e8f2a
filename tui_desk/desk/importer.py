"""Import mail files into the store: parse on every core, store in batches, refresh the queue."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from tui_desk.desk.wording import counted
from tui_desk.desk.service import Desk
from tui_desk.sync.parse_pool import Parsed, ParsePool
from tui_desk.mail.sources import RawMail, read_sources
from tui_desk.store import ingest as store_ingest

BATCH = 500


@dataclass
class ImportSummary:
    messages: int = 0  # new messages stored
    duplicates: int = 0
    errors: int = 0  # stored, but with a parse error
    id_conflicts: int = 0  # stored under a derived id: another mail has their Message-ID
    conversations: set[int] = field(default_factory=set)
    error_lines: list[str] = field(default_factory=list)

    def line(self, total_conversations: int) -> str:
        touched = len(self.conversations)
        return (f"imported {counted(self.messages, 'message')} ({self.duplicates} already "
                f"known), {counted(touched, 'conversation')} touched, {total_conversations} in the "
                f"store, {counted(self.errors, 'error')}"
                + (f", {self.id_conflicts} kept beside another mail with the same Message-ID"
                   if self.id_conflicts else ""))


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
    seen = 0
    async with ParsePool(workers) as pool:
        pending: tuple[list[RawMail], asyncio.Future[list[Parsed]]] | None = None
        # Parse batch n+1 on the other cores while batch n is written.
        for mails in itertools.chain(_chunks(read_sources(paths), BATCH), [None]):
            parsing = pool.parse([m.data for m in mails]) if mails else None
            if pending is not None:
                done_mails, done_parse = pending
                await _store_batch(desk, done_mails, await done_parse, summary)
                seen += len(done_mails)
                if progress:
                    progress(seen)
            pending = (mails, parsing) if mails and parsing is not None else None  # (parsing is set with mails)
    await desk.refresh(summary.conversations)
    return summary


async def _store_batch(desk: Desk, mails: list[RawMail], parsed: list[Parsed], summary: ImportSummary) -> None:
    items = []
    for mail, (p, error) in zip(mails, parsed):
        is_agent = bool(p.sender and desk.config.is_agent_address(p.sender.key))
        items.append(store_ingest.NewMessage(raw=mail.data, parsed=p, source=mail.source,
                                             is_agent=is_agent, error=error, arrived=mail.arrived,
                                             arrived_by=mail.arrived_by))
        if error:
            summary.errors += 1
            summary.error_lines.append(f"{mail.source}: {error}")
    result = await store_ingest.ingest(desk.store, items)
    summary.messages += result.added
    summary.duplicates += result.duplicates
    summary.id_conflicts += result.id_conflicts
    summary.conversations -= result.merged_away
    summary.conversations |= result.conversations
