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
