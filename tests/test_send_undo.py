"""What `u` says about a reply and about each undo (desk.replies.cancel_send, desk.commands.undo):
a cancelled reply names its conversation; one that went says when, from the outbox row (a
restart keeps it); every undo names the conversation it acted on, its subject sanitized."""

from __future__ import annotations

import pytest
from tests.accounts import replying_desk
from tests.clock import Clock
from tui_desk.desk.replies import queue_reply
from tui_desk.desk.service import Desk


async def test_a_cancelled_reply_says_which_conversation_it_came_back_to(tmp_path, dovecot, mail_user, smtp_sink):
    desk, _, _, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port, Clock())
    q = await queue_reply(desk, conv, "Refunded today.")
    assert await desk.cancel_send(q.outbox_id) == f"Reply to #{conv} cancelled: back in the draft"
    await desk.close()


async def test_u_after_the_reply_went_says_when_it_went_even_after_a_restart(tmp_path, dovecot, mail_user,
                                                                            smtp_sink):
    clock = Clock()
    desk, _, sender, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port, clock)
    q = await queue_reply(desk, conv, "Refunded today.")
    clock.now += 11  # the undo window is over
    sent_at = int(clock.now)
    assert (await sender.run_due()).sent == [q.message_id]
    gone = f"the reply to #{conv} has gone (sent {desk.clock_text(sent_at)})"
    with pytest.raises(ValueError, match=f"^{gone.replace('(', '[(]').replace(')', '[)]')}$"):
        await desk.cancel_send(q.outbox_id)
    config = desk.config
    await desk.close()
    again = await Desk.open(tmp_path / "s.db", config, clock=clock)  # the outbox row remembers
    with pytest.raises(ValueError, match=f"^{gone.replace('(', '[(]').replace(')', '[)]')}$"):
        await again.cancel_send(q.outbox_id)
    await again.close()


async def test_every_undo_names_its_conversation_and_subject_sanitized(tmp_path, dovecot, mail_user, smtp_sink):
    desk, _, _, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port, Clock())
    await desk.tag([conv], ["bug"])
    assert await desk.undo() == f"tagged 1 conversation +bug (#{conv} Refund for order #123)"
    # a subject is the customer's words: no escape or control reaches the line
    await desk.store.execute("UPDATE conversations SET subject=? WHERE id=?",
                             ("Refund\x1b]0;owned\x07 \x1b[31mnow\nplease", conv))
    await desk.set_status([conv], "closed")
    said = await desk.undo()
    assert said is not None and said.startswith(f"closed 1 conversation (#{conv} Refund")
    assert "\x1b" not in said and "\x07" not in said and "\n" not in said
    await desk.save_draft(conv, "half a thought")
    await desk.discard_draft(conv)
    assert (await desk.undo() or "").startswith(f"discarded the draft (#{conv} Refund")
    await desk.close()
