"""Hostile mail for intake tests: messages built to trip the stdlib's email package (and
anything else that reads mail) into hanging, recursing or failing. Each has a Message-ID,
From, Subject and Date that a reader should keep whatever else goes wrong."""

from __future__ import annotations

import base64
from collections.abc import Iterator


def head(n: int | str, subject: str = "hostile") -> bytes:
    return (f"From: Hostile Sender <sender{n}@customer.test>\r\n"
            f"Message-ID: <hostile-{n}@customer.test>\r\n"
            f"Subject: {subject} {n}\r\n"
            "Date: Mon, 02 Nov 2026 10:00:00 +0000\r\n"
            "MIME-Version: 1.0\r\n").encode()


def folding_trap(n: int | str = "fold") -> bytes:
    """~650 bytes that send CPython's header folding (_fold_mime_parameters) into an endless
    loop once anything re-serialises the attached message (Message.as_bytes/as_string): a
    message/rfc822 part whose Content-Type has a long parameter name and a long quoted value."""
    inner = (f'Content-Type: text/plain; {"a" * 80}="{" ".join(["bbbb"] * 40)}"\r\n'
             "\r\ninner text\r\n")
    return (head(n) + b"Content-Type: multipart/mixed; boundary=B\r\n\r\n"
            b"--B\r\nContent-Type: text/plain\r\n\r\nsee the attached message\r\n"
            b"--B\r\nContent-Type: message/rfc822\r\n\r\n" + inner.encode() + b"--B--\r\n")


def pathological() -> Iterator[tuple[str, bytes]]:
    """(name, raw) of each pathological shape."""
    long_name, long_value = "p" * 300, " ".join(["v" * 30] * 60)
    yield "folding trap", folding_trap()
    yield "folding trap, text part", head("fold2") + (
        f'Content-Type: text/plain; {"a" * 90}="{" ".join(["b" * 7] * 50)}"\r\n\r\nbody\r\n').encode()
    yield "long param name and value", head("lp") + (
        f'Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n'
        f'Content-Type: application/pdf; {long_name}="{long_value}"\r\n'
        f'Content-Disposition: attachment; {long_name}*="{long_value}"; filename="{long_value}"\r\n\r\n'
        "xx\r\n--B--\r\n").encode()
    params = "; ".join(f"p{i}=v{i}" for i in range(5000))
    yield "thousands of parameters", head("params") + f"Content-Type: text/plain; {params}\r\n\r\nbody\r\n".encode()
    cont = "; ".join(f"title*{i}*=us-ascii''x{i}" for i in range(3000))
    yield "thousands of RFC 2231 continuations", head("rfc2231") + (
        f"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
        f"Content-Type: text/plain\r\nContent-Disposition: attachment; {cont}\r\n\r\nxx\r\n--B--\r\n").encode()
    for name in ("Subject", "From", "To", "Content-Type", "X-Thing", "Message-ID", "Date"):
        yield f"400 ( in {name}", _with_header(head(f"paren-{name}"), name, "(" * 400) + b"\r\nbody\r\n"
    yield "400 ( in a part header", head("paren-part") + (
        b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain; name=" + b"(" * 400
        + b"\r\nContent-Disposition: attachment; filename=" + b"(" * 400 + b"\r\n\r\nxx\r\n--B--\r\n")
    nested = b"Content-Type: text/plain\r\n\r\ndeepest\r\n"
    for _ in range(120):
        nested = b"Content-Type: message/rfc822\r\n\r\n" + nested
    yield "120 nested message/rfc822", head("nested-rfc822") + nested
    body = b"deepest\r\n"
    for depth in range(200):
        b = f"d{depth}".encode()
        body = (b"Content-Type: multipart/mixed; boundary=" + b + b"\r\n\r\n--" + b + b"\r\n" + body
                + b"\r\n--" + b + b"--\r\n")
    yield "200 nested multiparts", head("nested-multipart") + body
    mixed = b"Content-Type: text/plain\r\n\r\nleaf\r\n"
    for depth in range(60):
        b = f"m{depth}".encode()
        mixed = (b"Content-Type: multipart/mixed; boundary=" + b + b"\r\n\r\n--" + b + b"\r\n"
                 b"Content-Type: message/rfc822\r\n\r\n" + mixed + b"\r\n--" + b + b"--\r\n")
    yield "message/rfc822 inside multiparts, 60 deep", head("nested-mixed") + mixed
    word = "=?utf-8?b?" + "w6k=" * 1 + "?="
    yield "huge encoded-word", _with_header(head("ew"), "Subject", "=?utf-8?b?" + "QUJD" * 50_000 + "?=") + b"\r\nb\r\n"
    yield "many encoded-words", _with_header(head("ews"), "Subject", " ".join([word] * 20_000)) + b"\r\nb\r\n"
    yield "encoded-word filename", head("ewf") + (
        "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n"
        f'Content-Disposition: attachment; filename="{" ".join([word] * 5000)}"\r\n\r\nxx\r\n--B--\r\n').encode()
    yield "bad parameter a*", head("star") + b"Content-Type: text/plain; a*\r\n\r\nbody\r\n"
    for charset in ("idna", "punycode", "undefined", "raw_unicode_escape", "unicode_escape", "rot13",
                    "zlib", "base64", "hex", "uu", "bz2", "quopri"):
        yield f"charset={charset}", head(f"cs-{charset}") + (
            f"Content-Type: text/plain; charset={charset}\r\n\r\nbody \xff\\u0041 x\r\n").encode("latin-1")
    yield "NUL in part type", head("nul") + (
        b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: application/oct\0et;"
        b" name=\"a\0b.pdf\"\r\n\r\nxx\r\n--B--\r\n")


def terminal_senders() -> Iterator[tuple[str, bytes, str | None]]:
    """(name, raw, the sender's name as it should read) of mail whose From header carries
    terminal control sequences (the address is always evil@bad.example; None: any name
    without controls will do). An OSC's ";" once split the From into two entries, the first
    without an address, and the conversation could not be answered."""
    osc_word = base64.b64encode("Evil \x1b]0;PWNED\x1b\\".encode()).decode()
    for label, value, shown in [
        ("OSC title ended by ST", "Evil \x1b]0;PWNED\x1b\\ <evil@bad.example>", "Evil"),
        ("OSC title ended by BEL", "Evil \x1b]0;PWNED\x07 <evil@bad.example>", "Evil"),
        ("OSC 8 hyperlink", "\x1b]8;;https://evil.test\x07Evil\x1b]8;;\x07 <evil@bad.example>", "Evil"),
        ("OSC 52 clipboard", "Evil\x1b]52;c;cm0gLXJmIH4=\x07 <evil@bad.example>", "Evil"),
        ("CSI colour", "\x1b[31mEvil\x1b[0m <evil@bad.example>", "Evil"),
        ("BEL", "Ev\x07il <evil@bad.example>", "Evil"),
        ("quoted OSC ended by ST", '"Evil \x1b]0;PWNED\x1b\\" <evil@bad.example>', "Evil"),
        ("OSC in an encoded word", f"=?utf-8?b?{osc_word}?= <evil@bad.example>", "Evil"),
        ("unterminated OSC", "Evil \x1b]0;PWNED <evil@bad.example>", None),
    ]:
        yield label, (f"From: {value}\r\nTo: support@helpdesk.test\r\nMessage-ID: <evil@bad.example>\r\n"
                      "Subject: hostile sender\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n\r\nhello\r\n").encode(), shown


def _with_header(block: bytes, name: str, value: str) -> bytes:
    """block with its field `name` replaced by (or, when absent, given) `value`."""
    lines = block.split(b"\r\n")
    key = name.lower().encode() + b":"
    out = [ln for ln in lines if not ln.lower().startswith(key)]
    return b"\r\n".join([*out[:-1], f"{name}: {value}".encode(), out[-1]])
