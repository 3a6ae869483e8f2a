"""Raw mail into a desk's store, and the conversations the store made of it."""

from __future__ import annotations

from tui_desk.desk.service import Desk
from tui_desk.mail.parse import parse_message
from tui_desk.store import ingest as store_ingest
from tui_desk.store.queries import thread_message_ids


async def add(desk: Desk, raws: list[bytes], batch: int | None = None) -> None:
    items = [store_ingest.NewMessage(raw=r, parsed=parse_message(r)) for r in raws]
    step = batch or len(items)
    for i in range(0, len(items), step):
        result = await store_ingest.ingest(desk.store, items[i:i + step])
        await desk.refresh(result.conversations)


async def partition(desk: Desk) -> set[frozenset[str]]:
    return {frozenset(ids) for ids in (await thread_message_ids(desk.store)).values()}
