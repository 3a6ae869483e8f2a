"""No path that writes a reply back to a conversation's draft loses the draft already there
(store.outbox.save_draft and its callers: undo and cancel (desk.replies.cancel_send), the
server's refusal (sync.delivery)). The compose screen's own saves replace it: it shows it."""

from __future__ import annotations

import pytest
from servers import free_port
from tests.accounts import replying_desk
from tests.clock import Clock
from tui_desk.desk.replies import cancel_send, queue_reply
from tui_desk.store import outbox


def accept_any_login(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult
    return AuthResult(success=True)


async def test_a_refused_reply_comes_back_above_the_draft_written_since(tmp_path, dovecot, mail_user, tls_files):
    from aiosmtpd.controller import Controller

    class Refuse:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return "550 5.1.1 <ann@c.test>: mailbox unavailable"
    port = free_port()
    ctl = Controller(Refuse(), hostname="127.0.0.1", port=port, tls_context=tls_files.server_context(),
                     auth_require_tls=False, authenticator=accept_any_login)
    ctl.start()
    try:
        desk, _, sender, conv = await replying_desk(tmp_path, dovecot, mail_user, port)
        q = await queue_reply(desk, conv, "REPLY A", send_at=0)
        await desk.save_draft(conv, "DRAFT B")  # the agent writes on while A goes
        assert (await sender.run_due()).failed == [q.message_id]
        body, _, error = await outbox.draft(desk.store, conv)
        assert body.startswith("REPLY A\n\n──────── your draft") and body.endswith(", kept below ────────\n\nDRAFT B")
        assert "550" in error
    finally:
        ctl.stop()
    await desk.close()


async def test_undo_keeps_the_draft_written_since_below_the_reply(tmp_path, dovecot, mail_user, smtp_sink):
    clock = Clock()
    desk, _, sender, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port, clock)
    q = await queue_reply(desk, conv, "REPLY A")
    await desk.save_draft(conv, "MY NEW DRAFT")
    said = await cancel_send(desk, q.outbox_id)
    name = "your draft of " + said.rpartition("your draft of ")[2].removesuffix(" is kept below it")
    assert said == f"Reply to #{conv} cancelled: back in the draft; {name} is kept below it"
    assert (await outbox.draft(desk.store, conv))[0] == (
        f"REPLY A\n\n{outbox.kept_separator(name)}\n\nMY NEW DRAFT")
    # undone twice over (sent again, a new draft, undone again): still nothing lost
    q = await queue_reply(desk, conv, "REPLY A and more")  # the draft went out with it
    await desk.save_draft(conv, "ANOTHER DRAFT")
    await cancel_send(desk, q.outbox_id)
    assert (await outbox.draft(desk.store, conv))[0] == (
        f"REPLY A and more\n\n{outbox.kept_separator(name)}\n\nANOTHER DRAFT")
    await desk.close()


async def test_a_discarded_draft_comes_back_with_undo_above_one_written_since(tmp_path, dovecot, mail_user, smtp_sink):
    """Ctrl+D in the compose (Desk.discard_draft): no question asked, undo brings the text back."""
    clock = Clock()
    desk, _, _, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port, clock)
    await desk.save_draft(conv, "HALF A THOUGHT", reply_all=True)
    assert (await desk.queue_rows([conv]))[0].has_draft
    assert await desk.discard_draft(conv) == f"discarded the draft of #{conv}"
    assert await outbox.draft(desk.store, conv) is None
    assert not (await desk.queue_rows([conv]))[0].has_draft  # the ✎draft marker goes
    with pytest.raises(ValueError, match="no draft to discard"):
        await desk.discard_draft(conv)
    assert await desk.undo() == f"discarded the draft (#{conv} Refund for order #123)"
    assert await outbox.draft(desk.store, conv) == ("HALF A THOUGHT", True, None)
    # discarded, a new one written, then undo: both kept, the new one below
    await desk.discard_draft(conv)
    await desk.save_draft(conv, "SECOND TRY")
    await desk.undo()
    body, _, _ = await outbox.draft(desk.store, conv)
    assert body.startswith("HALF A THOUGHT\n\n──────── your draft of ") and body.endswith("\n\nSECOND TRY"), body
    await desk.close()
