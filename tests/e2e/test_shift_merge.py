"""A merge in a real terminal, with two customers on the suite's Dovecot: alice leaves a draft on
bo's conversation, then merges it into ana's. M asks first, naming both customers; the merge
says bo's draft moved and to whom it was written, and sending it is refused until she deletes
the line that sets it apart. u undoes: the history of each conversation is its own again, the
merge read once as "…, undone". Ana's two conversations then merge at once, with no question."""

from __future__ import annotations

import email.utils
import json
import time

from e2e.harness import agent_home, notice_words
from servers import MaildirMessage

MAIL = [("ana", "Printer broken", 5), ("bo", "Invoice wrong", 3), ("ana", "Toner empty", 1)]


def customer_mail(i: int) -> MaildirMessage:
    who, subject, hours_ago = MAIL[i]
    when = time.time() - hours_ago * 3600
    raw = (f"From: {who.title()} <{who}@customer.test>\r\nTo: support@helpdesk.test\r\n"
           f"Subject: {subject}\r\nDate: {email.utils.formatdate(when)}\r\n"
           f"Message-ID: <merge-{i}@customer.test>\r\n\r\nPlease help: {subject.lower()}.\r\n").encode()
    return MaildirMessage(raw, date=when)


def history(home, conv_id: int) -> str:
    return home.cli("history", str(conv_id)).stdout


def test_merging_two_customers_asks_and_keeps_the_draft_apart_and_undo_reads_true(dovecot, smtp_sink, tmp_path,
                                                                                  terminals):
    user = dovecot.new_user()
    dovecot.load_maildir(user, [customer_mail(i) for i in range(len(MAIL))])
    home = agent_home(tmp_path / "alice", "alice", dovecot, user, smtp_port=smtp_sink.port)
    term = terminals.open_home(home, width=80, height=24)
    term.wait_for(lambda s: "support: idle" in s and "Toner empty" in s, timeout=30, what="the synced queue")
    rows = json.loads(home.cli("queue", "--json").stdout)
    by_subject = {r["subject"]: r["id"] for r in rows}
    printer, invoice = by_subject["Printer broken"], by_subject["Invoice wrong"]

    term.keys("/")
    term.type(f"id:{printer},{invoice}")
    term.wait_for(f"id:{printer},{invoice} · 2 ·")  # the queue's border at 80 columns: the search, its count
    term.keys("Enter")  # back in the queue, the search kept, the cursor on its first row: the one kept
    term.wait_search_left(f"id:{printer},{invoice}")
    keep, other = (r["id"] for r in json.loads(home.cli("search", f"id:{printer},{invoice}", "--json").stdout))
    written_to = "bo@customer.test" if other == invoice else "ana@customer.test"

    term.keys("j", "r")  # a draft on the other one
    term.wait_for(f"Reply · #{other}")
    term.type("Thank you, it is corrected.")
    term.keys("Escape")
    term.wait_for(f"Draft of #{other} kept")

    term.keys("*")
    term.wait_for("2 of 2 selected")
    term.keys("k", "M")
    asked = term.wait_for("merge anyway?")
    assert f"#{keep} (" in asked and f"#{other} (" in asked and "are different" in asked  # wrapped at 80
    term.keys("y")
    term.wait_for(lambda s: "it was written to" in notice_words(s), what="the merge saying whose the draft was")
    term.wait_for(f"id:{printer},{invoice} · 1 ·", what="one conversation left in the search")

    term.keys("r")  # the other customer's words, set apart: the send is refused until the line is gone
    term.wait_for(f"Reply · #{keep}")
    term.wait_for(f"written to {written_to}, kept below")
    term.keys("C-s")
    term.wait_for("still holds a draft kept below it")
    term.keys("Escape")
    term.wait_gone(f"Reply · #{keep}")

    term.keys("u")
    term.wait_for(f"id:{printer},{invoice} · 2 ·", what="the undone merge: both back")
    subject = "Invoice wrong" if other == invoice else "Printer broken"
    undone = f'merged "{subject}" ({written_to}) into this one, undone'
    term.wait_for(lambda s: undone in history(home, keep), timeout=10, what="the merge read as undone")
    assert "undid" not in history(home, keep)
    assert "merged" not in history(home, other) and "assigned" not in history(home, other)

    # ana's two conversations: one customer, merged with no question (u undoes)
    term.keys("Escape")  # the search gone
    term.wait_for(lambda s: "Toner empty" in s and "Invoice wrong" in s, what="the whole queue again")
    term.keys("/")
    term.type("from:ana@customer.test")
    term.wait_for(lambda s: "Toner empty" in s and "Printer broken" in s and "Invoice wrong" not in s,
                  what="ana's two conversations alone")
    term.keys("Enter")
    term.wait_search_left("from:ana@customer.test")
    term.keys("*")
    term.wait_for(lambda s: s.count("✓") == 2, what="both selected")  # the border has no room to say it
    term.keys("M")
    term.wait_for("merged conversation")
    assert "merge anyway?" not in term.screen()
    assert len(json.loads(home.cli("search", "from:ana@customer.test", "--json").stdout)) == 1
