"""The queue's rows (views.QueueRow) from the store's, and what must be brought up to date in a
store before its queue can be read.

Desk.queue_rows and Desk.open use these; so does the app's first page, read on a thread while
the app is still being imported (desk/first_page.py), before the desk itself is imported. So
this module imports little: each import here is paid before the first paint.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui_desk.config import Config
from tui_desk.desk import mentions, priority
from tui_desk.desk.views import QueueRow
from tui_desk.sanitize import sanitize_line
from tui_desk.store import queries
from tui_desk.store.db import StoreReads

if TYPE_CHECKING:
    from tui_desk.desk.sla import Sla

UTC = dt.timezone.utc


@dataclass(frozen=True)
class Outdated:
    """What Desk.open does to a store before its queue can be read."""
    senders: bool  # who counts as an agent changed: every message is classified again
    ranks: bool  # the priority settings changed: the ranks are worked out again
    bursts: bool  # ...and the loud window too: from the mail, not the stored summaries


async def outdated(store: StoreReads, config: Config) -> Outdated:
    """Ranks are stored; when the priority settings change they are worked out again: from the
    stored summaries, unless the loud window changed (then bursts are counted anew). Who counts
    as an agent decides who is waiting: when that changes, every message is classified again (a
    config naming no agent address at all has no say: a store opened with --db alone keeps what
    it has)."""
    identity = config.agent_identity()
    cfg = config.priority
    ranks = await store.get_meta("priority_settings") != repr(cfg)
    return Outdated(
        senders=identity != "[]" and await store.get_meta("agent_identity") != identity,
        ranks=ranks,
        bursts=ranks and await store.get_meta("priority_loud_window") != str(cfg.loud_window_minutes),
    )


def undo_window(config: Config) -> int:
    """The longest undo window: a queued reply due later than this is a send-later one."""
    return max((a.undo_send_seconds for a in config.accounts), default=10)


@dataclass
class StoredRows:
    """What the store says about some conversations, for their queue rows."""
    rows: dict[int, sqlite3.Row]  # conversation_rows'
    summaries: dict[int, queries.ConversationSummary]  # of those rows, for the priority
    tags: dict[int, tuple[str, ...]]
    per_customer: dict[str, int]  # conversations per customer
    corrected: dict[int, list[str]]  # date corrections
    # a conversation rank_customer_bursts ranked up: the customer's first one it is kept next to
    kept_next_to: dict[int, int]
    mention_unseen: set[int]  # a teammate's note mentions this agent, not seen yet (desk.mentions)
    # the customer only thanked since the last answer (priority.only_thanked): who wrote that answer
    answered_by: dict[int, str]


async def stored_rows(store: StoreReads, ids: list[int], config: Config) -> StoredRows:
    rows = await queries.conversation_rows(store, ids, undo_window(config))
    tags = await queries.tags_of(store, ids)
    per_customer = await queries.conversation_counts_by_customer(store, [r["customer_key"] for r in rows.values()])
    # a Date not believed moves the mail to its arrival time: the rank says so
    corrected = await queries.date_corrections(store, list(rows))
    summaries = {cid: summary_from_row(r) for cid, r in rows.items()}
    kept_next_to: dict[int, int] = {}
    for cid, summary in summaries.items():  # a query only for those ranked up (rare: a burst's later mail)
        if priority.kept_next_to_burst(summary, config.priority, tags.get(cid, ())):
            first = await queries.first_of_burst(store, cid, summary.customer_key, summary.rank)
            if first is not None:
                kept_next_to[cid] = first
    unseen = await mentions.unseen(store, config.agent, list(rows))
    thanked = [cid for cid, s in summaries.items() if s.status == "open" and priority.only_thanked(s)]
    answered_by = ({cid: sanitize_line(name) for cid, name in (await queries.last_answer_names(store, thanked)).items()}
                   if thanked else {})
    return StoredRows(rows, summaries, tags, per_customer, corrected, kept_next_to, unseen, answered_by)


def build_rows(ids: list[int], stored: StoredRows, now: int, config: Config,
               slas: Mapping[int, Sla] | None = None) -> list[QueueRow]:
    """The rows of `ids` (those still there), in that order; `slas` with [sla] targets."""
    out = []
    for cid in ids:
        r = stored.rows.get(cid)
        if r is None:
            continue
        summary = stored.summaries[cid]
        tags = stored.tags.get(cid, ())
        ex = priority.explain(summary, now, config.priority, tags, stored.per_customer.get(summary.customer_key, 0),
                              stored.kept_next_to.get(cid), stored.answered_by.get(cid, ""))
        out.append(QueueRow(
            id=cid,
            customer=sanitize_line(r["customer_name"] or r["customer_key"]),
            customer_addr=sanitize_line(r["customer_key"]),
            subject=sanitize_line(r["subject"]),
            status=r["status"],
            tags=tuple(sanitize_line(t) for t in tags),  # tags also come from IMAP keywords
            message_count=r["message_count"],
            last_date=dt.datetime.fromtimestamp(r["last_date"] or 0, UTC),
            score=ex.score, marker=ex.marker, flags=ex.flags,
            reasons=ex.reasons + tuple(sanitize_line(d) for d in stored.corrected.get(cid, ())),
            assignee=sanitize_line(r["assignee"]) if r["assignee"] else None,
            snoozed_until=dt.datetime.fromtimestamp(r["snooze_until"], UTC) if r["snooze_until"] else None,
            snoozed_until_reply=bool(r["snooze_reply"]),
            has_draft=bool(r["has_draft"]),
            scheduled_reply_at=dt.datetime.fromtimestamp(r["scheduled_at"], UTC) if r["scheduled_at"] else None,
            sla=slas.get(cid) if slas else None,
            mention_unseen=cid in stored.mention_unseen,
            waiting_since=(dt.datetime.fromtimestamp(r["waiting_since"], UTC)
                           if r["waiting_since"] is not None and r["status"] == "open" else None),
        ))
    return out


def summary_from_row(r: sqlite3.Row) -> queries.ConversationSummary:
    return queries.ConversationSummary(
        id=r["id"], subject=r["subject"], customer_name=r["customer_name"], customer_key=r["customer_key"],
        status=r["status"], message_count=r["message_count"], first_date=r["first_date"],
        last_date=r["last_date"], last_customer_date=r["last_customer_date"],
        last_agent_date=r["last_agent_date"], waiting_since=r["waiting_since"], burst=r["burst"],
        rank=r["rank"], snooze_until=r["snooze_until"], snooze_reply=bool(r["snooze_reply"]), woke_at=r["woke_at"],
    )
