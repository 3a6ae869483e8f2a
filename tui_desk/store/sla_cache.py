"""The SLA plans' SQL (schema 12: conv_sla + sla_dirty, kept right by triggers).

A plan (desk.sla) is what a conversation's service levels are made of apart from the clock: due
moments and business-time marks. It is stale from any change of the conversation's mail, events,
tags or assignee (sla_dirty is marked whenever conv_dirty is, by this process, the sync or
another process alike) and wholly when the [sla] or calendar config changes (`invalidate_all`).
The desk reads the marks and the plans in one statement (`read`), computes what is missing or
marked, and `save` writes the plans and clears only the marks it read: a change that came
meanwhile has a newer seq and stays marked, so its plan is computed again next time.
"""

from __future__ import annotations

from typing import Iterable

from tui_desk.store.db import Store, as_json_list


async def read(store: Store, conv_ids: Iterable[int]) -> tuple[dict[int, bytes], dict[int, int | None]]:
    """(the up-to-date plans of these conversations by id, the others' marks: seq, None for a
    conversation without a mark but without a plan either). One statement: one snapshot."""
    plans: dict[int, bytes] = {}
    stale: dict[int, int | None] = {}
    async with store.db.execute(
            "SELECT j.value, d.seq, s.data FROM json_each(?) j LEFT JOIN sla_dirty d ON d.conv_id = j.value"
            " LEFT JOIN conv_sla s ON s.conv_id = j.value", (as_json_list(conv_ids),)) as cursor:
        cursor.row_factory = None  # plain tuples: the whole queue, 57k rows, at a time
        for conv_id, seq, data in await cursor.fetchall():
            if seq is None and data is not None:
                plans[conv_id] = data
            else:
                stale[conv_id] = seq
    return plans, stale


async def save(store: Store, rows: list[tuple[int, bytes]], seen: list[tuple[int, int]]) -> None:
    """Write plans (conv_id, data) and clear the marks `seen` ((conv_id, seq) as `read` gave
    them; a mark with a newer seq stays). Conversations gone meanwhile get no plan."""
    async with store.transaction():
        await store.executemany(
            "INSERT OR REPLACE INTO conv_sla(conv_id, data) SELECT ?, ? WHERE EXISTS (SELECT 1 FROM conversations"
            " WHERE id = ?)", [(c, d, c) for c, d in rows])
        await store.executemany("DELETE FROM sla_dirty WHERE conv_id = ? AND seq = ?", seen)


async def invalidate_all(store: Store) -> None:
    """No plan is right any more (the [sla] targets or the business calendar changed)."""
    async with store.transaction():
        await store.execute("DELETE FROM conv_sla")
