"""Two agents on one mailbox, each with the app open: what one does shows up on the other's
screen with no key pressed there (the IMAP server is the only thing they share)."""

from __future__ import annotations

import time

import pytest

from e2e.conftest import PROPAGATION
from e2e.harness import SUBJECTS, agent_home, customer_mail


@pytest.fixture
def team(dovecot, smtp_sink, tmp_path, terminals):
    """alice and bob, each in their own terminal with their own store, on one mailbox; alice's
    replies leave after a 1 s undo window."""
    user = dovecot.new_user()
    dovecot.load_maildir(user, [customer_mail(i, 5 - 2 * i, "team") for i in range(3)])
    homes = {name: agent_home(tmp_path / name, name, dovecot, user, smtp_port=smtp_sink.port,
                              extra='team = ["alice", "bob"]')
             for name in ("alice", "bob")}
    config = homes["alice"].config
    config.write_text(config.read_text().replace('folders = ["INBOX"]', 'folders = ["INBOX"]\nundo_send_seconds = 1'))
    screens = {}
    for name, home in homes.items():
        screens[name] = terminals.open_home(home, name=name)
    for term in screens.values():
        term.wait_for(lambda s: "support: idle" in s and SUBJECTS[0] in s, timeout=30, what="the synced queue")
    smtp_sink.clear()
    return user, homes, screens


def test_triage_and_notes_reach_the_teammate_live(team, dovecot):
    user, homes, screens = team
    alice, bob = screens["alice"], screens["bob"]

    alice.keys("t")
    alice.wait_for("Tag #1")
    alice.type("billing")
    alice.keys("Enter")
    bob.wait_for("billing", timeout=PROPAGATION)

    bob.keys("Enter")  # bob reads the top conversation
    bob.wait_for("Please help with alpha invoice question")
    alice.keys("n")
    alice.wait_for("Note on #1")
    alice.type("Refund approved by ops")
    alice.keys("C-s")
    bob.wait_for("Refund approved by ops", timeout=PROPAGATION)

    alice.keys("a")
    alice.wait_for("Assign #1")
    alice.type("bob")
    alice.keys("Enter")
    bob.wait_for("@bob", timeout=PROPAGATION)  # on bob's row for the conversation, no key pressed

    alice.keys("z")
    alice.wait_for("Snooze #1")
    alice.type("3d")
    alice.keys("Enter")
    bob.wait_for(lambda s: SUBJECTS[0] not in s.split("╰")[0].split("│ Conversation")[0] or "2 conversations" in s,
                 timeout=PROPAGATION, what="the snoozed conversation gone from bob's queue")
    assert "2 conversations" in bob.screen()


def test_replying_marker_and_a_reply_sent_from_the_app(team, dovecot, smtp_sink):
    user, homes, screens = team
    alice, bob = screens["alice"], screens["bob"]
    bob.keys("Enter")
    bob.wait_for("Please help with alpha invoice question")

    alice.keys("r")
    alice.wait_for("Send")
    bob.wait_for("alice is replying", timeout=PROPAGATION)

    alice.type("We have refunded the invoice.")
    alice.keys("C-s")
    sent = smtp_sink.wait_for(1, timeout=15)
    assert b"We have refunded the invoice." in sent[0].data
    assert sent[0].rcpt_tos == ["c0@customer.test"]
    bob.wait_gone("alice is replying", timeout=PROPAGATION + 1)
    # filed in Sent, where teammates' clients see it as the desk's answer
    deadline = time.monotonic() + 10
    while "refunded the invoice" not in dovecot.doveadm("fetch", "-u", user, "body", "mailbox", "Sent", "all"):
        assert time.monotonic() < deadline, "the reply never reached Sent"
        time.sleep(0.1)
    bob.wait_for("We have refunded the invoice.", timeout=PROPAGATION + 5)


def test_closing_the_reply_clears_the_marker(team):
    user, homes, screens = team
    alice, bob = screens["alice"], screens["bob"]
    bob.keys("Enter")
    bob.wait_for("Please help with alpha invoice question")
    alice.keys("r")
    alice.wait_for("Send")
    bob.wait_for("alice is replying", timeout=PROPAGATION)
    alice.keys("Escape")
    bob.wait_gone("alice is replying", timeout=PROPAGATION)
