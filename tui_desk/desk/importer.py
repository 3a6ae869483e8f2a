"""Import mail files into the store: parse on every core, store in batches, refresh the queue.

What is not mail is refused, as NeoMutt and notmuch refuse it: nothing is stored for it, and
`ImportSummary.refused` names it with why ("FILE: <why>"; the CLI says `not mail: FILE: <why>`).
A file of its own (a single message, a Maildir's or a folder's file) is not mail when it
- is empty, or holds blank lines alone;
- does not start with a header field line, `Name: value` (the name printable ASCII without
  a colon, as RFC 5322 has it), once blank lines and lines that start with a blank (stray
  folding) are passed: a text file, a PDF, an image (said as binary data when its first KB
  holds NUL bytes).
A folder given in which nothing is found to read (and that is not a Maildir) is refused too.
Every message of an mbox is mail (its `From ` lines say so), and so is a file that starts with a
header field whatever follows: a broken header (a line without a colon further down, no blank
line before the body, NULs or a bad encoding in a field) is stored with its parse error, as
the parser keeps it (tests/test_hostile_intake.py).
"""

from __future__ import annotations

import asyncio
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from tui_desk.desk.wording import counted
from tui_desk.desk.service import Desk
from tui_desk.sync.parse_pool import Parsed, ParsePool
from tui_desk.mail.sources import RawMail, is_maildir, read_sources
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
    refused: list[str] = field(default_factory=list)  # "FILE: why": not mail, nothing stored

    def line(self, total_conversations: int) -> str:
        touched = len(self.conversations)
        return (f"imported {counted(self.messages, 'message')} ({self.duplicates} already "
                f"known), {counted(touched, 'conversation')} touched, {total_conversations} in the "
                f"store, {counted(self.errors, 'error')}"
                + (f", {self.id_conflicts} kept beside another mail with the same Message-ID"
                   if self.id_conflicts else "")
                + (f", {counted(len(self.refused), 'file')} not mail" if self.refused else ""))


# A header field line (RFC 5322's name: printable US-ASCII but the colon; the obsolete syntax's
# blanks before it), after blank lines and lines that start blank (a broken mail's stray folding)
_STARTS_WITH_FIELD = re.compile(rb"(?:\xef\xbb\xbf)?(?:[ \t][^\n]*\n|\r?\n)*[!-9;-~]+[ \t]*:")


def not_mail(data: bytes) -> str | None:
    """Why a file of its own is not mail (the module's docstring has the rule); None: it is."""
    if not data:
        return "an empty file"
    if not data.strip():
        return "blank lines alone"
    if _STARTS_WITH_FIELD.match(data):
        return None
    if b"\0" in data[:1024]:
        return "binary data, not text (NUL bytes in its first KB)"
    return "no header lines: its first line is not a header field like 'From: ...'"


def _mail_of(paths: list[Path], refused: list[str]) -> Iterable[RawMail]:
    """The mail of each path in turn; what is not mail goes to `refused` instead."""
    for path in paths:
        found = False
        for mail in read_sources([path]):
            found = True
            why = not_mail(mail.data) if mail.whole_file else None
            if why is None:
                yield mail
            else:
                refused.append(f"{mail.source}: {why}")
        if not found and path.is_dir() and not is_maildir(path):
            refused.append(f"{path}: a folder with no mail files in it")


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
    """Idempotent: Message-IDs already stored are skipped (and counted as duplicates). What is
    not mail is not stored, and named in the summary's `refused`."""
    summary = ImportSummary()
    seen = 0
    async with ParsePool(workers) as pool:
        pending: tuple[list[RawMail], asyncio.Future[list[Parsed]]] | None = None
        # Parse batch n+1 on the other cores while batch n is written.
        for mails in itertools.chain(_chunks(_mail_of(paths, summary.refused), BATCH), [None]):
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
