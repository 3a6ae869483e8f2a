"""Replying with a snippet in a real terminal (120x40): the snippet the reply used is recorded
however it goes (undone with u and sent again; kept as a draft with Esc and sent later), and the
compose box writes none of a snippet's escape sequences or bidi controls to the terminal."""

from __future__ import annotations

import email
import email.policy
import email.utils
import json
import re
import time

import pytest

from e2e.harness import agent_home
from servers import MaildirMessage

SUBJECT = "The export button does nothing"
# a snippet of the team's with terminal strings in it: a title, a hyperlink, a colour, bidi
HOSTILE = ("---\ntitle: Hostile steps\n---\nHi {{customer_first_name}},\n\n"
           "\x1b]0;owned title\x07\x1b]8;;https://evil.example\x1b\\please try\x1b]8;;\x1b\\ "
           "\x1b[31mthese steps\x1b[0m: \u202eclear the cache\u202c and restart.\n")


def request() -> MaildirMessage:
    when = time.time() - 3600
    raw = (f"From: Ann Lee <ann@customer.test>\r\nTo: support@helpdesk.test\r\nSubject: {SUBJECT}\r\n"
           f"Date: {email.utils.formatdate(when)}\r\nMessage-ID: <export-1@customer.test>\r\n\r\n"
           "I click Export and nothing happens.\r\n").encode()
    return MaildirMessage(raw, date=when)


def started(dovecot, smtp_sink, tmp_path, terminals):
    user = dovecot.new_user()
    dovecot.load_maildir(user, [request()])
    home = agent_home(tmp_path / "alice", "alice", dovecot, user, smtp_port=smtp_sink.port)
    home.config.write_text(home.config.read_text().replace('folders = ["INBOX"]',
                                                           'folders = ["INBOX"]\nundo_send_seconds = 8'))
    snippets = home.config.parent / "snippets"
    snippets.mkdir()
    (snippets / "hostile.md").write_text(HOSTILE, encoding="utf-8")
    smtp_sink.clear()
    term = terminals.open_home(home)
    term.wait_for(lambda s: "support: idle" in s and SUBJECT in s, timeout=30, what="the synced queue")
    [conv] = json.loads(home.cli("queue", "--json").stdout)
    return home, term, conv["id"]


def recorded_snippets(home, conv: int) -> list[list[str]]:
    """Per reply in the conversation's history: the snippets it names."""
    events = json.loads(home.cli("history", str(conv), "--json").stdout)["events"]
    return [[s["name"] for s in e["data"].get("snippets") or []] for e in events if e["kind"] == "reply"]


@pytest.mark.parametrize("how", ["undone", "draft"])
def test_a_snippet_reply_sent_after_an_undo_or_from_a_draft_records_its_snippet(dovecot, smtp_sink, tmp_path,
                                                                               terminals, how):
    home, term, conv = started(dovecot, smtp_sink, tmp_path, terminals)
    term.keys("r")
    term.wait_for("::name inserts a snippet", what="the compose box")
    term.type("::more-info ")
    term.wait_for("Inserted ::more-info")
    if how == "undone":
        term.keys("C-s")
        term.wait_for("u to undo", what="the queued notice")
        term.keys("u")
        term.wait_for("Draft restored", what="the reply back in the draft")
    else:
        term.keys("Escape")
        term.wait_for(lambda s: "::name inserts a snippet" not in s and "✎draft" in s, what="the queue, a draft kept")
        term.keys("r")
        term.wait_for("Draft restored", what="the draft reopened")
    term.keys("C-s")
    term.wait_for("u to undo", what="the queued notice")
    [sent] = smtp_sink.wait_for(1, timeout=40)
    assert b"Thanks for getting in touch" in sent.data
    # the history records it once the outbox has sent it
    deadline = time.monotonic() + 20
    while (found := recorded_snippets(home, conv)) != [["more-info"]]:
        assert time.monotonic() < deadline, found
        time.sleep(0.2)


# What the app may write (as tests/test_hostile_terminal.py allows): CSI sequences, the short
# ESC forms and Textual's OSC 22 (the pointer's shape); nothing else, and no C1 control
ALLOWED = re.compile(r"\x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]|\x1b[=>78]|\x1b\]22;[a-z-]+\x07")


def test_a_snippet_with_terminal_strings_reaches_the_terminal_without_them(dovecot, smtp_sink, tmp_path,
                                                                         terminals):
    home, term, conv = started(dovecot, smtp_sink, tmp_path, terminals)
    term.keys("r")
    term.wait_for("::name inserts a snippet", what="the compose box")
    term.type("::hostile ")
    screen = term.wait_for("these steps", what="the snippet in the body")
    raw = term.raw_output().decode("utf-8", errors="replace")
    left = ALLOWED.sub("", raw)
    assert "\x1b" not in left, repr(left[max(left.find("\x1b") - 40, 0):left.find("\x1b") + 40])
    assert "owned title" not in raw and "evil.example" not in raw
    assert not re.search("[\x80-\x9f\u202a-\u202e\u2066-\u2069]", raw), "a C1 or bidi control"
    assert "please try these steps: \ufffdclear the cache\ufffd and restart." in screen, screen
    term.keys("C-s")  # what goes is what was shown
    [sent] = smtp_sink.wait_for(1, timeout=40)
    text = email.message_from_bytes(sent.data, policy=email.policy.default).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "please try these steps: \ufffdclear the cache\ufffd and restart." in text
    assert "\x1b" not in text and "\u202e" not in text


def test_the_fills_line_shows_the_wait_the_customer_will_read_with_the_desks_zone(dovecot, smtp_sink, tmp_path,
                                                                                  terminals):
    """{{expected_wait}} typed in a reply: the Fills line shows the words that will go, not a
    tick; far enough ahead they name a clock time with the desk's zone (Europe/Berlin: CET in
    December, CEST in summer), and the mail sent says exactly that."""
    user = dovecot.new_user()
    dovecot.load_maildir(user, [request()])
    home = agent_home(tmp_path / "alice", "alice", dovecot, user, smtp_port=smtp_sink.port,
                      extra='[priority]\ntimezone = "Europe/Berlin"\n\n[autoreply]\ndefault_wait = "10h"\n')
    home.config.write_text(home.config.read_text().replace('folders = ["INBOX"]',
                                                           'folders = ["INBOX"]\nundo_send_seconds = 1'))
    smtp_sink.clear()
    term = terminals.open_home(home)
    term.wait_for(lambda s: "support: idle" in s and SUBJECT in s, timeout=30, what="the synced queue")
    term.keys("r")
    term.wait_for("::name inserts a snippet", what="the compose box")
    term.type("Hi {{customer_first_name}}, we will answer {{expected_wait}}.")
    # no history to measure: the default 10h from the mail's arrival an hour ago, a clock time
    pattern = re.compile(r'\{\{expected_wait\}\} = "([^"]+ CES?T)"')
    screen = term.wait_for(lambda s: pattern.search(" ".join(s.split())) is not None and '= "Ann"' in s,
                           timeout=20, what="the Fills line with the values")
    words = pattern.search(" ".join(screen.split())).group(1)
    assert words.startswith(("later today, by ", "tomorrow ")), words
    assert "✓" not in screen.split("Fills:", 1)[1].splitlines()[0]
    term.keys("C-s")
    term.wait_for("u to undo", what="the queued notice")
    [sent] = smtp_sink.wait_for(1, timeout=40)
    body = email.message_from_bytes(sent.data, policy=email.policy.default).get_body(("plain",)).get_content()
    assert f"Hi Ann, we will answer {words}." in " ".join(body.split())
