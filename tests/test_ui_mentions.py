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
