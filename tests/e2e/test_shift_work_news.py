"""Two agents on one mailbox, each with the app open: alice assigns a conversation to bob and a
notice says so on bob's screen with no key pressed there (never on alice's: her own action); the
customer's next mail to it tells bob too. A second app bob starts on his store says, at its start
and on screen, that another tui-desk has the store open."""

from __future__ import annotations

import email.utils
import time

from e2e.conftest import PROPAGATION
from e2e.harness import SUBJECTS, two_agents


def test_an_assignment_and_the_customers_reply_tell_bob_and_a_second_app_is_told(dovecot, tmp_path, terminals):
    user, homes, alice, bob = two_agents(dovecot, tmp_path, terminals, "work")

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
