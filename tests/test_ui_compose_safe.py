"""Replying is safe: keys typed right after Ctrl+S are not the mail's (they go to the queue),
nothing an agent wrote is lost when a reply comes back to the draft, and a second reply to a
conversation whose reply waits in the outbox is never written unknowingly."""

from __future__ import annotations

from tui_desk.ui.compose import ComposeScreen
from tui_desk.ui.outbox import OutboxScreen

try:
    from tests.ui_support import burst, make_app, started, type_text, until
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_support import burst, make_app, started, type_text, until

SIZE = (120, 40)


async def compose_open(app, pilot) -> ComposeScreen:
    await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
    await pilot.pause(0.05)
    return app.screen  # type: ignore[return-value]


async def test_keys_right_after_ctrl_s_go_to_the_queue_not_into_the_mail():
    app = make_app(12)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: bool(app.queue.ids))
        first = app.queue.ids[0]
        await pilot.press("r")
        await compose_open(app, pilot)
        await type_text(pilot, "Fixed now")
        burst(app, "ctrl+s", "c")  # send, then close the conversation
        await until(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        await until(pilot, lambda: ("status", [first], "closed") in app.desk.actions)
        assert [body for _, body, _, _ in app.desk.replies] == ["Fixed now"]
        # closing with the reply still in its undo window asks nothing, but says it still goes
        await until(pilot, lambda: any(str(n.message).startswith("closed 1 conversation; its reply still goes ")
                                       and "(O cancels it)" in str(n.message) for n in app._notifications))


async def test_a_burst_through_the_compose_screen_sends_what_was_typed_before_ctrl_s():
    app = make_app(12)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: bool(app.queue.ids))
        first = app.queue.ids[0]
        burst(app, "r", "O", "k", "space", "t", "h", "a", "n", "k", "s", "ctrl+s", "c", "j")
        await until(pilot, lambda: ("status", [first], "closed") in app.desk.actions)
        assert not isinstance(app.screen, ComposeScreen)
        assert [body for _, body, _, _ in app.desk.replies] == ["Ok thanks"]


def outbox_line(screen: ComposeScreen) -> str:
    shown = screen.query_one("#compose-outbox")
    return str(shown.render()) if shown.display else ""


async def test_r_while_a_reply_waits_says_so_for_as_long_as_the_compose_is_open(demo):
    make_app, sink = demo
    app = make_app(undo_seconds=60)
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        assert outbox_line(screen) == ""  # nothing waits: no line
        await type_text(pilot, "REPLY A")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        line = outbox_line(screen)
        assert line.startswith(f"a reply to #{first} is waiting to be sent at ") and line.endswith(
            "(u undoes; O shows it)"), line
        await type_text(pilot, "::")  # the snippet hints take the note line; this one stays
        assert outbox_line(screen) == line
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        assert sink.received == []


async def test_r_on_a_conversation_with_a_scheduled_reply_says_when_it_goes(demo):
    make_app, sink = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        await app.desk.reply(first, "Out tomorrow.", False, "tomorrow 9:00")
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        line = outbox_line(screen)
        assert line.startswith(f"a reply to #{first} is scheduled for ") and "09:00" in line, line
        assert line.endswith("(O shows it)")


async def test_u_after_a_new_draft_brings_the_reply_back_with_the_draft_kept_below(demo):
    """The tryout's data loss: REPLY A sent, DRAFT B written and kept with Esc, then u."""
    make_app, sink = demo
    app = make_app(undo_seconds=60)
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        await pilot.press("r")
        await compose_open(app, pilot)
        await type_text(pilot, "REPLY A")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        await pilot.press("r")
        await compose_open(app, pilot)
        await type_text(pilot, "MY NEW DRAFT")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        await pilot.press("u")
        screen = await compose_open(app, pilot)
        text = screen.body.text
        assert text.startswith("REPLY A\n\n──────── your draft of ") and text.endswith(
            ", kept below ────────\n\nMY NEW DRAFT"), text
        assert "your draft of " in outbox_line(screen) and outbox_line(screen).endswith("is kept below it")
        assert (await app.desk.draft(first))[0] == text
        assert await app.desk.outbox() == []
        # both never go: Ctrl+S is refused until the agent has chosen; keys behind it stay in the body
        burst(app, "ctrl+s", "x")
        await until(pilot, lambda: "still holds a draft kept below it" in str(screen.query_one("#compose-note").render()))
        await until(pilot, lambda: screen.body.text.endswith("MY NEW DRAFTx"))
        assert isinstance(app.screen, ComposeScreen) and await app.desk.outbox() == []


async def test_c_in_the_outbox_keeps_the_draft_and_enter_reads_a_reply_first(demo):
    make_app, sink = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        await app.desk.reply(first, "Out **tomorrow**.", False, "tomorrow 9:00")
        await pilot.press("r")
        await compose_open(app, pilot)
        await type_text(pilot, "MY NEW DRAFT")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        await pilot.press("O")
        await until(pilot, lambda: isinstance(app.screen, OutboxScreen) and bool(app.screen.entries))
        outbox_screen = app.screen
        shown = outbox_screen.query_one("#outbox-text")
        assert not shown.display
        await pilot.press("enter")  # read what will go: as the customer gets it
        await until(pilot, lambda: shown.display)
        text = str(outbox_screen.query_one("#outbox-body").render())
        assert text.startswith("To: ") and text.endswith("\n\nOut tomorrow.")
        await pilot.press("enter")
        assert not shown.display
        await pilot.press("c")
        screen = await compose_open(app, pilot)
        assert screen.body.text.startswith("Out **tomorrow**.\n\n──────── your draft of ")
        assert screen.body.text.endswith("MY NEW DRAFT")
        assert outbox_line(screen).endswith("is kept below it")
