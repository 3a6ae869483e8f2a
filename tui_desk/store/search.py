"""The search language (a subset of notmuch's) and its translation to SQL.

    words  "a phrase"  from:x  to:x  subject:x  body:x  tag:x  status:x  before:YYYY-MM-DD  after:YYYY-MM-DD
    assignee:name  is:snoozed|unassigned|assigned|waking-today  has:attachment  domain:example.com  id:12,40,41
    sla:soon|warning|breached  mention:NAME  mentions:me

Terms are ANDed. Text terms match a message (full-text index); tag/status match the
conversation; a conversation is found when one of its messages matches all message terms.
`domain:` is the customer's (subdomains included). `id:` names conversations by number (a list:
any of them; the Reports screen opens a frequent question's conversations this way).
`sla:` asks for a running service-level target (desk.sla): `warning` (within its warn_minutes),
`breached` (over), `soon` (either). Only the desk can answer it: it lands in Query.sla, to_sql
keeps the open conversations (a target runs only while one is open) and the desk filters them
(desk.service.Desk.queue_ids); `search_ids` refuses it, so no caller drops it unnoticed.
`mention:NAME` (or `mentions:`) finds a conversation with an internal note that @mentions the
agent, as a note writes the name (mention_name: "Chen Wei" is @Chen.Wei, any case), written by
someone else (a note to self mentions nobody: mention_condition); `me` is the
agent asking, given to parse_query by the desk. A search with it lists the newest mention first.

A field with nothing after its colon (`from:`, `tag: billing`) is bad input, said with an
example (EXAMPLES): read as the word "from" it matched nearly everything.

Rules (desk.rules) use the same grammar with `rule_keys=True`, which adds the tests only the
desk can answer, about the mail that triggered a rule and the desk's settings:
`vip:yes|no`, `business-hours:yes|no`, `header:Name` (present) and `header:Name:text` (its value
contains text, any case). They land in Query.vip / business_hours / headers; to_sql leaves
them to the desk.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from tui_desk.store.db import SqlValue, Store, as_json_list
from tui_desk.store.fts import fts_text

FTS_COLUMNS = {"from": "sender", "to": "recipients", "subject": "subject", "body": "body"}
CONVERSATION_FIELDS = {"tag", "status", "assignee", "is", "has", "domain", "id", "sla", "mention", "mentions"}
IS_VALUES = ("snoozed", "unassigned", "assigned", "waking-today")
HAS_VALUES = ("attachment",)
SLA_VALUES = ("soon", "warning", "breached")
DATE_FIELDS = {"before", "after"}
KNOWN_FIELDS = sorted([*FTS_COLUMNS, *CONVERSATION_FIELDS, *DATE_FIELDS])
RULE_FIELDS = ("vip", "business-hours", "header")  # only with rule_keys=True (see the docstring)
STATUSES = ("open", "pending", "closed", "spam")
YES_NO = {"yes": True, "true": True, "no": False, "false": False}
# a value that works for each field, for the line saying one is missing
EXAMPLES = {"from": "alice@example.com", "to": "support@example.com", "subject": "refund", "body": "invoice",
            "tag": "billing", "status": "open", "assignee": "alice", "is": "unassigned", "has": "attachment",
            "domain": "example.com", "id": "12,40,41", "sla": "breached", "mention": "me", "mentions": "me",
            "before": "2026-11-25", "after": "7d", "vip": "yes", "business-hours": "no", "header": "X-Priority"}

_TOKEN = re.compile(r'\s*(?:([\w-]+):)?(?:"([^"]*)"?|(\S+))', re.UNICODE)
_BARE_KEY = re.compile(r"([\w-]+):")  # a field's name with nothing after its colon


class SearchError(ValueError):
    pass


@dataclass
class Query:
    fts: list[str] = field(default_factory=list)  # FTS5 expressions, ANDed
    tags: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    before: int | None = None  # unix seconds, exclusive
    after: int | None = None  # unix seconds, inclusive
    # before:/after: said relative to today (today, yesterday, 7d, 2w): days back from the
    # start of today, resolved by to_sql, which knows when and where today is
    before_days: int | None = None
    after_days: int | None = None
    assignees: list[str] = field(default_factory=list)
    is_: list[str] = field(default_factory=list)
    has: list[str] = field(default_factory=list)
    ids: list[list[int]] = field(default_factory=list)  # each id: term, a list of conversation numbers
    domains: list[str] = field(default_factory=list)
    # rule_keys only: the desk evaluates these (to_sql does not see them)
    vip: list[bool] = field(default_factory=list)
    business_hours: list[bool] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)  # (lower-case name, text or "")
    # searches only, answered by the desk (desk.sla): soon | warning | breached
    sla: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)  # names as a note writes them after "@"

    def desk_terms(self) -> bool:
        return bool(self.vip or self.business_hours or self.headers)

    def store_terms(self) -> bool:
        """Whether the store must answer part of it (to_sql); the rest is the desk's."""
        return bool(self.fts or self.tags or self.statuses or self.assignees or self.is_ or self.has
                    or self.domains or self.ids or self.mentions or self.before is not None or self.after is not None
                    or self.before_days is not None or self.after_days is not None)


def mention_name(agent: str) -> str:
    """How an agent is written after "@" in a note (and looked for by mention:): the name
    without spaces."""
    return re.sub(r"\s+", ".", agent.strip())


# A mention is "@" + the name, any case, with no word character, "@" or "." before it and no word
# character after it, nor a "." or "-" that goes on with one ("@Bob.Okafor." ends a sentence;
# "@Bob.Okafore" and "bob.okafor@x.test" are no mention of Bob.Okafor). SQLite's lower() and GLOB
# know ASCII case only; every other letter is a word character here, as \w says.
_WORD = "a-z0-9_\u0080-\U0010ffff"
_MENTION_GLOBS = ("*[^" + _WORD + "@.]@{name}[^-." + _WORD + "]*", "*[^" + _WORD + "@.]@{name}[-.][^" + _WORD + "]*")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def mention_condition(body: str, author: str, name: str) -> tuple[str, list[SqlValue]]:
    """SQL true when the note whose text is in column `body` and whose writer's name is in column
    `author` mentions `name` (as mention_name writes it). A note naming its own writer is no
    mention (a note to self): the names are compared without spaces and dots, any ASCII case."""
    glob_name = "".join(f"[{c}]" if c in "*?[" else c for c in name.translate(_ASCII_LOWER))
    padded = f"(' ' || lower({body}) || ' ')"  # the text's ends are boundaries too
    writer = f"lower(coalesce({author}, ''))"
    for gone in ("' '", "char(9)", "char(10)", "char(13)", "'.'"):
        writer = f"replace({writer}, {gone}, '')"
    return (f"(({padded} GLOB ? OR {padded} GLOB ?) AND {writer} != ?)",
            [*(pattern.replace("{name}", glob_name) for pattern in _MENTION_GLOBS),
             name.translate(_ASCII_LOWER).replace(".", "")])


def _no_value(key: str) -> SearchError:
    return SearchError(f"{key}: needs a value, e.g. {key}:{EXAMPLES.get(key, 'x')}")


def _fts_phrase(text: str) -> str:
    return '"' + fts_text(text).replace('"', '""') + '"'


_DAYS_AGO = re.compile(r"(\d{1,4})([dw])")
_DAYS_WORDS = {"today": 0, "yesterday": 1}


def _day_start(value: str, key: str) -> int | None:
    """A date's start, or None when ``value`` is a day relative to today (_days_back)."""
    if _days_back(value) is not None:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise SearchError(f"{key}: wants a date like 2026-11-25, today, yesterday, 7d or 2w, not {value!r}") from None
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp())


def _days_back(value: str) -> int | None:
    value = value.lower()
    if value in _DAYS_WORDS:
        return _DAYS_WORDS[value]
    m = _DAYS_AGO.fullmatch(value)
    return int(m.group(1)) * (7 if m.group(2) == "w" else 1) if m else None


def _conversation_ids(value: str) -> list[int]:
    parts = [p.strip().lstrip("#") for p in value.split(",") if p.strip()]
    if not parts or not all(p.isascii() and p.isdigit() for p in parts):
        raise SearchError(f"id: wants conversation numbers like 12,40,41, not {value!r}")
    return [int(p) for p in parts]


def _yes_no(key: str, value: str) -> bool:
    if value.lower() not in YES_NO:
        raise SearchError(f"{key}: is yes or no, not {value!r}")
    return YES_NO[value.lower()]


def parse_query(text: str, *, rule_keys: bool = False, me: str | None = None) -> Query:
    """`rule_keys`: also read the rule-only keys (vip:, business-hours:, header:). `me`: the
    agent asking, whom `mentions:me` names (without it, `me` is refused)."""
    q = Query()
    known = [*KNOWN_FIELDS, *RULE_FIELDS] if rule_keys else KNOWN_FIELDS
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
        if key is not None and key not in known and key in RULE_FIELDS:
            raise SearchError(f"'{key}:' is for rules (rules.toml) only")
        if key == "sla" and rule_keys:
            raise SearchError("'sla:' is for searches and views; a rule reacts with on = \"sla-warning\" "
                              "or \"sla-breach\"")
        if key is not None and key not in known and not key.isalpha():
            key, value = None, m.group(0).strip()  # "10:30" and "e-mail:x" are words, not fields
        if key is None and word is not None and (bare := _BARE_KEY.fullmatch(word)) \
                and bare.group(1).lower() in [*KNOWN_FIELDS, *RULE_FIELDS]:
            raise _no_value(bare.group(1).lower())  # "from:" alone, or "from: alice"
        if key is None:
            if value and value.strip():
                q.fts.append(_fts_phrase(value))
            continue
        if key not in known:
            raise SearchError(f"unknown search field '{key}:' (known: {', '.join(k + ':' for k in known)})")
        if not value or not value.strip():
            raise _no_value(key)
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
        elif key == "has":
            if value.lower() not in HAS_VALUES:
                raise SearchError(f"has: is one of {', '.join(HAS_VALUES)}, not {value!r}")
            q.has.append(value.lower())
        elif key == "domain":
            q.domains.append(value.lower().lstrip("@"))
        elif key == "sla":
            if value.lower() not in SLA_VALUES:
                raise SearchError(f"sla: is one of {', '.join(SLA_VALUES)}, not {value!r}")
            q.sla.append(value.lower())
        elif key == "vip":
            q.vip.append(_yes_no(key, value))
        elif key == "business-hours":
            q.business_hours.append(_yes_no(key, value))
        elif key == "header":
            name, _, wanted = value.partition(":")
            if not re.fullmatch(r"[!-9;-~]+", name):
                raise SearchError(f"header: wants Name or Name:text, not {value!r}")
            q.headers.append((name.lower(), wanted.strip().lower()))
        elif key in ("mention", "mentions"):
            if value.lower() == "me":
                if me is None:
                    raise SearchError(f"'{key}:me' is for searches and views (they know who you are)")
                value = me
            if not value.lstrip("@").strip():
                raise _no_value(key)
            q.mentions.append(mention_name(value.lstrip("@")))
        elif key == "id":
            q.ids.append(_conversation_ids(value))
        elif key == "before":
            q.before, q.before_days = _day_start(value, key), _days_back(value)
        elif key == "after":
            q.after, q.after_days = _day_start(value, key), _days_back(value)
    return q


def to_sql(q: Query, now: int, by_priority: bool = False, day_end: int | None = None,
           conv_ids: list[int] | None = None) -> tuple[str, list[SqlValue]]:
    """SQL returning conversation ids, newest activity first (or in queue order, for views);
    `conv_ids`: only among these (rules test the conversations an event touched)."""
    where: list[str] = []
    params: list[SqlValue] = []
    if conv_ids is not None:
        where.append("c.id IN (SELECT value FROM json_each(?))")
        params.append(as_json_list(conv_ids))
    for domain in q.domains:
        where.append("(c.customer_key LIKE ? ESCAPE '\\' OR c.customer_key LIKE ? ESCAPE '\\')")
        escaped = domain.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params += ["%@" + escaped, "%." + escaped]
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
    today = (day_end if day_end is not None else now + 86400 - now % 86400) - 86400  # its start
    before = q.before if q.before_days is None else today - q.before_days * 86400
    after = q.after if q.after_days is None else today - q.after_days * 86400
    if before is not None:
        msg_where.append("m.date < ?")
        msg_params.append(before)
    if after is not None:
        msg_where.append("m.date >= ?")
        msg_params.append(after)
    if q.has:
        msg_where.append("m.attachments_json != '[]'")
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
    if q.sla:  # the rest is the desk's (see the docstring): no target runs unless it is open
        where.append("c.status = 'open'")
    mention_where: list[str] = []
    mention_params: list[SqlValue] = []
    for name in q.mentions:
        condition, condition_params = mention_condition("m.body", "m.sender_name", name)
        mention_where.append(condition)
        mention_params += condition_params
    for condition in mention_where:
        where.append("EXISTS (SELECT 1 FROM messages m WHERE m.conv_id = c.id AND m.is_note = 1 AND "
                     + condition + ")")
    params += mention_params
    sql = "SELECT c.id FROM conversations c"
    if where:
        sql += " WHERE " + " AND ".join(where)
    if q.mentions:  # the newest note mentioning one of them first; of two as new, the later stored
        notes = "FROM messages m WHERE m.conv_id = c.id AND m.is_note = 1 AND (" + " OR ".join(mention_where) + ")"
        order = (f" ORDER BY (SELECT max(coalesce(m.date, m.added_at)) {notes}) DESC,"
                 f" (SELECT max(m.id) {notes}) DESC, c.id DESC")
        params += mention_params * 2
    elif by_priority:
        order = " ORDER BY c.rank, c.id"
    else:
        order = " ORDER BY c.last_date DESC, c.id DESC"
    return sql + order, params


async def search_ids(store: Store, text: str, now: int, by_priority: bool = False,
                     day_end: int | None = None) -> list[int]:
    """day_end: the end of the agent's local day, for is:waking-today (UTC midnight without it).
    `sla:` is refused here: the desk answers it (Desk.queue_ids, with query_ids)."""
    q = parse_query(text)
    if q.sla:
        raise SearchError("'sla:' is not available here (the queue, search and views have it)")
    return await query_ids(store, q, now, by_priority, day_end)


async def query_ids(store: Store, q: Query, now: int, by_priority: bool = False,
                    day_end: int | None = None) -> list[int]:
    """The conversations a parsed query's store terms find (its desk terms are the caller's)."""
    sql, params = to_sql(q, now, by_priority, day_end)
    return [r[0] for r in await store.fetchall(sql, params)]


async def matching_ids(store: Store, q: Query, conv_ids: list[int], now: int) -> set[int]:
    """Which of `conv_ids` the query's store terms match (rules ask this per event)."""
    sql, params = to_sql(q, now, conv_ids=conv_ids)
    return {r[0] for r in await store.fetchall(sql, params)}
