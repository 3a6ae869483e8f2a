"""Replying for real: aiosmtpd receives, Dovecot files the Sent copy; undo, send later,
retries, permanent failures, crashes between the steps, header injection, Markdown."""

from __future__ import annotations

import asyncio
import os
import dataclasses
import email
from email import policy
from pathlib import Path

import pytest

from servers import free_port
from tests.accounts import replying_desk
from tests.clock import Clock
from tests.mailfactory import make_mail
from tui_desk.desk.commands import CommandError
from tui_desk.desk.replies import cancel_send, queue_reply
from tui_desk.desk.service import Desk
from tui_desk.mail.compose import ComposeError, Outgoing, build_message, markdown_to_html
from tui_desk.mail.model import Address
from tui_desk.sync.delivery import OutboxSender
from tui_desk.store import outbox
from tui_desk.store.queries import thread_message_ids

GOLDEN = Path(__file__).parent / "golden"
SNIPPETS = Path(__file__).resolve().parents[1] / "snippets"


def accept_any_login(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult
    return AuthResult(success=True)


def parsed(raw: bytes):
    return email.message_from_bytes(raw, policy=policy.default)


async def test_reply_arrives_threads_and_is_filed_in_sent_once(tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    clock = Clock()
    desk, sync, sender, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port, clock)
    attachment = tmp_path / "steps.txt"
    attachment.write_text("1. restart\n")
    q = await queue_reply(desk, conv, "Hi {{customer_first_name}},\n\nYour refund for **#123** is on its way.\n\n"
                          "- ticket {{ticket_id}}\n", attachments=[attachment])
    assert (await sender.run_due()).sent == []  # inside the undo window
    clock.now += 11
    report = await sender.run_due()
    assert report.sent == [q.message_id]
    event = report.sent_events[q.message_id]  # what it was, for the app's notice (desk.sent_news)
    assert event is not None and event.kind == "reply" and report.sent_to == {q.message_id: ["ann@c.test"]}
    [got] = smtp_sink.wait_for(1)
    assert got.rcpt_tos == ["ann@c.test"] and got.tls and got.auth_user
    m = parsed(got.data)
    assert m["Subject"] == f"Re: [#{conv}] Refund for order #123"
    assert m["In-Reply-To"] == "<q1@t>" and "<q1@t>" in m["References"]
    assert m["Message-ID"] == f"<{q.message_id}>" and q.message_id.endswith("@helpdesk.test")
    assert str(m["From"]) == f"Helpdesk Support <{mail_user}@helpdesk.test>"
    plain = m.get_body(("plain",)).get_content()
    html = m.get_body(("html",)).get_content()
    assert "Hi Ann," in plain and "{{" not in plain
    assert "<strong>#123</strong>" in html and "<li>ticket" in html
    assert [a.get_filename() for a in m.iter_attachments()] == ["steps.txt"]
    # it threads at once, and the conversation now waits on the customer
    assert set((await thread_message_ids(desk.store))[conv]) == {"q1@t", q.message_id}
    assert (await desk.store.fetchone("SELECT status FROM conversations WHERE id=?", (conv,)))[0] == "pending"
    # the Sent copy exists once, even after another run and a sync
    await sender.run_due()
    await sync.sync_once()
    c = await sender._imap("support")
    await c.select("Sent", readonly=True)
    assert len(await c.uid_search("HEADER", "Message-ID", f"<{q.message_id}>")) == 1
    await c.logout()
    assert (await outbox.get(desk.store, q.outbox_id)).state == "done"
    assert set((await thread_message_ids(desk.store))[conv]) == {"q1@t", q.message_id}
    await desk.close()


async def test_undo_cancels_back_to_the_draft(tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    clock = Clock()
    desk, _, sender, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port, clock)
    q = await queue_reply(desk, conv, "Thanks {{customer_first_name}}!", reply_all=True)
    assert "back in the draft" in await cancel_send(desk, q.outbox_id)
    assert (await outbox.draft(desk.store, conv))[1] is True, "a reply-all stays a reply-all"
    clock.now += 60
    await sender.run_due()
    await asyncio.sleep(0.2)
    assert smtp_sink.messages == []
    assert (await outbox.draft(desk.store, conv))[0] == "Thanks {{customer_first_name}}!"
    await desk.close()


async def test_send_later_fires_when_due(tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    clock = Clock()
    desk, _, sender, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port, clock)
    q = await queue_reply(desk, conv, "Later!", send_at=int(clock.now) + 3600)
    clock.now += 1800
    assert (await sender.run_due()).sent == []
    clock.now += 1801
    assert (await sender.run_due()).sent == [q.message_id]
    assert len(smtp_sink.wait_for(1)) == 1
    await desk.close()


async def test_send_now_makes_a_scheduled_reply_due_at_once(tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    clock = Clock()
    desk, _, sender, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port, clock)
    q = await queue_reply(desk, conv, "Later!", send_at=int(clock.now) + 3600)
    assert "sending" in await desk.send_now(q.outbox_id)
    assert (await outbox.get(desk.store, q.outbox_id)).send_at <= clock.now
    assert (await sender.run_due()).sent == [q.message_id]
    assert len(smtp_sink.wait_for(1)) == 1
    with pytest.raises(CommandError):  # on its way already: nothing left to hurry
        await desk.send_now(q.outbox_id)
    await desk.close()


async def test_smtp_down_then_back(tmp_path, dovecot, mail_user, tls_files):
    from aiosmtpd.controller import Controller
    from servers import _SinkHandler
    port = free_port()
    clock = Clock()
    desk, _, sender, conv = await replying_desk(tmp_path, dovecot, mail_user, port, clock)
    q = await queue_reply(desk, conv, "Hello", send_at=int(clock.now))
    report = await sender.run_due()
    assert report.retrying == [q.message_id]
    item = await outbox.get(desk.store, q.outbox_id)
    assert item.state == "queued" and item.attempts == 1 and f"127.0.0.1:{port}" in item.last_error
    handler = _SinkHandler()
    ctl = Controller(handler, hostname="127.0.0.1", port=port, tls_context=tls_files.server_context(),
                     auth_require_tls=False, decode_data=False, authenticator=accept_any_login)
    ctl.start()
    try:
        assert (await sender.run_due()).sent == []  # backoff not over yet
        clock.now += 20
        assert (await sender.run_due()).sent == [q.message_id]
        assert len(handler.messages) == 1
    finally:
        ctl.stop()
    await desk.close()


async def test_permanent_failure_keeps_the_draft_with_the_servers_words(tmp_path, dovecot, mail_user, tls_files):
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
        q = await queue_reply(desk, conv, "Hello there", send_at=0)
        report = await sender.run_due()
        assert report.failed == [q.message_id]
        body, _, error = await outbox.draft(desk.store, conv)
        assert body == "Hello there" and "550" in error and "mailbox unavailable" in error
    finally:
        ctl.stop()
    await desk.close()


async def test_crash_before_smtp_delivers_exactly_once_after_restart(tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    desk, _, sender, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port)
    q = await queue_reply(desk, conv, "Once", send_at=0)
    cfg = desk.config
    await desk.close()  # the app dies after the outbox write
    desk = await Desk.open(tmp_path / "s.db", cfg)
    sender = OutboxSender(desk.store, cfg, lambda a, k: "secret", on_change=desk.refresh)
    assert (await sender.run_due()).sent == [q.message_id]
    await sender.run_due()
    await asyncio.sleep(0.2)
    assert len(smtp_sink.messages) == 1
    await desk.close()


async def test_crash_between_smtp_and_sent_append_files_once_and_never_resends(tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    desk, _, sender, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port)
    q = await queue_reply(desk, conv, "Exactly one", send_at=0)

    async def die(item):
        raise SystemExit("killed after SMTP")
    sender._file_in_sent = die
    with pytest.raises(SystemExit):
        await sender.run_due()
    assert (await outbox.get(desk.store, q.outbox_id)).state == "sent"
    cfg = desk.config
    await desk.close()
    desk = await Desk.open(tmp_path / "s.db", cfg)
    sender = OutboxSender(desk.store, cfg, lambda a, k: "secret", on_change=desk.refresh)
    await sender.run_due()
    await sender.run_due()
    assert (await outbox.get(desk.store, q.outbox_id)).state == "done"
    await asyncio.sleep(0.2)
    assert len(smtp_sink.messages) == 1, "never sent twice"
    c = await sender._imap("support")
    await c.select("Sent", readonly=True)
    assert len(await c.uid_search("HEADER", "Message-ID", f"<{q.message_id}>")) == 1
    await c.logout()
    await desk.close()


async def test_crash_while_sending_is_maybe_sent_unless_sent_shows_it(tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    desk, _, sender, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port)
    q = await queue_reply(desk, conv, "Unknown fate", send_at=0)
    async with desk.store.transaction():
        await outbox.set_state(desk.store, q.outbox_id, "sending")  # what a kill during SMTP leaves
    report = await sender.run_due()
    assert report.maybe_sent == [q.message_id]
    assert smtp_sink.messages == [], "not resent silently"
    # one wording for the app and the CLI, whichever stopped: what happened, what to do
    assert (await outbox.get(desk.store, q.outbox_id)).last_error == (
        "tui-desk stopped while sending it; the server may have accepted it, though Sent has no copy:"
        " ask the customer if unsure, then resend or discard")
    # a second one whose copy the server did file in Sent is recognised as sent
    q2 = await queue_reply(desk, conv, "Filed by the server", send_at=0)
    item = await outbox.get(desk.store, q2.outbox_id)
    c = await sender._imap("support")
    await c.append("Sent", item.raw, flags=["\\Seen"])
    await c.logout()
    async with desk.store.transaction():
        await outbox.set_state(desk.store, q2.outbox_id, "sending")
    report = await sender.run_due()
    assert report.sent == [q2.message_id] and smtp_sink.messages == []
    await desk.close()


@pytest.mark.parametrize("field, value", [
    ("subject", "Hi\r\nBcc: victim@evil.test"), ("subject", "a\nb"), ("subject", "nul\x00"),
    ("to", "ann@c.test\r\nBcc: x@y"), ("name", "Ann\nBcc: x@y"),
])
def test_header_injection_is_refused(field, value):
    out = Outgoing(Address("Support", "support@h.test"), [Address("Ann", "ann@c.test")], "Hello", "body")
    if field == "subject":
        out.subject = value
    elif field == "to":
        out.to = [Address("Ann", value)]
    else:
        out.to = [Address(value, "ann@c.test")]
    with pytest.raises(ComposeError, match="line break or NUL|not an email address"):
        build_message(out, "id@h.test")


async def test_placeholder_injection_and_unknown_placeholders_stop_the_send(tmp_path, dovecot, mail_user, smtp_sink):
    desk, _, _, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port)
    with pytest.raises(CommandError, match=r"\{\{order_id\}\}"):
        await queue_reply(desk, conv, "Order {{order_id}} refunded")
    assert await outbox.items(desk.store) == []
    await desk.close()


@pytest.mark.parametrize("name", ["refund-issued", "more-info", "outage-investigating"])
def test_markdown_rendering_matches_golden_files(name):
    body = (SNIPPETS / f"{name}.md").read_text().split("---", 2)[2].lstrip("\n")
    html = markdown_to_html(body)
    golden = GOLDEN / f"{name}.html"
    if os.environ.get("UPDATE_GOLDEN"):  # regenerate, then review the diff before committing
        golden.write_text(html)
    assert golden.exists(), f"{golden} missing: run with UPDATE_GOLDEN=1 and review it"
    assert html == golden.read_text()


async def test_background_follows_the_account_and_delivers_the_outbox(tmp_path, dovecot, mail_user, smtp_sink):
    from tui_desk.desk.background import Background
    smtp_sink.clear()
    desk, _, _, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port)
    cfg = desk.config
    account = dataclasses.replace(cfg.accounts[0], imap=dataclasses.replace(
        cfg.accounts[0].imap, password_command=f"echo {dovecot.password_of(mail_user)}"),
        smtp=dataclasses.replace(cfg.accounts[0].smtp, password_command="echo secret"))
    desk.config = dataclasses.replace(cfg, accounts=(account,))
    background = Background(desk)
    stop = asyncio.Event()
    task = asyncio.create_task(background.run(stop))
    q = await queue_reply(desk, conv, "Sent by the background", send_at=0)
    for _ in range(100):
        if smtp_sink.messages and background.syncs[0].state == "idle":
            break
        await asyncio.sleep(0.1)
    assert len(smtp_sink.messages) == 1
    assert "support: idle" in background.status()
    stop.set()
    await asyncio.wait_for(task, 15)
    assert (await outbox.get(desk.store, q.outbox_id)).state == "done"
    await desk.close()


async def test_demo_reply_flow_needs_no_account(tmp_path):
    from tui_desk.cli import prepare_demo
    from tui_desk.desk.background import Background
    from tui_desk.demo import DemoMailSink, demo_config
    sink = DemoMailSink()
    port = sink.start()
    try:
        await prepare_demo(tmp_path / "demo.db")
        desk = await Desk.open(tmp_path / "demo.db", demo_config(port))
        conv = (await desk.queue_ids())[0]
        q = await queue_reply(desk, conv, "Hi {{customer_first_name}}, it is fixed.")
        assert await cancel_send(desk, q.outbox_id)  # undo works in the demo too
        q = await queue_reply(desk, conv, "Hi {{customer_first_name}}, it is fixed.", send_at=0)
        report = await Background(desk).sender.run_due()
        # and the demo's own acknowledgement, queued by its rule when the demo was built
        others = [m for m in report.sent if m != q.message_id]
        assert q.message_id in report.sent and len(sink.received) == len(report.sent) == 2, report.sent
        assert others[0].startswith("rule."), others
        view = await desk.conversation(conv)
        assert "it is fixed" in view.messages[-1].blocks[0].text and view.status == "pending"
        await desk.close()
    finally:
        sink.stop()


async def test_forward_attaches_the_original_keeps_the_thread_and_is_not_an_answer(tmp_path, dovecot, mail_user,
                                                                                   smtp_sink):
    smtp_sink.clear()
    clock = Clock()
    desk, sync, sender, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port, clock)
    outbox_id, said = await desk.forward(conv, "Eng Team <eng@third.test>", "Can you check order #123, "
                                         "{{customer_first_name}} is waiting?")
    assert "eng@third.test" in said
    clock.now += 11
    assert len((await sender.run_due()).sent) == 1
    [got] = smtp_sink.wait_for(1)
    assert got.rcpt_tos == ["eng@third.test"]
    m = parsed(got.data)
    assert m["Subject"] == "Fwd: Refund for order #123" and m["X-TUI-Desk-Forward"] == "yes"
    assert "<q1@t>" in m["References"] and m["In-Reply-To"] is None
    assert "Ann is waiting" in m.get_body(("plain",)).get_content()
    [original] = [p for p in m.iter_attachments() if p.get_content_type() == "message/rfc822"]
    inner = original.get_content()
    assert inner["Message-ID"] == "<q1@t>" and "Where is my refund?" in inner.get_body(("plain",)).get_content()
    # in the conversation, but the customer still waits for an answer
    assert len((await thread_message_ids(desk.store))[conv]) == 2
    view = await desk.conversation(conv)
    assert view.status == "open" and view.messages[-1].from_agent
    # the third party's answer threads back into the conversation after a sync
    fwd_id = m["Message-ID"].strip("<>")
    dovecot.deliver(mail_user, make_mail("eng1@third.test", sender="Eng <eng@third.test>",
                                         subject="Re: Fwd: Refund for order #123", refs=["q1@t", fwd_id],
                                         in_reply_to=fwd_id, minutes=30, body="Refund went out yesterday.\n"))
    await sync.sync_once()
    assert "eng1@third.test" in (await thread_message_ids(desk.store))[conv]
    with pytest.raises(CommandError, match="not an email address"):
        await desk.forward(conv, "eng team", "x")
    await desk.close()


async def test_replies_and_notes_never_name_a_derived_message_id(tmp_path, dovecot, mail_user, smtp_sink):
    """A mail kept under <id>#dup-<hash> (another mail has its Message-ID) is answered as <id>:
    the derived id is the store's own."""
    dovecot.load_maildir(mail_user, [make_mail("q1@t", sender="Ann Lee <ann@c.test>", subject="Refund for order #123",
                                               body="Another mail with the same id\n", minutes=5)])
    desk, sync, sender, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port, Clock())
    ids = [r[0] for r in await desk.store.fetchall("SELECT message_id FROM messages WHERE conv_id=?", (conv,))]
    assert len(ids) == 2 and any("#dup-" in i for i in ids)
    await queue_reply(desk, conv, "On it.")
    await desk.forward(conv, "eng@third.test", "Please check.")
    await desk.add_note(conv, "Checked both.")
    raws = [r[0] for r in await desk.store.fetchall("SELECT raw FROM outbox")]
    raws += [r[0] for r in await desk.store.fetchall(
        "SELECT r.data FROM raw_messages r JOIN messages m ON m.id = r.id WHERE m.is_note = 1")]
    import zlib
    heads = [parsed(raws[0]), parsed(raws[1]), parsed(zlib.decompress(raws[2]))]
    assert heads[0]["In-Reply-To"] == "<q1@t>"
    for m in heads:
        assert "<q1@t>" in m["References"] and "#dup-" not in m["References"], m["References"]
    await desk.close()


async def test_forwarding_a_mail_nested_300_deep_attaches_its_bytes(tmp_path, dovecot, mail_user, smtp_sink):
    """message/rfc822 inside message/rfc822, 300 times: the stdlib's parser and writer recurse
    per level (RecursionError in the compose screen); the forward attaches the bytes as they are."""
    raw = b"From: Ann Lee <ann@c.test>\nSubject: innermost\n\nthe core\n"
    for n in range(300):
        raw = (f"From: Ann Lee <ann@c.test>\nSubject: level {n}\nMIME-Version: 1.0\n"
               "Content-Type: message/rfc822\n\n").encode() + raw
    raw = (b"Message-ID: <deep@t>\nDate: Mon, 2 Nov 2026 10:00:00 +0000\nTo: support@helpdesk.test\n" + raw)
    dovecot.load_maildir(mail_user, [raw])
    clock = Clock()
    desk, sync, sender, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port, clock)
    deep = (await desk.store.fetchone("SELECT conv_id FROM messages WHERE message_id='deep@t'"))[0]
    outbox_id, said = await desk.forward(deep, "eng@third.test", "Look at this one.")
    [sent] = [r[0] for r in await desk.store.fetchall("SELECT raw FROM outbox WHERE id=?", (outbox_id,))]
    assert raw.replace(b"\n", b"\r\n") in sent
    assert b"Content-Type: message/rfc822" in sent and b'filename="forwarded-message.eml"' in sent
    smtp_sink.clear()
    clock.now += 11
    assert len((await sender.run_due()).sent) == 1
    [got] = smtp_sink.wait_for(1)
    assert raw.replace(b"\n", b"\r\n") in got.data.replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n")
    await desk.close()
