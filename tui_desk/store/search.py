"""The search language (a subset of notmuch's) and its translation to SQL.

    words  "a phrase"  from:x  to:x  subject:x  tag:x  status:x  before:YYYY-MM-DD  after:YYYY-MM-DD
    assignee:name  is:snoozed|unassigned|assigned|waking-today  id:12,40,41

Terms are ANDed. Text terms match a message (full-text index); tag/status match the
conversation; a conversation is found when one of its messages matches all message terms.
`id:` names conversations by number (a list: any of them; the Reports screen opens a frequent
question's conversations this way).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from tui_desk.store.db import SqlValue, Store, as_json_list
from tui_desk.store.fts import fts_text

FTS_COLUMNS = {"from": "sender", "to": "recipients", "subject": "subject"}
CONVERSATION_FIELDS = {"tag", "status", "assignee", "is", "id"}
IS_VALUES = ("snoozed", "unassigned", "assigned", "waking-today")
DATE_FIELDS = {"before", "after"}
KNOWN_FIELDS = sorted([*FTS_COLUMNS, *CONVERSATION_FIELDS, *DATE_FIELDS])
STATUSES = ("open", "pending", "closed", "spam")

_TOKEN = re.compile(r'\s*(?:(\w+):)?(?:"([^"]*)"?|(\S+))', re.UNICODE)


class SearchError(ValueError):
    pass


@dataclass
class Query:
    fts: list[str] = field(default_factory=list)  # FTS5 expressions, ANDed
    tags: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    before: int | None = None  # unix seconds, exclusive
    after: int | None = None  # unix seconds, inclusive
    assignees: list[str] = field(default_factory=list)
    is_: list[str] = field(default_factory=list)
    ids: list[list[int]] = field(default_factory=list)  # each id: term, a list of conversation numbers


def _fts_phrase(text: str) -> str:
    return '"' + fts_text(text).replace('"', '""') + '"'


def _day_start(value: str, key: str) -> int:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise SearchError(f"{key}: wants a date like 2026-11-25, not {value!r}") from None
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp())


def _conversation_ids(value: str) -> list[int]:
    parts = [p.strip().lstrip("#") for p in value.split(",") if p.strip()]
    if not parts or not all(p.isascii() and p.isdigit() for p in parts):
        raise SearchError(f"id: wants conversation numbers like 12,40,41, not {value!r}")
    return [int(p) for p in parts]


def parse_query(text: str) -> Query:
    q = Query()
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        key, phrase, word = m.group(1), m.group(2), m.group(3)
        value = phrase if phrase is not None else word
        if key is not None:
            key = key.lower()
        if key is not None and key not in KNOWN_FIELDS and not key.isalpha():
            key, value = None, m.group(0).strip()  # "10:30" is a word, not a field
        if key is None:
            if value and value.strip():
                q.fts.append(_fts_phrase(value))
            continue
        if key not in KNOWN_FIELDS:
            raise SearchError(f"unknown search field '{key}:' (known: {', '.join(k + ':' for k in KNOWN_FIELDS)})")
        if not value:
            raise SearchError(f"'{key}:' needs a value")
        if key in FTS_COLUMNS:
            q.fts.append(f"{FTS_COLUMNS[key]} : {_fts_phrase(value)}")
        elif key == "tag":
            q.tags.append(value.lower())
        elif key == "status":
            if value.lower() not in STATUSES:
                raise SearchError(f"status: is one of {', '.join(STATUSES)}, not {value!r}")
            q.statuses.append(value.lower())
        elif key == "assignee":
            q.assignees.append(value.lower())
        elif key == "is":
            if value.lower() not in IS_VALUES:
                raise SearchError(f"is: is one of {', '.join(IS_VALUES)}, not {value!r}")
            q.is_.append(value.lower())
        elif key == "id":
            q.ids.append(_conversation_ids(value))
        elif key == "before":
            q.before = _day_start(value, key)
        elif key == "after":
            q.after = _day_start(value, key)
    return q


def to_sql(q: Query, now: int, by_priority: bool = False, day_end: int | None = None) -> tuple[str, list[SqlValue]]:
    """SQL returning conversation ids, newest activity first (or in queue order, for views)."""
    where: list[str] = []
    params: list[SqlValue] = []
    for who in q.assignees:
        where.append("lower(c.assignee) = ?")
        params.append(who)
    for what in q.is_:
        if what == "snoozed":
            where.append("(c.snooze_reply = 1 OR c.snooze_until > ?)")
            params.append(now)
        elif what == "waking-today":
            where.append("c.snooze_until > ? AND c.snooze_until <= ?")
            params += [now, day_end if day_end is not None else now + 86400 - now % 86400]
        else:
            where.append("c.assignee IS NULL" if what == "unassigned" else "c.assignee IS NOT NULL")
    msg_where: list[str] = []
    msg_params: list[SqlValue] = []
    if q.fts:
        msg_where.append("m.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)")
        msg_params.append(" AND ".join(f"({e})" for e in q.fts))
    if q.before is not None:
        msg_where.append("m.date < ?")
        msg_params.append(q.before)
    if q.after is not None:
        msg_where.append("m.date >= ?")
        msg_params.append(q.after)
    if msg_where:
        where.append("c.id IN (SELECT m.conv_id FROM messages m WHERE " + " AND ".join(msg_where) + ")")
        params += msg_params
    for ids in q.ids:
        where.append("c.id IN (SELECT value FROM json_each(?))")
        params.append(as_json_list(ids))
    for tag in q.tags:
        where.append("c.id IN (SELECT conv_id FROM tags WHERE tag = ?)")
        params.append(tag)
    if q.statuses:
        where.append("c.status IN (" + ",".join("?" * len(q.statuses)) + ")")
        params += q.statuses
    sql = "SELECT c.id FROM conversations c"
    if where:
        sql += " WHERE " + " AND ".join(where)
    order = " ORDER BY c.rank, c.id" if by_priority else " ORDER BY c.last_date DESC, c.id DESC"
    return sql + order, params


async def search_ids(store: Store, text: str, now: int, by_priority: bool = False,
                     day_end: int | None = None) -> list[int]:
    """day_end: the end of the agent's local day, for is:waking-today (UTC midnight without it)."""
    sql, params = to_sql(parse_query(text), now, by_priority, day_end)
    return [r[0] for r in await store.fetchall(sql, params)]
