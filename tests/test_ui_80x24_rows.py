"""80 columns, found by a new user's tryout: a queue row gives no room to a state marker it then
shows as a bare "…" (the subject keeps those cells), a name is not cut while its row has room
beside it, and the conversation header says its SLA one way for as long as the conversation is
open (it went from "breached 19h 54m" to "⚠19h54m" and back as tags came and went). The same in a
real terminal: tests/e2e/test_shift_80x24_polish.py."""

from __future__ import annotations

import dataclasses

from rich.cells import cell_len

from tui_desk.ui.queue_columns import ELLIPSIS, columns_for, share
from ui_fake_data import first_response
from ui_fake_desk import FIXED_NOW, FakeDesk, settle
from ui_support import THEME_DIRS

SMALL = (80, 24)


def make_app_with(desk):
    from tui_desk.ui.app import DeskApp
    return DeskApp(desk, clock=lambda: FIXED_NOW, theme="tui-desk-dark", theme_dirs=THEME_DIRS)


def test_a_marker_cut_to_a_bare_ellipsis_leaves_its_room_to_the_subject():
    breach, owner = "⚠17h41m", "@Alice"
    # 20 cells: the markers may take 9 (the subject keeps 10), and "⚠17h41m …" said nothing of
    # the owner for the subject's 2 cells; it keeps them now
    assert share(20, (breach, owner)) == (20 - cell_len(breach) - 1, breach)
    assert share(21, (breach, owner)) == (10, f"{breach} @{ELLIPSIS}")  # one cell of it shows: cut
    # room for some of it: cut, with the ellipsis
    subject, state = share(40, (breach, owner, "✎draft", "z Fri 9:00"))
    assert state.startswith(f"{breach} {owner} ") and cell_len(state) == 40 - subject - 1
    assert not state.endswith(" " + ELLIPSIS)
    assert share(60, (breach, owner)) == (60 - cell_len(f"{breach} {owner}") - 1, f"{breach} {owner}")
    assert share(30, ()) == (30, "")
    assert share(8, (breach,)) == (8, "")  # not even the breach: the subject has the column


class LongNames(FakeDesk):
    """Two rows with a long name: one with a short subject (room beside the name), one without."""

    async def queue_rows(self, ids):
        rows = await super().queue_rows(ids)
        names = {1: ("Elizabeth O'Brien-Smythe", "Refund"),
                 2: ("Elizabeth O'Brien-Smythe", "Cannot log in to my account since the update last week")}
        return [dataclasses.replace(r, customer=names[r.id][0], subject=names[r.id][1], tags=(), sla=None)
                if r.id in names else r for r in rows]


async def test_a_name_takes_the_room_its_row_leaves_beside_it():
    app = make_app_with(LongNames(40))
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("w")  # the queue alone: one row a conversation at 80 columns
        await settle(pilot)
        queue = app.queue
        width = queue.scrollable_content_region.width
        assert columns_for(width).lines_per_row == 1
        assert columns_for(width).customer < cell_len("Elizabeth O'Brien-Smythe")
        lines = {queue.ids[y]: queue.render_line(y).text for y in range(4)}
        assert "Elizabeth O'Brien-Smythe Refund" in lines[1], lines[1]
        # no room beside it: cut at its column, the subjects of the list in one column
        cut = lines[2]
        assert "Elizabeth O'Brien-Smythe" not in cut and ELLIPSIS in cut, cut
        assert cut.index("Cannot") == 2 + columns_for(width).customer + 1  # where every subject starts


async def test_the_header_says_the_sla_one_way_while_the_conversation_is_open():
    from tui_desk.ui.conversation import ConversationPane

    app = make_app_with(FakeDesk(40))
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        pane: ConversationPane = app.conversation_pane
        conv = dataclasses.replace(pane.conversation, tags=(), assignee=None,
                                   sla=first_response("breached", -(19 * 60 + 54)))

        def meta() -> str:
            return str(pane.query_one("#conv-meta").render())

        def sla_shown() -> str:
            return next(part for part in meta().split(" · ") if "19h" in part)

        await pane.show(conv)
        await settle(pilot)
        first = sla_shown()
        assert first == "breached 19h 54m", meta()  # the line has room for it beside the customer
        for changed in (dataclasses.replace(conv, tags=("billing", "refund", "wants-dark-mode")),
                        dataclasses.replace(conv, assignee="Alice Martin"),
                        dataclasses.replace(conv, tags=("billing",), assignee="Alice Martin"),
                        conv):
            await pane.show(changed, keep_place=True)
            await settle(pilot)
            assert sla_shown() == first, (first, meta())
        # a teammate starts replying: the line leads with it, and the state goes short to read
        # whole beside it; once the reply is done it stays so (no switching back and forth)
        await pane.show(dataclasses.replace(conv, replying=("Bob Okafor",)), keep_place=True)
        await settle(pilot)
        assert meta().startswith("✎ Bob Okafor is replying · open · ⚠19h54m"), meta()
        await pane.show(conv, keep_place=True)
        await settle(pilot)
        assert sla_shown() == "⚠19h54m", meta()
        await pane.show(dataclasses.replace(conv, id=conv.id + 1))  # another one is measured afresh
        await settle(pilot)
        assert sla_shown() == first, meta()
