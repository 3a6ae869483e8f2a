"""Reads and summary writes the desk needs. One query per question."""

from __future__ import annotations

import json
import sqlite3
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator, Iterable

from tui_desk.store.db import SqlValue, Store, StoreReads, as_json_list


@asynccontextmanager
async def marking_dirty_itself(store: Store) -> AsyncIterator[None]:
    """Inside: the triggers that mark conv_dirty per row of messages and conversations (cm_msg_in,
    cm_conv_up) skip, because the writer marks the conversations it changes itself, one statement
    for a batch (schema 15: per row they were most of a first sync's writes). Only inside a
    transaction: the switch (a row of conv_dirty_batch) is never committed, so every other
    connection, in any process, always has the triggers."""
    if not store.db.in_transaction:
        raise RuntimeError("marking_dirty_itself outside a transaction")
    await store.execute("INSERT INTO conv_dirty_batch(writer) VALUES (1)")
    try:
        yield
    finally:  # also when the caller goes on in its transaction after an error inside
        await store.execute("DELETE FROM conv_dirty_batch")


async def mark_dirty(store: Store, conv_ids: Iterable[int]) -> None:
    """conv_dirty for these conversations (a newer seq: what was read before is stale)."""
    await store.execute("INSERT OR REPLACE INTO conv_dirty(conv_id) SELECT DISTINCT value FROM json_each(?)",
                        (as_json_list(conv_ids),))


# what every thank-you desk.thanks recognises holds (a test keeps the two together): the body
# phase reads again only conversations whose new customer mail may be one (ingest.replace_bodies)
THANKS_STEMS = ("thank", "thx", "cheers", "apprecia", "danke", "merci", "gracias", "grazie", "спасибо", "спс",
                "благодар", "谢谢", "感谢", "多谢", "谢了", "ありがとう")
EXCERPT_CHARS = 500  # own words of a thank-you (desk.thanks.MAX_OWN_CHARS 200), the quote's first lines after them
# the text desk.thanks judges, of a customer's own mail (not a note, not automatic): the same
# excerpt for the queue (message_facts) and the reports (report_cache.sources), so one verdict
CUSTOMER_EXCERPT = (f"CASE WHEN is_agent = 0 AND is_note = 0 AND auto_submitted = 0 THEN substr(body, 1, {EXCERPT_CHARS})"
                    " END")


@dataclass(frozen=True, slots=True)
class MessageFact:
    """What the desk needs per message to work out a conversation's state."""
    conv_id: int
    date: int | None
    is_agent: bool
    auto_submitted: bool
    sender_key: str
    sender_name: str
    subject: str
    message_id: str = ""  # as stored (store.ingest.wire_message_id gives the mail's own)
    excerpt: str = ""  # a customer's own mail: its text's first EXCERPT_CHARS (desk.thanks reads it)


@dataclass(slots=True)
class ConversationSummary:
    id: int
    subject: str = ""
    customer_name: str = ""
    customer_key: str = ""
    status: str = "open"
    message_count: int = 0
    first_date: int | None = None
    last_date: int | None = None
    last_customer_date: int | None = None
    last_agent_date: int | None = None
    waiting_since: int | None = None
    burst: int = 0
    rank: float = 0.0
    snooze_until: int | None = None  # carried through: a customer mail ends a snooze
    snooze_reply: bool = False
    woke_at: int | None = None


_EVERY = "SELECT id FROM conversations"  # conv_ids None: the whole store, without a 100k-long list


def _ids_clause(conv_ids: list[int] | None) -> tuple[str, tuple[str, ...]]:
    if conv_ids is None:
        return _EVERY, ()
    return "SELECT value FROM json_each(?)", (as_json_list(conv_ids),)


async def message_facts(store: Store, conv_ids: list[int] | None) -> dict[int, list[MessageFact]]:
    ids, params = _ids_clause(conv_ids)
    # (date is NULL only in mail stored before the store fell back to the arrival time)
    rows = await store.fetchall(
        "SELECT conv_id, coalesce(date, added_at), is_agent, auto_submitted, sender_key, sender_name, subject,"
        f" message_id, {CUSTOMER_EXCERPT} FROM messages WHERE conv_id IN ({ids}) AND is_note = 0"
        " ORDER BY conv_id, coalesce(date, added_at), id", params)
    out: dict[int, list[MessageFact]] = {c: [] for c in conv_ids or ()}
    for r in rows:
        out.setdefault(r[0], []).append(MessageFact(r[0], r[1], bool(r[2]), bool(r[3]), r[4], r[5], r[6], r[7],
                                                    r[8] or ""))
    return out


async def last_answer_names(store: StoreReads, conv_ids: list[int]) -> dict[int, str]:
    """Who wrote each conversation's newest agent mail (not a note, not automatic): its sender's
    name, else address, as the mail has it (unsanitized)."""
    rows = await store.fetchall(
        "SELECT conv_id, coalesce(nullif(sender_name, ''), sender_key) FROM messages m"
        " WHERE conv_id IN (SELECT value FROM json_each(?)) AND is_agent = 1 AND is_note = 0 AND auto_submitted = 0"
        " ORDER BY conv_id, coalesce(date, added_at), id", (as_json_list(conv_ids),))
    return {r[0]: r[1] or "" for r in rows}  # the newest last


# the start of the defect store.ingest adds when it does not believe a Date field
DATE_CORRECTED = "date corrected: "


async def date_corrections(store: StoreReads, conv_ids: list[int]) -> dict[int, list[str]]:
    """The date-corrected defects of the conversations' mail, oldest mail first."""
    marker = DATE_CORRECTED
    rows = await store.fetchall(
        "SELECT conv_id, defects_json FROM messages WHERE conv_id IN (SELECT value FROM json_each(?))"
        " AND is_note = 0 AND instr(defects_json, ?) > 0 ORDER BY conv_id, date, id",
        (as_json_list(conv_ids), marker))
    out: dict[int, list[str]] = {}
    for r in rows:
        out.setdefault(r[0], []).extend(d for d in json.loads(r[1]) if d.startswith(marker))
    return out


@dataclass(slots=True)
class ConvState:
    """What agents set on a conversation (as opposed to what its messages say)."""
    status: str = "open"
    status_set_at: int | None = None  # None: status follows the mail (open/pending)
    assignee: str | None = None
    snooze_until: int | None = None
    snooze_reply: bool = False
    snooze_set_at: int | None = None
    woke_at: int | None = None
    tags: tuple[str, ...] = ()


async def waiting_for_answer(store: Store, conv_ids: list[int]) -> list[int]:
    """Those of the conversations whose customer waits for an answer (waiting_since set)."""
    ids, params = _ids_clause(conv_ids)
    rows = await store.fetchall(f"SELECT id FROM conversations WHERE id IN ({ids}) AND waiting_since IS NOT NULL"
                                " ORDER BY id", params)
    return [int(r[0]) for r in rows]


async def conversation_states(store: Store, conv_ids: list[int] | None) -> dict[int, ConvState]:
    ids, params = _ids_clause(conv_ids)
    rows = await store.fetchall(
        "SELECT id, status, status_set_at, assignee, snooze_until, snooze_reply, snooze_set_at, woke_at"
        f" FROM conversations WHERE id IN ({ids})", params)
    tags = await tags_of(store, conv_ids)
    return {r[0]: ConvState(r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7], tags.get(r[0], ())) for r in rows}


async def write_states(store: Store, states: dict[int, ConvState]) -> None:
    await store.executemany(
        "UPDATE conversations SET status=?, status_set_at=?, assignee=?, snooze_until=?, snooze_reply=?,"
        " snooze_set_at=?, woke_at=? WHERE id=?",
        [(s.status, s.status_set_at, s.assignee, s.snooze_until, int(s.snooze_reply), s.snooze_set_at,
          s.woke_at, cid) for cid, s in states.items()])
    ids = as_json_list(states)
    await store.execute("DELETE FROM tags WHERE conv_id IN (SELECT value FROM json_each(?))", (ids,))
    await store.executemany("INSERT INTO tags(conv_id, tag) VALUES (?, ?)",
                            [(cid, t) for cid, s in states.items() for t in sorted(set(s.tags))])


async def write_summaries(store: Store, summaries: list[ConversationSummary]) -> None:
    """In a transaction. A conversation whose customer changes is marked dirty (its metrics
    are per customer), as cm_conv_up would, but in one statement."""
    await store.execute(
        "INSERT OR REPLACE INTO conv_dirty(conv_id) SELECT c.id FROM json_each(?) j"
        " JOIN conversations c ON c.id = json_extract(j.value, '$[0]')"
        " WHERE c.customer_key IS NOT json_extract(j.value, '$[1]')",
        (json.dumps([[s.id, s.customer_key] for s in summaries], ensure_ascii=False),))
    async with marking_dirty_itself(store):
        await _write_summaries(store, summaries)


async def _write_summaries(store: Store, summaries: list[ConversationSummary]) -> None:
    await store.executemany(
        "UPDATE conversations SET subject=?, customer_name=?, customer_key=?, status=?, message_count=?,"
        " first_date=?, last_date=?, last_customer_date=?, last_agent_date=?, waiting_since=?, burst=?,"
        " rank=?, snooze_until=?, snooze_reply=?, woke_at=? WHERE id=?",
        [(s.subject, s.customer_name, s.customer_key, s.status, s.message_count, s.first_date,
          s.last_date, s.last_customer_date, s.last_agent_date, s.waiting_since, s.burst, s.rank,
          s.snooze_until, int(s.snooze_reply), s.woke_at, s.id)
         for s in summaries],
    )


async def first_of_burst(store: StoreReads, conv_id: int, customer_key: str, rank: float) -> int | None:
    """The customer's open conversation ranked first within a second ahead of ``rank``: the one
    desk.priority.rank_customer_bursts keeps ``conv_id`` next to (its burst is ranks 1 ms apart)."""
    row = await store.fetchone(
        "SELECT id FROM conversations WHERE customer_key = ? AND +status = 'open' AND id != ?"
        " AND rank >= ? AND rank < ? ORDER BY rank, id LIMIT 1", (customer_key, conv_id, rank - 1, rank))
    return None if row is None else int(row[0])


async def open_conversations_of_customers(store: Store, customer_keys: list[str]) -> list[int]:
    rows = await store.fetchall(
        # +status: keep SQLite on the customer index; the covering queue index would walk every open row
        "SELECT id FROM conversations WHERE customer_key IN (SELECT value FROM json_each(?))"
        " AND +status = 'open'", (as_json_list(set(customer_keys)),))
    return [r[0] for r in rows]


async def mail_for_acknowledgement(store: StoreReads, message_ids: list[str]) -> dict[str, sqlite3.Row]:
    """message_id -> (subject, body, in_reply_to, refs_json) of these messages: what the
    acknowledgement reads of a new conversation's first mail (desk.rules.acknowledge)."""
    rows = await store.fetchall(
        "SELECT message_id, subject, body, in_reply_to, refs_json FROM messages"
        " WHERE message_id IN (SELECT value FROM json_each(?))", (as_json_list(set(message_ids)),))
    return {r["message_id"]: r for r in rows}


async def conversations_of_customers(store: StoreReads, customer_keys: list[str], since: int) -> list[sqlite3.Row]:
    """(id, customer_key, subject, last_date) of these customers' conversations with mail since `since`."""
    return await store.fetchall(
        "SELECT id, customer_key, subject, last_date FROM conversations"
        " WHERE customer_key IN (SELECT value FROM json_each(?)) AND last_date >= ?",
        (as_json_list(set(customer_keys)), since))


async def waiting_longer(store: StoreReads, since: float, conv_id: int, now: int) -> int:
    """How many open conversations, not snoozed at `now`, have had a customer waiting since
    before `since` (conv_id left out): answered before one waiting since then."""
    row = await store.fetchone(
        "SELECT count(*) FROM conversations WHERE status = 'open' AND waiting_since IS NOT NULL"
        " AND waiting_since < ? AND id != ? AND snooze_reply = 0 AND (snooze_until IS NULL OR snooze_until <= ?)",
        (since, conv_id, now))
    return int(row[0]) if row else 0


async def senders_to_classify(store: Store) -> list[tuple[int, str, int]]:
    """(rowid, sender_key, is_agent) of mail whose is_agent follows the sender's address: not
    notes, not our outbox's, not mail filed in a Sent or Notes folder (ours by where it is)."""
    rows = await store.fetchall(
        "SELECT m.id, m.sender_key, m.is_agent FROM messages m WHERE m.is_note = 0"
        " AND m.source NOT LIKE 'outbox:%' AND NOT EXISTS (SELECT 1 FROM imap_messages i"
        " JOIN folders f ON f.id = i.folder_id WHERE i.message_id = m.id AND f.role IN ('sent', 'notes'))")
    return [(r[0], r[1], r[2]) for r in rows]


async def set_is_agent(store: Store, changes: list[tuple[int, int]]) -> set[int]:
    """changes: (is_agent, rowid). Returns the conversations touched."""
    await store.executemany("UPDATE messages SET is_agent=? WHERE id=?", changes)
    rows = await store.fetchall("SELECT DISTINCT conv_id FROM messages WHERE id IN (SELECT value FROM json_each(?))",
                                (as_json_list(r for _, r in changes),))
    return {r[0] for r in rows}


async def rank_inputs(store: Store) -> list[ConversationSummary]:
    """Every conversation's stored summary fields that its rank depends on, with rank and burst."""
    rows = await store.fetchall("SELECT id, subject, customer_key, status, waiting_since, last_date, burst, rank"
                                " FROM conversations")
    return [ConversationSummary(id=r[0], subject=r[1], customer_key=r[2], status=r[3], waiting_since=r[4],
                                last_date=r[5], burst=r[6], rank=r[7]) for r in rows]


async def write_ranks(store: Store, ranks: list[tuple[float, int, int]]) -> None:
    """(rank, burst, conversation id)."""
    await store.executemany("UPDATE conversations SET rank=?, burst=? WHERE id=?", ranks)


async def set_status(store: Store, conv_ids: list[int], status: str, at: int) -> None:
    await store.execute(
        "UPDATE conversations SET status=?, status_set_at=? WHERE id IN (SELECT value FROM json_each(?))",
        (status, at, as_json_list(conv_ids)))


async def last_active_before(store: Store, before: int) -> list[int]:
    return [r[0] for r in await store.fetchall("SELECT id FROM conversations WHERE last_date < ?", (before,))]


async def all_conversation_ids(store: Store) -> list[int]:
    return [r[0] for r in await store.fetchall("SELECT id FROM conversations")]


async def queue_ids(store: Store, statuses: tuple[str, ...] = ("open",), now: int | None = None) -> list[int]:
    """Conversation ids in answer-next order (rank is time-invariant, so this is one index scan)."""
    ids: list[int] = []
    for status in statuses:  # one index range each; the queue is normally one status
        ids += (await queue_list(store, now if now is not None else 2**62, status))[0]
    return ids


async def open_conversation_rows(store: Store) -> dict[int, sqlite3.Row]:
    """Every open conversation's row with the columns its SLA depends on, its tags (space
    separated) among them: desk.rules.timed reads them each minute, so one index range and no
    other query."""
    rows = await store.fetchall(
        "SELECT id, status, last_date, waiting_since, snooze_until, snooze_reply, status_set_at, assignee,"
        " customer_key, (SELECT group_concat(t.tag, ' ') FROM tags t WHERE t.conv_id = c.id) AS tags"
        " FROM conversations c WHERE status = 'open'")
    return {r[0]: r for r in rows}


async def conversation_rows(store: StoreReads, conv_ids: list[int], undo_window: int = 10) -> dict[int, sqlite3.Row]:
    """The conversations' rows, with `has_draft` and `scheduled_at`: the first queued reply
    sent later than its undo window (`undo_window` seconds after it was queued), i.e. a
    send-later one. Drafts by primary key, queued replies by the outbox's state index."""
    rows = await store.fetchall(
        "SELECT c.*, EXISTS (SELECT 1 FROM drafts d WHERE d.conv_id = c.id) AS has_draft,"
        " (SELECT min(o.send_at) FROM outbox o WHERE o.state = 'queued' AND o.conv_id = c.id"
        "  AND o.send_at > o.created_at + ?) AS scheduled_at"
        " FROM conversations c WHERE c.id IN (SELECT value FROM json_each(?))", (undo_window, as_json_list(conv_ids))
    )
    return {r["id"]: r for r in rows}


async def tags_of(store: StoreReads, conv_ids: list[int] | None) -> dict[int, tuple[str, ...]]:
    ids, params = _ids_clause(conv_ids)
    rows = await store.fetchall(f"SELECT conv_id, tag FROM tags WHERE conv_id IN ({ids}) ORDER BY tag", params)
    out: dict[int, list[str]] = {}
    for r in rows:
        out.setdefault(r[0], []).append(r[1])
    return {k: tuple(v) for k, v in out.items()}


async def conversation_counts_by_customer(store: StoreReads, customer_keys: list[str]) -> dict[str, int]:
    rows = await store.fetchall(
        "SELECT customer_key, count(*) FROM conversations"
        " WHERE customer_key IN (SELECT value FROM json_each(?)) GROUP BY customer_key",
        (as_json_list(set(customer_keys)),),
    )
    return {r[0]: r[1] for r in rows}


async def customer_conversations(store: Store, customer_key: str, domain: str | None, exclude: int,
                                 limit: int = 20) -> list[sqlite3.Row]:
    """The customer's other conversations, and with `domain` their colleagues' too; newest first."""
    params: tuple[SqlValue, ...]
    if domain:
        sql = ("SELECT id, subject, status, last_date, customer_key FROM conversations"
               " WHERE (customer_key = ? OR customer_key LIKE ?) AND id != ? ORDER BY last_date DESC LIMIT ?")
        params = (customer_key, "%@" + domain.replace("%", "").replace("_", "\\_"), exclude, limit)
        sql = sql.replace("LIKE ?", "LIKE ? ESCAPE '\\'")
    else:
        sql = ("SELECT id, subject, status, last_date, customer_key FROM conversations"
               " WHERE customer_key = ? AND id != ? ORDER BY last_date DESC LIMIT ?")
        params = (customer_key, exclude, limit)
    return await store.fetchall(sql, params)


async def tag_names(store: Store) -> list[str]:
    """Every tag in use, the most used first."""
    return [r[0] for r in await store.fetchall("SELECT tag FROM tags GROUP BY tag ORDER BY count(*) DESC, tag")]


async def assignees(store: Store) -> list[str]:
    return [r[0] for r in await store.fetchall(
        "SELECT DISTINCT assignee FROM conversations WHERE assignee IS NOT NULL")]


async def agents_seen(store: Store) -> tuple[list[str], list[str]]:
    """(assignees and authors of internal notes, the flags of server copies that carry a
    td:replying: keyword): the agents this store has seen at work."""
    names = [r[0] for r in await store.fetchall(
        "SELECT assignee FROM conversations WHERE assignee IS NOT NULL"
        " UNION SELECT sender_name FROM messages WHERE is_note = 1 AND sender_name != ''")]
    flags = [r[0] for r in await store.fetchall(
        "SELECT DISTINCT flags FROM imap_messages WHERE flags LIKE '%td:replying:%'")]
    return names, flags


async def messages_of(store: Store, conv_id: int) -> list[sqlite3.Row]:
    return await store.fetchall(
        "SELECT * FROM messages WHERE conv_id=? ORDER BY coalesce(date, added_at), id", (conv_id,)
    )


async def mail_of_conversations(store: Store, conv_ids: list[int]) -> dict[int, list[sqlite3.Row]]:
    """messages_of for many conversations in one query, notes left out: each message's id,
    conv_id, message_id, sender_key, date, is_agent and auto_submitted, in the same order (a rules batch)."""
    rows = await store.fetchall(
        "SELECT id, conv_id, message_id, sender_key, date, is_agent, auto_submitted FROM messages"
        " WHERE conv_id IN (SELECT value FROM json_each(?)) AND is_note = 0"
        " ORDER BY conv_id, coalesce(date, added_at), id", (as_json_list(conv_ids),))
    out: dict[int, list[sqlite3.Row]] = {}
    for r in rows:
        out.setdefault(r["conv_id"], []).append(r)
    return out


async def thread_message_ids(store: Store) -> dict[int, list[str]]:
    rows = await store.fetchall("SELECT conv_id, message_id FROM messages ORDER BY conv_id, date, id")
    out: dict[int, list[str]] = {}
    for r in rows:
        out.setdefault(r[0], []).append(r[1])
    return out


async def counts(store: Store) -> tuple[int, int]:
    m = await store.fetch_int("SELECT count(*) FROM messages")
    c = await store.fetch_int("SELECT count(*) FROM conversations")
    return m, c


# --- the queue kept up to date (desk.queue_ids): what moved on this connection -----------------
# Temporary triggers note each conversation this connection inserts, deletes, or whose status,
# rank or snooze changes, whatever wrote it (an action, a rule, a merge, the sync in this
# process). Nothing goes to the file; other connections' commits are not seen (data_version).
_QUEUE_MOVES = (
    "CREATE TEMP TABLE IF NOT EXISTS queue_moved(id INTEGER PRIMARY KEY)",
    "CREATE TEMP TRIGGER IF NOT EXISTS queue_moved_in AFTER INSERT ON main.conversations"
    " BEGIN INSERT OR IGNORE INTO queue_moved VALUES (NEW.id); END",
    "CREATE TEMP TRIGGER IF NOT EXISTS queue_moved_del AFTER DELETE ON main.conversations"
    " BEGIN INSERT OR IGNORE INTO queue_moved VALUES (OLD.id); END",
    "CREATE TEMP TRIGGER IF NOT EXISTS queue_moved_up AFTER UPDATE OF id, status, rank, snooze_until, snooze_reply"
    " ON main.conversations WHEN OLD.id IS NOT NEW.id OR OLD.status IS NOT NEW.status OR OLD.rank IS NOT NEW.rank"
    " OR OLD.snooze_until IS NOT NEW.snooze_until OR OLD.snooze_reply IS NOT NEW.snooze_reply"
    " BEGIN INSERT OR IGNORE INTO queue_moved VALUES (OLD.id); INSERT OR IGNORE INTO queue_moved VALUES (NEW.id); END",
)


async def watch_queue_moves(store: Store) -> None:
    """From now on note the conversations whose place in the queue may change (queue_moves)."""
    for sql in _QUEUE_MOVES:  # not store.execute: no write to the file, so no wait for its check
        await store.db.execute(sql)


async def queue_moves(store: Store) -> list[int]:
    """The conversations noted since the last call (watch_queue_moves), forgotten as they are read."""
    return [r[0] for r in await store.fetchall("DELETE FROM temp.queue_moved RETURNING id")]


@asynccontextmanager
async def no_transaction(store: Store) -> AsyncIterator[bool]:
    """True when no transaction is open or waiting on this connection; none starts until the
    block ends (it holds the writer lock meanwhile). False, and nothing held, when one is: its
    changes may still be rolled back, and a rollback takes the notes of queue_moves with it."""
    lock = store._writer  # the store package's own lock (store.db.Store.transaction)
    if lock.locked() or store.db.in_transaction:
        yield False
        return
    async with lock:
        yield True


async def queue_list(store: StoreReads, now: int, status: str = "open") -> tuple[list[int], int | None]:
    """queue_ids for one status, and the earliest snooze end after `now` among the others of
    that status (snoozed until a time: they enter the queue then), in the same index scan.
    One JSON array instead of a row per id: 100k rows cost the UI thread far more; json.loads
    reads 57k ids in ~3 ms where splitting a group_concat and int() of each took ~6-9 ms."""
    row = await store.fetchone(
        "SELECT json_group_array(id) FILTER (WHERE shown), min(snooze_until) FILTER (WHERE NOT shown"
        " AND snooze_reply = 0) FROM (SELECT id, snooze_until, snooze_reply, (snooze_until IS NULL"
        " OR snooze_until <= ?) AND snooze_reply = 0 AS shown FROM conversations WHERE status = ?"
        " ORDER BY rank, id)", (now, status))
    if row is None or row[0] is None:
        return [], None
    return json.loads(row[0]), row[1]


async def queue_places(store: Store, conv_ids: list[int]) -> dict[int, tuple[str, float, int | None, bool]]:
    """(status, rank, snooze_until, snooze_reply) of these conversations (the ones that exist)."""
    rows = await store.fetchall(
        "SELECT id, status, rank, snooze_until, snooze_reply FROM conversations"
        " WHERE id IN (SELECT value FROM json_each(?))", (as_json_list(conv_ids),))
    return {r[0]: (r[1], r[2], r[3], bool(r[4])) for r in rows}


async def ranks_of(store: Store, conv_ids: list[int]) -> dict[int, float]:
    rows = await store.fetchall("SELECT id, rank FROM conversations WHERE id IN (SELECT value FROM json_each(?))",
                                (as_json_list(conv_ids),))
    return {r[0]: r[1] for r in rows}


# --- @mentions in internal notes (desk.mentions) ------------------------------------------------
MENTION_SEEN = "mention_seen:"  # + a conversation's id -> the newest note id seen there (meta)


async def newest_message_id(store: Store) -> int:
    row = await store.fetchone("SELECT max(id) FROM messages")
    return int(row[0]) if row and row[0] is not None else 0


async def first_note_without_body(store: Store, after_id: int, added_since: int) -> int | None:
    """The first note past `after_id`, stored since `added_since`, whose body is still to come
    (a sync may bring headers first; one too big to fetch never comes)."""
    row = await store.fetchone("SELECT min(id) FROM messages WHERE id > ? AND is_note = 1 AND body_state = 'headers'"
                               " AND added_at >= ?", (after_id, added_since))
    return int(row[0]) if row and row[0] is not None else None


async def notes_mentioning(store: StoreReads, name: str, *, after_id: int | None = None, upto_id: int | None = None,
                           conv_ids: list[int] | None = None) -> list[sqlite3.Row]:
    """The notes that @mention `name` (store.search.mention_condition), oldest stored first: id,
    conv_id, sender_name, body; those stored in (after_id, upto_id], or of `conv_ids`."""
    from tui_desk.store.search import mention_condition  # the search parser: not on the first page's path
    condition, params = mention_condition("body", "sender_name", name)
    sql = f"SELECT id, conv_id, sender_name, body FROM messages WHERE is_note = 1 AND {condition}"
    if after_id is not None:
        sql += " AND id > ?"
        params.append(after_id)
    if upto_id is not None:
        sql += " AND id <= ?"
        params.append(upto_id)
    if conv_ids is not None:
        sql += " AND conv_id IN (SELECT value FROM json_each(?))"
        params.append(as_json_list(conv_ids))
    return await store.fetchall(sql + " ORDER BY id", params)


async def mentions_seen(store: StoreReads, conv_ids: list[int]) -> dict[int, int]:
    """Conversation -> the newest note id this agent has seen in it (set_mention_seen)."""
    rows = await store.fetchall("SELECT key, value FROM meta WHERE key IN (SELECT value FROM json_each(?))",
                                (as_json_list([f"{MENTION_SEEN}{c}" for c in conv_ids]),))
    return {int(key.removeprefix(MENTION_SEEN)): int(value) for key, value in rows}


async def set_mention_seen(store: Store, conv_id: int, note_id: int) -> None:
    await store.set_meta(f"{MENTION_SEEN}{conv_id}", str(note_id))
