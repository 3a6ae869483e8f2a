"""The compose box at 80x24 as a new user's keyboard finds it (a tryout): Tab after ``::feat``
completes the snippet's name and never sends the focus (and the keys after it) out of sight;
Ctrl+D throws the draft away, the queue's ✎draft goes, and u brings it back; words typed right
behind Ctrl+A, Backspace or an arrow reach the customer as typed."""

from __future__ import annotations

import email
import email.policy
import email.utils
import json
import sqlite3
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


WORD_EVERY = 0.15  # seconds: the typist's pace between two words (typing, not waiting)


def started(dovecot, tmp_path, terminals, smtp_port: int | None = None):
    user = dovecot.new_user()
    dovecot.load_maildir(user, [request()])
    home = agent_home(tmp_path / "alice", "alice", dovecot, user, smtp_port=smtp_port)
    home.config.write_text(home.config.read_text().replace('folders = ["INBOX"]',
                                                           'folders = ["INBOX"]\nundo_send_seconds = 1'))
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
    term.type(" ::fea")  # after other text on the line: completes there too
    term.keys("Tab")
    term.wait_for("XYZ ::feature-", what="the name completed after text")
    term.type("r")
    term.keys("Tab")
    term.wait_for("Inserted ::feature-request", what="the only match inserted after text")
    term.type(" ::zzz")
    term.keys("Tab")
    screen = term.wait_for("No snippet starts with ::zzz", what="no match said")
    assert "::zzz" in screen
    term.keys("Escape")
    term.wait_for(lambda s: "::name inserts a snippet" not in s, what="the queue")


def test_a_completed_mention_in_a_note_gets_one_space(dovecot, tmp_path, terminals):
    home, term, conv = started(dovecot, tmp_path, terminals)
    term.keys("n")
    term.wait_for("Note on #", what="the note box")
    term.type("Done, @al")
    term.keys("Tab")
    term.wait_for("Done, @alice", what="the name completed")
    term.type(" please check")  # the space typed out of habit: still one
    screen = term.wait_for("please check", what="the words after the name")
    assert "Done, @alice please check" in screen
    term.keys("C-s")
    term.wait_for(f"note added to #{conv}", what="the note added")


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


def saved_draft(home, conv: int) -> str | None:
    """The draft as the app last saved it (read-only, beside the running app)."""
    with sqlite3.connect(f"file:{home.db}?mode=ro", uri=True) as db:
        row = db.execute("SELECT body_markdown FROM drafts WHERE conv_id=?", (conv,)).fetchone()
    return row[0] if row else None


def test_words_typed_right_behind_ctrl_a_backspace_or_an_arrow_reach_the_customer_as_typed(
        dovecot, smtp_sink, tmp_path, terminals):
    # the tryout: "One two" reached the customer as "Onetwo", "discount is" as "discountis". A
    # bound key (Ctrl+A, Backspace, an arrow) acted once it had bubbled up to the app; the
    # characters right behind it were typed before, into the selection or at the old cursor
    home, term, conv = started(dovecot, tmp_path, terminals, smtp_port=smtp_sink.port)
    smtp_sink.clear()
    term.keys("r")
    term.wait_for("::name inserts a snippet", what="the compose box")
    term.type("An old draft")
    term.keys("Escape")
    term.wait_for(lambda s: "::name inserts a snippet" not in s and "✎draft" in s, what="the queue, a draft kept")
    term.keys("r")
    term.wait_for(lambda s: "Draft restored" in s and "An old draft" in s, what="the draft reopened")
    # one burst, as a fast typist's keys arrive (or an SSH link's, bunched up): the old text
    # selected and deleted, "Onetwo" typed, the space put in with three arrows back
    term.keys("C-a", "BSpace", *"Onetwo", "Left", "Left", "Left", "Space", "End")
    term.wait_for(lambda s: "▊ One two " in s and "An old draft" not in s, what="the new words, whole")
    # then a word every WORD_EVERY seconds, across the compose's timed work: the Fills line's
    # lookup of the placeholder and the draft's autosave once the typing pauses
    for word in [",", " {{customer_first_name}}:", " the", " discount", " is", " 10%."]:
        term.type(word)
        time.sleep(WORD_EVERY)
    term.wait_for('= "Ann"', what="the Fills line's value")
    typed = "One two, {{customer_first_name}}: the discount is 10%."
    deadline = time.monotonic() + 10
    while saved_draft(home, conv) != typed:  # the autosave, a second after the last key
        assert time.monotonic() < deadline, f"the draft was never saved as typed: {saved_draft(home, conv)!r}"
        time.sleep(0.05)
    term.keys("BSpace", "BSpace", "BSpace", "5", "%", ".")  # right after it, behind Backspace again
    term.wait_for("the discount is 15%.", what="10% corrected to 15%")
    term.keys("C-s")
    [sent] = smtp_sink.wait_for(1, timeout=15)
    text = email.message_from_bytes(sent.data, policy=email.policy.default).get_body(("plain",)).get_content()
    assert text.strip() == "One two, Ann: the discount is 15%."
