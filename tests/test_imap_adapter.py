"""The aioimaplib adapter (tui_desk.mail.imap) against a real Dovecot, one test (at least) per
upstream bug it fixes; see the module docstring of tui_desk/mail/imap/adapter.py for the list."""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
import fcntl
import imaplib
import importlib.metadata
import logging
import random
import signal
import socket
import ssl
import struct
import termios
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing, asynccontextmanager
from pathlib import Path

import aioimaplib.aioimaplib as upstream
import aiosmtplib
import pytest

from imap_helpers import connected, delete, uid_expunge, uid_fetch_iter, uid_move
from servers import (
    DovecotServer,
    MaildirMessage,
    SmtpSink,
    failing_login_source,
    free_port,
    kill_process,
    make_test_cert,
)
from tui_desk.mail.imap import (
    FetchedMessage,
    ImapAuthError,
    ImapConnectError,
    ImapConnection,
    ImapConnectionLost,
    ImapTimeout,
    ImapTlsError,
    QresyncState,
    Security,
    Update,
    decode_mailbox,
    encode_mailbox,
)
from tui_desk.mail.imap import adapter, responses

BASE_DATE = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC)


def make_message(i: int, subject: str | None = None, body: str | None = None) -> bytes:
    subject = subject if subject is not None else f"Refund for order #{1000 + i}"
    body = body if body is not None else f"Hello,\r\nplease refund order {1000 + i}.\r\n— Kundin {i}\r\n"
    return (f"From: Customer {i} <c{i}@example.com>\r\nTo: support@helpdesk.test\r\n"
            f"Subject: {subject}\r\nMessage-ID: <m{i}@example.com>\r\n"
            f"Date: Thu, 01 Oct 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
            f"\r\n{body}").encode()


Connect = Callable[..., Awaitable[ImapConnection]]


@pytest.fixture
async def connect(dovecot: DovecotServer) -> AsyncIterator[Connect]:
    """connect(user, security="none", login=True, **kw) -> a connection closed after the test."""
    opened: list[ImapConnection] = []

    async def factory(user: str | None = None, security: Security = "none", *,
                      login: bool = True, **kwargs: object) -> ImapConnection:
        port = dovecot.imaps_port if security == "tls" else dovecot.imap_port
        kwargs.setdefault("ca_file", dovecot.ca_file)
        kwargs.setdefault("timeout", 10)
        conn = ImapConnection(dovecot.host, port, security=security, **kwargs)  # type: ignore[arg-type]
        opened.append(conn)
        await conn.connect()
        if login and user is not None:
            await conn.login(user, dovecot.password_of(user))
        return conn

    yield factory
    for conn in opened:
        conn.close()
        await conn.wait_closed()


def other_client(dovecot: DovecotServer, user: str) -> imaplib.IMAP4:
    """A second, plain stdlib client making changes behind our connection's back."""
    client = imaplib.IMAP4(dovecot.host, dovecot.imap_port, timeout=10)
    client.login(user, dovecot.password_of(user))
    client.select("INBOX")
    return client


def change_mailbox(dovecot: DovecotServer, user: str) -> None:
    """Append one message, flag UID 1, expunge UID 2."""
    client = other_client(dovecot, user)
    client.append("INBOX", None, None, make_message(99))
    client.uid("STORE", "1", "+FLAGS", "(\\Flagged)")
    client.uid("STORE", "2", "+FLAGS", "(\\Deleted)")
    client.expunge()
    client.logout()


# -- modified UTF-7 (d) ----------------------------------------------------------------------------
def test_modified_utf7_known_values_and_round_trip() -> None:
    # RFC 3501 §5.1.3 example, "&", and the folder names used below.
    assert encode_mailbox("~peter/mail/台北/日本語") == "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
    assert decode_mailbox("~peter/mail/&U,BTFw-/&ZeVnLIqe-") == "~peter/mail/台北/日本語"
    assert encode_mailbox("R&D") == "R&-D" and decode_mailbox("R&-D") == "R&D"
    assert encode_mailbox("Customer Replies") == "Customer Replies"
    # = UTF-7 ("Входящие".encode("utf-7") is b"+BBIERQQ+BDQETwRJBDgENQ-") with & for + and , for /
    assert encode_mailbox("Входящие поддержки") == "&BBIERQQ+BDQETwRJBDgENQ- &BD8EPgQ0BDQENQRABDYEOgQ4-"
    assert decode_mailbox("broken &AAA") == "broken &AAA"  # malformed: kept as it was
    rng = random.Random(7)
    alphabet = "aZ &-/,~é€Вх台😀\t"
    for _ in range(500):
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        encoded = encode_mailbox(name)
        assert encoded.isascii() and all(" " <= c <= "~" for c in encoded)
        assert decode_mailbox(encoded) == name


# -- framing, fed by hand (a, b, d, e) -------------------------------------------------------------
class _FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.closing = False

    def write(self, data: bytes) -> None:  # type: ignore[override]
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def last_tag(self) -> bytes:
        return self.written[-1].split(b" ", 1)[0]


_SCRIPTED_FETCH = (
    b"* 1 FETCH (UID 10 FLAGS (\\Seen) RFC822.SIZE 7 BODY[] {7}\r\nab\r\nc{} MODSEQ (7))\r\n"
    b'* 2 FETCH (UID 11 FLAGS () ENVELOPE (NIL "Re: (urgent * \\"x\\"" NIL NIL NIL NIL NIL NIL NIL'
    b' "<a@b>") BODY[] {0}\r\n)\r\n'
    b"* 7 FETCH (FLAGS (\\Deleted))\r\n"  # another session's flag change: an update
    b"* 3 EXISTS\r\n"
    b"* 3 FETCH (UID 12 BODY[] {7}\r\nx{2}\r\ny)\r\n"  # a literal that looks like a literal marker
    b"* 4 FETCH (UID 13 BODY[] {3}\r\n)))\r\n)\r\n"
    b"TAG OK Fetch completed.\r\n"
)


async def _scripted_fetch(chunks: Callable[[bytes], list[bytes]]) -> tuple[list[FetchedMessage], list]:
    loop = asyncio.get_running_loop()
    conn = ImapConnection("127.0.0.1", 143, security="none")
    transport = _FakeTransport()
    protocol = adapter._Protocol(loop, conn.label)
    protocol.connection_made(transport)
    conn._proto = protocol
    protocol.data_received(b"* OK ready\r\n")
    await asyncio.sleep(0)  # the greeting asks CAPABILITY
    tag = transport.last_tag()
    protocol.data_received(b"* CAPABILITY IMAP4rev1 IDLE\r\n" + tag + b" OK done\r\n")
    await asyncio.wait_for(protocol.greeted, 1)
    protocol.state = adapter.SELECTED
    task = asyncio.create_task(conn.uid_fetch("10:13", ["FLAGS", "BODY.PEEK[]"]))
    await asyncio.sleep(0)
    response = _SCRIPTED_FETCH.replace(b"TAG", transport.last_tag())
    for chunk in chunks(response):
        protocol.data_received(chunk)
    messages = await asyncio.wait_for(task, 1)
    return messages, conn.pending_updates()


@pytest.mark.parametrize("how", ["whole", "byte by byte", "random chunks"])
async def test_framing_is_independent_of_how_reads_split_the_data(how: str) -> None:
    rng = random.Random(3)

    def split(data: bytes) -> list[bytes]:
        if how == "whole":
            return [data]
        if how == "byte by byte":
            return [data[i:i + 1] for i in range(len(data))]
        cuts = sorted(rng.sample(range(1, len(data)), 25))
        return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]

    messages, updates = await _scripted_fetch(split)
    assert [(m.uid, m.body) for m in messages] == [
        (10, b"ab\r\nc{}"), (11, b""), (12, b"x{2}\r\ny"), (13, b")))")]
    assert messages[0].flags == ("\\Seen",) and messages[0].modseq == 7 and messages[0].size == 7
    envelope = messages[1].extra["ENVELOPE"]
    assert envelope[1] == b'Re: (urgent * "x"' and envelope[9] == b"<a@b>"  # "* " and "(" intact
    assert [(u.kind, u.number) for u in updates] == [("FETCH", 7), ("EXISTS", 3)]
    assert updates[0].message is not None and updates[0].message.flags == ("\\Deleted",)


# -- (a) one read with thousands of lines ---------------------------------------------------------
def _unread_bytes(sock: socket.socket) -> int:
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]


async def test_fetch_of_2000_headers_arriving_in_one_read(dovecot: DovecotServer, mail_user: str,
                                                        connect: Connect) -> None:
    """Upstream #118: one data_received() with more than ~1000 lines hit RecursionError and the
    FETCH never finished. Reading is held until Dovecot has written the whole response, so the
    next read carries thousands of lines."""
    n = 2000
    dovecot.load_maildir(mail_user, (make_message(i) for i in range(n)))
    conn = await connect(mail_user)
    await conn.select("INBOX")
    protocol = conn._proto
    assert protocol is not None
    sock = protocol.transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)  # room for all of it

    lines_per_read: list[int] = []
    counter = [0]
    handle_line, whole_fetch, data_received = protocol._handle_line, protocol._whole_fetch, protocol.data_received

    def counting_handle_line(line: bytes, cmd: object) -> object:
        counter[0] += 1
        return handle_line(line, cmd)  # type: ignore[arg-type]

    def counting_whole_fetch(view: memoryview, line: bytes, start: int, end: int) -> int:
        after = whole_fetch(view, line, start, end)
        if after >= 0:  # a whole response read at once: its two lines, "* N FETCH ... {n}" and ")"
            counter[0] += 2
        return after

    def counting_data_received(data: bytes) -> None:
        before = counter[0]
        data_received(data)
        lines_per_read.append(counter[0] - before)

    protocol._handle_line = counting_handle_line  # type: ignore[method-assign,assignment]
    protocol._whole_fetch = counting_whole_fetch  # type: ignore[method-assign]
    protocol.data_received = counting_data_received  # type: ignore[method-assign]
    protocol.transport.pause_reading()
    task = asyncio.create_task(conn.uid_fetch(
        "1:*", ["FLAGS", "BODY.PEEK[HEADER.FIELDS (SUBJECT MESSAGE-ID)]"]))
    last, stable = -1, 0
    while stable < 4:  # until Dovecot has stopped writing
        await asyncio.sleep(0.05)
        unread = _unread_bytes(sock)
        stable = stable + 1 if unread == last and unread > 0 else 0
        last = unread
    protocol.transport.resume_reading()
    messages = await asyncio.wait_for(task, 30)

    assert max(lines_per_read) > 1500, lines_per_read[:5]
    assert [m.uid for m in messages] == list(range(1, n + 1))
    key = "HEADER.FIELDS (SUBJECT MESSAGE-ID)"
    assert all(m.sections[key] == (f"Subject: Refund for order #{1000 + i}\r\n"
                                   f"Message-ID: <m{i}@example.com>\r\n\r\n").encode()
               for i, m in enumerate(messages))
    assert await conn.uid_search("ALL") == list(range(1, n + 1))  # the connection is still fine


# -- (b) a big FETCH, parsed right (speed: bench figures in the report, not asserted) --------------
TRICKY_SUBJECTS = ["Re: (urgent", "a * b", 'say "hi" \\ bye', "closing ) paren", "{5}", "plain"]


def subject(i: int) -> str:
    return f"#{i} {TRICKY_SUBJECTS[i % len(TRICKY_SUBJECTS)]}"


async def test_fetch_of_2000_whole_messages_is_exact(dovecot: DovecotServer, mail_user: str,
                                                     connect: Connect) -> None:
    n = 2000
    flag_letters = ["", "S", "SF", "RS"]
    seeded = [MaildirMessage(make_message(i, subject=subject(i),
                                          body=f"line ({i}\r\n* 1 FETCH {{3}}\r\n" * (i % 7)),
                             flags=flag_letters[i % 4], date=BASE_DATE + dt.timedelta(minutes=i))
              for i in range(n)]
    dovecot.load_maildir(mail_user, seeded)
    conn = await connect(mail_user)
    assert (await conn.select("INBOX")).exists == n
    items = ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY.PEEK[]"]
    messages = await conn.uid_fetch("1:*", items)

    letter_flags = {"S": "\\Seen", "F": "\\Flagged", "R": "\\Answered"}
    assert len(messages) == n
    for i, (msg, seed) in enumerate(zip(messages, seeded, strict=True)):
        assert msg.uid == i + 1 and msg.body == seed.raw and msg.size == len(seed.raw)
        assert msg.extra["ENVELOPE"][1].decode() == subject(i)
        assert set(msg.flags or ()) - {"\\Recent"} == {letter_flags[c] for c in seed.flags}
        assert msg.internaldate == seed.date

    # The same as a stream with back-pressure (reading pauses every 50 messages) ...
    streamed = [m async for m in uid_fetch_iter(conn, "1:*", items, high_water=50)]
    assert [(m.uid, m.body) for m in streamed] == [(m.uid, m.body) for m in messages]
    # ... and a stream left early drains the rest: the connection stays usable.
    async with aclosing(uid_fetch_iter(conn, "1:*", ["BODY.PEEK[]"], high_water=20)) as stream:
        async for msg in stream:
            if msg.uid == 5:
                break
    assert await conn.uid_search("UID", "1:3") == [1, 2, 3]


# -- (c) TLS ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_tls_with_the_test_ca(dovecot: DovecotServer, mail_user: str, connect: Connect,
                                    security: Security) -> None:
    conn = await connect(mail_user, security)
    assert conn._proto is not None
    tls = conn._proto.transport.get_extra_info("ssl_object")
    assert tls is not None and tls.version() in ("TLSv1.2", "TLSv1.3")
    assert tls.getpeercert()["subjectAltName"] == (("DNS", "localhost"), ("IP Address", "127.0.0.1"))
    assert "STARTTLS" not in conn.capabilities  # capabilities were asked again over TLS
    assert "QRESYNC" in conn.capabilities  # and again after LOGIN
    await conn.append("INBOX", make_message(1))
    await conn.select("INBOX")
    assert [m.body for m in await conn.uid_fetch("1", ["BODY.PEEK[]"])] == [make_message(1)]
    await conn.logout()
    # The certificate names localhost too.
    port = dovecot.imaps_port if security == "tls" else dovecot.imap_port
    async with ImapConnection("localhost", port, security=security, ca_file=dovecot.ca_file) as named:
        await named.login(mail_user, "secret")


async def test_unknown_ca_fails_with_a_clear_error(dovecot: DovecotServer, tmp_path: Path,
                                                   connect: Connect) -> None:
    other = make_test_cert(tmp_path / "other-ca")
    with pytest.raises(ImapTlsError) as no_ca:
        await connect(security="tls", ca_file=None)
    message = str(no_ca.value)
    assert message.startswith(f"TLS certificate of 127.0.0.1:{dovecot.imaps_port} is not trusted")
    assert "set ca_file" in message and "self-signed certificate" in message and "\n" not in message
    with pytest.raises(ImapTlsError) as wrong_ca:
        await connect(security="starttls", ca_file=other.cert)
    assert f"is not trusted by {other.cert}" in str(wrong_ca.value)


@asynccontextmanager
async def fake_imap_server(reply: Callable[[str, str], bytes | None],
                           greeting: bytes | None = b"* OK [CAPABILITY IMAP4rev1] fake\r\n",
                           ) -> AsyncIterator[int]:
    """A scripted server on a free port, for cases Dovecot will not produce."""
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        if greeting:
            writer.write(greeting)
        while line := await reader.readline():
            tag, _, command = line.decode("utf-8", "replace").strip().partition(" ")
            answer = reply(tag, command.upper())
            if answer:
                writer.write(answer)
                await writer.drain()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()
        await asyncio.gather(*(w.wait_closed() for w in writers), return_exceptions=True)


async def test_starttls_never_falls_back_and_refuses_injected_plaintext() -> None:
    def no_starttls(tag: str, command: str) -> bytes:
        return f"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n{tag} OK done\r\n".encode()

    def injecting(tag: str, command: str) -> bytes:
        if command == "CAPABILITY":
            return f"* CAPABILITY IMAP4rev1 STARTTLS\r\n{tag} OK done\r\n".encode()
        return f"{tag} OK Begin TLS\r\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n".encode()

    for script, expected in ((no_starttls, "does not offer STARTTLS"),
                             (injecting, "sent unencrypted data after STARTTLS")):
        async with fake_imap_server(script) as port:
            conn = ImapConnection("127.0.0.1", port, security="starttls", timeout=5)
            with pytest.raises(ImapTlsError, match=expected):
                await conn.connect()
            assert not connected(conn)


# -- (d) mailbox names -----------------------------------------------------------------------------
async def test_mailbox_names_with_spaces_and_cyrillic(dovecot: DovecotServer, mail_user: str,
                                                      connect: Connect) -> None:
    names = ["Customer Replies", "Входящие поддержки", "a * b", 'Tickets "VIP" \\ 2026']
    conn = await connect(mail_user)
    for i, name in enumerate(names):
        await conn.create(name)
        uid = await conn.append(name, make_message(i), flags=["\\Seen", "$Escalated"],
                                date=BASE_DATE + dt.timedelta(days=i))
        assert uid == 1
    listed = {f.name: f for f in await conn.list_folders()}
    assert set(names) <= set(listed)
    assert listed["Sent"].special_use == "\\Sent" and listed["INBOX"].special_use is None
    # Dovecot's own view (UTF-8): the names arrived as meant, not as raw words or mojibake.
    on_server = set(dovecot.doveadm("mailbox", "list", "-u", mail_user).splitlines())
    assert set(names) <= on_server
    for i, name in enumerate(names):
        status = await conn.select(name)
        assert status.exists == 1 and status.name == name
        [msg] = await conn.uid_fetch("1:*", ["FLAGS", "INTERNALDATE", "BODY.PEEK[]"])
        assert msg.body == make_message(i) and msg.internaldate == BASE_DATE + dt.timedelta(days=i)
        assert {"\\Seen", "$Escalated"} <= set(msg.flags or ())
    assert [f.name for f in await conn.list_folders("Входящие*")] == ["Входящие поддержки"]
    await conn.select("INBOX")
    for name in names:
        await delete(conn, name)


async def test_literals_with_and_without_literal_plus(dovecot: DovecotServer, connect: Connect) -> None:
    """Non-ASCII strings go as literals: LITERAL+ when offered, else synchronizing ("+")."""
    password = "пароль with spaces"
    user = dovecot.new_user(password=password)
    for literal_plus in (True, False):
        conn = await connect(user, login=False)
        protocol = conn._proto
        assert protocol is not None
        continuations: list[bytes] = []

        def counting(line: bytes, seen: list[bytes] = continuations,
                     original: Callable[[bytes], None] = protocol._continuation) -> None:
            seen.append(line)
            original(line)

        protocol._continuation = counting  # type: ignore[method-assign]
        if not literal_plus:
            protocol.capabilities.discard("LITERAL+")
        await conn.login(user, password)
        if not literal_plus:
            protocol.capabilities.discard("LITERAL+")
        uid = await conn.append("INBOX", make_message(5, body="Привет, поддержка\r\n"))
        await conn.select("INBOX")
        assert uid in await conn.uid_search("BODY", "поддержка")
        assert uid in await conn.uid_search("SUBJECT", "order #1005")
        assert await conn.uid_search("BODY", "nothing like this") == []
        # LOGIN (password), APPEND (message) and SEARCH (text) each waited for "+" or did not.
        assert len(continuations) == (0 if literal_plus else 3)
        await conn.logout()


# -- (e) unsolicited responses ---------------------------------------------------------------------
async def test_changes_reported_during_other_commands_reach_the_update_stream(
        dovecot: DovecotServer, mail_user: str, connect: Connect) -> None:
    dovecot.load_maildir(mail_user, (make_message(i) for i in range(3)))
    conn = await connect(mail_user)
    await conn.select("INBOX")
    await asyncio.to_thread(change_mailbox, dovecot, mail_user)
    assert conn.pending_updates() == []  # servers report only while a command runs
    await conn.uid_search("ALL")  # not NOOP: any command carries them (Dovecot: after its result)
    by_kind = {u.kind: u for u in conn.pending_updates()}
    assert by_kind["EXPUNGE"].number == 2
    assert by_kind["EXISTS"].number == 3
    fetched = by_kind["FETCH"].message
    assert fetched is not None and by_kind["FETCH"].number == 1 and "\\Flagged" in (fetched.flags or ())
    assert await conn.uid_search("ALL") == [1, 3, 4]


async def test_idle_reports_new_flagged_and_expunged_mail(dovecot: DovecotServer, mail_user: str,
                                                          connect: Connect) -> None:
    dovecot.load_maildir(mail_user, (make_message(i) for i in range(3)))
    conn = await connect(mail_user)
    assert "QRESYNC" in await conn.enable("QRESYNC")
    before = await conn.select("INBOX")
    seen: list[Update] = []
    async with conn.idle() as session:
        await asyncio.to_thread(change_mailbox, dovecot, mail_user)
        async with asyncio.timeout(15):
            async for update in session:
                seen.append(update)
                if {"EXISTS", "FETCH", "VANISHED"} <= {u.kind for u in seen}:
                    break
    by_kind = {u.kind: u for u in seen}
    assert by_kind["VANISHED"].uids == [2]
    flagged = by_kind["FETCH"].message
    assert flagged is not None and flagged.uid == 1 and "\\Flagged" in (flagged.flags or ())
    assert flagged.modseq is not None and flagged.modseq > (before.highestmodseq or 0)
    # After IDLE the connection takes commands again; QRESYNC resync agrees with the updates.
    assert await conn.uid_search("ALL") == [1, 3, 4]
    again = await conn.select("INBOX", qresync=QresyncState(before.uidvalidity, before.highestmodseq or 0,
                                                              "1:3"))
    assert again.vanished == [2] and 1 in {m.uid for m in again.changed} and again.uidnext == 5


async def test_store_move_and_expunge_report_what_changed(dovecot: DovecotServer, mail_user: str,
                                                          connect: Connect) -> None:
    dovecot.load_maildir(mail_user, (make_message(i) for i in range(5)))
    conn = await connect(mail_user)
    await conn.enable("QRESYNC")
    await conn.select("INBOX")
    stored = await conn.uid_store([1, 2], "+FLAGS", ["\\Seen", "$Escalated"])
    assert [(m.uid, {"\\Seen", "$Escalated"} <= set(m.flags or ())) for m in stored] == [
        (1, True), (2, True)]
    assert all(m.modseq for m in stored)
    # .SILENT: no flags back, but with CONDSTORE the new MODSEQ still comes (RFC 7162 §3.2)
    [silent] = await conn.uid_store("3", "+FLAGS", ["\\Deleted"], silent=True)
    assert (silent.uid, silent.flags) == (3, None) and silent.modseq
    await uid_expunge(conn, "3")
    assert await uid_move(conn, "4:5", "Archive") == {4: 1, 5: 2}
    vanished = sorted(u for update in conn.pending_updates() if update.kind == "VANISHED"
                      for u in update.uids)
    assert vanished == [3, 4, 5]
    assert await conn.uid_search("ALL") == [1, 2]


async def test_lmtp_delivery_is_pushed_during_idle(dovecot: DovecotServer, mail_user: str,
                                                   connect: Connect) -> None:
    conn = await connect(mail_user)
    await conn.select("INBOX")
    async with conn.idle() as session:
        await asyncio.to_thread(dovecot.deliver, mail_user, make_message(7))
        async with asyncio.timeout(10):
            update = await anext(session)
    assert (update.kind, update.number) == ("EXISTS", 1)
    [msg] = await conn.uid_fetch("1:*", ["BODY.PEEK[]"])
    assert msg.body is not None and msg.body.endswith(make_message(7))  # after Return-Path etc.


async def test_smtp_sink_takes_starttls_and_auth(smtp_sink: SmtpSink, dovecot: DovecotServer) -> None:
    smtp_sink.clear()
    await aiosmtplib.send(make_message(3), hostname=smtp_sink.host, port=smtp_sink.port,
                          start_tls=True, tls_context=ssl.create_default_context(
                              cafile=str(dovecot.ca_file)),
                          username="agent1", password="secret",
                          sender="agent1@helpdesk.test", recipients=["c3@example.com"])
    [mail] = await asyncio.to_thread(smtp_sink.wait_for, 1)
    assert (mail.mail_from, mail.rcpt_tos, mail.auth_user, mail.tls) == (
        "agent1@helpdesk.test", ["c3@example.com"], "agent1", True)
    assert mail.data.replace(b"\r\n", b"\n") == make_message(3).replace(b"\r\n", b"\n")


# -- (f) dropped connections and dead servers ------------------------------------------------------
async def test_server_process_killed_during_fetch_fails_it_at_once(dovecot: DovecotServer, mail_user: str,
                                                                   connect: Connect) -> None:
    dovecot.load_maildir(mail_user, (make_message(i) for i in range(50)))
    conn = await connect(mail_user, timeout=60)
    await conn.select("INBOX")
    [pid] = dovecot.imap_pids(mail_user)
    kill_process(pid, signal.SIGSTOP)  # the FETCH is sent but never answered ...
    fetch = asyncio.create_task(conn.uid_fetch("1:*", ["BODY.PEEK[]"]))
    await asyncio.sleep(0.3)
    assert not fetch.done()
    kill_process(pid, signal.SIGKILL)  # ... then the server side dies
    async with asyncio.timeout(10):  # well below the 60 s command timeout
        with pytest.raises(ImapConnectionLost) as lost:
            await fetch
    assert str(lost.value).startswith(f"connection to 127.0.0.1:{dovecot.imap_port} lost")
    with pytest.raises(ImapConnectionLost):
        await conn.noop()  # fails at once, no hang


async def test_kick_during_idle_ends_it_with_connection_lost(dovecot: DovecotServer, mail_user: str,
                                                             connect: Connect) -> None:
    conn = await connect(mail_user)
    await conn.select("INBOX")
    async with asyncio.timeout(10):
        with pytest.raises(ImapConnectionLost) as lost:
            async with conn.idle() as session:
                await asyncio.to_thread(dovecot.kick, mail_user)
                async for _ in session:
                    pass
    assert "lost" in str(lost.value) and "\n" not in str(lost.value)
    assert not connected(conn)


async def test_dovecot_stopped_during_idle_then_restarted(dovecot: DovecotServer, mail_user: str,
                                                          connect: Connect) -> None:
    conn = await connect(mail_user)
    await conn.select("INBOX")
    try:
        async with asyncio.timeout(20):
            with pytest.raises(ImapConnectionLost):
                async with conn.idle() as session:
                    await asyncio.to_thread(dovecot.stop)
                    async for _ in session:
                        pass
            with pytest.raises(ImapConnectError, match="connection refused"):
                await connect(mail_user)
    finally:
        await asyncio.to_thread(dovecot.start)
    again = await connect(mail_user)
    assert (await again.select("INBOX")).exists == 0


async def test_silent_server_times_out_and_closes(dovecot: DovecotServer, mail_user: str,
                                                  connect: Connect) -> None:
    conn = await connect(mail_user, timeout=1)
    await conn.select("INBOX")
    [pid] = dovecot.imap_pids(mail_user)
    kill_process(pid, signal.SIGSTOP)
    try:
        async with asyncio.timeout(10):
            with pytest.raises(ImapTimeout, match=r"NOOP got no answer from .* within 1 s"):
                await conn.noop()
        assert not connected(conn)
    finally:
        kill_process(pid, signal.SIGKILL)


# -- errors are one clear line; the password never shows -------------------------------------------
async def test_wrong_password_is_one_clear_line(dovecot: DovecotServer, connect: Connect) -> None:
    conn = await connect(login=False, source_address=failing_login_source())
    with pytest.raises(ImapAuthError) as failed:
        await conn.login("agent1", "not-the-password")
    assert str(failed.value) == (f"login failed for agent1 at 127.0.0.1:{dovecot.imap_port}: "
                                 "[AUTHENTICATIONFAILED] Authentication failed.")


async def test_unreachable_host_is_one_clear_line() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(ImapConnectError) as refused:
        await ImapConnection("127.0.0.1", port, security="none", timeout=5).connect()
    assert str(refused.value) == f"cannot connect to 127.0.0.1:{port}: connection refused"

    async with fake_imap_server(lambda tag, cmd: None, greeting=None) as silent_port:
        with pytest.raises(ImapConnectError) as silent:
            await ImapConnection("127.0.0.1", silent_port, security="tls", timeout=0.5).connect()
        assert str(silent.value) == (f"TLS handshake with 127.0.0.1:{silent_port} failed: SSL "
                                     "handshake is taking longer than 0.5 seconds: aborting the connection")
        with pytest.raises(ImapConnectError) as no_greeting:
            await ImapConnection("127.0.0.1", silent_port, security="none", timeout=0.5).connect()
        assert str(no_greeting.value) == f"no greeting from 127.0.0.1:{silent_port} within 0.5 s"

    with pytest.raises(ValueError, match="only allowed for loopback"):
        ImapConnection("imap.example.com", 143, security="none")


async def test_password_never_in_logs_errors_or_reprs(dovecot: DovecotServer, connect: Connect,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    password = 'Pa55 "quoted" \\ ключ'
    user = dovecot.new_user(password=password)
    caplog.set_level(logging.DEBUG)
    conn = await connect(user, login=False)
    await conn.login(user, password)
    await conn.select("INBOX")
    bad = await connect(login=False, source_address=failing_login_source())
    with pytest.raises(ImapAuthError) as failed:
        await bad.login(user, password + "x")
    # A LOGIN that times out (a server that never answers it) must not leak it either.
    async with fake_imap_server(
            lambda tag, cmd: f"* CAPABILITY IMAP4rev1 LITERAL+\r\n{tag} OK\r\n".encode()
            if cmd == "CAPABILITY" else None) as port:
        timed = ImapConnection("127.0.0.1", port, security="none", timeout=0.5)
        await timed.connect()
        with pytest.raises(ImapAuthError, match="LOGIN got no answer") as stalled:
            await timed.login(user, password)
    seen = "\n".join([
        caplog.text, repr(conn), repr(bad), repr(timed), repr(failed.value), repr(stalled.value),
        *traceback.format_exception(failed.value), *traceback.format_exception(stalled.value),
        repr(failed.value.__context__), repr(stalled.value.__context__),
    ])
    assert "LOGIN" in caplog.text and "****" in caplog.text  # the log was on, masked
    for secret in (password, password + "x", password.replace('"', '\\"'), "ключ"):
        assert secret not in seen


def test_plain_fetch_responses_read_as_the_tokenizer_reads_them() -> None:
    """_parse_fetch reads the common FETCH shapes without the tokenizer: same FetchedMessage,
    and everything else is left to the tokenizer."""
    literal = b"Subject: hi\r\nFrom: a@b\r\n\r\n"
    items = [b"UID 7", b"FLAGS (\\Seen $Forwarded)", b"FLAGS ()", b"FLAGS (\\Seen  \\Flagged)", b"FLAGS (NIL)",
             b"FLAGS (a\tb)", b"MODSEQ (12345)", b'INTERNALDATE "20-Nov-2026 10:00:00 +0100"',
             b'INTERNALDATE " 2-Nov-2026 10:00:00 -0230"', b"RFC822.SIZE 2345", b"uid 8", b"Flags (\\Seen)",
             b"UID  9", b"X-GM-LABELS (a)", b'INTERNALDATE "20-Nov-2026 10:00:00 +0000" ']
    tails = [b"BODY[HEADER] {%d}", b"BODY[] {%d}", b"BODY[TEXT] {%d}", b"BODY[HEADER]<0> {%d}", b"RFC822 {%d}",
             b"BODY[] ~{%d}", b"BODY[] {%d+}", b"body[] {%d}"]
    rng = random.Random(4)
    seen_plain = seen_other = 0
    for _ in range(3000):
        picked = rng.sample(items, rng.randint(0, 5))
        line = b"%d FETCH (" % rng.randint(1, 999) + b"".join(i + b" " for i in picked) + rng.choice(tails) % len(literal)
        for unit in ([line, literal, b")"], [line, literal, b" UID 3)"], [line.replace(b" FETCH", b" fetch"), literal, b")"]):
            plain = responses._parse_plain_fetch(unit)
            assert responses._parse_fetch(unit) == responses._parse_fetch_tokens(unit)
            if plain is not None:
                assert plain == responses._parse_fetch_tokens(unit), unit[0]
                seen_plain += 1
            else:
                seen_other += 1
    assert seen_plain > 150 and seen_other > 1000
    flag_only = [b"5 FETCH (UID 9 FLAGS (\\Seen))"]
    assert responses._parse_plain_fetch(flag_only) is None
    assert responses._parse_fetch(flag_only) == responses._parse_fetch_tokens(flag_only)


# -- the adapter's hold on aioimaplib's internals ---------------------------------------------------
PACKAGE = Path(adapter.__file__).parent


async def _upstream_objects() -> dict[str, object]:
    """A fresh aioimaplib Command and protocol (instance attributes appear only in __init__)."""
    loop = asyncio.get_running_loop()
    return {"Command": upstream.Command("NOOP", "T1", loop=loop),
            "IMAP4ClientProtocol": upstream.IMAP4ClientProtocol(loop), "module": upstream}


def _private_names_in(path: Path) -> set[str]:
    """Underscore (not dunder) attributes a file reads or sets, and the methods it defines."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


async def test_the_aioimaplib_internals_the_adapter_relies_on_still_exist() -> None:
    """After an aioimaplib upgrade: names each relied-on internal that vanished. What each was
    for, and which upstream fix would let the adapter drop it: adapter.py's docstring."""
    objects = await _upstream_objects()
    listed = [(owner, name) for listing in (adapter.UPSTREAM_PRIVATES, adapter.UPSTREAM_INTERNALS)
              for owner, names in listing.items() for name in names]
    assert len(listed) > 30
    vanished = [f"{owner}.{name}" if owner != "module" else f"aioimaplib.aioimaplib.{name}"
                for owner, name in listed if not hasattr(objects[owner], name)]
    assert vanished == [], (f"aioimaplib {importlib.metadata.version('aioimaplib')} no longer has "
                            f"{', '.join(vanished)}: tui_desk/mail/imap/adapter.py relies on them")


async def test_the_list_of_relied_on_aioimaplib_privates_is_current() -> None:
    """UPSTREAM_PRIVATES (and the docstring) name exactly the aioimaplib privates adapter.py
    touches or overrides, and no other file of the package touches any."""
    objects = await _upstream_objects()
    upstream_private = {n for owner in ("Command", "IMAP4ClientProtocol") for n in dir(objects[owner])
                        if n.startswith("_") and not n.startswith("__")}
    assert {"_set_timer", "_idle_event", "_handle_responses"} <= upstream_private
    listed = {n for names in adapter.UPSTREAM_PRIVATES.values() for n in names}
    used = _private_names_in(PACKAGE / "adapter.py") & upstream_private
    assert sorted(used - listed) == [], "used by adapter.py, missing from UPSTREAM_PRIVATES and its docstring"
    assert sorted(listed - used) == [], "listed in UPSTREAM_PRIVATES, no longer used: drop it (and from the docstring)"
    internals = {n for names in adapter.UPSTREAM_INTERNALS.values() for n in names}
    doc = adapter.__doc__ or ""
    assert sorted(n for n in listed | internals if n not in doc) == [], "listed, not explained in the docstring"
    elsewhere = {p.name: sorted(_private_names_in(p) & upstream_private)
                 for p in sorted(PACKAGE.glob("*.py")) if p.name != "adapter.py"}
    assert {name: found for name, found in elsewhere.items() if found} == {}


def test_only_the_adapter_imports_aioimaplib() -> None:
    root = PACKAGE.parents[1]  # tui_desk/
    importers = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            if any(m.split(".")[0] == "aioimaplib" for m in modules):
                importers.add(path.relative_to(root).as_posix())
    assert importers == {"mail/imap/adapter.py"}
