"""The quick route: the common mail read without building the stdlib's message tree.

Most mail a desk gets has a plain header block (printable ASCII, every line a field or its
continuation, a plain Content-Type) and, very often, one text/plain body. For those, the
entry points (entry.py) read the fields from the split made here instead of from a
:class:`_Part` tree, and the body's text is decoded here; everything after that (the fields'
readers, the text's decoding, the defects) is the same code the full route runs. Anything
else (8-bit or control bytes in the header, obsolete syntax, an unusual Content-Type, long
fields, other body types, damaged base64...) returns None and takes the full route.
tests/test_parse_quick.py holds the two routes to the same record on every corpus mail and on
generated header shapes.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from dataclasses import dataclass
from email.utils import collapse_rfc2231_value

from tui_desk.mail.parse.common import HEADER_LIMIT, MAX_DELIMITER_LINES
from tui_desk.mail.parse.header_values import _simple_mime_cached, _unfold_all
from tui_desk.mail.parse.stdlib_tree import _HEADER_FIELD

#: Longer mail takes the full route (its limits and cuts are not reproduced here).
QUICK_LIMIT = 1 << 20

_NOT_PLAIN = re.compile(rb"[^\t\r\n\x20-\x7e]")
# every line a field ("name:", feedparser's header line, name not empty) or a continuation
_FIELD_LINES = re.compile(r"(?:[\x21-\x39\x3b-\x7e]+:[^\n]*\n(?:[ \t][^\n]*\n)*)+")


@dataclass(slots=True)
class PlainFields:
    """The header of a message or of one of its parts, as the quick route reads it: its
    fields as ``_raw_items`` gives them, the first value of each (lower-case name), the content
    type and its parameters (what ``get_content_type`` / ``get_param`` answer), where the
    part's body starts."""

    items: list[tuple[str, str]]
    first: dict[str, str]  # (the MIME fields' alone)
    content_type: str
    params: dict[str, str]
    body_start: int
    every: dict[str, list[str]]  # lower-case name -> every value, in order (for _Headers)


@dataclass(slots=True)
class Leaf:
    """A text part the record's text may come from, as it is written (transfer-encoded)."""

    content_type: str  # text/plain or text/html
    params: dict[str, str]
    encoding: str | None  # Content-Transfer-Encoding as written; None when absent
    payload: bytes


def plain_header(raw: bytes, every_field: bool = True) -> PlainFields | None:
    """The top-level header of ``raw`` when the quick route can read the message, else None.
    every_field=False: ``items`` left empty and ``first`` holding the MIME fields alone (what
    the body needs)."""
    if len(raw) > QUICK_LIMIT or raw.count(b"\r") != raw.count(b"\r\n"):
        return None  # a lone CR ends a line for the stdlib: the full route
    if raw.count(b"\n--") > MAX_DELIMITER_LINES:
        return None
    fields = _fields(raw, every_field)
    if fields is None or fields.content_type.startswith("message/"):
        return None
    return fields


def _fields(block: bytes, every_field: bool = False) -> PlainFields | None:
    """The header at the start of ``block`` (a message, or a part between its boundaries) when
    every line up to the blank line is a field or its continuation, in printable ASCII, with a
    plain Content-Type; else None. every_field=False: only the MIME fields, in ``first``."""
    if block.startswith(b"\n") or block.startswith(b"\r\n"):  # no field at all: the defaults
        return PlainFields([], {}, "text/plain", {}, 1 if block.startswith(b"\n") else 2, {})
    ends = [i for i in (block.find(b"\n\n"), block.find(b"\n\r\n")) if i >= 0]
    if not ends:
        return None  # no blank line: the full route
    end = min(ends) + 1
    head = block[:end]
    if _NOT_PLAIN.search(head):
        return None
    text = head.decode("ascii")
    if not _FIELD_LINES.fullmatch(text):
        return None
    items: list[tuple[str, str]] = []
    first: dict[str, str] = {}
    if not every_field and len(text) <= HEADER_LIMIT:  # (no field to cap)
        for name, value in _MIME_FIELD.findall(text):
            first.setdefault(name.lower(), value.rstrip("\r\n"))
        return _typed(items, first, block, end, {})
    every: dict[str, list[str]] = {}
    for name, value in _HEADER_FIELD.findall(text):
        value = value.rstrip("\r\n")
        if len(value) > HEADER_LIMIT:
            return None  # capped by the full route, with its defect
        items.append((name, value))
        key = name.lower()
        found = every.get(key)
        if found is None:
            every[key] = [value]
        else:
            found.append(value)
    for key in _MIME_NAMES:
        if key in every:
            first[key] = every[key][0]
    return _typed(items, first, block, end, every)


# a MIME field of a header whose every line is a field or a continuation: its name, and its
# value as _HEADER_FIELD reads it
_MIME_FIELD = re.compile(
    r"(?im)^(content-type|content-transfer-encoding|content-disposition):[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)")


_MIME_NAMES = ("content-type", "content-transfer-encoding", "content-disposition")


def _typed(items: list[tuple[str, str]], first: dict[str, str], block: bytes, end: int,
           every: dict[str, list[str]]) -> PlainFields | None:
    content_type, params = "text/plain", {}
    raw_type = first.get("content-type")
    if raw_type is not None:
        simple = _simple_mime_cached("content-type", _unfold_all(raw_type))
        if simple is None:
            return None
        content_type, params = simple[0].partition(";")[0].strip().lower(), simple[1]
    return PlainFields(items, first, content_type, params, end + (1 if block[end:end + 1] == b"\n" else 2), every)


_TEXT_TYPES = ("text/plain", "text/html")
_MAX_LEAVES = 10


def plain_leaves(raw: bytes, header: PlainFields) -> list[Leaf] | None:
    """The text parts of a message that is one text/plain or text/html part, or a flat
    multipart/alternative of them (no attachment, no file name, nothing after its closing
    boundary), in order; None for any other message. A multipart must be split the way
    feedparser splits it: every line that starts with its boundary is a boundary line exactly."""
    if header.content_type in _TEXT_TYPES:
        leaf = _leaf(header, raw[header.body_start:])
        return None if leaf is None else [leaf]
    if header.content_type != "multipart/alternative":
        return None
    encoding = header.first.get("content-transfer-encoding")
    if encoding is not None and encoding.lower() not in ("7bit", "8bit", "binary"):
        return None
    boundary = header.params.get("boundary")
    if boundary is None:
        return None
    boundary = collapse_rfc2231_value(boundary).rstrip()  # what Message.get_boundary makes of it ("<x>" -> "x")
    if not boundary:
        return None
    sep = b"--" + boundary.encode("ascii")
    body = raw[header.body_start:]
    starts = [0] if body.startswith(sep) else []
    at = body.find(b"\n" + sep)
    while at >= 0 and len(starts) <= _MAX_LEAVES + 1:
        starts.append(at + 1)
        at = body.find(b"\n" + sep, at + 1)
    if not 2 <= len(starts) <= _MAX_LEAVES + 1:
        return None
    bounds: list[tuple[int, int]] = []  # (start, end) of each boundary line
    for i, start in enumerate(starts):
        nl = body.find(b"\n", start)
        end = len(body) if nl < 0 else nl + 1
        rest = body[start + len(sep):end]
        closing = i == len(starts) - 1
        if rest not in ((b"--\n", b"--\r\n", b"--") if closing else (b"\n", b"\r\n")):
            return None
        bounds.append((start, end))
    leaves = []
    for (_, part_start), (next_start, _) in zip(bounds, bounds[1:]):
        part = body[part_start:next_start]
        fields = _fields(part)
        if fields is None or fields.content_type not in _TEXT_TYPES:
            return None
        payload = part[fields.body_start:]
        # the line end before a boundary belongs to it (feedparser's NLCRE_eol)
        payload = payload[:-2] if payload.endswith(b"\r\n") else payload[:-1] if payload.endswith(b"\n") else payload
        leaf = _leaf(fields, payload)
        if leaf is None:
            return None
        leaves.append(leaf)
    return leaves


def _leaf(fields: PlainFields, payload: bytes) -> Leaf | None:
    if "content-disposition" in fields.first or "name" in fields.params:
        return None  # an attachment, or a file name to look at: the full route
    return Leaf(fields.content_type, fields.params, fields.first.get("content-transfer-encoding"), payload)


def decoded(leaf: Leaf) -> bytes | None:
    """A leaf's payload as ``get_payload(decode=True)`` gives it; None when the stdlib would
    note a defect doing so (damaged base64) or the encoding is one not read here."""
    encoding = leaf.encoding
    if encoding is None:
        return leaf.payload
    encoding = encoding.lower()
    if encoding == "quoted-printable":
        return quopri.decodestring(leaf.payload)
    if encoding == "base64":
        encoded = b"".join(leaf.payload.splitlines())
        if len(encoded) % 4:
            return None
        try:
            return base64.b64decode(encoded, validate=True)
        except binascii.Error:
            return None
    if encoding in ("7bit", "8bit", "binary"):
        return leaf.payload
    return None  # uuencode, an unknown one, spaces or a comment in the value
