"""The conversation pane shows the agent's sent reply as the customer saw it (rendered), as plain
text: a REAL Desk on the demo store, its SMTP sink receiving what the outbox sends."""

from __future__ import annotations

from textual.widgets import Static

from tui_desk.sanitize import BIDI_MARKER
from tui_desk.ui.app import DeskApp
from tui_desk.ui.conversation import MessageBox

try:
    from tests.ui_support import until
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_support import until

SIZE = (120, 40)
REPLY = ("Hi {{customer_first_name}},\n\nwe **refunded** it:\n\n- [the receipt](https://shop.example/r/7)\n"
         "- run `shop status`\n\n[red]x[/red] [link=https://evil.example]y[/link] \x1b[31mred\x1b[0m \u202eevil\u202c\n")


def reply_box(app: DeskApp) -> MessageBox | None:
    boxes = [b for b in app.query(MessageBox) if b.message.from_agent and "refunded" in
             "".join(t.text for t in b.message.blocks)]
    return boxes[-1] if boxes else None


async def test_the_sent_reply_shows_rendered_as_plain_text(demo):
    make_app, sink = demo
    app = make_app(undo_seconds=1)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.background is not None and bool(app.queue.ids))
        first = app.queue.ids[0]
        await pilot.press("enter")
        await until(pilot, lambda: app.conversation_pane.conversation is not None)
        first_name = app.conversation_pane.conversation.customer.split()[0]  # the demo's customers have names
        await app.desk.reply(first, REPLY)
        await until(pilot, lambda: len(sink.received) == 1, timeout=15)
        await until(pilot, lambda: reply_box(app) is not None, timeout=15)
        await pilot.pause()
        box = reply_box(app)
        assert box is not None and box.has_class("-agent")
        [text] = [s for s in box.query(".message--text").results(Static)]
        content = text.render()
        lines = content.plain.splitlines()
        assert lines == [
            f"Hi {first_name},", "", "we refunded it:", "", "- the receipt <https://shop.example/r/7>", "- run shop status", "",
            "[red]x[/red] [link=https://evil.example]y[/link] red " + BIDI_MARKER + "evil" + BIDI_MARKER]
        assert list(content.spans) == []  # plain text: nothing in it became a style or a link
