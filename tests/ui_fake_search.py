"""The stand-in desk's search: its conversations in an in-memory SQLite made by the real schema
(store.schema), asked with the real parser and SQL (store.search). There is one search grammar;
the fake only supplies the rows.

Rows go in when first searched (a 100k desk costs nothing until then); a conversation an agent
changed is written again before the next search.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterable
from email.utils import parseaddr

from tui_desk.desk.views import ConversationView
from tui_desk.store.fts import fts_text
from tui_desk.store.schema import MIGRATIONS
from tui_desk.store.search import parse_query, to_sql

UTC = dt.timezone.utc


def _seconds(when: dt.datetime | None) -> int | None:
    return int(when.timestamp()) if when is not None else None


class FakeSearchIndex:
    """``conversation(cid)`` gives a conversation with its current state; ``rank`` is the queue
    position (the fake's ids are in priority order)."""

    def __init__(self, conversation: Callable[[int], ConversationView]) -> None:
        self.conversation = conversation
        self.db = sqlite3.connect(":memory:")
        for script in MIGRATIONS:
            self.db.executescript(script)
        self.loaded: set[int] = set()
        self.written: dict[int, tuple] = {}  # conversation -> the state its rows were written with

    def ids(self, query: str, now: dt.datetime, cids: Iterable[int], by_priority: bool, me: str) -> list[int]:
        """``me``: the agent asking (mentions:me)."""
        self._write(cids)
        day_end = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=now.tzinfo)
        sql, params = to_sql(parse_query(query, me=me), int(now.timestamp()), by_priority,
                             day_end=int(day_end.timestamp()))
        return [r[0] for r in self.db.execute(sql, params)]

    def _write(self, cids: Iterable[int]) -> None:
        for cid in cids:
            conv = self.conversation(cid)
            state = (conv.status, conv.tags, conv.assignee, conv.snoozed_until, conv.snoozed_until_reply)
            if self.written.get(cid) == state:
                continue
            if cid not in self.loaded:
                self._insert_messages(conv)
                self.loaded.add(cid)
            last = max((m.date for m in conv.messages if m.date), default=None)
            self.db.execute(
                "INSERT OR REPLACE INTO conversations (id, subject, customer_name, status, assignee, snooze_until,"
                " snooze_reply, message_count, last_date, rank) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (cid, conv.subject, conv.customer, conv.status, conv.assignee, _seconds(conv.snoozed_until),
                 int(conv.snoozed_until_reply), len(conv.messages), _seconds(last), cid))
            self.db.execute("DELETE FROM tags WHERE conv_id = ?", (cid,))
            self.db.executemany("INSERT INTO tags (conv_id, tag) VALUES (?, ?)", [(cid, t) for t in conv.tags])
            self.written[cid] = state

    def _insert_messages(self, conv: ConversationView) -> None:
        for m in conv.messages:
            body = "\n".join(b.text for b in m.blocks)
            rowid = self.db.execute(  # body and is_note: mention: looks in notes' bodies
                "INSERT INTO messages (message_id, conv_id, date, subject, body, is_note, sender_name, added_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                (f"<{conv.id}.{m.id}@fake>", conv.id, _seconds(m.date), conv.subject, body, int(m.is_note),
                 parseaddr(m.sender)[0] or m.sender)).lastrowid  # the name, as the store keeps it
            recipients = " ".join(part for part in (m.to, m.cc) if part)
            self.db.execute(
                "INSERT INTO messages_fts (rowid, subject, body, sender, recipients) VALUES (?, ?, ?, ?, ?)",
                (rowid, fts_text(conv.subject), fts_text(body), fts_text(m.sender), fts_text(recipients)))
