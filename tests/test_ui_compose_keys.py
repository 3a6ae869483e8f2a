"""The compose box as a keyboard user expects it (a new-user tryout at 80x24): Tab completes
``::name`` and never takes the focus away from the body, Ctrl+D throws the draft away (u brings it
back), Ctrl+A selects the body, a long subject ends in "…", and a teammate replying too is a
line in the box for as long as it holds, beside the outbox's line."""

from __future__ import annotations

import pytest

from tui_desk.ui.app import DeskApp
from tui_desk.ui.compose import ComposeScreen

try:
    from tests.ui_support import burst, make_app, screen_lines, started, type_text, until
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_support import burst, make_app, screen_lines, started, type_text, until

SMALL = (80, 24)


@pytest.fixture(autouse=True)
def _bundled_snippets_only(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))  # the bundled snippets only


async def compose_open(app: DeskApp, pilot) -> ComposeScreen:
    await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
    await pilot.pause(0.05)
    return app.screen  # type: ignore[return-value]


def shown(screen: ComposeScreen, selector: str) -> str:
    widget = screen.query_one(selector)
    return str(widget.render()) if widget.display else ""


# --- 1. Tab -----------------------------------------------------------------------------------------

async def test_tab_completes_a_snippet_name_and_a_unique_one_is_inserted(demo):
    make_app_, _ = demo
    app = make_app_()
    async with app.run_test(size=SMALL) as pilot:
        await started(app, pilot)
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        feature = {s.name: s for s in app.desk.snippets()}
        assert {"feature-request", "feature-shipped"} <= set(feature)  # two that share "feature-"
        await type_text(pilot, "Hi,\n::feat")
        await pilot.press("tab")
        assert screen.body.text == "Hi,\n::feature-"  # as far as they agree
        assert app.focused is screen.body
        assert "::feature-request" in shown(screen, "#compose-note") and "::feature-shipped" in shown(
            screen, "#compose-note")
        await type_text(pilot, "s")
        await pilot.press("tab")  # one left: inserted, as "::feature-shipped " would
        assert screen.body.text == "Hi,\n" + feature["feature-shipped"].body.rstrip("\n")
        assert "Inserted ::feature-shipped" in shown(screen, "#compose-note")
        assert app.focused is screen.body


async def test_tab_elsewhere_indents_and_the_next_key_lands_in_the_body():
    app = make_app(12)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: bool(app.queue.ids))
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        await type_text(pilot, "- one\n")
        await pilot.press("tab")
        await type_text(pilot, "- two")
        assert screen.body.text == "- one\n    - two"
        assert app.focused is screen.body
        await pilot.press("shift+tab")  # a reply has nothing above the body to go back to
        await type_text(pilot, "!")
        assert screen.body.text == "- one\n    - two!" and app.focused is screen.body


async def test_in_a_forward_shift_tab_goes_back_to_the_to_line_and_tab_to_the_body():
    app = make_app(12)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: bool(app.queue.ids))
        await pilot.press("f")
        screen = await compose_open(app, pilot)
        to = screen.query_one("#compose-to-input")
        assert app.focused is to
        await type_text(pilot, "bo@example.com")
        await pilot.press("tab")
        assert app.focused is screen.body
        await type_text(pilot, "FYI")
        await pilot.press("shift+tab")
        assert app.focused is to
        await type_text(pilot, ",")
        assert to.value == "bo@example.com," and screen.body.text == "FYI"


async def test_tab_after_an_unknown_prefix_says_so_and_keeps_the_text():
    app = make_app(12)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: bool(app.queue.ids))
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        await type_text(pilot, "::zzz")
        await pilot.press("tab")
        assert screen.body.text == "::zzz" and app.focused is screen.body
        assert "No snippet starts with ::zzz" in shown(screen, "#compose-note")


async def test_tab_completes_a_snippet_name_after_other_text_on_the_line(demo):
    # the tryout: "Thanks! ::fe" + Tab put spaces in, silently; a ::name token completes wherever
    # it stands before the cursor, at the line's start or after whitespace
    make_app_, _ = demo
    app = make_app_()
    async with app.run_test(size=SMALL) as pilot:
        await started(app, pilot)
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        shipped = next(s for s in app.desk.snippets() if s.name == "feature-shipped").body.rstrip("\n")
        await type_text(pilot, "Thanks! ::feat")
        assert "::feature-request ::feature-shipped" in shown(screen, "#compose-note")  # the hint there too
        await pilot.press("tab")
        assert screen.body.text == "Thanks! ::feature-"  # as far as they agree
        await type_text(pilot, "s")
        await pilot.press("tab")
        assert screen.body.text == "Thanks! " + shipped
        assert "Inserted ::feature-shipped" in shown(screen, "#compose-note")
        await type_text(pilot, "\nSee ::zzz")
        await pilot.press("tab")  # nothing matches: said in one line, the text kept, no indent
        assert screen.body.text.endswith("\nSee ::zzz")
        assert "No snippet starts with ::zzz" in shown(screen, "#compose-note")
        await type_text(pilot, " C::fe")  # not a token: "::" inside a word; Tab indents there
        await pilot.press("tab")
        assert screen.body.text.endswith("\nSee ::zzz C::fe ")


# --- 2. discarding a draft ---------------------------------------------------------------------------

async def test_ctrl_d_discards_the_draft_the_marker_goes_and_u_brings_it_back():
    app = make_app(12)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: bool(app.queue.ids))
        first = app.queue.ids[0]
        app.desk.drafts[first] = ("Half a thought", False, None)  # kept with Esc earlier
        app.main.reload_shown()
        await until(pilot, lambda: app.queue.row(first).has_draft)
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        assert screen.body.text == "Half a thought"
        await type_text(pilot, " and more")  # not saved yet: the discard still takes it, undo gives it back
        await pilot.press("ctrl+d")
        await until(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        await until(pilot, lambda: ("discard_draft", first) in app.desk.actions)
        assert first not in app.desk.drafts
        await until(pilot, lambda: any(f"discarded the draft of #{first}  (u undoes)" in str(n.message)
                                       for n in app._notifications))
        await until(pilot, lambda: not app.queue.row(first).has_draft)  # the ✎draft marker went
        await pilot.press("u")
        await until(pilot, lambda: app.desk.drafts.get(first, ("",))[0] == "Half a thought and more")
        await until(pilot, lambda: app.queue.row(first).has_draft)


async def test_ctrl_a_selects_the_whole_body():
    app = make_app(12)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: bool(app.queue.ids))
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        await type_text(pilot, "one\ntwo")
        await pilot.press("ctrl+a")
        assert screen.body.selected_text == "one\ntwo"
        await pilot.press("backspace")
        assert screen.body.text == ""


async def test_keys_typed_right_behind_ctrl_a_backspace_are_kept():
    # the tryout: "One two" reached the customer as "Onetwo". A bound key (Ctrl+A, Backspace)
    # acted only once it had bubbled up to the app; the characters right behind it were typed
    # at once, into the selection, and deleted with it
    app = make_app(12)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: bool(app.queue.ids))
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        await type_text(pilot, "Old text")
        burst(app, "ctrl+a", "backspace", "O", "n", "e", "space", "t", "w", "o")
        await pilot.pause(0.2)
        assert screen.body.text == "One two"


async def test_a_key_typed_right_behind_an_arrow_lands_where_the_arrow_moved_the_cursor():
    app = make_app(12)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: bool(app.queue.ids))
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        await type_text(pilot, "Onetwo")
        burst(app, "left", "left", "left", "space", "end", "s")  # the space went to the end: "Onetwo s"
        await pilot.pause(0.2)
        assert screen.body.text == "One twos"


async def test_the_palette_in_the_compose_offers_its_keys():
    app = make_app(12)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: bool(app.queue.ids))
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        titles = [c.title for c in app.get_system_commands(screen)]
        assert "Compose: Discard" in titles and "Compose: Send" in titles, titles
        assert "Reply: Reply" not in titles  # the main view's, not this screen's
        assert any(row == ("Ctrl+d", "Discard the draft and close (u undoes)")
                   for _, rows in app.help_sections() for row in rows)


# --- 3. a long subject --------------------------------------------------------------------------------

async def test_a_long_subject_ends_in_an_ellipsis_at_80_columns():
    app = make_app(12)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: bool(app.queue.ids))
        long = "Re: Cannot export the quarterly report to PDF after the update, and the CSV export too"

        async def preview(conv_id: int, reply_all: bool = False) -> tuple[str, str, str]:
            return "ann@example.com", "", long

        app.desk.reply_preview = preview  # type: ignore[method-assign]
        await pilot.press("r")
        await compose_open(app, pilot)
        [line] = [s.text for s in screen_lines(app) if "Subject:" in s.text]
        assert line.rstrip(" │").endswith("…"), line
        assert "Re: Cannot export the quarterly report" in line


# --- 4. a teammate replying too -------------------------------------------------------------------

async def test_a_teammate_replying_is_a_line_for_as_long_as_it_holds_beside_the_outbox_line():
    app = make_app(12)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: bool(app.queue.ids))
        first = app.queue.ids[0]
        app.desk.others_replying_now[first] = ("Alice Martin",)
        await app.desk.reply(first, "Out tomorrow.", False, "tomorrow 9:00")
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        assert shown(screen, "#compose-replying") == "Alice Martin is replying to this conversation too"
        assert shown(screen, "#compose-outbox").startswith(f"a reply to #{first} is scheduled for ")
        assert not any("replying" in str(n.message) for n in app._notifications)  # a line, not a toast
        await type_text(pilot, "::")  # the note line changes; these stay
        assert shown(screen, "#compose-replying") == "Alice Martin is replying to this conversation too"
        app.desk.others_replying_now[first] = ("Alice Martin", "Bob")
        await screen.recheck_replying()
        assert shown(screen, "#compose-replying") == "Alice Martin and Bob are replying to this conversation too"
        del app.desk.others_replying_now[first]  # they closed theirs
        await screen.recheck_replying()
        assert shown(screen, "#compose-replying") == ""
        assert shown(screen, "#compose-outbox").startswith(f"a reply to #{first} is scheduled for ")
