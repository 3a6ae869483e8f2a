"""Incident mode in two real terminals on one mailbox: alice starts an incident from a search
and a selection with I, bob's app names it with no key pressed, a new matching mail gets the
incident's acknowledgement, and resolving (I, then y) mails the 'fixed' snippet to each of its
conversations once and takes the incident off both screens; O, c on a 'fixed' mail keeps no draft."""

from __future__ import annotations

import email
import email.utils
import time
from email import policy

from e2e.conftest import PROPAGATION
from e2e.harness import agent_home, notice_words
from servers import MaildirMessage

SUBJECTS = ["Payment refused at checkout", "Where is my parcel"]


def customer_mail(i: int, subject: str, minutes_ago: float) -> bytes:
    when = time.time() - minutes_ago * 60
    return (f"From: Customer {i} <c{i}@customer.test>\r\nTo: support@helpdesk.test\r\n"
            f"Subject: {subject}\r\nDate: {email.utils.formatdate(when)}\r\n"
            f"Message-ID: <inc-{i}@customer.test>\r\n\r\nPlease help: {subject.lower()}.\r\n").encode()


def texts_to(smtp_sink, address: str) -> list[str]:
    return [email.message_from_bytes(m.data, policy=policy.default).get_body(("plain",)).get_content()
            for m in smtp_sink.messages if address in m.rcpt_tos]


def test_an_incident_from_the_app_reaches_the_team_and_resolving_mails_its_customers(dovecot, smtp_sink, tmp_path,
                                                                                       terminals):
    user = dovecot.new_user()
    dovecot.load_maildir(user, [MaildirMessage(customer_mail(i, s, 300 - 60 * i), date=time.time() - (300 - 60 * i) * 60)
                                for i, s in enumerate(SUBJECTS)])
    homes = {name: agent_home(tmp_path / name, name, dovecot, user, smtp_port=smtp_sink.port,
                              extra='team = ["alice", "bob"]') for name in ("alice", "bob")}
    for home in homes.values():
        home.config.write_text(home.config.read_text().replace('folders = ["INBOX"]',
                                                               'folders = ["INBOX"]\nundo_send_seconds = 1'))
    alice, bob = (terminals.open_home(homes[n], name=n) for n in ("alice", "bob"))
    for term in (alice, bob):
        term.wait_for(lambda s: "support: idle" in s and SUBJECTS[0] in s, timeout=30, what="the synced queue")
    smtp_sink.clear()

    alice.keys("/")
    alice.type("payment")
    alice.wait_for("payment · 1 conversation")
    alice.keys("Enter")  # back in the queue, the search kept
    alice.wait_search_left("payment")
    alice.keys("*")  # the search's one conversation, selected
    alice.wait_for("1 of 1 selected")
    alice.keys("I")
    alice.wait_for("Start an incident: new mail matching payment · 1 selected")
    alice.type("Payments failing")
    alice.keys("Enter")
    alice.wait_for("⚠ incident: Payments fail")  # the queue's title (cut to the pane's width)
    # through alice's outbox, the server's NOTIFY and bob's History pass: ~1 s idle, the bound a
    # reply's round trip has (test_shift_team) so a loaded CI runner does not fail it
    bob.wait_for("⚠ incident: Payments fail", timeout=PROPAGATION + 5)
    bob.wait_for("Customer 0          incident in", timeout=PROPAGATION)  # its tags on the joined row

    dovecot.deliver(user, customer_mail(2, "Payment failed again", 0))
    dovecot.deliver(user, customer_mail(3, "Question about sizes", 0))
    deadline = time.monotonic() + 15
    while not texts_to(smtp_sink, "c2@customer.test"):
        assert time.monotonic() < deadline, "no acknowledgement for the incident's new mail"
        time.sleep(0.1)
    (ack,) = texts_to(smtp_sink, "c2@customer.test")
    assert "We know about it" in ack and "Payments failing" in ack
    assert texts_to(smtp_sink, "c3@customer.test") == []  # no rules file: no normal acknowledgement

    # the rule's tag on the new mail's conversation, not only its acknowledgement, is on alice's
    # desk: the confirm lists the members as they are when I is pressed
    alice.wait_for(lambda s: "Customer 2" in s and s.count("incident in") >= 2, timeout=PROPAGATION,
                   what="Customer 2's conversation in the incident")
    alice.keys("I")  # the confirm lists who gets what, one line per customer
    alice.wait_for("'incident-fixed' to 2 customers (2 conversations)")
    alice.wait_for(lambda screen: "c0@customer.test  #" in screen and "c2@customer.test  #" in screen,
                   what="one line per customer")
    alice.keys("y")
    bob.wait_gone("⚠ incident", timeout=PROPAGATION + 5)
    alice.wait_gone("⚠ incident", timeout=PROPAGATION)
    deadline = time.monotonic() + 20
    while len(texts_to(smtp_sink, "c2@customer.test")) < 2 or not texts_to(smtp_sink, "c0@customer.test"):
        assert time.monotonic() < deadline, "the 'fixed' mails did not all go"
        time.sleep(0.1)
    # (that nothing more follows, also with two clients resolving, is tests/test_incident.py's)
    (fixed,) = texts_to(smtp_sink, "c0@customer.test")
    assert "Payments failing" in fixed and "is fixed" in fixed
    assert len(texts_to(smtp_sink, "c2@customer.test")) == 2
    assert texts_to(smtp_sink, "c1@customer.test") == [] and texts_to(smtp_sink, "c3@customer.test") == []


def test_c_in_the_outbox_on_a_fixed_mail_leaves_no_draft_and_says_what_to_do(dovecot, smtp_sink, tmp_path,
                                                                               terminals):
    """The 'fixed' mail waits in the outbox (a long undo window); O, c on it: the notice says no
    draft is kept and how to send it, no compose screen opens, nothing goes to the customer."""
    user = dovecot.new_user()
    dovecot.load_maildir(user, [MaildirMessage(customer_mail(0, SUBJECTS[0], 60), date=time.time() - 3600)])
    home = agent_home(tmp_path / "alice", "alice", dovecot, user, smtp_port=smtp_sink.port)
    home.config.write_text(home.config.read_text().replace('folders = ["INBOX"]',
                                                           'folders = ["INBOX"]\nundo_send_seconds = 600'))
    term = terminals.open_home(home, name="alice")
    term.wait_for(lambda s: "support: idle" in s and SUBJECTS[0] in s, timeout=30, what="the synced queue")
    smtp_sink.clear()
    term.keys("*")
    term.wait_for("1 of 1 selected")
    term.keys("I")
    term.wait_for("Start an incident")
    term.type("Payments failing")
    term.keys("Enter")
    term.wait_for("⚠ incident: Payments fail")
    term.keys("I")
    term.wait_for("'incident-fixed' to 1 customer")
    term.keys("y")
    term.wait_gone("⚠ incident", timeout=PROPAGATION)
    deadline = time.monotonic() + PROPAGATION + 20  # plan B is queued after the next sync pass
    while "c0@customer.test" not in home.cli("outbox", "--json", check=False).stdout:
        assert time.monotonic() < deadline, "the 'fixed' mail never reached the outbox"
        time.sleep(0.2)
    term.keys("O")
    term.wait_for(lambda s: "Outbox" in s and "Customer 0 Re: [#1]" in s, what="the 'fixed' mail in the outbox")

    words = notice_words
    term.keys("c")
    shown = term.wait_for(lambda s: "no draft kept" in words(s) and "start the incident again" in words(s),
                          what="the notice: no draft, start the incident again")
    assert "'fixed' mail to c0@customer.test cancelled" in words(shown), shown
    assert "Reply · #" not in term.screen(), "no compose screen: there is no draft"
    assert smtp_sink.messages == []
