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

from tui_desk.mail.parse.common import HEADER_LIMIT, MAX_DELIMITER_LINES
from tui_desk.mail.parse.header_values import _simple_mime_cached, _unfold_all
from tui_desk.mail.parse.stdlib_tree import _HEADER_FIELD

#: Longer mail takes the full route (its limits and cuts are not reproduced here).
QUICK_LIMIT = 1 << 20

_NOT_PLAIN = re.compile(rb"[^\t\r\n\x20-\x7e]")
# every line a field ("name:", feedparser's header line, name not empty) or a continuation
_FIELD_LINES = re.compile(r"(?:[\x21-\x39\x3b-\x7e]+:[^\n]*\n(?:[ \t][^\n]*\n)*)+")
_PLAIN_CTE = re.compile(r"[A-Za-z0-9-]+")


@dataclass(slots=True)
class PlainHeader:
    """A header block the quick route reads: its fields as ``_raw_items`` gives them, the
    first value of each (lower-case name), the top-level content type and its parameters
    (what ``get_content_type`` / ``get_param`` answer), where the body starts."""

    items: list[tuple[str, str]]
    first: dict[str, str]
    content_type: str
    params: dict[str, str]
    body_start: int


def plain_header(raw: bytes) -> PlainHeader | None:
    """The header block of ``raw`` when the quick route can read it, else None."""
    if len(raw) > QUICK_LIMIT:
        return None
    ends = [i for i in (raw.find(b"\n\n"), raw.find(b"\n\r\n")) if i >= 0]
    if not ends:
        return None  # no blank line (or a lone CR making one): the full route
    end = min(ends) + 1
    head = raw[:end]
    if _NOT_PLAIN.search(head) or raw.count(b"\r") != raw.count(b"\r\n"):
        return None
    if raw.count(b"\n--") > MAX_DELIMITER_LINES:
        return None
    text = head.decode("ascii")
    if not _FIELD_LINES.fullmatch(text):
        return None
    items: list[tuple[str, str]] = []
    first: dict[str, str] = {}
    for name, value in _HEADER_FIELD.findall(text):
        value = value.rstrip("\r\n")
        if len(value) > HEADER_LIMIT:
            return None  # capped by the full route, with its defect
        items.append((name, value))
        first.setdefault(name.lower(), value)
    content_type, params = "text/plain", {}
    raw_type = first.get("content-type")
    if raw_type is not None:
        simple = _simple_mime_cached("content-type", _unfold_all(raw_type))
        if simple is None:
            return None
        content_type, params = simple[0].partition(";")[0].strip().lower(), simple[1]
    maintype = content_type.partition("/")[0]
    body_start = end + (1 if raw[end:end + 1] == b"\n" else 2)
    if maintype == "message" or (maintype == "multipart" and (
            body_start < len(raw) or not _PLAIN_CTE.fullmatch(first.get("content-transfer-encoding", "7bit")))):
        # a body the full route parses as parts (its depth and its parts' fields can add
        # defects): not here; an empty multipart (a header block alone) is read as the full
        # route reads it
        return None
    return PlainHeader(items, first, content_type, params, body_start)


def plain_text_body(raw: bytes, header: PlainHeader) -> tuple[bytes, str | None, bool, bool] | None:
    """(payload bytes, charset, format=flowed, delsp=yes) of a message that is one text/plain
    part, as the full route's walk reads them; None for any other message, or one whose
    transfer encoding the stdlib would decode with defects (damaged base64)."""
    if header.content_type != "text/plain" or "content-disposition" in header.first or "name" in header.params:
        return None  # an attachment, or a file name to look at: the full route
    cte = header.first.get("content-transfer-encoding")
    data = raw[header.body_start:]
    if cte is not None:
        cte = cte.lower()
        if cte == "quoted-printable":
            data = quopri.decodestring(data)
        elif cte == "base64":
            encoded = b"".join(data.splitlines())
            if len(encoded) % 4:
                return None
            try:
                data = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                return None
        elif cte not in ("7bit", "8bit", "binary"):
            return None  # uuencode, an unknown one, spaces or a comment in the value
    params = header.params
    return (data, params.get("charset"), params.get("format", "").lower() == "flowed",
            params.get("delsp", "").lower() == "yes")
