"""Merging conversations and splitting a message out, by hand: the SQL (desk.merge decides).

Everything here runs inside a transaction the caller holds, and returns a record of what moved
so the caller can put it back (undo). Records hold rowids and Message-IDs, never row objects.

Where a conversation's mail is: `messages.conv_id`. Where future mail goes: `thread_ids`, which
maps every Message-ID seen (as a message or only as a reference) to a conversation; ingest
joins a new message to every conversation its ids map to. So a merge points all thread keys
of the merged-away conversations at the kept one (then every later mail, and every re-ingest
of known mail, lands there), and a split points only the split message's own Message-ID at the
new conversation.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui_desk.store.db import SqlValue, Store, as_json_list, inserted_rowid
from tui_desk.store.ingest import _merge_into, resolve_conversation


@dataclass(frozen=True, slots=True)
class MergedAway:
    """One conversation folded into another, as it was just before."""
    conv_id: int
    row: dict[str, SqlValue]  # its conversations row, column -> value
    message_rowids: tuple[int, ...]
    thread_keys: tuple[str, ...]
    aliases: tuple[int, ...]  # conv_aliases.old_id that pointed at it
    outbox_ids: tuple[int, ...]
    draft_moved: bool  # its draft became the kept conversation's (which had none)


@dataclass(frozen=True, slots=True)
class SplitOut:
    message_rowid: int
    message_id: str
    from_conv: int
    new_conv: int


async def conversation_exists(store: Store, conv_id: int) -> bool:
    return await store.fetchone("SELECT 1 FROM conversations WHERE id=?", (conv_id,)) is not None


async def merged_into(store: Store, conv_id: int) -> int | None:
    """The conversation that exists now for an id (itself, or where merges took it)."""
    return await resolve_conversation(store, conv_id)


async def conversations_with_drafts(store: Store, conv_ids: list[int]) -> list[int]:
    rows = await store.fetchall("SELECT conv_id FROM drafts WHERE conv_id IN (SELECT value FROM json_each(?))"
                                " ORDER BY conv_id", (as_json_list(conv_ids),))
    return [r[0] for r in rows]


async def customers(store: Store, conv_ids: list[int]) -> dict[int, str]:
    """Each existing conversation's customer (its address as the store keys it; "" for none)."""
    rows = await store.fetchall("SELECT id, customer_key FROM conversations WHERE id IN"
                                " (SELECT value FROM json_each(?))", (as_json_list(conv_ids),))
    return {int(r[0]): str(r[1] or "") for r in rows}


async def set_draft_body(store: Store, conv_id: int, body_markdown: str) -> None:
    """The draft's text, the rest of it (when written, a refused send's error) as it was."""
    await store.execute("UPDATE drafts SET body_markdown=? WHERE conv_id=?", (body_markdown, conv_id))


async def merge_conversations(store: Store, keep: int, others: list[int]) -> list[MergedAway]:
    """Fold `others` into `keep`: messages, thread keys, tags (union), [#N] aliases, queued
    replies, and a draft when `keep` has none. The kept row's state is left for the caller."""
    records = []
    for other in others:
        row = await store.fetchone("SELECT * FROM conversations WHERE id=?", (other,))
        assert row is not None  # the caller checked that each one exists
        rowids = [r[0] for r in await store.fetchall("SELECT id FROM messages WHERE conv_id=? ORDER BY id", (other,))]
        keys = [r[0] for r in await store.fetchall("SELECT msgid FROM thread_ids WHERE conv_id=? ORDER BY msgid",
                                                   (other,))]
        aliases = [r[0] for r in await store.fetchall("SELECT old_id FROM conv_aliases WHERE new_id=? ORDER BY old_id",
                                                      (other,))]
        outbox_ids = [r[0] for r in await store.fetchall("SELECT id FROM outbox WHERE conv_id=? ORDER BY id", (other,))]
        draft_moved = False
        if not await conversations_with_drafts(store, [keep]):
            cur = await store.db.execute("UPDATE drafts SET conv_id=? WHERE conv_id=?", (keep, other))
            draft_moved = cur.rowcount > 0
        await store.execute("UPDATE outbox SET conv_id=? WHERE conv_id=?", (keep, other))
        # the same fold ingest does when a message links two conversations
        await _merge_into(store, other, keep)
        records.append(MergedAway(other, dict(row), tuple(rowids), tuple(keys), tuple(aliases),
                                  tuple(outbox_ids), draft_moved))
    return records


async def unmerge(store: Store, keep: int, record: MergedAway) -> int:
    """Bring a merged-away conversation back: its row (under its old id unless that id was
    given out again since), and whatever of its messages, thread keys, aliases, queued replies
    and draft is still with `keep`. Mail that arrived after the merge stays with `keep`.
    Returns the id it has now. Tags and state are the caller's."""
    conv_id = record.conv_id
    if await conversation_exists(store, conv_id):
        cur = await store.db.execute("INSERT INTO conversations(status) VALUES ('open')")
        conv_id = inserted_rowid(cur)
    row = dict(record.row, id=conv_id)
    columns = list(row)
    if conv_id == record.conv_id:
        await store.execute(
            f"INSERT INTO conversations({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [row[c] for c in columns])
    else:
        await store.execute(
            f"UPDATE conversations SET {', '.join(f'{c}=?' for c in columns if c != 'id')} WHERE id=?",
            [row[c] for c in columns if c != "id"] + [conv_id])
    await store.execute("UPDATE messages SET conv_id=? WHERE conv_id=? AND id IN (SELECT value FROM json_each(?))",
                        (conv_id, keep, as_json_list(record.message_rowids)))
    await store.execute("UPDATE thread_ids SET conv_id=? WHERE conv_id=? AND msgid IN (SELECT value FROM json_each(?))",
                        (conv_id, keep, as_json_list(record.thread_keys)))
    await store.execute("DELETE FROM conv_aliases WHERE old_id=?", (conv_id,))
    if conv_id != record.conv_id:  # [#old] markers find it under its new id
        await store.execute("INSERT OR REPLACE INTO conv_aliases(old_id, new_id) VALUES (?, ?)",
                            (record.conv_id, conv_id))
    await store.execute("UPDATE conv_aliases SET new_id=? WHERE new_id=? AND old_id IN (SELECT value FROM json_each(?))",
                        (conv_id, keep, as_json_list(record.aliases)))
    await store.execute("UPDATE outbox SET conv_id=? WHERE conv_id=? AND id IN (SELECT value FROM json_each(?))",
                        (conv_id, keep, as_json_list(record.outbox_ids)))
    if record.draft_moved and not await conversations_with_drafts(store, [conv_id]):
        await store.execute("UPDATE drafts SET conv_id=? WHERE conv_id=?", (conv_id, keep))
    return conv_id


async def find_message(store: Store, message: int | str) -> tuple[int, str, int, bool] | None:
    """(rowid, Message-ID, conversation, is a note) of a message given by rowid or Message-ID
    (with or without angle brackets)."""
    if isinstance(message, int):
        row = await store.fetchone("SELECT id, message_id, conv_id, is_note FROM messages WHERE id=?", (message,))
    else:
        row = await store.fetchone("SELECT id, message_id, conv_id, is_note FROM messages WHERE message_id=?",
                                   (message.strip().removeprefix("<").removesuffix(">"),))
    return (row[0], row[1], row[2], bool(row[3])) if row else None


async def other_mail_count(store: Store, conv_id: int, rowid: int) -> int:
    """Messages of the conversation other than this one, notes not counted."""
    return await store.fetch_int("SELECT count(*) FROM messages WHERE conv_id=? AND id!=? AND is_note=0",
                                 (conv_id, rowid))


async def split_message(store: Store, rowid: int) -> SplitOut:
    """Move one message into a new conversation of its own, with its own Message-ID's thread
    key (mail referring to it alone follows it there). Ids it only refers to stay put."""
    row = await store.fetchone("SELECT message_id, conv_id FROM messages WHERE id=?", (rowid,))
    assert row is not None  # the caller found the message (find_message)
    message_id: str = row[0]
    from_conv: int = row[1]
    cur = await store.db.execute("INSERT INTO conversations(status) VALUES ('open')")
    new_conv = inserted_rowid(cur)
    await store.execute("UPDATE messages SET conv_id=? WHERE id=?", (new_conv, rowid))
    await store.execute("UPDATE thread_ids SET conv_id=? WHERE msgid=?", (new_conv, message_id))
    return SplitOut(rowid, message_id, from_conv, new_conv)


async def unsplit(store: Store, record: SplitOut) -> int | None:
    """Undo a split: the new conversation, with anything that has reached it since, folds
    back into the one the message came from (or where merges took that). Returns that
    conversation, or None when it no longer exists."""
    home = await resolve_conversation(store, record.from_conv)
    if home is None:
        return None
    where = await store.fetch_int("SELECT conv_id FROM messages WHERE id=?", (record.message_rowid,))
    if where == home:  # mail linking both sides has joined them again already
        return home
    if where == record.new_conv:
        alone = await store.fetch_int("SELECT count(*) FROM messages WHERE conv_id=?", (where,)) == 1
        if not await conversations_with_drafts(store, [home]):
            await store.execute("UPDATE drafts SET conv_id=? WHERE conv_id=?", (home, where))
        await store.execute("UPDATE outbox SET conv_id=? WHERE conv_id=?", (home, where))
        await _merge_into(store, where, home)
        if alone:  # no reply can carry its [#N] marker: leave no trace
            await store.execute("DELETE FROM conv_aliases WHERE old_id=?", (where,))
    else:  # the new conversation was merged elsewhere since: take back only the message
        await store.execute("UPDATE messages SET conv_id=? WHERE id=?", (home, record.message_rowid))
        await store.execute("UPDATE thread_ids SET conv_id=? WHERE msgid=? AND conv_id=?",
                            (home, record.message_id, where))
    return home
