"""Two agents on one mailbox, each with the app open: alice assigns a conversation to bob and a
notice says so on bob's screen with no key pressed there (never on alice's: her own action); the
customer's next mail to it tells bob too. A second app bob starts on his store says, at its start
and on screen, that another tui-desk has the store open."""

from __future__ import annotations

import email.utils
import time

from e2e.conftest import PROPAGATION
from e2e.harness import agent_home
from servers import MaildirMessage

SUBJECTS = ["Alpha invoice question", "Beta login trouble", "Gamma export broken"]


def customer_mail(i: int, hours_ago: float) -> MaildirMessage:
    when = time.time() - hours_ago * 3600
    raw = (f"From: Customer {i} <c{i}@customer.test>\r\nTo: support@helpdesk.test\r\n"
           f"Subject: {SUBJECTS[i]}\r\nDate: {email.utils.formatdate(when)}\r\n"
           f"Message-ID: <work-{i}@customer.test>\r\n\r\nPlease help with {SUBJECTS[i].lower()}.\r\n").encode()
    return MaildirMessage(raw, date=when)


def test_an_assignment_and_the_customers_reply_tell_bob_and_a_second_app_is_told(dovecot, tmp_path, terminals):
    user = dovecot.new_user()
    dovecot.load_maildir(user, [customer_mail(i, 5 - 2 * i) for i in range(3)])
    homes = {name: agent_home(tmp_path / name, name, dovecot, user, extra='team = ["alice", "bob"]')
             for name in ("alice", "bob")}
    alice, bob = (terminals.open_home(homes[name], name=name) for name in ("alice", "bob"))
    for term in (alice, bob):
        term.wait_for(lambda s: "support: idle" in s and SUBJECTS[0] in s, timeout=30, what="the synced queue")

    alice.keys("a")  # on the top row: the oldest mail waits longest
    alice.wait_for("Assign #1")
    alice.type("bob")
    alice.keys("Enter")
    seen = bob.wait_for("alice assigned #1 to you", timeout=PROPAGATION + 3)
    assert SUBJECTS[0] in seen
    assert "assigned #1 to you" not in alice.screen()  # my own action never tells me

    now = time.time()
    dovecot.deliver(user, (f"From: Customer 0 <c0@customer.test>\r\nTo: support@helpdesk.test\r\n"
                           f"Subject: Re: {SUBJECTS[0]}\r\nDate: {email.utils.formatdate(now)}\r\n"
                           "Message-ID: <work-0-again@customer.test>\r\nIn-Reply-To: <work-0@customer.test>\r\n"
                           "References: <work-0@customer.test>\r\n\r\nAny news?\r\n").encode(),
                    sender="c0@customer.test")
    bob.wait_for("Customer 0 replied on #1 (assigned to you)", timeout=PROPAGATION + 5)
    assert "replied on #1" not in alice.screen()  # not alice's conversation

    second = terminals.open_home(homes["bob"], name="bob-again")
    second.wait_for("another tui-desk (pid", timeout=30)
    assert b"another tui-desk (pid" in second.raw_output()  # the start line, before the app's screen
    assert "another tui-desk" not in bob.screen()  # the first app had the store to itself
