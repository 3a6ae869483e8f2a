"""Writing MIME by hand for the demo generator: encoded-words in legacy charsets, bodies in every
transfer encoding, multiparts, small attachments - bytes a real mail client could have sent."""

from __future__ import annotations

import base64
import binascii
import random
import struct
import zlib
from email.utils import formataddr


def encoded_words(text: str, charset: str, enc: str) -> list[str]:
    """RFC 2047 encoded-words of at most 75 chars, split on character boundaries (each word
    decodes on its own, as RFC 2047 requires; iso-2022-jp words end in ASCII state)."""
    words, chunk = [], ""
    prefix = f"=?{charset}?{enc.lower() if enc == 'b' else enc}?"

    def encode(t: str) -> str:
        raw = t.encode(charset)
        if enc.upper() == "B":
            return prefix + base64.b64encode(raw).decode("ascii") + "?="
        out = []
        for byte in raw:
            c = chr(byte)
            if c == " ":
                out.append("_")
            elif c.isascii() and (c.isalnum() or c in "!*+-/"):
                out.append(c)
            else:
                out.append(f"={byte:02X}")
        return prefix + "".join(out) + "?="

    stateful = charset.lower().startswith("iso-2022")    # escape sequences: measure exactly
    nbytes = qlen = 0
    for ch in text:
        if stateful:
            too_long = chunk and len(encode(chunk + ch)) > 75
        else:
            b = ch.encode(charset)
            if enc.upper() == "B":
                too_long = chunk and len(prefix) + 4 * -(-(nbytes + len(b)) // 3) + 2 > 75
            else:
                q = sum(1 if (chr(x).isascii() and (chr(x).isalnum() or chr(x) in "!*+-/ ")) else 3
                        for x in b)
                too_long = chunk and len(prefix) + qlen + q + 2 > 75
        if too_long:
            words.append(encode(chunk))
            chunk, nbytes, qlen = "", 0, 0
        chunk += ch
        if not stateful:
            nbytes += len(b)
            if enc.upper() != "B":
                qlen += q
    if chunk:
        words.append(encode(chunk))
    assert all(len(w) <= 75 for w in words)
    return words


def fit_charset(text: str, charset: str) -> str:
    try:
        text.encode(charset)
        return charset
    except UnicodeEncodeError:
        return "utf-8"


def header_enc(text: str, charset: str) -> str:
    """Pick Q or B like real mailers: Q for mostly-ASCII utf-8, B for the rest."""
    if charset == "utf-8":
        ascii_share = sum(c.isascii() for c in text) / max(1, len(text))
        return "q" if ascii_share > 0.6 else "b"
    return "b" if charset != "koi8-r" or len(text) % 3 else "q"


def enc_header(name: str, value: str, charset: str = "utf-8") -> str:
    """One header line, RFC 2047-encoded (and folded) when not ASCII."""
    if value.isascii():
        return f"{name}: {value}"
    cs = fit_charset(value, charset)
    return f"{name}: " + "\n ".join(encoded_words(value, cs, header_enc(value, cs)))


def addr(name: str, address: str, charset: str = "utf-8") -> str:
    if name.isascii():
        return formataddr((name, address))
    cs = fit_charset(name, charset)
    return " ".join(encoded_words(name, cs, header_enc(name, cs))) + f" <{address}>"


def body_part(text: str, subtype: str, charset: str, cte: str) -> str:
    charset = fit_charset(text, charset)
    data = text.encode(charset)
    if cte == "auto":
        cte = "7bit" if data.isascii() else "8bit"
    if cte == "quoted-printable":
        payload = binascii.b2a_qp(data, istext=True).decode("ascii")
    elif cte == "base64":
        payload = base64.encodebytes(data).decode("ascii")
    else:
        payload = data.decode(charset) if charset != "iso-2022-jp" else data.decode("ascii")
        if cte == "8bit" and charset not in ("utf-8",):
            # keep legacy charsets as base64 so the file stays valid utf-8 where possible
            cte = "base64"
            payload = base64.encodebytes(data).decode("ascii")
    if charset == "iso-2022-jp" and cte not in ("base64", "quoted-printable"):
        cte = "7bit"
    head = f"Content-Type: text/{subtype}; charset=\"{charset}\"\nContent-Transfer-Encoding: {cte}\n"
    return head + "\n" + payload.rstrip("\n") + "\n"


def multipart(subtype: str, boundary: str, parts: list[str], extra: str = "") -> str:
    out = [f"Content-Type: multipart/{subtype};{extra} boundary=\"{boundary}\"\n\n"
           "This is a multi-part message in MIME format.\n"]
    for p in parts:
        out.append(f"--{boundary}\n{p}")
    out.append(f"--{boundary}--\n")
    return "".join(out)


def tiny_png(rng: random.Random, w: int, h: int) -> bytes:
    """A valid PNG with stored (uncompressed) deflate blocks: identical bytes on any zlib."""
    r, g, b = rng.randrange(256), rng.randrange(256), rng.randrange(256)
    rows = b"".join(
        b"\x00" + b"".join(bytes(((r + x * 3) & 255, (g + y * 3) & 255, b)) for x in range(w))
        for y in range(h))
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    comp = zlib.compress(rows, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", comp) + chunk(b"IEND", b""))


def attachment(rng: random.Random, lang: str, order: int) -> str:
    kind = rng.choice(["png", "pdf", "csv", "log", "png", "pdf"])
    if kind == "png":
        data, ctype = tiny_png(rng, rng.choice([16, 24, 32, 48]), rng.choice([16, 24, 32])), "image/png"
        name = {"ru": "снимок экрана.png", "zh": "截图.png", "ja": "スクリーンショット.png"}.get(
            lang, f"screenshot-{order}.png")
    elif kind == "pdf":
        lines = "\n".join(f"({i:03d} item {rng.randrange(10**6)}) Tj" for i in range(rng.randrange(20, 120)))
        data = (f"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\nBT /F1 12 Tf {lines} ET\n%%EOF\n").encode()
        ctype = "application/pdf"
        name = {"ru": f"чек {order}.pdf", "zh": f"发票{order}.pdf"}.get(lang, f"receipt-{order}.pdf")
    elif kind == "csv":
        rows = ["date,order,amount,currency"] + [
            f"2026-{rng.randrange(1, 12):02d}-{rng.randrange(1, 28):02d},{order},"
            f"{rng.randrange(100, 99999) / 100:.2f},EUR" for _ in range(rng.randrange(5, 80))]
        data, ctype, name = ("\n".join(rows) + "\n").encode(), "text/csv", f"orders-{order}.csv"
    else:
        rows = [f"2026-11-{rng.randrange(1, 28):02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:"
                f"{rng.randrange(60):02d}Z ERROR worker-{rng.randrange(8)} request failed status=500 "
                f"id={rng.getrandbits(48):012x}" for _ in range(rng.randrange(10, 150))]
        data, ctype, name = ("\n".join(rows) + "\n").encode(), "text/plain", "app.log"
    try:
        name.encode("ascii")
        disp = f"attachment; filename=\"{name}\""
        ctn = f"; name=\"{name}\""
    except UnicodeEncodeError:
        from urllib.parse import quote
        disp = f"attachment; filename*=utf-8''{quote(name)}"
        ctn = "; name=\"" + " ".join(encoded_words(name, "utf-8", "b")) + "\""
    return (f"Content-Type: {ctype}{ctn}\nContent-Disposition: {disp}\n"
            f"Content-Transfer-Encoding: base64\n\n{base64.encodebytes(data).decode('ascii')}")


def html_of(text: str, lang: str) -> str:
    esc = (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    paras, quote = [], []
    for block in esc.split("\n\n"):
        lines = block.split("\n")
        if all(line.startswith("&gt;") for line in lines if line):
            quote.append("<br>".join(line[4:].lstrip() for line in lines))
        else:
            paras.append("<p>" + "<br>\n".join(lines) + "</p>")
    q = ("<blockquote style=\"border-left:2px solid #ccc;padding-left:8px\">"
         + "<br>".join(quote) + "</blockquote>") if quote else ""
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><style>p{margin:0 0 1em}"
            "</style></head>\n<body style=\"font-family:Arial,sans-serif;font-size:14px\">\n"
            f"<div dir=\"ltr\" lang=\"{lang}\">\n" + "\n".join(paras) + q + "\n</div></body></html>\n")
