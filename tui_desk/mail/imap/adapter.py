"""The aioimaplib adapter: the one file that knows aioimaplib 2.0.3, and the only one coupled
to its private methods and attributes. Nothing else in tui_desk imports aioimaplib
(tests/test_imap_adapter.py checks that, and the list below).

`_Protocol` subclasses aioimaplib's `IMAP4ClientProtocol` (tags, `Command` objects, `execute`,
the greeting and state machine) and `_UnitCommand` its `Command`, to fix the upstream bugs
below; `ImapConnection` (connection.py, session.py) drives them and hands the rest of the app
typed results and one-line `ImapError`s.

Upstream bugs and how they are handled (each has a test in tests/test_imap_adapter.py):

1. RecursionError / hang on big reads (iroco-co/aioimaplib#118): `_handle_responses` recurses once
   per line, so one read of more than ~1000 lines raises RecursionError inside `data_received`;
   asyncio closes the transport and the command never completes. `_Protocol.data_received` is an
   iterative framer.
2. Quadratic FETCH parsing: upstream copies the rest of the read for every line and
   `FetchCommand.wait_data` re-joins all lines received so far to count parentheses (which is
   also wrong when a quoted string holds one). The framer follows RFC 3501 framing instead (a line
   ending in {N} is followed by N literal bytes; any other CRLF ends the response) in one linear
   pass, and each FETCH response is parsed once, when complete, and handed on as it arrives
   (`_FetchCommand.sink`, with back-pressure through `paused`). The per-line timer re-arm is
   replaced by one lazy inactivity timer.
3. No STARTTLS (upstream #1): `connect()` with security="starttls" sends STARTTLS, upgrades the
   transport with `loop.start_tls` and asks for CAPABILITY again; plaintext the server sent after
   its OK is refused (STARTTLS injection, `hold_plaintext`), and there is no fallback to plaintext.
4. Arguments never quoted: mailbox names go out as quoted modified UTF-7 (RFC 3501 §5.1.3,
   wire.py); other strings as quoted strings or literals (LITERAL+ when offered, else
   synchronizing: `send` and `_continuation` release the parts). Also: upstream strips every "* "
   inside an untagged line, not only the prefix (corrupting names and ENVELOPE strings), and
   parses the post-LOGIN CAPABILITY as words of the OK text ("SPECIAL-USE]", "Logged", "in").
5. Unsolicited responses dropped: EXISTS, RECENT, EXPUNGE, VANISHED and FETCH that no pending
   command asked for (during IDLE, NOOP, any other command, or FETCH data for other messages)
   reach the `Update` stream (`_Protocol.updates`).
6. Pending commands hang forever when the connection drops (upstream #110): `connection_lost`
   fails every pending command, the IDLE session and the update stream with
   `ImapConnectionLost`, and so does an untagged BYE at once (Dovecot may keep the socket open
   for seconds after it); later calls fail at once. Every command has a timeout (no data for
   `timeout` seconds). TLS always goes through `loop.start_tls` with `ssl_handshake_timeout`,
   never a cancelled handshake, which leaks the transport and can hang (upstream #128).

What this file relies on inside aioimaplib, and the upstream fix that would let each go
(`UPSTREAM_PRIVATES` and `UPSTREAM_INTERNALS` below are the same list, checked against the
installed aioimaplib by tests/test_imap_adapter.py; keep the three in step). Issue numbers are
iroco-co/aioimaplib's; "no issue" means none was found upstream (searched December 2026).

Private names (underscore):
- `Command._set_timer`, `Command._reset_timer` (overridden: upstream's `__init__`,
  `append_to_resp` and `append_literal_data` call them), `Command._timer`, `._timeout`,
  `._loop` (read and set by the override), `Command._timeout_callback` (called when the
  lazy timer finds the command quiet too long). Upstream cancels and re-creates a TimerHandle for
  every line and literal chunk. Fix: an inactivity timeout re-armed lazily, or a public
  "touch"/timeout hook on Command (no issue).
- `Command._event`, `Command._exception` (read and set by `_Protocol._fail_pending` to fail a
  waiting command with our error). Fix: #110 (fail pending commands on connection loss and on
  BYE) plus a public `Command.fail(exc)`.
- `IMAP4ClientProtocol._handle_line`, `._untagged_response`, `._continuation` (replaced under
  the same names; only our framer calls them now). Fix: #118 (an iterative `_handle_responses`,
  PRs #103, #119, #130), then literal-aware RFC 3501 framing instead of parenthesis counting
  (no issue), stripping only the leading "* " (no issue), a callback or queue for unsolicited
  responses during any command (no issue), and synchronizing literals for arguments (no issue).
- `IMAP4ClientProtocol._response_done` (extended through super(): clears queued literal parts
  and holds plaintext after STARTTLS's OK). Fix: STARTTLS (#1) and argument literals (above).
- `IMAP4ClientProtocol._idle_event` (cleared before IDLE, set on "+" and on failure, waited on by
  `arm_idle`/`idle_accepted`). Fix: #110 (IDLE fails when the connection goes; upstream's
  public `wait_for_idle_response` would then do).

Internals without an underscore (not documented API; the documented API is the `IMAP4` client,
which cannot do the above). connection.py and session.py use a few of them, inherited by
`_Protocol` (`execute`, `new_tag`, `idle_done`, `state`, `capabilities`, `transport`); only this
file imports aioimaplib:
- `IMAP4ClientProtocol.pending_sync_command`, `.pending_async_commands` (read to route
  responses, cleared by `_fail_pending`), `.state` (set after LOGIN, SELECT, LOGOUT),
  `.capabilities` (set from CAPABILITY responses), `.transport` and `.loop` (set by upstream's
  `__init__` and `connection_made`; `transport` is replaced after `start_tls`), `.welcome`,
  `.execute`, `.new_tag`, `.idle_done`, and `.send` (overridden: `execute` calls it with
  str(command); ours writes the pre-encoded bytes). Fix: quoting/literal arguments and typed
  commands upstream (no issue).
- `Command.__init__(name, tag, prefix=, loop=, timeout=)`, `.name`, `.tag`,
  `.append_to_resp`, `.begin_literal_data`, `.append_literal_data`, `.wait_literal_data`,
  `.close`, `.response` (overridden or called to collect whole responses). Fix: as for
  `_handle_line` above.
- The module's `Commands` table with `Cmd` and `Exec`: NOTIFY (RFC 5465) is added, since
  `execute` refuses names it does not list. Fix: NOTIFY in the table, or `execute` taking any
  command (no issue).
- `message_data_re`, `tagged_status_response_re`, `time2internaldate`, the state names
  (`CONNECTED`, `AUTH`, `SELECTED`, `LOGOUT`), `Abort`, `CommandTimeout`, `Response`.

Secrets: the password (or OAuth2 token) is only in the LOGIN (AUTHENTICATE) bytes, which are
dropped once written (`send`); command reprs and debug logs show "****". Received data is logged
by size only.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Literal

from aioimaplib.aioimaplib import (
    AUTH,
    CONNECTED,
    LOGOUT,
    SELECTED,
    Abort,
    Command,
    CommandTimeout,
    IMAP4ClientProtocol,
    Response,
    message_data_re,
    tagged_status_response_re,
    time2internaldate,
)
from aioimaplib import aioimaplib as _upstream

from tui_desk.mail.imap.channel import _Channel
from tui_desk.mail.imap.errors import (ImapConnectError, ImapConnectionLost, ImapError, ImapProtocolError,
                                       _describe, _fresh)
from tui_desk.mail.imap.responses import (_FETCH_LINE, _UPDATE_LINE, _VANISHED_EARLIER, _parse_fetch,
                                          _text, _update_from_unit, _update_kind)
from tui_desk.mail.imap.results import FetchedMessage, Update
from tui_desk.mail.imap.wire import _literal_size, _parse_uid_ranges, _UidSet, _Wire

__all__ = ["AUTH", "LOGOUT", "SELECTED", "Abort", "CommandTimeout", "Response", "time2internaldate"]

# The list in the module docstring, checked against the installed aioimaplib (see above).
UPSTREAM_PRIVATES: dict[str, tuple[str, ...]] = {
    "Command": ("_set_timer", "_reset_timer", "_timer", "_timeout", "_loop", "_timeout_callback",
                "_event", "_exception"),
    "IMAP4ClientProtocol": ("_handle_line", "_untagged_response", "_continuation", "_response_done",
                            "_idle_event"),
}
UPSTREAM_INTERNALS: dict[str, tuple[str, ...]] = {
    "IMAP4ClientProtocol": ("pending_sync_command", "pending_async_commands", "state", "capabilities",
                            "transport", "loop", "connection_made", "welcome", "execute", "new_tag",
                            "idle_done", "send"),
    "Command": ("name", "tag", "append_to_resp", "begin_literal_data", "append_literal_data",
                "wait_literal_data", "close", "response"),
    "module": ("Commands", "Cmd", "Exec", "message_data_re", "tagged_status_response_re",
               "time2internaldate", "CONNECTED", "AUTH", "SELECTED", "LOGOUT", "Abort",
               "CommandTimeout", "Response", "Command", "IMAP4ClientProtocol"),
}

# aioimaplib checks every command against its table; NOTIFY (RFC 5465) is not in it
_upstream.Commands.setdefault("NOTIFY", _upstream.Cmd("NOTIFY", (AUTH, SELECTED), _upstream.Exec.is_sync))

log = logging.getLogger("tui_desk.mail.imap")  # the name logs had before the split


class _UnitCommand(Command):
    """An aioimaplib Command that collects whole responses ("units": line, literal, line, ...)
    instead of loose lines, sends pre-encoded bytes, and re-arms one lazy timer instead of a new
    one per line. `claims` names the unsolicited kinds it wants (SELECT: EXISTS...; FETCH:
    FETCH); everything else of that sort goes to the update stream."""

    def __init__(self, name: str, tag: str, wire: _Wire, *, loop: asyncio.AbstractEventLoop,
                 timeout: float | None, prefix: str | None = None,
                 claims: frozenset[str] = frozenset(), keep_units: bool = True) -> None:
        self.wire = wire.finish()
        self.display = " ".join(wire.display)
        self.units: list[list[bytes]] = []
        self.claims = claims
        self.keep_units = keep_units
        self.paused = False
        self._unit: list[bytes] = []
        self._literal: list[bytes] = []
        self._literal_left = 0
        self._last_activity = 0.0
        # upstream annotates prefix: str and timeout: float, with None as their defaults
        super().__init__(name, tag, prefix=prefix, loop=loop, timeout=timeout)  # type: ignore[arg-type]  # (above)

    def __repr__(self) -> str:
        return f"{self.tag} {self.display}"

    __str__ = __repr__

    # -- timer: one handle per command, re-armed only when it fires --
    def _set_timer(self) -> None:
        self._last_activity = self._loop.time()
        if self._timeout is not None:
            self._timer = self._loop.call_later(self._timeout, self._check_timer)

    def _reset_timer(self) -> None:
        self._last_activity = self._loop.time()

    def unpause(self) -> None:
        """Reading resumes after back-pressure: the quiet time counts from now."""
        self.paused = False
        self._reset_timer()

    def _check_timer(self) -> None:
        if self._event.is_set():
            return
        assert self._timeout is not None
        quiet = self._loop.time() - self._last_activity
        if self.paused or quiet < self._timeout:
            self._timer = self._loop.call_later(
                self._timeout if self.paused else self._timeout - quiet, self._check_timer)
        else:
            self._timeout_callback()

    # -- response collection --
    def append_to_resp(self, line: bytes, result: str = "Pending") -> None:
        if result != "Pending":
            super().append_to_resp(line, result)
            return
        self._unit.append(line)
        self._last_activity = self._loop.time()

    def begin_literal_data(self, expected_size: int, literal_data: bytes = b"") -> bytes:
        self._literal = []
        self._literal_left = expected_size
        if expected_size == 0:
            self._unit.append(b"")
            return literal_data
        return self.append_literal_data(literal_data) if literal_data else b""

    def append_literal_data(self, data: bytes) -> bytes:
        """Take what belongs to the literal; return the rest (aioimaplib's contract)."""
        take = self._literal_left
        chunk = data if len(data) <= take else data[:take]
        self._literal.append(chunk)
        self._literal_left -= len(chunk)
        if self._literal_left == 0:
            self._unit.append(self._literal[0] if len(self._literal) == 1 else b"".join(self._literal))
            self._literal = []
        self._last_activity = self._loop.time()
        return data[take:] if len(data) > take else b""

    def wait_literal_data(self) -> bool:
        return self._literal_left > 0

    def end_of_response(self) -> None:
        unit, self._unit = self._unit, []
        if unit:
            self.on_unit(unit)

    def take_unit(self, unit: list[bytes]) -> None:
        """A whole response read at once (_Protocol._whole_fetch): as append_to_resp,
        append_literal_data and end_of_response would take it."""
        self._last_activity = self._loop.time()
        self.on_unit(unit)

    def on_unit(self, unit: list[bytes]) -> None:
        if self.keep_units:
            self.units.append(unit)

    def close(self, line: bytes, result: str) -> None:
        super().close(line, result)
        self.on_closed()

    def on_closed(self) -> None:
        pass

    def tagged_text(self) -> str:
        lines = self.response.lines
        return _text(bytes(lines[-1])) if lines else ""


class _UpdateCollector(_UnitCommand):
    """Collects one unsolicited response (it may carry literals) and posts it as an Update."""

    def __init__(self, protocol: _Protocol) -> None:
        super().__init__("NOOP", "*", _Wire("*", "unsolicited", False, False),
                         loop=protocol.loop, timeout=None)
        self._protocol = protocol

    def on_unit(self, unit: list[bytes]) -> None:
        self._protocol.post_update(unit)


class _FetchCommand(_UnitCommand):
    """UID FETCH: each FETCH response is parsed when complete and handed to `sink`; responses
    for other messages, or without the data asked for (flag changes of other sessions), are
    updates; VANISHED (EARLIER) UIDs are collected."""

    def __init__(self, name: Literal["FETCH", "STORE"], wire: _Wire, *, protocol: _Protocol,
                 uids: str, required: list[str], sink: Callable[[FetchedMessage], None],
                 timeout: float | None) -> None:
        super().__init__(name, wire.tag, wire, loop=protocol.loop, timeout=timeout, prefix="UID",
                         claims=frozenset({"FETCH"}))
        self._protocol = protocol
        self._uids = _UidSet(uids)
        self._required = required
        self.sink = sink
        self.vanished: list[tuple[int, int]] = []
        self.closed_hook: Callable[[], None] | None = None

    def on_unit(self, unit: list[bytes]) -> None:
        if _FETCH_LINE.match(unit[0]):
            msg = _parse_fetch(unit)
            if msg.uid is not None and msg.uid in self._uids and all(map(msg.has, self._required)):
                self.sink(msg)
            else:
                self._protocol.updates.put(Update("FETCH", msg.seq, message=msg))
            return
        m = _VANISHED_EARLIER.match(unit[0])
        if m:
            self.vanished.extend(_parse_uid_ranges(m.group(1)))
        elif self.keep_units:
            self.units.append(unit)

    def on_closed(self) -> None:
        if self.closed_hook is not None:
            self.closed_hook()


# -- the protocol layer over aioimaplib -------------------------------------------------------------
class _Protocol(IMAP4ClientProtocol):
    """aioimaplib's protocol with the fixes listed in the module docstring."""

    # Attributes upstream's __init__ sets with types narrower than it uses them (mypy infers
    # them from that __init__: None for the first two), as they are used.
    transport: asyncio.Transport | None  # type: ignore[assignment]  # set by connection_made, replaced after start_tls
    pending_sync_command: Command | None  # type: ignore[assignment]  # the command being run, if sync
    pending_async_commands: dict[str, Command]
    loop: asyncio.AbstractEventLoop  # Optional upstream; ours is always given one

    def __init__(self, loop: asyncio.AbstractEventLoop, label: str) -> None:
        super().__init__(loop)
        self.label = label  # "host:port" for messages
        self.updates: _Channel[Update] = _Channel()
        self.lost: ImapError | None = None
        self.greeted: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()  # set by connection_lost
        self.starttls_tag: str | None = None
        self.hold_plaintext = False  # STARTTLS got its OK: parse nothing more until TLS is up
        self._buf = bytearray()
        self._scan_from = 0  # where to resume looking for CRLF in a partial line
        self._literal_left = 0
        self._literal_cmd: Command | None = None
        self._continuing: Command | None = None  # response being read continues after a literal
        self._literal_queue: deque[bytes] = deque()
        self._bye: str | None = None

    # -- framing (fixes 1 and 2) --
    def data_received(self, data: bytes) -> None:
        self._buf += data
        if self.hold_plaintext:
            return
        try:
            self._parse_buffer()
        except Exception as exc:  # a parser bug or garbage must not leave commands hanging
            log.debug("unparseable data from %s", self.label, exc_info=True)
            self.fail(ImapProtocolError(f"bad response from {self.label}: {exc}"))

    def _parse_buffer(self) -> None:
        buf = self._buf
        pos, end = 0, len(buf)
        view = memoryview(buf)
        try:
            while pos < end and not self.hold_plaintext and self.lost is None:
                if self._literal_left:
                    take = min(self._literal_left, end - pos)
                    assert self._literal_cmd is not None
                    self._literal_cmd.append_literal_data(bytes(view[pos:pos + take]))
                    pos += take
                    self._literal_left -= take
                    continue
                eol = buf.find(b"\r\n", pos + self._scan_from)
                if eol < 0:
                    self._scan_from = max(0, end - pos - 1)
                    break
                self._scan_from = 0
                line = bytes(view[pos:eol])
                if self._continuing is None and line.endswith(b"}"):
                    after = self._whole_fetch(view, line, eol + 2, end)
                    if after >= 0:
                        pos = after
                        continue
                pos = eol + 2
                cmd = self._handle_line(line, self._continuing)
                size = _literal_size(line)
                if size is not None:
                    if cmd is None:  # a literal nobody asked for: read and drop it
                        cmd = _UnitCommand("NOOP", "*", _Wire("*", "ignored", False, False),
                                           loop=self.loop, timeout=None, keep_units=False)
                    cmd.begin_literal_data(size)
                    self._literal_left, self._literal_cmd, self._continuing = size, cmd, cmd
                else:
                    self._continuing = None
                    if isinstance(cmd, _UnitCommand):
                        cmd.end_of_response()
        finally:
            view.release()
            del buf[:pos]
        log.debug("read from %s, %d bytes left unparsed", self.label, len(buf))

    def _whole_fetch(self, view: memoryview, line: bytes, start: int, end: int) -> int:
        """The response a sync gets for every message, `* N FETCH (... {size}`, the literal,
        `)`, when all of it is in the buffer and a FETCH command is running: handed to that
        command as one unit at once, the unit the line-by-line path below builds (a fifth of
        the main thread's time in a first sync went on that path's calls). Returns where the
        response ends, or -1: the line-by-line path reads it."""
        if not line.startswith(b"* ") or self.state == CONNECTED:
            return -1
        size = _literal_size(line)
        if size is None:
            return -1
        close = start + size
        if end < close + 3 or view[close:close + 3].tobytes() != b")\r\n":
            return -1
        pending = self._pending()
        if not isinstance(pending, _FetchCommand) or not _FETCH_LINE.match(line, 2):
            return -1
        pending.take_unit([line[2:], bytes(view[start:close]), b")"])
        return close + 3

    def _handle_line(self, line: bytes, current_cmd: Command | None) -> Command | None:
        if current_cmd is not None:  # the rest of a response, after a literal
            current_cmd.append_to_resp(line)
            return current_cmd
        if self.state == CONNECTED:
            task = self.loop.create_task(self.welcome(line))
            task.add_done_callback(self._greeting_done)
            return None
        if line.startswith(b"*"):
            return self._untagged_response(line)
        if line.startswith(b"+"):
            self._continuation(line)
        elif tagged_status_response_re.match(line):
            self._response_done(line)
        else:
            log.info("unexpected line from %s (%d bytes)", self.label, len(line))
        return None

    def _greeting_done(self, task: asyncio.Task[None]) -> None:
        exc = task.exception() if not task.cancelled() else None  # always retrieve it
        if self.greeted.done():
            return
        if exc is not None:
            self.greeted.set_exception(ImapConnectError(f"{self.label} refused the session: {exc}"))
        else:
            self.greeted.set_result(None)

    # -- routing of untagged responses (fixes 4 and 5) --
    def _pending(self) -> Command | None:
        if self.pending_sync_command is not None:
            return self.pending_sync_command
        return next(iter(self.pending_async_commands.values()), None)

    def _untagged_response(self, line: bytes) -> Command | None:  # type: ignore[override]  # upstream's returns None too
        text = line[2:] if line.startswith(b"* ") else line[1:].lstrip()
        pending = self._pending()
        m = _UPDATE_LINE.match(text)
        if m is not None:
            kind = _update_kind(m)
            if kind not in getattr(pending, "claims", ()):
                collector = _UpdateCollector(self)
                collector.append_to_resp(text)
                return collector
        if text[:3].upper() == b"BYE":
            self._bye = _text(text).strip()
            if getattr(pending, "name", None) != "LOGOUT":
                # The server is closing; some keep the socket open a while. Do not wait for it.
                self.fail(ImapConnectionLost(f"connection to {self.label} lost: {self._bye}"))
                return None
        if pending is None:
            log.debug("untagged response with no command pending from %s", self.label)
            return None
        if isinstance(pending, _UnitCommand) or pending is self.pending_sync_command:
            pending.append_to_resp(text)
            return pending
        # aioimaplib's own async commands (the greeting's CAPABILITY): upstream routing by name.
        data = message_data_re.match(text)
        if data:
            name, rest = data.group(1), text
        else:
            name, _, rest = text.partition(b" ")
        command = self.pending_async_commands.get(name.decode("ascii", "replace").upper())
        if command is not None:
            command.append_to_resp(rest)
            return command
        return None

    def post_update(self, unit: list[bytes]) -> None:
        try:
            update = _update_from_unit(unit)
        except (ValueError, IndexError) as exc:
            log.info("unparseable update from %s: %s", self.label, exc)
            return
        if update is not None:
            self.updates.put(update)

    # -- sending (fix 4: literals; secrets never logged) --
    def _pending_by_tag(self, tag: str) -> Command | None:
        if self.pending_sync_command is not None and self.pending_sync_command.tag == tag:
            return self.pending_sync_command
        for command in self.pending_async_commands.values():
            if command.tag == tag:
                return command
        return None

    def send(self, line: str, scrub: str | None = None) -> None:
        command = self._pending_by_tag(line.partition(" ")[0])
        if self.lost is not None and command is not None:  # lost while execute() waited
            self._fail_pending(self.lost)
            return
        if scrub:
            line = line.replace(scrub, "****")
        log.debug("send to %s: %s", self.label, line)
        transport = self.transport
        assert transport is not None  # execute() runs on a connection connection_made set up
        if not isinstance(command, _UnitCommand):
            transport.write(line.encode() + b"\r\n")
            return
        # Drop our reference as soon as it is written: it may hold a password or a big message.
        parts, command.wire = command.wire, []
        transport.write(parts[0])
        self._literal_queue.extend(parts[1:])

    def _continuation(self, line: bytes) -> None:
        if self._literal_queue:
            assert self.transport is not None  # a continuation came in over it
            self.transport.write(self._literal_queue.popleft())
        elif self.pending_sync_command is not None and self.pending_sync_command.name == "IDLE":
            self._idle_event.set()
        else:
            log.debug("unexpected continuation from %s", self.label)

    def _response_done(self, line: bytes) -> None:
        self._literal_queue.clear()  # a NO/BAD instead of "+" ends a literal command too
        super()._response_done(line)
        if self.starttls_tag is not None and line.startswith(self.starttls_tag.encode() + b" OK"):
            self.hold_plaintext = True

    def buffered(self) -> int:
        return len(self._buf)

    # -- IDLE: upstream's event for the server's "+" (set on failure too, by _fail_pending) --
    def arm_idle(self) -> None:
        self._idle_event.clear()

    async def idle_accepted(self) -> None:
        await self._idle_event.wait()

    # -- connection loss (fix 6) --
    def fail(self, error: ImapError) -> None:
        """Close the connection and fail everything waiting on it with `error`."""
        if self.lost is None:
            self.lost = error
        self._fail_pending(self.lost)
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.lost is None:
            why = self._bye or (_describe(exc) if exc else "closed by the server")
            self.lost = ImapConnectionLost(f"connection to {self.label} lost: {why}")
        self._fail_pending(self.lost)
        if not self.closed.done():
            self.closed.set_result(None)
        super().connection_lost(exc)

    def _fail_pending(self, error: ImapError) -> None:
        commands: list[Command | None] = [self.pending_sync_command, *self.pending_async_commands.values()]
        self.pending_sync_command = None
        self.pending_async_commands.clear()
        for command in commands:
            if command is not None and not command._event.is_set():
                command._exception = _fresh(error)  # type: ignore[assignment]  # upstream sets None first: typed None
                command.close(b"", "KO")
        self._literal_queue.clear()
        self.updates.end(error)
        self._idle_event.set()
        if not self.greeted.done():
            self.greeted.set_exception(_fresh(error))
            self.greeted.exception()  # retrieved: the connect() path reports it

