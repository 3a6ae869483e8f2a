"""The demo at several clock hours: it moves with the clock (its newest mail is this hour's,
demo.demo_end), and the mail it generates differs from one hour to the next.

- Every reply an agent wrote lands in the conversation it answers (a desk's agents reply from a
  tool that threads). Customers' clients may break a thread (no In-Reply-To, no References):
  those mails start a conversation of their own, as real mail does.
- The reply the scene leaves waiting for tomorrow is a teammate's, never the agent's the demo
  starts as (she wrote nothing yet; the quit question counts her own replies)."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3

import pytest

from tui_desk.cli import prepare_demo
from tui_desk.demo import DEMO_CONFIG, demo_end, generate_demo_messages

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
