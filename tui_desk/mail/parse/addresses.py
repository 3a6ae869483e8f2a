"""Address headers: a lenient tokenizer that cross-checks the stdlib (``From: a@x <b@y>``),
and a fast reader for the plain address lists most mail has."""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass, field

from tui_desk.mail.model import Address
from tui_desk.mail.parse.common import _Defects, _one_line
from tui_desk.mail.parse.header_values import _parse_header, _unfold, _unfold_all
from tui_desk.mail.parse.headers import _unstructured
from tui_desk.mail.parse.stdlib_tree import _decode_encoded_word
from tui_desk.sanitize import CONTROL, ESCAPE_SEQUENCE, sanitize, strip_controls


# --------------------------------------------------------------------------------------
# Addresses


@dataclass
class _Entry:
    phrase: list[str] = field(default_factory=list)  # outside <...> and (...)
    angle: str | None = None
    comments: list[str] = field(default_factory=list)
    has_at: bool = False  # an unquoted "@" in the phrase: a ":" after it is no group name


_INTRODUCERS = frozenset("\x1b\x90\x98\x9b\x9d\x9e\x9f")  # of ESCAPE_SEQUENCE's sequences


def _scan_address_list(value: str) -> list[_Entry]:
    """Split an address header into entries, tolerating what RFC 5322 forbids."""
    entries: list[_Entry] = []
    cur = _Entry()
    angle: list[str] | None = None
    comment: list[str] = []
    depth = 0  # comment nesting
    quoted = escaped = False
    at, end = 0, len(value)
    while at < end:
        ch = value[at]
        at += 1
        if ch in _INTRODUCERS and angle is None and not depth and not escaped:
            # a terminal escape sequence in a name is left out whole: its ";" (OSC) is no
            # separator, its "\" (ST) no quote escape (_read_addresses notes it)
            seq = ESCAPE_SEQUENCE.match(value, at - 1)
            if seq is not None:
                at = seq.end()
                continue
        if escaped:
            (comment if depth else angle if angle is not None else cur.phrase).append(ch)
            escaped = False
            continue
        if quoted:
            if ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
            (angle if angle is not None else cur.phrase).append(ch)
            continue
        if depth:
            if ch == "\\":
                escaped = True
            elif ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if not depth:
                    cur.comments.append("".join(comment))
                    comment = []
                    continue
            comment.append(ch)
            continue
        if ch == "(":
            depth = 1
        elif ch == '"':
            quoted = True
            (angle if angle is not None else cur.phrase).append(ch)
        elif angle is not None:
            if ch == ">":
                cur.angle = "".join(angle)
                angle = None
            else:
                angle.append(ch)
        elif ch == "<":
            angle = []
        elif ch in ",;":
            entries.append(cur)
            cur = _Entry()
        elif ch == ":" and cur.angle is None and not cur.has_at:
            cur = _Entry()  # "group name:" -- the group's own name is not an address
        else:
            cur.phrase.append(ch)
            cur.has_at = cur.has_at or ch == "@"
    if angle is not None and cur.angle is None:
        cur.angle = "".join(angle)
    entries.append(cur)
    return entries


_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"?|([^"]+)', re.S)


def _decode_phrase(phrase: str) -> str:
    parts = []
    for m in _QUOTED.finditer(phrase):
        if m.group(1) is not None:
            parts.append(re.sub(r"\\(.)", r"\1", m.group(1)))
        else:
            parts.append(m.group(2))
    return _one_line(_unstructured("".join(parts)))


def _lenient_addresses(value: str) -> list[Address]:
    out: list[Address] = []
    for entry in _scan_address_list(_unfold(value)):
        phrase = "".join(entry.phrase).strip()
        if entry.angle is not None:
            addr = entry.angle.strip()
            if ":" in addr and "@" in addr.split(":")[0]:  # obsolete source route @a,@b:x@y
                addr = addr.rsplit(":", 1)[1]
            name = _decode_phrase(phrase)
        elif "@" in phrase:
            addr = re.sub(r"\s*@\s*", "@", phrase)
            name = ""
        else:  # no address at all ("To: undisclosed recipients"): keep the words as a name
            addr = ""
            name = _decode_phrase(phrase)
        if not name and entry.comments:
            name = _decode_phrase(entry.comments[0])
        addr = _one_line(addr).replace(" ", "")
        if addr or name:
            out.append(Address(name=name, addr=addr))
    return out


# The address lists most mail has, read without the stdlib's address parser (~50-130 us a
# header). Only forms whose stdlib reading is known: tests/test_parse.py compares this with
# the stdlib on generated values.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDR_SPEC = rf"{_ATEXT}(?:\.{_ATEXT})*@{_ATEXT}(?:\.{_ATEXT})*"
_PHRASE_WORD = r'[^\x00-\x20\x7f()<>@,;:\\".\[\]]+'  # RFC 5322 atext, any script, no "."
_SIMPLE_ENTRY = re.compile(
    rf"[ \t]*(?:(?P<bare>{_ADDR_SPEC})"
    rf'|(?P<phrase>"[^"\\\x00-\x08\x0a-\x1f\x7f]*"|{_PHRASE_WORD}(?:[ \t]+{_PHRASE_WORD})*)?'
    rf"(?P<gap>[ \t]*)<(?P<angle>{_ADDR_SPEC})>)[ \t]*(?P<comma>,?)"
)
_SIMPLE_EW = re.compile(r"=\?[A-Za-z0-9_.:-]+\?[bBqQ]\?[^?\s]*\?=")


def _simple_addresses(value: str) -> list[tuple[str, str, str]] | None:
    """[(display name as _addresses reads it from the stdlib, addr-spec, the phrase)] for a
    plain address list (``a@b``, ``Name <a@b>``, ``"Last, First" <a@b>``, encoded-word
    names), which the stdlib reads without defects and the lenient scan reads the same;
    None for anything else."""
    value = _unfold_all(value)
    out: list[tuple[str, str, str]] = []
    pos, end = 0, len(value)
    while True:
        m = _SIMPLE_ENTRY.match(value, pos)
        if m is None:
            return None
        bare, phrase, angle = m.group("bare", "phrase", "angle")
        addr = bare if bare is not None else angle
        if "=?" in addr:
            return None  # an encoded word in a dot-atom: the stdlib decodes it
        if bare is not None:
            out.append(("", addr, ""))
        else:
            phrase = phrase or ""
            name = _simple_display_name(phrase, bool(m.group("gap")))
            if name is None:
                return None
            out.append((name, addr, phrase))
        pos = m.end()
        if pos == end:
            return out if not m.group("comma") else None
        if not m.group("comma"):
            return None


def _simple_display_name(phrase: str, gap: bool) -> str | None:
    if not phrase:
        return ""
    if not phrase.replace("\t", " ").isprintable():
        return None
    if phrase.startswith('"'):
        inner = phrase[1:-1]
        return None if "=?" in inner else _one_line(inner)
    if "=?" not in phrase:
        return _one_line(phrase)
    words = phrase.split()
    if _SIMPLE_EW.fullmatch(words[-1]) and not gap:
        return None  # "missing trailing whitespace after encoded-word"
    texts = []
    for word in words:
        if "=?" not in word:
            texts.append(word)
            continue
        if not _SIMPLE_EW.fullmatch(word):
            return None
        text = _simple_encoded_word(word)
        if text is None:
            return None
        texts.append(text)
    return _one_line(" ".join(texts))


@functools.lru_cache(maxsize=1024)
def _simple_encoded_word(word: str) -> str | None:
    """The text of one encoded word as the stdlib's phrase parser decodes it, when it does so
    without defects and the text is printable; else None."""
    # email._header_value_parser.get_encoded_word: where the word ends
    tok, *remainder = word[2:].split("?=", 1)
    rest = "".join(remainder)
    if len(rest) > 1 and rest[0] in string.hexdigits and rest[1] in string.hexdigits and tok.count("?") < 2:
        more, *remainder = rest.split("?=", 1)
        tok = tok + "?=" + more
        rest = "".join(remainder)
    if rest or "=?" + tok + "?=" != word:
        return None
    try:
        text, _charset, _lang, found = _decode_encoded_word(word)
    except Exception:
        return None
    if found or not text.replace("\t", " ").isprintable():
        return None
    return text


def _addresses(name: str, value: str | None, defects: _Defects) -> list[Address]:
    if value is None:
        return []
    known = _PLAIN_LISTS.get((value,))
    if known is not None:
        return list(known)
    simple = _simple_addresses(value)
    if simple is not None:
        # what _read_addresses returns for these: the stdlib's reading (no defects), with
        # the lenient name where the stdlib has none
        found = [Address(n if n else _decode_phrase(p), a) for n, a, p in simple]
        if len(_PLAIN_LISTS) >= 4096:
            _PLAIN_LISTS.clear()
        _PLAIN_LISTS[(value,)] = tuple(found)
        return found
    return _read_addresses(name, value, defects)


# Plain address lists already read (the desk's own address is in most mail's To or Cc): the
# same for any header name, and no defects to repeat. Address is frozen.
_PLAIN_LISTS: dict[tuple[str], tuple[Address, ...]] = {}  # (keyed by tuples: bench/parse_speed.py clears such memos)


def _read_addresses(name: str, value: str, defects: _Defects) -> list[Address]:
    """The stdlib's reading of an address header, checked against the lenient one; names
    without terminal controls (said in a defect)."""
    found = _checked_addresses(name, value, defects)
    in_names = any(CONTROL.search(a.name) for a in found)  # (an encoded word's, or the stdlib's)
    if in_names or CONTROL.search(value):
        defects.add(f"{name}: terminal control sequences in it, not shown")
    if not in_names:
        return found
    return [Address(_one_line(strip_controls(a.name)), a.addr) if CONTROL.search(a.name) else a for a in found]


def _checked_addresses(name: str, value: str, defects: _Defects) -> list[Address]:
    lenient = _lenient_addresses(value)
    try:
        header = _parse_header(name, value)
        strict = [  # the null address comes back as "<>"
            Address(_one_line(a.display_name or ""), _one_line(a.addr_spec or "").strip("<>"))
            for a in header.addresses
        ]
        header_defects = list(header.defects)
    except Exception as exc:
        defects.add(f"{name}: the stdlib failed to read it ({type(exc).__name__})")
        return lenient
    if [a.key for a in strict] == [a.key for a in lenient]:
        for d in header_defects:
            defects.add_stdlib(d, f"in {name}")
        # the stdlib ignores the old "addr (Full Name)" form; the lenient reading keeps it
        return [s if s.name else Address(le.name, s.addr) for s, le in zip(strict, lenient)]
    # the addresses quoted sanitized: an ESC in one would swallow the words after it
    defects.add(
        f"{name}: the stdlib read {', '.join(sanitize(a.addr) or '?' for a in strict) or 'nothing'};"
        f" read leniently as {', '.join(sanitize(a.addr) for a in lenient) or 'nothing'}"
    )
    return lenient
