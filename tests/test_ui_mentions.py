"""Mentions in the app, over the stand-in desk: a teammate's note mentioning the agent is a
notice (plain text, said once; many at once are a few and one line), and the Mentions view is
a saved view like the others. The real desk's side: tests/test_mentions.py."""

from __future__ import annotations

from tui_desk.desk.views import MentionAlert
from tui_desk.ui.app import DeskApp

try:
    from tests.ui_fake_desk import FIXED_NOW, FakeDesk, settle
    from tests.ui_support import THEME_DIRS
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_desk import FIXED_NOW, FakeDesk, settle
    from ui_support import THEME_DIRS

SMALL = (80, 24)


def app_with(desk: FakeDesk) -> DeskApp:
    return DeskApp(desk, clock=lambda: FIXED_NOW, theme="tui-desk-dark", theme_dirs=THEME_DIRS)


def mentions_said(app: DeskApp) -> list[str]:
    return [n.message for n in app._notifications if n.title == "Mention"]


async def test_a_mention_is_a_plain_text_notice_said_once():
    desk = FakeDesk(20)
    app = app_with(desk)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert mentions_said(app) == []
        text = "Chen Wei mentioned you on #3: [bold]see[/bold] the $10 refund"  # a note's words: not markup
        desk.mention_alerts = [MentionAlert(3, "Chen Wei", text)]
        await app.main.look_at_mentions().wait()
        await settle(pilot)
        assert mentions_said(app) == [text]
        await app.main.look_at_mentions().wait()
        await settle(pilot)
        assert mentions_said(app) == [text]


async def test_many_mentions_at_once_are_three_notices_and_one_line():
    desk = FakeDesk(20)
    app = app_with(desk)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        desk.mention_alerts = [MentionAlert(i, "Bob", f"Bob mentioned you on #{i}: look") for i in range(1, 6)]
        await app.main.look_at_mentions().wait()
        await settle(pilot)
        assert mentions_said(app) == ["Bob mentioned you on #1: look", "Bob mentioned you on #2: look",
                                      "Bob mentioned you on #3: look",
                                      "2 more mentions of you: the Mentions view lists them"]


async def test_the_mentions_view_is_a_saved_view():
    app = app_with(FakeDesk(20))
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert ("Mentions", "mentions:me") in app.main.views
        await pilot.press(str(app.main.views.index(("Mentions", "mentions:me")) + 1))
        await settle(pilot)
        assert str(app.query_one("#queue-pane").border_title) == "Mentions"
        assert app.queue.ids == []  # no note mentions alice in the stand-in's mail


async def test_the_mentions_view_marks_the_unseen_ones_until_opened():
    desk = FakeDesk(20)
    desk.mentioned = {3, 5, 7}
    desk.opened = {5}  # seen already
    app = app_with(desk)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        key = str(app.main.views.index(("Mentions", "mentions:me")) + 1)
        await pilot.press(key)
        await settle(pilot)
        assert app.queue.ids == [3, 7, 5]  # unseen first

        def markers() -> dict[int, str]:
            per = app.queue._lines_per_row
            return {cid: app.queue.render_line(n * per).text[:1] for n, cid in enumerate(app.queue.ids)}

        assert markers() == {3: "@", 7: "@", 5: markers()[5]} and markers()[5] != "@", markers()
        await pilot.press("enter")  # #3 opened: its mention is seen
        await settle(pilot)
        await pilot.press(key)  # the view again
        await settle(pilot)
        assert app.queue.ids == [7, 3, 5] and markers()[7] == "@", markers()
        assert markers()[3] != "@" and markers()[5] != "@", markers()
