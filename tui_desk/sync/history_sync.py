"""The desk's history through the server: the History folder (mail.history_format).

Reading: every History mail after the last one read (its UID and the folder's UIDVALIDITY are
kept in `meta`), each event added when its id is new (so a batch read twice, or appended twice
after a crash between APPEND and "mark shared", adds nothing). Read before pushing, so events a
crashed run had already appended are found there and not sent again.
Pushing: the events not yet shared, oldest first, one APPEND per batch of up to BATCH_EVENTS.
History mail is never conversation mail: the folder is not one the mail sync reads.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Awaitable, Callable

from tui_desk.mail.history_format import (HISTORY_FOLDER, HistoryFormatError, WireEvent, build_batch,
                                          read_batch)
from tui_desk.mail.imap import ImapConnection
from tui_desk.store import Store, events as store_events
from tui_desk.store.events import Event

log = logging.getLogger(__name__)

BATCH_EVENTS = 1000  # events per APPEND: a busy day is a handful of mails, each well under 1 MB
FETCH_BATCH = 50  # History mails per FETCH


@dataclass
class HistoryStats:
    read: int = 0  # events new to this store
    pushed: int = 0  # events appended
    appends: int = 0
    skipped: int = 0  # lines or batches that could not be read


class HistorySync:
    def __init__(self, store: Store, account: str, address: str) -> None:
        self.store, self.account, self.address = store, account, address
        self.stats = HistoryStats()
        # called with how many events arrived from teammates (a reports screen refreshes on it)
        self.on_new: Callable[[int], Awaitable[None]] | None = None

    def _meta(self, what: str) -> str:
        return f"history:{self.account}:{what}"

    async def sync(self, conn: ImapConnection) -> HistoryStats:
        """Read what is new on the server, then push what is not there yet."""
        exists = HISTORY_FOLDER in {f.name for f in await conn.list_folders(HISTORY_FOLDER)}
        if exists:
            await self.pull(conn)
        await self.push(conn, exists)
        return self.stats

    async def pull(self, conn: ImapConnection) -> int:
        status = await conn.select(HISTORY_FOLDER, readonly=True)
        last = int(await self.store.get_meta(self._meta("uid")) or 0)
        if str(status.uidvalidity) != await self.store.get_meta(self._meta("uidvalidity")):
            last = 0  # a new folder (or one made again): read it all; known events add nothing
        if status.exists == 0 or (status.uidnext and status.uidnext <= last + 1):
            await self._progress(status.uidvalidity, last)
            return 0
        uids = sorted(u for u in await conn.uid_search("UID", f"{last + 1}:*") if u > last)
        new = 0
        for start in range(0, len(uids), FETCH_BATCH):
            chunk = uids[start:start + FETCH_BATCH]
            found: list[Event] = []
            for m in await conn.uid_fetch(chunk, ["BODY.PEEK[]"]):
                if m.uid is None or m.uid not in chunk or m.body is None:
                    continue
                found += self._read(m.uid, m.body)
            async with self.store.transaction():
                new += await store_events.insert_from_server(self.store, found)
                await self._set_progress(status.uidvalidity, chunk[-1])
        self.stats.read += new
        if new and self.on_new is not None:
            await self.on_new(new)
        return new

    def _read(self, uid: int, raw: bytes) -> list[Event]:
        try:
            wire, skipped = read_batch(raw)
        except HistoryFormatError as e:
            log.warning("%s: %s UID %d skipped: %s", self.account, HISTORY_FOLDER, uid, e)
            self.stats.skipped += 1
            return []
        except Exception as e:  # noqa: BLE001 - whatever a hostile mail does, the sync goes on
            log.warning("%s: %s UID %d skipped: %s: %s", self.account, HISTORY_FOLDER, uid, type(e).__name__, e)
            self.stats.skipped += 1
            return []
        for line in skipped:
            log.warning("%s: %s UID %d: %s skipped", self.account, HISTORY_FOLDER, uid, line)
        self.stats.skipped += len(skipped)
        return [Event(w.event_id, w.at, w.agent, w.kind, w.anchor, w.data) for w in wire]

    async def _progress(self, uidvalidity: int, uid: int) -> None:
        if await self.store.get_meta(self._meta("uid")) != str(uid) or \
                await self.store.get_meta(self._meta("uidvalidity")) != str(uidvalidity):
            async with self.store.transaction():
                await self._set_progress(uidvalidity, uid)

    async def _set_progress(self, uidvalidity: int, uid: int) -> None:
        await self.store.set_meta(self._meta("uidvalidity"), str(uidvalidity))
        await self.store.set_meta(self._meta("uid"), str(uid))

    async def push(self, conn: ImapConnection, folder_exists: bool | None = None) -> int:
        """The unshared events, BATCH_EVENTS to an APPEND. A crash after an APPEND leaves its
        events unshared here: the next pull finds them on the server (and marks them shared)."""
        pushed = 0
        while True:
            batch = await store_events.unshared(self.store, BATCH_EVENTS)
            if not batch:
                break
            if folder_exists is None:
                folder_exists = HISTORY_FOLDER in {f.name for f in await conn.list_folders(HISTORY_FOLDER)}
            if not folder_exists:
                await conn.create(HISTORY_FOLDER)
                folder_exists = True
            agents = [e.agent for e in batch]
            _, raw = build_batch(max(set(agents), key=agents.count), self.address,
                                 [WireEvent(e.event_id, e.at, e.agent, e.kind, e.anchor, e.data) for e in batch],
                                 int(time.time()))
            uid = await conn.append(HISTORY_FOLDER, raw, flags=["\\Seen"])
            async with self.store.transaction():
                await store_events.mark_shared(self.store, (e.event_id for e in batch))
                # our own batch right after the last one read (nobody appended between): not read back
                if uid is not None and str(uid - 1) == (await self.store.get_meta(self._meta("uid")) or "0"):
                    await self.store.set_meta(self._meta("uid"), str(uid))
            pushed += len(batch)
            self.stats.appends += 1
        self.stats.pushed += pushed
        return pushed
