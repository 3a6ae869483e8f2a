"""Replying from the TUI: the compose screen over a REAL Desk on the demo store, with the demo's
SMTP sink (aiosmtpd on loopback) receiving what the outbox sends. One snapshot over the stand-in
desk (fixed clock, fixed snippets)."""

from __future__ import annotations

import json
import email
import time
from email import policy


from tui_desk.desk.snippets import bundled_dir
from tui_desk.store import outbox
from tui_desk.ui.app import DeskApp
from tui_desk.ui.compose import ComposeScreen
from tui_desk.ui.help import HelpScreen
from tui_desk.ui.outbox import OutboxScreen
from tui_desk.ui.triage import ActionPrompt

try:
    from tests.ui_fake_desk import FIXED_NOW, FIXED_SNIPPETS, FakeDesk, settle
    from tests.ui_support import open_attachments, started, type_text, until
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_desk import FIXED_NOW, FIXED_SNIPPETS, FakeDesk, settle
    from ui_support import open_attachments, started, type_text, until

SIZE = (120, 40)


async def compose_open(app: DeskApp, pilot) -> ComposeScreen:
    await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
    await pilot.pause(0.05)
    return app.screen  # type: ignore[return-value]


def notices(app: DeskApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def note_text(screen: ComposeScreen) -> str:
    return str(screen.query_one("#compose-note").render())


def fills_text(screen: ComposeScreen) -> str:
    return str(screen.query_one("#compose-fills").render())


async def test_reply_goes_to_the_smtp_sink_and_shows_in_the_thread(demo):
    make_app, sink = demo
    app = make_app(undo_seconds=1)
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        await pilot.press("enter")  # open it: the thread should show the reply afterwards
        await until(pilot, lambda: app.conversation_pane.conversation is not None)
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        assert screen.conv.id == first
        to = str(screen.query_one("#compose-to").render())
        assert "@" in to
        await type_text(pilot, "Hi {{customer_first_name}}, refunded today.")
        await until(pilot, lambda: '{{customer_first_name}} = "' in fills_text(screen))
        shown = fills_text(screen).split('{{customer_first_name}} = "', 1)[1].split('"', 1)[0]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        assert any("u to undo" in n and n.startswith("Sending to ") for n in notices(app))
        await until(pilot, lambda: len(sink.received) == 1, timeout=15)
        sent = email.message_from_bytes(sink.received[0], policy=policy.default)
        assert "refunded today" in sent.get_body(("plain",)).get_content()
        assert f"Hi {shown}, refunded today." in sent.get_body(("plain",)).get_content()  # as the Fills line said
        assert "{{" not in sent.get_body(("plain",)).get_content()
        assert sent["To"] and sent["To"].addresses[0].addr_spec in to
        assert await app.desk.draft(first) is None  # a sent reply leaves no draft behind

        def thread_has_reply() -> bool:
            conv = app.conversation_pane.conversation
            return conv is not None and any(
                m.from_agent and any("refunded today" in b.text for b in m.blocks) for m in conv.messages
            )

        await until(pilot, thread_has_reply, timeout=15)


async def test_undo_within_the_window_sends_nothing_and_reopens_the_draft(demo):
    make_app, sink = demo
    app = make_app(undo_seconds=10)
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        await pilot.press("r")
        await compose_open(app, pilot)
        await type_text(pilot, "Thanks, looking into it.")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        assert len(await outbox.items(app.desk.store)) == 1
        await pilot.press("u")
        screen = await compose_open(app, pilot)  # back with the text
        assert screen.conv.id == first
        assert screen.body.text == "Thanks, looking into it."
        assert f"Reply to #{first} cancelled: back in the draft" in notices(app)
        assert await outbox.items(app.desk.store) == []
        passes = app.background.delivery_passes
        await until(pilot, lambda: app.background.delivery_passes > passes + 1)  # a whole round after it
        assert sink.received == []


async def test_unknown_placeholder_is_shown_before_sending_and_compose_stays(demo):
    make_app, sink = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        await type_text(pilot, "Hi {{customer_first_name}}, your {{order_numbr}} is on its way.")
        await until(pilot, lambda: "the send waits" in fills_text(screen))
        fills = fills_text(screen)
        assert "{{order_numbr}} unknown, nothing fills it: the send waits until it is replaced" in fills
        assert '{{customer_first_name}} = "' in fills
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "order_numbr" in note_text(screen))
        # why it has none, and what to do (the CLI's `reply --snippet` says the same line)
        assert ("fill these before sending: {{order_numbr}} (unknown, nothing fills it); write the value in "
                "its place in the text") in note_text(screen)
        assert app.screen is screen
        assert await outbox.items(app.desk.store) == []
        assert sink.received == []


async def test_the_fills_line_shows_the_measured_wait_the_customer_will_read(demo):
    """{{expected_wait}} in a reply: the Fills line shows the words that go (with the desk's zone
    when they name a time), as the desk measures them for this conversation now."""
    from tui_desk.desk.expected_wait import for_conversation
    make_app, sink = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        await type_text(pilot, "We will answer {{expected_wait}}.")
        await until(pilot, lambda: '{{expected_wait}} = "' in fills_text(screen))
        words = (await for_conversation(app.desk, first)).words
        assert fills_text(screen) == f'Fills: {{{{expected_wait}}}} = "{words}"'
        assert "{{expected_wait}} ✓" not in fills_text(screen)


async def test_draft_autosaves_while_typing_and_r_restores_it(demo):
    make_app, _ = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        await pilot.press("r")
        await compose_open(app, pilot)
        await type_text(pilot, "half written")
        assert await app.desk.draft(first) is None  # not on every key
        await pilot.pause(1.4)  # the autosave delay: in the store, so it survives a crash
        assert await app.desk.draft(first) == ("half written", False, None)
        await type_text(pilot, " answer")
        await pilot.press("escape")  # closing saves at once
        await until(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        assert (await app.desk.draft(first))[0] == "half written answer"
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        assert screen.body.text == "half written answer"
        assert note_text(screen) == "Draft restored"


async def test_slash_is_text_in_the_reply_not_a_search(demo):
    make_app, _ = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        await type_text(pilot, "a/b")
        assert screen.body.text == "a/b"
        assert app.screen is screen and app.focused is screen.body
        assert "-searching" not in app.query_one("#queue-pane").classes
        assert "search" not in {b.binding.action for b in app.active_bindings.values()}  # nor in its footer


async def test_editor_round_trip(demo, tmp_path, monkeypatch):
    make_app, _ = demo
    script = tmp_path / "editor.sh"
    script.write_text('#!/bin/sh\necho "Added in the editor." >> "$1"\n')
    script.chmod(0o755)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(script))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        await type_text(pilot, "Written here.\n")
        await pilot.press("ctrl+e")
        await until(pilot, lambda: "Added in the editor." in screen.body.text)
        assert screen.body.text == "Written here.\nAdded in the editor.\n"
        assert app.screen is screen and app.focused is screen.body
        await until(pilot, lambda: bool(app.desk) and screen._saved_body == screen.body.text)
        assert (await app.desk.draft(first))[0] == "Written here.\nAdded in the editor.\n"


async def test_snippet_by_name_and_send_later(demo):
    make_app, sink = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        await pilot.press("R")
        screen = await compose_open(app, pilot)
        assert screen.reply_all
        await type_text(pilot, "::more-info ")
        assert screen.body.text.startswith("Hi {{customer_first_name}},\n\nThanks for getting in touch.")
        assert "::more-info" not in screen.body.text
        await until(pilot, lambda: '{{agent_name}} = "' in fills_text(screen))
        fills = fills_text(screen)
        assert '{{customer_first_name}} = "' in fills and f'{{{{agent_name}}}} = "{app.desk.config.agent}"' in fills
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, ActionPrompt))
        await type_text(pilot, "2h")
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, (ActionPrompt, ComposeScreen)))
        assert any(n.startswith("Will send to ") for n in notices(app))
        [item] = await outbox.items(app.desk.store)
        assert item.conv_id == first and item.state == "queued"
        assert abs(item.send_at - (time.time() + 7200)) < 120
        assert sink.received == []
        # the reply records the snippet it used (reports: per snippet), shown once it is sent
        row = await app.desk.store.fetchone("SELECT data_json FROM events WHERE kind = 'reply' AND outbox_id = ?",
                                            (item.id,))
        assert [s["name"] for s in json.loads(row["data_json"])["snippets"]] == ["more-info"]


async def test_send_later_prompt_has_its_own_presets_and_wording(demo):
    make_app, sink = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await pilot.press("r")
        await compose_open(app, pilot)
        await type_text(pilot, "Soon.")
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, ActionPrompt))
        prompt = app.screen
        assert [value for _, value in prompt.choices] == ["in 1 hour", "tomorrow 9:00", "Monday 9:00"]
        shown = " ".join([prompt.text_input.placeholder, *map(str, prompt.hints),
                          *(str(label) for label, _ in prompt.choices)])
        assert "off" not in shown.split() and "reply" not in shown and "wake" not in shown
        await type_text(pilot, "off")
        def note() -> str:
            return str(prompt.query_one("#prompt-note").render())

        assert "wake" not in note()
        await pilot.press("enter")
        await until(pilot, lambda: "needs a time" in note())
        assert "until reply" not in note() and isinstance(app.screen, ActionPrompt)
        assert await outbox.items(app.desk.store) == []


async def test_outbox_view_shows_a_queued_reply_and_cancels_it_back_to_the_draft(demo):
    make_app, sink = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        await app.desk.reply(first, "Out tomorrow.", False, "tomorrow 9:00")
        await pilot.press("O")
        await until(pilot, lambda: isinstance(app.screen, OutboxScreen) and bool(app.screen.entries))
        screen = app.screen
        [entry] = screen.entries
        assert entry.conv_id == first and entry.state == "queued"
        label = str(screen.query_one("#outbox-list").get_option_at_index(0).prompt)
        # who gets it and when it goes (a scheduled reply is not just "queued")
        # the customer's name, cut with … when the row needs the room
        name = entry.customer if entry.customer in label else entry.customer[:8]
        assert label.startswith(f"#{first} {name}") and " sends " in label, label
        assert label.rstrip().endswith(" 9:00")
        await pilot.press("c")  # back to the draft: the compose screen opens on it, focused
        compose = await compose_open(app, pilot)
        assert compose.conv.id == first and compose.body.text == "Out tomorrow."
        assert app.focused is compose.body
        assert (await app.desk.draft(first))[0] == "Out tomorrow."
        assert await app.desk.outbox() == []
        await type_text(pilot, " Or not.")
        assert compose.body.text.endswith("Or not.")
        await pilot.press("escape")  # keeps the draft; the queue has the keys again
        await until(pilot, lambda: app.screen is app.screen_stack[0])
        assert app.focused is app.queue
        await pilot.press("j")
        assert app.queue.cursor == 1
        assert sink.received == []


async def test_n_in_the_outbox_sends_a_scheduled_reply_now(demo):
    make_app, sink = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        await app.desk.reply(first, "Out tomorrow.", False, "tomorrow 9:00")
        await pilot.press("O")
        await until(pilot, lambda: isinstance(app.screen, OutboxScreen) and bool(app.screen.entries))
        screen = app.screen
        assert "n send now" in screen.query_one("#prompt").border_subtitle
        await pilot.press("n")
        await until(pilot, lambda: len(sink.received) == 1)  # the background's next pass sends it
        assert any("now" in n for n in notices(app))
        assert isinstance(app.screen, OutboxScreen)
        outbox_keys = dict(dict(app.help_sections())["Outbox"])
        assert "scheduled reply" in outbox_keys["n"]


async def test_closing_the_outbox_gives_the_keys_back_to_the_queue(demo):
    make_app, sink = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await pilot.press("O")
        await until(pilot, lambda: isinstance(app.screen, OutboxScreen))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.screen_stack[0])
        assert app.focused is app.queue


async def test_help_and_palette_list_the_reply_keys():
    app = DeskApp(FakeDesk(5), clock=lambda: FIXED_NOW, theme="tui-desk-dark", theme_dirs=[bundled_dir("themes")])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        sections = dict(app.help_sections())
        reply = dict(sections["Reply: the current row (or the open one)"])
        assert set(reply) >= {"r", "R", "O", "u"}
        compose = dict(sections["Compose"])
        assert {"Ctrl+s", "Ctrl+l", "Ctrl+e", "Ctrl+o", "Esc", "::name"} <= set(compose)
        titles = {c.title for c in app._palette_commands()}
        assert {"Reply: Reply", "Reply: Reply all"} <= titles
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)


# --- snapshot over the stand-in desk -----------------------------------------------------------


def test_small_compose_screen(snap_compare):
    desk = FakeDesk(40, snippet_list=FIXED_SNIPPETS)
    desk.drafts[1] = ("Hi {{customer_first_name}},\n\nI have refunded the second charge ({{refund_id}}).\n", False,
                      None)
    app = DeskApp(desk, clock=lambda: FIXED_NOW, theme="tui-desk-dark", theme_dirs=[bundled_dir("themes")])

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        pilot.app.screen.query_one("#compose-body").cursor_blink = False
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_snippet_picker_inserts_at_the_cursor_and_unknown_names_are_said():
    desk = FakeDesk(5, snippet_list=FIXED_SNIPPETS)
    app = DeskApp(desk, clock=lambda: FIXED_NOW, theme="tui-desk-dark", theme_dirs=[bundled_dir("themes")])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ComposeScreen)
        await type_text(pilot, "::nope ")
        assert "No snippet ::nope" in note_text(screen)
        assert screen.body.text == "::nope "
        await pilot.press(*["backspace"] * 7)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, ActionPrompt)
        await pilot.press("enter")  # the first one
        await settle(pilot)
        assert app.screen is screen and app.focused is screen.body
        first = next(iter(screen.snippets.values()))  # the picker lists them in this order
        assert screen.body.text == first.body.rstrip("\n")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert desk.replies == [(1, first.body.rstrip("\n"), False, None)]
        assert app.main.pending_send is not None and not isinstance(app.screen, ComposeScreen)


async def test_snippet_picker_filters_as_you_type_and_enter_inserts_the_highlighted_one(demo):
    make_app, sink = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, ActionPrompt))
        prompt = app.screen
        everything = len(prompt.choices)
        await type_text(pilot, "logged")
        names = [value.name for _, value in prompt.choices]
        assert names[0] == "bug-logged" and len(names) < everything  # the best match first, the rest gone
        assert prompt.choice_list.option_count == len(names) and prompt.choice_list.highlighted == 0
        await pilot.press("down")  # moving keeps the filter
        assert prompt.text_input.value == "logged" and prompt.choice_list.highlighted == min(1, len(names) - 1)
        await pilot.press("up", "enter")
        await until(pilot, lambda: app.screen is screen)
        assert screen.body.text.startswith("Hi {{customer_first_name}},\n\nThank you for the clear report")
        assert "Inserted ::bug-logged" in note_text(screen) and app.focused is screen.body
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, ActionPrompt))
        await type_text(pilot, "zzzz")
        assert app.screen.choices == []
        await pilot.press("enter")
        assert "No snippet" in str(app.screen.query_one("#prompt-note").render())


async def test_n_adds_an_internal_note_with_a_completed_mention_styled_as_internal(demo):
    from tui_desk.ui.conversation import MessageBox
    from tui_desk.ui.note import NoteScreen, mention_name
    make_app, sink = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        await pilot.press("enter")
        await until(pilot, lambda: app.conversation_pane.conversation is not None)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NoteScreen))
        me = mention_name(app.desk.agent)
        await type_text(pilot, f"Refund approved; ping @{me[:2].swapcase()}")  # any case finds the name
        assert f"@{me}" in str(app.screen.query_one("#prompt-note").render())
        await pilot.press("tab")  # completes the teammate's name
        assert app.screen.body.text.endswith(f"@{me} ")
        await type_text(pilot, " please")  # the space typed out of habit does not make two
        await until(pilot, lambda: app.screen.body.text.endswith(f"@{me} please"))
        assert f"@{me}  please" not in app.screen.body.text
        await pilot.press("escape")  # text would be lost: asks once more
        assert isinstance(app.screen, NoteScreen)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, NoteScreen))

        def note_box():
            return next((b for b in app.query(MessageBox) if b.message.is_note), None)

        await until(pilot, lambda: note_box() is not None)
        box = note_box()
        assert box.has_class("-note") and not box.has_class("-agent")
        assert "INTERNAL NOTE" in str(box.query_one(".message--sender").render())
        text = box.query_one(".message--text").render()
        assert f"@{me}" in str(text)
        # never sent, never a reply: nothing reached the SMTP sink, nothing in the outbox
        assert sink.received == [] and await app.desk.outbox() == []
        conv = await app.desk.conversation(first)
        assert conv.messages[-1].is_note and conv.status == "open"


async def test_a_notes_markdown_is_rendered_and_mail_stays_literal(demo):
    from tui_desk.ui.conversation import MessageBox
    make_app, sink = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        await app.desk.add_note(first, "# Plan\n\n**Refund** approved by *Ops*, see `RMA-7` and "
                                       "[the policy](https://x.test/p).\n\n- ask @bob\n- [bold]no markup[/bold]\n\n"
                                       "1. first\n2. second\n")
        app.main.open_conversation(first)
        await until(pilot, lambda: any(b.message.is_note for b in app.query(MessageBox)))
        await pilot.pause()
        boxes = list(app.query(MessageBox))
        [note] = [b for b in boxes if b.message.is_note]
        content = note.query_one(".message--text").render()
        shown = content.plain
        assert shown.splitlines() == [
            "Plan", "", "Refund approved by Ops, see RMA-7 and the policy (https://x.test/p).", "",
            "• ask @bob", "• [bold]no markup[/bold]", "", "1. first", "2. second"]

        def styled(word: str) -> set[str]:
            at = shown.index(word)
            return {str(span.style) for span in content.spans if span.start <= at and at + len(word) <= span.end}

        assert any("bold" in s for s in styled("Refund")) and any("italic" in s for s in styled("Ops"))
        assert any("bold" in s for s in styled("Plan")) and any("underline" in s for s in styled("the policy"))
        assert styled("@bob") and not styled("approved")
        for box in boxes:  # mail is shown as it came: never read as Markdown
            if not box.message.is_note:
                texts = [b.text.strip("\n") for b in box.message.blocks if not b.quoted and b.text.strip()]
                assert [str(w.render()) for w in box.query(".message--text")] == texts


async def test_f_forwards_with_an_attachment_typed_with_path_completion(demo, tmp_path):
    make_app, sink = demo
    app = make_app(undo_seconds=1)
    report = tmp_path / "logs" / "server-report.txt"
    report.parent.mkdir()
    report.write_text("error 42 at 10:01\n")
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        # the customer's mail came as a reply to a forward: the forward's subject drops both
        for table, key in (("messages", "conv_id"), ("conversations", "id")):
            await app.desk.store.execute(f"UPDATE {table} SET subject = 'RE: Fwd: ' || subject WHERE {key} = ?",
                                         (first,))
        await pilot.press("f")
        screen = await compose_open(app, pilot)
        shown = str(screen.query_one("#compose-subject").render())
        assert screen.forward and shown.startswith("Subject: Fwd:") and "RE:" not in shown
        await type_text(pilot, "Eng <eng@third.test>")
        await pilot.press("enter")  # on to the body
        assert screen.focused is screen.body
        await type_text(pilot, "Please look at this one.")
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, ActionPrompt))
        await type_text(pilot, str(tmp_path / "lo"))
        await pilot.press("tab")  # completes to .../logs/
        await type_text(pilot, "se")
        await pilot.press("tab")  # .../logs/server-report.txt
        assert app.screen.text_input.value == str(report)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
        assert "server-report.txt" in str(screen.query_one("#compose-attach").render())
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        await until(pilot, lambda: len(sink.received) == 1, timeout=15)
        sent = email.message_from_bytes(sink.received[0], policy=policy.default)
        assert sent["To"].addresses[0].addr_spec == "eng@third.test" and sent["Subject"].startswith("Fwd: ")
        assert shown == f"Subject: {sent['Subject']}"  # the screen shows what is sent
        kinds = sorted(p.get_content_type() for p in sent.iter_attachments())
        assert kinds == ["message/rfc822", "text/plain"]
        assert await app.desk.draft(first) is None  # a forward keeps no reply draft
        conv = await app.desk.conversation(first)
        assert conv.status == "open", "a forward is not an answer to the customer"


async def test_s_saves_an_attachment_without_overwriting_and_o_opens_it(demo, tmp_path, monkeypatch):
    viewer_log = tmp_path / "viewer.log"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "xdg-open").write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" >> {viewer_log}\n")
    (bin_dir / "xdg-open").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    make_app, _ = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        conv = await open_attachments(app, pilot)
        screen = app.screen
        first = next(a for m in reversed(conv.messages) for a in m.attachments)
        target = tmp_path / "saved"
        target.mkdir()
        for _ in range(2):  # the second save must not replace the first
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, ActionPrompt))
            assert app.screen.text_input.value.endswith("/")  # the download folder, filled in
            app.screen.text_input.value = str(target)
            await pilot.press("enter")
            await until(pilot, lambda: app.screen is screen)
        saved = sorted(p.name for p in target.iterdir())
        assert len(saved) == 2 and all(p.stat().st_size == first.size for p in target.iterdir())
        assert any("(1)" in name for name in saved)
        await pilot.press("o")
        await until(pilot, lambda: "opening" in str(screen.query_one("#prompt-note").render()))
        await until(pilot, lambda: viewer_log.exists() and viewer_log.read_text().strip() != "", timeout=10)
        [opened] = viewer_log.read_text().splitlines()
        assert __import__("pathlib").Path(opened).read_bytes() == (target / saved[0]).read_bytes()


async def test_M_merges_the_selected_conversations_and_u_undoes_it(demo):
    from tui_desk.ui.popups import ConfirmScreen
    make_app, _ = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        before = await app.desk.threads()
        second = app.queue.ids[1]
        await pilot.press("space", "space")  # the first two rows; the cursor moves on to the third
        await pilot.press("M")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        asked = str(app.screen.query_one("#confirm-text").render())  # two customers: asked, naming them
        assert asked.startswith(f"#{first} (") and f"join #{first}" in asked and "are different customers" in asked
        await pilot.press("y")
        await until(pilot, lambda: second not in app.queue.ids)
        merged = await app.desk.threads()
        assert second not in merged and set(merged[first]) == set(before[first]) | set(before[second])
        await pilot.press("u")
        await until(pilot, lambda: second in app.queue.ids)
        assert await app.desk.threads() == before


async def test_the_customers_other_conversations_show_under_the_thread_and_h_opens_one(demo):
    make_app, _ = demo
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        desk = app.desk
        ids = await desk.queue_ids()
        conv = next(c for c in [await desk.conversation(i) for i in ids[:200]] if c.history)
        app.main.open_conversation(conv.id)
        await until(pilot, lambda: app.conversation_pane.conversation is not None
                    and app.conversation_pane.conversation.id == conv.id)
        shown = app.query(".thread--history")
        assert shown and f"#{conv.history[0].id}" in str(shown.first().render())
        app.conversation_pane.thread.focus()  # h on the conversation read, not the queue's cursor row
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, ActionPrompt))
        await pilot.press("enter")  # the first (newest) one
        target = conv.history[0].id
        await until(pilot, lambda: app.conversation_pane.conversation is not None
                    and app.conversation_pane.conversation.id == target)


async def test_a_conversation_opens_at_its_newest_message_not_at_the_history_below(demo):
    from tui_desk.ui.conversation import MessageBox
    make_app, _ = demo
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        desk = app.desk
        ids = await desk.queue_ids()
        convs = [c for c in [await desk.conversation(i) for i in ids[:200]] if c.history and len(c.messages) > 1]
        for conv in convs[:6]:
            app.main.open_conversation(conv.id)
            await until(pilot, lambda: app.conversation_pane.conversation is not None
                        and app.conversation_pane.conversation.id == conv.id)
            await pilot.pause()
            thread = app.conversation_pane.thread
            newest = list(thread.query(MessageBox))[-1]
            await until(pilot, lambda: newest.region.height > 0)

            def placed() -> bool:  # the scroll to the newest lands after a layout pass, later under load
                view, box = thread.content_region, newest.region
                if box.height <= view.height:  # all of it on screen
                    return view.y <= box.y and box.bottom <= view.bottom
                return box.y == view.y  # from its header down
            try:
                await until(pilot, placed, timeout=5.0)
            except AssertionError:
                raise AssertionError((conv.id, newest.region, thread.content_region)) from None


async def test_closed_conversations_are_not_overdue_in_the_queue_status_line_or_reasons(demo):
    from tui_desk.ui.popups import ReasonsScreen
    make_app, _ = demo
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        closed = [name for name, _ in app.main.views].index("Closed")
        await pilot.press(str(closed + 1))
        await until(pilot, lambda: app.main.view_index == closed and bool(app.queue.ids)
                    and app.queue.row(app.queue.ids[0]) is not None)
        await pilot.pause()
        queue = app.queue
        rows = [queue.row(i) for i in queue.ids[:5]]
        assert rows and all(r.status == "closed" for r in rows)
        for line in range(0, 10, 2):  # two lines a row at 80 columns: the marker starts the first
            assert queue.render_line(line).text[0] == " ", queue.render_line(line).text
        status = str(app.query_one("#status").render())
        assert "closed: nobody is waiting" in status and "target" not in status
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, ReasonsScreen))
        said = str(app.screen.query_one("#reasons-text").render())
        assert "nobody is waiting" in said and "over the" not in said and "overdue" not in said


async def test_the_compose_header_is_what_the_desk_will_send(demo):
    """To follows Reply-To, and the subject carries Re: once and the [#N] marker, as sent."""
    make_app, sink = demo
    app = make_app(undo_seconds=1)
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        to, cc, subject = await app.desk.reply_preview(first)
        await pilot.press("r")
        screen = await compose_open(app, pilot)
        assert str(screen.query_one("#compose-to").render()) == f"To: {to}"
        assert str(screen.query_one("#compose-subject").render()) == f"Subject: {subject}"
        assert f"[#{first}]" in subject and subject.startswith("Re: ") and not subject.startswith("Re: Re:")
        await type_text(pilot, "Done.")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(sink.received) == 1, timeout=15)
        sent = email.message_from_bytes(sink.received[0], policy=policy.default)
        assert sent["Subject"] == subject and str(sent["To"]) == to


async def test_help_says_the_configured_undo_window(demo):
    from tui_desk.ui.help import HelpScreen
    make_app, _ = demo
    app = make_app(undo_seconds=3)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = str(app.screen.query_one("#help-text").render())
        assert "Undo a send while it waits (3 s)" in text and "(10 s)" not in text
