"""The mail work that runs beside the app (and behind `tui-desk sync`): every account's sync,
live, and delivery of the outbox. The UI starts it and shows `status()`; it never talks IMAP."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import TYPE_CHECKING, Awaitable, Callable

from tui_desk.desk.csat import chained, survey_runner
from tui_desk.desk.rules.fire import RulesRunner, read_rules
from tui_desk.desk.rules.load import RulesError
from tui_desk.sync.delivery import OutboxReport, OutboxSender
from tui_desk.sync.imap_sync import AccountSync, ProgressCallback
from tui_desk.sync.live import MAX_RETRY_SECONDS, file_last
from tui_desk.sanitize import sanitize_line
from tui_desk.config import default_config_path
from tui_desk.secrets import password_lookup, stop_commands
from tui_desk.store import outbox

if TYPE_CHECKING:
    from tui_desk.desk.core import DeskCore

log = logging.getLogger(__name__)

SEND_EVERY = 2.0  # seconds between outbox passes: the undo window is counted in seconds
PROGRESS_FROM = 200  # messages: shorter work is over before a bar would be read
PROGRESS_CELLS = 10
# what the trouble line asks after a problem no retry fixes: the config and the secrets are
# read when tui-desk starts, so that is when it looks again. Said last: at 80 columns the key
# and what is wrong come first (the toast, a wide terminal and the README say the rest).
FIX_THEN = "then restart tui-desk"


def _imap_password(passwords: Callable[[str, str], str | None], account: str) -> Callable[[], str]:
    """The account's IMAP password, asked for when connecting ("" when there is none)."""
    return lambda: passwords(account, "imap") or ""


class Background:
    def __init__(self, desk: "DeskCore", *, progress: ProgressCallback | None = None,
                 on_outbox: Callable[[OutboxReport], None] | None = None,
                 on_news: Callable[[], None] | None = None, restart_after: float = 1.0):
        """on_news: called (on the event loop) whenever status() or `changes` may have changed,
        so the UI redraws at once instead of polling."""
        self.desk = desk
        self.on_news = on_news
        self.restart_after = restart_after  # seconds before a failed task's first restart
        config = desk.config
        passwords = password_lookup(config)
        self._progress: dict[str, tuple[str, int, int]] = {}  # account -> (phase, done, total) of long work
        self._report_progress = progress
        # the password is asked for when connecting, off the event loop: a password_command
        # may take seconds, and one that fails is shown like any other connection problem
        self.syncs = [AccountSync(desk.store, a, _imap_password(passwords, a.name),
                                  is_agent=config.is_agent_address,
                                  on_change=self._changed, progress=self._progress_of(a.name))
                      for a in config.accounts if a.imap is not None]
        self.sender = OutboxSender(desk.store, config, passwords, on_change=self._changed, clock=desk.clock,
                                   recheck=self._recheck, clock_text=desk.clock_text)
        for sync in self.syncs:
            sync.on_state = self._news
        self.rules_problem: str | None = None
        self.rules: RulesRunner | None = None  # load_rules() reads them (the store's agents count)
        self.csat = survey_runner(desk)  # the satisfaction survey ([csat]), after the rules
        self._chain()
        self._rules_loaded = False
        self.changes = 0  # grows whenever mail or state changed: the UI reloads what it shows
        self.on_outbox = on_outbox
        self.outbox_waiting = 0
        self.accounts_gone: list[str] = []  # accounts of held replies that the config no longer has
        self._outbox_fixes = 0  # accounts whose SMTP secret needs a fix, as last told (sender.fixes)
        self.delivery_passes = 0  # outbox passes done (tests wait for one instead of sleeping)
        self._delivering = asyncio.Lock()  # one outbox pass at a time: the loop's, deliver_now's
        self._wake = asyncio.Event()  # a reply made due now (Desk.send_now): the next pass at once
        desk.wake_outbox = self._wake.set
        # task -> (why it failed, loop time of its restart), while it waits to restart
        self.problems: dict[str, tuple[str, float]] = {}

    def _chain(self) -> None:
        passes = [p.after_pass for p in (self.rules, self.csat) if p is not None]
        for sync in self.syncs:
            sync.after_pass = chained(*passes) if passes else None

    async def load_rules(self) -> None:
        """The rules run on new mail (desk.rules.fire), and incidents with them; a rules file
        with errors runs none and says so in trouble() and `rules_problem` (`tui-desk rules check`
        names each error). Once, before the first pass (run() does it; `sync --once` too)."""
        if self._rules_loaded:
            return
        self._rules_loaded = True
        try:
            ruleset = await read_rules(self.desk)
        except RulesError as e:
            log.warning("rules not run: %s", "; ".join(e.errors))
            self.rules_problem = f"rules not run: {e.errors[0]}" if e.errors else "rules not run"
        else:
            self.rules = RulesRunner(self.desk, ruleset)  # without rules too: incidents (desk.incident) go that way
        self._chain()
        if self.rules_problem:
            self._news()  # the trouble line has something to say

    def _news(self) -> None:
        if self.on_news is not None:
            self.on_news()

    async def _changed(self, conv_ids: set[int]) -> None:
        await self.desk.refresh(conv_ids)
        self.changes += 1
        self._news()

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
            self._news()
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

    def trouble(self, countdown: bool = True) -> str:
        """One line saying what is wrong and when it is tried again ("" when all is well):
        the accounts that cannot reach their server, and background tasks that failed.
        countdown=False: the same without the times (it changes each second, the cause not)."""
        def when(at: float | None) -> str:
            return f" ({_retry_in(at)})" if countdown else ""
        # the countdown first, then what is wrong: a long line is cut on the right (at 80 columns
        # after some 60 cells), so the config file a message names goes to its end
        config_file = f"{self.desk.config.path or default_config_path()}"
        parts = [f"{line}; {FIX_THEN}" for line in self.fixes_needed()]
        parts += [f"{s.account.name}{when(s.retry_at)}: {file_last(s.problem, config_file)}"
                  for s in self.syncs if s.problem and not s.needs_fix and s.state in ("disconnected", "connecting")]
        parts += [f"{task}{when(at)}: {file_last(problem, config_file)}" for task, (problem, at) in self.problems.items()]
        if self.accounts_gone:
            names = ", ".join(f"'{a}'" for a in self.accounts_gone)
            parts.append(f"outbox needs a fix: replies held, no account {names} in config (in {config_file}); "
                         "O: discard, or add it back, restart tui-desk and send anyway")
        if self.rules_problem:
            parts.append(self.rules_problem)
        return sanitize_line(" · ".join(parts))  # server texts and error messages are not ours

    def fixes_needed(self) -> list[str]:
        """"<account> needs a fix: <key> <reason> (in <config file>)" for each account whose
        sync stopped on a failure no retry can fix (sync.live.no_retry_fixes), and "outbox needs
        a fix: ..." for each account whose SMTP secret cannot be had (its replies wait, queued:
        sync.delivery); unsanitized."""
        config_file = f"{self.desk.config.path or default_config_path()}"
        return ([f"{s.account.name} needs a fix: {file_last(s.problem, config_file, always=True)}"
                 for s in self.syncs if s.problem and s.needs_fix]
                + [f"outbox needs a fix: {problem}" for problem in self.sender.fixes.values()])

    async def run(self, stop: asyncio.Event) -> None:
        await self.load_rules()
        await self.desk.clear_own_replying_marks()  # left by a crash: nobody is replying yet
        tasks = [self._supervised(f"sync {s.account.name}", functools.partial(s.run_forever, stop), stop)
                 for s in self.syncs]
        try:
            await asyncio.gather(*tasks, self._supervised("outbox", lambda: self._deliver(stop), stop))
        finally:
            # stopped or cancelled (the app quitting): a password_command still running (pass
            # waiting on a pinentry) is ended now; its thread would hold up the exit until it ends
            stop_commands()

    async def _supervised(self, task: str, run: Callable[[], Awaitable[None]], stop: asyncio.Event) -> None:
        """Run until stop; an exception is logged with its traceback, shown in status() and
        the task started again after a growing pause: never a silent death."""
        backoff = self.restart_after
        while not stop.is_set():
            try:
                await run()
                return
            except Exception as e:  # noqa: BLE001 - shown and retried, see above
                log.exception("background task %s failed", task)
                self.problems[task] = (f"{type(e).__name__}: {e}", asyncio.get_running_loop().time() + backoff)
                self._news()
                try:
                    await asyncio.wait_for(stop.wait(), backoff)
                except TimeoutError:
                    pass
                backoff = min(backoff * 2, MAX_RETRY_SECONDS)
                self.problems.pop(task, None)
                self._news()

    async def deliver_now(self) -> OutboxReport:
        """One outbox pass now (the app quitting with a reply made due), after the pass that
        runs, if one does; told like the others (on_outbox)."""
        return await self._delivery_pass()

    async def _delivery_pass(self) -> OutboxReport:
        async with self._delivering:
            report = await self.sender.run_due()
            self.delivery_passes += 1
            items = await outbox.items(self.desk.store)
        have = {a.name for a in self.desk.config.accounts}
        gone = sorted({i.account for i in items if i.state == "held" and i.account not in have})
        fixes = len(self.sender.fixes)
        if len(items) != self.outbox_waiting or gone != self.accounts_gone or fixes != self._outbox_fixes:
            self.outbox_waiting, self.accounts_gone, self._outbox_fixes = len(items), gone, fixes
            self._news()
        if self.on_outbox and (report.sent or report.failed or report.maybe_sent or report.retrying
                               or report.held):
            self.on_outbox(report)
        return report

    async def _deliver(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()  # before the pass: a wake during it brings the next one at once
            await self._delivery_pass()
            waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            try:
                await asyncio.wait(waits, timeout=SEND_EVERY, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()


def _retry_in(retry_at: float | None) -> str:
    if retry_at is None:
        return "retrying"
    seconds = max(0, round(retry_at - asyncio.get_running_loop().time()))
    return f"retrying in {seconds} s" if seconds else "retrying now"
