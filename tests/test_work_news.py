"""Work that comes to me says so (Help Scout, Front): a notice once when a teammate assigns a
conversation to me (it arrives by sync), and once when a customer writes in a conversation
assigned to me, or one where my reply was the last mail (pending, waiting on the customer).
Never for my own actions, not again at the next start. Two agents, two stores, one real Dovecot
mailbox (and the SMTP sink for a sent reply)."""

from __future__ import annotations

import dataclasses

from tests.accounts import AGENTS, account_for, agent, replying_desk
from tests.clock import Clock
from tests.mailfactory import make_mail
from tui_desk.desk import commands
from tui_desk.desk.service import Desk
from tui_desk.store.queries import thread_message_ids
from tui_desk.sync.imap_sync import AccountSync


async def conv_of(desk, message_id) -> int:
    return next(c for c, ids in (await thread_message_ids(desk.store)).items() if message_id in ids)


async def reopened(desk: Desk) -> Desk:
    path, config = desk.store.path, desk.config
    await desk.close()
    return await Desk.open(path, config)


def sync_of(desk: Desk, dovecot, user) -> AccountSync:
    [account] = desk.config.accounts
    return AccountSync(desk.store, account, dovecot.password_of(user), is_agent=desk.config.is_agent_address,
                       on_change=desk.refresh)


async def test_a_teammates_assignment_and_a_customers_reply_to_mine_are_said_once(tmp_path, dovecot, mail_user):
    dovecot.load_maildir(mail_user, [make_mail("w1@t", subject="Refund \x1b[31mtwice", sender="Ann Lee <ann@c.test>",
                                               minutes=-30),
                                     make_mail("w2@t", subject="Export broken", sender="Dan <dan@c.test>",
                                               minutes=-20),
                                     make_mail("w3@t", subject="Login loop", sender="Eve <eve@c.test>",
                                               minutes=-10)])
    alice, alice_sync = await agent(tmp_path, "Alice Martin", dovecot, mail_user)
    bob, bob_sync = await agent(tmp_path, "Bob Okafor", dovecot, mail_user)
    assert await bob.work_news() == [] and await alice.work_news() == []  # first looks take note
    refund, export, login = [await conv_of(alice, m) for m in ("w1@t", "w2@t", "w3@t")]
    b_refund, b_export, b_login = [await conv_of(bob, m) for m in ("w1@t", "w2@t", "w3@t")]
    await commands.assign(alice, [refund], "Bob Okafor")
    await commands.assign(alice, [export], "Alice Martin")
    await commands.assign(bob, [b_login], "Bob Okafor")  # my own: never told
    assert await alice.work_news() == [] and await bob.work_news() == []
    await alice_sync.sync_once()
    await bob_sync.sync_once()
    await alice_sync.sync_once()
    assert await alice.work_news() == []  # Bob took #login for himself: not Alice's

    news = await bob.work_news()
    assert [(n.conv_id, n.kind, n.who) for n in news] == [(b_refund, "assigned", "Alice Martin")]
    assert news[0].text == f"Alice Martin assigned #{b_refund} to you: Refund twice"  # sanitized
    assert await bob.work_news() == []  # said once
    bob = await reopened(bob)
    assert await bob.work_news() == []  # and not again at the next start

    dovecot.load_maildir(mail_user, [
        make_mail("w4@t", subject="Re: Refund twice", sender="Ann Lee <ann@c.test>", refs=["w1@t"]),
        make_mail("w5@t", subject="Re: Export broken", sender="Dan <dan@c.test>", refs=["w2@t"]),
        make_mail("w6@t", subject="Re: Login loop", sender="Eve <eve@c.test>", refs=["w3@t"], minutes=1),
        make_mail("w7@t", subject="Re: Login loop", sender="Eve <eve@c.test>", refs=["w3@t"], minutes=2)])
    bob_sync = sync_of(bob, dovecot, mail_user)
    await bob_sync.sync_once()
    await alice_sync.sync_once()
    news = await bob.work_news()
    assert [n.text for n in news] == [f"Ann Lee replied on #{b_refund} (assigned to you): Refund twice",
                                      f"Eve replied on #{b_login} (assigned to you): Login loop"]  # one a conversation
    assert [n.text for n in await alice.work_news()] == [
        f"Dan replied on #{export} (assigned to you): Export broken"]
    assert await bob.work_news() == [] and await alice.work_news() == []
    bob = await reopened(bob)
    assert await bob.work_news() == []

    for d in (alice, bob):
        await d.close()


async def test_a_customers_answer_to_my_last_reply_is_said_not_to_a_teammate(tmp_path, dovecot, mail_user, smtp_sink):
    """Pending, waiting on the customer: the customer's answer to my reply tells me, though the
    conversation is nobody's; a teammate's store that saw the same mail says nothing."""
    clock = Clock()
    desk, sync, sender, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port, clock)
    chen = await Desk.open(tmp_path / "chen.db", dataclasses.replace(AGENTS, agent="Chen Wei",
                                                                     accounts=(account_for(dovecot, mail_user),)))
    chen_sync = sync_of(chen, dovecot, mail_user)
    await chen_sync.sync_once()
    assert await desk.work_news() == [] and await chen.work_news() == []
    await desk.reply(conv, "Your refund is on its way.")
    await commands.set_status(desk, [conv], "pending")
    clock.now += 11
    await sender.run_due()
    await sync.sync_once()
    assert await desk.work_news() == []  # my own reply says nothing
    dovecot.load_maildir(mail_user, [make_mail("q2@t", subject="Re: Refund for order #123", refs=["q1@t"],
                                               sender="Ann Lee <ann@c.test>", minutes=60 * 24 * 60)])
    await sync.sync_once()
    await chen_sync.sync_once()
    assert [n.text for n in await desk.work_news()] == [
        f"Ann Lee replied on #{conv} (you replied last): Refund for order #123"]
    assert await chen.work_news() == []
    await chen.close()
    await desk.close()
