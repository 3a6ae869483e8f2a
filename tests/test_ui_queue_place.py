"""The queue keeps the agent's place: after a reply (its conversation leaves the queue when it
goes out and becomes pending) the cursor is on the row that took its place, and after Esc ends
a search the row under the cursor is the row shown highlighted, on screen."""

from __future__ import annotations

import time


from tui_desk.ui.compose import ComposeScreen

try:
    from tests.ui_fake_desk import settle
    from tests.ui_support import make_app, until
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_desk import settle
    from ui_support import make_app, until


def cursor_on_screen(app) -> bool:
    queue = app.queue
    height = queue.scrollable_content_region.height
    lines = queue._lines_per_row
    return queue.scroll_y <= queue.cursor * lines and (queue.cursor + 1) * lines <= queue.scroll_y + height


async def test_a_sent_reply_leaves_the_cursor_on_the_next_row(demo):
    """A real Desk on the demo store: the reply goes out to the SMTP sink after its undo window,
    the conversation becomes pending and leaves the queue; the cursor stays at its place."""
    make_app, sink = demo
    app = make_app(undo_seconds=1)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.background is not None and len(app.queue.ids) > 10)
        await pilot.pause(0.1)
        for _ in range(6):
            await pilot.press("j")
        before = list(app.queue.ids)
        replied, following = before[6], before[7]
        assert app.queue.current_id == replied
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
        await pilot.pause(0.05)
        for char in "Thanks":
            await pilot.press(char)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        await until(pilot, lambda: len(sink.received) == 1, timeout=15)
        await until(pilot, lambda: replied not in app.queue.ids, timeout=15)
        await pilot.pause(0.1)  # no settle: the background sync never finishes
        assert app.queue.cursor == 6
        assert app.queue.current_id == following
        assert cursor_on_screen(app)


async def test_a_reload_keeps_the_place_when_the_cursors_row_has_gone():
    """The store changed under the screen (another process closed the cursor's row): the cursor
    goes to the row that took its place, not to the top."""
    app = make_app(n=60)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: len(app.queue.ids) > 10)
        await settle(pilot)
        for _ in range(8):
            await pilot.press("j")
        ids = list(app.queue.ids)
        await app.desk.set_status([ids[8]], "closed")  # not through the app: as another process would
        app.screen.reload_shown()
        await until(pilot, lambda: ids[8] not in app.queue.ids)
        await settle(pilot)
        assert app.queue.cursor == 8
        assert app.queue.current_id == ids[9]


async def test_esc_after_a_search_shows_the_row_it_keeps(demo):
    """The tryout's keys on the demo store at 80x24: /subject:export, Enter, j to a hit, Esc. The cursor
    stays on that conversation, and the list is scrolled to show it: the row acted on is the one
    seen (the search's short list had no scrollbar, and Textual refused the scroll)."""
    make_app, _ = demo
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.background is not None and len(app.queue.ids) > 10)
        await pilot.pause(0.1)
        queue_ids = list(app.queue.ids)
        await pilot.press("slash")
        for char in "subject:export":
            await pilot.press({":": "colon"}.get(char, char))
        await pilot.press("enter")
        await until(pilot, lambda: app.queue.ids != queue_ids and len(app.queue.ids) > 1)
        await pilot.pause(0.1)
        # the demo's data moves with the clock: the hit to keep is the one deepest in the queue
        # (a pending or closed hit is in no queue), reached with j as the tryout did
        kept = max((i for i in app.queue.ids if i in queue_ids), key=queue_ids.index)
        while app.queue.current_id != kept:
            await pilot.press("j")
        assert queue_ids.index(kept) > 20, "a search hit must be far down the queue"
        await pilot.press("escape")
        await until(pilot, lambda: app.queue.ids == queue_ids)
        await pilot.pause(0.2)
        assert app.queue.current_id == kept
        assert cursor_on_screen(app)
        await pilot.press("j")
        await pilot.pause(0.1)
        assert app.queue.current_id == queue_ids[queue_ids.index(kept) + 1]
        assert cursor_on_screen(app)


async def test_a_snooze_that_runs_out_comes_back_at_the_clock_tick(demo):
    """The tryout: z 1m on a row; past its wake time the open app's queue had it back only once
    the view changed. The clock's tick (MainScreen.follow_clock, every 30 s) reads the list
    again: the woken conversation is back, and the cursor stays on the row it was on."""
    make_app, _ = demo
    offset = [0.0]
    app = make_app(clock=lambda: time.time() + offset[0])
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.background is not None and len(app.queue.ids) > 10)
        await pilot.pause(0.1)
        for _ in range(5):
            await pilot.press("j")
        ids = list(app.queue.ids)
        snoozed, kept = ids[2], ids[5]
        assert app.queue.current_id == kept
        await app.desk.snooze([snoozed], "1m")
        app.screen.reload_shown()
        await until(pilot, lambda: snoozed not in app.queue.ids)
        await pilot.pause(0.1)
        assert app.queue.current_id == kept
        app.screen.follow_clock()  # no time has passed: the list stays as it is
        await pilot.pause(0.2)
        assert snoozed not in app.queue.ids
        offset[0] = 120.0  # past the wake time
        app.screen.follow_clock()
        await until(pilot, lambda: snoozed in app.queue.ids)
        await pilot.pause(0.1)
        assert app.queue.ids.index(snoozed) == 2
        assert app.queue.current_id == kept
        assert app.queue.cursor == 5
        assert cursor_on_screen(app)
