"""The open queue kept up to date by what changed (desk.queue_ids) equals the queue read whole,
after every kind of change: random sequences of actions (tag with tag weights, close, reopen,
pending, snooze to a time and until a reply, wake, assign, undo, merge, split), new mail through
the same desk, the clock passing snooze ends, and another process writing to the store."""

from __future__ import annotations

import datetime as dt
import mailbox
import random
import shutil
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from tui_desk.config import Config, PriorityConfig
from tui_desk.desk import queue_ids
from tui_desk.desk.importer import import_paths
from tui_desk.desk.service import Desk
from tui_desk.store import queries

try:
    from tests.clock import Clock
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from clock import Clock

START = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.timezone.utc)
# tags move ranks (minutes of boost); customers write several mails in a burst (loud), so a change
# to one conversation re-ranks the customer's others
CONFIG = Config(agent="alice", agent_addresses=("*@helpdesk.test",),
                priority=PriorityConfig(timezone="UTC", loud_messages=2, loud_window_minutes=30,
                                        tag_weights={"vip": 300, "later": -200, "bug": 45}))
CUSTOMERS = [f"Customer {n} <c{n}@shop{n % 4}.test>" for n in range(9)]
SUBJECTS = ["Refund", "Cannot log in", "URGENT: invoice", "Dark mode", "Export fails", "Password reset",
            "Shipping", "Broken link"]
TAGS = ["vip", "later", "bug", "misc"]


def _mail(n: int, sender: str, subject: str, at: dt.datetime, reply_to: str | None = None) -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = "Support <support@helpdesk.test>"
    m["Subject"] = subject
    m["Date"] = format_datetime(at)
    m["Message-ID"] = f"<q{n}@queue.example>"
    if reply_to:
        m["In-Reply-To"] = reply_to
    m.set_content(f"Message {n}: {subject}\n")
    return bytes(m)


def _mbox(path: Path, first: int, count: int, rng: random.Random) -> Path:
    box = mailbox.mbox(path)
    for n in range(first, first + count):
        sender = rng.choice(CUSTOMERS)
        at = START - dt.timedelta(minutes=rng.randrange(5, 3000))
        earlier = rng.randrange(first, n) if n > first and rng.random() < 0.3 else None
        box.add(_mail(n, sender, rng.choice(SUBJECTS), at, f"<q{earlier}@queue.example>" if earlier else None))
    box.close()
    return path


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    import asyncio

    root = tmp_path_factory.mktemp("queue_ids")
    mbox = _mbox(root / "support.mbox", 1, 60, random.Random(7))

    async def build() -> None:
        desk = await Desk.open(root / "template.db", CONFIG, clock=START.timestamp)
        try:
            await import_paths(desk, [mbox], workers=1)
        finally:
            await desk.close()

    asyncio.run(build())
    return root / "template.db"


async def _whole(desk: Desk) -> list[int]:
    return await queries.queue_ids(desk.store, now=desk.now())


async def _check(desk: Desk, what: str) -> None:
    kept = await desk.queue_ids()
    assert kept == await _whole(desk), what
    assert kept == await desk.view_ids(None), what


async def test_the_list_kept_up_to_date_moves_only_what_changed(template, tmp_path):
    shutil.copy(template, tmp_path / "desk.db")
    clock = Clock()
    clock.now = START.timestamp()
    desk = await Desk.open(tmp_path / "desk.db", CONFIG, clock=clock)
    try:
        ids = await desk.queue_ids()
        assert len(ids) > 10 and desk.open_queue.full_reads == 1
        top, middle = ids[0], ids[len(ids) // 2]
        await desk.set_status([top], "closed")
        after = await desk.queue_ids()
        assert top not in after and after == await _whole(desk)
        await desk.tag([middle], ["vip"])  # a weight: it moves up
        moved = await desk.queue_ids()
        assert moved.index(middle) < after.index(middle) and moved == await _whole(desk)
        await desk.undo()
        await desk.undo()
        assert await desk.queue_ids() == ids
        assert desk.open_queue.full_reads == 1  # all of it without reading the list again
    finally:
        await desk.close()


@pytest.mark.parametrize("seed", range(6))
async def test_random_actions_keep_the_list_equal_to_the_whole_read(template, tmp_path, seed, monkeypatch):
    if seed % 2:  # the ids that leave taken out in one pass over the list, not one by one
        monkeypatch.setattr(queue_ids, "FEW_LEAVING", 0)
    rng = random.Random(seed)
    shutil.copy(template, tmp_path / "desk.db")
    clock = Clock()
    clock.now = START.timestamp()
    desk = await Desk.open(tmp_path / "desk.db", CONFIG, clock=clock)
    other = await Desk.open(tmp_path / "desk.db", CONFIG, clock=clock)  # another process's writes
    next_mail = 1000
    kinds: dict[str, int] = {}
    try:
        await _check(desk, "start")
        for step in range(70):
            shown = await desk.queue_ids()
            every = await queries.all_conversation_ids(desk.store)
            pick = rng.choice(shown) if shown and rng.random() < 0.8 else rng.choice(every)
            kind = rng.choice(["tag", "untag", "close", "reopen", "pending", "snooze", "snooze_reply", "wake",
                               "assign", "undo", "undo", "merge", "split", "mail", "clock", "other", "many"])
            kinds[kind] = kinds.get(kind, 0) + 1
            if kind == "tag":
                await desk.tag([pick], [rng.choice(TAGS)])
            elif kind == "untag":
                await desk.tag([pick], remove=[rng.choice(TAGS)])
            elif kind in ("close", "reopen", "pending"):
                await desk.set_status([pick], {"close": "closed", "reopen": "open", "pending": "pending"}[kind])
            elif kind == "snooze":
                await desk.snooze([pick], rng.choice(["3h", "1d", "30m", "tomorrow 9:00"]))
            elif kind == "snooze_reply":
                await desk.snooze([pick], "until reply")
            elif kind == "wake":
                await desk.snooze([pick], "off")
            elif kind == "assign":
                await desk.assign([pick], rng.choice(["alice", "bob", None]))
            elif kind == "undo":
                await desk.undo()
            elif kind == "merge" and len(every) > 2:
                keep, fold = rng.sample(every, 2)
                await desk.merge(keep, [fold], different_customers=True)
            elif kind == "split":
                rows = await desk.store.fetchall(
                    "SELECT id FROM messages WHERE conv_id IN (SELECT conv_id FROM messages GROUP BY conv_id"
                    " HAVING count(*) > 1)")
                if rows:
                    await desk.split(rng.choice(rows)[0])
            elif kind == "mail":  # new mail through this desk's connection, as the sync stores it
                mbox = _mbox(tmp_path / f"new{step}.mbox", next_mail, rng.randrange(1, 4), rng)
                next_mail += 10
                await import_paths(desk, [mbox], workers=1)
            elif kind == "clock":  # snoozes run out
                clock.now += rng.choice([600, 3 * 3600, 26 * 3600])
            elif kind == "other":
                await other.set_status([pick], rng.choice(["closed", "open", "pending"]))
            elif kind == "many":
                await desk.tag(rng.sample(every, min(len(every), 8)), [rng.choice(TAGS)])
            await _check(desk, f"seed {seed} step {step}: {kind} #{pick}")
        assert desk.open_queue.full_reads < 70  # most steps moved ids instead of reading them all
    finally:
        await other.close()
        await desk.close()


async def test_a_transaction_rolled_back_after_a_read_leaves_no_trace(template, tmp_path):
    """The connection is shared (the app, the sync): a list read while another task's transaction
    is open shows its changes, as a whole read does, but is not kept: the rollback takes the
    notes of what moved with it."""
    import asyncio

    shutil.copy(template, tmp_path / "desk.db")
    desk = await Desk.open(tmp_path / "desk.db", CONFIG, clock=START.timestamp)
    try:
        ids = await desk.queue_ids()
        started, release = asyncio.Event(), asyncio.Event()

        async def writer() -> None:
            with pytest.raises(RuntimeError):
                async with desk.store.transaction():
                    await queries.set_status(desk.store, [ids[0]], "closed", desk.now())
                    started.set()
                    await release.wait()
                    raise RuntimeError("rolled back")

        task = asyncio.create_task(writer())
        await started.wait()
        assert ids[0] not in await desk.queue_ids()
        release.set()
        await task
        assert await desk.queue_ids() == ids == await _whole(desk)
    finally:
        await desk.close()
