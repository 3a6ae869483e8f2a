"""Following the server live, for AccountSync (mixed in there): connect, sync, then IDLE on the
first queue folder (NOOP polling without IDLE), hear of other folders by NOTIFY or a poll,
reconnect with backoff. Any failure is logged and kept with the time of the next attempt, except
those a retry cannot fix (`no_retry_fixes`): said once, the loop ends until tui-desk runs again."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from tui_desk.config import AccountConfig, ConfigError, ServerConfig
from tui_desk.mail.imap import (ImapAuthError, ImapCertificateError, ImapCommandError, ImapConnection,
                                ImapConnectionLost, ImapError, Update)
from tui_desk.secrets import SecretError
from tui_desk.sync.parse_pool import ParsePool
from tui_desk.sync.stats import SyncStats


log = logging.getLogger("tui_desk.sync.imap_sync")  # one logger for the account's sync

IDLE_SECONDS = 25 * 60  # re-issue IDLE well before the 29-minute limit (RFC 2177)
POLL_SECONDS = 60  # servers without IDLE, and the folders not IDLEd on
MAX_RETRY_SECONDS = 30.0  # the longest wait between two attempts to reach the server


class _Syncing(Protocol):
    """What the live loop uses of AccountSync."""
    account: AccountConfig
    stats: SyncStats
    _imap: ServerConfig
    _news: asyncio.Event
    _caught_up: list[asyncio.Future[None]]

    @property
    def state(self) -> str: ...
    @state.setter
    def state(self, value: str) -> None: ...
    def _trouble(self, problem: str | None, retry_in: float | None, needs_fix: bool = False) -> None: ...
    def _needs_fix(self, problem: str) -> None: ...
    def _connect_problem(self, e: ImapError | SecretError | ConfigError) -> str | None: ...
    async def connect(self) -> ImapConnection: ...
    async def folders(self, conn: ImapConnection) -> list[tuple[str, str]]: ...
    async def sync_folder(self, conn: ImapConnection, pool: ParsePool, name: str, role: str,
                          notify: bool = True) -> set[int]: ...
    async def fetch_bodies(self, conn: ImapConnection, pool: ParsePool, name: str, role: str) -> int: ...
    async def push_changes(self, conn: ImapConnection) -> int: ...
    async def _history(self, conn: ImapConnection, read: bool) -> None: ...
    async def run_after_pass(self, conn: ImapConnection) -> None: ...
    async def _live(self, conn: ImapConnection, pool: ParsePool, stop: asyncio.Event) -> None: ...
    async def _live_pass(self, conn: ImapConnection, pool: ParsePool, folders: list[tuple[str, str]], main: str,
                         every_folder: bool) -> None: ...
    async def _wait_for_news(self, conn: ImapConnection, stop: asyncio.Event, seconds: float) -> bool: ...


class LiveSync:
    async def run_forever(self: _Syncing, stop: asyncio.Event | None = None) -> None:
        """Sync, then follow changes: IDLE on the first queue folder (NOOP polling without IDLE),
        poll the others; reconnect with backoff; never hang on a dead socket. Any failure, even
        one that is not an IMAP error, is logged and kept in `problem` with the time of the next
        attempt in `retry_at`: the loop never ends before `stop`, except on a failure no retry
        can fix (no_retry_fixes, a refused password): that is kept in `problem` with `needs_fix`
        set, and the loop ends."""
        stop = stop or asyncio.Event()
        backoff = 1.0
        while not stop.is_set():
            problem: str | None
            try:
                conn = await self.connect()
            except (ImapError, SecretError, ConfigError) as e:
                if isinstance(e, ImapAuthError):
                    # a wrong password does not fix itself quickly; Dovecot also slows down retries
                    backoff = max(backoff, 30.0)
                problem = self._connect_problem(e)
                if problem is None:
                    return
            except Exception as e:  # noqa: BLE001 - a bug must not end the sync for good
                log.exception("%s: connecting failed", self.account.name)
                problem = f"{type(e).__name__}: {e}"
            else:
                self._trouble(None, None)
                backoff, problem = 1.0, None
                try:
                    async with ParsePool() as pool:
                        await self._live(conn, pool, stop)
                except ImapConnectionLost as e:
                    log.warning("%s: connection lost: %s", self.account.name, e)
                    problem = f"connection lost: {e}"
                except FolderMissing as e:  # (logged out below, in finally)
                    self._needs_fix(str(e))
                    return
                except ImapError as e:
                    log.warning("%s: %s", self.account.name, e)
                    problem = str(e)
                    backoff = 5.0
                except Exception as e:  # noqa: BLE001 - logged with its traceback, shown, retried
                    log.exception("%s: sync failed", self.account.name)
                    problem = f"{type(e).__name__}: {e}"
                    backoff = 5.0
                finally:
                    self.state = "disconnected"
                    await conn.logout()
            if stop.is_set():
                return
            self.state = "disconnected"
            log.warning("%s: %s (retrying in %.0f s)", self.account.name, problem, backoff)
            self._trouble(problem, backoff)
            if await _wait(stop, backoff):
                return
            backoff = min(backoff * 2, MAX_RETRY_SECONDS)

    def _connect_problem(self: _Syncing, e: ImapError | SecretError | ConfigError) -> str | None:
        """What a failed connect is said as, to be tried again; None when no retry fixes it
        (kept as needs_fix). The live loop's judgement, and `sync --once`'s."""
        if isinstance(e, ImapAuthError):
            if _refused_for_good(e, self._imap.auth):
                self._needs_fix(f"{_secret_key(self.account.name, self._imap)}: {e}")  # the key first
                return None
            return f"{e} (check {_secret_key(self.account.name, self._imap)})"
        if no_retry_fixes(e):
            self._needs_fix(str(e))
            return None
        return str(e)

    def _needs_fix(self: _Syncing, problem: str) -> None:
        """Said once, no retry timer: the config or the secret must change, and tui-desk run
        again (`sync` again in the CLI) to read them."""
        self.state = "disconnected"
        log.info("%s needs a fix: %s", self.account.name, problem)  # the debug log; the CLI says it once
        self._trouble(problem, None, needs_fix=True)

    async def _live(self: _Syncing, conn: ImapConnection, pool: ParsePool, stop: asyncio.Event) -> None:
        folders = await self.folders(conn)
        main = folders[0][0]
        loop = asyncio.get_running_loop()
        next_poll = 0.0
        try:  # news of the other folders (a teammate's note, a reply filed in Sent) while IDLE
            await conn.notify_set()
        except ImapCommandError as e:
            log.info("%s: NOTIFY refused (%s); other folders are polled", self.account.name, e)
        others_changed = False
        while not stop.is_set():
            self._news.clear()
            waiting = list(self._caught_up)
            self._caught_up.clear()
            every_folder = bool(waiting) or others_changed or loop.time() >= next_poll
            try:
                if every_folder:  # a folder made since (Notes, by a teammate's first note) joins
                    folders = await self.folders(conn)
                await self._live_pass(conn, pool, folders, main, every_folder)
            except BaseException as e:
                for w in waiting:
                    if not w.done():
                        w.set_exception(ImapError(f"{self.account.name}: {e}"))
                raise
            for w in waiting:
                if not w.done():
                    w.set_result(None)
            if waiting or loop.time() >= next_poll:
                next_poll = loop.time() + POLL_SECONDS
            if conn.selected != main:
                await conn.select(main)
            others_changed = False
            if self._news.is_set():
                continue  # a change or a catch-up came in meanwhile
            others_changed = await self._wait_for_news(conn, stop, min(IDLE_SECONDS, max(1.0, next_poll - loop.time())))

    async def _live_pass(self: _Syncing, conn: ImapConnection, pool: ParsePool, folders: list[tuple[str, str]], main: str,
                         every_folder: bool) -> None:
        await self.push_changes(conn)
        await self._history(conn, read=every_folder)  # a teammate's: NOTIFY said History changed, or the poll
        if every_folder:
            for name, role in folders:
                await self.sync_folder(conn, pool, name, role)
            for name, role in folders:
                await self.fetch_bodies(conn, pool, name, role)
        else:
            await self.sync_folder(conn, pool, main, folders[0][1])
            await self.fetch_bodies(conn, pool, main, folders[0][1])
        await self.run_after_pass(conn)

    async def _wait_for_news(self: _Syncing, conn: ImapConnection, stop: asyncio.Event, seconds: float) -> bool:
        """Wait for the server, a local change or stop. True when the server said another folder
        than the one waited on changed (NOTIFY's STATUS/LIST): then every folder is synced."""
        if conn.has("IDLE"):
            async with conn.idle(max_seconds=seconds) as session:
                # "idle" once the server listens: a change made before would wait for the next poll
                self.state = "idle"
                stopper = asyncio.ensure_future(stop.wait())
                news = asyncio.ensure_future(self._news.wait())
                nxt = asyncio.ensure_future(session.__anext__())
                try:
                    done, _ = await asyncio.wait({nxt, stopper, news}, return_when=asyncio.FIRST_COMPLETED)
                    if stopper in done:
                        return False
                    if nxt not in done:  # a local change: stop waiting for the server
                        nxt.cancel()
                        await asyncio.wait({nxt})
                    # Every update in hand decides, the one the wait took too: a local change
                    # coming with NOTIFY's word that History changed (a teammate's incident, say)
                    # must not drop that word and leave History unread until the next poll.
                    taken = [] if nxt.cancelled() else [nxt.result()]
                    return _about_other_folders([*taken, *conn.pending_updates()])
                except StopAsyncIteration:  # the IDLE's time is up
                    return _about_other_folders(conn.pending_updates())
                finally:
                    # also when cancelled (the app quitting): the wait for an update would
                    # otherwise fail once the connection is logged out, with nobody to hear it
                    for task in (stopper, news, nxt):
                        _discard(task)
        else:
            self.state = "idle"
            deadline = asyncio.get_running_loop().time() + seconds
            while not stop.is_set() and asyncio.get_running_loop().time() < deadline:
                await conn.noop()
                polled = await conn.next_update(0.1)
                if polled is not None:
                    return _about_other_folders([polled, *conn.pending_updates()])
                if await _wait(self._news, 5.0) or stop.is_set():
                    return False
        return False


class FolderMissing(ImapError):
    """A folder the account's config names (`folders`) is not on the server: no retry finds
    it; the config or the server must change."""

    @classmethod
    def naming(cls, name: str, account: str, have: set[str], shown: int = 10) -> "FolderMissing":
        """"folder 'X' does not exist on <account> (have: INBOX, ...); set accounts.<account>.folders":
        INBOX first, then by name; past `shown`, how many more. Folder names are the server's:
        whoever shows the line sanitizes it."""
        names = sorted(have, key=lambda n: (n != "INBOX", n.casefold()))
        listed = ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")
        return cls(f"folder {name!r} does not exist on {account} (have: {listed or 'none'}); "
                   f"set accounts.{account}.folders")


def no_retry_fixes(error: BaseException) -> bool:
    """A failure a retry cannot fix: the config is wrong (no such account, a key missing, a
    folder the server lacks), a secret's command is missing or fails, the server's certificate
    is not trusted. Connection refused or reset, timeouts, a busy server are worth another try."""
    if isinstance(error, SecretError):
        return error.lasting
    return isinstance(error, (ConfigError, ImapCertificateError, FolderMissing))


def file_last(problem: str, config_file: str, always: bool = False) -> str:
    """"<config file>: <key> <reason>" (a ConfigError's, a SecretError's way) as
    "<key> <reason> (in <config file>)"; always: a problem naming no file gets the config's."""
    head = f"{config_file}: "
    if head not in problem:
        return f"{problem} (in {config_file})" if always else problem
    return f"{problem.replace(head, '', 1)} (in {config_file})"


def _refused_for_good(error: ImapAuthError, auth: str) -> bool:
    """The server refused the password (Dovecot: "NO [AUTHENTICATIONFAILED] Authentication
    failed."), LOGIN is disabled or the mechanism not offered. Not: the connection cut off while
    signing in, or the server's auth service down ("NO [UNAVAILABLE] Temporary authentication
    failure.", RFC 5530), nor an OAuth2 token refused (it is forgotten and fetched anew)."""
    if isinstance(error.__context__, ImapConnectionLost):  # raised `from None`: the context stays
        return False
    text = str(error).upper()
    if "[UNAVAILABLE]" in text or "TEMPORARY" in text:
        return False
    return auth == "password"


def _secret_key(account: str, server: ServerConfig) -> str:
    """The config key that gives the server's secret."""
    if server.auth != "password":
        return f"the OAuth2 token settings of accounts.{account}.imap"
    return f"accounts.{account}.imap.{'keyring' if server.keyring else 'password_command'}"


def _discard(task: asyncio.Future[Any]) -> None:
    """Cancel a task no longer waited for; an outcome it already has (or gets while it ends)
    is taken here, so none is reported as "never retrieved"."""
    task.add_done_callback(lambda t: t.cancelled() or t.exception())
    task.cancel()


def _about_other_folders(updates: list[Update]) -> bool:
    return any(u.kind in ("STATUS", "LIST") for u in updates)


async def _wait(event: asyncio.Event, seconds: float) -> bool:
    try:
        await asyncio.wait_for(event.wait(), seconds)
        return True
    except TimeoutError:
        return False
