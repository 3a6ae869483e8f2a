"""Merging in the app (M) on the demo store: the pane that showed a merged-away conversation
follows it into the one it was merged into (the tryout's pane said "Conversation #95 no longer
exists"), and the kept one has the merged one's owner when it had none."""

from __future__ import annotations


from tui_desk.ui.popups import ConfirmScreen

try:
    from tests.ui_support import until
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_support import until


async def test_the_pane_follows_a_merged_conversation_into_the_kept_one(demo):
    make_app, _ = demo
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.background is not None and len(app.queue.ids) > 10)
        await pilot.pause(0.1)
        desk = app.desk
        rows = await desk.queue_rows(list(app.queue.ids))
        merged = next(r.id for r in rows if r.assignee is None)
        kept = next(r.id for r in rows if r.assignee is None and r.id != merged)
        await desk.assign([merged], "Bob Okafor")
        app.screen.reload_shown()
        await pilot.pause(0.2)
        app.screen.open_conversation(merged)
        await until(pilot, lambda: getattr(app.screen.conversation_pane.conversation, "id", None) == merged)
        for conv_id in (merged, kept):
            app.queue.move_to(app.queue.ids.index(conv_id))
            await pilot.press("space")
        app.queue.move_to(app.queue.ids.index(kept))
        app.queue.focus()
        await pilot.pause(0.1)
        await pilot.press("M")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: merged not in app.queue.ids)
        await until(pilot, lambda: getattr(app.screen.conversation_pane.conversation, "id", None) == kept)
        [row] = await desk.queue_rows([kept])
        assert row.assignee == "Bob Okafor"
