"""The demo at several clock hours: it moves with the clock (its newest mail is this hour's,
demo.demo_end), and the mail it generates differs from one hour to the next.

- Every reply an agent wrote lands in the conversation it answers (a desk's agents reply from a
  tool that threads). Customers' clients may break a thread (no In-Reply-To, no References):
  those mails start a conversation of their own, as real mail does.
- The reply the scene leaves waiting for tomorrow is a teammate's, never the agent's the demo
  starts as (she wrote nothing yet; the quit question counts her own replies).
- Closes follow an answer (README: "closed them after the last answer"), but for the few README
  names: a customer's mail that started a second conversation about the same thing (tagged
  `duplicate`, answered in the other) and mail no customer wrote (a bounce, an out-of-office).
- A teammate's note mentions the agent the demo starts as, unseen: her Mentions view and `@`."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3

import pytest

from tui_desk.cli import prepare_demo
from tui_desk.demo import DEMO_CONFIG, demo_end, generate_demo_messages
from tui_desk.desk.service import Desk
from tui_desk.mail.threading import strip_subject_prefixes

# a night, a morning (10:00 UTC: #93 was an agent's answer to #80, with no In-Reply-To or
# References; at 3:00 and 10:00 the scene's reply was the starting agent's once the demo's agents'
# replies all threaded), noon, an evening; a Saturday; a day in summer time elsewhere
HOURS = [dt.datetime(2026, 12, 7, h, 20, tzinfo=dt.timezone.utc) for h in (3, 10, 12, 19)] + [
    dt.datetime(2026, 11, 21, 15, 30, tzinfo=dt.timezone.utc), dt.datetime(2026, 6, 15, 16, 40, tzinfo=dt.timezone.utc)]


@pytest.fixture(scope="module", params=HOURS, ids=lambda now: now.strftime("%Y-%m-%d_%H:%M"))
def built(request, tmp_path_factory) -> tuple[dt.datetime, sqlite3.Connection]:
    """(the demo's now, its store)."""
    db = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    asyncio.run(prepare_demo(db, request.param))
    con = sqlite3.connect(db)
    yield request.param, con
    con.close()


def test_every_agent_reply_threads_into_the_conversation_it_answers(built):
    now, con = built
    conv = dict(con.execute("SELECT msgid, conv_id FROM thread_ids"))
    replies = [m for m in generate_demo_messages(demo_end(now)) if m.kind == "agent" and m.parent is not None]
    assert len(replies) > 100  # the demo's agents answer; none is lost on the way
    broken = [(m.subject, conv[m.msgid.strip("<>")], conv[m.parent.msgid.strip("<>")]) for m in replies
              if conv[m.msgid.strip("<>")] != conv[m.parent.msgid.strip("<>")]]
    assert broken == [], "(reply's subject, its conversation, the conversation it answers)"


def test_the_reply_waiting_for_tomorrow_is_a_teammates(built):
    now, con = built
    end = int(demo_end(now).timestamp())
    [(agent,)] = con.execute("SELECT agent FROM events WHERE at >= ? AND kind = 'reply'", (end,)).fetchall()
    assert agent != DEMO_CONFIG.agent


def about(subject: str) -> str:
    """"RE: WHERE IS MY ORDER #1?!!!" asks what "Where is my order #1?" does."""
    return strip_subject_prefixes(subject).casefold().rstrip("!")


def why_closed_unanswered(con: sqlite3.Connection, conv_id: int) -> str:
    """'duplicate' (tagged, and the customer has another conversation about it that an agent
    answered), 'no customer' (only a bounce or an auto-reply in it), else its subject."""
    customer, subject = con.execute("SELECT customer_key, subject FROM conversations WHERE id = ?",
                                    (conv_id,)).fetchone()
    wrote = con.execute("SELECT count(*) FROM messages WHERE conv_id = ? AND is_agent = 0 AND is_note = 0"
                        " AND auto_submitted = 0", (conv_id,)).fetchone()[0]
    if not wrote:
        return "no customer"
    if con.execute("SELECT 1 FROM tags WHERE conv_id = ? AND tag = 'duplicate'", (conv_id,)).fetchone():
        answered_twins = [c for c, s in con.execute(
            "SELECT id, subject FROM conversations WHERE customer_key = ? AND id != ? AND last_agent_date IS NOT NULL",
            (customer, conv_id)) if about(s) == about(subject)]
        if answered_twins:
            return "duplicate"
    return f"#{conv_id} {subject}"


def test_closes_follow_an_answer_but_for_a_few_named(built):
    now, con = built
    closes = con.execute("SELECT t.conv_id, e.at FROM events e JOIN thread_ids t ON t.msgid = e.anchor"
                         " WHERE e.kind = 'status' AND json_extract(e.data_json, '$.to') = 'closed'").fetchall()
    unanswered = {conv: why_closed_unanswered(con, conv) for conv, at in closes if not con.execute(
        "SELECT 1 FROM messages WHERE conv_id = ? AND is_agent = 1 AND is_note = 0 AND date < ?", (conv, at)).fetchone()}
    assert len(closes) >= 40
    assert sorted(set(unanswered.values()) - {"duplicate", "no customer"}) == [], "closed with no answer"
    assert 1 <= len(unanswered) <= len(closes) // 8, unanswered  # a few, and Reports' "Closed, no reply" shows them


def test_a_teammates_note_mentions_the_demos_agent_unseen(built):
    now, con = built
    [(_, _, path)] = con.execute("PRAGMA database_list").fetchall()

    async def mentions() -> list:
        desk = await Desk.open(path, DEMO_CONFIG, clock=now.timestamp)
        try:
            return await desk.queue_rows(await desk.view_ids("mentions:me"))
        finally:
            await desk.close()
    rows = asyncio.run(mentions())
    assert 1 <= len(rows) <= 2 and all(row.mention_unseen for row in rows)
    authors = {a for (a,) in con.execute("SELECT sender_name FROM messages WHERE is_note = 1 AND body LIKE '%@Alice.Martin%'")}
    assert authors and DEMO_CONFIG.agent not in authors
