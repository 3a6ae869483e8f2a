"""A merge never mixes two customers silently (the tryout, a team of two on Dovecot): merging
different customers' conversations is refused unless asked for, naming both; a draft written to
one customer does not quietly become mail to the other; and the history after a merge and its
undo says what the state is, each conversation with its own events only."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.merge_support import add, conv_of, snapshot, two_conversations
from tests.mailfactory import make_mail
from tui_desk.desk.commands import CommandError
from tui_desk.desk.history import describe
from tui_desk.store import outbox
from tui_desk.store.events import Event, of_conversation
from tui_desk.store.queries import thread_message_ids

ANN, ZED = "ann@customer.test", "zed@other.test"


async def texts(desk, conv_id) -> list[str]:
    return [h.text for h in await desk.history(conv_id)]


async def test_different_customers_are_refused_naming_both_unless_asked_for(tmp_path):
    desk, a, b = await two_conversations(tmp_path)
    z = await conv_of(desk, "z1@t")
    before, depth = await snapshot(desk), len(desk.undo_stack)
    question = f"#{a} ({ANN}) and #{z} ({ZED}) are different customers"
    assert await desk.merge_differs(a, [z]) == question
    with pytest.raises(CommandError, match=f"^{re.escape(question)}$"):
        await desk.merge(a, [z])
    assert await snapshot(desk) == before and len(desk.undo_stack) == depth
    # several: grouped by customer, in the order given
    assert await desk.merge_differs(z, [a, b]) == f"#{z} ({ZED}) and #{a}, #{b} ({ANN}) are different customers"
    # one customer's conversations: nothing to ask
    assert await desk.merge_differs(a, [b]) is None
    assert await desk.merge(a, [b]) == f"merged conversation {b} into {a}"
    assert await desk.merge(a, [z], different_customers=True) == f"merged conversation {z} into {a}"
    assert z not in await thread_message_ids(desk.store)
    await desk.close()


async def test_a_customer_address_from_mail_is_sanitized_in_the_question(tmp_path):
    desk, a, _ = await two_conversations(tmp_path)
    await add(desk, make_mail("e1@t", subject="Hi", sender="\x1b[31mEve <eve\u202e@evil.test>", minutes=50))
    e = await conv_of(desk, "e1@t")
    said = await desk.merge_differs(a, [e])
    assert said is not None and "\x1b" not in said and "\u202e" not in said
    await desk.close()


async def test_a_draft_written_to_another_customer_stays_a_draft_set_apart(tmp_path):
    """It is kept, under a line that says whose it was: a reply holding that line is refused, so
    it never goes to the kept conversation's customer unread. Undo gives it back as it was."""
    desk, a, _ = await two_conversations(tmp_path)
    z = await conv_of(desk, "z1@t")
    await desk.save_draft(z, "Dear Zed, your invoice is fixed.")
    said = await desk.merge(a, [z], different_customers=True)
    assert said == f"merged conversation {z} into {a}; #{z}'s draft kept on #{a} — it was written to {ZED}"
    body, _, _ = await outbox.draft(desk.store, a)
    line = outbox.kept_separator(f"#{z}'s draft, written to {ZED}")
    assert body == f"{line}\n\nDear Zed, your invoice is fixed."
    assert outbox.kept_separator_in(body) == line  # what a reply is refused for (desk.replies._filled)
    await desk.undo()
    assert await outbox.draft(desk.store, z) == ("Dear Zed, your invoice is fixed.", False, None)
    assert await outbox.draft(desk.store, a) is None
    await desk.close()


async def test_a_draft_to_the_same_customer_moves_and_is_said(tmp_path):
    desk, a, b = await two_conversations(tmp_path)
    await desk.save_draft(b, "We are on it.")
    assert await desk.merge(a, [b]) == f"merged conversation {b} into {a}; #{b}'s draft kept on #{a}"
    assert await outbox.draft(desk.store, a) == ("We are on it.", False, None)
    await desk.close()


async def test_history_after_a_merge_and_its_undo_says_the_state(tmp_path):
    """The kept conversation is the newer one (its oldest mail is no longer the merged
    conversation's oldest): the merge still reads in its history, and after the undo as one
    line, "…, undone"; the merged one's history is its own again, nothing of the merge in it."""
    desk, a, b = await two_conversations(tmp_path)  # a: ann's older thread, sam's; b: bob's, pending
    await desk.assign([b], None)
    own_a, own_b = await texts(desk, a), await texts(desk, b)
    await desk.merge(b, [a])
    merged = f'merged "Printer broken" ({ANN}) into this one'
    assert (await texts(desk, b))[-2:] == ["assigned to sam (was nobody)", merged]
    await desk.undo()
    assert await texts(desk, b) == [*own_b, f"{merged}, undone"]
    assert await texts(desk, a) == own_a
    await desk.close()


async def test_the_merge_event_names_the_merged_conversation_for_teammates(tmp_path):
    """Merges are local: a teammate's store numbers conversations its own way. The event names
    the merged conversation by its subject and customer; the numbers stay in its data only."""
    desk, a, _ = await two_conversations(tmp_path)
    z = await conv_of(desk, "z1@t")
    await desk.merge(a, [z], different_customers=True)
    [event] = [e for e in await of_conversation(desk.store, a) if e.kind == "merge"]
    assert event.data["into"] == a and event.data["merged"] == [z]
    assert event.data["conversations"] == [{"subject": "Invoice", "customer": ZED}]
    elsewhere = Event(event.event_id, event.at, event.agent, "merge", event.anchor,
                      {**event.data, "into": 7, "merged": [3]})  # as a teammate's store reads it
    assert describe(elsewhere, dt.timezone.utc) == f'merged "Invoice" ({ZED}) into this one'
    # an event from before subjects were recorded still reads with its numbers
    old = Event(event.event_id, event.at, event.agent, "merge", event.anchor, {"into": a, "merged": [z]})
    assert describe(old, dt.timezone.utc) == f"merged #{z} into #{a}"
    await desk.close()


async def test_a_draft_is_not_saved_on_a_merged_away_conversation(tmp_path):
    """A reply left open on a conversation merged elsewhere (the CLI) saving there would make a
    draft nobody sees: it is refused, saying where the conversation went."""
    desk, a, b = await two_conversations(tmp_path)
    await desk.merge(a, [b])
    with pytest.raises(CommandError, match=f"^conversation {b} was merged into {a}$"):
        await desk.save_draft(b, "Still there?")
    assert await outbox.draft(desk.store, b) is None and await outbox.draft(desk.store, a) is None
    await desk.close()
