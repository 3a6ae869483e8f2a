"""What goes on the wire: modified UTF-7 mailbox names, UID sets, argument checks, SASL
blobs, the bytes of one command (`_Wire`) and where a literal starts in a line."""

from __future__ import annotations

import base64
import bisect
import re
from collections.abc import Iterable, Sequence


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


# -- UID sets, argument checks, SASL ---------------------------------------------------------------
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


# -- arguments of STORE and FETCH; literal markers in responses --------------------------------------
def _flag_list(flags: Iterable[str]) -> str:
    flags = list(flags)
    for flag in flags:
        if not _FLAG.fullmatch(flag):
            raise ValueError(f"not a flag: {flag!r}")
    return "(" + " ".join(flags) + ")"


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


def _literal_size(line: bytes) -> int | None:
    if not line.endswith(b"}"):
        return None
    start = line.rfind(b"{")
    digits = line[start + 1:-1].rstrip(b"+")
    return int(digits) if start >= 0 and digits.isdigit() else None

