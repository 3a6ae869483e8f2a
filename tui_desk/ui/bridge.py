"""Background work (desk.background, which knows nothing of Textual) told to the UI as typed
Textual messages. The bridge adapts Background's callbacks: each posts a message to the app,
which hands it to the main screen; nothing polls Background.

- SyncStateChanged: the accounts' line ("imap: syncing ███░ 30%") changed
- StoreChanged: mail or state changed in the store: reload what is shown
- TroubleChanged: what is wrong with the sync, and the same without its countdown
- OutboxReported: replies sent, refused, held or maybe sent
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from textual.message import Message

from tui_desk.sanitize import sanitize_line

NEWS_DELAY = 0.05  # seconds: many progress steps in a row become one frame
COUNTDOWN_EVERY = 1.0  # seconds: the trouble line's "retrying in N s"


@dataclass
class SyncStateChanged(Message):
    status: str


@dataclass
class StoreChanged(Message):
    """The store changed under the screen: the sync (or another process) wrote to it."""


@dataclass
class TroubleChanged(Message):
    trouble: str  # with the countdown; "" when all is well
    cause: str  # the same without the countdown: a new cause is a new problem


@dataclass
class OutboxReported(Message):
    report: Any  # sync.delivery.OutboxReport


class BackgroundBridge:
    """Starts Background beside the app and turns its news into messages posted to ``target``
    (the main screen); the app runs the work and its timers."""

    def __init__(self, app: Any, background: Any, target: Any) -> None:
        self.app = app
        self.background = background
        self.post = target.post_message
        background.on_news = self._news
        background.on_outbox = lambda report: self.post(OutboxReported(report))
        self._stop = asyncio.Event()
        self._news_due = False
        self._status = ""
        self._trouble = ("", "")
        self._changes = 0
        self._countdown = None  # a timer, only while there is trouble

    def start(self) -> None:
        self.app.run_worker(self._run(), group="background", exit_on_error=False)
        self._tell()

    def stop(self) -> None:
        self._stop.set()

    async def _run(self) -> None:
        try:
            await self.background.run(self._stop)
        except Exception as exc:  # noqa: BLE001 - Background restarts its own tasks; this is a bug
            logging.getLogger(__name__).exception("background work stopped")
            self.app.notify(sanitize_line(f"Background sync stopped: {type(exc).__name__}: {exc}"), title="Sync",
                            severity="error", timeout=30, markup=False)

    def _news(self) -> None:
        """Background said something changed: one look soon (many progress steps, one frame)."""
        if not self._news_due:
            self._news_due = True
            self.app.set_timer(NEWS_DELAY, self._tell)

    def _tell(self) -> None:
        """Post a message for each thing that changed since the last look."""
        self._news_due = False
        status = self.background.status()
        if status != self._status:
            self._status = status
            self.post(SyncStateChanged(status))
        self._tell_trouble()
        if self.background.changes != self._changes:
            self._changes = self.background.changes
            self.post(StoreChanged())

    def _tell_trouble(self) -> None:
        trouble = (self.background.trouble(), self.background.trouble(countdown=False))
        if trouble != self._trouble:
            self._trouble = trouble
            self.post(TroubleChanged(*trouble))
        # The one clock left: "retrying in N s" counts down while nothing else happens, so it
        # ticks each second, and only while there is a retry to count down (a line that says
        # the same without its countdown has none: "needs a fix" waits for the agent).
        counting = trouble[0] != trouble[1]
        if counting and self._countdown is None:
            self._countdown = self.app.set_interval(COUNTDOWN_EVERY, self._tell_trouble)
        elif not counting and self._countdown is not None:
            self._countdown.stop()
            self._countdown = None
