"""The IMAP session: `ImapConnection`'s commands (login, folders, SELECT, SEARCH, FETCH, STORE,
APPEND, the update stream) and `IdleSession`. What it sends is built in wire.py, what it gets
back parsed in responses.py; connection.py holds the connection and the command plumbing."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

from tui_desk.mail.imap.adapter import AUTH, SELECTED, Response, _FetchCommand, time2internaldate
from tui_desk.mail.imap.channel import _Channel, _EndOfStream
from tui_desk.mail.imap.connection import _Connection
from tui_desk.mail.imap.errors import (ImapAuthError, ImapCommandError, ImapConnectionLost, ImapError,
                                       ImapTimeout, _fresh)
from tui_desk.mail.imap.responses import _FETCH_LINE, _VANISHED_EARLIER, _parse_fetch, _parse_unit, _text
from tui_desk.mail.imap.results import (_SPECIAL_USE_BY_LOWER, IDLE_MAX_SECONDS, FetchedMessage, Folder,
                                        MailboxStatus, QresyncState, Raw, Update)
from tui_desk.mail.imap.wire import (_ATOMISH, _Wire, _auth_mechanisms, _fetch_items, _flag_list, _parse_uid_ranges,
                                     _response_key, decode_mailbox, sasl_oauth2, uid_set)


class ImapConnection(_Connection):
    """One IMAP connection. Use `async with ImapConnection(...) as imap:` or connect()/logout().

    security: "tls" (implicit TLS, usually port 993), "starttls" (usually 143; never falls back to
    plaintext) or "none" (loopback hosts only). Certificates are always verified; `ca_file`
    replaces the system CAs for a private CA. `timeout` bounds connecting, the greeting, the TLS
    handshake and each command's wait for data from the server. `source_address` picks the
    local address to connect from (multi-homed hosts).

    Commands are sent one at a time (an asyncio lock); a big FETCH hands its messages on as they
    arrive instead of pipelining many commands. Methods only the tests use live in
    tests/imap_helpers.py."""

    # -- session -----------------------------------------------------------------------------------------
    async def login(self, user: str, password: str) -> None:
        """LOGIN; ImapAuthError ("login failed for USER at HOST:PORT: ...") when refused."""
        self._require()  # connected, or ImapError
        if "LOGINDISABLED" in self.capabilities:
            raise ImapAuthError(f"login failed for {user} at {self.label}: the server disables "
                                "LOGIN on this connection (use security \"tls\" or \"starttls\")")
        await self._signed_in("LOGIN", self._wire("LOGIN").string(user).string(password, secret=True), user)

    async def _signed_in(self, command: str, wire: _Wire, user: str) -> None:
        """Send LOGIN/AUTHENTICATE; refused or cut off: ImapAuthError naming the user and server."""
        protocol = self._require()
        try:
            cmd = await self._simple(command, wire)
        except ImapCommandError as exc:
            raise ImapAuthError(f"login failed for {user} at {self.label}: {exc.server_text}") from None
        except ImapConnectionLost as exc:
            raise ImapAuthError(f"login failed for {user} at {self.label}: {exc}") from None
        protocol.state = AUTH
        self.user = user
        if not self._set_capabilities(cmd):  # CONDSTORE, QRESYNC, MOVE... often appear only now
            await self._refresh_capabilities()

    async def sign_in(self, user: str, secret: str, auth: str = "password") -> None:
        """LOGIN with a password, or AUTHENTICATE with an OAuth2 bearer token when `auth` is
        "xoauth2" or "oauthbearer" (the account's `auth` setting)."""
        if auth == "password":
            await self.login(user, secret)
        else:
            await self.authenticate_oauth2(user, secret, auth)

    async def authenticate_oauth2(self, user: str, token: str, mechanism: str = "XOAUTH2") -> None:
        """AUTHENTICATE XOAUTH2 or OAUTHBEARER (RFC 7628) with a bearer token, the initial
        response inline when the server offers SASL-IR. ImapAuthError when refused."""
        mechanism = mechanism.upper()
        self._require()  # connected, or ImapError
        if f"AUTH={mechanism}" not in self.capabilities:
            raise ImapAuthError(f"login failed for {user} at {self.label}: the server does not offer "
                                f"{mechanism} (it offers: {_auth_mechanisms(self.capabilities)})")
        blob = base64.b64encode(sasl_oauth2(mechanism, user, token)).decode("ascii")
        wire = self._wire(f"AUTHENTICATE {mechanism}")
        if "SASL-IR" in self.capabilities:
            wire.raw(blob, secret=True)
        else:
            wire.response(blob, secret=True)
        # A refused token comes back as a "+" challenge (an error in JSON) that wants a dummy
        # response before the tagged NO: empty for XOAUTH2, ^A for OAUTHBEARER (RFC 7628 §3.2.3).
        # Sent only if the server asks (the queue ends with the command).
        wire.response("AQ==" if mechanism == "OAUTHBEARER" else "")
        await self._signed_in("AUTHENTICATE", wire, user)

    async def enable(self, *capabilities: str) -> frozenset[str]:
        """ENABLE (RFC 5161), e.g. enable("QRESYNC"); returns what the server enabled."""
        if not self.has("ENABLE"):
            return frozenset()
        wire = self._wire("ENABLE")
        for cap in capabilities:
            if not _ATOMISH.fullmatch(cap):
                raise ValueError(f"not a capability name: {cap!r}")
            wire.raw(cap.upper())
        cmd = await self._simple("ENABLE", wire)
        enabled = {w.upper() for u in cmd.units if u[0][:7].upper() == b"ENABLED"
                   for w in _text(u[0]).split()[1:]}
        if "QRESYNC" in enabled:
            enabled.add("CONDSTORE")  # implied (RFC 7162 §3.2.3)
        self.enabled |= enabled
        return frozenset(enabled)

    async def notify_set(self) -> bool:
        """NOTIFY (RFC 5465), when the server has it: while IDLE on one folder, hear of mail
        added to or removed from every other folder (STATUS updates) and of folders made or
        renamed (LIST updates). False when the server does not offer it."""
        if not self.has("NOTIFY"):
            return False
        wire = self._wire("NOTIFY").raw("SET (selected (MessageNew MessageExpunge FlagChange))"
                                        " (personal (MessageNew MessageExpunge MailboxName))")
        await self._simple("NOTIFY", wire)
        return True

    async def noop(self) -> None:
        """NOOP: lets the server report changes (they go to the update stream)."""
        await self._simple("NOOP", self._wire("NOOP"))

    # -- folders --------------------------------------------------------------------------------------------
    async def list_folders(self, pattern: str = "*") -> list[Folder]:
        wire = self._wire("LIST").string("").mailbox(pattern)
        if self.has("SPECIAL-USE") and self.has("LIST-EXTENDED"):
            wire.raw("RETURN (SPECIAL-USE)")
        cmd = await self._simple("LIST", wire, claims=frozenset({"LIST"}))  # else they read as NOTIFY news
        folders = []
        for unit in cmd.units:
            if unit[0][:5].upper() != b"LIST ":
                continue
            flags_raw, delimiter, name_raw = _parse_unit(unit, 5)[:3]
            flags = frozenset(_text(f) for f in flags_raw or ())
            name = decode_mailbox(_text(name_raw))
            if name.upper() == "INBOX":
                name = "INBOX"
            special = next((_SPECIAL_USE_BY_LOWER[f.lower()] for f in flags
                            if f.lower() in _SPECIAL_USE_BY_LOWER), None)
            folders.append(Folder(name, _text(delimiter) or None, flags, special))
        return folders

    async def create(self, folder: str) -> None:
        await self._simple("CREATE", self._wire("CREATE").mailbox(folder))

    async def select(self, folder: str = "INBOX", *, readonly: bool = False,
                     condstore: bool = False, qresync: QresyncState | None = None) -> MailboxStatus:
        """SELECT (or EXAMINE when readonly). qresync (after enable("QRESYNC")) reports what
        changed since that state in `vanished`/`changed`."""
        name = "EXAMINE" if readonly else "SELECT"
        wire = self._wire(name).mailbox(folder)
        if qresync is not None:
            if "QRESYNC" not in self.enabled:
                raise ImapError('select(qresync=...) needs enable("QRESYNC") first')
            known = f" {uid_set(qresync.known_uids)}" if qresync.known_uids else ""
            wire.raw(f"(QRESYNC ({int(qresync.uidvalidity)} {int(qresync.modseq)}{known}))")
        elif condstore and self.has("CONDSTORE"):
            wire.raw("(CONDSTORE)")
        protocol = self._require()
        try:
            cmd = await self._simple(name, wire, claims=frozenset(
                {"EXISTS", "RECENT", "FETCH", "EXPUNGE", "VANISHED"}))
        except ImapCommandError:
            protocol.state, self.selected = AUTH, None  # a failed SELECT leaves none selected
            raise
        protocol.state, self.selected = SELECTED, folder
        status = MailboxStatus(folder, readonly="READ-ONLY" in cmd.tagged_text().upper())
        for unit in cmd.units:
            first = unit[0]
            upper = first.upper()
            if m := re.match(rb"OK \[(UIDVALIDITY|UIDNEXT|HIGHESTMODSEQ) (\d+)\]", upper):
                setattr(status, m.group(1).decode().lower(), int(m.group(2)))
            elif m := re.match(rb"(OK \[PERMANENT)?FLAGS \(([^)]*)\)", upper):
                flags = tuple(_text(first[m.start(2):m.end(2)]).split())
                if m.group(1):
                    status.permanent_flags = flags
                else:
                    status.flags = flags
            elif m := re.match(rb"(\d+) (EXISTS|RECENT)$", upper):
                setattr(status, m.group(2).decode().lower(), int(m.group(1)))
            elif m := _VANISHED_EARLIER.match(first):
                status.vanished.extend(u for lo, hi in _parse_uid_ranges(m.group(1))
                                       for u in range(lo, hi + 1))
            elif _FETCH_LINE.match(first):
                status.changed.append(_parse_fetch(unit))
        return status

    # -- messages -----------------------------------------------------------------------------------------
    async def uid_search(self, *criteria: str | int | bytes) -> list[int]:
        """UID SEARCH. Plain words/sets/dates go as atoms, other text as quoted strings or
        literals (with CHARSET UTF-8 when needed); wrap raw syntax in Raw(...)."""
        wire = self._wire("UID SEARCH")
        args: list[tuple[str, str | bytes]] = []
        for criterion in criteria or ("ALL",):
            if isinstance(criterion, int):
                args.append(("raw", str(criterion)))
            elif isinstance(criterion, Raw) or (isinstance(criterion, str) and _ATOMISH.fullmatch(criterion)):
                if "\r" in criterion or "\n" in criterion:
                    raise ValueError("CR/LF in a search argument")
                args.append(("raw", str(criterion)))
            else:
                args.append(("string", criterion))
        if any(kind == "string" and not value.isascii() for kind, value in args):
            wire.raw("CHARSET UTF-8")
        for kind, value in args:
            if kind == "raw":
                wire.raw(str(value))
            else:
                wire.string(value)
        cmd = await self._simple("SEARCH", wire, prefix="UID")
        uids: list[int] = []
        for unit in cmd.units:
            words = unit[0].split()
            if words and words[0].upper() == b"SEARCH":
                uids.extend(int(w) for w in words[1:] if w.isdigit())
        return uids

    def _fetch_command(self, uids: str, items: str | Sequence[str], changed_since: int | None,
                       sink: Callable[[FetchedMessage], None]) -> _FetchCommand:
        names = _fetch_items(items)
        wire = self._wire("UID FETCH").raw(uids).raw("(" + " ".join(names) + ")")
        if changed_since is not None:
            vanished = " VANISHED" if "QRESYNC" in self.enabled else ""
            wire.raw(f"(CHANGEDSINCE {int(changed_since)}{vanished})")
        required = [k for k in map(_response_key, names) if k is not None]
        return _FetchCommand("FETCH", wire, protocol=self._require(), uids=uids,
                             required=required, sink=sink, timeout=self.timeout)

    async def uid_fetch(self, uids: str | Iterable[int], items: str | Sequence[str], *,
                        changed_since: int | None = None) -> list[FetchedMessage]:
        """UID FETCH, all results in a list (server order). Items as in RFC 3501, e.g.
        ["FLAGS", "MODSEQ", "INTERNALDATE", "RFC822.SIZE", "BODY.PEEK[]"]; UID is always added."""
        messages, _ = await self.uid_fetch_changes(uids, items, changed_since=changed_since)
        return messages

    async def uid_fetch_changes(self, uids: str | Iterable[int], items: str | Sequence[str], *,
                                changed_since: int | None = None,
                                ) -> tuple[list[FetchedMessage], list[int]]:
        """UID FETCH ... (CHANGEDSINCE m [VANISHED]): the messages, and with QRESYNC enabled the
        UIDs expunged since m."""
        messages: list[FetchedMessage] = []
        async with self._slot():
            cmd = self._fetch_command(uid_set(uids), items, changed_since, messages.append)
            await self._execute(cmd)
        return messages, [u for lo, hi in cmd.vanished for u in range(lo, hi + 1)]

    async def uid_store(self, uids: str | Iterable[int], action: Literal["+FLAGS", "-FLAGS", "FLAGS"],
                        flags: Iterable[str], *, silent: bool = False) -> list[FetchedMessage]:
        """UID STORE; returns the new flags (and modseq) of the stored messages unless silent."""
        if action.upper() not in ("+FLAGS", "-FLAGS", "FLAGS"):
            raise ValueError(f"bad STORE action {action!r}")
        wire = self._wire("UID STORE").raw(uid_set(uids))
        wire.raw(action.upper() + (".SILENT" if silent else "")).raw(_flag_list(flags))
        messages: list[FetchedMessage] = []
        async with self._slot():
            cmd = _FetchCommand("STORE", wire, protocol=self._require(), uids=uid_set(uids),
                                required=[], sink=messages.append, timeout=self.timeout)
            await self._execute(cmd)
        return messages

    async def uid_set_flags_if_unchanged(self, uid: int, flags: Iterable[str], modseq: int
                                         ) -> FetchedMessage | None:
        """UID STORE uid (UNCHANGEDSINCE modseq) FLAGS (...) (RFC 7162): the whole flag set in
        one atomic step, only if nobody changed the message since `modseq`. Returns its new
        flags and modseq, or None when the server answered MODIFIED (read again, retry)."""
        if not self.has("CONDSTORE"):
            raise ImapError(f"{self.label} has no CONDSTORE; cannot store conditionally")
        wire = self._wire("UID STORE").raw(uid_set([uid]))
        wire.raw(f"(UNCHANGEDSINCE {int(modseq)})").raw("FLAGS").raw(_flag_list(flags))
        messages: list[FetchedMessage] = []
        async with self._slot():
            cmd = _FetchCommand("STORE", wire, protocol=self._require(), uids=uid_set([uid]),
                                required=[], sink=messages.append, timeout=self.timeout)
            await self._execute(cmd)
        if re.search(r"\[MODIFIED ", cmd.tagged_text(), re.IGNORECASE):
            return None
        return next((m for m in messages if m.uid == uid and m.flags is not None), None) or FetchedMessage(0, uid)

    async def append(self, folder: str, message: bytes, flags: Iterable[str] = (),
                     date: dt.datetime | None = None) -> int | None:
        """APPEND; returns the new UID when the server reports APPENDUID (UIDPLUS)."""
        wire = self._wire("APPEND").mailbox(folder)
        flag_list = list(flags)
        if flag_list:
            wire.raw(_flag_list(flag_list))
        if date is not None:
            wire.raw(time2internaldate(date))
        wire.literal(message)
        cmd = await self._simple("APPEND", wire)
        m = re.search(r"\[APPENDUID \d+ (\d+)\]", cmd.tagged_text(), re.I)
        return int(m.group(1)) if m else None

    # -- updates and IDLE ----------------------------------------------------------------------------------
    def _updates(self) -> _Channel[Update]:
        if self._proto is None:
            raise ImapError(f"not connected to {self.label}")
        return self._proto.updates

    def pending_updates(self) -> list[Update]:
        """Updates received so far (between or during commands), oldest first."""
        return self._proto.updates.drain() if self._proto else []

    async def next_update(self, timeout: float) -> Update | None:
        """The next update, waiting up to `timeout` s (None if none came). Raises
        ImapConnectionLost once the connection is gone and no updates are left."""
        try:
            return await asyncio.wait_for(self._updates().get(), timeout)
        except TimeoutError:
            return None

    def idle(self, max_seconds: float = IDLE_MAX_SECONDS) -> IdleSession:
        """`async with imap.idle() as session: async for update in session: ...` — IDLE until the
        block exits or max_seconds pass (then iteration ends: re-issue it)."""
        return IdleSession(self, max_seconds)


class IdleSession:
    """An IDLE command in progress; iterate it for updates. See ImapConnection.idle."""

    def __init__(self, conn: ImapConnection, max_seconds: float) -> None:
        self._conn = conn
        self._max_seconds = max_seconds
        self._task: asyncio.Task[Response] | None = None
        self._deadline = 0.0

    async def __aenter__(self) -> IdleSession:
        conn = self._conn
        protocol = conn._require()
        if not conn.has("IDLE"):
            raise ImapError(f"{conn.label} has no IDLE; poll with noop()")
        if conn._busy:
            raise ImapError(f"{conn._busy} is running on {conn.label}; end it before IDLE")
        await conn._lock.acquire()
        conn._busy = "IDLE"
        loop = asyncio.get_running_loop()
        try:
            cmd = conn._command("IDLE", conn._wire("IDLE"), timeout=None, keep_units=False)
            protocol.arm_idle()
            self._task = loop.create_task(conn._execute(cmd))
            started = loop.create_task(protocol.idle_accepted())
            done, _ = await asyncio.wait({self._task, started}, timeout=conn.timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
            started.cancel()
            if self._task in done:
                self._task.result()  # NO/BAD or a lost connection
                raise ImapError(f"{conn.label} ended IDLE at once")
            if not done:
                error = ImapTimeout(f"IDLE not accepted by {conn.label} within {conn.timeout:g} s")
                protocol.fail(error)
                raise error
            if protocol.lost is not None:
                raise _fresh(protocol.lost)
        except BaseException:
            await self._finish()
            raise
        self._deadline = loop.time() + self._max_seconds
        return self

    def __aiter__(self) -> IdleSession:
        return self

    async def __anext__(self) -> Update:
        remaining = self._deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise StopAsyncIteration
        try:
            return await asyncio.wait_for(self._conn._updates().get(), remaining)
        except TimeoutError:
            raise StopAsyncIteration from None
        except _EndOfStream:
            raise StopAsyncIteration from None

    async def __aexit__(self, *exc_info: object) -> None:
        await self._finish(send_done=True)

    async def _finish(self, send_done: bool = False) -> None:
        conn = self._conn
        protocol = conn._proto
        try:
            task = self._task
            if task is not None and not task.done() and protocol is not None and protocol.lost is None:
                if send_done:
                    protocol.idle_done()
                    done, _ = await asyncio.wait({task}, timeout=conn.timeout)
                    if not done:
                        protocol.fail(ImapTimeout(f"IDLE did not end at {conn.label} within "
                                                  f"{conn.timeout:g} s; connection closed"))
                else:
                    protocol.fail(ImapConnectionLost(f"IDLE on {conn.label} abandoned"))
            if task is not None:
                await asyncio.wait({task})
                if not task.cancelled() and task.exception() is not None and send_done:
                    exc = task.exception()
                    if isinstance(exc, ImapError) and not isinstance(exc, ImapConnectionLost):
                        raise exc
        finally:
            conn._busy = None
            conn._lock.release()
