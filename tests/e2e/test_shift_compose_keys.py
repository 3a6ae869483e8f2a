"""The compose box at 80x24 as a new user's keyboard finds it (a tryout): Tab after ``::feat``
completes the snippet's name and never sends the focus (and the keys after it) out of sight;
Ctrl+D throws the draft away, the queue's ✎draft goes, and u brings it back."""

from __future__ import annotations

import email.utils
import json
import time

from e2e.harness import agent_home
from servers import MaildirMessage

SUBJECT = "The export button does nothing"


def request() -> MaildirMessage:
    when = time.time() - 3600
    raw = (f"From: Ann Lee <ann@customer.test>\r\nTo: support@helpdesk.test\r\nSubject: {SUBJECT}\r\n"
           f"Date: {email.utils.formatdate(when)}\r\nMessage-ID: <export-1@customer.test>\r\n\r\n"
           "I click Export and nothing happens.\r\n").encode()
    return MaildirMessage(raw, date=when)


def started(dovecot, tmp_path, terminals):
    user = dovecot.new_user()
    dovecot.load_maildir(user, [request()])
    home = agent_home(tmp_path / "alice", "alice", dovecot, user)
    term = terminals.open_home(home, width=80, height=24)
    term.wait_for(lambda s: "support: idle" in s and "The export button" in s, timeout=30, what="the synced queue")
    [conv] = json.loads(home.cli("queue", "--json").stdout)
    return home, term, conv["id"]


def test_tab_completes_a_snippet_name_and_no_key_is_lost(dovecot, tmp_path, terminals):
    home, term, conv = started(dovecot, tmp_path, terminals)
    term.keys("r")
    term.wait_for("::name inserts a snippet", what="the compose box")
    term.type("::feat")
    term.wait_for("::feature-request ::feature-shipped", what="the snippet hint")
    term.keys("Tab")
    term.wait_for(lambda s: "::feature-" in s.split("Subject:")[1].split("Fills:")[0], what="the name completed")
    term.type("s")
    term.keys("Tab")
    term.wait_for("Inserted ::feature-shipped", what="the only match inserted")
    term.keys("Enter", "Tab")  # not after ::name: an indent, the focus stays in the body
    term.type("XYZ")
    screen = term.wait_for("▊     XYZ", what="the key after Tab, in the body")
    assert "? Key" not in screen  # the focus never left the body
    term.keys("Escape")
    term.wait_for(lambda s: "::name inserts a snippet" not in s, what="the queue")


def test_ctrl_d_discards_the_draft_and_u_brings_it_back(dovecot, tmp_path, terminals):
    home, term, conv = started(dovecot, tmp_path, terminals)
    term.keys("r")
    term.wait_for("::name inserts a snippet", what="the compose box")
    term.type("Half a thought")
    term.keys("Escape")
    term.wait_for(lambda s: "::name inserts a snippet" not in s and "✎draft" in s, what="the queue, a draft kept")
    term.keys("r")
    term.wait_for("Draft restored", what="the draft reopened")
    term.keys("C-d")
    term.wait_for(f"discarded the draft of #{conv}", what="the discard said")
    screen = term.wait_for(lambda s: "✎draft" not in s, what="the marker gone")
    assert "undoes)" in screen  # "(u undoes)", wrapped in the notice at 80 columns
    assert json.loads(home.cli("queue", "--json").stdout)[0]["draft"] in (None, False)
    term.keys("u")
    term.wait_for(f"undid: discarded the draft (#{conv} ", what="the undo said")
    term.wait_for("✎draft", what="the marker back")
    term.keys("r")
    term.wait_for(lambda s: "Draft restored" in s and "Half a thought" in s, what="the draft back in the box")
