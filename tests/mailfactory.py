"""Hand-made RFC 822 messages for tests."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime

BASE = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)


def make_mail(msgid: str | None, *, subject: str = "Hello", sender: str = "Ann <ann@customer.test>",
              to: str = "support@helpdesk.test", refs: list[str] = (), in_reply_to: str | None = None,
              minutes: float = 0, body: str = "Hi there.\n", html: str | None = None) -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = to
    m["Subject"] = subject
    m["Date"] = format_datetime(BASE + dt.timedelta(minutes=minutes))
    if msgid:
        m["Message-ID"] = f"<{msgid}>"
    if refs:
        m["References"] = " ".join(f"<{r}>" for r in refs)
    if in_reply_to:
        m["In-Reply-To"] = f"<{in_reply_to}>"
    m.set_content(body)
    if html:
        m.add_alternative(html, subtype="html")
    return bytes(m)


def mail(headers: str, body: str | bytes = "body\n", *, newline: str = "\n") -> bytes:
    """A message from its header lines as written (nothing added or checked) and its body."""
    head = newline.join(headers.strip("\n").splitlines()) + newline + newline
    return head.encode("utf-8") + (body.encode("utf-8") if isinstance(body, str) else body)


def with_date(raw: bytes, date: str | None) -> bytes:
    """The mail with its Date field replaced (None: removed)."""
    head, sep, body = raw.partition(b"\n\n")
    lines = [ln for ln in head.split(b"\n") if not ln.startswith(b"Date:")]
    if date is not None:
        lines.append(b"Date: " + date.encode())
    return b"\n".join(lines) + sep + body


def koi8_mail() -> bytes:
    """A raw KOI8-R Subject; only a body part names the charset."""
    return ("From: a@customer.test\r\nMessage-ID: <koi8@t>\r\nSubject: ".encode() + "Привет".encode("koi8-r")
            + b"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
            b"--b\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n" + "Текст".encode("koi8-r")
            + b"\r\n--b--\r\n")
