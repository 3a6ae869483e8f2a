"""What the merge tests share: a desk over a fresh store, mail added as the sync adds it, and
ann's two printer threads beside zed's invoice (two customers)."""

from __future__ import annotations

from tests.mailfactory import BASE, make_mail
from tui_desk.config import Config
from tui_desk.desk.service import Desk
from tui_desk.mail.parse import parse_message
from tui_desk.store import ingest as store_ingest
from tui_desk.store.queries import thread_message_ids

T0 = int(BASE.timestamp())
AGENTS = Config(agent_addresses=("*@helpdesk.test",))
AGENT = "Sam <sam@helpdesk.test>"


async def open_desk(tmp_path, name="m.db"):
    return await Desk.open(tmp_path / name, AGENTS, clock=lambda: T0 + 600 * 60)


async def add(desk, *raws):
    items = [store_ingest.NewMessage(raw=r, parsed=(p := parse_message(r)),
                                     is_agent=desk.config.is_agent_address(p.sender.key)) for r in raws]
    result = await store_ingest.ingest(desk.store, items)
    await desk.refresh(result.conversations)


async def conv_of(desk, message_id) -> int:
    return next(c for c, ids in (await thread_message_ids(desk.store)).items() if message_id in ids)


async def partition(desk) -> set[frozenset[str]]:
    return {frozenset(ids) for ids in (await thread_message_ids(desk.store)).values()}


async def snapshot(desk) -> dict:
    """Everything a merge, a split or their undo touches."""
    async def rows(sql):
        return [tuple(r) for r in await desk.store.fetchall(sql)]
    return {
        "conversations": await rows("SELECT * FROM conversations ORDER BY id"),
        "tags": await rows("SELECT conv_id, tag FROM tags ORDER BY 1, 2"),
        "messages": await rows("SELECT id, conv_id FROM messages ORDER BY id"),
        "thread_ids": await rows("SELECT msgid, conv_id FROM thread_ids ORDER BY msgid"),
        "aliases": await rows("SELECT old_id, new_id FROM conv_aliases ORDER BY old_id"),
        "drafts": await rows("SELECT conv_id, body_markdown FROM drafts ORDER BY conv_id"),
        "queue": await desk.queue_ids(),
    }


def two_threads() -> list[bytes]:
    # ann writes twice about one problem, in two threads; zed is somebody else
    return [
        make_mail("a1@t", subject="Printer broken", sender="Ann <ann@customer.test>"),
        make_mail("a2@t", subject="Re: Printer broken", sender=AGENT, refs=["a1@t"], in_reply_to="a1@t", minutes=10),
        make_mail("b1@t", subject="Still the printer", sender="Ann <ann@customer.test>", refs=["x-lost@t"],
                  minutes=20),
        make_mail("b2@t", subject="Re: Still the printer", sender="Ann <ann@customer.test>",
                  refs=["x-lost@t", "b1@t"], in_reply_to="b1@t", minutes=30),
        make_mail("z1@t", subject="Invoice", sender="Zed <zed@other.test>", minutes=40),
    ]


async def two_conversations(tmp_path, name="m.db"):
    desk = await open_desk(tmp_path, name)
    await add(desk, *two_threads())
    a, b = await conv_of(desk, "a1@t"), await conv_of(desk, "b1@t")
    assert a != b
    await desk.tag([a], ["printer"])
    await desk.assign([a], "sam")
    await desk.tag([b], ["urgent", "printer"])
    await desk.assign([b], "bob")
    await desk.set_status([b], "pending")
    return desk, a, b
