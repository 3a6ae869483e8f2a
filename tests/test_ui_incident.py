"""The app's incident key (I): start one from the search and the selection, see it named in
the queue's title, resolve it only after saying yes (it mails customers)."""

from __future__ import annotations

import dataclasses

from textual.widgets import Input, Static

from tui_desk.ui.followup import IncidentResolveConfirm
from tui_desk.ui.triage import ActionPrompt

try:
    from tests.ui_fake_desk import FakeDesk, settle
    from tests.ui_support import make_app, plain_text
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_desk import FakeDesk, settle
    from ui_support import make_app, plain_text

WIDE = (160, 40)


def title(app) -> str:
    return str(app.query_one("#queue-pane").border_title)


async def test_incident_key_starts_from_search_and_selection_then_resolves_after_asking():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        await pilot.press("I")  # nothing to start it from
        await settle(pilot)
        assert not isinstance(app.screen, ActionPrompt) and desk.actions == []
        await pilot.press("slash", *"charged", "enter")
        await settle(pilot)
        await pilot.press("space")  # the first result joins the incident now
        await settle(pilot)
        selected = app.queue.selected_ids
        assert len(selected) == 1
        await pilot.press("I")
        await settle(pilot)
        assert isinstance(app.screen, ActionPrompt)
        assert app.screen.title_text == "Start an incident: new mail matching charged · 1 selected"
        assert app.screen.hints == []  # a search: new mail matching it joins
        await pilot.press(*"Payments failing", "enter")
        await settle(pilot)
        assert desk.actions[0] == ("start_incident", "Payments failing", "charged", selected)
        assert ("tag", selected, ["incident", "incident-payments-failing"], []) in desk.actions
        assert title(app) == "Queue · ⚠ incident: Payments failing"
        assert app.main.last_action == "incident 'Payments failing' started"
        await pilot.press("I")  # one active: resolving asks first, listing who gets what
        await settle(pilot)
        assert isinstance(app.screen, IncidentResolveConfirm)
        (cid,) = selected
        addr = desk._row(cid).customer_addr
        assert str(app.screen.query_one("#prompt").border_title) == (
            "Resolve incident 'Payments failing': 'incident-fixed' to 1 customer (1 conversation)")
        assert [plain_text(line) for line in app.screen.query("#followup-lines Static").results(Static)] == [
            f"{addr}  #{cid}  Re: [#{cid}] {desk._row(cid).subject}"]
        await pilot.press("escape")
        await settle(pilot)
        assert ("resolve_incident", "payments-failing") not in desk.actions
        assert title(app).endswith("incident: Payments failing")
        await pilot.press("I", "y")
        await settle(pilot)
        assert desk.actions[-1] == ("resolve_incident", "payments-failing")
        assert title(app) == "Queue"
        assert app.main.last_action == "incident 'Payments failing' resolved: 'incident-fixed' goes to 1 customer (1 conversation)"


async def test_the_incident_key_is_text_in_a_box():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("slash", "I")
        await settle(pilot)
        assert app.screen.focused is not None and isinstance(app.screen.focused, Input)
        assert app.screen.focused.value == "I" and not isinstance(app.screen, ActionPrompt)


async def test_the_resolve_confirm_lists_one_line_per_customer():
    """Two conversations of one customer: one line, the newest open one carrying the mail,
    the other named as answered by it (like F's follow-up preview)."""
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        first, second, other = app.queue.ids[:3]
        addr = desk._row(first).customer_addr
        row_of = desk._row  # the second conversation is the first one's customer asking again
        desk._row = lambda cid: dataclasses.replace(row_of(cid), customer_addr=addr) if cid == second else row_of(cid)
        theirs = sorted([first, second])
        await desk.start_incident("Payments failing", "", [*theirs, other])
        await pilot.press("I")
        await settle(pilot)
        assert isinstance(app.screen, IncidentResolveConfirm)
        n = len(theirs)
        assert str(app.screen.query_one("#prompt").border_title) == (
            f"Resolve incident 'Payments failing': 'incident-fixed' to 2 customers ({n + 1} conversations)")
        lines = [plain_text(line) for line in app.screen.query("#followup-lines Static").results(Static)]
        assert len(lines) == 2, lines
        mine = next(line for line in lines if line.startswith(addr + "  #"))
        carrier = max(theirs, key=lambda c: (desk._row(c).status == "open", desk._row(c).last_date, c))
        covered = ", ".join(f"#{c}" for c in theirs if c != carrier)
        assert mine.startswith(f"{addr}  #{carrier}  ") and mine.endswith(f"(also answers {covered}: a note there)")
        await pilot.press("escape")
        await settle(pilot)
        assert ("resolve_incident", "payments-failing") not in desk.actions


async def test_the_resolve_question_is_read_whole_at_80x24():
    # The detail is longer than the box is wide at 80 columns: it wraps inside the box, it is
    # never cut at the border ("... (O cancels within t").
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"charged", "enter")
        await settle(pilot)
        await pilot.press("I", *"Payments failing", "enter")
        await settle(pilot)
        await pilot.press("I")
        await settle(pilot)
        assert isinstance(app.screen, IncidentResolveConfirm)
        lines = [strip.text for strip in app.screen._compositor.render_strips()]
        words = " ".join(" ".join(line.replace("│", " ").split()) for line in lines)
        assert "(O cancels within the undo window)" in words, "\n".join(lines)
        assert "y / Enter resolve for the team" in words


async def test_an_incident_from_a_selection_alone_says_new_mail_will_not_join():
    # No search: the incident's match is empty, so only the selected conversations are in it;
    # the prompt says so, whole at 80x24 (a hint wraps inside the box; a title would be cut).
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        await pilot.press("space", "I")
        await settle(pilot)
        assert isinstance(app.screen, ActionPrompt)
        assert app.screen.title_text == "Start an incident: 1 selected"
        box = app.screen.query_one("#prompt").region  # the box alone: the queue shows around it
        lines = [strip.crop(box.x, box.right).text for strip in app.screen._compositor.render_strips()[box.y:box.bottom]]
        words = " ".join(" ".join(line.replace("│", " ").split()) for line in lines)
        assert ("No search: only the selected conversations, new mail will not join "
                "(Esc, then / to search for its mail first)") in words, "\n".join(lines)
        await pilot.press(*"Payments failing", "enter")
        await settle(pilot)
        assert desk.actions[0] == ("start_incident", "Payments failing", "", [app.queue.ids[0]])


async def test_an_incident_from_a_search_alone_says_how_to_attach_its_conversations():
    # A search and no selection: the conversations found now are not in the incident (README:
    # the selection joins now, the search catches new mail), so they would get no 'fixed' mail;
    # the prompt says so and how to select them, whole at 80x24.
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        await pilot.press("slash", *"charged", "enter")
        await settle(pilot)
        found = len(app.queue.ids)
        assert found >= 1 and not app.queue.selected_ids
        await pilot.press("I")
        await settle(pilot)
        assert isinstance(app.screen, ActionPrompt)
        assert app.screen.title_text == "Start an incident: new mail matching charged"
        box = app.screen.query_one("#prompt").region
        lines = [strip.crop(box.x, box.right).text for strip in app.screen._compositor.render_strips()[box.y:box.bottom]]
        words = " ".join(" ".join(line.replace("│", " ").split()) for line in lines)
        s = "s" if found != 1 else ""
        assert (f"Nothing selected: the {found} conversation{s} found now will not join (no 'fixed' mail for "
                "them); Esc, then * selects them all, space one by one") in words, "\n".join(lines)
        await pilot.press(*"Payments failing", "enter")
        await settle(pilot)
        assert desk.actions[0] == ("start_incident", "Payments failing", "charged", [])
