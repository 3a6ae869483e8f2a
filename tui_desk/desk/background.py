"""The mail work that runs beside the app (and behind `tui-desk sync`): every account's sync,
live, and delivery of the outbox. The UI starts it and shows `status()`; it never talks IMAP."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Callable

from tui_desk.mail.outbox import OutboxReport, OutboxSender
from tui_desk.mail.sync import AccountSync, ProgressCallback
from tui_desk.secrets import password_lookup
from tui_desk.store import outbox

if TYPE_CHECKING:
    from tui_desk.desk.service import Desk

SEND_EVERY = 2.0  # seconds between outbox passes: the undo window is counted in seconds
PROGRESS_FROM = 200  # messages: shorter work is over before a bar would be read
PROGRESS_CELLS = 10


class Background:
    def __init__(self, desk: "Desk", *, progress: ProgressCallback | None = None,
                 on_outbox: Callable[[OutboxReport], None] | None = None):
        self.desk = desk
        config = desk.config
        passwords = password_lookup(config)
        self._progress: dict[str, tuple[str, int, int]] = {}  # account -> (phase, done, total) of long work
        self._report_progress = progress
        self.syncs = [AccountSync(desk.store, a, passwords(a.name, "imap") or "", is_agent=config.is_agent_address,
                                  on_change=self._changed, progress=self._progress_of(a.name))
                      for a in config.accounts if a.imap is not None]
        self.sender = OutboxSender(desk.store, config, passwords, on_change=self._changed, clock=desk.clock,
                                   recheck=self._recheck)
        self.changes = 0  # grows whenever mail or state changed: the UI reloads what it shows
        self.on_outbox = on_outbox
        self.outbox_waiting = 0

    async def _changed(self, conv_ids: set[int]) -> None:
        await self.desk.refresh(conv_ids)
        self.changes += 1

    async def _recheck(self, account: str) -> None:
        """Before a reply goes to SMTP: the account's folders synced now (collision check)."""
        for sync in self.syncs:
            if sync.account.name == account:
                await sync.catch_up()

    def _progress_of(self, account: str) -> ProgressCallback:
        def progress(phase: str, done: int, total: int) -> None:
            self._progress[account] = (phase, done, total)
            if self._report_progress:
                self._report_progress(phase, done, total)
        return progress

    def status(self) -> str:
        """One line for the app: each account's connection state, with a progress bar while a
        long sync runs (a first sync of a big mailbox)."""
        parts = []
        for s in self.syncs:
            phase, done, total = self._progress.get(s.account.name, ("", 0, 0))
            if s.state == "syncing" and total >= PROGRESS_FROM and done < total:
                filled = round(PROGRESS_CELLS * done / total)
                bar = "█" * filled + "░" * (PROGRESS_CELLS - filled)
                parts.append(f"{s.account.name}: {phase.split()[0]} {bar} {100 * done // total}%")
            else:
                parts.append(f"{s.account.name}: {s.state}")
        if self.outbox_waiting:
            parts.append(f"outbox: {self.outbox_waiting}")
        return " · ".join(parts)

    async def run(self, stop: asyncio.Event) -> None:
        await self.desk.clear_own_replying_marks()  # left by a crash: nobody is replying yet
        await asyncio.gather(*(s.run_forever(stop) for s in self.syncs), self._deliver(stop))

    async def _deliver(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            report = await self.sender.run_due()
            self.outbox_waiting = len(await outbox.items(self.desk.store))
            if self.on_outbox and (report.sent or report.failed or report.maybe_sent or report.retrying
                                   or report.held):
                self.on_outbox(report)
            try:
                await asyncio.wait_for(stop.wait(), SEND_EVERY)
            except TimeoutError:
                pass
