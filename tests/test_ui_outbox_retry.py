"""The outbox tells the truth about a reply that waits: a retrying one (the SMTP server cannot
take it yet) shows its tries, its next try in the desk's zone and the server's last word
(sanitized, one line), and s tries it now; the quit question counts this desk's own replies
only (two agents' apps may share a store). Over a real Desk on the demo store; the SMTP server
is a port nothing listens on, the desk's clock stands still (no retry comes by itself)."""

from __future__ import annotations

import datetime as dt
import socket
import time

from textual.widgets import OptionList, Static

from tui_desk.desk.views import OutboxEntry
from tui_desk.ui.outbox import OutboxScreen, retrying_note, row_labels
from tui_desk.ui.quitting import QuitScreen, own_waiting, waiting_line

try:
    from tests.ui_support import started, until
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_support import started, until

SIZE = (120, 40)


def closed_port() -> int:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def item_row(app, outbox_id: int):
    return await app.desk.store.fetchone("SELECT * FROM outbox WHERE id=?", (outbox_id,))


async def test_a_retrying_reply_shows_its_tries_next_try_and_error_and_s_tries_it_now(demo):
    make_app, sink = demo
    now = time.time()
    app = make_app(smtp_port=closed_port(), undo_seconds=0, clock=lambda: now)
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        outbox_id, _ = await app.desk.reply(first, "Refunded.")
        for _ in range(200):  # the background's first pass tries it: connection refused
            row = await item_row(app, outbox_id)
            if row["attempts"] >= 1:
                break
            await pilot.pause(0.1)
        assert row["state"] == "queued" and row["attempts"] == 1 and row["next_try"] == int(now) + 15
        # the server's words are mail-side data: markup and escapes must not reach the screen
        await app.desk.store.execute("UPDATE outbox SET last_error=? WHERE id=?",
                                     ("451 [b]try later[/b]\x1b[31m\nsecond line", outbox_id))
        await pilot.press("O")
        await until(pilot, lambda: isinstance(app.screen, OutboxScreen) and bool(app.screen.entries))
        screen = app.screen
        label = str(screen.query_one("#outbox-list", OptionList).get_option_at_index(0).prompt)
        next_try = dt.datetime.fromtimestamp(int(now) + 15).astimezone()
        assert label.startswith(f"#{first} ")
        assert f"retry 1 at {next_try.hour}:{next_try:%M}: 451 [b]try later[/b]" in label
        note = str(screen.query_one("#prompt-note", Static).render())
        assert note.startswith("Try 1 failed: 451 [b]try later[/b]")
        assert "\x1b" not in note and "\n" not in note
        assert f"Next try at {next_try.hour}:{next_try:%M}; s tries now" in note
        await pilot.press("s")  # due at once: the next pass tries it, the clock never moved
        for _ in range(200):
            row = await item_row(app, outbox_id)
            if row["attempts"] >= 2:
                break
            await pilot.pause(0.1)
        assert row["attempts"] == 2 and row["state"] == "queued"  # tried once more, still queued
        assert sink.received == []


def entry(**kw) -> OutboxEntry:
    base = dict(id=1, conv_id=12, recipients=("ann@c.test",), state="queued",
                send_at=dt.datetime(2026, 12, 7, 9, 3, tzinfo=dt.UTC), subject="Re: Refund [#12]", customer="Ann Lee")
    return OutboxEntry(**{**base, **kw})


def test_a_retrying_entry_says_tries_next_try_and_the_error_a_plain_one_its_time():
    now = dt.datetime(2026, 12, 7, 9, 5, tzinfo=dt.UTC)
    retrying = entry(attempts=5, next_try=dt.datetime(2026, 12, 7, 9, 10, tzinfo=dt.UTC), error="SMTP down")
    assert str(row_labels([retrying], now, 55)[0]) == "#12 Ann Lee Re: Refund [#12] retry 5 at 9:10: SMTP down"
    assert retrying_note(retrying, now) == "Try 5 failed: SMTP down. Next try at 9:10; s tries now, c edits it."
    assert str(row_labels([entry()], now, 38)[0]) == "#12 Ann Lee Re: Refund [#12] sends now"
    # the quit question: a retrying reply is not "in 0 s"
    assert waiting_line([retrying], now) == "1 reply is waiting to be sent (to ann@c.test; retrying, next try 9:10)."


def test_the_quit_question_counts_this_desks_own_queued_replies_only():
    now = dt.datetime(2026, 12, 7, 9, 5, tzinfo=dt.UTC)
    soon = now + dt.timedelta(seconds=8)
    mine = entry(send_at=soon)
    theirs = entry(id=2, send_at=now, mine=False)
    held = entry(id=3, state="held", send_at=now)
    assert own_waiting([mine, theirs, held], now + dt.timedelta(seconds=11)) == [mine]


async def test_a_teammates_reply_in_a_shared_store_is_not_in_my_quit_question(demo):
    make_app, sink = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        outbox_id, _ = await app.desk.reply(first, "Refunded.")
        item = await item_row(app, outbox_id)
        # another agent's app on this store queued it: its reply event names them
        await app.desk.store.execute(
            "UPDATE events SET agent='Bob Ng' WHERE json_extract(data_json, '$.message_id')=?", (item["message_id"],))
        assert [e.mine for e in await app.desk.outbox()] == [False]
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    assert app.exit_line is None  # nothing of mine waited: no question
    assert not any(isinstance(s, QuitScreen) for s in app.screen_stack)


async def test_the_collision_notice_names_who_replied_and_when_as_plain_text():
    from tui_desk.sync.delivery import OutboxReport
    from tui_desk.ui.bridge import OutboxReported

    try:
        from tests.ui_support import make_app
    except ImportError:
        from ui_support import make_app
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: bool(app.queue.ids))
        why = "Alice [b]Martin[/b] replied at 9:12, after you wrote this"
        report = OutboxReport(held=["m1@x"], held_why={"m1@x": why})
        app.screen.post_message(OutboxReported(report))
        await until(pilot, lambda: any(n.title == "Collision" for n in app._notifications))
        [notice] = [n for n in app._notifications if n.title == "Collision"]
        assert notice.markup is False  # mail's words: never markup
        assert notice.message == ("A reply was held: Alice [b]Martin[/b] replied at 9:12, after you wrote this. "
                        "Read it, then O to send anyway, edit or discard")
