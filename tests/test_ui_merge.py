"""Merging in the app (M) on the demo store: the pane that showed a merged-away conversation
follows it into the one it was merged into (the tryout's pane said "Conversation #95 no longer
exists"), and the kept one has the merged one's owner when it had none."""

from __future__ import annotations


from tui_desk.ui.popups import ConfirmScreen

try:
    from tests.ui_support import type_text, until
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_support import type_text, until


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


async def _select(pilot, app, keep: int, other: int) -> None:
    for conv_id in (other, keep):
        app.queue.move_to(app.queue.ids.index(conv_id))
        await pilot.press("space")
    app.queue.move_to(app.queue.ids.index(keep))  # the cursor's selected row is the one kept
    app.queue.focus()
    await pilot.pause(0.1)


def _question(app) -> str:
    return str(app.screen.query_one("#confirm-text").render())


async def test_merging_two_customers_asks_once_naming_both(demo):
    """The tryout merged ana's and bo's conversations without a word; now M asks, naming both,
    and n leaves them apart. One customer's two conversations merge at once (u undoes)."""
    make_app, _ = demo
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.background is not None and len(app.queue.ids) > 10)
        await pilot.pause(0.1)
        desk = app.desk
        shown = set(app.queue.ids)
        rows = await desk.store.fetchall("SELECT id, customer_key FROM conversations ORDER BY id")
        by_customer: dict[str, list[int]] = {}
        for conv_id, key in rows:
            if conv_id in shown and key:
                by_customer.setdefault(key, []).append(conv_id)
        [ana, bo] = [ids[0] for ids in list(by_customer.values())[:2]]
        keys = {conv_id: key for conv_id, key in rows}
        await _select(pilot, app, ana, bo)
        await pilot.press("M")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert _question(app).splitlines()[0] == (
            f"#{ana} ({keys[ana]}) and #{bo} ({keys[bo]}) are different customers: merge anyway?")
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await pilot.pause(0.2)
        assert {ana, bo} <= set(app.queue.ids)
        await pilot.press("M")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: bo not in app.queue.ids)

        same = next(ids for ids in by_customer.values() if len(ids) > 1 and ana not in ids and bo not in ids)
        app.queue.clear_selection()
        await _select(pilot, app, same[0], same[1])
        await pilot.press("M")
        await until(pilot, lambda: same[1] not in app.queue.ids)
        assert not isinstance(app.screen, ConfirmScreen)
        assert app.screen.last_action == f"merged conversation {same[1]} into {same[0]}"


async def test_closing_a_reply_says_its_draft_is_kept_only_when_one_is(demo):
    """The tryout read "Draft of #129 kept" with no draft there: here a merge made elsewhere (the
    CLI, on the same store) took the reply's draft into another conversation while it was open."""
    from tui_desk.ui.compose import ComposeScreen
    make_app, _ = demo
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.background is not None and len(app.queue.ids) > 10)
        await pilot.pause(0.1)
        desk = app.desk
        written, kept = app.queue.ids[0], app.queue.ids[1]
        app.queue.move_to(0)
        app.queue.focus()
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
        await type_text(pilot, "Hello")
        await pilot.press("escape")  # saved, and said
        await until(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        said = [str(n.message) for n in app._notifications]
        assert f"Draft of #{written} kept; r reopens it" in said
        app.clear_notifications()
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
        await desk.merge(kept, [written], different_customers=True)  # the draft goes with it
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        await pilot.pause(0.2)
        assert await desk.draft(written) is None and (await desk.draft(kept)) is not None
        assert not [n for n in app._notifications if "Draft of" in str(n.message)]
