"""F, the bulk follow-up key, driven with Pilot over the stand-in desk: pick a snippet, read the
dry run (one line per conversation), n changes nothing, y queues one reply each, a second time
nobody gets it again; c queues and closes."""

from __future__ import annotations

from textual.widgets import Static

from tui_desk.desk.views import Snippet
from tui_desk.ui.app import DeskApp
from tui_desk.ui.followup import FollowupConfirm
from tui_desk.ui.triage import ActionPrompt

try:
    from tests.ui_fake_desk import FIXED_NOW, FakeDesk, settle
    from tests.ui_support import THEME_DIRS, plain_text
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_desk import FIXED_NOW, FakeDesk, settle
    from ui_support import THEME_DIRS, plain_text

SNIPPETS = [Snippet("bug-fixed", "Bug fixed", (), "Hi {{customer_first_name}}, the bug is fixed."),
            Snippet("feature-shipped", "Feature shipped", (), "Hi {{customer_first_name}},\n\ndark mode is out.")]


def app_with_snippets() -> DeskApp:
    return DeskApp(FakeDesk(40, snippet_list=SNIPPETS), clock=lambda: FIXED_NOW, theme="tui-desk-dark",
                   theme_dirs=THEME_DIRS)


def dry_run_lines(screen: FollowupConfirm) -> list[str]:
    return [plain_text(s) for s in screen.query("#followup-lines Static").results(Static)]


async def test_f_picks_a_snippet_shows_who_gets_what_and_queues_once():
    app = app_with_snippets()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        await pilot.press("space", "space")  # rows 1 and 2 selected
        await pilot.press("F")
        await settle(pilot)
        assert isinstance(app.screen, ActionPrompt) and app.screen.id == "followup-snippet"
        await pilot.press(*"ship", "enter")  # filtered to feature-shipped
        await settle(pilot)
        assert isinstance(app.screen, FollowupConfirm)
        assert (app.screen.query_one("#prompt").border_title
                == "Follow-up with feature-shipped: 2 customers (2 conversations)")
        lines = dry_run_lines(app.screen)
        assert lines[0] == "#1  anna.petrova@example.ru  Re: [#1] Charged twice for order #48213  Hi Anna,"
        assert len(lines) == 2 and lines[1].startswith("#2  ")
        await pilot.press("n")
        await settle(pilot)
        assert desk.outbox_items == {} and not desk.followups, "no: nothing queued"

        await pilot.press("F", *"ship", "enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert sorted(cid for _, cid in desk.followups) == [1, 2]
        assert [e.conv_id for e, _, _ in desk.outbox_items.values()] == [1, 2]
        assert app.main.last_action == "follow-up 'feature-shipped': queued 2 replies"
        assert app.queue.selected == set()

        # the same conversations again: the dry run says they have it, and there is nothing to confirm
        await pilot.press("g", "space", "space", "F", *"ship", "enter")
        await settle(pilot)
        assert isinstance(app.screen, FollowupConfirm)
        assert dry_run_lines(app.screen) == ["#1  already sent (anna.petrova@example.ru)",
                                             f"#2  already sent ({desk._row(2).customer_addr})"]
        await pilot.press("y")
        await settle(pilot)
        assert len(desk.outbox_items) == 2, "never twice"

        # mail data in the dry run is text, never markup: Mallory's name and subject stay as typed
        mallory = next(i for i in app.queue.ids if "Mallory" in desk._row(i).customer)
        await pilot.press("escape", "g", *["j"] * app.queue.ids.index(mallory), "F", *"ship", "enter")
        await settle(pilot)
        [line] = dry_run_lines(app.screen)
        assert line == (f"#{mallory}  mallory@example.org  Re: [#{mallory}] [bold]x[/] and "
                        "[link=https://evil.example/]click me[/link]  Hi [red]Mallory[/red],")


async def test_c_queues_and_closes_and_an_unknown_snippet_is_said_in_the_prompt():
    app = app_with_snippets()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        await pilot.press("F", *"nothing-like-it", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ActionPrompt)
        assert "no snippet 'nothing-like-it'" in plain_text(app.screen.query_one("#prompt-note", Static))
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("F", "enter")  # the first snippet, on the current row
        await settle(pilot)
        assert isinstance(app.screen, FollowupConfirm)
        await pilot.press("c")
        await settle(pilot)
        assert list(desk.followups) == [("bug-fixed", 1)]
        assert desk.actions[-1] == ("status", [1], "closed")
        assert 1 not in app.queue.ids


async def test_a_long_dry_run_scrolls_before_it_is_confirmed():
    app = app_with_snippets()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("asterisk")  # the whole queue
        await settle(pilot)
        await pilot.press("F", *"ship", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, FollowupConfirm) and screen.new == len(app.queue.ids) > 16
        lines = screen.query_one("#followup-lines")
        assert lines.scroll_y == 0
        await pilot.press("pagedown")
        await settle(pilot)
        paged = lines.scroll_y
        assert paged >= 10
        await pilot.press("j")
        await settle(pilot)
        assert lines.scroll_y == paged + 1
        await pilot.press("escape")
        await settle(pilot)
        assert not app.desk.followups  # type: ignore[attr-defined]


async def test_the_preview_counts_customers_and_y_mails_each_once_on_the_real_desk(tmp_path):
    """The demo's real desk, where one of the customers who asked for dark mode asks again in a
    conversation of its own. F's dry run is desk.followup's plan, line for line; its title counts
    customers and conversations; y queues one reply per customer and notes their other
    conversations."""
    from tui_desk.demo import demo_config
    from tui_desk.desk import followup
    from tui_desk.desk.importer import import_paths
    from tui_desk.desk.service import Desk
    from tui_desk.store import outbox
    try:
        from tests.mailfactory import make_mail
        from tests.ui_support import demo_apps, until
    except ImportError:
        from mailfactory import make_mail
        from ui_support import demo_apps, until
    make_app, sink = await demo_apps(tmp_path)
    try:
        demo = await Desk.open(tmp_path / "demo.db", demo_config(0))
        try:
            [asked] = await demo.queue_rows((await demo.queue_ids("tag:wants-dark-mode"))[:1])
            again = tmp_path / "again"
            again.mkdir()
            (again / "again.eml").write_bytes(make_mail("dark-again@t", subject="Any news on that dark theme?",
                                                        sender=f"Again <{asked.customer_addr}>"))
            await import_paths(demo, [again], workers=1)
            await demo.tag(await demo.queue_ids('subject:"dark theme"'), ["wants-dark-mode"])
        finally:
            await demo.close()
        app = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.background is not None and bool(app.queue.ids))
            await pilot.press("slash", *"tag", "colon", *"wants", "minus", *"dark", "minus", *"mode", "enter")
            desk = app.desk
            ids = await desk.queue_ids("tag:wants-dark-mode")
            await until(pilot, lambda: app.focused is app.queue and sorted(app.queue.ids) == sorted(ids))
            await pilot.pause(0.1)
            the_plan = await followup.plan(desk, ids, "feature-shipped")  # type: ignore[arg-type]
            assert any(i.customer == asked.customer_addr for i in the_plan.covered), "asked twice, one mail"
            await pilot.press("asterisk", "F", *"shipped", "enter")
            await until(pilot, lambda: isinstance(app.screen, FollowupConfirm))
            n, m = len(the_plan.new), len(the_plan.new) + len(the_plan.covered)
            assert app.screen.query_one("#prompt").border_title == (
                f"Follow-up with feature-shipped: {n} customers ({m} conversations)")
            assert dry_run_lines(app.screen) == [i.line() for i in the_plan.items]
            assert any("gets it in #" in line for line in dry_run_lines(app.screen))
            await pilot.press("y")
            await until(pilot, lambda: (app.main.last_action or "").startswith("follow-up"))
            assert app.main.last_action.startswith(f"follow-up 'feature-shipped': queued {n} replies, "
                                                   f"{m - n} conversation")
            queued = [i for i in await outbox.items(desk.store) if i.message_id.startswith("followup.")]
            assert sorted(i.conv_id for i in queued) == sorted(i.conv_id for i in the_plan.new)
            customers = [i.customer for i in the_plan.new]
            assert len(set(customers)) == len(customers) == len(queued), "one reply per customer"
            for item in the_plan.covered:
                view = await desk.conversation(item.conv_id)
                assert any(msg.is_note and f"#{item.told_in}" in " ".join(b.text for b in msg.blocks)
                           for msg in view.messages)
    finally:
        sink.stop()


async def test_c_in_the_outbox_on_a_follow_ups_mail_keeps_no_draft_and_says_so(demo):
    """The demo's real desk: a follow-up's mail cancelled in the outbox (O, c) is gone, not put in
    the carrier's draft (sent by hand, and the follow-up run again, it would reach the customer
    twice): the notice says the follow-up sends it again, and the outbox stays on screen, no
    compose screen opens on an empty draft."""
    from tui_desk.desk import followup
    from tui_desk.ui.compose import ComposeScreen
    from tui_desk.ui.outbox import OutboxScreen
    try:
        from tests.ui_support import until
    except ImportError:
        from ui_support import until
    make_app, sink = demo
    app = make_app(undo_seconds=600)  # still in the outbox when c is pressed
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await until(pilot, lambda: app.background is not None and bool(app.queue.ids))
        desk = app.desk
        ids = await desk.queue_ids("tag:wants-dark-mode")
        done = await followup.run(desk, await followup.plan(desk, ids, "feature-shipped"))  # type: ignore[arg-type]
        carrier = done.queued[0][0].conv_id
        await pilot.press("O")
        await until(pilot, lambda: isinstance(app.screen, OutboxScreen) and len(app.screen.entries) == len(done.queued))
        assert app.screen.entries[0].conv_id == carrier
        await pilot.press("c")
        await until(pilot, lambda: any("follow-up mail to" in str(n.message) for n in app._notifications))
        [said] = [str(n.message) for n in app._notifications if "follow-up mail to" in str(n.message)]
        assert "no draft kept" in said and "run the follow-up again" in said, said
        await until(pilot, lambda: isinstance(app.screen, OutboxScreen) and len(app.screen.entries) == len(done.queued) - 1)
        await pilot.pause(0.1)
        assert not isinstance(app.screen, ComposeScreen)
        assert await desk.draft(carrier) is None
        assert sink.received == []
