"""An agent's sent reply shows in the conversation as the customer saw it (its HTML part read as
text), not as its Markdown source: on the desk that sent it, after its Sent copy comes back, with
a customer's name put in by a placeholder still text (never a link), and hostile text as typed."""

from __future__ import annotations

import email
import email.header
import sqlite3
from email import policy

from tests.accounts import replying_desk
from tests.clock import Clock
from tests.mailfactory import mail
from tui_desk.desk.render import conversation_text
from tui_desk.desk.replies import cancel_send, queue_reply
from tui_desk.mail.html_text import html_to_text
from tui_desk.sanitize import BIDI_MARKER, sanitize
from tui_desk.store import Store, outbox

REPLY = ("Hi {{customer_first_name}},\n\nYour refund for **order #123** is on its way:\n\n"
         "- it left our bank *today*\n- see [the refund page](https://docs.example/refunds)\n\n"
         "Run `tui-desk status` to follow it.\n")
SHOWN = ["Hi Ann,", "Your refund for order #123 is on its way:", "- it left our bank today",
         "- see the refund page <https://docs.example/refunds>", "Run tui-desk status to follow it."]


def shown_text(view) -> str:
    """The last message's own (not quoted) text, as the conversation pane gets it."""
    return "".join(b.text for b in view.messages[-1].blocks if not b.quoted)


async def sent(desk, sender, clock, conv, body, smtp_sink):
    """Queue `body` as a reply, let the undo window pass, send it: (the queued reply, the mail received)."""
    smtp_sink.clear()
    q = await queue_reply(desk, conv, body)
    clock.now += 11
    assert (await sender.run_due()).sent == [q.message_id]
    [got] = smtp_sink.wait_for(1)
    return q, email.message_from_bytes(got.data, policy=policy.default)


async def test_a_sent_reply_shows_rendered_here_and_after_its_sent_copy_comes_back(tmp_path, dovecot, mail_user,
                                                                                   smtp_sink):
    clock = Clock()
    desk, sync, sender, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port, clock)
    q, got = await sent(desk, sender, clock, conv, REPLY, smtp_sink)
    view = await desk.conversation(conv)
    reply = view.messages[-1]
    assert reply.from_agent and reply.message_id == q.message_id
    text = shown_text(view)
    for line in SHOWN:
        assert line in text.split("\n"), (line, text)
    assert not any(mark in text for mark in ("**", "](", "`", "{{", "*today*"))
    # exactly the customer's HTML part, read as the desk reads any HTML mail
    html = got.get_body(("html",)).get_content()
    assert text.strip("\n") == sanitize(html_to_text(html)).strip("\n")
    # the text/plain part still is the Markdown source (what a text-only mail client shows)
    assert "**order #123**" in got.get_body(("plain",)).get_content()
    # `tui-desk show` prints the same text
    printed = conversation_text(view)
    assert "- see the refund page <https://docs.example/refunds>" in printed and "**" not in printed
    # the Sent copy comes back from the server: the same message, still rendered
    await sync.sync_once()
    copies = await desk.store.fetchall(
        "SELECT f.name FROM imap_messages i JOIN folders f ON f.id = i.folder_id"
        " JOIN messages m ON m.id = i.message_id WHERE m.message_id = ?", (q.message_id,))
    assert [r[0] for r in copies] == ["Sent"]
    again = await desk.conversation(conv)
    assert len(again.messages) == len(view.messages) and shown_text(again) == text
    await desk.close()


async def test_a_name_a_placeholder_put_in_stays_text_and_hostile_text_shows_as_typed(tmp_path, dovecot, mail_user,
                                                                                      smtp_sink):
    clock = Clock()
    desk, sync, sender, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port, clock)
    name = "[Verify](https://evil.example/login) *Eve* - x"
    dovecot.deliver(mail_user, mail(
        f"From: {email.header.Header(name, 'utf-8').encode()} <ann@c.test>\nTo: {mail_user}@helpdesk.test\n"
        "Subject: Re: Refund for order #123\nDate: Fri, 20 Nov 2026 12:00:00 +0000\nMessage-ID: <q2@t>\n"
        "In-Reply-To: <q1@t>\nReferences: <q1@t>\n", "Still nothing.\n"))
    await sync.sync_once()
    hostile = "[red]x[/red] [link=https://evil.example]y[/link] \x1b[31mred\x1b[0m \u202eevil\u202c"
    _, got = await sent(desk, sender, clock, conv, "Hi {{customer_name}}, **now**:\n\n" + hostile + "\n", smtp_sink)
    text = shown_text(await desk.conversation(conv))
    # the customer's HTML has the name as text, and so does the conversation
    assert 'href="https://evil.example' not in got.get_body(("html",)).get_content()
    assert f"Hi {name}, now:" in text.split("\n")  # the agent's own Markdown rendered around it
    assert "[red]x[/red] [link=https://evil.example]y[/link] red " + BIDI_MARKER + "evil" + BIDI_MARKER in text
    assert "\x1b" not in text and "\u202e" not in text
    await desk.close()


async def test_an_undone_reply_takes_its_sent_markdown_with_it(tmp_path, dovecot, mail_user, smtp_sink):
    clock = Clock()
    desk, _, _, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port, clock)
    q = await queue_reply(desk, conv, "Hi {{customer_first_name}}, **soon**.")
    assert await outbox.sent_markdown(desk.store, [q.message_id]) == {q.message_id: "Hi Ann, **soon**."}
    await cancel_send(desk, q.outbox_id)
    assert await outbox.sent_markdown(desk.store, [q.message_id]) == {}
    assert await desk.store.fetch_int("SELECT count(*) FROM outbox_markdown") == 0
    await desk.close()


async def test_a_reply_sent_before_schema_15_shows_as_it_was_stored(tmp_path):
    """Replies sent before the outbox kept their Markdown: their text as stored (the text/plain
    part), as before; a schema-14 store gets the table and keeps its outbox."""
    from tui_desk.store.schema import MIGRATIONS, SCHEMA_VERSION
    path = tmp_path / "v14.db"
    con = sqlite3.connect(path)
    con.executescript("".join(MIGRATIONS[:14]) + "\nPRAGMA user_version=14;")
    con.execute("INSERT INTO outbox(account, conv_id, message_id, raw, mail_from, rcpt_json, body_markdown, state,"
                " send_at, created_at) VALUES ('support', 1, 'r1@helpdesk.test', x'00', 'a@helpdesk.test', '[]',"
                " 'Hi **Ann**', 'done', 0, 0)")
    con.commit()
    con.close()
    store = await Store.open(path)
    try:
        assert await store.fetch_int("PRAGMA user_version") == SCHEMA_VERSION >= 15
        assert (await outbox.items(store, ("done",)))[0].body_markdown == "Hi **Ann**"
        assert await outbox.sent_markdown(store, ["r1@helpdesk.test"]) == {}
    finally:
        await store.close()


async def test_a_forward_shows_its_note_rendered_and_its_attached_original(tmp_path, dovecot, mail_user, smtp_sink):
    clock = Clock()
    desk, _, sender, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port, clock)
    smtp_sink.clear()
    await desk.forward(conv, "eng@third.test", "Can you check **order #123**, {{customer_first_name}} waits?")
    clock.now += 11
    assert len((await sender.run_due()).sent) == 1
    view = await desk.conversation(conv)
    forward = view.messages[-1]
    assert shown_text(view).strip() == "Can you check order #123, Ann waits?"
    assert [a.content_type for a in forward.attachments] == ["message/rfc822"]
    await desk.close()


async def test_an_outbox_row_deleted_without_foreign_keys_leaves_nothing_to_the_next_one(tmp_path):
    """A plain sqlite3 session (foreign keys off) deletes outbox rows; their ids come again."""
    path = tmp_path / "s.db"
    item = dict(account="support", conv_id=1, raw=b"x", mail_from="a@helpdesk.test", recipients=["c@c.test"],
                body_markdown="Hi {{customer_first_name}}", send_at=0)

    async def add_after_a_plain_delete(message_id: str, **more) -> int:
        with sqlite3.connect(path) as con:
            con.execute("DELETE FROM outbox")
        con.close()
        store = await Store.open(path)
        try:
            return await outbox.add(store, message_id=message_id, **item, **more)
        finally:
            await store.close()

    await (await Store.open(path)).close()
    first = await add_after_a_plain_delete("m1@helpdesk.test", sent_markdown="Hi **Ann**")
    assert await add_after_a_plain_delete("m2@helpdesk.test") == first  # the id comes again
    assert await add_after_a_plain_delete("m3@helpdesk.test", sent_markdown="Hi **Bob**") == first
    store = await Store.open(path)
    try:
        assert await outbox.sent_markdown(store, ["m3@helpdesk.test"]) == {"m3@helpdesk.test": "Hi **Bob**"}
        with sqlite3.connect(path) as con:
            con.execute("DELETE FROM outbox")
        con.close()
        await outbox.add(store, message_id="m4@helpdesk.test", **item)
        assert await outbox.sent_markdown(store, ["m4@helpdesk.test"]) == {}
        assert await store.fetch_int("SELECT count(*) FROM outbox_markdown") == 0
    finally:
        await store.close()
