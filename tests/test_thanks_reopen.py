"""A customer's mail that only thanks after an agent's answer asks for nothing (desk.thanks, the
one rule): a closed or pending conversation stays as it was, and its history says so once; an
open one does not wait (no SLA clock, not "over the target"), ranks with the rows nobody waits
on, and its reason asks the agent to close it. A thank-you with a question, or "but it still
fails", is a normal mail. Real stores; the team case through Dovecot's keywords."""

from __future__ import annotations

import time

import pytest

from tests.accounts import AGENTS, agent
from tests.mailfactory import BASE, make_mail
from tui_desk.config import Config, PriorityConfig, SlaConfig
from tui_desk.desk.priority import NOT_WAITING_RANK
from tui_desk.desk.service import Desk
from tui_desk.mail.parse import parse_message
from tui_desk.store import ingest
from tui_desk.store.queries import conversation_rows, thread_message_ids

CONFIG = Config(agent="alice", agent_addresses=("*@helpdesk.test",), team=("alice", "bob"),
                priority=PriorityConfig(timezone="UTC", response_target_minutes=240),
                sla=SlaConfig(first_response_minutes=60, next_response_minutes=240))
CUSTOMER = "Ann <ann@c.test>"
BOB = "Bob <bob@helpdesk.test>"
THANKS = {"en": "Thanks, it worked!\n", "ru": "Спасибо, всё получилось!\n", "zh": "谢谢，问题解决了！\n",
          "ja": "ありがとうございました。解決しました。\n"}
MORE = {"question": "Thanks! Can I also change the e-mail address?\n",
        "still fails": "Thank you, but it still fails.\n", "ru but": "Спасибо, но ошибка осталась.\n",
        "zh question": "谢谢，还有一个问题？\n"}
THANKED_LINE = "thanked: not reopened"


def at(minutes: float) -> float:
    return (BASE.timestamp() + minutes * 60)


class Clock:
    def __init__(self, minutes: float) -> None:
        self.now = at(minutes)

    def __call__(self) -> float:
        return self.now


def question() -> bytes:
    return make_mail("q@t", subject="Login fails", sender=CUSTOMER, body="I cannot log in.\n")


def answer() -> bytes:
    return make_mail("a@t", subject="Re: Login fails", sender=BOB, refs=["q@t"], minutes=30,
                     body="I reset your login: use the link within 30 minutes.\n")


def reply(body: str, msgid: str = "t@t", minutes: float = 120) -> bytes:
    return make_mail(msgid, subject="Re: Login fails", sender=CUSTOMER, refs=["q@t", "a@t"], minutes=minutes,
                     body=f"{body}\n> I reset your login: use the link within 30 minutes.\n")


async def add(desk: Desk, raws: list[bytes]) -> None:
    items = [ingest.NewMessage(raw=r, parsed=(p := parse_message(r)),
                               is_agent=bool(p.sender and desk.config.is_agent_address(p.sender.key))) for r in raws]
    await desk.refresh((await ingest.ingest(desk.store, items)).conversations)


def follow_up(msgid: str = "f@t", refs: tuple[str, ...] = ("q@t", "a@t"), subject: str = "Re: Login fails",
              sender: str = CUSTOMER) -> bytes:
    """The customer writes again before the agent sets the status: with the answer last, the
    conversation is pending already (by the mail), and setting it pending would change nothing."""
    return make_mail(msgid, subject=subject, sender=sender, refs=list(refs), minutes=35,
                     body="Which link? I see none.\n")


async def answered_desk(tmp_path, clock: Clock) -> tuple[Desk, int]:
    desk = await Desk.open(tmp_path / "desk.db", CONFIG, clock=clock)
    await add(desk, [question(), answer()])
    [cid] = (await thread_message_ids(desk.store)).keys()
    return desk, cid


async def history_texts(desk: Desk, cid: int) -> list[str]:
    return [f"{h.agent} {h.text}" for h in await desk.history(cid) or []]


@pytest.mark.parametrize("lang", sorted(THANKS))
@pytest.mark.parametrize("status", ["closed", "pending"])
async def test_a_thank_you_leaves_a_closed_or_pending_conversation_as_it_was(tmp_path, lang, status):
    clock = Clock(40)
    desk, cid = await answered_desk(tmp_path, clock)
    try:
        await add(desk, [follow_up()])
        await desk.set_status([cid], status)
        clock.now = at(200)
        await add(desk, [reply(THANKS[lang])])
        assert (await conversation_rows(desk.store, [cid]))[cid]["status"] == status
        assert cid not in await desk.queue_ids()
        assert (await history_texts(desk, cid)).count(f"Ann {THANKED_LINE}") == 1
        await desk.refresh([cid])  # said once, however often the desk looks again
        assert (await history_texts(desk, cid)).count(f"Ann {THANKED_LINE}") == 1
    finally:
        await desk.close()


@pytest.mark.parametrize("kind", sorted(MORE))
async def test_a_thank_you_that_asks_more_reopens_as_any_mail_does(tmp_path, kind):
    clock = Clock(40)
    desk, cid = await answered_desk(tmp_path, clock)
    try:
        await desk.set_status([cid], "closed")
        clock.now = at(200)
        await add(desk, [reply(MORE[kind])])
        row = (await conversation_rows(desk.store, [cid]))[cid]
        assert (row["status"], row["waiting_since"]) == ("open", int(at(120)))
        assert await desk.queue_ids() == [cid]
        assert not any(THANKED_LINE in t for t in await history_texts(desk, cid))
    finally:
        await desk.close()


@pytest.mark.parametrize("lang", sorted(THANKS))
async def test_an_open_conversation_that_was_only_thanked_waits_for_nobody(tmp_path, lang):
    clock = Clock(60 * 20)  # 18 h after the thank-you: "over the target" if it counted
    desk, cid = await answered_desk(tmp_path, clock)
    try:
        await add(desk, [make_mail("w@t", subject="Where is my order", sender="Di <di@f.test>", minutes=100),
                         reply(THANKS[lang])])
        waiting = next(c for c in await desk.queue_ids() if c != cid)
        assert await desk.queue_ids() == [waiting, cid]  # the one that waits comes first
        stored = (await conversation_rows(desk.store, [cid]))[cid]
        assert (stored["status"], stored["waiting_since"]) == ("open", None)
        assert stored["rank"] >= NOT_WAITING_RANK - at(200) / 1e6
        [row] = await desk.queue_rows([cid])
        assert row.waiting_since is None and row.marker == " " and row.score == 0
        assert row.reasons[0] == "the customer only thanked after Bob's answer: close it?"
        assert not any("waiting" in r for r in row.reasons)
        assert row.sla is not None and [t.state for t in row.sla.targets] == ["met", "none", "none"]
        assert not any(THANKED_LINE in t for t in await history_texts(desk, cid))  # nothing was kept from it
    finally:
        await desk.close()


async def test_more_mail_after_the_thank_you_waits_from_that_mail(tmp_path):
    clock = Clock(600)
    desk, cid = await answered_desk(tmp_path, clock)
    try:
        await add(desk, [reply(THANKS["en"]), reply("Oh, and the app logs me out every hour.\n", "more@t", 300)])
        row = (await conversation_rows(desk.store, [cid]))[cid]
        assert (row["status"], row["waiting_since"]) == ("open", int(at(300)))
        [queued] = await desk.queue_rows([cid])
        assert not any("only thanked" in r for r in queued.reasons)
    finally:
        await desk.close()


async def test_the_team_reads_the_same_status_from_the_keywords(tmp_path, dovecot, mail_user):
    """Alice closes and Bob pends through the server; the customer's thank-you reopens neither
    on either desk, and her next question reopens both on both."""
    dovecot.load_maildir(mail_user, [question(), answer(),
                                     make_mail("p@t", subject="Invoice", sender="Di <di@f.test>", minutes=5),
                                     make_mail("pa@t", subject="Re: Invoice", sender=BOB, refs=["p@t"], minutes=30),
                                     follow_up("pf@t", ("p@t", "pa@t"), "Re: Invoice", "Di <di@f.test>")])
    alice, alice_sync = await agent(tmp_path, "alice", dovecot, mail_user)
    bob, bob_sync = await agent(tmp_path, "bob", dovecot, mail_user)
    assert AGENTS.is_agent_address("bob@helpdesk.test")

    async def conv(desk: Desk, message_id: str) -> int:
        return next(c for c, ids in (await thread_message_ids(desk.store)).items() if message_id in ids)

    async def statuses() -> set[tuple[str, str]]:
        out = set()
        for d in (alice, bob):
            for m in ("q@t", "p@t"):
                cid = await conv(d, m)
                out.add((m, (await conversation_rows(d.store, [cid]))[cid]["status"]))
        return out

    await alice.set_status([await conv(alice, "q@t")], "closed")
    await bob.set_status([await conv(bob, "p@t")], "pending")
    for s in (alice_sync, bob_sync, alice_sync):
        await s.sync_once()
    assert await statuses() == {("q@t", "closed"), ("p@t", "pending")}
    later = (time.time() - BASE.timestamp()) / 60 + 10  # after the status was set, by the wall clock
    dovecot.deliver(mail_user, reply(THANKS["ja"], minutes=later))
    dovecot.deliver(mail_user, make_mail("pt@t", subject="Re: Invoice", sender="Di <di@f.test>", refs=["p@t", "pa@t", "pf@t"],
                                         minutes=later, body="Спасибо, всё получилось!\n"))
    for s in (alice_sync, bob_sync):
        await s.sync_once()
    assert await statuses() == {("q@t", "closed"), ("p@t", "pending")}
    for d in (alice, bob):
        assert await d.queue_ids() == []
    dovecot.deliver(mail_user, reply(MORE["question"], "more@t", later + 5))
    for s in (alice_sync, bob_sync):
        await s.sync_once()
    assert await statuses() == {("q@t", "open"), ("p@t", "pending")}
    for d in (alice, bob):
        await d.close()

