"""`u` while a reply can still be cancelled: it takes the reply back first (Gmail's Undo on the
send toast always means the send), whatever was done to the queue since; once the reply went it
says when, and only then does `u` walk the undo stack, naming each conversation. `s` on a
retrying reply in the outbox tries it at once. Over a real Desk on the demo store, its SMTP sink
receiving what the outbox sends; the desk's clock is the test's."""

from __future__ import annotations

import time


from tui_desk.store import outbox
from tui_desk.ui.compose import ComposeScreen
from tui_desk.ui.outbox import OutboxScreen

try:
    from tests.ui_support import started, type_text, until
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_support import started, type_text, until

SIZE = (120, 40)


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def send_then_close(app, pilot, text: str) -> int:
    """r, the text, Ctrl+S, then c at once (the keys after Ctrl+S act on the queue)."""
    first = await started(app, pilot)
    await pilot.press("r")
    await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
    await type_text(pilot, text)
    await pilot.press("ctrl+s", "c")
    await until(pilot, lambda: app.main.last_action.startswith("closed 1 conversation"))
    return first


async def status(app, conv_id: int) -> str:
    conv = await app.desk.conversation(conv_id)
    return conv.status


async def test_ctrl_s_c_u_takes_the_reply_back_first_and_the_close_stays(demo):
    make_app, sink = demo
    clock = Clock()
    app = make_app(undo_seconds=10, clock=clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        first = await send_then_close(app, pilot, "Refunded today.")
        # the close's notice says where u goes first
        assert notices(app)[-1].endswith(f"  (u takes back the reply to #{first} first)")
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
        assert app.screen.body.text == "Refunded today."
        assert f"Reply to #{first} cancelled: back in the draft" in notices(app)
        assert await outbox.items(app.desk.store) == []
        assert await status(app, first) == "closed"  # the close stays as it is
        await pilot.press("escape")  # the text stays in the draft
        await until(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        subject = " ".join((await app.desk.conversation(first)).subject.split())
        await pilot.press("u")  # now the close, named
        await until(pilot, lambda: app.main.last_action.startswith("undid: "))
        assert app.main.last_action.startswith(f"undid: closed 1 conversation (#{first} {subject[:20]}")
        assert await status(app, first) == "open"
        await pilot.press("u")
        await until(pilot, lambda: "Nothing to undo" in notices(app))
        clock.now += 60  # long past the window: the outbox has nothing to send
        passes = app.background.delivery_passes
        await until(pilot, lambda: app.background.delivery_passes > passes + 1)
        assert sink.received == []


async def test_u_after_the_reply_went_says_when_and_undoes_nothing_else(demo):
    make_app, sink = demo
    clock = Clock()
    app = make_app(undo_seconds=10, clock=clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        first = await send_then_close(app, pilot, "Refunded today.")
        clock.now += 11
        went = app.desk.clock_text(int(clock.now))
        await until(pilot, lambda: len(sink.received) == 1, timeout=15)
        # its notice no longer says "u to undo"
        await until(pilot, lambda: any(n.startswith("Reply sent") for n in notices(app)))
        assert not any("u to undo" in n for n in notices(app))
        await pilot.press("u")
        await until(pilot, lambda: any("has gone" in n for n in notices(app)))
        assert f"the reply to #{first} has gone (sent {went})" in notices(app)
        assert await status(app, first) == "closed"  # that u did nothing else
        await pilot.press("u")  # the next one undoes the close, named
        await until(pilot, lambda: app.main.last_action.startswith("undid: "))
        assert app.main.last_action.startswith(f"undid: closed 1 conversation (#{first} ")


async def test_an_action_after_the_reply_went_takes_u_back(demo):
    """The reply went, then the agent tags: u undoes the tag, not "has gone"."""
    make_app, sink = demo
    clock = Clock()
    app = make_app(undo_seconds=10, clock=clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await started(app, pilot)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
        await type_text(pilot, "Refunded today.")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        clock.now += 11
        await until(pilot, lambda: len(sink.received) == 1, timeout=15)
        await until(pilot, lambda: any(n.startswith("Reply sent") for n in notices(app)))
        second = app.queue.current_id
        await pilot.press("c")
        await until(pilot, lambda: app.main.last_action.startswith("closed 1 conversation"))
        assert notices(app)[-1] == app.main.last_action + "  (u undoes)"
        await pilot.press("u")
        await until(pilot, lambda: app.main.last_action.startswith("undid: "))
        assert app.main.last_action.startswith(f"undid: closed 1 conversation (#{second} ")
        assert not any("has gone" in n for n in notices(app))


async def test_u_names_the_conversation_of_an_older_action_on_another_row(demo):
    make_app, sink = demo
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        first = await started(app, pilot)
        subject = " ".join((await app.desk.conversation(first)).subject.split())
        await app.desk.assign([first], "bob")  # an older action, on the first row
        await pilot.press("down")  # the agent is on another row now
        assert app.queue.current_id != first
        await pilot.press("u")
        await until(pilot, lambda: app.main.last_action.startswith("undid: "))
        assert app.main.last_action.startswith(f"undid: assigned 1 conversation to bob (#{first} {subject[:20]}")


async def test_s_on_a_retrying_reply_tries_it_at_once(demo, monkeypatch):
    """The outbox's worker waits between passes; s wakes it (here the pause is an hour)."""
    import socket

    from tui_desk.desk import background
    monkeypatch.setattr(background, "SEND_EVERY", 3600.0)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    make_app, sink = demo
    clock = Clock()
    app = make_app(smtp_port=port, undo_seconds=0, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        outbox_id, _ = await app.desk.reply(first, "Refunded.")
        await app.background.deliver_now()  # tried once: connection refused, retrying
        item = await outbox.get(app.desk.store, outbox_id)
        assert item is not None and item.attempts == 1 and item.state == "queued"
        await pilot.press("O")
        await until(pilot, lambda: isinstance(app.screen, OutboxScreen) and bool(app.screen.entries))
        await pilot.press("s")

        async def tried() -> bool:
            got = await outbox.get(app.desk.store, outbox_id)
            return got is not None and got.attempts >= 2
        for _ in range(100):  # a deadline of 10 s, far below the hour between passes
            if await tried():
                break
            await pilot.pause(0.1)
        assert await tried()
