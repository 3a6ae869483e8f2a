"""An agent replies with a snippet written in Markdown, in a real terminal (120x40) against the
suite's Dovecot and SMTP sink: the conversation pane shows the reply as the customer saw it
(bold, list, link, code rendered, the placeholder filled), not its Markdown source; hostile text
in it (Rich markup, ANSI escapes, bidi controls) shows as typed, never as styles; after the Sent
copy is filed `tui-desk show` prints the same."""

from __future__ import annotations

import email
import email.utils
import time
from email import policy

from e2e.harness import agent_home
from servers import MaildirMessage
from tui_desk.sanitize import BIDI_MARKER

SNIPPET = """---
title: Parcel sent
---
Hi {{customer_first_name}},

your parcel is **on its way**:

- tracking: [PX-42](https://t.example/42)
- run `parcel status PX-42`

[red]x[/red]

[link=https://e.example]y[/link]

\x1b[31mred\x1b[0m \u202eevil\u202c
"""
RENDERED = ["Hi Zed,", "your parcel is on its way:", "- tracking: PX-42 <https://t.example/42>",
            "- run parcel status PX-42"]
HOSTILE = ["[red]x[/red]", "[link=https://e.example]y[/link]", f"red {BIDI_MARKER}evil{BIDI_MARKER}"]


def customer_mail() -> MaildirMessage:
    when = time.time() - 3600
    raw = ("From: Zed Quill <zed@customer.test>\r\nTo: support@helpdesk.test\r\nSubject: Where is my parcel\r\n"
           f"Date: {email.utils.formatdate(when)}\r\nMessage-ID: <parcel-1@customer.test>\r\n\r\n"
           "It has been a week.\r\n").encode()
    return MaildirMessage(raw, date=when)


def conversation_pane(screen: str) -> str:
    """The conversation pane's columns (the snippet pane beside it shows snippets' Markdown)."""
    lines = screen.splitlines()
    row = next(line for line in lines if "Hi Zed," in line)
    at = row.index("Hi Zed,")
    start, end = row.rindex("││", 0, at) + 2, row.index("││", at)
    return "\n".join(line[start:end] for line in lines)


def test_a_snippet_reply_shows_rendered_in_the_conversation(dovecot, smtp_sink, tmp_path, terminals):
    user = dovecot.new_user()
    dovecot.load_maildir(user, [customer_mail()])
    home = agent_home(tmp_path / "alice", "alice", dovecot, user, smtp_port=smtp_sink.port)
    home.config.write_text(home.config.read_text().replace('folders = ["INBOX"]',
                                                           'folders = ["INBOX"]\nundo_send_seconds = 3'))
    snippets = home.config.parent / "snippets"
    snippets.mkdir()
    (snippets / "parcel-sent.md").write_text(SNIPPET, encoding="utf-8")
    smtp_sink.clear()
    term = terminals.open_home(home)
    term.wait_for(lambda s: "support: idle" in s and "Where is my parcel" in s, timeout=30, what="the synced queue")
    term.keys("Enter")
    term.wait_for("It has been a week.")
    term.keys("r")
    term.wait_for("Send")
    term.type("::parcel-sent ")
    term.wait_for("**on its way**", what="the snippet's Markdown in the compose box")
    term.keys("C-s")
    term.wait_for("Sending to zed@customer.test in 3 s", what="the compose screen closed, the reply queued")
    painted_before = len(term.raw_output())
    [got] = smtp_sink.wait_for(1, timeout=15)
    sent = email.message_from_bytes(got.data, policy=policy.default)
    assert "<strong>on its way</strong>" in sent.get_body(("html",)).get_content()

    screen = term.wait_for(lambda s: all(want in s for want in RENDERED), timeout=15,
                           what="the sent reply rendered in the conversation pane")
    pane = conversation_pane(screen)
    assert all(want in pane for want in HOSTILE), screen
    assert "**" not in pane and "](" not in pane and "`parcel" not in pane and "{{" not in pane, pane
    # what the pane wrote to the terminal: the hostile text's own escapes are not in it (no red
    # from it, no bidi override). The compose box before it is not this test's business.
    painted = term.raw_output()[painted_before:].decode("utf-8", "replace")
    assert "evil" in painted and "parcel status PX-42" in painted
    assert "\x1b[31mred" not in painted and "\u202e" not in painted and "\u202c" not in painted

    # filed in Sent; the CLI shows the same conversation the same way
    deadline = time.monotonic() + 10
    while "on its way" not in dovecot.doveadm("fetch", "-u", user, "body", "mailbox", "Sent", "all"):
        assert time.monotonic() < deadline, "the reply never reached Sent"
        time.sleep(0.1)
    shown = home.cli("show", "1").stdout
    for want in RENDERED:
        assert want in shown.splitlines(), (want, shown)
    assert all(want in shown.splitlines() for want in HOSTILE) and "**" not in shown
