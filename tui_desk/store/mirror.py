"""The IMAP mirror: which message sits at which folder/UID with which flags, per account."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from tui_desk.store.db import Store, as_json_list


@dataclass(slots=True)
class FolderState:
    id: int
    account: str
    name: str
    role: str
    uidvalidity: int | None
    highestmodseq: int | None
    synced_uid: int


async def folder_state(store: Store, account: str, name: str, role: str) -> FolderState:
    await store.execute("INSERT OR IGNORE INTO folders(account, name, role) VALUES (?, ?, ?)", (account, name, role))
    r = await store.fetchone("SELECT * FROM folders WHERE account=? AND name=?", (account, name))
    assert r is not None  # made just above if it was not there
    return FolderState(r["id"], r["account"], r["name"], r["role"], r["uidvalidity"], r["highestmodseq"],
                       r["synced_uid"])


async def has_synced(store: Store, account: str) -> bool:
    """Whether headers of any folder of the account were stored (if not, a sync is a first one)."""
    return await store.fetchone("SELECT 1 FROM folders WHERE account=? AND synced_uid > 0 LIMIT 1",
                                (account,)) is not None


async def reset_folder(store: Store, folder_id: int, uidvalidity: int) -> None:
    """UIDVALIDITY changed: every UID we knew is meaningless. Messages stay (re-matched by
    Message-ID as the folder is fetched again), so tags, notes and status are kept."""
    await store.execute("DELETE FROM imap_messages WHERE folder_id=?", (folder_id,))
    await store.execute("UPDATE folders SET uidvalidity=?, highestmodseq=NULL, synced_uid=0 WHERE id=?",
                        (uidvalidity, folder_id))


async def set_folder_progress(store: Store, folder_id: int, *, uidvalidity: int | None = None,
                              synced_uid: int | None = None, highestmodseq: int | None = None) -> None:
    if uidvalidity is not None:
        await store.execute("UPDATE folders SET uidvalidity=? WHERE id=?", (uidvalidity, folder_id))
    if synced_uid is not None:
        await store.execute("UPDATE folders SET synced_uid=max(synced_uid, ?) WHERE id=?", (synced_uid, folder_id))
    if highestmodseq is not None:
        await store.execute("UPDATE folders SET highestmodseq=? WHERE id=?", (highestmodseq, folder_id))


async def map_uids(store: Store, folder_id: int, rows: list[tuple[int, int, str, int | None, int | None]]) -> None:
    """rows: (uid, message rowid, flags, modseq, size)."""
    await store.executemany(
        "INSERT OR REPLACE INTO imap_messages(folder_id, uid, message_id, flags, modseq, size)"
        " VALUES (?, ?, ?, ?, ?, ?)", [(folder_id, *r) for r in rows])


async def known_uids(store: Store, folder_id: int) -> dict[int, str]:
    rows = await store.fetchall("SELECT uid, flags FROM imap_messages WHERE folder_id=?", (folder_id,))
    return {r[0]: r[1] for r in rows}


async def update_flags(store: Store, folder_id: int, changes: list[tuple[int, str, int | None]]) -> list[int]:
    """changes: (uid, flags, modseq). Returns the conversations touched."""
    await store.executemany(
        "UPDATE imap_messages SET flags=?, modseq=coalesce(?, modseq) WHERE folder_id=? AND uid=?",
        [(flags, modseq, folder_id, uid) for uid, flags, modseq in changes])
    return await _conversations_at(store, folder_id, [c[0] for c in changes])


async def _conversations_at(store: Store, folder_id: int, uids: list[int]) -> list[int]:
    rows = await store.fetchall(
        "SELECT DISTINCT m.conv_id FROM imap_messages i JOIN messages m ON m.id = i.message_id"
        " WHERE i.folder_id=? AND i.uid IN (SELECT value FROM json_each(?))", (folder_id, as_json_list(uids)))
    return [r[0] for r in rows]


async def forget_uids(store: Store, folder_id: int, uids: list[int]) -> set[int]:
    """Expunged on the server. A message no folder holds any more leaves the store.
    Returns the conversations touched (some may now be gone)."""
    convs = set(await _conversations_at(store, folder_id, uids))
    rowids = [r[0] for r in await store.fetchall(
        "SELECT message_id FROM imap_messages WHERE folder_id=? AND uid IN (SELECT value FROM json_each(?))",
        (folder_id, as_json_list(uids)))]
    await store.execute("DELETE FROM imap_messages WHERE folder_id=? AND uid IN (SELECT value FROM json_each(?))",
                        (folder_id, as_json_list(uids)))
    await remove_unmapped_messages(store, rowids)
    return convs


async def remove_unmapped_messages(store: Store, rowids: list[int]) -> None:
    orphans = [r[0] for r in await store.fetchall(
        "SELECT id FROM messages WHERE id IN (SELECT value FROM json_each(?))"
        " AND NOT EXISTS (SELECT 1 FROM imap_messages i WHERE i.message_id = messages.id)",
        (as_json_list(rowids),))]
    if not orphans:
        return
    ids = as_json_list(orphans)
    await store.execute("DELETE FROM messages_fts WHERE rowid IN (SELECT value FROM json_each(?))", (ids,))
    await store.execute("DELETE FROM raw_messages WHERE id IN (SELECT value FROM json_each(?))", (ids,))
    await store.execute("DELETE FROM messages WHERE id IN (SELECT value FROM json_each(?))", (ids,))
    await store.execute("DELETE FROM conversations WHERE message_count > 0 AND NOT EXISTS"
                        " (SELECT 1 FROM messages m WHERE m.conv_id = conversations.id)")


async def drop_unmapped_from(store: Store, source: str) -> tuple[int, set[int]]:
    """After a UIDVALIDITY reset and a full re-fetch: mail from `source` that no folder holds any
    more leaves the store. Returns (messages removed, conversations touched)."""
    rowids = [r[0] for r in await store.fetchall(
        "SELECT id FROM messages WHERE source = ? AND NOT EXISTS"
        " (SELECT 1 FROM imap_messages i WHERE i.message_id = messages.id)", (source,))]
    if not rowids:
        return 0, set()
    convs = {r[0] for r in await store.fetchall(
        "SELECT DISTINCT conv_id FROM messages WHERE id IN (SELECT value FROM json_each(?))",
        (as_json_list(rowids),))}
    await remove_unmapped_messages(store, rowids)
    return len(rowids), convs


async def raw_by_message_id(store: Store, message_id: str) -> bytes | None:
    row = await store.fetchone(
        "SELECT r.data FROM raw_messages r JOIN messages m ON m.id = r.id WHERE m.message_id=?", (message_id,))
    return zlib.decompress(row[0]) if row else None


async def raw_by_rowid(store: Store, rowid: int) -> bytes | None:
    row = await store.fetchone("SELECT data FROM raw_messages WHERE id=?", (rowid,))
    return zlib.decompress(row[0]) if row else None


async def raws_by_rowid(store: Store, rowids: list[int]) -> dict[int, bytes]:
    """raw_by_rowid for many messages in one query (those without raw bytes are left out)."""
    rows = await store.fetchall("SELECT id, data FROM raw_messages WHERE id IN (SELECT value FROM json_each(?))",
                                (as_json_list(rowids),))
    return {r[0]: zlib.decompress(r[1]) for r in rows}


async def pending_bodies(store: Store, folder_id: int, max_size: int) -> list[tuple[int, int, int, bool]]:
    """(uid, message rowid, size, clean) of header-only messages small enough to download,
    oldest UID first. clean: the stored header record lists no defects and is this copy's (the
    message has no other copy on the server, whose header block may be another)."""
    rows = await store.fetchall(
        "SELECT i.uid, i.message_id, coalesce(i.size, 0), m.defects_json = '[]'"
        " AND (SELECT count(*) FROM imap_messages j WHERE j.message_id = i.message_id) = 1"
        " FROM imap_messages i JOIN messages m ON m.id = i.message_id"
        " WHERE i.folder_id=? AND m.body_state='headers' AND coalesce(i.size, 0) <= ? ORDER BY i.uid",
        (folder_id, max_size))
    return [(r[0], r[1], r[2], bool(r[3])) for r in rows]


async def locations_of(store: Store, account: str, message_id: str) -> list[tuple[str, int, str]]:
    """(folder name, uid, flags) where this Message-ID sits in the account's folders."""
    rows = await store.fetchall(
        "SELECT f.name, i.uid, i.flags FROM imap_messages i JOIN folders f ON f.id = i.folder_id"
        " JOIN messages m ON m.id = i.message_id WHERE f.account=? AND m.message_id=? ORDER BY f.name, i.uid",
        (account, message_id))
    return [(r[0], r[1], r[2]) for r in rows]


async def conversation_copies(store: Store, conv_ids: list[int]) -> list[tuple[int, str, str, str, int | None, int | None]]:
    """(conv id, account, Message-ID, flags, modseq, date) for every server copy of the conversations' mail."""
    rows = await store.fetchall(
        "SELECT m.conv_id, f.account, m.message_id, i.flags, i.modseq, m.date FROM messages m"
        " JOIN imap_messages i ON i.message_id = m.id JOIN folders f ON f.id = i.folder_id"
        " WHERE m.conv_id IN (SELECT value FROM json_each(?))", (as_json_list(conv_ids),))
    return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]


async def copies_with_keyword(store: Store, keyword: str) -> list[tuple[str, str]]:
    """(account, Message-ID) of every server copy carrying this keyword (case-insensitive)."""
    rows = await store.fetchall(
        "SELECT DISTINCT f.account, m.message_id, i.flags FROM imap_messages i JOIN folders f ON f.id = i.folder_id"
        " JOIN messages m ON m.id = i.message_id WHERE instr(lower(i.flags), ?) > 0", (keyword.lower(),))
    return sorted({(r[0], r[1]) for r in rows if keyword.lower() in r[2].lower().split()})


async def queue_copies_since(store: Store, account: str, since: int
                             ) -> list[tuple[str, int, str, int, int | None, str, int | None]]:
    """(folder, UID, Message-ID, conv id, date, flags, modseq) of every copy in the account's
    queue folders of mail from customers (not an agent's, not a note) dated `since` or later,
    oldest first: the mail rules may run on (sync.claims)."""
    rows = await store.fetchall(
        "SELECT f.name, i.uid, m.message_id, m.conv_id, m.date, i.flags, i.modseq FROM imap_messages i"
        " JOIN folders f ON f.id = i.folder_id JOIN messages m ON m.id = i.message_id"
        " WHERE f.account = ? AND f.role = 'queue' AND m.is_agent = 0 AND m.is_note = 0 AND m.date >= ?"
        " ORDER BY m.date, m.id, f.name", (account, since))
    return [(r[0], int(r[1]), r[2], int(r[3]), r[4], r[5], r[6]) for r in rows]
