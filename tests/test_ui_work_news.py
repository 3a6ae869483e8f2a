"""Work that comes to me in the app, over the stand-in desk: an assignment by a teammate and a
customer's reply to mine are plain-text notices, said once; many at once are a few and one line.
The real desk's side: tests/test_work_news.py."""

from __future__ import annotations

from tui_desk.desk.views import WorkAlert
from tui_desk.ui.app import DeskApp

try:
    from tests.ui_fake_desk import FIXED_NOW, FakeDesk, settle
    from tests.ui_support import THEME_DIRS
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_desk import FIXED_NOW, FakeDesk, settle
    from ui_support import THEME_DIRS

SMALL = (80, 24)
TITLES = ("Assigned to you", "Customer replied", "Your work")


def work_said(app: DeskApp) -> list[tuple[str, str]]:
    return [(n.title, n.message) for n in app._notifications if n.title in TITLES]


async def test_an_assignment_and_a_customers_reply_are_plain_text_notices_said_once():
    desk = FakeDesk(20)
    app = DeskApp(desk, clock=lambda: FIXED_NOW, theme="tui-desk-dark", theme_dirs=THEME_DIRS)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert work_said(app) == []
        assigned = "Alice Martin assigned #2 to you: [bold]refund[/bold]"  # a subject's words: not markup
        replied = "Ann Lee replied on #3 (assigned to you): Login loop"
        desk.work_alerts = [WorkAlert(2, "assigned", "Alice Martin", assigned),
                            WorkAlert(3, "replied", "Ann Lee", replied)]
        await app.main.look_at_mentions().wait()
        await settle(pilot)
        assert work_said(app) == [("Assigned to you", assigned), ("Customer replied", replied)]
        await app.main.look_at_mentions().wait()
        await settle(pilot)
        assert len(work_said(app)) == 2

        desk.work_alerts = [WorkAlert(i, "assigned", "Bob", f"Bob assigned #{i} to you: x") for i in range(4, 9)]
        await app.main.look_at_mentions().wait()
        await settle(pilot)
        assert work_said(app)[2:] == [("Assigned to you", f"Bob assigned #{i} to you: x") for i in (4, 5, 6)] + [
            ("Your work", "2 more conversations assigned to you or answered by a customer: the Mine view lists them")]


async def test_another_app_on_the_store_is_said_in_the_app():
    desk = FakeDesk(20)
    desk.shared_store_line = ("another tui-desk (pid 4242) has this store open: drafts and replies in progress "
                              "are shared; each agent should have their own store, README 'Working as a team'")
    app = DeskApp(desk, clock=lambda: FIXED_NOW, theme="tui-desk-dark", theme_dirs=THEME_DIRS)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert [(n.title, n.message) for n in app._notifications if n.title == "Shared store"] == [
            ("Shared store", desk.shared_store_line)]
    alone = DeskApp(FakeDesk(20), clock=lambda: FIXED_NOW, theme="tui-desk-dark", theme_dirs=THEME_DIRS)
    async with alone.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert [n for n in alone._notifications if n.title == "Shared store"] == []
