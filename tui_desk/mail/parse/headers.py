"""Header access (raw values decoded on demand, 8-bit bytes undone), message ids and the Date
header."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from email import utils as email_utils
from email.message import Message

from tui_desk.mail.parse.charsets import _decode_bytes, _fix_encoded_word_charsets
from tui_desk.mail.parse.common import _Defects, _SURROGATES, _SYNTHETIC_DOMAIN, _one_line
from tui_desk.mail.parse.header_values import _first_raw, _parse_header, _raw_items, _unfold
from tui_desk.mail.parse.stdlib_tree import _Part


def _part_raw(part: Message, name: str) -> str | None:
    """The first raw value of a part's header ``name``."""
    if isinstance(part, _Part):
        return part.first_raw(name)
    return _first_raw(_raw_items(part), name)


_ISO_2022_JP_ESCAPE = re.compile(r"\x1b(?:\$[@B]|\([BJ])")


def _undo_8bit(value: str, hints: Iterable[str]) -> tuple[str, str]:
    """Decode raw 8-bit header bytes (lone surrogates from the parser) as real text, and raw
    7-bit ISO-2022-JP (ESC $ B ... ESC ( B, not in RFC 2047 words) as mail clients do."""
    if "\x1b" in value and _ISO_2022_JP_ESCAPE.search(value) and not _SURROGATES.search(value):
        for codec in ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2"):
            try:
                return value.encode("ascii").decode(codec), ""
            except (UnicodeError, LookupError):
                continue
    if not _SURROGATES.search(value):
        return value, ""
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", value), ""
    text, _ = _decode_bytes(data, None, hints)
    return text, "raw 8-bit bytes"


def _fix_header(value: str, hints: Iterable[str]) -> tuple[str, str]:
    text, note = _undo_8bit(value, hints)
    return _fix_encoded_word_charsets(text.replace("\x00", "")), note




def _unstructured(value: str) -> str:
    """Decode encoded words in free text (Subject, display names, file names)."""
    if "=?" not in value:
        return _unfold(value)
    try:
        return str(_parse_header("Subject", value))
    except Exception:
        return _unfold(value)


class _Headers:
    """The top-level header block: raw values, decoded on demand, defects recorded.
    items: the fields as ``_raw_items`` gives them (the quick route splits them itself)."""

    def __init__(self, items: list[tuple[str, str]], hints: list[str], defects: _Defects,
                 printable: bool = False, every: dict[str, list[str]] | None = None) -> None:
        self.items = items
        self.printable = printable  # every value printable ASCII: no raw 8-bit, ESC or NUL to undo
        self.hints = hints
        self.defects = defects
        if every is not None:  # the items' values by lower-case name, made by the caller
            self.every = every
            return
        self.every = {}  # lower-case name -> its raw values, in order
        for key, value in items:
            found = self.every.get(key.lower())
            if found is None:
                self.every[key.lower()] = [value]
            else:
                found.append(value)

    @classmethod
    def of(cls, msg: Message, hints: list[str], defects: _Defects) -> "_Headers":
        return cls(_raw_items(msg), hints, defects)

    def all_raw(self, name: str) -> list[str]:
        """Every raw value of the field ``name``, in order."""
        return self.every.get(name.lower(), [])

    def get(self, name: str) -> str | None:
        found = self.every.get(name.lower())
        if found is None:
            return None
        raw = found[0]
        if self.printable:  # what _fix_header gives for such a value
            return _fix_encoded_word_charsets(raw) if "=?" in raw else raw
        text, note = _fix_header(raw, self.hints)
        if note:
            self.defects.add(f"{note} in {name} header")
        return text

    def has(self, name: str) -> bool:
        return name.lower() in self.every


# --------------------------------------------------------------------------------------
# Message ids


_MSGID = re.compile(r"<([^<>\s]+)>")
_BARE_ID = re.compile(r"[^\s<>()\x00-\x1f\x7f]{1,998}")


def normalize_msgid(s: str | None) -> str:
    """``" <a@b> "`` -> ``"a@b"``: the first bracketed id, else the trimmed text."""
    if not s:
        return ""
    m = _MSGID.search(s)
    if m:
        return m.group(1)
    return s.strip().strip("<>").strip()


def _ids(value: str | None) -> list[str]:
    """Message ids in a header, in order: bracketed ones, else whitespace-separated words."""
    if not value:
        return []
    value = _unfold(value)
    found = _MSGID.findall(value)
    if not found:
        found = [w for w in value.replace(",", " ").split() if "@" in w and _BARE_ID.fullmatch(w)]
    return [i for i in found if len(i) <= 998 and not _CONTROL_OR_SPACE.search(i)]


_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20]")


def synthetic_message_id(raw: bytes) -> str:
    """The stable id of a mail that has none (same bytes, same id)."""
    return _synthetic_id(raw)


def _synthetic_id(raw: bytes) -> str:
    # CRLF as LF: the same mail read from a file and fetched over IMAP gets the same id
    digest = hashlib.sha256(raw.replace(b"\r\n", b"\n")).hexdigest()
    return f"sha256-{digest[:32]}@{_SYNTHETIC_DOMAIN}"




# --------------------------------------------------------------------------------------
# Date


_FRACTION = re.compile(r"(\d{1,2}:\d{2}:\d{2})[.,]\d+")
_BARE_ZONE = re.compile(r"(\d{1,2}:\d{2}(?::\d{2})?)\s+(\d{4})\s*$")


_YEAR = re.compile(r"\b\d{1,2}\s+[A-Za-z]{3}\s+(\d{3,})\b")


def _written_year(text: str, when: dt.datetime) -> dt.datetime | None:
    """The stdlib reads any year below 100 as two digits (0001 → 2001). RFC 5322 4.3: only a
    two-digit year is; a three-digit one is 1900 + it; four digits are the year as written.
    None: the year as written does not make a date (29 Feb)."""
    m = _YEAR.search(text)
    if m is None or len(m.group(1)) < 3:
        return when
    year = int(m.group(1)) + (1900 if len(m.group(1)) == 3 else 0)
    if year == when.year or not 1 <= year <= 9999:
        return when
    try:
        return when.replace(year=year)
    except ValueError:
        return None


# The Date most mail has, "Tue, 22 Sep 2026 05:03:33 +0500": read without the stdlib's
# tokenizer, to the same datetime (tests/test_parse_quick.py compares the two).
_PLAIN_DATE = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?([0-9]{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" ([0-9]{4}) ([0-9][0-9]):([0-9][0-9]):([0-9][0-9]) ([+-])([0-9][0-9])([0-9][0-9])")
_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}
_ZONES: dict[str, dt.timezone] = {}


def _plain_date(text: str) -> dt.datetime | None:
    """``_parse_date``'s reading of a plain RFC 5322 date (four-digit year, numeric zone),
    or None for any other text."""
    m = _PLAIN_DATE.fullmatch(text)
    if m is None:
        return None
    day, month, year, hour, minute, second, sign, zh, zm = m.groups()
    if year < "1000" or hour > "23" or minute > "59" or second > "59" or zh > "23" or zm > "59":
        return None  # (the stdlib's handling of these is left to it)
    written_zone = text[-5:]
    zone = _ZONES.get(written_zone)
    if zone is None:
        offset = int(zh) * 3600 + int(zm) * 60
        if sign == "-":
            offset = -offset
        # "-0000": no zone information (RFC 5322 3.3); read as UTC, as the stdlib's naive result is
        zone = dt.timezone.utc if not offset else dt.timezone(dt.timedelta(seconds=offset))
        _ZONES[written_zone] = zone
    try:
        return dt.datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=zone)
    except ValueError:
        return None


def _parse_date(value: str | None, defects: _Defects) -> dt.datetime | None:
    if value is None:
        return None
    text = _one_line(value)
    if not text:
        return None
    plain = _plain_date(text)
    if plain is not None:
        return plain
    candidates = [text]
    fixed = _FRACTION.sub(r"\1", text) if _FRACTION.search(text) else text
    if _BARE_ZONE.search(fixed):  # (sub() costs microseconds even when nothing matches)
        fixed = _BARE_ZONE.sub(r"\1 +\2", fixed)
    if fixed != text:
        candidates.append(fixed)
    for candidate in candidates:
        try:
            when = email_utils.parsedate_to_datetime(candidate)
        except Exception:
            continue
        if when is not None:
            written = _written_year(candidate, when)
            if written is None:
                break
            return written if written.tzinfo else written.replace(tzinfo=dt.timezone.utc)
    try:
        when = dt.datetime.fromisoformat(text)
        return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
    except Exception:
        pass
    defects.add(f"unreadable Date: {text[:80]!r}")
    return None
