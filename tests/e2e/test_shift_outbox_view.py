"""The outbox shows what the customer gets, in a real 80x24 terminal against the suite's Dovecot
and SMTP sink: an agent replies with a placeholder; in the outbox (O) the row says the
conversation, the customer, the subject and when it goes; Enter shows the mail as it will be
sent (To, Subject, the placeholder filled), never the template. The customer's out-of-office
reply says "auto-reply" in its header in the conversation pane."""

from __future__ import annotations

import email.utils
import time

from e2e.harness import agent_home
from servers import MaildirMessage

QUESTION = "Where is my parcel"


def mail(msgid: str, subject: str, body: str, when: float, extra: str = "") -> MaildirMessage:
    raw = (f"From: Zed Quill <zed@customer.test>\r\nTo: support@helpdesk.test\r\nSubject: {subject}\r\n"
           f"Date: {email.utils.formatdate(when)}\r\nMessage-ID: <{msgid}>\r\n{extra}\r\n{body}\r\n").encode()
    return MaildirMessage(raw, date=when)


def test_the_outbox_shows_the_reply_as_the_customer_gets_it(dovecot, smtp_sink, tmp_path, terminals):
    user = dovecot.new_user()
    now = time.time()
    dovecot.load_maildir(user, [
        mail("parcel-1@customer.test", QUESTION, "It has been a week.", now - 3600),
        mail("away-1@customer.test", f"Out of office: {QUESTION}", "I am away until Monday.", now - 3000,
             "In-Reply-To: <parcel-1@customer.test>\r\nAuto-Submitted: auto-replied\r\n")])
    home = agent_home(tmp_path / "alice", "alice", dovecot, user, smtp_port=smtp_sink.port)
    home.config.write_text(home.config.read_text().replace('folders = ["INBOX"]',
                                                           'folders = ["INBOX"]\nundo_send_seconds = 600'))
    smtp_sink.clear()
    term = terminals.open_home(home, width=80, height=24)
    term.wait_for(lambda s: "support: idle" in s and QUESTION in s, timeout=30, what="the synced queue")
    term.keys("Enter")
    screen = term.wait_for("I am away until Monday.", what="the conversation with the out-of-office reply")
    header = next((line for line in screen.splitlines() if "Zed Quill" in line and "auto-reply" in line), None)
    assert header is not None, screen  # the automatic reply says what it is

    term.keys("r")
    term.wait_for("Send", what="the compose screen")
    term.type("Hi {{customer_first_name}}, your parcel left today.")
    term.keys("C-s")
    term.wait_for("Sending to zed@customer.test", what="the reply queued for 600 s")
    term.keys("O")
    screen = term.wait_for(lambda s: "Outbox" in s and "sends at" in s, what="the outbox with the reply's row")
    row = next(line for line in screen.splitlines() if "sends at" in line)
    assert "#1 " in row and "Zed Quill" in row and "Re:" in row, screen
    term.keys("Enter")
    screen = term.wait_for("Subject: Re:", what="the reply as it will go")
    assert "To: Zed Quill <zed@customer.test>" in screen, screen
    assert "Hi Zed, your parcel left today." in screen, screen
    assert "{{" not in screen and "customer_first_name" not in screen, screen
    term.keys("Enter")
    term.wait_gone("Subject: Re:")
    assert smtp_sink.messages == []  # still waiting out its 600 s
