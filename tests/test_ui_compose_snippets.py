"""The compose box and its snippets over a REAL Desk on the demo store (ui_support.demo_apps):
auto-only snippets stay out of every agent's picker; the snippets a reply used are recorded
however it goes (at once, undone and sent again, from a draft); whatever fills the body reaches
the screen sanitized, and what is sent is what was shown."""

from __future__ import annotations

import json

import pytest
from textual import events

from tui_desk.sanitize import BIDI_MARKER
from tui_desk.store import outbox
from tui_desk.ui.app import DeskApp
from tui_desk.ui.compose import ComposeScreen
from tui_desk.ui.triage import ActionPrompt

try:
    from tests.ui_support import started, type_text, until
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_support import started, type_text, until

SIZE = (120, 40)
AUTO_ONLY = ("auto-ack", "csat", "incident-ack", "incident-fixed")
HOSTILE = "Hi,\n\n\x1b]0;owned\x07\x1b[31mred\x1b[0m and \u202eevil\u202c here.\n"


@pytest.fixture(autouse=True)
def _our_snippets(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))  # the bundled snippets, and ours below
    folder = tmp_path / "xdg" / "tui-desk" / "snippets"
    folder.mkdir(parents=True)
    (folder / "hostile.md").write_text("---\ntitle: Hostile\n---\n" + HOSTILE, encoding="utf-8")


async def compose_open(app: DeskApp, pilot) -> ComposeScreen:
    await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
    await pilot.pause(0.05)
    return app.screen  # type: ignore[return-value]


def note_text(screen: ComposeScreen) -> str:
    return str(screen.query_one("#compose-note").render())


async def reply_snippets(app: DeskApp, outbox_id: int) -> list[str]:
    """The snippet names the reply's history event records."""
    row = await app.desk.store.fetchone("SELECT data_json FROM events WHERE kind = 'reply' AND outbox_id = ?",
                                        (outbox_id,))
    assert row is not None
    return [s["name"] for s in json.loads(row["data_json"])["snippets"]]


async def sent_from_compose(app: DeskApp, pilot) -> outbox.OutboxItem:
    await pilot.press("ctrl+s")
    await until(pilot, lambda: not isinstance(app.screen, ComposeScreen))
    [item] = await outbox.items(app.desk.store)
    return item


# --- 1. auto-only snippets stay out of the agents' pickers ---------------------------------------

async def test_compose_pickers_leave_auto_only_snippets_out_and_refuse_them_by_name(demo):
    make_app, _ = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        assert {s.name for s in app.desk.snippets() if s.auto} >= set(AUTO_ONLY)  # there to leave out
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, ActionPrompt))
        listed = {s.name for _, s in app.screen.choices}  # type: ignore[attr-defined]
        assert "more-info" in listed and not listed & set(AUTO_ONLY), listed
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        await type_text(pilot, "::")
        shown = note_text(screen)
        assert shown.startswith("snippets: ::account-locked") and "::auto-ack" not in shown, shown
        await type_text(pilot, "auto")
        assert note_text(screen) == "snippets: none match"
        await type_text(pilot, "-ack ")
        assert screen.body.text == "::auto-ack "  # not inserted ...
        assert "only for mail the desk sends by itself" in note_text(screen)  # ... and said why
        assert screen.snippets_used == []


async def test_the_follow_up_picker_leaves_auto_only_snippets_out_and_refuses_them(demo):
    make_app, _ = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await pilot.press("F")
        await until(pilot, lambda: isinstance(app.screen, ActionPrompt))
        prompt = app.screen
        listed = {name for _, name in prompt.choices}  # type: ignore[attr-defined]
        assert "thanks-feedback" in listed and not listed & set(AUTO_ONLY), listed
        await type_text(pilot, "csat")
        await pilot.press("enter")
        await until(pilot, lambda: "only for mail the desk sends by itself" in
                    str(prompt.query_one("#prompt-note").render()))
        assert app.screen is prompt  # no dry run of it


async def test_the_snippet_pane_leaves_auto_only_snippets_out(demo):
    make_app, _ = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        pane = app.snippet_pane
        await until(pilot, lambda: bool(pane.all_snippets))
        names = {s.name for s in pane.all_snippets}
        assert "more-info" in names and not names & set(AUTO_ONLY), names


# --- 2. the snippet record survives undo and drafts ----------------------------------------------

async def test_an_undone_send_sent_again_records_its_snippet(demo):
    make_app, _ = demo
    app = make_app(undo_seconds=600)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await pilot.press("r")
        await compose_open(app, pilot)
        await type_text(pilot, "::more-info ")
        first = await sent_from_compose(app, pilot)
        assert await reply_snippets(app, first.id) == ["more-info"]  # the direct path
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen) and app.screen.conv.id == first.conv_id)
        await compose_open(app, pilot)
        again = await sent_from_compose(app, pilot)
        assert again.message_id != first.message_id  # a new send (the outbox may reuse the number)
        assert await reply_snippets(app, again.id) == ["more-info"]


async def test_a_draft_sent_later_records_its_snippet_and_a_deleted_one_does_not_count(demo):
    make_app, _ = demo
    app = make_app(undo_seconds=600)
    async with app.run_test(size=SIZE) as pilot:
        conv_id = await started(app, pilot)
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        await type_text(pilot, "::more-info ")
        await pilot.press("escape")  # the draft is kept
        await until(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        assert "Thanks for getting in touch" in (await app.desk.draft(conv_id))[0]
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        assert screen.snippets_used == ["more-info"]
        item = await sent_from_compose(app, pilot)
        assert await reply_snippets(app, item.id) == ["more-info"]
        await app.desk.cancel_send(item.id)
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        screen.body.load_text("Hi, one question: which app version is it?\n")  # the snippet's text deleted
        item = await sent_from_compose(app, pilot)
        assert await reply_snippets(app, item.id) == []


# --- 3. whatever fills the body reaches the screen sanitized ------------------------------------

async def test_a_snippet_a_draft_and_a_paste_fill_the_body_sanitized_and_that_is_what_is_sent(demo):
    make_app, _ = demo
    app = make_app(undo_seconds=600)
    async with app.run_test(size=SIZE) as pilot:
        conv_id = await started(app, pilot)
        await app.desk.save_draft(conv_id, "Draft \x1b[2Jcleared\x9b31m\n")
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        assert screen.body.text == "Draft cleared\n"
        await pilot.press("ctrl+end")
        await type_text(pilot, "::hostile ")
        text = screen.body.text
        assert "\x1b" not in text and "\u202e" not in text
        assert f"red and {BIDI_MARKER}evil{BIDI_MARKER} here." in text
        screen.body.post_message(events.Paste("pasted \x1b]8;;https://evil.example\x07link\x1b]8;;\x07\r\n"))
        await until(pilot, lambda: "pasted link" in screen.body.text)
        shown = screen.body.text
        assert not any(c in shown for c in "\x1b\x07\r\u202e\u202c\x9b"), repr(shown)
        assert screen.snippets_used == ["hostile"]
        item = await sent_from_compose(app, pilot)
        assert item.body_markdown == shown  # what goes is what was shown
