"""The new user's tryout in a real terminal: Ctrl+S, c, u in quick succession. u takes the reply
back (Gmail's Undo on the send toast always means the send): the customer gets nothing, the
close stays, and the next u undoes the close, naming the conversation."""

from __future__ import annotations

import email
import email.policy
import email.utils
import json
import re
import time

from e2e.harness import agent_home
from servers import MaildirMessage


def request(n: int, subject: str) -> MaildirMessage:
    when = time.time() - 3600 * n
    raw = (f"From: Ann Lee <ann{n}@customer.test>\r\nTo: support@helpdesk.test\r\nSubject: {subject}\r\n"
           f"Date: {email.utils.formatdate(when)}\r\nMessage-ID: <undo-{n}@customer.test>\r\n\r\n"
           "Where is my refund?\r\n").encode()
    return MaildirMessage(raw, date=when)


def queue_ids(home) -> list[int]:
    return [c["id"] for c in json.loads(home.cli("queue", "--json").stdout)]


def test_ctrl_s_c_u_takes_the_reply_back_and_the_customer_gets_nothing(dovecot, smtp_sink, tmp_path, terminals):
    user = dovecot.new_user()
    dovecot.load_maildir(user, [request(1, "Refund for order 1001"), request(2, "Refund for order 2002")])
    home = agent_home(tmp_path / "alice", "alice", dovecot, user, smtp_port=smtp_sink.port)
    home.config.write_text(home.config.read_text().replace('folders = ["INBOX"]',
                                                           'folders = ["INBOX"]\nundo_send_seconds = 5'))
    smtp_sink.clear()
    term = terminals.open_home(home)
    term.wait_for(lambda s: "support: idle" in s and "order 2002" in s and "order 1001" in s, timeout=30,
                  what="the synced queue")
    term.keys("r")
    term.wait_for("::name inserts a snippet", what="the compose box")
    term.type("FIRST we refunded you")
    term.wait_for("FIRST we refunded you", what="the typed reply")
    term.keys("C-s", "c", "u")  # send, close, undo: in one breath
    screen = term.wait_for(re.compile(r"Reply to #\d+ cancelled: back in the draft").search,
                           what="the send taken back")
    conv = int(re.search(r"Reply to #(\d+) cancelled", screen).group(1))  # type: ignore[union-attr]
    term.wait_for(lambda s: "::name inserts a snippet" in s and "FIRST we refunded you" in s,
                  what="the reply back in the compose box")
    assert conv not in queue_ids(home)  # the close stays
    term.keys("Escape")  # the text stays in the draft
    # the queue back for certain (its status line), not just the compose's border gone from one
    # capture: a u sent while Esc is still unread reaches the app as Alt+U, as in any terminal
    term.wait_for(lambda s: "::name inserts a snippet" not in s and "support: idle" in s,
                  what="the queue after Esc")
    term.keys("u")  # now the close, named
    term.wait_for(f"undid: closed 1 conversation (#{conv} Refund for order", what="the close undone, named")
    deadline = time.monotonic() + 10
    while conv not in queue_ids(home):
        assert time.monotonic() < deadline, "the conversation did not come back"
        time.sleep(0.2)
    # the other conversation's reply goes; the cancelled one (queued earlier) would have gone first
    term.keys("j" if queue_ids(home)[0] == conv else "k", "r")
    term.wait_for("::name inserts a snippet", what="the compose box of the other conversation")
    term.type("SECOND reply")
    term.wait_for("SECOND reply")
    term.keys("C-s")
    [sent] = smtp_sink.wait_for(1, timeout=40)
    body = email.message_from_bytes(sent.data, policy=email.policy.default).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "SECOND reply" in body and "FIRST" not in body
    assert len(smtp_sink.messages) == 1
