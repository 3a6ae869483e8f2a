"""Two agents, two stores, one Dovecot mailbox: state travels as IMAP keywords."""

from __future__ import annotations

import asyncio
import dataclasses
import time

from tests.accounts import AGENTS, account_for, agent, client, inbox_flags, live
from tests.mailfactory import make_mail
from tui_desk.desk import commands
from tui_desk.desk.service import Desk
from tui_desk.desk.when import When
from tui_desk.store.queries import conversation_states, thread_message_ids
from tui_desk.sync.imap_sync import AccountSync


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


PUSHED = 5.0  # seconds: a change that waits for the 60 s poll instead of IDLE's push fails


async def test_live_agent_sees_a_teammates_change_pushed_not_polled(tmp_path, dovecot, mail_user):
    dovecot.load_maildir(mail_user, [make_mail("l1@t", sender="ann@c.test")])
    alice, alice_sync = await agent(tmp_path, "alice", dovecot, mail_user)
    bob, bob_sync = await agent(tmp_path, "bob", dovecot, mail_user)
    changed = asyncio.Event()

    async def on_change(convs):
        await bob.refresh(convs)
        if "bug" in (await state(bob, "l1@t")).tags:
            changed.set()
    bob_sync.on_change = on_change
    stop, task = await live(bob_sync, 5.0)
    await commands.tag(alice, [await conv_of(alice, "l1@t")], ["bug"])
    await alice_sync.sync_once()
    await asyncio.wait_for(changed.wait(), PUSHED)  # typically ~0.5 s (bench/sync_vs_mbsync.py)
    stop.set()
    await asyncio.wait_for(task, 10)
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


# --- convergence bugs found by the 30-agent test (tests/test_team_scale.py) ----------------------

async def test_a_teammates_push_between_my_read_and_my_store_is_not_overwritten_blindly(
        tmp_path, dovecot, mail_user, monkeypatch):
    """Alice's status change is computed from the flags she read; bob's whole push lands before her
    STORE. Her conditional STORE is refused (MODIFIED), she reads again and writes last: both
    show her value, and the message never holds two statuses."""
    from tui_desk.mail.imap import ImapConnection
    dovecot.load_maildir(mail_user, [make_mail("d1@t", sender="ann@c.test")])
    alice, alice_sync = await agent(tmp_path, "alice", dovecot, mail_user)
    bob, bob_sync = await agent(tmp_path, "bob", dovecot, mail_user)
    a, b = await conv_of(alice, "d1@t"), await conv_of(bob, "d1@t")
    await commands.set_status(alice, [a], "open")
    await alice_sync.sync_once()
    await bob_sync.sync_once()  # both saw open
    await commands.set_status(bob, [b], "closed")
    await commands.set_status(alice, [a], "pending")
    original, refused = ImapConnection.uid_set_flags_if_unchanged, []

    async def racing(self, uid, flags, modseq):
        if not refused:
            refused.append(1)
            await bob_sync.sync_once()  # bob's push lands between alice's read and her STORE
        return await original(self, uid, flags, modseq)
    monkeypatch.setattr(ImapConnection, "uid_set_flags_if_unchanged", racing)
    await alice_sync.sync_once()
    monkeypatch.undo()
    assert refused, "alice's change went through the conditional STORE"
    for _ in range(2):
        await bob_sync.sync_once()
        await alice_sync.sync_once()
    # two-step +FLAGS/-FLAGS would leave closed and pending, and 'closed' would win the tie
    assert (await state(alice, "d1@t")).status == (await state(bob, "d1@t")).status == "pending"
    for d in (alice, bob):
        await d.close()


async def test_two_changes_before_one_sync_end_as_the_last_one(tmp_path, dovecot, mail_user):
    dovecot.load_maildir(mail_user, [make_mail("e1@t", sender="ann@c.test")])
    alice, alice_sync = await agent(tmp_path, "alice", dovecot, mail_user)
    cid = await conv_of(alice, "e1@t")
    await commands.tag(alice, [cid], ["x"])
    await commands.tag(alice, [cid], [], ["x"])
    await commands.set_status(alice, [cid], "closed")
    await commands.set_status(alice, [cid], "pending")
    await alice_sync.sync_once()
    s = await state(alice, "e1@t")
    assert (s.tags, s.status) == ((), "pending")
    await alice.close()


def test_ties_between_two_values_are_broken_the_same_way_everywhere():
    import os
    import subprocess
    import sys
    code = ("from tui_desk.desk.keywords import state_from_keywords as f; from tui_desk.store.queries import ConvState;"
            "print(f([({'td:status:open','td:assign:amy','td:assign:zed'}, 5, None)], ConvState()).assignee)")
    seen = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": str(i)}).stdout.strip() for i in range(8)}
    assert seen == {"amy"}


async def test_the_last_writer_wins_even_from_a_stale_view(tmp_path, dovecot, mail_user):
    dovecot.load_maildir(mail_user, [make_mail("f1@t", sender="ann@c.test")])
    alice, alice_sync = await agent(tmp_path, "alice", dovecot, mail_user)
    bob, bob_sync = await agent(tmp_path, "bob", dovecot, mail_user)
    await commands.set_status(bob, [await conv_of(bob, "f1@t")], "closed")
    await bob_sync.sync_once()
    await commands.set_status(alice, [await conv_of(alice, "f1@t")], "pending")  # alice had not synced
    await alice_sync.sync_once()  # alice writes last
    await bob_sync.sync_once()
    assert (await state(alice, "f1@t")).status == (await state(bob, "f1@t")).status == "pending"
    for d in (alice, bob):
        await d.close()


async def test_a_torn_read_does_not_bring_a_removed_tag_back(tmp_path, dovecot, mail_user, monkeypatch):
    from tui_desk.mail.imap import ImapConnection
    dovecot.load_maildir(mail_user, [make_mail("g1@t", sender="ann@c.test"),
                                     make_mail("g2@t", sender="agent1@helpdesk.test", refs=["g1@t"], minutes=3)])
    alice, alice_sync = await agent(tmp_path, "alice", dovecot, mail_user)
    bob, bob_sync = await agent(tmp_path, "bob", dovecot, mail_user)
    await commands.tag(alice, [await conv_of(alice, "g1@t")], ["vip"])
    await alice_sync.sync_once()
    await bob_sync.sync_once()
    await commands.tag(alice, [await conv_of(alice, "g1@t")], [], ["vip"])
    original, hooked = ImapConnection.uid_store, []

    async def uid_store(self, uids, action, flags, **kw):
        out = await original(self, uids, action, flags, **kw)
        if not hooked:  # bob syncs after vip left g1 and before it leaves g2
            hooked.append(1)
            await bob_sync.sync_once()
        return out
    monkeypatch.setattr(ImapConnection, "uid_store", uid_store)
    await alice_sync.sync_once()
    monkeypatch.undo()
    await commands.tag(bob, [await conv_of(bob, "g1@t")], ["billing"])  # an unrelated tag
    await bob_sync.sync_once()
    await alice_sync.sync_once()
    assert "vip" not in (await state(alice, "g1@t")).tags
    assert set((await state(alice, "g1@t")).tags) == set((await state(bob, "g1@t")).tags) == {"billing"}
    for d in (alice, bob):
        await d.close()


async def test_known_agents_are_the_team_the_assignees_and_who_replies_or_writes_notes(tmp_path):
    """Completion for `a`: the configured team, agents already assigned in the store, agents
    with a reply open (td:replying:) and authors of internal notes; each once."""
    from tui_desk.mail.parse import parse_message
    from tui_desk.store import ingest

    config = dataclasses.replace(AGENTS, agent="alice", team=("bob", "Carol Diaz"))
    desk = await Desk.open(tmp_path / "k.db", config)
    try:
        raw = make_mail("k1@customer.test", subject="Refund please")
        result = await ingest.ingest(desk.store, [ingest.NewMessage(raw=raw, parsed=parse_message(raw), is_agent=False)])
        await desk.refresh(result.conversations)
        [conv] = result.conversations
        assert await desk.known_agents() == ["alice", "bob", "Carol Diaz"]
        await desk.assign([conv], "dave")
        await desk.add_note(conv, "Looked at it")
        async with desk.store.transaction():
            await desk.store.execute("INSERT INTO folders(account, name) VALUES ('support', 'INBOX')")
            await desk.store.execute(
                "INSERT INTO imap_messages(folder_id, uid, message_id, flags) SELECT 1, 1, id, ? FROM messages LIMIT 1",
                ("\\Seen td:replying:erin td:replying:carol=20diaz",))
        assert await desk.known_agents() == ["alice", "bob", "Carol Diaz", "dave", "erin"]
        # the lower-case marker (td:replying:erin) beside a note signed with capitals: one name
        await desk.add_note(conv, "Erin here")
        await desk.store.execute("UPDATE messages SET sender_name = 'Erin' WHERE is_note = 1 AND body LIKE 'Erin%'")
        assert await desk.known_agents() == ["alice", "bob", "Carol Diaz", "dave", "Erin"]
    finally:
        await desk.close()


async def test_an_assignee_keeps_its_case_through_the_server(tmp_path, dovecot, mail_user):
    """Keywords are case-insensitive atoms: the name's capitals travel as =XX, which no case
    folding (ours on reading, or a server's) can change."""
    dovecot.load_maildir(mail_user, [make_mail("n1@t", sender="ann@c.test")])
    alice, alice_sync = await agent(tmp_path, "alice", dovecot, mail_user)
    bob, bob_sync = await agent(tmp_path, "bob", dovecot, mail_user)
    await commands.assign(alice, [await conv_of(alice, "n1@t")], "Chen Wei")
    await alice_sync.sync_once()
    await bob_sync.sync_once()
    await alice_sync.sync_once()
    assert (await state(alice, "n1@t")).assignee == (await state(bob, "n1@t")).assignee == "Chen Wei"
    assert "td:assign:=43hen=20=57ei" in inbox_flags(dovecot, mail_user)["n1@t"]
    await commands.assign(bob, [await conv_of(bob, "n1@t")], "Émile Zola")  # capitals outside ASCII too
    await bob_sync.sync_once()
    await alice_sync.sync_once()
    assert (await state(alice, "n1@t")).assignee == "Émile Zola"
    for d in (alice, bob):
        await d.close()


async def test_an_older_clients_lowercase_assignee_reads_as_the_teams_spelling(tmp_path, dovecot, mail_user):
    """What a client before the case-carrying keywords wrote (td:assign:chen=20wei) is resolved
    against the names the config knows (agent, team); a name it does not know stays as written."""
    dovecot.load_maildir(mail_user, [make_mail("o1@t", sender="ann@c.test"), make_mail("o2@t", sender="bo@c.test")])
    account = account_for(dovecot, mail_user)
    config = dataclasses.replace(AGENTS, agent="alice", team=("Chen Wei",), accounts=(account,))
    desk = await Desk.open(tmp_path / "alice.db", config)
    sync = AccountSync(desk.store, account, dovecot.password_of(mail_user), is_agent=config.is_agent_address,
                       on_change=desk.refresh)
    c = client(dovecot, mail_user)
    try:
        c.select("INBOX")
        for message_id, name in (("o1@t", "chen=20wei"), ("o2@t", "dana=20ruiz")):
            _, [uid] = c.uid("SEARCH", "HEADER", "Message-ID", message_id)
            c.uid("STORE", uid.decode(), "+FLAGS", f"(td:status:open td:assign:{name})")
    finally:
        c.logout()
    await sync.sync_once()
    assert (await state(desk, "o1@t")).assignee == "Chen Wei"
    assert (await state(desk, "o2@t")).assignee == "dana ruiz"
    await desk.close()


def test_a_case_carrying_assign_keyword_reads_the_same_however_it_is_cased():
    """A server may hand keywords back in another case; a client before this change reads the
    new keyword with the same decode (lower case, then =XX): it sees the name with its capitals."""
    from tui_desk.desk.keywords import decode_name, keywords_for, state_from_keywords
    from tui_desk.store.queries import ConvState
    [kw] = {k for k in keywords_for(ConvState(assignee="Bob O'Neil-Ng")) if k.startswith("td:assign:")}
    for seen in (kw, kw.lower(), kw.upper()):
        got = state_from_keywords([({"td:status:open", seen}, 1, None)], ConvState())
        assert got.assignee == "Bob O'Neil-Ng"
    assert decode_name(kw.lower()[len("td:assign:"):]) == "Bob O'Neil-Ng"  # the older client's reading


async def test_the_last_value_taken_away_reaches_the_other_agent(tmp_path, dovecot, mail_user):
    """A conversation whose only state was its assignee (or one tag, or a snooze): a teammate
    unassigns it (untags, wakes it) and no td: keyword is left on its mail. That is the server's
    state too, not "nobody has written state yet": the other agent's desk follows."""
    dovecot.load_maildir(mail_user, [make_mail("u1@t", sender="ann@c.test"), make_mail("u2@t", sender="bo@c.test"),
                                     make_mail("u3@t", sender="cy@c.test")])
    alice, alice_sync = await agent(tmp_path, "alice", dovecot, mail_user)
    bob, bob_sync = await agent(tmp_path, "bob", dovecot, mail_user)
    assigned, tagged, snoozed = [await conv_of(alice, m) for m in ("u1@t", "u2@t", "u3@t")]
    await commands.assign(alice, [assigned], "bob")
    await commands.tag(alice, [tagged], ["bug"])
    until = int(time.time()) + 86400
    await commands.snooze(alice, [snoozed], When(__import__("datetime").datetime.fromtimestamp(until).astimezone()))
    await alice_sync.sync_once()
    await bob_sync.sync_once()
    seen = [await state(bob, m) for m in ("u1@t", "u2@t", "u3@t")]
    assert (seen[0].assignee, seen[1].tags, seen[2].snooze_until) == ("bob", ("bug",), until // 60 * 60)

    await commands.assign(alice, [assigned], None)
    await commands.tag(alice, [tagged], [], ["bug"])
    await commands.unsnooze(alice, [snoozed])
    await alice_sync.sync_once()
    await bob_sync.sync_once()
    seen = [await state(bob, m) for m in ("u1@t", "u2@t", "u3@t")]
    assert (seen[0].assignee, seen[1].tags, seen[2].snooze_until) == (None, (), None)
    for d in (alice, bob):
        await d.close()
