"""A desk with a crafted history whose report figures are known, for the Reports screen's tests
and snapshots (tests/test_reports_screen.py, tests/test_ui_snapshots.py).

Nine conversations over 18 days before NOW (a Friday, 12:00 UTC; the desk's zone is UTC, business
hours 09:00-17:00 Monday to Friday). Customers write at 10:00; agent1@helpdesk.test replies after
FRT minutes; closes and a reopen are the desk's own events (commands at the clock's time).

    name        day  FRT (min)  closed after          question group
    refund-a     0      30      60 min                 refund (4)
    refund-b     1      60      120 min                refund
    refund-c     7     120      3 h, reopened 1 d,     refund
                                closed again 1 d 1 h
    refund-d    15     240      -                      refund
    password-a   2      30      -                      password (3)
    password-b   9      -       -                      password
    password-c  16      60      -                      password
    invoice      3      90      120 min                -
    norway      17      -       -                      -

Known over the 30 days before NOW: 9 conversations, 2 unanswered, FRT median 1h p90 4h,
resolution (net) median 2h p90 1d 1h, 4 closed, FCR 3 of 4 (75%), 1 reopened, 5 known from mail
only; the busiest load hour is Wednesday 10:00 (3 messages in the period's 4 Wednesdays).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.mailfactory import BASE, make_mail
from tui_desk.config import Config, PriorityConfig
from tui_desk.desk.service import Desk
from tui_desk.mail.parse import parse_message
from tui_desk.store import ingest as store_ingest
from tui_desk.store.queries import thread_message_ids

UTC = dt.timezone.utc
NOW = BASE + dt.timedelta(days=18, hours=3)  # Friday 2026-11-20 12:00 UTC
CONFIG = Config(agent="alice", agent_addresses=("*@helpdesk.test",),
                priority=PriorityConfig(business_hours=(dt.time(9), dt.time(17)), timezone="UTC"))
AGENT = "Alice Martin <agent1@helpdesk.test>"

# name: (day, subject, body, FRT minutes or None)
ASKED = {
    "refund-a": (0, "Refund for order #1234", "I was charged twice for my order, please refund the second charge."),
    "refund-b": (1, "Refund for order #5678", "I was charged twice for this order. Please refund one charge."),
    "refund-c": (7, "Refund for order #9012", "Charged twice for my order - please refund the extra charge."),
    "refund-d": (15, "Refund for order #3456", "You charged me twice for the order, I want a refund of one charge."),
    "password-a": (2, "Cannot reset my password [b]now[/b]",
                   "The password reset link in the email does not work."),
    "password-b": (9, "Cannot reset my password [b]now[/b]", "The reset link for my password does not work."),
    "password-c": (16, "Cannot reset my password [b]now[/b]",
                   "Password reset link from the email does not work for me."),
    "invoice": (3, "Invoice address change", "Please put our new street on the next invoice."),
    "norway": (17, "Shipping to Norway?", "Do you deliver to Tromsø, and how long does it take?"),
}
FRT = {"refund-a": 30, "refund-b": 60, "refund-c": 120, "refund-d": 240, "password-a": 30, "password-c": 60,
       "invoice": 90}


class Clock:
    """The desk's clock (POSIX seconds), moved by the history as it is written."""

    def __init__(self, at: dt.datetime) -> None:
        self.now = at.timestamp()

    def __call__(self) -> float:
        return self.now

    def at(self, when: dt.datetime) -> None:
        self.now = when.timestamp()


def asked_at(name: str) -> dt.datetime:
    return BASE + dt.timedelta(days=ASKED[name][0], hours=1)


def mails() -> list[bytes]:
    out = []
    for name, (day, subject, body) in ASKED.items():
        minutes = day * 1440 + 60
        out.append(make_mail(f"{name}@customer.test", subject=subject, body=body + "\n",
                             sender=f"{name.title()} <{name}@customer.test>", minutes=minutes))
        if name in FRT:
            out.append(make_mail(f"{name}-reply@helpdesk.test", subject=f"Re: {subject}", sender=AGENT,
                                 to=f"{name}@customer.test", refs=[f"{name}@customer.test"],
                                 in_reply_to=f"{name}@customer.test", minutes=minutes + FRT[name],
                                 body="Thank you, this is done.\n"))
    return out


async def conversation_ids(desk: Desk) -> dict[str, int]:
    threads = await thread_message_ids(desk.store)
    return {name: next(c for c, ids in threads.items() if f"{name}@customer.test" in ids) for name in ASKED}


async def crafted_desk(path: Path, clock: Clock | None = None) -> Desk:
    """The desk of the module docstring at ``path`` (a new store), its clock left at NOW."""
    clock = clock or Clock(BASE)
    clock.at(BASE)
    desk = await Desk.open(path, CONFIG, clock=clock)
    parsed = [(r, parse_message(r)) for r in mails()]
    items = [store_ingest.NewMessage(raw=r, parsed=p, is_agent=CONFIG.is_agent_address(p.sender.key))
             for r, p in parsed]
    result = await store_ingest.ingest(desk.store, items)
    await desk.refresh(result.conversations)
    ids = await conversation_ids(desk)

    async def status(name: str, after: dt.timedelta, to: str) -> None:
        clock.at(asked_at(name) + after)
        await desk.set_status([ids[name]], to)

    minute = dt.timedelta(minutes=1)
    await status("refund-a", 60 * minute, "closed")
    await status("refund-b", 120 * minute, "closed")
    await status("invoice", 120 * minute, "closed")
    await status("refund-c", 180 * minute, "closed")
    await status("refund-c", dt.timedelta(days=1), "open")
    await status("refund-c", dt.timedelta(days=1, hours=1), "closed")
    clock.at(NOW)
    return desk


async def build_store(path: Path) -> None:
    """The crafted store written to ``path`` and closed (snapshots open it inside the app)."""
    desk = await crafted_desk(path)
    await desk.close()
