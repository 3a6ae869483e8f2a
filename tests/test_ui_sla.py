"""SLA in the app (issue 16), driven with Pilot over the stand-in desk given SLAs: L orders the
list by SLA, the Breaching view and `sla:` searches, and a notice once per change."""

from __future__ import annotations

from tui_desk.desk.sla import Sla
from tui_desk.ui.app import DeskApp
from tui_desk.ui.queue import QueueView

try:
    from tests.ui_fake_data import first_response
    from tests.ui_fake_desk import FIXED_NOW, FakeDesk, settle
    from tests.ui_support import THEME_DIRS
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_data import first_response
    from ui_fake_desk import FIXED_NOW, FakeDesk, settle
    from ui_support import THEME_DIRS

SMALL = (80, 24)


def slas() -> dict[int, Sla]:
    # #3 breached 10 min ago, #5 two hours ago, #8 due in 20 min, #10 in 3 h; the rest: none
    return {3: first_response("breached", -10), 5: first_response("breached", -120),
            8: first_response("warning", 20), 10: first_response("ok", 180)}


def app_with(desk: FakeDesk) -> DeskApp:
    return DeskApp(desk, clock=lambda: FIXED_NOW, theme="tui-desk-dark", theme_dirs=THEME_DIRS)


def lines(queue: QueueView) -> list[str]:
    return [queue.render_line(y).text for y in range(queue.scrollable_content_region.height)]


async def test_L_orders_the_queue_by_sla_and_back_and_the_title_says_so():
    app = app_with(FakeDesk(40, slas=slas()))
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        pane = app.query_one("#queue-pane")
        before = list(app.queue.ids)
        assert before[:3] == [1, 2, 3] and str(pane.border_title) == "Queue"
        await pilot.press("L")
        await settle(pilot)
        ids = app.queue.ids
        assert ids[:4] == [5, 3, 8, 10]  # most over first, then by due time
        assert ids[4:] == [i for i in before if i not in (3, 5, 8, 10)]  # the rest in priority order
        assert str(pane.border_title) == "Queue · by SLA"
        shown = lines(app.queue)
        # two lines a row: the second ends with the target due first (a narrow row's short form)
        assert [shown[y].split()[-2:] for y in (1, 3, 5)][2] == ["due", "20m"]
        assert [shown[y].split()[-1] for y in (1, 3)] == ["⚠2h", "⚠10m"]
        await pilot.press("enter")  # its header names the target, as the row's marker
        await settle(pilot)
        assert app.conversation_pane.conversation.id == 5  # L put the cursor on the top row
        meta = str(app.conversation_pane.query_one("#conv-meta").render())
        assert "· first response breached 2h ·" in meta
        await pilot.press("escape", "L")
        await settle(pilot)
        assert app.queue.ids == before and str(pane.border_title) == "Queue"
        # one key table: ? help and the palette list it
        helped = [d for _, rows in app.help_sections() for k, d in rows if k == "L"]
        assert helped == ["Order the list by SLA (breached first, then the target due next); again: as before"]
        assert "Triage: SLA order" in [c.title for c in app._palette_commands()]


async def test_the_breaching_view_and_sla_searches():
    desk = FakeDesk(40, slas=slas())
    app = app_with(desk)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert app.main.views[7] == ("Breaching", "sla:soon")  # key 8 (Mentions comes after it)
        await pilot.press("8")
        await settle(pilot)
        pane = app.query_one("#queue-pane")
        assert str(pane.border_title) == "Breaching"
        assert app.queue.ids == [3, 5, 8]  # a view: in priority order
        await pilot.press("L")
        await settle(pilot)
        assert app.queue.ids == [5, 3, 8] and str(pane.border_title) == "Breaching · by SLA"
        await pilot.press("slash", *"sla:breached", "enter")
        await settle(pilot)
        assert desk.queries[-1] == "sla:soon sla:breached"
        assert app.queue.ids == [5, 3]
        await pilot.press("escape", "1", "slash", *"sla:warning", "enter")
        await settle(pilot)
        assert app.queue.ids == [8]


async def test_a_target_turning_warning_or_breached_is_said_once_with_its_subject():
    desk = FakeDesk(40, slas=slas())
    app = app_with(desk)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)  # the app's first look took note of what was already late: no notice
        assert not [n for n in app._notifications if n.title == "SLA"]
        [row] = await desk.queue_rows([10])
        desk.slas = {**desk.slas, 10: first_response("warning", 25)}  # the clock moved on
        await app.main.look_at_sla().wait()
        await settle(pilot)
        notices = [n for n in app._notifications if n.title == "SLA"]
        assert [(n.message, n.severity) for n in notices] == [
            (f"SLA: first response for '{row.subject}' due in 25m", "warning")]
        await app.main.look_at_sla().wait()  # nothing changed: nothing more is said
        desk.slas = {**desk.slas, 10: first_response("breached", -1)}
        await app.main.look_at_sla().wait()
        await settle(pilot)
        notices = [n for n in app._notifications if n.title == "SLA"]
        assert [(n.message, n.severity) for n in notices][1:] == [
            (f"SLA: first response for '{row.subject}' breached 1m ago", "error")]


async def test_many_changes_at_once_are_a_few_notices_and_one_line_for_the_rest():
    desk = FakeDesk(40, slas={i: first_response("ok", 60) for i in range(11, 19)})
    app = app_with(desk)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        desk.slas = {i: first_response("warning", 10) for i in range(11, 19)}
        await app.main.look_at_sla().wait()
        await settle(pilot)
        notices = [n.message for n in app._notifications if n.title == "SLA"]
        assert len(notices) == 4 and all(" due in 10m" in n for n in notices[:3])
        assert notices[3] == "SLA: 5 more conversations warning or breached: the Breaching view lists them"


async def test_without_sla_targets_there_is_no_breaching_view_and_L_says_so_and_changes_nothing():
    desk = FakeDesk(40)
    app = app_with(desk)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await settle(pilot)
        before = list(app.queue.ids)
        assert "Breaching" not in [name for name, _ in app.main.views]
        await pilot.press("L")
        await settle(pilot)
        assert app.queue.ids == before and not app.main.sla_order
        assert str(app.query_one("#queue-pane").border_title) == "Queue"  # no "by SLA" that orders nothing
        assert [n.message for n in app._notifications] == ["No SLA targets: set [sla] in config.toml"]


async def test_the_sla_marker_survives_a_row_and_a_header_too_narrow_for_every_marker():
    # An assignee and a draft beside a breach: the queue row and the header cut their markers
    # from the end, so the breach comes first and the draft's marker goes before it does.
    desk = FakeDesk(40, slas=slas())
    await desk.assign([5], "Maximiliane Longname")
    desk.drafts[5] = ("Half-written answer", False, None)
    app = app_with(desk)
    async with app.run_test(size=(180, 40)) as pilot:  # the row's subject column holds part of its markers
        await settle(pilot)
        await pilot.press("L")  # #5 on top: breached 2h
        await settle(pilot)
        assert app.queue.ids[0] == 5
        row = lines(app.queue)[0]
        assert "⚠2h @Maximiliane ✎…" in row, row  # the draft's marker is what is cut
    async with app_with(desk).run_test(size=SMALL) as pilot:
        app = pilot.app
        await settle(pilot)
        await pilot.press("L", "enter")
        await settle(pilot)
        meta = str(app.conversation_pane.query_one("#conv-meta").render())
        assert "· breached 2h · @Maximiliane · ✎draft" in meta, meta
