"""IMAP → store sync for one account: headers first, then bodies; incremental; crash-safe.

Every batch commits its messages together with the folder's progress (highest UID stored), so
a kill at any moment loses nothing, duplicates nothing (Message-IDs are unique in the store) and
never downloads a committed batch again. Flag changes come from CONDSTORE/QRESYNC when the
server has them (only what changed since the last MODSEQ), else from a full FLAGS diff.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from typing import Awaitable, Callable

from tui_desk.config import AccountConfig, ConfigError, ServerConfig
from tui_desk.mail.imap import (FetchedMessage, ImapAuthError, ImapCommandError, ImapConnection,
                                ImapConnectionLost, ImapError, MailboxStatus, QresyncState)
from tui_desk.mail.model import NOTES_FOLDER, is_note_id
from tui_desk.mail.history_format import HISTORY_FOLDER
from tui_desk.secrets import SecretError
from tui_desk.sync.claims import ClaimSession
from tui_desk.sync.history_sync import HistorySync
from tui_desk.sync.live import FolderMissing, LiveSync
from tui_desk.sync.stats import SyncStats
from tui_desk.sync.parse_pool import MessagePart, Packed, PackedMessage, ParsePool, Part, parse_one
from tui_desk.sync.pipeline import Overlap, pipelined as _pipelined
from tui_desk.sync.push import append_note, store_flags
from tui_desk.store import Store, ingest as store_ingest, mirror, server_ops

log = logging.getLogger(__name__)

HEADER_BATCH = 500  # UIDs per header FETCH
BODY_BATCH_BYTES = 4 * 1024 * 1024  # bytes per body FETCH
BODY_BATCH_MAX = 400
HEADER_ITEMS = ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "BODY.PEEK[HEADER]"]


@dataclass
class FetchOutcome:
    """One over-limit message fetched on demand (`tui-desk fetch`)."""

    message_id: str
    conv_id: int
    fetched: bool = False
    size: int = 0
    attachments: int = 0
    parse_error: str | None = None  # stored with the message; the bytes are kept either way
    error: str | None = None  # why it was not fetched; the message stays header-only


ChangeCallback = Callable[[set[int]], Awaitable[None]]
# after a pass has stored new mail with its bodies: the desk runs its rules (desk.rules.fire)
PassCallback = Callable[[ClaimSession], Awaitable[None]]
ProgressCallback = Callable[[str, int, int], None]  # (phase, done, total)


# (uid, message rowid, size, header clean) of a message waiting for its body: mirror.pending_bodies
PendingBody = tuple[int, int, int, bool]
# a batch downloaded, its parse running: (first index, UIDs, messages, parse) for the headers,
# (batch, rowid by UID, messages, parse) for the bodies
_HeaderJob = tuple[int, list[int], list[FetchedMessage], asyncio.Future[list[PackedMessage]]]
_BodyJob = tuple[list[PendingBody], dict[int, int], list[FetchedMessage], asyncio.Future[list[Packed]]]


@dataclass
class _BodyStart:
    """The body phase's first batch, downloaded during the last header store (_start_bodies)."""
    folder: str
    job: _BodyJob


async def noop_changed(_: set[int]) -> None:
    return None


def _uid(m: FetchedMessage) -> int:
    """The UID of a message a UID FETCH answered (ImapConnection.uid_fetch always asks for it;
    the sync keeps only answers that carry one)."""
    assert m.uid is not None
    return m.uid


def _body(m: FetchedMessage) -> bytes:
    """The BODY[] of a message the sync kept because it carries one."""
    assert m.body is not None
    return m.body


class AccountSync(LiveSync):
    def __init__(self, store: Store, account: AccountConfig, password: str | Callable[[], str], *,
                 is_agent: Callable[[str], bool], on_change: ChangeCallback = noop_changed,
                 progress: ProgressCallback | None = None, timeout: float = 30.0):
        assert account.imap is not None
        self.store, self.account, self.is_agent = store, account, is_agent
        self._imap: ServerConfig = account.imap
        self._password = password
        self.on_change, self.progress, self.timeout = on_change, progress, timeout
        self.stats = SyncStats()
        self.history = HistorySync(store, account.name, account.address)  # the History folder
        self.on_state: Callable[[], None] | None = None  # called when state or problem changes
        self.after_pass: PassCallback | None = None  # the rules, claimed on this connection
        self._state = "disconnected"
        self.problem: str | None = None  # why the last attempt failed; None while it works
        self.retry_at: float | None = None  # loop time of the next attempt while disconnected
        self.needs_fix = False  # the problem is one no retry can fix: none is timed (sync.live)
        # set by local changes (store.server_ops) and catch_up(): the live loop stops waiting
        # on the server and goes round at once
        self._news = asyncio.Event()
        store.ops_listeners.add(self._news)
        self._caught_up: list[asyncio.Future[None]] = []
        self._body_start: _BodyStart | None = None  # set by _start_bodies, taken by fetch_bodies
        # conversations whose customers' mail got its body (store.ingest.replace_bodies), for on_change
        self._bodies_said: set[int] = set()

    async def catch_up(self, timeout: float = 30.0) -> None:
        """While run_forever() is live: push local changes and sync every folder now, and
        return when done. Raises ImapError when not connected or when it takes too long."""
        if self.state in ("disconnected", "connecting"):
            raise ImapError(f"{self.account.name}: not connected to the server")
        done = asyncio.get_running_loop().create_future()
        self._caught_up.append(done)
        self._news.set()
        try:
            await asyncio.wait_for(asyncio.shield(done), timeout)
        except TimeoutError:
            done.cancel()  # the live loop skips it
            raise ImapError(f"{self.account.name}: the server did not answer within {timeout:.0f} s") from None

    def __repr__(self) -> str:
        return f"<AccountSync {self.account.name} {self.state}>"

    @property
    def state(self) -> str:
        """Shown by the TUI: disconnected | connecting | syncing | idle."""
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        if value != self._state:
            self._state = value
            if self.on_state is not None:
                self.on_state()

    def _trouble(self, problem: str | None, retry_in: float | None, needs_fix: bool = False) -> None:
        self.problem, self.needs_fix = problem, needs_fix
        self.retry_at = None if retry_in is None else asyncio.get_running_loop().time() + retry_in
        if self.on_state is not None:
            self.on_state()

    # -- connection --------------------------------------------------------------------------
    async def connect(self) -> ImapConnection:
        cfg = self._imap
        self.state = "connecting"
        conn = ImapConnection(cfg.host, cfg.port, security=cfg.security, ca_file=cfg.ca_file,
                              timeout=self.timeout)
        await conn.connect()
        try:
            password = self._password
            if callable(password):  # password_command or keyring: may take seconds, off the loop
                password = await asyncio.to_thread(password)
            await conn.sign_in(cfg.username or self.account.address, password, cfg.auth)
            if conn.has("QRESYNC"):
                await conn.enable("QRESYNC")
        except BaseException as e:
            conn.close()
            if isinstance(e, ImapAuthError):
                from tui_desk.secrets import forget_access_token
                forget_access_token(cfg)
            raise
        return conn

    async def folders(self, conn: ImapConnection) -> list[tuple[str, str]]:
        """(name, role): the configured folders, plus Sent found by SPECIAL-USE."""
        listed = await conn.list_folders()
        names = {f.name for f in listed if f.selectable}
        out = []
        for name in self.account.folders:
            if name.upper() == "INBOX":
                name = "INBOX"
            if name not in names:  # no retry finds it: needs a fix (sync.live)
                raise FolderMissing.naming(name, self.account.name, names)
            if name == HISTORY_FOLDER:
                continue  # the desk's history (sync.history_sync), never conversation mail
            out.append((name, "queue"))
        sent = next((f.name for f in listed if f.special_use == "\\Sent" and f.selectable), None)
        if sent and sent not in {n for n, _ in out}:
            out.append((sent, "sent"))
        if NOTES_FOLDER in names and NOTES_FOLDER not in {n for n, _ in out}:
            out.append((NOTES_FOLDER, "notes"))
        return out

    # -- one pass ------------------------------------------------------------------------------
    async def sync_once(self) -> SyncStats:
        async with ParsePool() as pool:
            if not await mirror.has_synced(self.store, self.account.name):
                pool.start()  # a first sync: the workers start while we log in, not at the first batch
            try:
                conn = await self.connect()
            except (ImapError, SecretError, ConfigError) as e:
                self._connect_problem(e)  # what no retry fixes is kept as needs_fix, as the live loop keeps it
                raise
            try:
                await self.push_changes(conn)
                await self._history(conn, read=True)
                try:
                    folders = await self.folders(conn)
                except FolderMissing as e:
                    self._needs_fix(str(e))  # said as the live loop says it (`sync --once`: exit 1)
                    raise
                touched: set[int] = set()
                synced: list[int] = []  # the folders whose headers this pass synced, in order
                self._body_start = None
                for name, role in folders:
                    touched |= await self.sync_folder(conn, pool, name, role, notify=False, bodies_after=synced)
                start, self._body_start = self._body_start, None
                # the conversations are recomputed while the bodies download: from header fields
                # and flags; then those whose customers' words arrived, which decide (a thank-you)
                refreshing = asyncio.ensure_future(self.on_change(touched)) if touched else None
                try:
                    for name, role in folders:
                        await self.fetch_bodies(conn, pool, name, role, start, notify=False)
                finally:
                    if refreshing is not None:
                        await refreshing
                await self._bodies_changed()
                await self.run_after_pass(conn)
            finally:
                self.state = "disconnected"
                await conn.logout()
        return self.stats

    async def sync_folder(self, conn: ImapConnection, pool: ParsePool, name: str, role: str,
                          notify: bool = True, bodies_after: list[int] | None = None) -> set[int]:
        """Headers of new mail, flag changes, expunges; on_change with the conversations touched
        (notify=False: the caller does that with what this returns). bodies_after: ids of the
        folders synced before in this pass (this one's is added) for _start_bodies; None: none."""
        self.state = "syncing"
        store = self.store
        folder = await mirror.folder_state(store, self.account.name, name, role)
        qresync = None
        if ("QRESYNC" in conn.enabled and folder.uidvalidity and folder.highestmodseq
                and folder.synced_uid):
            qresync = QresyncState(folder.uidvalidity, folder.highestmodseq)
        status = await conn.select(name, condstore=True, qresync=qresync)
        touched: set[int] = set()
        if folder.uidvalidity is not None and status.uidvalidity != folder.uidvalidity:
            log.info("%s/%s: UIDVALIDITY changed %s -> %s; re-matching by Message-ID",
                     self.account.name, name, folder.uidvalidity, status.uidvalidity)
            async with store.transaction():
                await mirror.reset_folder(store, folder.id, status.uidvalidity)
            folder.synced_uid, folder.highestmodseq = 0, None
            qresync = None
        elif folder.uidvalidity is None:
            async with store.transaction():
                await mirror.set_folder_progress(store, folder.id, uidvalidity=status.uidvalidity)
        first_sync = folder.synced_uid == 0
        if not first_sync:
            touched |= await self._changes(conn, folder, status, qresync is not None)
        touched |= await self._new_messages(conn, pool, folder, status, bodies_after)
        if bodies_after is not None:
            bodies_after.append(folder.id)
        if first_sync and folder.uidvalidity is not None:
            # after a UIDVALIDITY change: messages no longer on the server leave the store
            touched |= await self._drop_vanished_after_reset(folder)
        if status.highestmodseq:
            async with store.transaction():
                await mirror.set_folder_progress(store, folder.id, highestmodseq=status.highestmodseq)
        if touched and notify:
            await self.on_change(touched)
        return touched

    async def _new_messages(self, conn: ImapConnection, pool: ParsePool, folder: mirror.FolderState,
                            status: MailboxStatus, bodies_after: list[int] | None = None) -> set[int]:
        if status.exists == 0 or (status.uidnext and status.uidnext <= folder.synced_uid + 1):
            return set()
        uids = [u for u in await conn.uid_search("UID", f"{folder.synced_uid + 1}:*") if u > folder.synced_uid]
        uids.sort()
        condstore = status.highestmodseq is not None
        items = HEADER_ITEMS + (["MODSEQ"] if condstore else [])
        touched: set[int] = set()

        async def fetch(start: int) -> _HeaderJob:
            batch = uids[start:start + HEADER_BATCH]
            fetched = [m for m in await conn.uid_fetch(batch, items) if m.uid is not None]
            # mail over the size limit keeps its header block's record: read it as a message
            limit = self.account.max_message_bytes
            parts: list[MessagePart] = ["message" if (m.size or 0) > limit else "header" for m in fetched]
            return start, batch, fetched, pool.parse_packed([m.header or b"" for m in fetched], parts)

        async def store(job: _HeaderJob) -> None:
            start, batch, fetched, parsing = job
            parsed = await parsing
            await self._whole_if_no_message_id(conn, pool, fetched, parsed)
            touched.update(await self._store_headers(folder, fetched, parsed, batch[-1]))
            self.stats.new += len(fetched)
            if self.progress:
                self.progress(f"headers {folder.name}", start + len(batch), len(uids))

        await _pipelined(range(0, len(uids), HEADER_BATCH), fetch, store, None if bodies_after is None
                         else functools.partial(self._start_bodies, conn, pool, folder, bodies_after))
        return touched

    async def _start_bodies(self, conn: ImapConnection, pool: ParsePool, folder: mirror.FolderState,
                            earlier: list[int]) -> Overlap | None:
        """Before a folder's last header batch is stored: the body phase's first batch, if it is
        this folder's (no earlier folder waits for bodies), from the bodies waiting now, to be
        downloaded while that batch is parsed and written (the wire and the workers idle else).
        fetch_bodies uses it if it is the batch it would download first anyway."""
        if self._body_start is not None or conn.selected != folder.name:
            return None
        limit = self.account.max_message_bytes
        for folder_id in earlier:
            if await mirror.pending_bodies(self.store, folder_id, limit):
                return None
        todo = await mirror.pending_bodies(self.store, folder.id, limit)
        if not todo:
            return None
        first = _body_batches(todo)[0]

        async def download() -> None:
            self._body_start = _BodyStart(folder.name, await self._fetch_bodies(conn, pool, first))
        return download

    async def _whole_if_no_message_id(self, conn: ImapConnection, pool: ParsePool,
                                      fetched: list[FetchedMessage], parsed: list[PackedMessage]) -> None:
        """Without a Message-ID the id is a hash of the whole mail, so such (rare) mail is fetched
        whole at once: the id then matches the same mail imported from a file."""
        need = {_uid(m): i for i, (m, (p, _, _)) in enumerate(zip(fetched, parsed))
                if p.synthetic_id and (m.size or 0) <= self.account.max_message_bytes}
        if not need:
            return
        whole = [m for m in await conn.uid_fetch(list(need), ["BODY.PEEK[]"]) if m.uid in need and m.body]
        for m, result in zip(whole, await pool.parse_packed([_body(m) for m in whole])):
            i = need[_uid(m)]
            fetched[i].header = m.body
            parsed[i] = result

    async def _store_headers(self, folder: mirror.FolderState, fetched: list[FetchedMessage],
                             parsed: list[PackedMessage], last_uid: int) -> set[int]:
        items: list[store_ingest.NewMessage] = []
        too_big: set[str] = set()
        for m, (p, error, packed) in zip(fetched, parsed):
            big = (m.size or 0) > self.account.max_message_bytes
            if big:
                p.text = (f"[message of {(m.size or 0) / 1048576:.1f} MB, over the "
                          f"{self.account.max_message_bytes // 1048576} MB limit: body not downloaded]")
                p.defects.append("body not downloaded: over the size limit")
                too_big.add(p.message_id)
            p.size = m.size or p.size
            items.append(store_ingest.NewMessage(
                raw=m.header or b"", parsed=p, source=f"imap:{self.account.name}/{folder.name}",
                is_agent=bool(p.sender and self.is_agent(p.sender.key)) or folder.role in ("sent", "notes"),
                is_note=folder.role == "notes" or is_note_id(p.message_id),
                error=error, body_state="too_big" if big else ("full" if p.synthetic_id else "headers"),
                packed=packed,
                arrived=int(m.internaldate.timestamp()) if m.internaldate is not None else None))
            if error:
                self.stats.errors += 1
                self.stats.error_lines.append(f"{folder.name} UID {m.uid}: {error}")
        result = store_ingest.IngestResult()
        store = self.store
        async with store.transaction():
            await store_ingest.ingest_in_transaction(store, items, result)
            await mirror.map_uids(store, folder.id, [
                (_uid(m), result.rowids[i.parsed.message_id], " ".join(m.flags or ()), m.modseq, m.size)
                for m, i in zip(fetched, items)])
            await mirror.set_folder_progress(store, folder.id, synced_uid=last_uid)
        folder.synced_uid = max(folder.synced_uid, last_uid)
        return result.conversations

    async def _changes(self, conn: ImapConnection, folder: mirror.FolderState, status: MailboxStatus,
                       used_qresync: bool) -> set[int]:
        """Flag changes and expunges among the UIDs we already have."""
        known = await mirror.known_uids(self.store, folder.id)
        if not known:
            return set()
        span = f"1:{folder.synced_uid}"
        if used_qresync:
            changed, vanished = status.changed, set(status.vanished)
        elif folder.highestmodseq and status.highestmodseq:
            if status.highestmodseq == folder.highestmodseq:
                changed = []
            else:
                changed = await conn.uid_fetch(span, ["FLAGS", "MODSEQ"], changed_since=folder.highestmodseq)
            vanished = set(known) - set(await conn.uid_search("UID", span))
        else:
            changed = await conn.uid_fetch(span, ["FLAGS"])
            vanished = set(known) - {m.uid for m in changed}
        updates = [(m.uid, " ".join(m.flags or ()), m.modseq) for m in changed
                   if m.uid in known and m.flags is not None and " ".join(m.flags) != known[m.uid]]
        vanished &= set(known)
        touched: set[int] = set()
        if updates or vanished:
            store = self.store
            async with store.transaction():
                if updates:
                    touched |= set(await mirror.update_flags(store, folder.id, updates))
                if vanished:
                    touched |= await mirror.forget_uids(store, folder.id, sorted(vanished))
        self.stats.changed += len(updates)
        self.stats.expunged += len(vanished)
        return touched

    async def _drop_vanished_after_reset(self, folder: mirror.FolderState) -> set[int]:
        async with self.store.transaction():
            removed, convs = await mirror.drop_unmapped_from(self.store, f"imap:{self.account.name}/{folder.name}")
        self.stats.expunged += removed
        return convs

    async def fetch_bodies(self, conn: ImapConnection, pool: ParsePool, name: str, role: str,
                           start: _BodyStart | None = None, notify: bool = True) -> int:
        """start: a first batch downloaded already (_start_bodies); used when it is this
        folder's and the batch this would download first, else its parse is awaited and dropped.
        notify: on_change with the conversations whose customers' mail got its body (False: the
        caller does, _bodies_changed)."""
        folder = await mirror.folder_state(self.store, self.account.name, name, role)
        todo = await mirror.pending_bodies(self.store, folder.id, self.account.max_message_bytes)
        first = start.job if start is not None and start.folder == name else None
        batches = _body_batches(todo) if todo else []
        if first is not None and (not batches or first[0] != batches[0]):
            await asyncio.gather(first[3], return_exceptions=True)  # mail changed meanwhile: as if never fetched
            first = None
        if not todo:
            return 0
        if conn.selected != name:
            await conn.select(name)
        done = 0

        async def fetch(batch: list[PendingBody]) -> _BodyJob:
            if first is not None and batch is batches[0]:
                return first
            return await self._fetch_bodies(conn, pool, batch)

        async def store(job: _BodyJob) -> None:
            nonlocal done
            await self._store_bodies(*job)
            done += len(job[0])
            if self.progress:
                self.progress(f"bodies {name}", done, len(todo))

        await _pipelined(batches, fetch, store)
        self.stats.bodies += done
        if notify:
            await self._bodies_changed()
        return done

    async def _bodies_changed(self) -> None:
        said, self._bodies_said = self._bodies_said, set()
        if said:
            await self.on_change(said)

    async def _fetch_bodies(self, conn: ImapConnection, pool: ParsePool, batch: list[PendingBody]) -> _BodyJob:
        rowid_of = {uid: rowid for uid, rowid, _, _ in batch}
        # a header block read without defects gave every header field the whole message would:
        # only the body is read now (parse_body). Other mail is read whole, as a message in a
        # folder twice (one Message-ID, two UIDs: the last copy's bytes are kept)
        clean = {uid for uid, _, _, header_clean in batch if header_clean}
        fetched = [m for m in await conn.uid_fetch([u for u, _, _, _ in batch], ["BODY.PEEK[]"])
                   if m.uid in rowid_of and m.body is not None]
        parts: list[Part] = ["body" if m.uid in clean else "message" for m in fetched]
        return batch, rowid_of, fetched, pool.parse_packed([_body(m) for m in fetched], parts)

    async def _store_bodies(self, batch: list[PendingBody], rowid_of: dict[int, int], fetched: list[FetchedMessage],
                            parsing: asyncio.Future[list[Packed]]) -> None:
        parsed = await parsing
        async with self.store.transaction():
            self._bodies_said |= await store_ingest.replace_bodies(
                self.store, [(rowid_of[_uid(m)], _body(m), p, error) for m, (p, error, _) in zip(fetched, parsed)],
                packed=[packed for _, _, packed in parsed])

    # -- on demand -----------------------------------------------------------------------------------
    async def fetch_whole(self, messages: list[tuple[int, str, int]]) -> list[FetchOutcome]:
        """Download mail kept header-only for its size, whatever the limit, and store it in full
        through the body phase's path. messages: (rowid, Message-ID, conv id) of this account.
        Never raises for the server or the mail: a message no longer on the server, a lost
        connection (what was stored stays) and a parse error (stored with the message, as in
        the sync) are in the outcomes."""
        outcomes = [FetchOutcome(mid, conv) for _, mid, conv in messages]
        if not messages:
            return outcomes
        touched: set[int] = set()
        current: dict[str, bool] = {}  # folder -> its UIDs still mean what the mirror says
        conn = None
        try:
            conn = await self.connect()
            for (rowid, mid, conv), out in zip(messages, outcomes):
                body = None
                for folder, uid, _ in await mirror.locations_of(self.store, self.account.name, mid):
                    if conn.selected != folder:
                        status = await conn.select(folder)
                        known = await mirror.folder_state(self.store, self.account.name, folder, "queue")
                        current[folder] = status.uidvalidity == known.uidvalidity
                    if not current.get(folder):
                        continue
                    got = [m for m in await conn.uid_fetch([uid], ["BODY.PEEK[]"]) if m.uid == uid and m.body]
                    if got:
                        body = got[0].body
                        break
                if body is None:
                    out.error = "no longer on the server (sync again to update the store)"
                    continue
                parsed, error = await parse_one(body)  # under the parse budget, as in the sync
                async with self.store.transaction():
                    await store_ingest.replace_bodies(self.store, [(rowid, body, parsed, error)])
                out.fetched, out.size, out.attachments = True, parsed.size or len(body), len(parsed.attachments)
                out.parse_error = error
                touched.add(conv)
                if error:
                    self.stats.errors += 1
                    self.stats.error_lines.append(f"{mid}: {error}")
        except ImapError as e:
            for out in outcomes:
                if not out.fetched and out.error is None:
                    out.error = f"{self.account.name}: {e}"
        finally:
            self.state = "disconnected"
            if conn is not None:
                await conn.logout()
            if touched:
                await self.on_change(touched)
        return outcomes

    # -- local changes → server ----------------------------------------------------------------------
    async def push_changes(self, conn: ImapConnection) -> int:
        """Replay queued operations in order. Each is idempotent (+FLAGS/-FLAGS), so a crash
        between the server's OK and our delete only repeats a no-op."""
        pushed = 0
        touched: set[int] = set()
        for op in await server_ops.pending(self.store, self.account.name):
            try:
                if op.kind == "append_note":
                    await append_note(self.store, conn, op.message_id, op.args["folder"])
                    async with self.store.transaction():
                        await server_ops.finish(self.store, op.id)
                    pushed += 1
                    continue
                if op.kind != "flags":
                    raise ImapError(f"unknown operation {op.kind!r}")
                updated: list[tuple[str, FetchedMessage]] = []
                for folder, uid, _ in await mirror.locations_of(self.store, self.account.name, op.message_id):
                    if conn.selected != folder:
                        await conn.select(folder)
                    updated += [(folder, m) for m in await store_flags(conn, uid, op.args)]
                # the mirror learns the result at once, so local state never flips back meanwhile
                async with self.store.transaction():
                    for folder, m in updated:
                        if m.uid is not None and m.flags is not None:
                            f = await mirror.folder_state(self.store, self.account.name, folder, "queue")
                            touched.update(await mirror.update_flags(
                                self.store, f.id, [(m.uid, " ".join(m.flags), m.modseq)]))
                    await server_ops.finish(self.store, op.id)
                pushed += 1
            except ImapConnectionLost:
                raise
            except ImapError as e:
                await server_ops.failed(self.store, op.id, str(e))
                self.stats.errors += 1
                self.stats.error_lines.append(f"change to {op.message_id}: {e}")
        self.stats.pushed += pushed
        if touched:  # the server's answer may carry teammates' keywords too
            await self.on_change(touched)
        return pushed

    async def run_after_pass(self, conn: ImapConnection) -> None:
        """The desk's after_pass (the rules) on this connection; what it queued (keywords,
        history events) reaches the server now."""
        if self.after_pass is None:
            return
        await self.after_pass(ClaimSession(self.store, self.account.name, conn))
        await self.push_changes(conn)
        await self._history(conn, read=False)  # what the rules did, for the team now

    async def _history(self, conn: ImapConnection, read: bool) -> None:
        """The History folder (sync.history_sync): read (`read`), then push. A server that
        refuses it is named in the stats; the mail sync goes on."""
        try:
            await (self.history.sync(conn) if read else self.history.push(conn))
        except ImapCommandError as e:
            log.warning("%s: History: %s", self.account.name, e)
            self.stats.errors += 1
            self.stats.error_lines.append(f"History: {e}")


def _body_batches(todo: list[PendingBody]) -> list[list[PendingBody]]:
    """Bodies to download, in FETCHes of up to BODY_BATCH_BYTES or BODY_BATCH_MAX messages."""
    batches: list[list[PendingBody]] = [[]]
    size = 0
    for entry in todo:
        if batches[-1] and (size >= BODY_BATCH_BYTES or len(batches[-1]) >= BODY_BATCH_MAX):
            batches.append([])
            size = 0
        batches[-1].append(entry)
        size += entry[2]
    return batches
