"""The desk: the one object the TUI and the CLI talk to."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Callable

from tui_desk.config import Config
from tui_desk.desk import priority
from tui_desk.desk.render import conversation_view
from tui_desk.desk.snippets import default_snippet_dirs, load_snippets
from tui_desk.desk.views import ConversationView, QueueRow, Snippet
from tui_desk.sanitize import sanitize_line
from tui_desk.store import Store, queries
from tui_desk.store.search import search_ids

UTC = dt.timezone.utc


class Desk:
    def __init__(self, store: Store, config: Config, clock: Callable[[], float] = time.time):
        self.store = store
        self.config = config
        self.clock = clock
        self._snippets: list[Snippet] | None = None
        self.snippet_errors: list[str] = []

    @classmethod
    async def open(cls, db_path: str | Path, config: Config | None = None,
                   clock: Callable[[], float] = time.time) -> "Desk":
        return cls(await Store.open(db_path), config or Config(), clock)

    async def close(self) -> None:
        await self.store.close()

    def now(self) -> int:
        return int(self.clock())

    async def refresh(self, conv_ids: list[int] | set[int]) -> None:
        """Recompute state, status and rank of these conversations from their messages."""
        ids = sorted(conv_ids)
        for start in range(0, len(ids), 2000):
            summaries = await self._summaries(ids[start:start + 2000])
            # the customers' other open conversations take part in loud-customer ranking
            chunk = {s.id for s in summaries}
            others = await queries.open_conversations_of_customers(
                self.store, [s.customer_key for s in summaries if s.customer_key])
            summaries += await self._summaries([c for c in others if c not in chunk])
            priority.rank_customer_bursts(summaries, self.config.priority)
            await self.store.begin()
            await queries.write_summaries(self.store, summaries)
            await self.store.commit()

    async def _summaries(self, conv_ids: list[int]) -> list[queries.ConversationSummary]:
        facts = await queries.message_facts(self.store, conv_ids)
        statuses = await queries.conversation_statuses(self.store, conv_ids)
        tags = await queries.tags_of(self.store, conv_ids)
        return [priority.summarize(c, facts[c], *statuses.get(c, ("open", None)), self.config.priority,
                                   tags.get(c, ()))
                for c in conv_ids if facts.get(c)]

    async def refresh_all(self) -> None:
        await self.refresh(await queries.all_conversation_ids(self.store))

    async def queue_ids(self, query: str | None = None) -> list[int]:
        if query and query.strip():
            return await search_ids(self.store, query)
        return await queries.queue_ids(self.store, now=self.now())

    async def queue_rows(self, ids: list[int]) -> list[QueueRow]:
        rows = await queries.conversation_rows(self.store, ids)
        tags = await queries.tags_of(self.store, ids)
        per_customer = await queries.conversation_counts_by_customer(
            self.store, [r["customer_key"] for r in rows.values()])
        now = self.now()
        out = []
        for cid in ids:
            r = rows.get(cid)
            if r is None:
                continue
            summary = summary_from_row(r)
            ex = priority.explain(summary, now, self.config.priority, tags.get(cid, ()),
                                  per_customer.get(summary.customer_key, 0))
            out.append(QueueRow(
                id=cid,
                customer=sanitize_line(r["customer_name"] or r["customer_key"]),
                customer_addr=sanitize_line(r["customer_key"]),
                subject=sanitize_line(r["subject"]),
                status=r["status"],
                tags=tags.get(cid, ()),
                message_count=r["message_count"],
                last_date=dt.datetime.fromtimestamp(r["last_date"] or 0, UTC),
                score=ex.score, marker=ex.marker, reasons=ex.reasons, flags=ex.flags,
            ))
        return out

    async def conversation(self, conv_id: int) -> ConversationView | None:
        rows = await queries.conversation_rows(self.store, [conv_id])
        if conv_id not in rows:
            return None
        messages = await queries.messages_of(self.store, conv_id)
        [qrow] = await self.queue_rows([conv_id])
        return conversation_view(rows[conv_id], messages, qrow.tags, qrow.reasons)

    def snippets(self) -> list[Snippet]:
        if self._snippets is None:
            self._snippets, self.snippet_errors = load_snippets(default_snippet_dirs())
        return self._snippets

    async def threads(self) -> dict[int, list[str]]:
        return await queries.thread_message_ids(self.store)


def summary_from_row(r) -> queries.ConversationSummary:
    return queries.ConversationSummary(
        id=r["id"], subject=r["subject"], customer_name=r["customer_name"], customer_key=r["customer_key"],
        status=r["status"], message_count=r["message_count"], first_date=r["first_date"],
        last_date=r["last_date"], last_customer_date=r["last_customer_date"],
        last_agent_date=r["last_agent_date"], waiting_since=r["waiting_since"], burst=r["burst"],
        rank=r["rank"],
    )
