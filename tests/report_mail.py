"""Mail at known minutes for the metrics and report tests (tests/test_reports.py,
tests/test_csat_report.py): a desk in UTC whose agents write from @helpdesk.test, mail ingested as
the sync files it, the period of November 2026."""

from __future__ import annotations

from tests.mailfactory import BASE, make_mail
from tui_desk.config import Config, PriorityConfig
from tui_desk.desk.service import Desk
from tui_desk.mail.parse import parse_message
from tui_desk.store import ingest as store_ingest
from tui_desk.store.queries import thread_message_ids

T0 = int(BASE.timestamp())  # Monday 2026-11-02 09:00 UTC
MIN = 60
HOUR = 3600
DAY = 86400
SINCE, UNTIL = "2026-11-01", "2026-11-30"  # the CLI's dates: until is that day included
P_SINCE = int(BASE.replace(day=1, hour=0).timestamp())
P_UNTIL = int(BASE.replace(day=30, hour=0).timestamp()) + DAY
UTC_DESK = Config(agent="alice", agent_addresses=("*@helpdesk.test",), priority=PriorityConfig(timezone="UTC"))
CONFIG_TOML = 'agent = "alice"\nagent_addresses = ["*@helpdesk.test"]\n[priority]\ntimezone = "UTC"\n'


def at(minutes: float) -> int:
    return T0 + int(minutes * MIN)


def auto_replied(raw: bytes) -> bytes:
    return b"Auto-Submitted: auto-replied\r\n" + raw


async def ingest(desk: Desk, *raws: bytes) -> None:
    """As the sync files mail: is_agent from the config's agent addresses."""
    items = []
    for r in raws:
        parsed = parse_message(r)
        items.append(store_ingest.NewMessage(raw=r, parsed=parsed,
                                             is_agent=bool(parsed.sender and desk.config.is_agent_address(parsed.sender.key))))
    result = await store_ingest.ingest(desk.store, items)
    await desk.refresh(result.conversations)


async def conv_of(desk: Desk, message_id: str) -> int:
    return next(c for c, ids in (await thread_message_ids(desk.store)).items() if message_id in ids)


async def customer(desk: Desk, msgid: str, minutes: float, sender: str, refs: list[str] = (),
                   subject: str = "Hello", body: str = "Hi there.\n") -> None:
    await ingest(desk, make_mail(msgid, sender=sender, minutes=minutes, refs=list(refs),
                                 in_reply_to=refs[-1] if refs else None, subject=subject, body=body))
