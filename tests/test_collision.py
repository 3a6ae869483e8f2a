"""Collision detection, against the suite's Dovecot and aiosmtpd sink.

- "alice is replying": opening a reply sets td:replying:alice on the conversation's mail; a
  teammate's client shows it after a sync, a teammate's own triage does not wipe it, closing the
  reply (or alice's next start after a crash) removes it, and a stale one expires.
- Before SMTP the outbox syncs the account once more: if the customer wrote again, or a teammate
  replied, after the agent began writing, the reply is held (nothing reaches the SMTP server)
  with the news named; the agent sends anyway or discards. Caught every time, over many rounds.
"""

from __future__ import annotations

import dataclasses
import time

import pytest

from tests.accounts import config_for, live
from tests.mailfactory import make_mail
from tui_desk.desk import commands, keywords
from tui_desk.desk.service import Desk
from tui_desk.mail.imap import ImapError
from tui_desk.sync.delivery import OutboxSender
from tui_desk.sync.imap_sync import AccountSync
from tui_desk.store import outbox
from tui_desk.store.queries import thread_message_ids


async def open_agent(tmp_path, name, dovecot, user, smtp_port) -> tuple[Desk, AccountSync, OutboxSender]:
    """One agent's client: own store, the shared mailbox, the shared SMTP server. The sender
    re-syncs the account right before SMTP, as the app's background does."""
    config = dataclasses.replace(config_for(dovecot, user, smtp_port), agent=name)
    desk = await Desk.open(tmp_path / f"{name}.db", config)
    sync = AccountSync(desk.store, config.accounts[0], dovecot.password_of(user),
                       is_agent=config.is_agent_address, on_change=desk.refresh)
    await sync.sync_once()

    async def recheck(account: str) -> None:
        await sync.sync_once()
    sender = OutboxSender(desk.store, config, lambda a, k: "secret", on_change=desk.refresh, recheck=recheck,
                          clock_text=desk.clock_text)
    return desk, sync, sender


async def conv_of(desk: Desk, message_id: str) -> int:
    return next(c for c, ids in (await thread_message_ids(desk.store)).items() if message_id in ids)


def customer_mail(n: int, refs: list[str]) -> bytes:
    return make_mail(f"again{n}@c.test", sender="Ann Lee <ann@c.test>", subject="Re: Refund",
                     refs=refs, in_reply_to=refs[-1], minutes=10 + n, body=f"Any news? ({n})\n")


async def test_replying_marker_is_seen_by_the_teammate_survives_their_triage_and_goes_away(
        tmp_path, dovecot, mail_user, smtp_sink):
    dovecot.load_maildir(mail_user, [make_mail("r1@c.test", sender="Ann Lee <ann@c.test>", subject="Refund")])
    alice, alice_sync, _ = await open_agent(tmp_path, "alice", dovecot, mail_user, smtp_sink.port)
    bob, bob_sync, _ = await open_agent(tmp_path, "Bob Ng", dovecot, mail_user, smtp_sink.port)
    a, b = await conv_of(alice, "r1@c.test"), await conv_of(bob, "r1@c.test")

    await alice.reply_started(a)
    await alice_sync.sync_once()
    await bob_sync.sync_once()
    assert (await bob.conversation(b)).replying == ("alice",)
    assert (await alice.conversation(a)).replying == ()  # not a warning about oneself

    # bob tags and closes meanwhile: conversation state changes, alice's marker stays
    await commands.tag(bob, [b], ["billing"])
    await bob_sync.sync_once()
    await alice_sync.sync_once()
    assert (await alice.conversation(a)).tags == ("billing",)
    assert (await bob.conversation(b)).replying == ("alice",)

    await alice.reply_ended(a)
    await alice_sync.sync_once()
    await bob_sync.sync_once()
    assert (await bob.conversation(b)).replying == ()

    # bob (a name with a space) replies, then his app dies: his next start clears it
    await bob.reply_started(b)
    await bob_sync.sync_once()
    await alice_sync.sync_once()
    assert (await alice.conversation(a)).replying == ("bob ng",)
    await bob.close()
    bob, bob_sync, _ = await open_agent(tmp_path, "Bob Ng", dovecot, mail_user, smtp_sink.port)
    await bob.clear_own_replying_marks()
    await bob_sync.sync_once()
    await alice_sync.sync_once()
    assert (await alice.conversation(a)).replying == ()

    # a marker nobody removes (a crash, no restart) is ignored after REPLYING_EXPIRES
    await bob.reply_started(b)
    await bob_sync.sync_once()
    await alice_sync.sync_once()
    assert (await alice.conversation(a)).replying == ("bob ng",)
    start = time.time()
    alice.clock = lambda: start + keywords.REPLYING_EXPIRES + 1
    assert (await alice.conversation(a)).replying == ()
    for d in (alice, bob):
        await d.close()


async def test_customer_writing_again_holds_the_reply_every_time(tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    dovecot.load_maildir(mail_user, [make_mail("h1@c.test", sender="Ann Lee <ann@c.test>", subject="Refund")])
    desk, sync, sender = await open_agent(tmp_path, "alice", dovecot, mail_user, smtp_sink.port)
    conv = await conv_of(desk, "h1@c.test")
    refs = ["h1@c.test"]
    for n in range(6):
        seen = await desk.reply_started(conv)
        dovecot.deliver(mail_user, customer_mail(n, refs))  # while alice writes; her store has not synced
        outbox_id, _ = await desk.reply(conv, f"Hi {{{{customer_first_name}}}}, round {n}.", seen_upto=seen)
        item = await outbox.get(desk.store, outbox_id)
        await desk.store.execute("UPDATE outbox SET send_at=0 WHERE id=?", (outbox_id,))  # due now
        report = await sender.run_due()
        assert report.held == [item.message_id] and report.sent == []
        held = await outbox.get(desk.store, outbox_id)
        assert held.state == "held" and "Ann Lee wrote again" in held.last_error
        # the news is in the conversation for the agent to read
        assert f"again{n}@c.test" in (await thread_message_ids(desk.store))[conv]
        await desk.reply_ended(conv)
        await desk.discard_send(outbox_id)
        # u afterwards (the app's pending send) says what became of it
        with pytest.raises(ValueError, match=f"^nothing to undo: the reply to #{conv} was discarded$"):
            await desk.cancel_send(outbox_id)
        refs.append(f"again{n}@c.test")
    assert smtp_sink.messages == []  # nothing reached the SMTP server, in any round

    # nothing new since: the reply goes; "send anyway" sends a held one exactly once
    seen = await desk.reply_started(conv)
    first, _ = await desk.reply(conv, "Refund done.", seen_upto=seen)
    dovecot.deliver(mail_user, customer_mail(99, refs))
    await desk.store.execute("UPDATE outbox SET send_at=0 WHERE id=?", (first,))
    assert (await sender.run_due()).held
    said = await desk.send_anyway(first)
    assert "sending" in said
    report = await sender.run_due()
    assert len(report.sent) == 1 and len(smtp_sink.wait_for(1)) == 1
    # alice's own sent reply is not news to her next one
    second, _ = await desk.reply(conv, "One more thing.", seen_upto=await desk.reply_started(conv))
    await desk.store.execute("UPDATE outbox SET send_at=0 WHERE id=?", (second,))
    report = await sender.run_due()
    assert len(report.sent) == 1 and not report.held and len(smtp_sink.wait_for(2)) == 2
    await desk.close()


async def test_a_teammates_reply_meanwhile_holds_mine(tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    dovecot.load_maildir(mail_user, [make_mail("t1@c.test", sender="Ann Lee <ann@c.test>", subject="Refund")])
    alice, _, alice_sender = await open_agent(tmp_path, "Alice Martin", dovecot, mail_user, smtp_sink.port)
    bob, bob_sync, bob_sender = await open_agent(tmp_path, "Bob Ng", dovecot, mail_user, smtp_sink.port)
    a, b = await conv_of(alice, "t1@c.test"), await conv_of(bob, "t1@c.test")
    seen = await alice.reply_started(a)
    # bob answers first: his reply goes out from the shared mailbox (its From names the mailbox,
    # not bob), is filed in Sent, and his history (the reply event, naming him) reaches the server
    bob_id, _ = await bob.reply(b, "Refunded, Ann.", seen_upto=await bob.reply_started(b))
    await bob.store.execute("UPDATE outbox SET send_at=0 WHERE id=?", (bob_id,))
    assert len((await bob_sender.run_due()).sent) == 1
    await bob_sync.sync_once()
    mine, _ = await alice.reply(a, "Looking into it.", seen_upto=seen)
    await alice.store.execute("UPDATE outbox SET send_at=0 WHERE id=?", (mine,))
    report = await alice_sender.run_due()
    assert len(report.held) == 1
    held = await outbox.get(alice.store, mine)
    # the teammate by name, with the time of their reply in the desk's zone; not the mailbox's name
    bobs = next(m for m in await alice.store.fetchall("SELECT * FROM messages WHERE conv_id=?", (a,))
                if m["is_agent"])
    at = alice.clock_text(bobs["date"])
    assert held.last_error.startswith(f"held: Bob Ng replied at {at}, after you wrote this"), held.last_error
    assert "Helpdesk Support" not in held.last_error
    # the app's notice says the same line
    assert report.held_why == {held.message_id: held.last_error.removeprefix("held: ").split(". Read it")[0]}
    assert len(smtp_sink.wait_for(1)) == 1  # bob's only
    # alice reads it and edits instead: back to her draft, nothing sent
    await alice.cancel_send(mine)
    assert (await alice.draft(a))[0] == "Looking into it."
    assert len(smtp_sink.messages) == 1
    for d in (alice, bob):
        await d.close()


async def test_when_the_server_cannot_be_checked_the_reply_waits(tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    dovecot.load_maildir(mail_user, [make_mail("w1@c.test", sender="Ann Lee <ann@c.test>", subject="Refund")])
    desk, _, sender = await open_agent(tmp_path, "alice", dovecot, mail_user, smtp_sink.port)

    async def offline(account: str) -> None:
        raise ImapError("connection refused")
    sender.recheck = offline
    conv = await conv_of(desk, "w1@c.test")
    item_id, _ = await desk.reply(conv, "Hello.", seen_upto=await desk.reply_started(conv))
    await desk.store.execute("UPDATE outbox SET send_at=0 WHERE id=?", (item_id,))
    report = await sender.run_due()
    assert report.retrying and not report.sent
    item = await outbox.get(desk.store, item_id)
    assert item.state == "queued" and "cannot check" in item.last_error and item.next_try
    assert smtp_sink.messages == []
    await desk.close()


def server_flags(dovecot, user, message_id: str) -> str:
    import imaplib
    c = imaplib.IMAP4("127.0.0.1", dovecot.imap_port, timeout=30)
    try:
        c.login(user, dovecot.password_of(user))
        c.select("INBOX", readonly=True)
        _, data = c.uid("SEARCH", "HEADER", "Message-ID", f'"<{message_id}>"')
        [uid] = data[0].split()
        _, data = c.uid("FETCH", uid, "(FLAGS)")
        return data[0].decode()
    finally:
        c.logout()


async def test_a_live_sync_pushes_local_changes_at_once_and_catches_up_on_demand(tmp_path, dovecot, mail_user,
                                                                                 smtp_sink):
    import asyncio
    dovecot.load_maildir(mail_user, [make_mail("p1@c.test", sender="Ann Lee <ann@c.test>", subject="Refund")])
    desk, sync, _ = await open_agent(tmp_path, "alice", dovecot, mail_user, smtp_sink.port)
    with pytest.raises(ImapError, match="not connected"):
        await sync.catch_up()
    stop, task = await live(sync, 10.0)
    try:
        assert sync.state == "idle"
        # IDLE waits on the server for up to 25 min; a local change must not wait with it
        started = time.monotonic()
        await commands.tag(desk, [await conv_of(desk, "p1@c.test")], ["refund"])
        while "td:tag:refund" not in server_flags(dovecot, mail_user, "p1@c.test"):
            assert time.monotonic() - started < 10, "the tag never reached the server"
            await asyncio.sleep(0.1)
        # catch_up: when it returns, mail delivered before the call is in the store
        dovecot.deliver(mail_user, customer_mail(1, ["p1@c.test"]))
        await sync.catch_up()
        assert "again1@c.test" in (await thread_message_ids(desk.store))[await conv_of(desk, "p1@c.test")]
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
    await desk.close()


async def test_the_apps_background_holds_a_reply_when_the_customer_writes_meanwhile(tmp_path, dovecot, mail_user,
                                                                                   smtp_sink):
    import asyncio
    from tui_desk.desk.background import Background
    smtp_sink.clear()
    dovecot.load_maildir(mail_user, [make_mail("b1@c.test", sender="Ann Lee <ann@c.test>", subject="Refund")])
    desk, _, _ = await open_agent(tmp_path, "alice", dovecot, mail_user, smtp_sink.port)
    background = Background(desk)
    background.syncs[0]._password = dovecot.password_of(mail_user)
    background.sender.password_for = lambda a, k: dovecot.password_of(mail_user) if k == "imap" else "secret"
    stop = asyncio.Event()
    task = asyncio.create_task(background.run(stop))
    try:
        conv = await conv_of(desk, "b1@c.test")
        seen = await desk.reply_started(conv)
        dovecot.deliver(mail_user, customer_mail(7, ["b1@c.test"]))
        item_id, _ = await desk.reply(conv, "On it.", seen_upto=seen)
        await desk.store.execute("UPDATE outbox SET send_at=0 WHERE id=?", (item_id,))
        started = time.monotonic()
        while (await outbox.get(desk.store, item_id)).state != "held":
            assert time.monotonic() - started < 20, (await outbox.get(desk.store, item_id))
            await asyncio.sleep(0.2)
        assert smtp_sink.messages == []
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
    await desk.close()
