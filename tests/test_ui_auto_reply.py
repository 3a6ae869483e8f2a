"""A message that was an automatic reply (Auto-Submitted: the desk's acknowledgement, a
customer's out-of-office) says so in its header line in the conversation pane, and in
`tui-desk show`'s text, as `show --json` says auto_submitted. Over a real Desk on the demo store:
the acknowledgement goes through the outbox to the demo's SMTP sink and comes back as mail."""

from __future__ import annotations

from textual.widgets import Static

from tui_desk.desk.render import conversation_text
from tui_desk.desk.replies import queue_autoreply
from tui_desk.ui.conversation import MessageBox

try:
    from tests.ui_support import plain_text, started, until
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_support import plain_text, started, until

SIZE = (80, 24)


async def test_an_automatic_reply_says_auto_reply_in_its_header(demo):
    make_app, sink = demo
    app = make_app(undo_seconds=0)
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        before = len((await app.desk.conversation(first)).messages)
        await queue_autoreply(app.desk, first, "We got your mail and answer soon.", message_id="ack-1@demo.test",
                              event={"rule": "acknowledge"})

        async def arrived() -> bool:
            conv = await app.desk.conversation(first)
            return conv is not None and len(conv.messages) > before

        for _ in range(200):  # the background's next pass sends it; it is in the conversation then
            if await arrived():
                break
            await pilot.pause(0.1)
        conv = await app.desk.conversation(first)
        [ack] = [m for m in conv.messages if m.auto_submitted]
        assert ack.from_agent
        await pilot.press("enter")  # open the first conversation
        await until(pilot, lambda: any(b.message.id == ack.id for b in app.query(MessageBox)))
        await pilot.pause(0.2)
        headers = {b.message.id: plain_text(b.query_one(".message--sender", Static)) for b in app.query(MessageBox)}
        assert "auto-reply" in headers[ack.id]
        assert all("auto-reply" not in h for mid, h in headers.items() if mid != ack.id)
        lines = conversation_text(conv).splitlines()
        [line] = [line for line in lines if line.startswith("── ") and "auto-reply" in line]
        assert line.startswith("── agent · auto-reply: ")
