"""Replying to people whose addresses are not ASCII, and to SMTP servers that lack what the
config asks for: real aiosmtpd sinks with and without SMTPUTF8 / STARTTLS. Whatever fails before
the server could take the message fails once, with one line, back in the draft: never "maybe sent"."""

from __future__ import annotations

import email
import time
from collections.abc import Iterator
from email import policy

import pytest

from servers import SmtpSink
from tests.accounts import config_for
from tui_desk.desk.replies import queue_reply
from tui_desk.desk.service import Desk
from tui_desk.sync.delivery import OutboxSender
from tui_desk.sync.imap_sync import AccountSync
from tui_desk.store import outbox
from tui_desk.store.queries import thread_message_ids


@pytest.fixture(scope="module")
def plain_sink(tls_files) -> Iterator[SmtpSink]:
    """STARTTLS, but no SMTPUTF8."""
    sink = SmtpSink(tls=tls_files, smtputf8=False)
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture(scope="module")
def no_tls_sink() -> Iterator[SmtpSink]:
    """No certificate: no STARTTLS on offer."""
    sink = SmtpSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


def customer_mail(sender: str) -> bytes:
    """A customer's mail as an RFC 6532 client writes it: UTF-8 straight in the headers."""
    return (f"From: {sender}\r\nTo: support@helpdesk.test\r\nSubject: Frage zur Rechnung\r\n"
            f"Date: Mon, 02 Nov 2026 10:00:00 +0000\r\nMessage-ID: <intl-1@t>\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            f"Wo bleibt meine Erstattung?\r\n").encode("utf-8")


async def setup(tmp_path, dovecot, user, smtp_port, sender: str):
    dovecot.load_maildir(user, [customer_mail(sender)])
    cfg = config_for(dovecot, user, smtp_port)
    desk = await Desk.open(tmp_path / "s.db", cfg)
    sync = AccountSync(desk.store, cfg.accounts[0], dovecot.password_of(user), is_agent=cfg.is_agent_address,
                       on_change=desk.refresh)
    await sync.sync_once()
    sender_ = OutboxSender(desk.store, cfg, lambda a, k: "secret", on_change=desk.refresh, clock=time.time)
    conv = next(iter(await thread_message_ids(desk.store)))
    return desk, sender_, conv


async def test_utf8_address_goes_out_with_smtputf8(tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    desk, sender, conv = await setup(tmp_path, dovecot, mail_user, smtp_sink.port, "José <josé@x.example>")
    q = await queue_reply(desk, conv, "Hola {{customer_first_name}}, ya está.", send_at=0)
    report = await sender.run_due()
    assert report.sent == [q.message_id] and not report.maybe_sent
    [got] = smtp_sink.wait_for(1)
    assert got.rcpt_tos == ["josé@x.example"]
    header = got.data.split(b"\r\n\r\n", 1)[0]
    # the name as an RFC 2047 encoded word, the address itself in UTF-8 (RFC 6532)
    assert "To: =?utf-8?b?Sm9zw6k=?= <josé@x.example>".encode() in header.split(b"\r\n")
    to = email.message_from_bytes(got.data, policy=policy.default)["To"]
    assert to.addresses[0].display_name == "José"
    assert "Hola José" in email.message_from_bytes(got.data, policy=policy.default).get_body(("plain",)).get_content()
    # the sent reply threads in the store under the same, readable address
    assert set((await thread_message_ids(desk.store))[conv]) == {"intl-1@t", q.message_id}
    assert (await outbox.get(desk.store, q.outbox_id)).state == "done", "and filed in Sent, UTF-8 headers and all"
    await desk.close()


async def test_international_domain_goes_out_as_idna_without_smtputf8(tmp_path, dovecot, mail_user, plain_sink):
    plain_sink.clear()
    desk, sender, conv = await setup(tmp_path, dovecot, mail_user, plain_sink.port, "Jörg Bär <joerg@bücher.example>")
    q = await queue_reply(desk, conv, "Hallo", send_at=0)
    assert (await sender.run_due()).sent == [q.message_id]
    [got] = plain_sink.wait_for(1)
    assert got.rcpt_tos == ["joerg@xn--bcher-kva.example"]
    assert got.data.isascii(), "nothing in it needs SMTPUTF8"
    to = email.message_from_bytes(got.data, policy=policy.default)["To"]
    assert (to.addresses[0].display_name, to.addresses[0].addr_spec) == ("Jörg Bär", "joerg@xn--bcher-kva.example")
    await desk.close()


async def test_utf8_address_to_a_server_without_smtputf8_fails_once_into_the_draft(
        tmp_path, dovecot, mail_user, plain_sink):
    plain_sink.clear()
    desk, sender, conv = await setup(tmp_path, dovecot, mail_user, plain_sink.port, "José <josé@x.example>")
    q = await queue_reply(desk, conv, "Hola José", send_at=0)
    report = await sender.run_due()
    assert report.failed == [q.message_id] and not report.maybe_sent and not report.retrying
    line = "the server does not accept international addresses (SMTPUTF8): josé@x.example"
    item = await outbox.get(desk.store, q.outbox_id)
    assert item.state == "failed" and item.last_error == line
    assert await outbox.draft(desk.store, conv) == ("Hola José", False, line)
    # sending it again (outbox --resend) fails the same way: no loop, no "maybe sent"
    await desk.send_anyway(q.outbox_id)
    report = await sender.run_due()
    assert report.failed == [q.message_id] and not report.maybe_sent
    assert (await sender.run_due()).maybe_sent == []
    assert (await outbox.get(desk.store, q.outbox_id)).state == "failed"
    assert plain_sink.messages == []
    await desk.close()


async def test_starttls_asked_for_but_not_offered_is_a_permanent_one_line_error(
        tmp_path, dovecot, mail_user, no_tls_sink):
    desk, sender, conv = await setup(tmp_path, dovecot, mail_user, no_tls_sink.port, "Ann <ann@c.test>")
    q = await queue_reply(desk, conv, "Hello", send_at=0)
    report = await sender.run_due()
    assert report.failed == [q.message_id] and not report.retrying
    error = (await outbox.get(desk.store, q.outbox_id)).last_error
    assert error == (f"127.0.0.1:{no_tls_sink.port} does not offer STARTTLS, which security = \"starttls\" "
                     f"requires (for implicit TLS, usually port 465, use \"tls\")")
    assert (await outbox.draft(desk.store, conv))[0] == "Hello"
    assert no_tls_sink.messages == []
    await desk.close()


def test_address_headers_encode_names_keep_utf8_addresses_and_idna_domains():
    from tui_desk.mail.compose import Outgoing, build_message
    from tui_desk.mail.model import Address
    raw = build_message(Outgoing(
        Address("Support, Example", "support@h.test"),
        [Address("José", "josé@x.example"), Address("", "ann@c.test")], "Hi", "body",
        cc=[Address("Jörg Bär", "joerg@bücher.example")]), "m@h.test")
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert head[:5] == [b'From: "Support, Example" <support@h.test>',
                        "To: =?utf-8?b?Sm9zw6k=?= <josé@x.example>,".encode(), b" ann@c.test",
                        b"Cc: =?utf-8?b?SsO2cmcgQsOkcg==?= <joerg@xn--bcher-kva.example>", b"Subject: Hi"]
    m = email.message_from_bytes(raw, policy=policy.default)
    assert [a.display_name for a in m["To"].addresses + m["Cc"].addresses] == ["José", "", "Jörg Bär"]
