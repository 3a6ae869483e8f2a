"""The acknowledgement tells the truth (s17 tryout): the queue row's age is the customer's wait,
not the age of the desk's own acknowledgement. Real stores; a clock the test moves."""

from __future__ import annotations

import datetime as dt

from tests.clock import Clock
from tests.mailfactory import BASE, make_mail, mail
from tui_desk.config import Config
from tui_desk.desk.service import Desk
from tui_desk.mail.parse import parse_message
from tui_desk.store import ingest

T0 = BASE.timestamp()
AGENTS = ("*@helpdesk.test",)


async def add(desk: Desk, *raws: bytes) -> int:
    items = [ingest.NewMessage(raw=r, parsed=(p := parse_message(r)), is_agent=desk.config.is_agent_address(p.sender.key))
             for r in raws]
    result = await ingest.ingest(desk.store, items)
    await desk.refresh(result.conversations)
    return (await desk.store.fetchone("SELECT conv_id FROM messages WHERE message_id=?",
                                      (parse_message(raws[0]).message_id,)))[0]


def ack(minutes: float) -> bytes:
    date = (BASE + dt.timedelta(minutes=minutes)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    return mail(f"From: Support <support@helpdesk.test>\nTo: ann@c.test\nSubject: Re: Help\n"
                f"Message-ID: <ack@helpdesk.test>\nIn-Reply-To: <help@t>\nAuto-Submitted: auto-replied\nDate: {date}",
                "We have your mail.\n")


async def test_a_rows_age_is_the_customers_wait_not_the_acknowledgements(tmp_path):
    clock = Clock(T0 + 17 * 60)
    desk = await Desk.open(tmp_path / "d.db", Config(agent="alice", agent_addresses=AGENTS), clock=clock)
    try:
        conv = await add(desk, make_mail("help@t", sender="Ann <ann@c.test>", subject="Help"), ack(13))
        [row] = await desk.queue_rows([conv])
        assert row.last_date.timestamp() == T0 + 13 * 60  # the newest message is the acknowledgement
        assert row.age_from.timestamp() == T0  # the customer has waited 17 minutes, as the reasons say
        assert any("17m" in r for r in row.reasons), row.reasons
        await add(desk, make_mail("answer@t", sender="Alice <alice@helpdesk.test>", subject="Re: Help",
                                  in_reply_to="help@t", refs=["help@t"], minutes=20))
        [row] = await desk.queue_rows([conv])
        assert row.age_from == row.last_date and row.last_date.timestamp() == T0 + 20 * 60  # answered: nobody waits
    finally:
        await desk.close()
