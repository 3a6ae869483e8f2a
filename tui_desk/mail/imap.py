"""IMAP adapter: the one place the app speaks IMAP, built on aioimaplib 2.0.3.

`ImapConnection` drives aioimaplib's `IMAP4ClientProtocol` (tags, `Command` objects, `execute`,
the greeting and state machine) through `_Protocol`, a thin subclass that fixes the upstream bugs
below, and hands the rest of the app typed results (`Folder`, `MailboxStatus`, `FetchedMessage`,
`Update`) and one-line `ImapError`s. Commands are sent one at a time (an asyncio lock); a big
FETCH streams its messages instead of pipelining many commands.

Upstream bugs and how they are handled (each has a test in tests/test_imap_adapter.py):

1. RecursionError / hang on big reads (iroco-co/aioimaplib#118): `_handle_responses` recurses once
   per line, so one read of more than ~1000 lines raises RecursionError inside `data_received`;
   asyncio closes the transport and the command never completes. `_Protocol.data_received` is an
   iterative framer.
2. Quadratic FETCH parsing: upstream copies the rest of the read for every line and
   `FetchCommand.wait_data` re-joins all lines received so far to count parentheses (which is
   also wrong when a quoted string holds one). The framer follows RFC 3501 framing instead (a line
   ending in {N} is followed by N literal bytes; any other CRLF ends the response) in one linear
   pass, and each FETCH response is parsed once, when complete, and streamed (`uid_fetch_iter`,
   with back-pressure). The per-line timer re-arm is replaced by one lazy inactivity timer.
3. No STARTTLS (upstream #1): `connect()` with security="starttls" sends STARTTLS, upgrades the
   transport with `loop.start_tls` and asks for CAPABILITY again; plaintext the server sent after
   its OK is refused (STARTTLS injection), and there is no fallback to plaintext.
4. Arguments never quoted: mailbox names go out as quoted modified UTF-7 (RFC 3501 §5.1.3,
   `encode_mailbox`/`decode_mailbox`); other strings as quoted strings or literals (LITERAL+ when
   offered, else synchronizing). Also: upstream strips every "* " inside an untagged line, not
   only the prefix (corrupting names and ENVELOPE strings), and parses the post-LOGIN CAPABILITY
   as words of the OK text ("SPECIAL-USE]", "Logged", "in").
5. Unsolicited responses dropped: EXISTS, RECENT, EXPUNGE, VANISHED and FETCH that no pending
   command asked for (during IDLE, NOOP, any other command, or FETCH data for other messages)
   reach the `Update` stream (`idle()`, `next_update()`, `pending_updates()`).
6. Pending commands hang forever when the connection drops (upstream #110): `connection_lost`
   fails every pending command, the IDLE session and the update stream with
   `ImapConnectionLost`, and so does an untagged BYE at once (Dovecot may keep the socket open
   for seconds after it); later calls fail at once. Connect, greeting, TLS handshake and every
   command have timeouts (commands: no data for `timeout` seconds); a timeout closes the
   connection, since its state is unknown afterwards. TLS always goes through `loop.start_tls`
   with `ssl_handshake_timeout`, never a cancelled handshake, which leaks the transport and can
   hang (upstream #128).

Secrets: the password (or OAuth2 token) is only in the LOGIN (AUTHENTICATE) bytes, which are
dropped once written; command reprs and debug logs show "****"; errors never quote commands. Received data is logged by size only.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import datetime as dt
import functools
import ipaddress
import logging
import os
import re
import socket
import ssl
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import EllipsisType
from typing import Any, Generic, Literal, TypeVar

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

# aioimaplib checks every command against its table; NOTIFY (RFC 5465) is not in it
_upstream.Commands.setdefault("NOTIFY", _upstream.Cmd("NOTIFY", (AUTH, SELECTED), _upstream.Exec.is_sync))

log = logging.getLogger(__name__)

Security = Literal["tls", "starttls", "none"]
IDLE_MAX_SECONDS = 29 * 60  # servers may drop an IDLE after 30 minutes (RFC 2177)
_T = TypeVar("_T")


# -- errors ------------------------------------------------------------------------------------------
class ImapError(Exception):
    """Any IMAP failure; str() is one line meant for the user."""


class ImapConnectError(ImapError):
    """The server could not be reached or refused the session."""


class ImapTlsError(ImapConnectError):
    """TLS could not be set up (certificate not trusted, handshake failed, no STARTTLS)."""


class ImapAuthError(ImapError):
    """LOGIN was refused."""


class ImapCommandError(ImapError):
    """The server answered NO or BAD."""

    def __init__(self, message: str, result: str = "NO", server_text: str = "") -> None:
        super().__init__(message)
        self.result = result
        self.server_text = server_text


class ImapConnectionLost(ImapError):
    """The connection is gone (dropped, closed by the server, timed out); reconnect."""


class ImapTimeout(ImapConnectionLost):
    """No data for too long; the connection was closed."""


class ImapProtocolError(ImapConnectionLost):
    """The server sent something unparseable; the connection was closed."""


# -- typed results ----------------------------------------------------------------------------------
SPECIAL_USE = frozenset({"\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"})
_SPECIAL_USE_BY_LOWER = {s.lower(): s for s in SPECIAL_USE}


@dataclass(frozen=True, slots=True)
class Folder:
    name: str  # decoded from modified UTF-7; "INBOX" spelled upper-case
    delimiter: str | None
    flags: frozenset[str]  # e.g. "\\HasNoChildren", "\\Sent"
    special_use: str | None  # "\\Sent", "\\Trash", ... (RFC 6154) or None

    @property
    def selectable(self) -> bool:
        return not {"\\noselect", "\\nonexistent"} & {f.lower() for f in self.flags}


@dataclass(slots=True)
class FetchedMessage:
    """One FETCH response. Fields stay None when the item was not in the response."""

    seq: int
    uid: int | None = None
    flags: tuple[str, ...] | None = None
    modseq: int | None = None
    internaldate: dt.datetime | None = None
    size: int | None = None  # RFC822.SIZE
    body: bytes | None = None  # BODY[] / RFC822
    header: bytes | None = None  # BODY[HEADER] / RFC822.HEADER
    # Other BODY[...] by section, upper-case: "TEXT", "1.MIME", "HEADER.FIELDS (SUBJECT)", "<0>"
    sections: dict[str, bytes | None] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # ENVELOPE, BODYSTRUCTURE, ... as parsed lists

    def has(self, key: str) -> bool:
        """Whether the response carried item `key` (upper-case, response spelling)."""
        match key:
            case "UID" | "FLAGS" | "MODSEQ" | "INTERNALDATE":
                return getattr(self, key.lower()) is not None
            case "RFC822.SIZE":
                return self.size is not None
            case "BODY[]" | "RFC822":
                return self.body is not None
            case "BODY[HEADER]" | "RFC822.HEADER":
                return self.header is not None
        if key.startswith("BODY["):
            return _section_key(key[4:]) in self.sections
        return key in self.extra


@dataclass(slots=True)
class MailboxStatus:
    name: str
    readonly: bool
    exists: int = 0
    recent: int = 0
    uidvalidity: int = 0
    uidnext: int = 0
    highestmodseq: int | None = None  # None: no CONDSTORE for this mailbox
    flags: tuple[str, ...] = ()
    permanent_flags: tuple[str, ...] = ()
    vanished: list[int] = field(default_factory=list)  # QRESYNC: expunged since the given modseq
    changed: list[FetchedMessage] = field(default_factory=list)  # QRESYNC: flag changes since then


@dataclass(frozen=True, slots=True)
class QresyncState:
    """What the client knew about a mailbox, for SELECT (QRESYNC ...) (RFC 7162)."""

    uidvalidity: int
    modseq: int
    known_uids: str | None = None  # UID set, e.g. "1:500"


@dataclass(frozen=True, slots=True)
class Update:
    """A change the server announced on its own.

    kind: EXISTS/RECENT (`number` = new count), EXPUNGE (`number` = sequence number),
    VANISHED (`uid_ranges`, QRESYNC), FETCH (`number` = sequence number, `message` = flags,
    modseq and, with QRESYNC, uid); with NOTIFY (RFC 5465, `notify_set`): STATUS (mail came to
    or left another folder) and LIST (a folder was made, renamed or deleted), `mailbox` naming it."""

    kind: Literal["EXISTS", "RECENT", "EXPUNGE", "VANISHED", "FETCH", "STATUS", "LIST"]
    number: int | None = None
    uid_ranges: tuple[tuple[int, int], ...] = ()
    message: FetchedMessage | None = None
    mailbox: str | None = None

    @property
    def uids(self) -> list[int]:
        return [u for lo, hi in self.uid_ranges for u in range(lo, hi + 1)]


class Raw(str):
    """A search/fetch argument sent verbatim, e.g. Raw("(OR SEEN FLAGGED)")."""


# -- modified UTF-7 (RFC 3501 §5.1.3) ------------------------------------------------------------
def encode_mailbox(name: str) -> str:
    """Mailbox name → modified UTF-7: printable ASCII stands for itself ("&" is "&-"), any other
    run is UTF-16BE in base64 with "," for "/", unpadded, between "&" and "-"."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            raw = "".join(run).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode("ascii").rstrip("=").replace("/", ",") + "-")
            run.clear()

    for ch in name:
        if " " <= ch <= "~":
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


_MUTF7_RUN = re.compile(r"&([A-Za-z0-9+,]*)-")


def decode_mailbox(name: str) -> str:
    """Modified UTF-7 → str. A malformed run is kept as it was (names must stay usable)."""

    def run(m: re.Match[str]) -> str:
        b64 = m.group(1)
        if not b64:
            return "&"
        try:
            raw = base64.b64decode(b64.replace(",", "/") + "=" * (-len(b64) % 4), validate=True)
            return raw.decode("utf-16-be")
        except ValueError:
            return m.group(0)

    return _MUTF7_RUN.sub(run, name) if "&" in name else name


# -- response parsing ----------------------------------------------------------------------------------
# One token per match: "(", ")", quoted string, literal marker at the end of a line, or an atom
# (which may carry a [section] with spaces/parens inside, e.g. BODY[HEADER.FIELDS (SUBJECT)]).
_TOKEN = re.compile(
    rb' *(?:(\()|(\))|"((?:[^"\\\r\n]|\\.)*)"|~?\{(\d+)\+?\}$|((?:[^ ()"\[\]{\r\n]|\[[^\]]*\])+))')
_UNESCAPE = re.compile(rb"\\(.)")
_Item = Any  # bytes | None | list[_Item]


def _parse_unit(unit: list[bytes], start: int = 0) -> list[_Item]:
    """Parse one response (lines at even, literals at odd indexes) from offset `start` of its
    first line into nested lists of bytes; NIL becomes None."""
    root: list[_Item] = []
    stack = [root]
    current = root
    for index in range(0, len(unit), 2):
        line = unit[index]
        pos = start if index == 0 else 0
        end = len(line)
        while pos < end:
            m = _TOKEN.match(line, pos)
            if m is None:
                if not line[pos:].strip():
                    break
                raise ValueError(f"unexpected {line[pos:pos + 20]!r}")
            pos = m.end()
            kind = m.lastindex
            if kind == 5:
                atom = m.group(5)
                current.append(None if atom == b"NIL" else atom)
            elif kind == 1:
                child: list[_Item] = []
                current.append(child)
                stack.append(child)
                current = child
            elif kind == 2:
                if len(stack) > 1:
                    stack.pop()
                    current = stack[-1]
            elif kind == 3:
                quoted = m.group(3)
                current.append(_UNESCAPE.sub(rb"\1", quoted) if b"\\" in quoted else quoted)
            else:
                current.append(unit[index + 1] if index + 1 < len(unit) else b"")
    return root


_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}


@functools.lru_cache(maxsize=64)
def _zone(minutes: int) -> dt.timezone:
    return dt.timezone(dt.timedelta(minutes=minutes))


def parse_internaldate(value: bytes) -> dt.datetime:
    """'17-Jul-1996 02:44:25 -0700' → aware datetime (by hand: strptime is slow and locale-bound)."""
    day_part, time_part, zone = value.decode("ascii").split()
    day, month, year = day_part.split("-")
    hour, minute, second = time_part.split(":")
    offset = int(zone[1:3]) * 60 + int(zone[3:5])
    return dt.datetime(int(year), _MONTHS[month.title()], int(day), int(hour), int(minute),
                       int(second), tzinfo=_zone(-offset if zone[0] == "-" else offset))


def _section_key(spec: str) -> str:
    """'[HEADER.FIELDS (SUBJECT)]<0>' → 'HEADER.FIELDS (SUBJECT)<0>' (the `sections` key)."""
    close = spec.rindex("]")
    return " ".join(spec[1:close].split()) + spec[close + 1:]


def _text(value: bytes | None) -> str:
    return "" if value is None else value.decode("utf-8", "replace")


def _parse_fetch(unit: list[bytes]) -> FetchedMessage:
    """'12 FETCH (UID 5 FLAGS (\\Seen) BODY[] {N}' + literal + ')' → FetchedMessage."""
    msg = _parse_plain_fetch(unit)
    return msg if msg is not None else _parse_fetch_tokens(unit)


# The responses a sync gets for every message, read without the tokenizer (a third of the
# time): `N FETCH (UID 5 FLAGS (\Seen) INTERNALDATE "..." RFC822.SIZE 42 MODSEQ (7) BODY[HEADER]
# {N}`, the literal, then ")". Anything else (NIL, quoting, other items, other spacing) is None:
# _parse_fetch_tokens reads it. tests/test_imap_adapter.py compares the two.
_PLAIN_ITEM = re.compile(rb'(UID|RFC822\.SIZE) (\d+) |(FLAGS) \(([^()"{}\[\]\r\n]*)\) |(MODSEQ) \((\d+)\) '
                         rb'|(INTERNALDATE) "([^"\\\r\n]*)" ')
_PLAIN_LITERAL = re.compile(rb"BODY\[(HEADER)?\] \{\d+\}")


def _parse_plain_fetch(unit: list[bytes]) -> FetchedMessage | None:
    if len(unit) != 3 or unit[2] != b")":
        return None
    first = unit[0]
    space = first.find(b" ")
    if space <= 0 or first[space:space + 8] != b" FETCH (" or not first[:space].isdigit():
        return None
    msg = FetchedMessage(int(first[:space]))
    pos = space + 8
    while m := _PLAIN_ITEM.match(first, pos):
        pos = m.end()
        if m.group(1) == b"UID":
            msg.uid = int(m.group(2))
        elif m.group(1):
            msg.size = int(m.group(2))
        elif m.group(3):
            atoms = [a for a in m.group(4).split(b" ") if a]
            if b"NIL" in atoms:
                return None
            msg.flags = tuple(_text(a) for a in atoms)
        elif m.group(5):
            msg.modseq = int(m.group(6))
        else:
            msg.internaldate = parse_internaldate(m.group(8))
    last = _PLAIN_LITERAL.fullmatch(first, pos)
    if last is None:
        return None
    if last.group(1):
        msg.header = unit[1]
    else:
        msg.body = unit[1]
    return msg


def _parse_fetch_tokens(unit: list[bytes]) -> FetchedMessage:
    first = unit[0]
    space = first.index(b" ")
    msg = FetchedMessage(int(first[:space]))
    tokens = _parse_unit(unit, space + 7)  # after "FETCH "
    items = tokens[0] if tokens and isinstance(tokens[0], list) else tokens
    it = iter(items)
    for raw_name, value in zip(it, it, strict=False):  # name/value pairs
        name = raw_name.upper() if isinstance(raw_name, bytes) else b""
        if name == b"UID":
            msg.uid = int(value)
        elif name == b"FLAGS":
            msg.flags = tuple(_text(f) for f in value)
        elif name == b"MODSEQ":
            msg.modseq = int(value[0])
        elif name == b"INTERNALDATE":
            msg.internaldate = parse_internaldate(value)
        elif name == b"RFC822.SIZE":
            msg.size = int(value)
        elif name == b"RFC822":
            msg.body = value
        elif name == b"RFC822.HEADER":
            msg.header = value
        elif name.startswith(b"BODY["):
            key = _section_key(name[4:].decode("ascii", "replace"))
            if key == "":
                msg.body = value
            elif key == "HEADER":
                msg.header = value
            else:
                msg.sections[key] = value
        else:
            msg.extra[name.decode("ascii", "replace")] = value
    return msg


def _parse_uid_ranges(text: bytes | str) -> tuple[tuple[int, int], ...]:
    """'1:3,7,9:8' → ((1, 3), (7, 7), (8, 9)); '*' counts as the largest UID."""
    if isinstance(text, bytes):
        text = text.decode("ascii")
    ranges = []
    for part in text.split(","):
        lo, _, hi = part.partition(":")
        a = 0xFFFFFFFF if lo == "*" else int(lo)
        b = a if not hi else 0xFFFFFFFF if hi == "*" else int(hi)
        ranges.append((min(a, b), max(a, b)))
    return tuple(ranges)


class _UidSet:
    """Membership test for a UID set without expanding it."""

    def __init__(self, text: str) -> None:
        merged: list[list[int]] = []
        for lo, hi in sorted(_parse_uid_ranges(text)):
            if merged and lo <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        self._starts = [lo for lo, _ in merged]
        self._ends = [hi for _, hi in merged]

    def __contains__(self, uid: int) -> bool:
        i = bisect.bisect_right(self._starts, uid) - 1
        return i >= 0 and uid <= self._ends[i]


def uid_set(uids: str | Iterable[int]) -> str:
    """A UID set for the wire: validated if given as text, compressed ("1:4,9") if given as ints."""
    if isinstance(uids, str):
        if not _SEQ_SET.fullmatch(uids):
            raise ValueError(f"not a UID set: {uids!r}")
        return uids
    ordered = sorted(set(uids))
    if not ordered:
        raise ValueError("empty UID set")
    runs: list[list[int]] = []
    for uid in ordered:
        if runs and uid == runs[-1][1] + 1:
            runs[-1][1] = uid
        else:
            runs.append([uid, uid])
    return ",".join(str(a) if a == b else f"{a}:{b}" for a, b in runs)


_SEQ_SET = re.compile(r"(?:\d+|\*)(?::(?:\d+|\*))?(?:,(?:\d+|\*)(?::(?:\d+|\*))?)*")
_FLAG = re.compile(r"\\?[^\x00-\x20\x7f-\U0010ffff(){%*\"\\\]]+")
_ATOMISH = re.compile(r"[A-Za-z0-9.:*,<>$\\_+-]+")  # search keys, dates, sets, fetch items
_FETCH_ITEM = re.compile(r"(?:[A-Za-z0-9.<>$-]+|\[[^\]\r\n\"{}]*\])+")
_QUOTABLE = re.compile(rb"[\x01-\x09\x0b\x0c\x0e-\x7f]*")


def sasl_oauth2(mechanism: str, user: str, token: str) -> bytes:
    """The client's first message for XOAUTH2 (Google's) or OAUTHBEARER (RFC 7628), unencoded."""
    if mechanism.upper() == "OAUTHBEARER":
        gs2_user = user.replace("=", "=3D").replace(",", "=2C")
        return f"n,a={gs2_user},\x01auth=Bearer {token}\x01\x01".encode()
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def _auth_mechanisms(capabilities: Iterable[str]) -> str:
    return " ".join(sorted(c[5:] for c in capabilities if c.startswith("AUTH="))) or "none"


# -- command building ---------------------------------------------------------------------------------
class _Wire:
    """The bytes of one command, split after each synchronizing literal (the server's "+"
    releases the next part), plus a display form for logs with secrets masked."""

    def __init__(self, tag: str, command: str, literal_plus: bool, literal_minus: bool) -> None:
        self.tag = tag
        self._parts: list[bytes] = []
        self._current = bytearray(f"{tag} {command}".encode("ascii"))
        self._literal_plus = literal_plus
        self._literal_minus = literal_minus
        self.display = [command]

    def raw(self, text: str, *, secret: bool = False) -> _Wire:
        self._current += b" " + text.encode("ascii")
        self.display.append("****" if secret else text)
        return self

    def response(self, text: str, *, secret: bool = False) -> _Wire:
        """A line of its own, sent when the server's "+" asks for it (a SASL response)."""
        self._current += b"\r\n"
        self._parts.append(bytes(self._current))
        self._current = bytearray(text.encode("ascii"))
        self.display.append("****" if secret else text)
        return self

    def string(self, value: str | bytes, *, secret: bool = False) -> _Wire:
        data = value.encode("utf-8") if isinstance(value, str) else value
        shown = "****" if secret else None
        if len(data) < 1024 and _QUOTABLE.fullmatch(data):
            escaped = data.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
            self._current += b' "' + escaped + b'"'
            self.display.append(shown or '"' + escaped.decode("ascii")[:80] + '"')
        else:
            self.literal(data, shown=shown)
        return self

    def mailbox(self, name: str) -> _Wire:
        return self.string(encode_mailbox(name))

    def literal(self, data: bytes, *, shown: str | None = None) -> _Wire:
        self.display.append(shown or f"{{{len(data)} bytes}}")
        if self._literal_plus or (self._literal_minus and len(data) <= 4096):
            self._current += b" {%d+}\r\n" % len(data) + data
        else:
            self._current += b" {%d}\r\n" % len(data)
            self._parts.append(bytes(self._current))
            self._current = bytearray(data)
        return self

    def finish(self) -> list[bytes]:
        """The parts, handed over: the builder keeps no copy (it may hold a password)."""
        self._current += b"\r\n"
        parts, self._parts = [*self._parts, bytes(self._current)], []
        self._current = bytearray()
        return parts


class _UnitCommand(Command):  # type: ignore[misc]  # aioimaplib ships no type hints
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
        super().__init__(name, tag, prefix=prefix, loop=loop, timeout=timeout)

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


class _EndOfStream(Exception):
    pass


class _Channel(Generic[_T]):
    """An unbounded FIFO that can end, with an error or without."""

    def __init__(self) -> None:
        self._items: deque[_T] = deque()
        self._wakeup = asyncio.Event()
        self._ended = False
        self._error: BaseException | None = None

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: _T) -> None:
        self._items.append(item)
        self._wakeup.set()

    def end(self, error: BaseException | None = None) -> None:
        if not self._ended:
            self._ended, self._error = True, error
            self._wakeup.set()

    def drain(self) -> list[_T]:
        items = list(self._items)
        self._items.clear()
        return items

    async def get(self) -> _T:
        while not self._items:
            if self._ended:
                if self._error is not None:
                    raise _fresh(self._error)
                raise _EndOfStream
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._items.popleft()


def _fresh(error: BaseException) -> BaseException:
    """A new instance of a shared error, so each raise gets its own traceback."""
    return type(error)(str(error)) if isinstance(error, ImapError) else error


_FETCH_LINE = re.compile(rb"(\d+) FETCH ", re.I)
_UPDATE_LINE = re.compile(rb"(?:\d+ (EXISTS|RECENT|EXPUNGE|FETCH)(?: |$)|(VANISHED) (?!\(EARLIER\))|(STATUS|LIST) )",
                          re.I)
_VANISHED_EARLIER = re.compile(rb"VANISHED \(EARLIER\) ([0-9:,]+)", re.I)


def _update_kind(m: re.Match[bytes]) -> str:
    return next(g for g in m.groups() if g).upper().decode()


def _update_from_unit(unit: list[bytes]) -> Update | None:
    first = unit[0]
    m = _UPDATE_LINE.match(first)
    if m is None:
        return None
    kind = _update_kind(m)
    if kind in ("STATUS", "LIST"):  # NOTIFY: "STATUS name (...)", "LIST (flags) delim name"
        items = _parse_unit(unit, len(kind) + 1)
        name = items[0] if kind == "STATUS" else items[2]
        return Update(kind, mailbox=decode_mailbox(_text(name)) if isinstance(name, bytes) else None)  # type: ignore[arg-type]
    if kind == "VANISHED":
        return Update("VANISHED", uid_ranges=_parse_uid_ranges(first.split()[-1]))
    number = int(first.split(b" ", 1)[0])
    if kind == "FETCH":
        return Update("FETCH", number, message=_parse_fetch(unit))
    return Update(kind, number)  # type: ignore[arg-type]


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


def _literal_size(line: bytes) -> int | None:
    if not line.endswith(b"}"):
        return None
    start = line.rfind(b"{")
    digits = line[start + 1:-1].rstrip(b"+")
    return int(digits) if start >= 0 and digits.isdigit() else None


# -- the protocol layer over aioimaplib -------------------------------------------------------------
class _Protocol(IMAP4ClientProtocol):  # type: ignore[misc]
    """aioimaplib's protocol with the fixes listed in the module docstring."""

    pending_sync_command: Any  # set by aioimaplib
    pending_async_commands: dict[str, Any]

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
    def _pending(self) -> Any:  # Command | None (aioimaplib is untyped)
        if self.pending_sync_command is not None:
            return self.pending_sync_command
        return next(iter(self.pending_async_commands.values()), None)

    def _untagged_response(self, line: bytes) -> Command | None:
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
        if not isinstance(command, _UnitCommand):
            self.transport.write(line.encode() + b"\r\n")
            return
        # Drop our reference as soon as it is written: it may hold a password or a big message.
        parts, command.wire = command.wire, []
        self.transport.write(parts[0])
        self._literal_queue.extend(parts[1:])

    def _continuation(self, line: bytes) -> None:
        if self._literal_queue:
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
        commands: list[Any] = [self.pending_sync_command, *self.pending_async_commands.values()]
        self.pending_sync_command = None
        self.pending_async_commands.clear()
        for command in commands:
            if command is not None and not command._event.is_set():
                command._exception = _fresh(error)
                command.close(b"", "KO")
        self._literal_queue.clear()
        self.updates.end(error)
        self._idle_event.set()
        if not self.greeted.done():
            self.greeted.set_exception(_fresh(error))
            self.greeted.exception()  # retrieved: the connect() path reports it


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"
    if isinstance(exc, OSError) and (exc.errno or exc.strerror):
        # asyncio's strerror is "Connect call failed (addr)"; the errno says why.
        text = os.strerror(exc.errno) if exc.errno else str(exc.strerror)
        return text[:1].lower() + text[1:]
    return str(exc) or type(exc).__name__


def _set_keepalive(transport: asyncio.BaseTransport) -> None:
    """TCP keepalive notices a silently dead peer during a long IDLE (about 2 minutes)."""
    sock = transport.get_extra_info("socket")
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for name, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 15), ("TCP_KEEPCNT", 4)):
            if hasattr(socket, name):
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
    except OSError:
        pass


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _fetch_items(items: str | Sequence[str]) -> list[str]:
    names = _FETCH_ITEM.findall(items) if isinstance(items, str) else list(items)
    for name in names:
        if not _FETCH_ITEM.fullmatch(name):
            raise ValueError(f"not a FETCH item: {name!r}")
    if not any(n.upper() == "UID" for n in names):
        names.insert(0, "UID")
    return names


def _response_key(item: str) -> str | None:
    """The response spelling of a requested item whose presence marks a response as ours."""
    key = " ".join(item.upper().split()).replace(".PEEK[", "[")
    key = re.sub(r"<(\d+)\.\d+>$", r"<\1>", key)
    if key in ("UID", "FLAGS", "MODSEQ", "ALL", "FAST", "FULL"):
        return None  # unsolicited flag changes look the same; macros expand to several items
    return key


# -- the adapter ------------------------------------------------------------------------------------
class ImapConnection:
    """One IMAP connection. Use `async with ImapConnection(...) as imap:` or connect()/logout().

    security: "tls" (implicit TLS, usually port 993), "starttls" (usually 143; never falls back to
    plaintext) or "none" (loopback hosts only). Certificates are always verified; `ca_file`
    replaces the system CAs for a private CA. `timeout` bounds connecting, the greeting, the TLS
    handshake and each command's wait for data from the server. `source_address` picks the
    local address to connect from (multi-homed hosts)."""

    def __init__(self, host: str, port: int, *, security: Security = "tls",
                 ca_file: str | Path | None = None, timeout: float = 30.0,
                 source_address: str | None = None) -> None:
        if security not in ("tls", "starttls", "none"):
            raise ValueError(f'security must be "tls", "starttls" or "none", not {security!r}')
        if security == "none" and not _is_loopback(host):
            raise ValueError(f'security "none" is only allowed for loopback hosts, not {host!r}')
        self.host, self.port, self.security, self.timeout = host, port, security, timeout
        self.ca_file = Path(ca_file) if ca_file is not None else None
        self.source_address = source_address
        self.user: str | None = None
        self.enabled: frozenset[str] = frozenset()
        self.selected: str | None = None
        self._proto: _Protocol | None = None
        self._lock = asyncio.Lock()
        self._busy: str | None = None  # an IDLE or FETCH stream holds the connection

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port}"

    def __repr__(self) -> str:
        who = f"{self.user}@" if self.user else ""
        state = self._proto.state if self._proto else "new"
        if self._proto is not None and self._proto.lost is not None:
            state = "closed"
        return f"<ImapConnection {who}{self.label} {self.security} {state}>"

    async def __aenter__(self) -> ImapConnection:
        if self._proto is None:
            await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.logout()

    # -- connection ------------------------------------------------------------------------------------
    def _ssl_context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        except (OSError, ssl.SSLError) as exc:
            raise ImapTlsError(f"cannot load CA file {self.ca_file}: {_describe(exc)}") from None

    def _tls_error(self, exc: BaseException) -> ImapTlsError:
        if isinstance(exc, ssl.SSLCertVerificationError):
            hint = f" by {self.ca_file}" if self.ca_file else " (set ca_file for a private CA)"
            return ImapTlsError(f"TLS certificate of {self.label} is not trusted{hint}: "
                                f"{exc.verify_message}")
        return ImapTlsError(f"TLS handshake with {self.label} failed: {_describe(exc)}")

    async def connect(self) -> None:
        if self._proto is not None and self._proto.lost is None:
            raise ImapError(f"already connected to {self.label}")
        loop = asyncio.get_running_loop()
        protocol = _Protocol(loop, self.label)
        context = self._ssl_context() if self.security != "none" else None
        try:  # plain TCP first; TLS comes from start_tls, which cleans up after a failed handshake
            transport, _ = await asyncio.wait_for(loop.create_connection(
                lambda: protocol, self.host, self.port,
                local_addr=(self.source_address, 0) if self.source_address else None), self.timeout)
        except TimeoutError:
            raise ImapConnectError(
                f"cannot connect to {self.label}: timed out after {self.timeout:g} s") from None
        except OSError as exc:
            raise ImapConnectError(f"cannot connect to {self.label}: {_describe(exc)}") from None
        _set_keepalive(transport)
        self._proto = protocol
        self.enabled, self.selected, self.user = frozenset(), None, None
        try:
            if self.security == "tls":
                assert context is not None
                await self._start_tls(context)
            await asyncio.wait_for(asyncio.shield(protocol.greeted), self.timeout)
            if self.security == "starttls":
                assert context is not None
                await self._starttls(context)
        except TimeoutError:
            await self._abort()
            raise ImapConnectError(f"no greeting from {self.label} within {self.timeout:g} s") from None
        except ImapTimeout as exc:
            await self._abort()
            raise ImapConnectError(str(exc)) from None
        except ImapConnectionLost as exc:
            await self._abort()
            raise ImapConnectError(f"{self.label} closed the connection: {exc}") from None
        except BaseException:
            await self._abort()
            raise

    async def _start_tls(self, context: ssl.SSLContext) -> None:
        """TLS on the open connection: right away ("tls") or after STARTTLS. No wait_for around
        it: cancelling a handshake leaks the transport; ssl_handshake_timeout bounds it."""
        protocol = self._require()
        try:
            transport = await asyncio.get_running_loop().start_tls(
                protocol.transport, protocol, context, server_hostname=self.host,
                ssl_handshake_timeout=self.timeout)
        except ssl.SSLError as exc:
            raise self._tls_error(exc) from None
        except OSError as exc:
            raise ImapTlsError(f"TLS handshake with {self.label} failed: {_describe(exc)}") from None
        if transport is None:
            raise ImapTlsError(f"TLS handshake with {self.label} failed: connection closed")
        protocol.transport = transport

    async def _abort(self) -> None:
        self.close()
        if self._proto is not None:
            await asyncio.wait({self._proto.closed}, timeout=0.1)  # let the socket really close

    async def _starttls(self, context: ssl.SSLContext) -> None:
        protocol = self._require()
        if "STARTTLS" not in protocol.capabilities:
            raise ImapTlsError(f"{self.label} does not offer STARTTLS; not continuing unencrypted")
        async with self._slot():
            cmd = self._command("STARTTLS", self._wire("STARTTLS"))
            protocol.starttls_tag = cmd.tag
            await self._execute(cmd)
        if protocol.buffered():
            raise ImapTlsError(f"{self.label} sent unencrypted data after STARTTLS; refusing it")
        await self._start_tls(context)
        protocol.starttls_tag = None
        protocol.hold_plaintext = False
        await self._refresh_capabilities()  # RFC 3501: forget what was said before TLS

    def close(self) -> None:
        """Drop the connection at once (no LOGOUT)."""
        if self._proto is not None:
            if self._proto.lost is None:
                self._proto.lost = ImapConnectionLost(f"connection to {self.label} closed by the client")
            if self._proto.transport is not None:
                self._proto.transport.abort()

    async def logout(self) -> None:
        """LOGOUT politely if possible, then close. Never raises."""
        protocol = self._proto
        if protocol is None or protocol.lost is not None or self._busy:
            self.close()
            return
        try:
            async with self._slot():
                await self._execute(self._command("LOGOUT", self._wire("LOGOUT"), timeout=5))
                protocol.state = LOGOUT
        except ImapError:
            pass
        finally:
            if protocol.lost is None:
                protocol.lost = ImapConnectionLost(f"connection to {self.label} closed (logged out)")
            if protocol.transport is not None:
                protocol.transport.close()
            await self.wait_closed()

    async def wait_closed(self, timeout: float = 1.0) -> None:
        """Wait (briefly) until the socket is really closed, e.g. after close()."""
        if self._proto is not None and self._proto.transport is not None:
            await asyncio.wait({self._proto.closed}, timeout=timeout)

    @property
    def connected(self) -> bool:
        return self._proto is not None and self._proto.lost is None

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset(c.upper() for c in self._proto.capabilities) if self._proto else frozenset()

    def has(self, capability: str) -> bool:
        return capability.upper() in self.capabilities

    # -- plumbing --------------------------------------------------------------------------------------
    def _require(self) -> _Protocol:
        if self._proto is None:
            raise ImapError(f"not connected to {self.label}")
        if self._proto.lost is not None:
            raise _fresh(self._proto.lost)
        return self._proto

    @asynccontextmanager
    async def _slot(self, busy: str | None = None) -> AsyncIterator[_Protocol]:
        """One command at a time. An open IDLE or FETCH stream must end first."""
        if self._busy:
            raise ImapError(f"{self._busy} is running on {self.label}; end it before other commands")
        async with self._lock:
            protocol = self._require()
            self._busy = busy
            try:
                yield protocol
            finally:
                self._busy = None

    def _wire(self, command: str) -> _Wire:
        protocol = self._require()
        caps = protocol.capabilities
        return _Wire(protocol.new_tag(), command, "LITERAL+" in caps, "LITERAL-" in caps)

    def _command(self, name: str, wire: _Wire, *, prefix: str | None = None,
                 claims: frozenset[str] = frozenset(), timeout: float | EllipsisType | None = ...,
                 keep_units: bool = True) -> _UnitCommand:
        return _UnitCommand(name, wire.tag, wire, loop=asyncio.get_running_loop(),
                            timeout=self.timeout if timeout is ... else timeout, prefix=prefix,
                            claims=claims, keep_units=keep_units)

    async def _execute(self, cmd: _UnitCommand) -> Response:
        protocol = self._require()
        try:
            response = await protocol.execute(cmd)
        except CommandTimeout:
            error = ImapTimeout(f"{cmd.name} got no answer from {self.label} within "
                                f"{self.timeout:g} s; connection closed")
            protocol.fail(error)
            raise _fresh(error) from None
        except Abort as exc:
            raise ImapError(f"{self.label}: {exc}") from None
        if response.result != "OK":
            text = cmd.tagged_text()
            raise ImapCommandError(f"{cmd.name} failed at {self.label}: {response.result} {text}",
                                   response.result, text)
        return response

    async def _simple(self, name: str, wire: _Wire, **kwargs: Any) -> _UnitCommand:
        async with self._slot():
            cmd = self._command(name, wire, **kwargs)
            await self._execute(cmd)
            return cmd

    async def _refresh_capabilities(self) -> None:
        cmd = await self._simple("CAPABILITY", self._wire("CAPABILITY"))
        self._set_capabilities(cmd)

    def _set_capabilities(self, cmd: _UnitCommand) -> bool:
        texts = [_text(u[0]) for u in cmd.units] + [cmd.tagged_text()]
        for text in texts:
            m = re.match(r"(?:\[)?CAPABILITY ([^\]]*)", text, re.I)
            if m:
                self._require().capabilities = set(m.group(1).split())
                return True
        return False

    # -- session -----------------------------------------------------------------------------------------
    async def login(self, user: str, password: str) -> None:
        """LOGIN; ImapAuthError ("login failed for USER at HOST:PORT: ...") when refused."""
        protocol = self._require()
        if "LOGINDISABLED" in self.capabilities:
            raise ImapAuthError(f"login failed for {user} at {self.label}: the server disables "
                                "LOGIN on this connection (use security \"tls\" or \"starttls\")")
        wire = self._wire("LOGIN").string(user).string(password, secret=True)
        try:
            cmd = await self._simple("LOGIN", wire)
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
        protocol = self._require()
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
        try:
            cmd = await self._simple("AUTHENTICATE", wire)
        except ImapCommandError as exc:
            raise ImapAuthError(f"login failed for {user} at {self.label}: {exc.server_text}") from None
        except ImapConnectionLost as exc:
            raise ImapAuthError(f"login failed for {user} at {self.label}: {exc}") from None
        protocol.state = AUTH
        self.user = user
        if not self._set_capabilities(cmd):
            await self._refresh_capabilities()

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

    async def delete(self, folder: str) -> None:
        await self._simple("DELETE", self._wire("DELETE").mailbox(folder))

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

    async def uid_fetch_iter(self, uids: str | Iterable[int], items: str | Sequence[str], *,
                             changed_since: int | None = None,
                             high_water: int = 256) -> AsyncGenerator[FetchedMessage, None]:
        """UID FETCH as a stream: messages are yielded as they arrive; reading from the server
        pauses while `high_water` parsed messages wait for the consumer. Other commands must wait
        until the stream ends; close it early with contextlib.aclosing."""
        async with self._slot(busy="a FETCH stream") as protocol:
            channel: _Channel[FetchedMessage] = _Channel()
            cmd = self._fetch_command(uid_set(uids), items, changed_since, channel.put)

            def sink(msg: FetchedMessage) -> None:
                channel.put(msg)
                if len(channel) >= high_water and not cmd.paused and protocol.transport:
                    cmd.paused = True
                    protocol.transport.pause_reading()

            def resume() -> None:
                if cmd.paused:
                    cmd.paused = False
                    cmd._reset_timer()
                    if protocol.transport is not None and not protocol.transport.is_closing():
                        protocol.transport.resume_reading()

            cmd.sink = sink
            cmd.closed_hook = channel.end  # errors come from the task, already translated
            task = asyncio.get_running_loop().create_task(self._execute(cmd))
            try:
                while True:
                    try:
                        msg = await channel.get()
                    except _EndOfStream:
                        break
                    if cmd.paused and len(channel) <= high_water // 2:
                        resume()
                    yield msg
                await task
            finally:
                if not task.done():  # consumer stopped early: drain the rest, keep the connection
                    cmd.sink = lambda msg: None
                    resume()
                    await asyncio.wait({task})
                if not task.cancelled():
                    task.exception()  # retrieved here; raised above when it mattered

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

    async def uid_expunge(self, uids: str | Iterable[int]) -> None:
        """UID EXPUNGE (UIDPLUS): only these \\Deleted messages; the server's EXPUNGE/VANISHED
        answers go to the update stream."""
        if not self.has("UIDPLUS"):
            raise ImapError(f"{self.label} has no UIDPLUS; cannot expunge by UID")
        await self._simple("EXPUNGE", self._wire("UID EXPUNGE").raw(uid_set(uids)), prefix="UID")

    async def uid_move(self, uids: str | Iterable[int], folder: str) -> dict[int, int]:
        """UID MOVE (RFC 6851); returns old UID → new UID when the server reports COPYUID."""
        if not self.has("MOVE"):
            raise ImapError(f"{self.label} has no MOVE")
        cmd = await self._simple("MOVE", self._wire("UID MOVE").raw(uid_set(uids)).mailbox(folder),
                                 prefix="UID")
        for text in [_text(u[0]) for u in cmd.units] + [cmd.tagged_text()]:
            if m := re.search(r"\[COPYUID \d+ ([0-9:,]+) ([0-9:,]+)\]", text):
                old = [u for lo, hi in _parse_uid_ranges(m.group(1)) for u in range(lo, hi + 1)]
                new = [u for lo, hi in _parse_uid_ranges(m.group(2)) for u in range(lo, hi + 1)]
                return dict(zip(old, new, strict=False))
        return {}

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


def _flag_list(flags: Iterable[str]) -> str:
    flags = list(flags)
    for flag in flags:
        if not _FLAG.fullmatch(flag):
            raise ValueError(f"not a flag: {flag!r}")
    return "(" + " ".join(flags) + ")"


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
            protocol._idle_event.clear()
            self._task = loop.create_task(conn._execute(cmd))
            started = loop.create_task(protocol._idle_event.wait())
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

