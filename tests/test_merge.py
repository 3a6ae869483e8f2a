"""Merging conversations and splitting a message out by hand (desk.merge): where the mail is,
where later mail goes, the merged state, re-import, undo, and the errors."""

from __future__ import annotations

import pytest

from tests.mailfactory import make_mail
from tests.merge_support import AGENT, T0, add, conv_of, open_desk, partition, snapshot, two_conversations, two_threads
from tui_desk.desk.commands import CommandError
from tui_desk.desk.history import conversation_history
from tui_desk.desk.importer import import_paths
from tui_desk.desk.keywords import keywords_for
from tui_desk.store import mirror, outbox, server_ops
from tui_desk.store.queries import conversation_states, thread_message_ids


async def test_merge_moves_messages_state_and_queue(tmp_path):
    desk, a, b = await two_conversations(tmp_path)
    z = await conv_of(desk, "z1@t")
    assert b in await desk.queue_ids(query="status:pending")

    assert await desk.merge(a, [b]) == f"merged conversation {b} into {a}"

    threads = await thread_message_ids(desk.store)
    assert threads[a] == ["a1@t", "a2@t", "b1@t", "b2@t"]
    assert b not in threads and threads[z] == ["z1@t"]
    assert await desk.threads() == threads
    state = (await conversation_states(desk.store, [a, b]))
    assert list(state) == [a]
    # tags merge; status, assignee and snooze are the kept conversation's
    assert state[a].tags == ("printer", "urgent")
    assert state[a].assignee == "sam" and state[a].status == "open"
    assert b not in await desk.queue_ids() and b not in await desk.queue_ids(query="status:pending")
    assert (await desk.conversation(b)).id == a  # the merged-away id shows where it went
    [row] = await desk.queue_rows([a])
    assert row.message_count == 4 and row.tags == ("printer", "urgent")
    # the summary is worked out again: ann's last mail (b2) is the one waiting
    conv = await desk.store.fetchone("SELECT last_date, waiting_since FROM conversations WHERE id=?", (a,))
    assert conv["last_date"] == T0 + 30 * 60 and conv["waiting_since"] == T0 + 20 * 60
    await desk.close()


async def test_merge_keeps_the_targets_owner_else_the_merged_ones_and_says_so_in_history(tmp_path):
    """The tryout: #95 (Bob's) merged into #97 (nobody's) lost Bob, the history had no merge, and
    the pane showing #95 said it no longer exists. Now #97 is Bob's, its history reads the
    merge, and #95 opens #97; undo puts the owners back, and the history reads "…, undone"."""
    desk, a, b = await two_conversations(tmp_path)
    z = await conv_of(desk, "z1@t")
    await desk.assign([a], None)
    await desk.merge(a, [b])
    assert (await conversation_states(desk.store, [a]))[a].assignee == "bob"
    said = [h.text for h in await conversation_history(desk, a)]
    merged = 'merged "Still the printer" (ann@customer.test) into this one'
    assert said[-3:] == ["assigned to bob (was nobody)", "tagged +urgent", merged], said
    assert (await desk.conversation(b)).id == a
    assert (await desk.conversation(z)).id == z and await desk.conversation(9999) is None
    await desk.undo()
    states = await conversation_states(desk.store, [a, b])
    assert (states[a].assignee, states[b].assignee) == (None, "bob")
    assert [h.text for h in await conversation_history(desk, a)][-2:] == [
        "unassigned (was sam)", f"{merged}, undone"]
    assert (await desk.conversation(b)).id == b
    # the target's own owner stays
    await desk.assign([z], "zoe")
    await desk.merge(z, [b], different_customers=True)
    assert (await conversation_states(desk.store, [z]))[z].assignee == "zoe"
    await desk.close()


async def test_merge_again_is_a_no_op_and_not_an_undo_step(tmp_path):
    desk, a, b = await two_conversations(tmp_path)
    await desk.merge(a, [b])
    before, depth = await snapshot(desk), len(desk.undo_stack)
    assert await desk.merge(a, [b]) == f"conversation {b} already merged into {a}"
    assert await snapshot(desk) == before and len(desk.undo_stack) == depth
    await desk.close()


async def test_new_mail_to_either_side_lands_in_the_merged_conversation(tmp_path):
    desk, a, b = await two_conversations(tmp_path)
    await desk.merge(a, [b])
    await add(desk,
              make_mail("n1@t", subject="Re: Still the printer", refs=["b1@t", "b2@t"], in_reply_to="b2@t", minutes=50),
              make_mail("n2@t", subject="Re: Printer broken", in_reply_to="a2@t", minutes=51),
              # refers only to an id the merged-away conversation knew as a reference
              make_mail("n3@t", subject="Re: lost", refs=["x-lost@t"], minutes=52),
              # a [#N] ticket marker of the merged-away conversation
              make_mail("n4@t", subject=f"Printer [#{b}]", minutes=53))
    assert (await thread_message_ids(desk.store))[a] == [
        "a1@t", "a2@t", "b1@t", "b2@t", "n1@t", "n2@t", "n3@t", "n4@t"]
    assert (await desk.queue_rows([a]))[0].message_count == 8
    await desk.close()


async def test_reimport_and_duplicates_do_not_undo_a_merge(tmp_path):
    folder = tmp_path / "mail"
    folder.mkdir()
    for n, raw in enumerate(two_threads()):
        (folder / f"{n}.eml").write_bytes(raw)
    desk = await open_desk(tmp_path)
    await import_paths(desk, [folder], workers=1)
    a, b = await conv_of(desk, "a1@t"), await conv_of(desk, "b1@t")
    await desk.merge(a, [b])
    merged = await snapshot(desk)

    summary = await import_paths(desk, [folder], workers=1)
    assert summary.messages == 0 and summary.duplicates == 5
    await add(desk, *two_threads())  # second copies (another folder, a re-sync) link again
    assert await snapshot(desk) == merged
    assert await partition(desk) == {frozenset({"a1@t", "a2@t", "b1@t", "b2@t"}), frozenset({"z1@t"})}
    await desk.close()


async def test_undo_merge_restores_both_exactly(tmp_path):
    desk, a, b = await two_conversations(tmp_path)
    z = await conv_of(desk, "z1@t")
    await desk.save_draft(b, "We are on it.")
    await add(desk, make_mail("c1@t", subject="Toner", sender="Ann <ann@customer.test>", minutes=45))
    c = await conv_of(desk, "c1@t")
    await desk.merge(c, [z], different_customers=True)  # an earlier merge: its alias must stay as it was
    original = await snapshot(desk)

    assert await desk.merge(a, [b, c], different_customers=True) == f"merged conversations {b}, {c} into {a}; #{b}'s draft kept on #{a}"
    assert await outbox.draft(desk.store, a) == ("We are on it.", False, None)
    assert (await thread_message_ids(desk.store))[a] == ["a1@t", "a2@t", "b1@t", "b2@t", "z1@t", "c1@t"]

    first, second, third = sorted((a, b, c))
    assert await desk.undo() == f"merged conversations {b}, {c} into {a} (#{first}, #{second} and #{third})"
    assert await snapshot(desk) == original
    assert await desk.undo() == f"merged conversation {z} into {c} (#{min(z, c)} and #{max(z, c)})"
    await desk.close()


async def test_undo_merge_leaves_later_mail_in_the_kept_conversation(tmp_path):
    desk, a, b = await two_conversations(tmp_path)
    await desk.merge(a, [b])
    await add(desk, make_mail("n1@t", subject="Re: Printer broken", in_reply_to="a2@t", minutes=50))
    await desk.undo()
    threads = await thread_message_ids(desk.store)
    assert threads[a] == ["a1@t", "a2@t", "n1@t"] and threads[b] == ["b1@t", "b2@t"]
    assert (await conversation_states(desk.store, [b]))[b].tags == ("printer", "urgent")
    await desk.close()


def split_thread() -> list[bytes]:
    # s3 is a new question asked as a reply in an old thread
    return [
        make_mail("s1@t", subject="Login fails", sender="Ann <ann@customer.test>"),
        make_mail("s2@t", subject="Re: Login fails", sender=AGENT, refs=["s1@t"], in_reply_to="s1@t", minutes=5),
        make_mail("s3@t", subject="Re: Login fails", sender="Ann <ann@customer.test>", refs=["s1@t", "s2@t"],
                  in_reply_to="s2@t", minutes=60, body="Another thing: how do I export my data?\n"),
    ]


async def split_setup(tmp_path):
    desk = await open_desk(tmp_path)
    await add(desk, *split_thread())
    old = await conv_of(desk, "s1@t")
    await desk.tag([old], ["login"])
    await desk.assign([old], "sam")
    return desk, old


async def test_split_a_message_into_its_own_conversation(tmp_path):
    desk, old = await split_setup(tmp_path)
    rowid = (await desk.store.fetchone("SELECT id FROM messages WHERE message_id='s3@t'"))[0]
    line = await desk.split(rowid)
    new = await conv_of(desk, "s3@t")
    assert line == f"split message {rowid} out of conversation {old} into {new}"
    threads = await thread_message_ids(desk.store)
    assert threads[old] == ["s1@t", "s2@t"] and threads[new] == ["s3@t"]
    assert await desk.threads() == threads
    states = await conversation_states(desk.store, [old, new])
    assert states[old].tags == ("login",) and states[old].assignee == "sam"
    assert states[new].tags == () and states[new].assignee is None
    # its own summary: the old thread was answered last, the split message is waiting
    rows = await desk.queue_rows([old, new])
    assert [r.message_count for r in rows] == [2, 1]
    assert rows[0].status == "pending" and rows[1].status == "open"
    assert await desk.queue_ids() == [new]
    # repeating it changes nothing and is not an undo step
    depth = len(desk.undo_stack)
    assert await desk.split(rowid) == f"message {rowid} is already a conversation of its own ({new})"
    assert len(desk.undo_stack) == depth
    await desk.close()


async def test_split_by_message_id_and_undo_restores_exactly(tmp_path):
    desk, old = await split_setup(tmp_path)
    original = await snapshot(desk)
    from tui_desk.desk import merge
    change = await merge.split(desk, "<s3@t>")
    assert (await thread_message_ids(desk.store))[old] == ["s1@t", "s2@t"]
    assert (await desk.undo() or "").startswith(f"{change.description} (#")  # named (desk.commands.named)
    assert await snapshot(desk) == original
    await desk.close()


async def test_replies_after_a_split(tmp_path):
    desk, old = await split_setup(tmp_path)
    await desk.split("s3@t")
    new = await conv_of(desk, "s3@t")
    # a reply to the split message alone goes with it, and so do replies to that reply
    await add(desk, make_mail("r1@t", subject="Re: export", sender=AGENT, in_reply_to="s3@t", minutes=70),
              make_mail("r2@t", subject="Re: export", refs=["s3@t", "r1@t"], minutes=80))
    threads = await thread_message_ids(desk.store)
    assert threads[new] == ["s3@t", "r1@t", "r2@t"] and threads[old] == ["s1@t", "s2@t"]
    # a reply naming the old thread too joins them again (documented): the old one is kept
    await add(desk, make_mail("r3@t", subject="Re: Login fails", refs=["s1@t", "s2@t", "s3@t"], minutes=90))
    threads = await thread_message_ids(desk.store)
    assert new not in threads
    assert threads[old] == ["s1@t", "s2@t", "s3@t", "r1@t", "r2@t", "r3@t"]
    assert (await conversation_states(desk.store, [old]))[old].assignee == "sam"
    await desk.close()


async def test_undo_split_after_replies_arrived_folds_them_back(tmp_path):
    desk, old = await split_setup(tmp_path)
    await desk.split("s3@t")
    await add(desk, make_mail("r1@t", subject="Re: export", sender=AGENT, in_reply_to="s3@t", minutes=70))
    await desk.undo()
    assert await partition(desk) == {frozenset({"s1@t", "s2@t", "s3@t", "r1@t"})}
    assert (await conversation_states(desk.store, [old]))[old].tags == ("login",)
    await desk.close()


async def test_split_the_only_message_is_a_no_op(tmp_path):
    desk = await open_desk(tmp_path)
    await add(desk, make_mail("o1@t"))
    before = await snapshot(desk)
    line = await desk.split("o1@t")
    assert line.endswith("is already a conversation of its own (1)")
    assert await snapshot(desk) == before and desk.undo_stack == []
    await desk.close()


async def test_bad_ids_are_refused_with_a_clear_message(tmp_path):
    desk, a, b = await two_conversations(tmp_path)
    z = await conv_of(desk, "z1@t")
    cases = [
        (desk.merge(999, [a]), "no conversation 999"),
        (desk.merge(a, [999]), "no conversation 999"),
        (desk.merge(a, [a]), f"name a conversation to merge into {a}, other than {a} itself"),
        (desk.merge(a, []), f"name a conversation to merge into {a}"),
        (desk.merge("one", [a]), "a conversation is given by its number, not 'one'"),
        (desk.split(9999), "no message 9999"),
        (desk.split("nobody@t"), "no message nobody@t"),
    ]
    for call, message in cases:
        with pytest.raises(CommandError, match="^" + message):
            await call
    await desk.merge(a, [b])
    with pytest.raises(CommandError, match=f"^conversation {b} was merged into {a}$"):
        await desk.merge(b, [z])
    with pytest.raises(CommandError, match=f"^conversation {b} was merged into {a}$"):
        await desk.merge(z, [b])
    # nothing of the refused calls was done or pushed
    assert len(await partition(desk)) == 2 and len(desk.undo_stack) == 6
    await desk.close()


async def test_two_drafts_are_refused(tmp_path):
    desk, a, b = await two_conversations(tmp_path)
    await desk.save_draft(a, "one")
    await desk.save_draft(b, "two")
    with pytest.raises(CommandError, match="each have a draft"):
        await desk.merge(a, [b])
    assert a != await conv_of(desk, "b1@t")
    await desk.close()


async def test_a_note_stays_with_its_conversation(tmp_path):
    desk, old = await split_setup(tmp_path)
    await desk.add_note(old, "customer on the phone")
    rowid = (await desk.store.fetchone("SELECT id FROM messages WHERE is_note=1"))[0]
    with pytest.raises(CommandError, match=f"message {rowid} is an internal note"):
        await desk.split(rowid)
    await desk.close()


async def push_server_ops(desk, folder_id) -> None:
    """What the sync does with queued keyword changes, without a server: apply, then forget them."""
    store, modseq = desk.store, 100
    async with store.transaction():
        for op in await server_ops.pending(store, "acct"):
            row = await store.fetchone(
                "SELECT i.uid, i.flags FROM imap_messages i JOIN messages m ON m.id = i.message_id"
                " WHERE i.folder_id=? AND m.message_id=?", (folder_id, op.message_id))
            flags = (set(row["flags"].split()) | set(op.args["add"])) - set(op.args["remove"])
            modseq += 1
            await mirror.update_flags(store, folder_id, [(row["uid"], " ".join(sorted(flags)), modseq)])
            await server_ops.finish(store, op.id)


async def on_server(desk) -> int:
    """Every message gets a server copy carrying its conversation's state, as after a sync."""
    store = desk.store
    states = await conversation_states(store, list(await thread_message_ids(store)))
    async with store.transaction():
        folder = await mirror.folder_state(store, "acct", "INBOX", "queue")
        rows = await store.fetchall("SELECT id, conv_id FROM messages ORDER BY id")
        await mirror.map_uids(store, folder.id, [
            (r["id"], r["id"], " ".join(sorted(keywords_for(states[r["conv_id"]]))), r["id"], 100) for r in rows])
        await store.execute("DELETE FROM server_ops")
    return folder.id


async def server_flags(desk, conv_id) -> set[str]:
    return {c[3] for c in await mirror.conversation_copies(desk.store, [conv_id])}


async def test_merged_state_goes_to_the_server_copies_and_comes_back_the_same(tmp_path):
    desk, a, b = await two_conversations(tmp_path)
    folder_id = await on_server(desk)
    await desk.merge(a, [b])
    merged = (await conversation_states(desk.store, [a]))[a]
    assert merged.status == "open"  # ann's b2 waits for an answer
    await push_server_ops(desk, folder_id)
    assert await server_flags(desk, a) == {" ".join(sorted(keywords_for(merged)))}
    await desk.refresh([a])  # now read back from the keywords: the same
    after = (await conversation_states(desk.store, [a]))[a]
    assert (after.status, after.assignee, after.tags) == ("open", "sam", ("printer", "urgent"))

    # undo brings the server copies back too
    await desk.undo()
    await push_server_ops(desk, folder_id)
    await desk.refresh([a, b])
    back = await conversation_states(desk.store, [a, b])
    assert (back[b].status, back[b].assignee, back[b].tags) == ("pending", "bob", ("printer", "urgent"))
    assert (back[a].status, back[a].assignee, back[a].tags) == ("pending", "sam", ("printer",))
    await desk.close()


async def test_a_split_message_drops_the_old_conversations_keywords(tmp_path):
    desk, old = await split_setup(tmp_path)
    folder_id = await on_server(desk)
    original = (await conversation_states(desk.store, [old]))[old]
    await desk.split("s3@t")
    new = await conv_of(desk, "s3@t")
    await push_server_ops(desk, folder_id)
    await desk.refresh([old, new])
    states = await conversation_states(desk.store, [old, new])
    assert (states[old].assignee, states[old].tags) == ("sam", ("login",))
    assert (states[new].status, states[new].assignee, states[new].tags) == ("open", None, ())
    assert await server_flags(desk, new) == {" ".join(sorted(keywords_for(states[new])))}

    await desk.undo()
    await push_server_ops(desk, folder_id)
    await desk.refresh([old])
    assert await server_flags(desk, old) == {" ".join(sorted(keywords_for(original)))}
    back = (await conversation_states(desk.store, [old]))[old]
    assert (back.status, back.assignee, back.tags) == (original.status, "sam", ("login",))
    await desk.close()
