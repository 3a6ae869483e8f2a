"""Hypothesis strategies that make hostile mail, for tests/test_fuzz.py.

Two kinds. Structured: messages put together from the pieces parsers trip on (encoded words
in many charsets and labels no codec has, RFC 2231 parameter continuations, nested
multiparts and message/rfc822 parts, format=flowed, quoted-printable and base64 with
garbage, nasty HTML, NUL/ESC/C1 bytes, very long lines), each piece sometimes well formed
and sometimes not. Mutational: the real messages under tests/corpus/ with bytes flipped,
inserted or deleted, ranges repeated, and two messages spliced together."""

from __future__ import annotations

import base64
import quopri
import urllib.parse
from functools import lru_cache
from pathlib import Path

from hypothesis import strategies as st

CORPUS = Path(__file__).parent / "corpus"
_NOT_MAIL = ("license", "notice", "origin", "readme", "sha256sums")
CORPUS_FILE_LIMIT = 100 * 1024  # bigger files make each example slow and find nothing more

# Real labels, aliases, labels with RFC 2231 languages, Python "text encodings" no mail uses
# (bytes-to-bytes codecs among them), and nonsense.
CHARSETS = [
    "utf-8", "UTF8", "us-ascii", "iso-8859-1", "ISO-8859-15", "windows-1252", "cp1251", "koi8-r",
    "koi8-u", "shift_jis", "euc-jp", "iso-2022-jp", "ISO-2022-JP-2", "gb2312", "gbk", "gb18030",
    "big5", "euc-kr", "ks_c_5601-1987", "utf-16", "utf-16le", "UTF-32", "utf-7", "unicode-1-1-utf-7",
    "x-mac-cyrillic", "macintosh", "tis-620", "iso-8859-8-i", "utf-8*en", "iso-8859-1*de-DE",
    "punycode", "idna", "unicode_escape", "raw_unicode_escape", "rot13", "hex", "base64",
    "zlib", "bz2", "uu", "quopri", "undefined", "x-unknown", "", "unknown-8bit", "default",
    "utf-8\x00", "\x1b[31m", "utf-8'en'", "8859_1", "latin_1", "cp65001", "x-user-defined",
]
TRANSFER_ENCODINGS = ["7bit", "8bit", "binary", "base64", "quoted-printable", "Base64", "QUOTED-PRINTABLE",
                      "x-uuencode", "uuencode", "bogus", "", "base64; x=y", "quoted-printable\x00"]
MESSAGE_IDS = ["a@t", "b@t", "c@t", "d@t", "e@t", "f@t", "x@t", "A@t", "a@t ", "<a@t>", "", "a@[1.2.3.4]",
               "@", "<>", "a@t>", "\x00@t", "ü@t"]
HOSTILE_CHARS = ["\x00", "\x1b", "\x1b[2J", "\x1b]8;;http://evil.test\x07", "\x9b31m", "\x85", "\x9d0;x\x9c",
                 "\x07", "\x08", "\r", "\x7f", "\u202e", "\u2066", "\u2028", "\ufeff", "\ufffd", "\u200d",
                 "\ud800", "\U0001f469\u200d\U0001f4bb", "\t", "\x0c", "\x1b\\", "\x1bP", "\x90", "\x1b(B"]
_HTML_BITS = [
    "<p>", "</p>", "<br>", "<div>", "</div>", "<table><tr><td>", "</td></tr></table>", "<ul><li>",
    "<ol start=99999999999>", "<pre>", "</pre>", "<blockquote>", "<script>alert(1)</script>",
    "<style>p{color:red}</style>", "<!-- ", " -->", "<![CDATA[", "]]>", "&amp;", "&#0;", "&#x1b;",
    "&#x9b;", "&#xd800;", "&#99999999;", "&nbsp;", "&bogus;", "<a href='javascript:x'>", "</a>",
    "<img src=x alt='\u202egnp.exe'>", "<title>", "<head>", "<body>", "<h1>", "<b><i><u>", "<td colspan=0>",
    "<", ">", "</", "<!DOCTYPE html>", "<?xml?>", "<" + "div>" * 50, "<x y=\"", "<td>" * 30,
]

text_chars = st.text(st.characters(codec="utf-8"), max_size=40)
hostile_text = st.lists(st.one_of(text_chars, st.sampled_from(HOSTILE_CHARS)), max_size=8).map("".join)
# around the limits: RFC 5322's 998, the parser's 16 KB header cap (parse.HEADER_LIMIT)
long_line = st.builds(lambda c, n: c * n, st.sampled_from(["x", "ab ", "\u00e9", "=", "-", "<"]),
                      st.sampled_from([80, 998, 999, 1000, 4097, 16 * 1024 + 1, 40_000]))
eol = st.sampled_from(["\r\n", "\n", "\r"])


def _encode(text: str, charset: str) -> bytes:
    try:
        return text.encode(charset.split("*")[0])
    except Exception:
        return text.encode("utf-8", "surrogatepass")


@st.composite
def encoded_word(draw) -> str:
    charset = draw(st.sampled_from(CHARSETS))
    text = draw(hostile_text)
    data = _encode(text, charset)
    how = draw(st.sampled_from(["B", "Q", "b", "q", "X"]))
    if draw(st.integers(0, 4)) == 0:
        payload = draw(st.text(st.characters(codec="ascii"), max_size=30))  # garbage payload
    elif how in "Bb":
        payload = base64.b64encode(data).decode()
        if draw(st.booleans()):
            payload = payload.rstrip("=")  # missing padding
    else:
        payload = "".join(chr(b) if 33 <= b < 127 and b not in b"=?_ " else f"={b:02X}" for b in data)
    return f"=?{charset}?{how}?{payload}?="


header_piece = st.one_of(text_chars, encoded_word(), st.sampled_from(HOSTILE_CHARS),
                         st.sampled_from(["\r\n ", "\n\t", "\r\n", " ", "\"", "(", ")", "<", ">", ",", ";", ":",
                                          "\\", "=?", "?=", "=?utf-8?q?"]))
_short_value = st.lists(header_piece, max_size=10).map("".join)
header_value = st.one_of(_short_value, _short_value, _short_value, long_line)


@st.composite
def address(draw) -> str:
    name = draw(header_value)
    addr = draw(st.sampled_from(["ann@customer.test", "bob@x.test", "", "a@", "@b", "\"a b\"@c.test",
                                 "ann@xn--bcher-kva.test", "ann@bücher.test", "<x@y>", "a@b@c"]))
    form = draw(st.integers(0, 5))
    if form == 0:
        return addr
    if form == 1:
        return f"{name} <{addr}>"
    if form == 2:
        return f"\"{name}\" <{addr}>"
    if form == 3:
        return f"{addr} ({name})"
    if form == 4:
        return f"group: {name} <{addr}>, {addr};"
    return f"{name} {addr} <{addr}"


addresses = st.lists(address(), min_size=1, max_size=3).map(", ".join)
date_value = st.one_of(st.sampled_from([
    "Mon, 02 Nov 2026 10:00:00 +0000", "Mon, 02 Nov 2026 10:00:00", "2 Nov 26 10:00 GMT",
    "Tue, 31 Feb 2026 25:61:61 +9999", "yesterday", "", "Mon, 02 Nov 99999 10:00:00 +0000",
    "Mon, 02 Nov 2026 10:00:00 -2400", "Thu, 01 Jan 1970 00:00:00 +0000", "0"]), header_value)
msgid_list = st.lists(st.sampled_from(MESSAGE_IDS), max_size=4).map(lambda ids: " ".join(f"<{i}>" for i in ids))


@st.composite
def parameters(draw) -> str:
    """;-parameters: plain, quoted, RFC 2231 extended and continued (some broken)."""
    out = []
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from(["name", "filename", "charset", "format", "delsp", "x", "a" * 90]))
        value = draw(header_value)
        kind = draw(st.integers(0, 5))
        if kind == 0:
            out.append(f"{name}={value}")
        elif kind == 1:
            out.append(f"{name}=\"{value}\"")
        elif kind == 2:
            charset = draw(st.sampled_from(CHARSETS))
            out.append(f"{name}*={charset}'en'{urllib.parse.quote(_encode(value, charset))}")
        elif kind == 3:  # continuations, maybe out of order, missing or badly numbered
            charset = draw(st.sampled_from(CHARSETS))
            quoted = urllib.parse.quote(_encode(value, charset))
            chunks = [quoted[i:i + 7] for i in range(0, len(quoted), 7)] or [""]
            numbers = draw(st.permutations(range(len(chunks)))) if draw(st.booleans()) else range(len(chunks))
            for n, chunk in zip(numbers, chunks):
                index = draw(st.sampled_from([str(n), str(n), "", "x", "-1", "99999999999999999999"]))
                prefix = f"{charset}''" if n == 0 else ""
                out.append(f"{name}*{index}*={prefix}{chunk}")
        elif kind == 4:
            out.append(f"{name}*=%ZZ%{draw(st.sampled_from(['', '4', 'E2%82']))}")
        else:
            out.append(draw(st.sampled_from([f"{name}", f"{name}*", "=", ";", f"{name}=\"unterminated", "(" * 30])))
    return "".join(f"; {p}" for p in out)


def _wrap(data: bytes, cte: str, garbage: bytes) -> bytes:
    cte = cte.lower()
    if cte.startswith("base64"):
        body = base64.encodebytes(data)
    elif cte.startswith("quoted-printable"):
        body = quopri.encodestring(data)
    else:
        body = data
    return body + garbage


@st.composite
def body_text(draw, html: bool) -> str:
    if html:
        bits = st.one_of(st.sampled_from(_HTML_BITS), st.sampled_from(_HTML_BITS), hostile_text, long_line)
    else:
        bits = st.one_of(hostile_text, long_line, st.sampled_from(["> quoted\n", ">> deeper\n", "On x, y wrote:\n",
                                                                   "soft \n", "-- \n", "\n", "=\n", "=3D"]))
    return "".join(draw(st.lists(bits, max_size=12)))


@st.composite
def leaf_part(draw) -> tuple[list[str], bytes]:
    kind = draw(st.sampled_from(["text/plain", "text/html", "application/octet-stream", "image/png",
                                 "text/enriched", "application/pdf", "bogus", "text/plain", "text/html"]))
    charset = draw(st.sampled_from(CHARSETS))
    params = ""
    if kind.startswith("text/"):
        params += f"; charset={charset}"
        if kind == "text/plain" and draw(st.booleans()):
            params += "; format=flowed" + draw(st.sampled_from(["", "; delsp=yes", "; delsp=no"]))
    params += draw(parameters())
    cte = draw(st.sampled_from(TRANSFER_ENCODINGS))
    data = _encode(draw(body_text(html=kind == "text/html")), charset)
    garbage = draw(st.one_of(st.just(b""), st.binary(max_size=40),
                             st.sampled_from([b"====", b"=ZZ=\n", b"!!!", b"\x00\xff\x1b", b"=\r\n="])))
    headers = [f"Content-Type: {kind}{params}", f"Content-Transfer-Encoding: {cte}"]
    if draw(st.booleans()):
        headers.append(f"Content-Disposition: {draw(st.sampled_from(['attachment', 'inline', 'x']))}"
                       f"{draw(parameters())}")
    return headers, _wrap(data, cte, garbage)


@st.composite
def mime_part(draw, depth: int) -> tuple[list[str], bytes]:
    """(header lines, body bytes) of a part, nested up to ``depth`` more levels."""
    choice = draw(st.integers(0, 5)) if depth > 0 else 0
    if choice <= 2:
        return draw(leaf_part())
    if choice == 3:  # message/rfc822
        inner = draw(message(depth=depth - 1))
        return [f"Content-Type: message/rfc822{draw(parameters())}"], inner
    subtype = draw(st.sampled_from(["mixed", "alternative", "related", "digest", "signed", "report"]))
    boundary = draw(st.sampled_from(["b1", "=_b", "a" * 80, "", "<<x>>", "b1 ", "\"b\"", "--", "b1\x00"]))
    children = draw(st.lists(mime_part(depth=depth - 1), max_size=4))
    nl = draw(eol).encode()
    b = boundary.strip("\"").encode("utf-8", "surrogatepass")
    out = draw(st.sampled_from([b"", b"preamble" + nl]))
    for headers, body in children:
        out += b"--" + b + nl + nl.join(h.encode("utf-8", "surrogatepass") for h in headers) + nl + nl + body + nl
    out += draw(st.sampled_from([b"--" + b + b"--" + nl, b"", b"--" + b + nl, b"--wrong--" + nl]))
    return [f"Content-Type: multipart/{subtype}; boundary=\"{boundary}\"{draw(parameters())}"], out


@st.composite
def message(draw, depth: int = 3, msgid: str | None = None) -> bytes:
    """One whole message. msgid: its Message-ID (else drawn, sometimes absent)."""
    headers: list[str] = []
    fields = [
        ("From", addresses), ("To", addresses), ("Cc", addresses), ("Reply-To", addresses),
        ("Subject", header_value), ("Date", date_value),
        ("In-Reply-To", msgid_list), ("References", msgid_list),
        ("Auto-Submitted", st.sampled_from(["auto-replied", "no", ""])),
        ("X-Whatever", header_value), ("Subject ", header_value), ("Bad\x00Name", header_value),
    ]
    for name, values in fields:
        if draw(st.integers(0, 3)) > 0 or name in ("From", "Subject"):
            headers.append(f"{name}: {draw(values)}")
    if msgid is None:
        msgid = draw(st.one_of(st.none(), st.sampled_from(MESSAGE_IDS)))
    if msgid is not None:
        headers.append(f"Message-ID: <{msgid}>")
    headers.append("MIME-Version: 1.0")
    part_headers, body = draw(mime_part(depth=depth))
    headers += part_headers
    headers = draw(st.permutations(headers))
    nl = draw(eol)
    encoding = draw(st.sampled_from(["utf-8", "latin-1", "cp1251", "shift_jis"]))  # raw 8-bit headers
    head = nl.join(headers).encode(encoding, "replace") if encoding != "utf-8" else \
        nl.join(headers).encode("utf-8", "surrogatepass")
    return head + (nl + nl).encode() + body


@lru_cache(maxsize=1)
def corpus_messages() -> tuple[bytes, ...]:
    files = sorted(p for p in CORPUS.rglob("*")
                   if p.is_file() and "archives" not in p.parts and p.stat().st_size <= CORPUS_FILE_LIMIT
                   and not any(word in p.name.lower() for word in _NOT_MAIL) and p.suffix != ".md")
    return tuple(p.read_bytes() for p in files)


def _mutate(draw, data: bytearray, others: tuple[bytes, ...]) -> bytes:
    """A few byte-level mutations of data; a splice takes the tail of one of others."""
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "repeat", "splice", "hostile"]))
        # anywhere, or at the start of a line (header fields, boundaries), spread over the message
        lines = [i + 1 for i in range(len(data)) if data[i] == 10] or [0]
        at = draw(st.one_of(st.integers(0, len(data)), st.sampled_from(lines)))
        if op == "flip" and data:
            at = min(at, len(data) - 1)
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 256))]
        elif op == "repeat":
            chunk = data[at:at + draw(st.integers(1, 64))]
            data[at:at] = chunk * draw(st.integers(1, 200))
        elif op == "splice":
            other = draw(st.sampled_from(others))
            start = draw(st.integers(0, len(other)))
            data[at:] = other[start:]
        else:
            data[at:at] = draw(st.sampled_from(HOSTILE_CHARS)).encode("utf-8", "surrogatepass")
    return bytes(data)


@st.composite
def mutated_message(draw) -> bytes:
    """A corpus message with a few byte-level mutations, or two spliced."""
    messages = corpus_messages()
    return _mutate(draw, bytearray(draw(st.sampled_from(messages))), messages)


@st.composite
def mutated_structured_message(draw) -> bytes:
    """A structured message (small: depth 2) with byte-level mutations, maybe spliced with a corpus one."""
    return _mutate(draw, bytearray(draw(message(depth=2))), corpus_messages())


any_message = st.one_of(message(), mutated_message(), mutated_structured_message())
