"""Replying safely in a real terminal (120x40) against the suite's Dovecot and SMTP sink: keys
typed right after Ctrl+S are not the mail's. What was on screen at Ctrl+S is what the customer
gets; the keys behind it act on the queue (c closes the conversation)."""

from __future__ import annotations

import email
import email.utils
import time
from email import policy

from e2e.harness import agent_home
from servers import MaildirMessage

SUBJECT = "The export button does nothing"


def request() -> MaildirMessage:
    when = time.time() - 3600
    raw = (f"From: Ann Lee <ann@customer.test>\r\nTo: support@helpdesk.test\r\nSubject: {SUBJECT}\r\n"
           f"Date: {email.utils.formatdate(when)}\r\nMessage-ID: <export-2@customer.test>\r\n\r\n"
           "I click Export and nothing happens.\r\n").encode()
    return MaildirMessage(raw, date=when)


def started(dovecot, smtp_sink, tmp_path, terminals, undo_seconds: int = 2):
    user = dovecot.new_user()
    dovecot.load_maildir(user, [request()])
    home = agent_home(tmp_path / "alice", "alice", dovecot, user, smtp_port=smtp_sink.port)
    home.config.write_text(home.config.read_text().replace('folders = ["INBOX"]',
                                                           f'folders = ["INBOX"]\nundo_send_seconds = {undo_seconds}'))
    smtp_sink.clear()
    term = terminals.open_home(home)
    term.wait_for(lambda s: "support: idle" in s and SUBJECT in s, timeout=30, what="the synced queue")
    return home, term


def sent_text(smtp_sink) -> str:
    [sent] = smtp_sink.wait_for(1, timeout=40)
    return email.message_from_bytes(sent.data, policy=policy.default).get_body(("plain",)).get_content()  # type: ignore[union-attr]


def wait_closed(home) -> None:
    deadline = time.monotonic() + 20
    while SUBJECT not in (found := home.cli("search", "status:closed").stdout):
        assert time.monotonic() < deadline, f"the conversation was not closed: {found!r}"
        time.sleep(0.2)


def test_c_right_after_ctrl_s_closes_the_conversation_and_is_not_in_the_mail(dovecot, smtp_sink, tmp_path,
                                                                            terminals):
    home, term = started(dovecot, smtp_sink, tmp_path, terminals)
    term.keys("r")
    term.wait_for("::name inserts a snippet", what="the compose box")
    term.type("Fixed now, sorry")
    term.wait_for("Fixed now, sorry")
    term.keys("C-s", "c")  # one write: no pause between them
    term.wait_for("u to undo", what="the queued notice")
    assert sent_text(smtp_sink).strip() == "Fixed now, sorry"
    wait_closed(home)


def test_a_burst_from_the_queue_sends_the_snippet_and_closes(dovecot, smtp_sink, tmp_path, terminals):
    home, term = started(dovecot, smtp_sink, tmp_path, terminals)
    term.keys("Enter", "r", *"::more-info", "Space", "C-s", "c")  # one write, as the tryout's burst
    text = sent_text(smtp_sink)
    assert "Thanks for getting in touch" in text and "::more-info" not in text, text
    assert not text.rstrip().endswith("c") and "\nr" not in text, text
    wait_closed(home)


def test_r_while_a_reply_waits_says_so_and_u_keeps_the_draft_written_since(dovecot, smtp_sink, tmp_path,
                                                                           terminals):
    """The tryout's data loss and duplicate: REPLY A sent, r again (the compose says A waits),
    MY NEW DRAFT kept with Esc, then u: both texts are back, the draft below a line naming it,
    and Ctrl+S refuses to mail both."""
    home, term = started(dovecot, smtp_sink, tmp_path, terminals, undo_seconds=120)
    term.keys("r")
    term.wait_for("::name inserts a snippet", what="the compose box")
    term.type("REPLY A")
    term.wait_for("REPLY A")
    term.keys("C-s")
    term.wait_for("u to undo", what="the queued notice")
    term.keys("r")
    term.wait_for("is waiting to be sent at", what="the line saying a reply waits")
    screen = term.wait_for("(u undoes; O shows it)")
    assert "a reply to #" in screen
    term.type("MY NEW DRAFT")
    term.wait_for("MY NEW DRAFT")
    term.keys("Escape")
    term.wait_for(lambda s: "::name inserts a snippet" not in s and "✎draft" in s, what="the queue, a draft kept")
    term.keys("u")
    screen = term.wait_for("kept below ────────", what="the reply back with the draft below it")
    assert screen.index("REPLY A") < screen.index("kept below ────────") < screen.index("MY NEW DRAFT")
    term.wait_for("is kept below it", what="the line saying the draft is kept")
    term.keys("C-s")
    term.wait_for("still holds a draft kept below it", what="the refusal to mail both")
    assert smtp_sink.messages == []
