"""Response parsing: one response ("unit": line, literal, line, ...) into nested lists, FETCH
responses into `FetchedMessage`, unsolicited responses into `Update`."""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

from tui_desk.mail.imap.results import FetchedMessage, Update, UpdateKind, _section_key
from tui_desk.mail.imap.wire import _parse_uid_ranges, decode_mailbox


# -- response parsing ----------------------------------------------------------------------------------
# One token per match: "(", ")", quoted string, literal marker at the end of a line, or an atom
# (which may carry a [section] with spaces/parens inside, e.g. BODY[HEADER.FIELDS (SUBJECT)]).
_TOKEN = re.compile(
    rb' *(?:(\()|(\))|"((?:[^"\\\r\n]|\\.)*)"|~?\{(\d+)\+?\}$|((?:[^ ()"\[\]{\r\n]|\[[^\]]*\])+))')
_UNESCAPE = re.compile(rb"\\(.)")
# bytes | None | list[_Item], as the server sent it: readers index it as RFC 3501 says the
# response is built, and a malformed one raises where units are read (typed as that union, each
# read would need an isinstance the grammar already guarantees)
_Item = Any


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


# -- unsolicited responses → Update -----------------------------------------------------------------
_FETCH_LINE = re.compile(rb"(\d+) FETCH ", re.I)
_UPDATE_LINE = re.compile(rb"(?:\d+ (EXISTS|RECENT|EXPUNGE|FETCH)(?: |$)|(VANISHED) (?!\(EARLIER\))|(STATUS|LIST) )",
                          re.I)
_VANISHED_EARLIER = re.compile(rb"VANISHED \(EARLIER\) ([0-9:,]+)", re.I)


# the words _UPDATE_LINE matches, upper case, as Update kinds
_UPDATE_KINDS: dict[bytes, UpdateKind] = {b"EXISTS": "EXISTS", b"RECENT": "RECENT", b"EXPUNGE": "EXPUNGE",
                                          b"VANISHED": "VANISHED", b"FETCH": "FETCH", b"STATUS": "STATUS",
                                          b"LIST": "LIST"}


def _update_kind(m: re.Match[bytes]) -> UpdateKind:
    return _UPDATE_KINDS[next(g for g in m.groups() if g).upper()]


def _update_from_unit(unit: list[bytes]) -> Update | None:
    first = unit[0]
    m = _UPDATE_LINE.match(first)
    if m is None:
        return None
    kind = _update_kind(m)
    if kind in ("STATUS", "LIST"):  # NOTIFY: "STATUS name (...)", "LIST (flags) delim name"
        items = _parse_unit(unit, len(kind) + 1)
        name = items[0] if kind == "STATUS" else items[2]
        return Update(kind, mailbox=decode_mailbox(_text(name)) if isinstance(name, bytes) else None)
    if kind == "VANISHED":
        return Update("VANISHED", uid_ranges=_parse_uid_ranges(first.split()[-1]))
    number = int(first.split(b" ", 1)[0])
    if kind == "FETCH":
        return Update("FETCH", number, message=_parse_fetch(unit))
    return Update(kind, number)

