"""Hostile mail never stops intake (issue 13): the parser finishes on every pathological
shape and keeps what it can read; whatever still hangs costs a bounded time per message.

pytest-timeout is the guard here: these tests check that things finish, never how fast."""

from __future__ import annotations

import pytest

from hostile_mail import folding_trap, head, pathological
from tui_desk.mail.model import ParsedMessage
from tui_desk.mail.parse import attachment_payloads, parse_body, parse_header_block, parse_message

PATHOLOGICAL = list(pathological())


def _strings(msg: ParsedMessage) -> list[str]:
    out = [msg.message_id, msg.subject, msg.text, *msg.references, *msg.defects]
    for addr in [msg.sender, *msg.to, *msg.cc, *msg.reply_to]:
        if addr is not None:
            out += [addr.name, addr.addr]
    for att in msg.attachments:
        out += [att.filename, att.content_type, att.part_path]
    return out


@pytest.mark.timeout(20)
def test_the_folding_trap_is_read_without_re_serialising() -> None:
    """The attached message's size and content come from the raw bytes, never from the
    stdlib's generator, whose header folding loops forever on this message."""
    raw = folding_trap()
    msg = parse_message(raw)
    assert msg.message_id == "hostile-fold@customer.test" and msg.subject == "hostile fold"
    (att,) = msg.attachments
    assert att.content_type == "message/rfc822" and att.size > 0
    ((_, data),) = attachment_payloads(raw)
    assert len(data) == att.size and b"inner text" in data and b'"bbbb bbbb' in data
    assert parse_message(data).text == "inner text"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name, raw", PATHOLOGICAL, ids=[n for n, _ in PATHOLOGICAL])
def test_pathological_mail_is_read_and_keeps_its_header_fields(name: str, raw: bytes) -> None:
    for reader in (parse_message, parse_header_block, parse_body):
        reader(raw)
    attachment_payloads(raw)
    msg = parse_message(raw)
    assert not msg.synthetic_id or "Message-ID" in name, msg.defects
    if "Message-ID" not in name:
        assert msg.message_id.startswith("hostile-")
    if "From" not in name:
        assert msg.sender is not None and msg.sender.addr.startswith("sender"), msg.defects
    if "Subject" not in name and "encoded-word" not in name:
        assert msg.subject.startswith("hostile "), msg.defects
    if "Date" not in name:
        assert msg.date is not None, msg.defects
    assert not any("parser failed" in d for d in msg.defects), msg.defects
    for s in _strings(msg):
        assert "\x00" not in s


@pytest.mark.parametrize("header", [b"Content-Type: text/plain; a*", b"Content-Type: text/plain; " + b"(" * 400,
                                    b"Content-Disposition: attachment; filename*"])
def test_one_bad_header_gets_a_defect_and_the_rest_survives(header: bytes) -> None:
    raw = head(1) + header + b"\r\n\r\nthe body\r\n"
    msg = parse_message(raw)
    assert (msg.message_id, msg.subject, msg.sender.addr) == (
        "hostile-1@customer.test", "hostile 1", "sender1@customer.test")
    assert msg.text == "the body"
    assert not any("parser failed" in d for d in msg.defects)


def test_an_unreadable_content_type_is_named_in_the_defects() -> None:
    msg = parse_message(head(1) + b"Content-Type: text/plain; a*\r\n\r\nthe body\r\n")
    assert any("Content-Type" in d for d in msg.defects), msg.defects


@pytest.mark.parametrize("charset", ["idna", "punycode", "undefined", "raw_unicode_escape", "unicode_escape",
                                     "rot13", "rot_13", "zlib", "base64_codec", "hex", "uu", "bz2", "quopri"])
def test_codecs_that_are_not_text_encodings_are_refused(charset: str) -> None:
    raw = head(1) + f"Content-Type: text/plain; charset={charset}\r\n\r\nplain words \\u0041\r\n".encode()
    msg = parse_message(raw)
    assert msg.message_id == "hostile-1@customer.test" and msg.subject == "hostile 1"
    assert msg.text == "plain words \\u0041"  # not decoded by the codec
    assert any(charset in d for d in msg.defects), msg.defects


@pytest.mark.timeout(30)
def test_a_big_punycode_body_is_not_decoded_as_punycode() -> None:
    body = b"ab-" + b"a" * 1_000_000  # punycode decoding is quadratic: ~110 s for this
    msg = parse_message(head(1) + b"Content-Type: text/plain; charset=punycode\r\n\r\n" + body)
    assert msg.text.startswith("ab-aaaa")


def test_no_nul_in_any_field() -> None:
    (_, raw), = [(n, r) for n, r in PATHOLOGICAL if n == "NUL in part type"]
    msg = parse_message(raw)
    (att,) = msg.attachments
    assert att.content_type == "application/octet" and "\x00" not in att.filename
    nul_everywhere = (b"From: A\0B <a\0b@x.test>\r\nMessage-ID: <n\0ul@x>\r\nSubject: s\0s\r\n"
                      b"Content-Type: text/plain\r\n\r\nte\0xt\r\n")
    for s in _strings(parse_message(nul_everywhere)):
        assert "\x00" not in s


def test_a_raw_iso_2022_jp_subject_reads_as_japanese() -> None:
    subject = "テスト件名です"
    raw = (b"From: a@x.test\r\nMessage-ID: <jp@x>\r\nSubject: " + subject.encode("iso2022_jp")
           + b"\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n\r\n" + "本文".encode("iso2022_jp") + b"\r\n")
    msg = parse_message(raw)
    assert msg.subject == subject and msg.text == "本文"
    # also without any charset declared anywhere
    raw = raw.replace(b"; charset=iso-2022-jp", b"")
    assert parse_message(raw).subject == subject


def test_a_raw_8bit_subject_in_the_declared_body_charset() -> None:
    raw = (b"From: a@x.test\r\nMessage-ID: <k@x>\r\nSubject: " + "Привет".encode("koi8-r")
           + b"\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\nx\r\n")
    assert parse_message(raw).subject == "Привет"
