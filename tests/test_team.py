"""Two agents, two stores, one Dovecot mailbox: state travels as IMAP keywords."""

from __future__ import annotations

import asyncio
import dataclasses
import time

from tests.mailfactory import make_mail
from tui_desk.config import Config
from tui_desk.desk import commands
from tui_desk.desk.service import Desk
from tui_desk.desk.when import When
from tui_desk.mail.sync import AccountSync
from tui_desk.store.queries import conversation_states, thread_message_ids
from tests.test_sync import account_for

AGENTS = Config(agent_addresses=("*@helpdesk.test",))


async def agent(tmp_path, name, dovecot, user) -> tuple[Desk, AccountSync]:
    account = account_for(dovecot, user)
    config = dataclasses.replace(AGENTS, agent=name, accounts=(account,))
    desk = await Desk.open(tmp_path / f"{name}.db", config)
    sync = AccountSync(desk.store, account, dovecot.password_of(user),
                       is_agent=config.is_agent_address, on_change=desk.refresh)
    await sync.sync_once()
    return desk, sync


async def conv_of(desk, message_id) -> int:
    return next(c for c, ids in (await thread_message_ids(desk.store)).items() if message_id in ids)


async def state(desk, message_id):
    cid = await conv_of(desk, message_id)
    return (await conversation_states(desk.store, [cid]))[cid]


async def test_tag_status_assign_snooze_reach_the_other_agent(tmp_path, dovecot, mail_user):
    dovecot.load_maildir(mail_user, [make_mail("c1@t", sender="ann@c.test"),
                                     make_mail("c2@t", sender="ann@c.test", refs=["c1@t"], minutes=3)])
    alice, alice_sync = await agent(tmp_path, "alice", dovecot, mail_user)
    bob, bob_sync = await agent(tmp_path, "bob", dovecot, mail_user)
    cid = await conv_of(alice, "c1@t")
    await commands.tag(alice, [cid], ["bug", "срочно"])
    await commands.assign(alice, [cid], "alice")
    await commands.set_status(alice, [cid], "pending")
    await alice_sync.sync_once()
    await bob_sync.sync_once()
    seen = await state(bob, "c1@t")
    assert (set(seen.tags), seen.assignee, seen.status) == ({"bug", "срочно"}, "alice", "pending")

    until = int(time.time()) + 86400
    await commands.snooze(bob, [await conv_of(bob, "c1@t")],
                          When(__import__("datetime").datetime.fromtimestamp(until).astimezone()))
    await bob_sync.sync_once()
    await alice_sync.sync_once()
    seen = await state(alice, "c1@t")
    assert seen.snooze_until == until // 60 * 60
    assert await alice.queue_ids() == []  # snoozed conversations leave the queue
    for d in (alice, bob):
        await d.close()


async def test_simultaneous_edits_converge(tmp_path, dovecot, mail_user):
    dovecot.load_maildir(mail_user, [make_mail("s1@t", sender="ann@c.test")])
    alice, alice_sync = await agent(tmp_path, "alice", dovecot, mail_user)
    bob, bob_sync = await agent(tmp_path, "bob", dovecot, mail_user)
    a, b = await conv_of(alice, "s1@t"), await conv_of(bob, "s1@t")
    # both act before either has synced
    await commands.tag(alice, [a], ["bug"])
    await commands.set_status(alice, [a], "pending")
    await commands.tag(bob, [b], ["billing"])
    await commands.set_status(bob, [b], "closed")
    await alice_sync.sync_once()
    await bob_sync.sync_once()
    await alice_sync.sync_once()
    sa, sb = await state(alice, "s1@t"), await state(bob, "s1@t")
    assert set(sa.tags) == set(sb.tags) == {"bug", "billing"}, "tags merge"
    assert sa.status == sb.status == "closed"
    for d in (alice, bob):
        await d.close()


async def test_customer_reply_wakes_a_snooze_until_reply_on_both_clients(tmp_path, dovecot, mail_user):
    dovecot.load_maildir(mail_user, [make_mail("w1@t", sender="ann@c.test"),
                                     make_mail("w2@t", sender="agent1@helpdesk.test", refs=["w1@t"], minutes=5)])
    alice, alice_sync = await agent(tmp_path, "alice", dovecot, mail_user)
    bob, bob_sync = await agent(tmp_path, "bob", dovecot, mail_user)
    await commands.snooze(alice, [await conv_of(alice, "w1@t")], When(None, until_reply=True))
    await alice_sync.sync_once()
    await bob_sync.sync_once()
    assert (await state(bob, "w1@t")).snooze_reply
    dovecot.deliver(mail_user, make_mail("w3@t", sender="ann@c.test", refs=["w1@t", "w2@t"], minutes=60))
    await alice_sync.sync_once()
    await bob_sync.sync_once()
    for d in (alice, bob):
        cid = await conv_of(d, "w1@t")
        assert await d.queue_ids() == [cid]
        [row] = await d.queue_rows([cid])
        assert "woke" in row.flags
    for d in (alice, bob):
        await d.close()


async def test_live_agent_sees_a_teammates_change_within_a_second(tmp_path, dovecot, mail_user):
    dovecot.load_maildir(mail_user, [make_mail("l1@t", sender="ann@c.test")])
    alice, alice_sync = await agent(tmp_path, "alice", dovecot, mail_user)
    bob, bob_sync = await agent(tmp_path, "bob", dovecot, mail_user)
    changed = asyncio.Event()

    async def on_change(convs):
        await bob.refresh(convs)
        if "bug" in (await state(bob, "l1@t")).tags:
            changed.set()
    bob_sync.on_change = on_change
    stop = asyncio.Event()
    task = asyncio.create_task(bob_sync.run_forever(stop))
    for _ in range(100):
        if bob_sync.state == "idle":
            break
        await asyncio.sleep(0.05)
    await commands.tag(alice, [await conv_of(alice, "l1@t")], ["bug"])
    start = time.monotonic()
    await alice_sync.sync_once()
    await asyncio.wait_for(changed.wait(), 10)
    took = time.monotonic() - start
    stop.set()
    await asyncio.wait_for(task, 10)
    print(f"teammate's tag visible after {took:.3f} s")
    for d in (alice, bob):
        await d.close()


async def test_undo_each_action_locally(tmp_path):
    from tui_desk.store import ingest as store_ingest
    from tui_desk.mail.parse import parse_message
    desk = await Desk.open(tmp_path / "u.db", AGENTS)
    raw = make_mail("u1@t", sender="ann@c.test")
    result = await store_ingest.ingest(desk.store, [store_ingest.NewMessage(raw=raw, parsed=parse_message(raw))])
    await desk.refresh(result.conversations)
    cid = await conv_of(desk, "u1@t")
    original = await state(desk, "u1@t")
    actions = [commands.tag(desk, [cid], ["bug"]), commands.set_status(desk, [cid], "closed"),
               commands.assign(desk, [cid], "bob"), commands.snooze(desk, [cid], When(None, until_reply=True))]
    for action in actions:
        await action
        assert await state(desk, "u1@t") != original
        assert await commands.undo(desk)
        assert await state(desk, "u1@t") == original
    assert await commands.undo(desk) is None
    await desk.close()


async def test_notes_are_internal_shared_and_never_count_as_a_reply(tmp_path, dovecot, mail_user):
    dovecot.load_maildir(mail_user, [make_mail("n1@t", sender="ann@c.test", subject="Broken export")])
    alice, alice_sync = await agent(tmp_path, "alice", dovecot, mail_user)
    bob, bob_sync = await agent(tmp_path, "bob", dovecot, mail_user)
    cid = await conv_of(alice, "n1@t")
    assert "note added" in await alice.add_note(cid, "Looks like **bug 42**; @bob can you check?")
    view = await alice.conversation(cid)
    note = view.messages[-1]
    assert note.is_note and "bug 42" in note.blocks[0].text
    assert view.status == "open", "a note is not an answer"
    await alice_sync.sync_once()  # creates Notes and appends the note
    await alice_sync.sync_once()  # maps it back: still one note
    assert sum(m.is_note for m in (await alice.conversation(cid)).messages) == 1
    await bob_sync.sync_once()
    bob_view = await bob.conversation(await conv_of(bob, "n1@t"))
    assert [m.is_note for m in bob_view.messages] == [False, True]
    assert bob_view.status == "open"
    for d in (alice, bob):
        await d.close()
