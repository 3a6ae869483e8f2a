"""The parser's quick route (tui_desk/mail/parse/quick.py) gives the very record of the full
route, for each entry point (parse_message, parse_header_block, parse_body): on every mail of
the test corpora (tests/corpus, their list archives, tests/fuzz_corpus, the hostile mail), on
generated support mail, on the fuzzers' mail and on generated header shapes. Records are
compared by repr, so a date with the same instant but another zone is a difference too."""

from __future__ import annotations

import datetime as dt
import email.utils
import mailbox
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzz_mail
import hostile_mail
from mail_corpus import CORPUS, MESSAGE_FILES
from tui_desk.demo.mailbox import Generator
from tui_desk.mail.parse import entry, headers
from tui_desk.mail.parse.headers import _Defects, _parse_date, _plain_date
from tui_desk.mail.parse.quick import plain_header

PARTS = ("message", "header", "body")
FUZZ_CORPUS = Path(__file__).parent / "fuzz_corpus"


def header_block(raw: bytes) -> bytes:
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    return raw[:min(ends) + (4 if raw[min(ends):min(ends) + 4] == b"\r\n\r\n" else 2)] if ends else raw


def routes_differ(raw: bytes) -> list[str]:
    """Each entry point whose quick and full records differ, with both."""
    out = []
    for part in PARTS:
        quick, full = entry._parse(raw, part=part), entry._parse(raw, part=part, quick=False)
        if repr(quick) != repr(full):
            out.append(f"{part}:\n  quick {quick!r:.2000}\n  full  {full!r:.2000}")
    return out


def took_quick(raw: bytes, part: str) -> bool:
    return entry._read_quick(raw, part) is not None  # type: ignore[arg-type]


def check_all(raws: list[tuple[str, bytes]]) -> dict[str, int]:
    """Compares the routes on each mail and on its header block alone; returns how many took
    the quick route, by entry point (a test that compares nothing proves nothing)."""
    quick = dict.fromkeys(PARTS, 0)
    failures = []
    for label, raw in raws:
        for what, data in ((label, raw), (f"{label} (header block)", header_block(raw))):
            failures += [f"{what}: {d}" for d in routes_differ(data)]
            for part in PARTS:
                quick[part] += took_quick(data, part)
    assert not failures, "\n".join(failures[:10])
    return quick


def test_generated_support_mail_reads_the_same_and_mostly_quickly():
    end = dt.datetime(2026, 11, 20, 23, 59, tzinfo=dt.timezone.utc)
    raws = [(f"generated #{i}", m.raw) for seed in (1, 7) for i, m in enumerate(Generator(1500, seed, end, 60).generate())]
    quick = check_all(raws)
    # every generated header block alone is plain (a whole multipart mail is not read quickly:
    # its parts are parsed); about a third of the mail is one text/plain part
    assert quick["header"] >= len(raws) + len(raws) // 4
    assert quick["body"] >= len(raws) // 4


def test_corpus_mail_reads_the_same():
    raws = [(str(p.relative_to(CORPUS)), p.read_bytes()) for p in MESSAGE_FILES]
    raws += [(p.name, p.read_bytes()) for p in sorted(FUZZ_CORPUS.rglob("*")) if p.is_file()]
    raws += [(name, raw) for name, raw in hostile_mail.pathological()]
    raws += [(name, raw) for name, raw, _ in hostile_mail.terminal_senders()]
    quick = check_all(raws)
    assert quick["header"] > 50 and quick["message"] > 10


def test_list_archives_read_the_same():
    archives = sorted(p for p in (CORPUS / "archives").rglob("*")
                      if p.is_file() and (p.suffix == ".mbox" or p.name.startswith("mbox.")))
    assert archives
    raws = []
    for path in archives:
        box = mailbox.mbox(path, create=False)
        try:
            raws += [(f"{path.name} #{n}", box.get_bytes(key)) for n, key in enumerate(box.iterkeys())]
        finally:
            box.close()
    quick = check_all(raws)
    assert quick["header"] > 100


# ---------------------------------------------------------------------------------------------
# generated header shapes


_NAMES = ["Ann", "Ann Lee", "Lee, Ann", "O'Brien", "J. R. Smith", "Ünal", "a@b", "", " ", "Ann (x)",
          "=?utf-8?q?Ann_L=C3=A9e?=", "=?utf-8?b?0K7Qu9C40Y8=?=", "=?iso-8859-1?q?J=F6rg?=", "=?bogus?q?x?=",
          "=?utf-8?q?bad=ZZ?=", "\\\"x\\\"", "Ann\tLee", "=?utf-8?q?a?==?utf-8?q?b?="]
_ADDRS = ["a@b.test", "ann.lee+x@mail.example", "x@[1.2.3.4]", "a b@c", "@a,@b:x@y.test", "", "a@", "\"q x\"@d.test",
          "ann@b.test.", "a@=?utf-8?q?x?=", "a..b@c.test"]


@st.composite
def address_value(draw) -> str:
    shapes = []
    for _ in range(draw(st.integers(1, 3))):
        name, addr = draw(st.sampled_from(_NAMES)), draw(st.sampled_from(_ADDRS))
        shape = draw(st.sampled_from(["bare", "angle", "quoted", "named", "comment", "group", "raw"]))
        shapes.append({"bare": addr, "angle": f"<{addr}>", "quoted": f'"{name}" <{addr}>', "named": f"{name} <{addr}>",
                       "comment": f"{addr} ({name})", "group": f"G: {name} <{addr}>;", "raw": f"{name}{addr}"}[shape])
    sep = draw(st.sampled_from([", ", ",", " , ", ",\n ", ";"]))
    return sep.join(shapes)


_DAYS = ["Mon, ", "Tue, ", "Sun, ", "", "Mon ", "mon, "]
_ZONES = ["+0000", "-0000", "+0530", "-1200", "+2359", "+2400", "+0060", "GMT", "UT", "EST", "Z", "+00:00",
          "+0000 (UTC)", "", "+000"]


@st.composite
def date_value(draw) -> str:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(["", "yesterday", "2026-11-20T10:00:00", "2026-11-20 10:00:00+01:00",
                                     "Tue, 22 Sep 26 05:03:33 +0500", "22 Sep 2026 05:03 +0500",
                                     "Tue, 22 Sep 2026 05:03:33.25 +0500", "Tue, 22 Sep 2026 05:03:33 2026"]))
    day = draw(st.sampled_from(_DAYS))
    mday = draw(st.integers(0, 32))
    mday_text = draw(st.sampled_from([str(mday), f"{mday:02d}"]))
    month = draw(st.sampled_from(["Jan", "Feb", "Sep", "Dec", "jan", "Sept", "Foo"]))
    year = draw(st.sampled_from(["2026", "1999", "0999", "0001", "26", "126", "9999", "10000", "2024"]))
    h, m, s = draw(st.integers(0, 25)), draw(st.integers(0, 61)), draw(st.integers(0, 62))
    zone = draw(st.sampled_from(_ZONES))
    spaces = draw(st.sampled_from([" ", "  ", "\t", " \n "]))
    return f"{day}{mday_text} {month} {year}{spaces}{h:02d}:{m:02d}:{s:02d} {zone}".rstrip()


_SUBJECTS = ["Hello", "Re: Order #123", "=?utf-8?b?0KHQoNCe0KfQndCeOg==?= urgent", "=?utf-8?q?a?= =?utf-8?q?b?=",
             "=?utf-8?q?Caf=C3=A9?=\n =?utf-8?q?_ouvert?=", "x=?utf-8?q?a?=", "=?gb2312?b?suLK1A==?=", "a  b\tc",
             "=?utf-8?q??=", "", "=?utf-8?b?!!!?=", "  leading", "trailing  "]
_CONTENT_TYPES = [None, "text/plain", 'text/plain; charset="utf-8"', "text/plain; charset=iso-8859-1",
                  "text/plain; charset=utf-8; format=flowed", "text/plain; charset=utf-8; format=flowed; delsp=yes",
                  'text/plain; charset=""', "text/plain; charset=bogus", "TEXT/Plain; Charset=UTF-8",
                  "text/plain; name=a.txt", "text/plain; charset*=utf-8''x", 'text/plain; charset="utf-8" (c)',
                  "text/html; charset=utf-8", 'multipart/alternative; boundary="b1"', "multipart/mixed",
                  'multipart/alternative; boundary="<b1>"', 'multipart/alternative; boundary="b1 "',
                  "multipart/alternative; boundary=b1; charset=koi8-r", 'multipart/mixed; boundary="b1"',
                  "message/rfc822", "text/plain; charset=utf-8; charset=latin1", "text", "text/plain;",
                  "text/plain;\n charset=utf-8", 'application/octet-stream; name="x.bin"']
_CTES = [None, "7bit", "8bit", "binary", "quoted-printable", "base64", "Base64", "QUOTED-PRINTABLE", " base64",
         "base64 ", "x-uuencode", "bogus", "8bit (c)"]
_BODIES = ["Hello\nthere\n", "", "\n\n", "Caf=C3=A9 =\nsoft\n", "SGVsbG8gd29ybGQK\n", "SGVsbG8=\nd29y\n",
           "SGVsbG8gd29ybGQ\n", "!!!!\n", "quoted > text \nflowed \nline\n", "\u00e9t\u00e9\n", "caf\xe9\n",
           "--b1\nContent-Type: text/plain\n\nx\n--b1--\n", "a\x00b\n", "\x1b[2Jx\n", "line\r\nline\r\n",
           "pre\n--b1\nContent-Type: text/html\n\n<p>h\xe9</p>\n--b1\nContent-Type: text/plain; charset=latin1\n"
           "Content-Transfer-Encoding: quoted-printable\n\nq=E9\n\n--b1--\nepilogue\n",
           "--<b1>\nContent-Type: text/plain\n\nx\n--<b1>--\n", "--b1\n\n\n--b1\n\ny\n--b1--",
           "--b1\nContent-Type: text/plain\n\n \n--b1\nContent-Type: text/html\n\n<b>x</b>\n--b1--\n",
           "--b1\nContent-Type: text/plain\n\nx\n--b1 \n\ny\n--b1--\n", "--b1\nContent-Type: text/plain\n\nx\n--b1--\n--b1\nz\n",
           "--b1\nContent-Type: text/plain\nContent-Disposition: inline\n\nx\n--b1--\n"]
_EXTRA = ["X-Mailer: x", "Auto-Submitted: auto-replied", "Precedence: auto_reply", "Return-Path: <>",
          "X-Autoreply: yes", "In-Reply-To: <p@q.test>", "References: <r1@q.test>\n <r2@q.test>",
          "References: <r3@q.test>", "Message-ID: <m@q.test>", "Message-ID: m2@q.test", "Message-ID: <>",
          "Delivered-To: x@y.test", "Received: from a\n\tby b; Tue, 22 Sep 2026 00:03:33 +0000",
          "Content-Disposition: inline", "Content-Disposition: attachment; filename=a.txt", "MIME-Version: 1.0",
          "X-Empty:", "X-Spaces:    ", "Subject : obsolete", "From x@y Mon Sep 22 2026", " folded-first",
          "X-8bit: caf\xe9", "X-Ctl: a\x01b", "X-Esc: \x1b$B", "X-Long: " + "a " * 9000, "Bad Name: x"]


@st.composite
def header_shape(draw) -> bytes:
    fields = []
    for name in ("From", "To", "Cc", "Reply-To"):
        if draw(st.booleans()):
            fields.append(f"{name}: {draw(address_value())}")
    if draw(st.booleans()):
        fields.append(f"Date: {draw(date_value())}")
    if draw(st.booleans()):
        fields.append(f"Subject: {draw(st.sampled_from(_SUBJECTS))}")
    ctype, cte = draw(st.sampled_from(_CONTENT_TYPES)), draw(st.sampled_from(_CTES))
    if ctype is not None:
        fields.append(f"Content-Type: {ctype}")
    if cte is not None:
        fields.append(f"Content-Transfer-Encoding: {cte}")
    fields += draw(st.lists(st.sampled_from(_EXTRA), max_size=4))
    fields = draw(st.permutations(fields))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    body = draw(st.sampled_from(_BODIES)) if draw(st.integers(0, 3)) else ""
    text = newline.join(f.replace("\n", newline) for f in fields) + newline + newline + body.replace("\n", newline)
    return text.encode("utf-8", "surrogateescape") if draw(st.booleans()) else text.encode("latin-1", "replace")


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header_shape())
def test_generated_header_shapes_read_the_same(raw):
    assert not routes_differ(raw)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(fuzz_mail.message(), fuzz_mail.mutated_message()))
def test_fuzzed_mail_reads_the_same(raw):
    assert not routes_differ(raw)


def test_header_shapes_take_the_quick_route():
    """The shapes above reach the quick route, or comparing them would prove little."""
    plain = [
        b"From: Ann <a@b.test>\nTo: b@c.test\nSubject: x\nDate: Tue, 22 Sep 2026 05:03:33 +0500\n\n",
        b'From: "Lee, Ann" <a@b.test>\r\nContent-Type: text/plain; charset=utf-8\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nSGVsbG8=\r\n",
        b"From: =?utf-8?q?Ann?= <a@b.test>\nContent-Type: multipart/alternative; boundary=b\n\n",
    ]
    for raw in plain:
        assert plain_header(raw) is not None
        assert took_quick(raw, "header")
    assert took_quick(plain[1], "body") and took_quick(plain[1], "message")
    for odd in (b"Subject : x\n\n", b"X: caf\xe9\n\n", b"From x@y\nSubject: x\n\n", b" x\nSubject: y\n\n",
                b"Subject: x\rTo: y\n\n", b"Subject: x\n", b"Content-Type: message/rfc822\n\nx\n"):
        assert plain_header(odd) is None, odd


# ---------------------------------------------------------------------------------------------
# the Date fast path alone


@settings(max_examples=800, deadline=None)
@given(date_value())
def test_plain_date_reads_as_the_stdlib_path(text):
    quick = _plain_date(" ".join(text.split()))
    full_defects = _Defects()
    with mock.patch.object(headers, "_plain_date", lambda _text: None):
        expected = _parse_date(text, full_defects)
    if quick is not None:
        assert repr(quick) == repr(expected)
        assert not full_defects.result()
        # and as email.utils reads it (an aware datetime; "-0000" is UTC)
        stdlib = email.utils.parsedate_to_datetime(" ".join(text.split()))
        assert repr(stdlib if stdlib.tzinfo else stdlib.replace(tzinfo=dt.timezone.utc)) == repr(quick)


@pytest.mark.parametrize("text", ["Tue, 22 Sep 2026 05:03:33 +0500", "1 Jan 2026 00:00:00 -0000",
                                  "Sun, 31 Dec 2023 23:59:59 -1200", "29 Feb 2024 12:00:00 +0000"])
def test_plain_date_covers_the_common_forms(text):
    assert _plain_date(text) is not None
