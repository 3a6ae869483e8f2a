"""Header values as the parser reads them: plain Content-Type / Content-Disposition values
without the stdlib's slow value parser (:func:`_simple_mime`), a part's raw fields, and the
stdlib's parsed header object (:func:`_parse_header`, cached)."""

from __future__ import annotations

import functools
import re
from email.message import Message
from email.policy import default as _DEFAULT_POLICY
from typing import Any

from tui_desk.mail.parse.common import _FOLD


# --------------------------------------------------------------------------------------
# MIME header values without the stdlib's slow value parser


# RFC 2045 token and parameter-name characters as email._header_value_parser defines them
# (TOKEN_ENDS / ATTRIBUTE_ENDS), ASCII only.
_TOKEN = r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+"
_PARAM_WORD = r"[!#$&+\-.0-9A-Z^_`a-z{|}~]+"
_CT_HEAD = re.compile(rf"[ \t]*{_TOKEN}/{_TOKEN}[ \t]*")
_CD_HEAD = re.compile(rf"[ \t]*{_TOKEN}[ \t]*")
_MIME_PARAM = re.compile(
    rf'[ \t]*({_PARAM_WORD})[ \t]*=[ \t]*(?:({_PARAM_WORD})|"([ \t!#-\[\]-~]*)")[ \t]*(?:;|\Z)'
)
_MIME_HEADS = {"content-type": _CT_HEAD, "content-disposition": _CD_HEAD}


#: str(h), dict(h.params) and the parameters in order (name as written, value)
_SimpleMime = tuple[str, dict[str, str], list[tuple[str, str]]]


def _simple_mime(lname: str, value: str) -> _SimpleMime | None:
    """``(str(h), dict(h.params), [(name, value)...])`` of the stdlib's header object ``h``
    for a Content-Type or Content-Disposition value, computed directly when it is plain (ASCII tokens,
    simple quoted strings, no RFC 2231/2047, no comments, no repeated names); else None.

    The stdlib renders these headers from its parse tree: ``type/subtype; name="value"``.
    Parsing one takes 40-80 us and every mail has its own boundary (tests/test_parse.py
    checks this against the stdlib on generated values)."""
    head = _MIME_HEADS.get(lname)
    if head is None or "\r" in value or "\n" in value:
        return None
    m = head.match(value)
    if m is None:
        return None
    prefix = m.group()
    pos = len(prefix)
    if pos == len(value):
        return prefix, {}, []
    if value[pos] != ";":
        return None
    pos += 1
    params: dict[str, str] = {}
    items: list[tuple[str, str]] = []
    rendered: list[str] = []
    while value[pos:].strip(" \t"):
        p = _MIME_PARAM.match(value, pos)
        if p is None:
            return None
        name, token, quoted = p.groups()
        text = token if token is not None else quoted
        key = name.lower()
        if key in params or "=?" in text:
            return None
        params[key] = text
        items.append((name, text))
        rendered.append(f'{name}="{text}"' if text else name)
        pos = p.end()
    return prefix + ";" + (" " + "; ".join(rendered) if rendered else ""), params, items


_SIMPLE_MIME_CACHE: dict[tuple[str, str], _SimpleMime | None] = {}


def _simple_mime_cached(lname: str, value: str) -> _SimpleMime | None:
    key = (lname, value)
    try:
        return _SIMPLE_MIME_CACHE[key]
    except KeyError:
        pass
    if len(_SIMPLE_MIME_CACHE) >= 4096:
        _SIMPLE_MIME_CACHE.clear()
    found = _SIMPLE_MIME_CACHE[key] = _simple_mime(lname, value)
    return found


def _unfold_all(value: str) -> str:
    """What EmailPolicy.header_fetch_parse hands the header classes: no CR or LF at all."""
    if "\n" in value or "\r" in value:
        return value.replace("\r", "").replace("\n", "")
    return value


# --------------------------------------------------------------------------------------
# Header access


def _raw_items(part: Message) -> list[tuple[str, str]]:
    try:
        return [(str(k).strip(), v if isinstance(v, str) else str(v)) for k, v in part.raw_items()]
    except Exception:
        return []


def _first_raw(items: list[tuple[str, str]], name: str) -> str | None:
    name = name.lower()
    for key, value in items:
        if key.lower() == name:
            return value
    return None



def _unfold(value: str) -> str:
    return _FOLD.sub("", value)


@functools.lru_cache(maxsize=512)
def _parse_header(name: str, value: str) -> Any:
    """The stdlib's parsed header object. Cached: parsing is slow, and the parser itself
    asks for Content-Type several times per part."""
    return _DEFAULT_POLICY.header_fetch_parse(name, value)
