"""Which conversation a key acts on, in a real terminal: the focused pane decides. alice opens the
top conversation and replies; once sent it is pending and leaves the queue, the cursor lands on
the next row while the pane still shows the answered one. From the queue t and h act on the
cursor's row (their prompts and notices name it); Tab into the conversation pane and t tags
the one she reads."""

from __future__ import annotations

import json

from e2e.harness import SUBJECTS, agent_home, customer_mail


def tagged(home, tag: str, status: str) -> list[int]:
    rows = json.loads(home.cli("search", f"tag:{tag}", f"status:{status}", "--json").stdout)
    return sorted(r["id"] for r in rows)


def test_after_a_reply_the_queue_keys_act_on_the_cursor_row_and_the_pane_on_its_own(dovecot, smtp_sink, tmp_path,
                                                                                      terminals):
    user = dovecot.new_user()
    dovecot.load_maildir(user, [customer_mail(i, 5 - 2 * i, "targets") for i in range(len(SUBJECTS))])
    home = agent_home(tmp_path / "alice", "alice", dovecot, user, smtp_port=smtp_sink.port)
    home.config.write_text(home.config.read_text().replace('folders = ["INBOX"]',
                                                           'folders = ["INBOX"]\nundo_send_seconds = 1'))
    term = terminals.open_home(home)
    term.wait_for(lambda s: "support: idle" in s and SUBJECTS[0] in s, timeout=30, what="the synced queue")
    top, second = (r["id"] for r in json.loads(home.cli("queue", "--json", "--limit", "2").stdout))
    smtp_sink.clear()

    term.keys("Enter")
    term.wait_for("Please help with alpha invoice question")
    term.keys("r")
    term.wait_for(f"Reply · #{top}")
    term.type("We have refunded the invoice.")
    term.keys("C-s")
    smtp_sink.wait_for(1, timeout=15)
    # sent: pending, out of the queue; the cursor on the next row, the pane still on the answered one
    term.wait_for(lambda s: "2 conversations" in s and f"1/2  #{second}" in s, timeout=15,
                  what="the answered conversation gone from the queue")
    assert "Please help with alpha invoice question" in term.screen()

    term.keys("t")
    term.wait_for(f"Tag #{second} {SUBJECTS[1]}")
    term.type("billing")
    term.keys("Enter")
    term.wait_for("tagged 1 conversation +billing")
    term.keys("h")  # one company: the others of #2's customer, #1 among them
    shown = term.wait_for(f"Other conversations of Customer 1 (#{second})")
    assert f"#{top} pending" in shown
    term.keys("Escape")
    term.wait_gone(f"Other conversations of Customer 1 (#{second})")

    term.keys("Tab")  # into the conversation pane: the conversation it shows
    term.keys("t")
    term.wait_for(f"Tag #{top} {SUBJECTS[0]}")
    term.type("refund")
    term.keys("Enter")
    term.wait_for("tagged 1 conversation +refund")
    assert tagged(home, "billing", "open") == [second]
    assert tagged(home, "refund", "pending") == [top]
