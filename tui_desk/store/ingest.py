"""Adding messages: dedupe by Message-ID, thread by reference components, keep raw bytes."""

from __future__ import annotations

import hashlib
import json
import re
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from tui_desk.mail.model import Address, ParsedBody, ParsedMessage
from tui_desk.mail.packing import pack_raw
from tui_desk.mail.threading import UnionFind, thread_keys, ticket_number
from tui_desk.store.db import Store, as_json_list, inserted_rowid
from tui_desk.store.fts import fts_text
from tui_desk.store.queries import (DATE_CORRECTED, EXCERPT_CHARS, THANKS_STEMS, mark_dirty,
                                    marking_dirty_itself)


@dataclass(slots=True)
class NewMessage:
    raw: bytes
    parsed: ParsedMessage
    source: str = ""
    is_agent: bool = False
    error: str | None = None  # the parser gave up; the raw bytes are still stored
    body_state: str = "full"  # "headers": raw holds only the header block; the body comes later
    is_note: bool = False  # an agents' internal note (see desk.notes)
    packed: bytes | None = None  # pack_raw(raw) when already done (by the parse workers)
    # when the mail reached us (unix seconds) and how we know, for the defect: the server's
    # INTERNALDATE, the mbox From_ line, the file's mtime; None: now, when it is stored
    arrived: int | None = None
    arrived_by: str = "the server's arrival time"


# A Date before this (1990-01-01) or more than a day after the mail arrived is not believed:
# the rank is the waiting time, so one made-up Date would jump the queue or sink out of it.
EARLIEST_PLAUSIBLE_DATE = 631152000
FUTURE_SLACK_SECONDS = 86400
DUPLICATE_MARK = "#dup-"  # <id>#dup-<hash>: a mail whose Message-ID another mail has
DUPLICATE_ID = "another message has the same Message-ID"  # the defect's start
STORE_DEFECTS = (DATE_CORRECTED, DUPLICATE_ID)  # defects the store adds (kept when the body arrives)


def stored_date(p: ParsedMessage, arrived: int | None, arrived_by: str, now: int) -> tuple[int, str | None]:
    """The date the store keeps for a message (the one place that decides it): the Date field
    when plausible, else the arrival time, with the defect saying so."""
    if arrived is None:
        arrived, arrived_by = now, "the time it was stored"
    if p.date is None:
        said = ("the Date header is unreadable" if any(d.startswith("unreadable Date") for d in p.defects)
                else "no Date header")
        return arrived, f"{DATE_CORRECTED}{said}; using {arrived_by}"
    when = int(p.date.timestamp())
    if EARLIEST_PLAUSIBLE_DATE <= when <= arrived + FUTURE_SLACK_SECONDS:
        return when, None
    d = p.date  # as written, in its own zone (year 1 or 9999 may not convert)
    day = f"{d.year:04d}-{d.month:02d}-{d.day:02d}"
    return arrived, f"{DATE_CORRECTED}Date header said {day}; using {arrived_by}"


@dataclass(slots=True)
class IngestResult:
    added: int = 0
    duplicates: int = 0
    conversations: set[int] = field(default_factory=set)  # touched (new, grown or merged into)
    merged_away: set[int] = field(default_factory=set)  # ids that no longer exist
    rowids: dict[str, int] = field(default_factory=dict)  # Message-ID -> messages.id, new and known
    id_conflicts: int = 0  # mail kept under a derived id: another message has its Message-ID


# json.dumps(x, ensure_ascii=False) builds this same encoder on every call (five per message)
_encode_text = json.JSONEncoder(ensure_ascii=False).encode


def _json_text(items: Sequence[object]) -> str:
    """A list as JSON text; most lists of a message are empty (no Cc, no attachment, no
    defect), and those skip the encoder's Python-level calls."""
    return _encode_text(items) if items else "[]"


def _addrs_json(addrs: list[Address]) -> str:
    return _json_text([[a.name, a.addr] for a in addrs])


async def ingest(store: Store, items: list[NewMessage]) -> IngestResult:
    """Add a batch in one transaction. Re-adding a known Message-ID is a no-op."""
    result = IngestResult()
    if not items:
        return result
    async with store.transaction():
        await ingest_in_transaction(store, items, result)
    return result


async def ingest_in_transaction(store: Store, items: list[NewMessage], result: IngestResult) -> None:
    """The same, inside a transaction the caller holds (sync commits mirror state with it).
    A known Message-ID is the same message again when the mail is (`same_mail`); another mail
    with it is kept under a derived id (`<id>#dup-<hash>`), in the first one's conversation.
    Either way each item's parsed.message_id is then the id it is stored under."""
    fresh, duplicates = await _sort_out(store, items, result)

    # A second copy of a known Message-ID is not stored, but its references still link:
    # otherwise the grouping would depend on which copy arrived first.
    keys_of = [thread_keys(i.parsed) for i in fresh]
    for item, keys in zip(fresh, keys_of):
        base = item.parsed.message_id.partition(DUPLICATE_MARK)[0]
        if base != item.parsed.message_id and base not in keys:
            keys.append(base)  # with the first mail of that id
    dup_keys = [keys for keys in (thread_keys(i.parsed) for i in duplicates) if len(keys) > 1]
    if not fresh and not dup_keys:
        return
    all_keys = {k for keys in keys_of + dup_keys for k in keys}
    existing = {
        r[0]: r[1]
        for r in await store.fetchall(
            "SELECT msgid, conv_id FROM thread_ids WHERE msgid IN (SELECT value FROM json_each(?))",
            (as_json_list(all_keys),),
        )
    }
    uf = UnionFind()
    for keys in dup_keys:
        for k in keys:
            uf.union(keys[0], k)
            if k in existing:
                uf.union(k, ("conv", existing[k]))
    for item, keys in zip(fresh, keys_of):
        for k in keys:
            uf.union(keys[0], k)
            if k in existing:
                uf.union(k, ("conv", existing[k]))
        ticket = ticket_number(item.parsed.subject)
        if ticket is not None and item.parsed.sender is not None:
            conv = await _ticket_conversation(store, ticket, item.parsed.sender.key)
            if conv is not None:
                uf.union(keys[0], ("conv", conv))

    now = int(time.time())
    groups = [(members, sorted(m[1] for m in members if isinstance(m, tuple))) for members in uf.groups().values()]
    # Without a merge, new conversations take max(id)+1, +2, ... in group order: the ids SQLite
    # would give them one INSERT at a time, in one statement. A merge deletes a conversation
    # (whose id SQLite may then hand out again), so that rare batch goes one by one.
    one_by_one = any(len(convs) > 1 for _, convs in groups)
    next_conv = None if one_by_one else await store.fetch_int("SELECT coalesce(max(id), 0) FROM conversations") + 1
    new_convs: list[tuple[int]] = []
    thread_rows: list[tuple[str, int]] = []
    for members, convs in groups:
        if not convs:
            if next_conv is None:
                cur = await store.db.execute("INSERT INTO conversations(status) VALUES ('open')")
                target = inserted_rowid(cur)
            else:
                target, next_conv = next_conv, next_conv + 1
                new_convs.append((target,))
        else:
            target = convs[0]
            for other in convs[1:]:
                await _merge_into(store, other, target)
                result.merged_away.add(other)
        result.conversations.add(target)
        # groups are disjoint, so one statement for all of them leaves the same rows
        thread_rows += [(m, target) for m in members if not isinstance(m, tuple)]
    if new_convs:
        await store.executemany("INSERT INTO conversations(id, status) VALUES (?, 'open')", new_convs)
    await store.executemany("INSERT OR REPLACE INTO thread_ids(msgid, conv_id) VALUES (?, ?)", thread_rows)
    result.conversations -= result.merged_away
    conv_of_key = dict(thread_rows)  # every thread key (Message-ID) -> its conversation

    next_id = await store.fetch_int("SELECT coalesce(max(id), 0) FROM messages") + 1
    msg_rows, raw_rows, fts_rows = [], [], []
    for n, (item, keys) in enumerate(zip(fresh, keys_of)):
        p, rowid = item.parsed, next_id + n
        sender = p.sender or Address("", "")
        date, corrected = stored_date(p, item.arrived, item.arrived_by, now)
        if corrected:
            p.defects.append(corrected)
        msg_rows.append((
            rowid, p.message_id, int(p.synthetic_id), conv_of_key[keys[0]], date,
            sender.name, sender.addr, sender.key,
            _addrs_json(p.to), _addrs_json(p.cc), _addrs_json(p.reply_to),
            p.subject, p.in_reply_to, json.dumps(p.references) if p.references else "[]", p.text,
            int(p.text_from_html),
            _attachments_json(p),
            _json_text(p.defects), int(p.auto_submitted), int(item.is_agent),
            p.size or len(item.raw), item.error, item.source, now, item.body_state, int(item.is_note),
        ))
        result.rowids[p.message_id] = rowid
        raw_rows.append((rowid, item.packed if item.packed is not None else pack_raw(item.raw)))
        fts_rows.append(_fts_row(rowid, p))
    async with marking_dirty_itself(store):
        await store.executemany(
            "INSERT INTO messages(id, message_id, synthetic_id, conv_id, date, sender_name, sender_addr,"
            " sender_key, to_json, cc_json, reply_to_json, subject, in_reply_to, refs_json, body,"
            " body_from_html, attachments_json, defects_json, auto_submitted, is_agent, size, error,"
            " source, added_at, body_state, is_note) VALUES (" + ",".join("?" * 26) + ")",
            msg_rows,
        )
        await mark_dirty(store, (row[3] for row in msg_rows))
    await store.executemany("INSERT INTO raw_messages(id, data) VALUES (?, ?)", raw_rows)
    await store.executemany(
        "INSERT INTO messages_fts(rowid, subject, body, sender, recipients) VALUES (?, ?, ?, ?, ?)",
        fts_rows,
    )
    result.added = len(fresh)


def wire_message_id(stored_id: str) -> str:
    """The Message-ID the mail itself has (what replies and notes refer to): a derived id
    (<id>#dup-<hash>) is the store's own and never leaves it."""
    return stored_id.partition(DUPLICATE_MARK)[0]


# fields a mail gains on its way (delivery, filters, the mbox it was saved in): two copies of
# one mail differ in them and are still one mail
_TRANSIT_FIELDS = frozenset({
    b"return-path", b"received", b"delivered-to", b"x-original-to", b"envelope-to", b"x-envelope-to",
    b"x-envelope-from", b"authentication-results", b"dkim-signature", b"domainkey-signature", b"received-spf",
    b"x-received", b"status", b"x-status", b"x-keywords", b"x-uid", b"content-length", b"lines",
    b"x-original-arrival-time", b"x-rcpt-to", b"x-sieve"})
_TRANSIT_PREFIXES = (b"arc-", b"x-spam", b"x-virus", b"x-google-", b"x-gm-", b"x-ms-exchange-",
                     b"x-forefront-", b"x-microsoft-", b"x-rspamd-", b"x-mozilla-")
_MBOX_FROM = re.compile(rb"(?m)^>+(From )")


def _head_and_body(raw: bytes) -> tuple[bytes, bytes | None]:
    data = raw.replace(b"\r\n", b"\n")
    head, sep, body = data.partition(b"\n\n")
    return head, (body if sep else None)


def _kept_head(head: bytes) -> bytes:
    fields: list[bytes] = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\n" + line
        elif line:
            fields.append(line)
    return b"\n".join(f for f in fields
                      if (name := f.partition(b":")[0].strip().lower()) not in _TRANSIT_FIELDS
                      and not name.startswith(_TRANSIT_PREFIXES) and not f.startswith(b"From "))


def mail_fingerprint(raw: bytes, whole: bool) -> str:
    """sha256 of the mail as its author wrote it: line endings normalised, the fields added on the
    way dropped, mbox >From quoting undone; whole=False: of the header block alone."""
    head, body = _head_and_body(raw)
    h = hashlib.sha256(_kept_head(head))
    if whole:
        h.update(b"\n\n" + _MBOX_FROM.sub(rb"\1", body or b"").rstrip(b"\n"))
    return h.hexdigest()


def same_mail(a: bytes, a_whole: bool, b: bytes, b_whole: bool) -> bool:
    """Whether two mails with one Message-ID are the same mail (stored once). A header block
    alone (mail synced header-first, or over the size limit) is compared by its header fields."""
    if a == b:
        return True
    whole = a_whole and b_whole
    return mail_fingerprint(a, whole) == mail_fingerprint(b, whole)


@dataclass(slots=True)
class _Known:
    message_id: str
    rowid: int  # -1: new in this batch
    raw: bytes
    whole: bool


async def _sort_out(store: Store, items: list[NewMessage], result: IngestResult
                    ) -> tuple[list[NewMessage], list[NewMessage]]:
    """(fresh, duplicates): each item is a new message, or the same mail as one stored or earlier
    in the batch (under the id of its Message-ID or of a derived one)."""
    ids = as_json_list({i.parsed.message_id for i in items})
    known: dict[str, list[_Known]] = {}
    rows = await store.fetchall(
        "SELECT j.value, m.message_id, m.id, m.body_state, r.data FROM json_each(?) j"
        " JOIN messages m ON m.message_id = j.value JOIN raw_messages r ON r.id = m.id", (ids,))
    if rows:  # mail with a derived id only exists beside a known Message-ID (or one gone since)
        rows += await store.fetchall(
            "SELECT j.value, m.message_id, m.id, m.body_state, r.data FROM json_each(?) j"
            " JOIN messages m ON m.message_id > j.value || ? AND m.message_id < j.value || ?"
            " JOIN raw_messages r ON r.id = m.id", (ids, DUPLICATE_MARK, DUPLICATE_MARK[:-1] + "."))
    for base, mid, rowid, state, data in rows:
        known.setdefault(base, []).append(_Known(mid, rowid, zlib.decompress(data), state == "full"))
    fresh: list[NewMessage] = []
    duplicates: list[NewMessage] = []
    for item in items:
        base = item.parsed.message_id
        whole = item.body_state == "full"
        others = known.setdefault(base, [])
        same = next((k for k in others if same_mail(item.raw, whole, k.raw, k.whole)), None)
        if same is not None:
            item.parsed.message_id = same.message_id
            if same.rowid >= 0:
                result.rowids[same.message_id] = same.rowid
            result.duplicates += 1
            duplicates.append(item)
            continue
        if others:
            # another mail with a known id: kept, never dropped as "already known"
            heads = {mail_fingerprint(k.raw, False) for k in others}
            mine = mail_fingerprint(item.raw, False)
            if mine in heads:  # the header fields are the same: the bodies differ
                mine = mail_fingerprint(item.raw, True)
            derived = f"{base}{DUPLICATE_MARK}{mine[:16]}"
            item.parsed.defects.append(f"{DUPLICATE_ID} <{base}>: this one is kept as <{derived}>")
            item.parsed.message_id = derived
            result.id_conflicts += 1
        others.append(_Known(item.parsed.message_id, -1, item.raw, whole))
        fresh.append(item)
    return fresh, duplicates


def _attachments_json(p: ParsedMessage | ParsedBody) -> str:
    return _json_text([[a.filename, a.content_type, a.size, a.part_path] for a in p.attachments])


async def replace_bodies(store: Store, items: list[tuple[int, bytes, ParsedMessage | ParsedBody, str | None]],
                         packed: list[bytes] | None = None) -> set[int]:
    """Header-only messages got their full bytes: store them, re-index the text.
    items: (message rowid, raw, parsed, parse error); packed: pack_raw of each raw, when the
    parse workers did it. A ParsedBody (parse.parse_body) keeps the header fields' index
    columns as the header block's record set them. One statement per table for the batch.
    Returns the conversations of the customers' own mail after an agent's answer among them,
    marked dirty: what a customer wrote decides there (a thank-you reopens nothing:
    desk.thanks), so the caller has the desk read them again."""
    if not items:
        return set()
    # the store's own defects (a corrected date) were not the parser's: they stay
    kept: dict[int, list[str]] = {}
    for r in await store.fetchall(
            "SELECT id, defects_json FROM messages WHERE id IN (SELECT value FROM json_each(?))"
            " AND (instr(defects_json, ?) > 0 OR instr(defects_json, ?) > 0)",
            (as_json_list(i[0] for i in items), *STORE_DEFECTS)):
        kept[r[0]] = [d for d in json.loads(r[1]) if d.startswith(STORE_DEFECTS)]
    await store.executemany(
        "UPDATE messages SET body=?, body_from_html=?, attachments_json=?, defects_json=?, size=?, error=?,"
        " body_state='full' WHERE id=?",
        [(p.text, int(p.text_from_html), _attachments_json(p),
          _json_text(p.defects + [d for d in kept.get(rowid, ()) if d not in p.defects]),
          p.size or len(raw), error, rowid) for rowid, raw, p, error in items])
    await store.executemany("UPDATE raw_messages SET data=? WHERE id=?",
                            [(packed[n] if packed is not None else pack_raw(raw), rowid)
                             for n, (rowid, raw, _, _) in enumerate(items)])
    # two copies of one Message-ID in a folder: the last one wins, as in the UPDATEs above
    whole = {rowid: p for rowid, _, p, _ in items if isinstance(p, ParsedMessage)}
    if whole:
        await store.execute("DELETE FROM messages_fts WHERE rowid IN (SELECT value FROM json_each(?))",
                            (as_json_list(whole),))
        await store.executemany(
            "INSERT INTO messages_fts(rowid, subject, body, sender, recipients) VALUES (?, ?, ?, ?, ?)",
            [_fts_row(rowid, p) for rowid, p in whole.items()])
    if len(whole) < len(items):
        await store.executemany("UPDATE messages_fts SET body=? WHERE rowid=?",
                                [(fts_text(p.text), rowid) for rowid, _, p, _ in items
                                 if not isinstance(p, ParsedMessage)])
    # only mail after an agent's answer that says thanks can be a thank-you that decides
    # (desk.priority.summarize): a first sync's other conversations are not read twice
    said = {int(conv_id) for conv_id, text in await store.fetchall(
        f"SELECT m.conv_id, substr(m.body, 1, {EXCERPT_CHARS}) FROM messages m WHERE m.id IN (SELECT value FROM"
        " json_each(?)) AND m.is_agent = 0 AND m.is_note = 0 AND m.auto_submitted = 0 AND EXISTS (SELECT 1"
        " FROM messages a WHERE a.conv_id = m.conv_id AND a.is_agent = 1 AND a.is_note = 0 AND a.date <= m.date)",
        (as_json_list(i[0] for i in items),)) if text and any(stem in text.casefold() for stem in THANKS_STEMS)}
    if said:
        await mark_dirty(store, said)
    return said


async def over_limit_messages(store: Store, conv_id: int) -> list[tuple[int, str, str]]:
    """(rowid, Message-ID, account) of the conversation's mail kept header-only for its size,
    oldest first; a message on several accounts is listed once, on the first."""
    rows = await store.fetchall(
        "SELECT m.id, m.message_id, min(f.account) FROM messages m JOIN imap_messages i ON i.message_id = m.id"
        " JOIN folders f ON f.id = i.folder_id WHERE m.conv_id=? AND m.body_state='too_big'"
        " GROUP BY m.id ORDER BY m.date, m.id", (conv_id,))
    return [(r[0], r[1], r[2]) for r in rows]


def _fts_row(rowid: int, p: ParsedMessage) -> tuple[int, str, str, str, str]:
    sender = p.sender or Address("", "")
    recipients = " ".join(f"{a.name} {a.addr}" for a in [*p.to, *p.cc])
    return (rowid, fts_text(p.subject), fts_text(p.text), fts_text(f"{sender.name} {sender.addr}"),
            fts_text(recipients))


async def resolve_conversation(store: Store, conv_id: int) -> int | None:
    """Follow merge aliases to the conversation that exists now."""
    for _ in range(64):
        if await store.fetchone("SELECT 1 FROM conversations WHERE id=?", (conv_id,)):
            return conv_id
        row = await store.fetchone("SELECT new_id FROM conv_aliases WHERE old_id=?", (conv_id,))
        if row is None:
            return None
        conv_id = row[0]
    return None


async def _ticket_conversation(store: Store, ticket: int, sender_key: str) -> int | None:
    conv = await resolve_conversation(store, ticket)
    if conv is None:
        return None
    if await store.fetchone("SELECT 1 FROM messages WHERE conv_id=? AND sender_key=? LIMIT 1",
                            (conv, sender_key)):
        return conv
    # the sender may also be addressed in the conversation (e.g. Cc'd by the customer)
    rows = await store.fetchall("SELECT to_json, cc_json FROM messages WHERE conv_id=?", (conv,))
    for r in rows:
        for name_addr in json.loads(r[0]) + json.loads(r[1]):
            if name_addr[1].lower() == sender_key:
                return conv
    return None


async def _merge_into(store: Store, old: int, new: int) -> None:
    """A message linked two conversations: fold `old` into `new`, keeping local state."""
    await store.execute("UPDATE thread_ids SET conv_id=? WHERE conv_id=?", (new, old))
    await store.execute("UPDATE messages SET conv_id=? WHERE conv_id=?", (new, old))
    await store.execute("INSERT OR IGNORE INTO tags(conv_id, tag) SELECT ?, tag FROM tags WHERE conv_id=?",
                        (new, old))
    await store.execute("DELETE FROM tags WHERE conv_id=?", (old,))
    await store.execute("UPDATE conv_aliases SET new_id=? WHERE new_id=?", (new, old))
    await store.execute("INSERT OR REPLACE INTO conv_aliases(old_id, new_id) VALUES (?, ?)", (old, new))
    await store.execute("DELETE FROM conversations WHERE id=?", (old,))
