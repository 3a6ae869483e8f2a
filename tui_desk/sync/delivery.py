"""Delivering the outbox: SMTP, then a copy in Sent, with every step durable.

    queued ──(send_at due)──▶ sending ──SMTP 250──▶ sent ──APPEND to Sent──▶ done
       ▲  4xx/network: retry with backoff   │ 5xx: failed (text back to the draft)
       └────────────────────────────────────┘

A crash while `sending` leaves it unknown whether the server accepted the message: the Sent
folder is searched for its Message-ID; found means sent, otherwise it becomes `maybe_sent` for
the agent to decide. Nothing is ever resent silently. A crash while `sent` only repeats the
(checked) APPEND. "A crash" means the process that took the item is gone: the app and a CLI
command may share a store, and neither touches what the other, alive, is sending.

An item whose account's SMTP secret cannot be had for a reason no retry fixes (its
password_command is missing or fails, the keyring has none: sync.live.no_retry_fixes) stays
`queued`, its `error` "needs a fix: <key> <reason> (in <config file>)", with no retry timer and
no attempt counted; the secret is not asked for again in this run (`fixes`). It goes once the
config is fixed and tui-desk runs again.

An item whose account is no longer in the config is `held` ("held: no account 'demo' in
config"): never sent from another account, never dropped; `outbox` says what to do.

Collision check: just before SMTP the account is synced once more (`recheck`); if the customer
wrote again or a teammate replied after the agent wrote, the reply is `held` with the news named,
for the agent to send anyway, edit or discard.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from tui_desk.config import AccountConfig, Config, ConfigError, default_config_path
from tui_desk.mail.imap import ImapConnection, ImapError
from tui_desk.sync.parse_pool import parse_safely
from tui_desk.mail.smtp import PermanentSendError, TemporarySendError, send
from tui_desk.store import Store, events as store_events, ingest as store_ingest, outbox
from tui_desk.sync.live import file_last, no_retry_fixes

log = logging.getLogger(__name__)

BACKOFF = (15, 30, 60, 120, 300, 600)  # seconds between tries after temporary failures
NEEDS_A_FIX = "needs a fix: "  # an item's error when its account's SMTP secret needs a fix

PasswordFor = Callable[[str, str], str | None]  # (account name, "imap" | "smtp") -> password
Recheck = Callable[[str], Awaitable[None]]  # account name -> its folders synced with the server


def process_token(pid: int) -> str:
    """pid plus the kernel's start time of that process, so a recycled pid is not taken for it."""
    try:
        start = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        start = "?"
    return f"{pid}:{start}"


def process_alive(token: str | None) -> bool:
    if not token:
        return False
    pid = int(token.split(":", 1)[0])
    if token.endswith(":?"):  # no /proc here: trust the pid alone
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return process_token(pid) == token


@dataclass
class OutboxReport:
    sent: list[str] = field(default_factory=list)  # Message-IDs
    sent_ids: list[int] = field(default_factory=list)  # their outbox ids (the app's pending undo)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    maybe_sent: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # the conversation moved on: the agent decides
    held_why: dict[str, str] = field(default_factory=dict)  # Message-ID -> the news that held it
    # held as well, for their account is gone from the config (not a collision: apart, so the
    # app's collision notice is not given for them; the log line and the outbox say it)
    no_account: list[str] = field(default_factory=list)
    # what each sent one was, for the app's notice (desk.sent_news): its history event (an
    # agent's reply, a rule's automatic one, a survey...; None: none recorded) and its recipients
    sent_events: dict[str, store_events.Event | None] = field(default_factory=dict)
    sent_to: dict[str, list[str]] = field(default_factory=dict)
    # not sent, still queued with no retry timer: their account's SMTP secret needs a fix
    # (OutboxSender.fixes); they go once it is fixed and tui-desk runs again
    needs_fix: list[str] = field(default_factory=list)


HELD_ADVICE = ". Read it, then send anyway, edit or discard"  # after a held reply's news


def held_error(news: str) -> str:
    """A held reply's error: the news (OutboxSender._collision) and what the agent can do."""
    return f"held: {news}{HELD_ADVICE}"


def no_account(name: str) -> str:
    """Why an item whose account is gone waits (its `error`)."""
    return f"held: no account '{name}' in config"


class OutboxSender:
    def __init__(self, store: Store, config: Config, password_for: PasswordFor, *,
                 on_change: Callable[[set[int]], Awaitable[None]] | None = None,
                 clock: Callable[[], float] = time.time, recheck: Recheck | None = None,
                 clock_text: Callable[[int], str] | None = None):
        """`clock_text`: a moment (unix seconds) as the desk shows it, in its zone (the held
        line's "Bob Ng replied at 9:12"); None leaves the time out."""
        self.store, self.config, self.password_for = store, config, password_for
        self.on_change, self.clock, self.recheck = on_change, clock, recheck
        self.clock_text = clock_text
        self.owner = process_token(os.getpid())
        # account -> what its SMTP secret needs ("<key> <reason> (in <config file>)"): said
        # once, its items wait and the secret is not asked for again in this run
        self.fixes: dict[str, str] = {}

    async def run_due(self) -> OutboxReport:
        report = OutboxReport()
        now = int(self.clock())
        for item in await outbox.items(self.store, ("sending", "sent")):
            if item.owner == self.owner or not process_alive(item.owner):
                await self._recover(item, report)  # left over from a crash
        for item in await outbox.items(self.store, ("queued",)):
            if self._account(item.account) is None:  # said now, not when it falls due
                await self._hold_without_account(item, report)
            elif item.send_at <= now and (item.next_try is None or item.next_try <= now):
                try:
                    await self._deliver(item, report)
                except Exception as e:  # one bad item never stops delivery of the others
                    log.exception("outbox item %s", item.id)
                    await self._retry_later(item, f"{type(e).__name__}: {e}", report)
        return report

    async def _take(self, item_id: int) -> bool:
        """queued → sending, only if nobody cancelled it meanwhile."""
        async with self.store.transaction():
            return await outbox.take(self.store, item_id, self.owner)

    def _next_try(self, item: outbox.OutboxItem) -> int:
        return int(self.clock()) + BACKOFF[min(item.attempts, len(BACKOFF) - 1)]

    async def _retry_later(self, item: outbox.OutboxItem, error: str, report: OutboxReport) -> None:
        async with self.store.transaction():
            # only while still queued: an item taken for sending is left to crash recovery
            current = await outbox.get(self.store, item.id)
            if current is not None and current.state == "queued":
                await outbox.set_state(self.store, item.id, "queued", error=error,
                                       next_try=self._next_try(item), attempt=True)
        report.retrying.append(item.message_id)

    async def _collision(self, item: outbox.OutboxItem) -> str | None:
        """What happened in the conversation since the agent wrote, as one line ("Bob Ng replied
        at 9:12, after you wrote this"); None if nothing."""
        if item.conv_id is None or item.seen_upto is None:
            return None
        if self.recheck is not None:
            await self.recheck(item.account)
        news = await outbox.news_since(self.store, item.conv_id, item.seen_upto)
        if not news:
            return None
        latest = news[-1]
        who = latest["sender_name"] or latest["sender_addr"]
        when = latest["date"] if latest["date"] is not None else latest["added_at"]
        at = f" at {self.clock_text(when)}" if self.clock_text is not None else ""
        if latest["is_agent"]:
            # agents send from the shared mailbox, whose name the From carries: the teammate is
            # the agent of the history event that sent it (read from the server's History folder)
            event = await store_events.naming_message(self.store, latest["message_id"])
            what = (f"{event.agent} replied{at}" if event is not None and event.agent
                    else f"a teammate replied{at} (from {who})")
        else:
            what = f"{who} wrote again{at}"
        more = f" ({len(news)} new messages)" if len(news) > 1 else ""
        return f"{what}{',' if at else ''} after you wrote this{more}"

    def _account(self, name: str) -> AccountConfig | None:
        """The item's account, None when the config has none of that name (renamed, removed)."""
        try:
            return self.config.account(name)
        except ConfigError:
            return None

    async def _hold_without_account(self, item: outbox.OutboxItem, report: OutboxReport) -> None:
        """Never sent from another account, never dropped: held until the agent decides."""
        log.warning("outbox item %s held: no account %r in config", item.id, item.account)
        await self._set_if(item.id, "queued", "held", error=no_account(item.account))
        report.no_account.append(item.message_id)

    async def _deliver(self, item: outbox.OutboxItem, report: OutboxReport) -> None:
        account = self._account(item.account)
        if account is None:
            await self._hold_without_account(item, report)
            return
        if account.smtp is None:
            await self._set(item.id, "failed", error=f"account {account.name} has no [smtp] settings")
            report.failed.append(item.message_id)
            return
        if account.name in self.fixes:
            await self._wait_for_fix(item, self.fixes[account.name], report)
            return
        try:
            # off the loop: a command, a keyring or an OAuth2 refresh may take seconds
            password = await asyncio.to_thread(self.password_for, account.name, "smtp")
        except Exception as e:  # a failing password_command or a locked keyring: nothing was sent
            if no_retry_fixes(e):
                problem = file_last(str(e), f"{self.config.path or default_config_path()}", always=True)
                # the debug log; the app's trouble line and the CLI say it (not asked again)
                log.info("outbox: %s needs a fix: %s", account.name, problem)
                self.fixes[account.name] = problem
                await self._wait_for_fix(item, problem, report)
                return
            await self._retry_later(item, f"cannot get the SMTP password: {e}", report)
            return
        try:
            news = await self._collision(item)
        except ImapError as e:
            await self._retry_later(item, f"cannot check the conversation on the server: {e}", report)
            return
        if news:
            await self._set_if(item.id, "queued", "held", error=held_error(news))
            report.held.append(item.message_id)
            report.held_why[item.message_id] = news
            return
        if not await self._take(item.id):
            return
        try:
            await send(account.smtp, password, item.mail_from, item.recipients, item.raw)
        except TemporarySendError as e:
            await self._set(item.id, "queued", error=str(e), next_try=self._next_try(item), attempt=True)
            report.retrying.append(item.message_id)
            return
        except PermanentSendError as e:
            await self._fail(item, str(e))
            report.failed.append(item.message_id)
            return
        await self._mark_sent(item)
        await self._report_sent(item, report)
        await self._file_in_sent(item)

    async def _wait_for_fix(self, item: outbox.OutboxItem, problem: str, report: OutboxReport) -> None:
        """Queued with no retry timer, no attempt counted, the fix needed as its error."""
        if item.last_error != NEEDS_A_FIX + problem or item.next_try is not None:
            await self._set_if(item.id, "queued", "queued", error=NEEDS_A_FIX + problem)
        report.needs_fix.append(item.message_id)

    async def _report_sent(self, item: outbox.OutboxItem, report: OutboxReport) -> None:
        report.sent.append(item.message_id)
        report.sent_ids.append(item.id)
        report.sent_events[item.message_id] = await store_events.naming_message(self.store, item.message_id)
        report.sent_to[item.message_id] = list(item.recipients)

    async def _fail(self, item: outbox.OutboxItem, error: str) -> None:
        async with self.store.transaction():
            await outbox.set_state(self.store, item.id, "failed", error=error, attempt=True)
            if item.conv_id is not None:
                await outbox.save_draft(self.store, item.conv_id, item.body_markdown, item.reply_all, error=error)

    async def _mark_sent(self, item: outbox.OutboxItem) -> None:
        """Durably sent, and in the conversation at once (it threads by its headers)."""
        parsed, error = parse_safely(item.raw)
        result = store_ingest.IngestResult()
        async with self.store.transaction():
            await outbox.set_state(self.store, item.id, "sent", sent_at=int(self.clock()))
            await store_ingest.ingest_in_transaction(self.store, [store_ingest.NewMessage(
                raw=item.raw, parsed=parsed, source=f"outbox:{item.account}", is_agent=True, error=error)], result)
        if self.on_change:
            await self.on_change(result.conversations)

    async def _imap(self, account_name: str) -> ImapConnection:
        account = self.config.account(account_name)
        cfg = account.imap
        if cfg is None:
            raise ImapError(f"account {account_name} has no [imap] settings")
        conn = ImapConnection(cfg.host, cfg.port, security=cfg.security, ca_file=cfg.ca_file)
        await conn.connect()
        try:
            secret = await asyncio.to_thread(self.password_for, account_name, "imap")
            await conn.sign_in(cfg.username or account.address, secret or "", cfg.auth)
        except BaseException:
            conn.close()
            raise
        return conn

    async def _sent_folder(self, conn: ImapConnection) -> str | None:
        return next((f.name for f in await conn.list_folders() if f.special_use == "\\Sent" and f.selectable), None)

    async def _in_sent(self, conn: ImapConnection, folder: str, message_id: str) -> bool:
        await conn.select(folder, readonly=True)
        return bool(await conn.uid_search("HEADER", "Message-ID", f"<{message_id}>"))

    async def _file_in_sent(self, item: outbox.OutboxItem) -> None:
        account = self._account(item.account)
        if account is None:  # sent; its Sent folder is no longer known
            log.warning("Sent copy of %s not filed: no account %r in config", item.message_id, item.account)
        if account is None or not account.save_sent or account.imap is None:
            await self._set(item.id, "done")
            return
        try:
            conn = await self._imap(item.account)
        except ImapError as e:
            log.warning("Sent copy of %s waits: %s", item.message_id, e)
            return  # stays "sent"; the next run files it
        try:
            folder = await self._sent_folder(conn)
            if folder and not await self._in_sent(conn, folder, item.message_id):
                await conn.append(folder, item.raw, flags=["\\Seen"])
            await self._set(item.id, "done")
        except ImapError as e:
            log.warning("Sent copy of %s waits: %s", item.message_id, e)
        finally:
            await conn.logout()

    async def _recover(self, item: outbox.OutboxItem, report: OutboxReport) -> None:
        if item.state == "sent":
            await self._file_in_sent(item)
            return
        # "sending" after a crash: the server may or may not have taken it
        account = self._account(item.account)
        found = checked = False
        if account is not None and account.imap is not None:
            try:
                conn = await self._imap(item.account)
                try:
                    folder = await self._sent_folder(conn)
                    found = bool(folder and await self._in_sent(conn, folder, item.message_id))
                    checked = bool(folder)
                finally:
                    await conn.logout()
            except ImapError as e:
                log.warning("cannot check Sent for %s: %s", item.message_id, e)
        if found:
            await self._mark_sent(item)
            await self._set(item.id, "done")
            await self._report_sent(item, report)
        else:
            # one wording for the app and the CLI (either may have stopped), with the one thing to do
            sent_copy = "though Sent has no copy" if checked else "and Sent could not be checked"
            await self._set(item.id, "maybe_sent",
                            error=f"tui-desk stopped while sending it; the server may have accepted it, {sent_copy}:"
                                  " ask the customer if unsure, then resend or discard")
            report.maybe_sent.append(item.message_id)

    async def _set(self, item_id: int, state: str, *, error: str | None = None, next_try: int | None = None,
                   attempt: bool = False) -> None:
        async with self.store.transaction():
            await outbox.set_state(self.store, item_id, state, error=error, next_try=next_try, attempt=attempt)

    async def _set_if(self, item_id: int, expected: str, state: str, *, error: str | None = None) -> None:
        """Only when nobody (an undo, say) changed the item meanwhile."""
        async with self.store.transaction():
            current = await outbox.get(self.store, item_id)
            if current is not None and current.state == expected:
                await outbox.set_state(self.store, item_id, state, error=error)
