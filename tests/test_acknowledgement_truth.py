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


async def test_the_acknowledgement_answers_questions_not_thanks_nor_replies_that_did_not_thread(tmp_path,
                                                                                               monkeypatch):
    """The tryout's #150: "Thanks, that worked!" under "Re: <the subject of the customer's
    conversation>", no In-Reply-To, got "a person will answer in about 5 hours". The conversation
    stays (threading is by references only); the acknowledgement holds its reply and says why."""
    from tui_desk.config import AutoReplyConfig
    from tui_desk.desk.rules import Event, plan
    from tui_desk.desk.rules.acknowledge import acknowledgement_rule
    from tui_desk.desk.rules.facts import gather_many
    clock = Clock(T0 + 40 * 86400)
    config = Config(agent="alice", agent_addresses=AGENTS, autoreply=AutoReplyConfig(acknowledge=True))
    desk = await Desk.open(tmp_path / "d.db", config, clock=clock)
    days = 40 * 24 * 60

    def at(msgid: str, sender: str, subject: str, minutes: float, body: str) -> bytes:
        return make_mail(msgid, sender=sender, subject=subject, minutes=minutes, body=body)
    try:
        earlier = await add(desk, at("order@t", "Ann <ann@c.test>", "Order #80273 arrived damaged", days - 600,
                                     "The box was crushed.\n"))
        old = await add(desk, at("old@t", "Ann <ann@c.test>", "Invoice copy", 0, "Could I have a copy?\n"))
        cases = {
            "thanks@t": at("thanks@t", "Ann <ann@c.test>", "Re: Order #80273 arrived damaged", days - 20,
                           "Thanks, that worked!\n\n> We sent a new one.\n"),
            "again@t": at("again@t", "Ann <ann@c.test>", "RE: Order #80273 arrived damaged", days - 15,
                          "The new one is damaged too. What now?\n"),
            "other@t": at("other@t", "Bo <bo@d.test>", "Re: Order #80273 arrived damaged", days - 10,
                          "Mine too, what can I do?\n"),
            "stale@t": at("stale@t", "Ann <ann@c.test>", "Re: Invoice copy", days - 5, "And for October?\n"),
            "new@t": at("new@t", "Ann <ann@c.test>", "Cannot log in", days - 1, "It says my password is wrong.\n"),
        }
        convs = {mid: await add(desk, raw) for mid, raw in cases.items()}
        rules = [acknowledgement_rule(config)]
        events = [Event("new", cid, int(clock.now)) for cid in convs.values()]
        held = {mid: [p.held for p in plan(rules, e, f)]
                for (mid, e, f) in zip(convs, events, await gather_many(desk, rules, events))}
        assert held == {
            "thanks@t": ["the customer only thanks: no question to acknowledge"],
            "again@t": [f"a reply to #{earlier} 'Order #80273 arrived damaged' of the same customer: no new question"],
            "other@t": [None],  # another customer's "Re:" is their question
            "stale@t": [None],  # the customer's conversation of that subject went quiet 40 days ago
            "new@t": [None],
        }
        assert old != convs["stale@t"]  # nothing was threaded by subject
    finally:
        await desk.close()
