"""Background's news reaches the UI as typed Textual messages (ui/bridge.py): one message per
thing that changed, none when nothing did, and the countdown clock only while there is trouble."""

from __future__ import annotations

import asyncio

from textual import on
from textual.app import App
from textual.screen import Screen

from tui_desk.ui.bridge import BackgroundBridge, OutboxReported, StoreChanged, SyncStateChanged, TroubleChanged


class StubBackground:
    """What the bridge reads of desk.background.Background (see desk.views.BackgroundWork)."""

    def __init__(self) -> None:
        self.on_news = None
        self.on_outbox = None
        self.changes = 0
        self.state = "support: idle"
        self.problem = ""

    def status(self) -> str:
        return self.state

    def trouble(self, countdown: bool = True) -> str:
        if not self.problem:
            return ""
        return f"support (retrying in 3 s): {self.problem}" if countdown else f"support: {self.problem}"

    async def run(self, stop: asyncio.Event) -> None:
        await stop.wait()


class Listener(Screen[None]):
    def __init__(self) -> None:
        super().__init__()
        self.got: list[object] = []

    @on(SyncStateChanged)
    @on(StoreChanged)
    @on(TroubleChanged)
    @on(OutboxReported)
    def _heard(self, message: object) -> None:
        self.got.append(message)


class BridgeApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.listener = Listener()
        self.background = StubBackground()
        self.bridge = BackgroundBridge(self, self.background, self.listener)

    def get_default_screen(self) -> Screen:
        return self.listener

    def on_mount(self) -> None:
        self.bridge.start()


def _kinds(messages: list[object]) -> list[str]:
    return [type(m).__name__ for m in messages]


async def test_each_change_is_one_typed_message_and_nothing_polls():
    app = BridgeApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        heard = app.listener.got
        assert _kinds(heard) == ["SyncStateChanged"] and heard[0].status == "support: idle"
        assert app.bridge._countdown is None  # all well: no clock ticks

        background = app.background
        assert background.on_news is not None and background.on_outbox is not None
        heard.clear()
        app.bridge._tell()  # nothing changed: nothing said
        await pilot.pause()
        assert heard == []

        background.state = "support: syncing"
        background.changes += 1
        app.bridge._tell()
        await pilot.pause()
        assert _kinds(heard) == ["SyncStateChanged", "StoreChanged"] and heard[0].status == "support: syncing"

        heard.clear()
        background.problem = "connection refused"
        app.bridge._tell()
        await pilot.pause()
        assert _kinds(heard) == ["TroubleChanged"]
        assert heard[0].trouble == "support (retrying in 3 s): connection refused"
        assert heard[0].cause == "support: connection refused"
        assert app.bridge._countdown is not None  # "retrying in N s" counts down

        heard.clear()
        background.problem = ""
        app.bridge._tell()
        await pilot.pause()
        assert _kinds(heard) == ["TroubleChanged"] and heard[0].trouble == "" and heard[0].cause == ""
        assert app.bridge._countdown is None

        heard.clear()
        report = object()
        background.on_outbox(report)
        await pilot.pause()
        assert _kinds(heard) == ["OutboxReported"] and heard[0].report is report


async def test_a_burst_of_news_is_one_look():
    app = BridgeApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        timers_before = len(app._timers)
        for _ in range(50):  # a big sync's progress steps
            app.background.on_news()
        assert len(app._timers) == timers_before + 1
