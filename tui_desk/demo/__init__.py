"""The bundled demo: a realistic support mailbox, generated deterministically, imported for real."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tui_desk.config import Config
from tui_desk.demo import mailbox as generator

DEMO_MESSAGES = 420
DEMO_SEED = 7
DEMO_DAYS = 10
DEMO_SETTLED_DAYS = 3  # conversations quiet for longer were closed by the demo's agents

DEMO_CONFIG = Config(agent="Alice Martin", agent_addresses=("*@helpdesk.test",))


def demo_end(now: dt.datetime | None = None) -> dt.datetime:
    """Newest demo mail: the current hour, so ages look like a live desk (fixed `now` → same bytes)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return now.astimezone(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)


def generate_demo_messages(end: dt.datetime) -> list:
    return generator.Generator(DEMO_MESSAGES, DEMO_SEED, end, DEMO_DAYS).generate()


def write_demo_mbox(path: Path, end: dt.datetime) -> Path:
    generator.write_mbox(generate_demo_messages(end), str(path))
    return path


async def settle_old_conversations(desk, end: dt.datetime) -> None:
    """A live desk has closed its old tickets; without this every demo row says "waiting 9d"."""
    from tui_desk.store import queries
    cutoff = int((end - dt.timedelta(days=DEMO_SETTLED_DAYS)).timestamp())
    old = await queries.last_active_before(desk.store, cutoff)
    async with desk.store.transaction():
        await queries.set_status(desk.store, old, "closed", cutoff)
    await desk.refresh(old)
