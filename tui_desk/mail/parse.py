"""The one MIME parser: raw RFC 5322 bytes -> :class:`ParsedMessage`.

Built on ``email`` with ``policy.default``. Nothing a message contains may raise out of
:func:`parse_message`: damage becomes human-readable ``defects`` (the stdlib's defect class
names plus our own notes) and the record stays usable.

Stdlib traps handled here (tests/test_parse.py has a message for each):

* Header values are decoded by ``policy.default`` lazily and superlinearly (a 209 KB
  Subject takes 0.5 s, 840 KB 12 s). :class:`_CappingPolicy` shortens every over-long field
  of every header block, nested parts included, as the parser reads it, before anything
  decodes it.
* Raw 8-bit bytes in headers come back as lone surrogates. Each header we read is first
  decoded (UTF-8, then the message's own charsets, then windows-1252) and only then parsed.
* ``From: a@x <b@y>`` is read as ``a@x`` (mail-parser #132); a lenient tokenizer
  cross-checks every address header and wins when the two disagree.
* A multipart whose boundary never shows (or whose ``<<...>>`` boundary the stdlib strips)
  has no parts and ``get_content()`` raises: the boundary is recovered from the raw header
  when possible, else the raw body is shown.
* Unknown or wrong charsets raise ``LookupError``/``UnicodeDecodeError`` in
  ``get_content()``: bodies are decoded here with fallbacks instead.
* ``Subject :`` (space before the colon, RFC 5322 obs-syntax) makes the stdlib see no
  headers at all: such header blocks are repaired and parsed again.

Strings in the record are not sanitized for the terminal (``tui_desk.sanitize`` does that at
display) but carry no lone surrogates and no NUL, so they can be stored and encoded.
"""

from __future__ import annotations

import codecs
import datetime as dt
import functools
import hashlib
import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import errors as email_errors
from email import utils as email_utils
from email.message import Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.policy import default as _DEFAULT_POLICY
from typing import Any

from tui_desk.mail.html_text import html_to_text
from tui_desk.mail.model import Address, Attachment, ParsedMessage

__all__ = ["parse_message", "normalize_msgid", "split_quoted"]

#: Longest header field value (raw characters) handed to the stdlib's header parser.
HEADER_LIMIT = 16 * 1024
#: References is read with a regex, never by the stdlib parser; it keeps its head and tail.
REFERENCES_LIMIT = 64 * 1024
#: Longest body text kept (characters), and longest HTML converted to text.
TEXT_LIMIT = 1_000_000
HTML_LIMIT = 2_000_000
#: MIME parts looked at, and nesting depth followed, per message.
MAX_PARTS = 1000
MAX_DELIMITER_LINES = 5000
MAX_DEPTH = 40
MAX_DEFECTS = 60
_TEXT_BYTES_LIMIT = 4 * max(TEXT_LIMIT, HTML_LIMIT)  # up to 4 bytes per character

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SYNTHETIC_DOMAIN = "tui-desk.invalid"


# --------------------------------------------------------------------------------------
# Small text helpers


_SURROGATES = re.compile("[\ud800-\udfff]")
_WS = re.compile(r"\s+")
_FOLD = re.compile(r"\r\n|\r|\n")


def _clean(text: str) -> str:
    """No lone surrogates (cannot be encoded) and no NUL (truncates C strings)."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    return _SURROGATES.sub("\ufffd", text)


def _one_line(text: str) -> str:
    return _WS.sub(" ", _clean(text)).strip()


def _kb(n: int) -> str:
    return f"{max(1, round(n / 1024))} KB"


class _Defects:
    """Ordered, de-duplicated, capped list of human-readable problems."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._seen: set[str] = set()
        self.dropped = 0

    def add(self, text: str) -> None:
        text = _one_line(text)
        if len(text) > 300:
            text = text[:297] + "..."
        if text in self._seen:
            return
        if len(self.items) >= MAX_DEFECTS:
            self.dropped += 1
            return
        self._seen.add(text)
        self.items.append(text)

    def add_stdlib(self, defect: object, where: str = "") -> None:
        name = type(defect).__name__
        detail = ""
        try:
            detail = str(defect).strip()
        except Exception:
            pass
        text = f"{name}: {detail}" if detail and detail != name else name
        self.add(f"{text} ({where})" if where else text)

    def result(self) -> list[str]:
        if self.dropped:
            return [*self.items, f"... and {self.dropped} more problems"]
        return list(self.items)


# --------------------------------------------------------------------------------------
# Charsets


# Labels that are wrong in practice, or better read with a superset codec.
_CHARSET_ALIASES: dict[str, tuple[str, ...]] = {
    "gb2312": ("gb18030",),
    "gb_2312-80": ("gb18030",),
    "csgb2312": ("gb18030",),
    "euc-cn": ("gb18030",),
    "x-euc-cn": ("gb18030",),
    "cn-gb": ("gb18030",),
    "chinese": ("gb18030",),
    "gbk": ("gb18030",),
    "x-gbk": ("gb18030",),
    "cp936": ("gb18030",),
    "big5": ("big5hkscs", "cp950"),
    "x-big5": ("big5hkscs", "cp950"),
    "shift_jis": ("cp932", "shift_jis"),
    "shift-jis": ("cp932", "shift_jis"),
    "sjis": ("cp932", "shift_jis"),
    "x-sjis": ("cp932", "shift_jis"),
    "windows-31j": ("cp932",),
    "iso-2022-jp": ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2"),
    "euc-kr": ("cp949", "euc_kr"),
    "ks_c_5601-1987": ("cp949",),
    "ks_c_5601": ("cp949",),
    "iso-8859-1": ("cp1252", "latin-1"),
    "iso8859-1": ("cp1252", "latin-1"),
    "latin1": ("cp1252", "latin-1"),
    "latin-1": ("cp1252", "latin-1"),
    "l1": ("cp1252", "latin-1"),
    "iso-8859-8-i": ("iso-8859-8",),
    "iso-8859-6-i": ("iso-8859-6",),
    "windows-874": ("cp874",),
    "tis-620": ("cp874", "tis-620"),
    "unicode-1-1-utf-7": ("utf-7",),
    "utf8mb4": ("utf-8",),
    "x-utf-8": ("utf-8",),
}
# Labels that promise nothing: treated like a missing charset (guessing chain).
_VAGUE_CHARSETS = frozenset(
    {"", "us-ascii", "ascii", "ansi_x3.4-1968", "us", "unknown", "unknown-8bit", "x-unknown",
     "default", "none", "x-user-defined", "charset", "8bit", "7bit"}
)
_GUESS_CHAIN = ("utf-8", "cp1252", "latin-1")


def _codec_exists(name: str) -> bool:
    try:
        return codecs.lookup(name)._is_text_encoding  # type: ignore[attr-defined, no-any-return]
    except LookupError:
        return False


def _codecs_for(charset: str | None) -> tuple[str, ...]:
    """Codecs to try for a declared charset, best first; () when the label is vague/unknown."""
    label = (charset or "").strip().strip("\"'").lower()
    if label in _VAGUE_CHARSETS:
        return ()
    if label in _CHARSET_ALIASES:
        return _CHARSET_ALIASES[label]
    return (label,) if _codec_exists(label) else ()


def _decode_bytes(data: bytes, charset: str | None, hints: Iterable[str] = ()) -> tuple[str, str]:
    """Decode text that claims ``charset``; returns (text, note) where note explains a guess."""
    declared = _codecs_for(charset)
    for codec in declared:
        try:
            return data.decode(codec), ""
        except (UnicodeDecodeError, LookupError):
            continue
    if declared:
        try:
            return (
                data.decode(declared[0], errors="replace"),
                f"text is not valid {charset}: undecodable bytes replaced",
            )
        except LookupError:
            pass
    tried = set(declared)
    chain = ["utf-8", *(c for h in hints for c in _codecs_for(h)), "cp1252", "latin-1"]
    for codec in chain:
        if codec in tried:
            continue
        tried.add(codec)
        try:
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            if codec == "utf-8" and (mostly := _mostly_utf8(data)) is not None:
                return mostly, "text is not valid utf-8: undecodable bytes replaced"
            continue
        label = (charset or "").strip().lower()
        if label and label not in _VAGUE_CHARSETS:
            return text, f"unknown charset {charset!r}: read as {codec}"
        if codec != "utf-8" and not data.isascii():
            return text, f"8-bit text without a usable charset: read as {codec}"
        return text, ""
    return data.decode("latin-1"), ""  # unreachable: latin-1 decodes anything


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 with a few broken bytes (a name cut mid-character) reads best as UTF-8."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = len(text) - len(text.encode("ascii", "ignore")) - bad
    return text if good and good >= 2 * bad else None


_ENCODED_WORD_CHARSET = re.compile(r"=\?([^?*\s]+)((?:\*[^?\s]*)?)\?([bBqQ])\?")


def _fix_encoded_word_charsets(value: str) -> str:
    """Point RFC 2047 words at codecs Python has (gb2312 -> gb18030, unknown -> utf-8)."""
    if "=?" not in value:
        return value

    def repl(m: re.Match[str]) -> str:
        label = m.group(1).lower()
        if label in _CHARSET_ALIASES:
            codec = _CHARSET_ALIASES[label][0]
        elif label in _VAGUE_CHARSETS or not _codec_exists(label):
            codec = "utf-8"
        else:
            return m.group(0)
        return f"=?{codec}{m.group(2)}?{m.group(3)}?"

    return _ENCODED_WORD_CHARSET.sub(repl, value)


# --------------------------------------------------------------------------------------
# The policy that caps header sizes as the parser reads them


def _shorten(value: str, limit: int, keep_tail: bool) -> str:
    """Cut ``value`` to about ``limit`` chars at whitespace, so no encoded word is split."""

    def cut_head(s: str, n: int) -> str:
        head = s[:n]
        ws = max(head.rfind(" "), head.rfind("\t"), head.rfind("\n"))
        return head[:ws] if ws > n // 2 else head

    if not keep_tail:
        return cut_head(value, limit)
    head = cut_head(value, min(1024, limit // 4))
    tail = value[-(limit - len(head)) :]
    ws = min((p for p in (tail.find(" "), tail.find("\t"), tail.find("\n")) if p >= 0), default=-1)
    return head + " " + (tail[ws + 1 :] if ws >= 0 else tail)


class _CappingPolicy(EmailPolicy):
    """``policy.default`` that shortens over-long header fields while the parser reads them.

    Every header block goes through ``header_source_parse`` (nested parts too) before any
    value is decoded, so this is the one place where a cap protects every later access.
    """

    truncated: list[tuple[str, int]] | None = None  # (field name, original length)

    def header_fetch_parse(self, name: str, value: Any) -> Any:
        if isinstance(value, str) and not hasattr(value, "name"):
            return _parse_header(name, value)
        return super().header_fetch_parse(name, value)

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        name, value = super().header_source_parse(sourcelines)
        is_refs = name.strip().lower() == "references"
        limit = REFERENCES_LIMIT if is_refs else HEADER_LIMIT
        if len(value) > limit:
            if self.truncated is not None:
                self.truncated.append((name.strip(), len(value)))
            value = _shorten(value, limit, keep_tail=is_refs)
        return name, value


def _parse_bytes(raw: bytes, headers_only: bool = False) -> tuple[Message, list[tuple[str, int]]]:
    truncated: list[tuple[str, int]] = []
    policy = _CappingPolicy(truncated=truncated, header_factory=_DEFAULT_POLICY.header_factory)
    msg = BytesParser(policy=policy).parsebytes(raw, headersonly=headers_only)
    return msg, truncated


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


def _all_raw(items: list[tuple[str, str]], name: str) -> list[str]:
    name = name.lower()
    return [value for key, value in items if key.lower() == name]


def _undo_8bit(value: str, hints: Iterable[str]) -> tuple[str, str]:
    """Decode raw 8-bit header bytes (lone surrogates from the parser) as real text."""
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


def _unfold(value: str) -> str:
    return _FOLD.sub("", value)


@functools.lru_cache(maxsize=512)
def _parse_header(name: str, value: str) -> Any:
    """The stdlib's parsed header object. Cached: parsing is slow, and the parser itself
    asks for Content-Type several times per part."""
    return _DEFAULT_POLICY.header_fetch_parse(name, value)


def _unstructured(value: str) -> str:
    """Decode encoded words in free text (Subject, display names, file names)."""
    if "=?" not in value:
        return _unfold(value)
    try:
        return str(_parse_header("Subject", value))
    except Exception:
        return _unfold(value)


class _Headers:
    """The top-level header block: raw values, decoded on demand, defects recorded."""

    def __init__(self, msg: Message, hints: list[str], defects: _Defects) -> None:
        self.items = _raw_items(msg)
        self.hints = hints
        self.defects = defects

    def get(self, name: str) -> str | None:
        raw = _first_raw(self.items, name)
        if raw is None:
            return None
        text, note = _fix_header(raw, self.hints)
        if note:
            self.defects.add(f"{note} in {name} header")
        return text

    def has(self, name: str) -> bool:
        return _first_raw(self.items, name) is not None


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
    return [i for i in found if len(i) <= 998 and not any(ord(c) < 0x21 for c in i)]


def _synthetic_id(raw: bytes) -> str:
    # CRLF as LF: the same mail read from a file and fetched over IMAP gets the same id
    digest = hashlib.sha256(raw.replace(b"\r\n", b"\n")).hexdigest()
    return f"sha256-{digest[:32]}@{_SYNTHETIC_DOMAIN}"


# --------------------------------------------------------------------------------------
# Addresses


@dataclass
class _Entry:
    phrase: list[str] = field(default_factory=list)  # outside <...> and (...)
    angle: str | None = None
    comments: list[str] = field(default_factory=list)
    has_at: bool = False  # an unquoted "@" in the phrase: a ":" after it is no group name


def _scan_address_list(value: str) -> list[_Entry]:
    """Split an address header into entries, tolerating what RFC 5322 forbids."""
    entries: list[_Entry] = []
    cur = _Entry()
    angle: list[str] | None = None
    comment: list[str] = []
    depth = 0  # comment nesting
    quoted = escaped = False
    for ch in value:
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


def _addresses(name: str, value: str | None, defects: _Defects) -> list[Address]:
    if value is None:
        return []
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
    defects.add(
        f"{name}: the stdlib read {', '.join(a.addr or '?' for a in strict) or 'nothing'};"
        f" read leniently as {', '.join(a.addr for a in lenient) or 'nothing'}"
    )
    return lenient


# --------------------------------------------------------------------------------------
# Date


_FRACTION = re.compile(r"(\d{1,2}:\d{2}:\d{2})[.,]\d+")
_BARE_ZONE = re.compile(r"(\d{1,2}:\d{2}(?::\d{2})?)\s+(\d{4})\s*$")


def _parse_date(value: str | None, defects: _Defects) -> dt.datetime | None:
    if value is None:
        return None
    text = _one_line(value)
    if not text:
        return None
    candidates = [text]
    fixed = _BARE_ZONE.sub(r"\1 +\2", _FRACTION.sub(r"\1", text))
    if fixed != text:
        candidates.append(fixed)
    for candidate in candidates:
        try:
            when = email_utils.parsedate_to_datetime(candidate)
        except Exception:
            continue
        if when is not None:
            return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
    try:
        when = dt.datetime.fromisoformat(text)
        return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
    except Exception:
        pass
    defects.add(f"unreadable Date: {text[:80]!r}")
    return None


# --------------------------------------------------------------------------------------
# MIME tree: body text and attachments


_META_CHARSET = re.compile(
    rb"""(?i)<meta[^>]{0,200}?charset\s*=\s*["']?([A-Za-z0-9_.:-]{1,40})"""
)
_MIME_TYPES = mimetypes.MimeTypes(filenames=())  # built-in table only: same on every host
_BOUNDARY_PARAM = re.compile(r"""(?i)\bboundary\s*=\s*(?:"([^"]*)"|([^\s;]+))""")
_NAME_PARAM = re.compile(
    r"""(?i)(?:^|;)\s*(file)?name(\*)?\s*=\s*("(?:[^"\\]|\\.)*"?|[^;]*)"""
)


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:
        return "application/octet-stream"


def _part_header(part: Message, name: str, hints: list[str]) -> tuple[str | None, Any]:
    """(fixed raw value, parsed header object or None) of a part's header."""
    raw = _first_raw(_raw_items(part), name)
    if raw is None:
        return None, None
    value, _ = _fix_header(raw, hints)
    try:
        return value, _parse_header(name, value)
    except Exception:
        return value, None


def _param(header: Any, key: str) -> str | None:
    try:
        value = header.params.get(key)
    except Exception:
        return None
    return value if isinstance(value, str) else None


def _filename(part: Message, hints: list[str]) -> str:
    for hname, key in (("Content-Disposition", "filename"), ("Content-Type", "name")):
        raw, header = _part_header(part, hname, hints)
        if raw is None:
            continue
        value = _param(header, key) if header is not None else None
        if not value:
            for m in _NAME_PARAM.finditer(_unfold(raw)):
                if (m.group(1) is not None) == (key == "filename"):
                    value = _raw_param_value(m.group(3), bool(m.group(2)))
                    break
        if value:
            value = _unstructured(value) if "=?" in value else value
            return _one_line(value)
    return ""


def _raw_param_value(text: str, extended: bool) -> str:
    text = text.strip()
    if text.startswith('"'):
        closed = text.endswith('"') and len(text) > 1
        text = re.sub(r"\\(.)", r"\1", text[1:-1] if closed else text[1:])
    if extended and text.count("'") >= 2:
        try:
            charset, _, encoded = text.split("'", 2)
            return email_utils.collapse_rfc2231_value((charset, "", encoded))
        except Exception:
            pass
    return text


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    try:
        payload = part.get_payload()
        if isinstance(payload, str):
            return payload.encode("utf-8", "surrogateescape")
    except Exception:
        pass
    return b""


def _base64_size(payload: str) -> int | None:
    """Decoded size of clean base64 without decoding it (saves copies of big attachments)."""
    data = payload.encode("ascii", "surrogateescape")
    stripped = data.translate(None, b" \t\r\n")
    if len(stripped) % 4 or stripped.translate(None, _BASE64_ALPHABET):
        return None  # not clean base64: let the decoder decide
    return len(stripped) // 4 * 3 - (len(stripped) - len(stripped.rstrip(b"=")))


_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


def _size(part: Message) -> int:
    if not part.is_multipart():
        try:
            payload = part.get_payload()
            cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
            if isinstance(payload, str) and cte == "base64":
                size = _base64_size(payload)
                if size is not None:
                    return size
        except Exception:
            pass
        return len(_payload_bytes(part))
    total = 0
    try:
        for sub in part.get_payload():  # message/rfc822, message/delivery-status blocks
            try:
                total += len(sub.as_bytes())
            except Exception:
                continue
    except Exception:
        pass
    return total


def _unflow(text: str, delsp: bool) -> str:
    """Join the soft line breaks of format=flowed text (RFC 3676)."""
    out: list[str] = []
    pending: list[str] | None = None
    pending_depth = 0
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        flowed = content.endswith(" ") and content != "-- "
        if flowed and delsp:
            content = content[:-1]
        if pending is not None and depth != pending_depth:
            out.append(_flow_prefix(pending_depth) + "".join(pending))
            pending = None
        if pending is None:
            pending, pending_depth = [], depth
        pending.append(content)
        if not flowed:
            out.append(_flow_prefix(depth) + "".join(pending))
            pending = None
    if pending is not None:
        out.append(_flow_prefix(pending_depth) + "".join(pending))
    return "\n".join(out)


def _flow_prefix(depth: int) -> str:
    return ">" * depth + " " if depth else ""


@dataclass
class _Piece:
    text: str
    from_html: bool


class _Walker:
    """Walks the MIME tree once: picks the readable text, lists the attachments."""

    def __init__(self, hints: list[str], defects: _Defects, opaque: bool = False) -> None:
        self.hints = hints
        self.defects = defects
        self.opaque = opaque  # body left unparsed on purpose: no re-split attempts
        self.parts = 0
        self.attachments: list[Attachment] = []
        self.recovered: dict[int, Message] = {}  # unsplit multipart -> its re-split version

    # Paths are 1-based like IMAP: "1", "1.2"; a non-multipart message's body is "1".
    def children(self, part: Message, path: str) -> list[tuple[Message, str]]:
        try:
            payload = part.get_payload()
        except Exception:
            return []
        if not isinstance(payload, list):
            return []
        prefix = f"{path}." if path else ""
        return [
            (sub, f"{prefix}{i}")
            for i, sub in enumerate(payload[:MAX_PARTS], 1)
            if isinstance(sub, Message)
        ]

    def is_attachment(self, part: Message) -> bool:
        return _disposition(part) == "attachment" or bool(_filename(part, self.hints))

    def text_of(self, part: Message) -> str:
        data = _payload_bytes(part)
        if len(data) > _TEXT_BYTES_LIMIT:  # more than we would ever keep after decoding
            self.defects.add(f"text part too long ({_kb(len(data))}): only the start is read")
            data = data[:_TEXT_BYTES_LIMIT]
        try:
            charset = part.get_param("charset")
        except Exception:
            charset = None
        if not isinstance(charset, str):
            charset = None
            if _content_type(part) == "text/html":
                m = _META_CHARSET.search(data[:4096])
                charset = m.group(1).decode("ascii") if m else None
        text, note = _decode_bytes(data, charset, self.hints)
        if note:
            self.defects.add(note)
        text = _clean(text).replace("\r\n", "\n").replace("\r", "\n")
        return text

    def leaf_body(self, part: Message, ctype: str) -> _Piece | None:
        if ctype == "text/plain":
            text = self.text_of(part)
            try:
                flowed = str(part.get_param("format") or "").lower() == "flowed"
                delsp = str(part.get_param("delsp") or "").lower() == "yes"
            except Exception:
                flowed = delsp = False
            return _Piece(_unflow(text, delsp) if flowed else text, False)
        if ctype == "text/html":
            html = self.text_of(part)
            if len(html) > HTML_LIMIT:
                self.defects.add(f"HTML body too long ({_kb(len(html))}): only the start is shown")
                html = html[:HTML_LIMIT]
            return _Piece(html_to_text(html), True)
        return None

    def body(self, part: Message, path: str, depth: int) -> tuple[list[_Piece], list[int]]:
        """Readable pieces of ``part`` and the ids of the parts they came from."""
        ctype = _content_type(part)
        if depth > MAX_DEPTH:
            return [], []
        maintype = ctype.split("/")[0]
        if maintype == "multipart":
            if not part.is_multipart():
                return self.unsplit(part, path, ctype, depth)
            kids = [(k, p) for k, p in self.children(part, path) if not self.is_attachment(k)]
            if ctype == "multipart/alternative":
                return self.alternative(kids, depth)
            if ctype == "multipart/related":
                kids = kids[:1]
            pieces: list[_Piece] = []
            used: list[int] = []
            for kid, kid_path in kids:
                found, kid_used = self.body(kid, kid_path, depth + 1)
                for piece in found:
                    # the same text twice in a row: broken alternatives that came out as siblings
                    if not pieces or _one_line(piece.text) != _one_line(pieces[-1].text):
                        pieces.append(piece)
                used += kid_used
            return pieces, used
        if maintype == "message" or part.is_multipart():
            return [], []
        piece = self.leaf_body(part, ctype)
        return ([piece], [id(part)]) if piece is not None else ([], [])

    def fallback_body(self, msg: Message) -> list[_Piece]:
        """No body found: the first inline text leaf of any kind (still listed as attachment).

        Attached messages are not entered: their text is not this message's text.
        """
        stack: list[tuple[Message, int]] = [(msg, 0)]
        seen = 0
        while stack and seen < MAX_PARTS:
            part, depth = stack.pop()
            seen += 1
            ctype = _content_type(part)
            try:
                if ctype.startswith("multipart/") and part.is_multipart():
                    if depth < MAX_DEPTH:
                        kids = self.children(part, "")
                        stack.extend((kid, depth + 1) for kid, _ in reversed(kids))
                    continue
                if ctype == "message/delivery-status":  # a bare report: its fields are the text
                    text = "\n".join(str(block).strip() for block in part.get_payload())
                    if text.strip():
                        return [_Piece(_clean(text), False)]
                    continue
                if part.is_multipart() or not ctype.startswith("text/"):
                    continue
                if _disposition(part) == "attachment" or ctype == "text/rfc822-headers":
                    continue
                piece = self.leaf_body(part, ctype) or _Piece(self.text_of(part), False)
            except Exception:
                continue
            if piece.text.strip():
                return [piece]
        return []

    def alternative(
        self, kids: list[tuple[Message, str]], depth: int
    ) -> tuple[list[_Piece], list[int]]:
        """The first plain-text alternative with any text, else the first with any text."""
        first: tuple[list[_Piece], list[int]] | None = None
        for kid, kid_path in kids:
            option = self.body(kid, kid_path, depth + 1)
            if not any(p.text.strip() for p in option[0]):
                continue
            if not any(p.from_html for p in option[0]):
                return option
            first = first or option
        return first or ([], [])

    def unsplit(
        self, part: Message, path: str, ctype: str, depth: int
    ) -> tuple[list[_Piece], list[int]]:
        """A multipart the stdlib could not split: re-split it, or show its raw text."""
        try:
            recovered = self.resplit(part, ctype)
        except Exception:
            recovered = None
        if recovered is not None:
            self.defects.add(
                f"{ctype} (part {path or 'root'}): boundary mangled by the stdlib, re-split"
            )
            self.recovered[id(part)] = recovered
            return self.body(recovered, path, depth + 1)
        if not self.opaque:
            self.defects.add(
                f"{ctype} (part {path or 'root'}) has no parts (boundary never found):"
                " showing its raw text"
            )
        return [_Piece(self.text_of(part), False)], [id(part)]

    def resplit(self, part: Message, ctype: str) -> Message | None:
        if self.opaque:
            return None
        raw_ct = _first_raw(_raw_items(part), "Content-Type")
        payload = part.get_payload()
        if raw_ct is None or not isinstance(payload, str):
            return None
        m = _BOUNDARY_PARAM.search(_unfold(raw_ct))
        if not m:
            return None
        boundary = m.group(1) if m.group(1) is not None else m.group(2)
        try:
            if not boundary or boundary == part.get_boundary() or f"--{boundary}" not in payload:
                return None
        except Exception:
            return None
        safe = "tui-desk-" + hashlib.sha256(boundary.encode("utf-8", "replace")).hexdigest()[:24]
        body = payload.replace(f"--{boundary}", f"--{safe}")
        try:
            rebuilt = f'Content-Type: {ctype}; boundary="{safe}"\n\n{body}'
            sub, _ = _parse_bytes(rebuilt.encode("utf-8", "surrogateescape"))
        except Exception:
            return None
        return sub if sub.is_multipart() else None

    def list_attachments(self, part: Message, path: str, depth: int, used: set[int]) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            if self.parts == MAX_PARTS + 1:
                self.defects.add(f"more than {MAX_PARTS} MIME parts: the rest is not listed")
            return
        part = self.recovered.get(id(part), part)
        ctype = _content_type(part)
        maintype = ctype.split("/")[0]
        if maintype == "multipart" and part.is_multipart():
            if depth >= MAX_DEPTH:
                self.defects.add(f"MIME nesting deeper than {MAX_DEPTH}: inner parts not listed")
                return
            kids = self.children(part, path)
            kids += self.epilogue_parts(part, path, len(kids))
            for kid, kid_path in kids:
                self.list_attachments(kid, kid_path, depth + 1, used)
            return
        if id(part) in used and not (depth == 0 and self.is_attachment(part)):
            return  # shown as the text (a lone attached text file is both shown and listed)
        filename = _filename(part, self.hints)
        is_text_body = ctype in ("text/plain", "text/html") and not filename
        if is_text_body and _disposition(part) != "attachment":
            return  # an alternative we did not show (text/html next to text/plain)
        if maintype == "multipart":
            return  # unsplit and not chosen: its text is not an attachment either
        if ctype == "text/plain" and filename and self.header_type_missing(part):
            guessed, _ = _MIME_TYPES.guess_type(filename, strict=False)
            ctype = guessed or "application/octet-stream"
        self.attachments.append(
            Attachment(filename, ctype, size=_size(part), part_path=path or "1")
        )

    def epilogue_parts(self, part: Message, path: str, count: int) -> list[tuple[Message, str]]:
        """Parts after the closing delimiter (a nested multipart reused the outer boundary)."""
        if self.opaque:
            return []
        epilogue = part.epilogue
        try:
            boundary = part.get_boundary()
        except Exception:
            return []
        if not epilogue or not boundary or f"\n--{boundary}" not in f"\n{epilogue}":
            return []
        try:
            rebuilt = f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n{epilogue}'
            sub, _ = _parse_bytes(rebuilt.encode("utf-8", "surrogateescape"))
        except Exception:
            return []
        found = self.children(sub, "")
        if not found:
            return []
        self.defects.add(
            f"{len(found)} part(s) after the closing boundary of part {path or 'root'} recovered"
        )
        prefix = f"{path}." if path else ""
        return [(kid, f"{prefix}{count + int(p)}") for kid, p in found]

    def header_type_missing(self, part: Message) -> bool:
        """True when Content-Type is absent or has no usable type (``Content-Type: ; name=x``)."""
        raw = _first_raw(_raw_items(part), "Content-Type")
        return raw is None or "/" not in raw.split(";", 1)[0]


def _charset_hints(msg: Message) -> list[str]:
    """Charsets the message declares: the best guess for undeclared 8-bit header bytes."""
    hints: list[str] = []
    try:
        for n, part in enumerate(msg.walk()):
            if n >= 20:
                break
            charset = part.get_param("charset")
            if isinstance(charset, str) and _codecs_for(charset):
                label = charset.strip().lower()
                if label not in hints and label not in ("utf-8", "utf8"):
                    hints.append(label)
    except Exception:
        pass
    return hints


def _collect_part_defects(part: Message, path: str, depth: int, defects: _Defects) -> None:
    """Stdlib defects of the parts we walk (not inside attached messages)."""
    if depth > MAX_DEPTH:
        return
    for d in getattr(part, "defects", ()):
        defects.add_stdlib(d, f"part {path}" if path else "")
    try:
        if _content_type(part).startswith("multipart/") and part.is_multipart():
            for i, sub in enumerate(part.get_payload(), 1):
                if i > MAX_PARTS:
                    break
                _collect_part_defects(sub, f"{path}.{i}" if path else str(i), depth + 1, defects)
    except Exception:
        pass


# --------------------------------------------------------------------------------------
# Repairs before parsing


_HEADER_LINE = re.compile(rb"[\x21-\x39\x3b-\x7e]+:|[ \t]")
_OBS_NAME = re.compile(rb"([\x21-\x39\x3b-\x7e]+)[ \t]+:")
_BAD_NAME = re.compile(rb"[^\s:]*[\x80-\xff][^\s:]*[ \t]*:")


def _repair_header_block(raw: bytes) -> bytes | None:
    """Fix the RFC 5322 obs-syntax header lines the stdlib stops at; None when none.

    ``Subject :`` (space before the colon) loses its spaces, a field whose name has 8-bit
    bytes is dropped. Stops at the first blank or other non-header line, like the parser.
    """
    out: list[bytes] = []
    fixed = False
    pos = 0
    limit = min(len(raw), 1 << 20)
    while pos < limit:
        nl = raw.find(b"\n", pos, limit)
        if nl < 0:
            break
        line = raw[pos : nl + 1]
        if not line.strip(b"\r\n"):
            break
        is_envelope = pos == 0 and line.startswith(b"From ")  # mbox "From " line
        if not is_envelope and not _HEADER_LINE.match(line):
            obs = _OBS_NAME.match(line)
            if obs:
                line = obs.group(1) + b":" + line[obs.end() :]
            elif _BAD_NAME.match(line):
                line = b""
            else:
                break
            fixed = True
        out.append(line)
        pos = nl + 1
    return b"".join(out) + raw[pos:] if fixed else None


# --------------------------------------------------------------------------------------
# Auto-submitted


def _is_auto(headers: _Headers, top_type: str) -> bool:
    auto = (headers.get("Auto-Submitted") or "").split(";")[0].strip().lower()
    if auto and auto != "no":
        return True
    if top_type in ("multipart/report", "message/delivery-status"):
        return True
    if any(headers.has(h) for h in ("X-Autoreply", "X-Autorespond", "X-Failed-Recipients")):
        return True
    if (headers.get("Precedence") or "").strip().lower() == "auto_reply":
        return True
    return_path = headers.get("Return-Path")
    return return_path is not None and _unfold(return_path).strip() == "<>"  # null sender


# --------------------------------------------------------------------------------------
# Entry point


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse one raw message. Never raises: problems are listed in ``defects``."""
    try:
        data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else bytes(raw)
    except Exception:
        data = b""
    try:
        return _parse(data)
    except Exception as exc:  # the last line of defence; every step below is guarded too
        return _unreadable(data, f"parser failed: {type(exc).__name__}: {exc}")


def _unreadable(raw: bytes, why: str, text: str | None = None) -> ParsedMessage:
    if text is None:
        text, _ = _decode_bytes(raw[:TEXT_LIMIT], None)
        text = _clean(text).replace("\r\n", "\n").replace("\r", "\n")
    return ParsedMessage(
        message_id=_synthetic_id(raw), synthetic_id=True, in_reply_to=None, references=[],
        sender=None, to=[], cc=[], reply_to=[], date=None, subject="", text=text,
        text_from_html=False, defects=[why], size=len(raw),
    )


def _parse(raw: bytes) -> ParsedMessage:
    if raw.startswith(_OLE2_MAGIC):
        return _unreadable(raw, "not an RFC 5322 message: an Outlook .msg (OLE2) file", text="")
    defects = _Defects()
    # The stdlib spends ~0.3 ms per part and recurses per nesting level: a parts bomb or a
    # deeply nested message is read as headers plus an unparsed body instead.
    delimiters = raw.count(b"\n--")
    opaque = delimiters > MAX_DELIMITER_LINES
    if opaque:
        defects.add(f"{delimiters:,} boundary-like lines: MIME structure not parsed")
    try:
        msg, truncated = _parse_bytes(raw, headers_only=opaque)
    except RecursionError:
        opaque = True
        defects.add("MIME structure nested too deep: not parsed")
        msg, truncated = _parse_bytes(raw, headers_only=True)
    if any(isinstance(d, email_errors.MissingHeaderBodySeparatorDefect) for d in msg.defects):
        repaired = _repair_header_block(raw)
        if repaired is not None:
            try:
                msg, truncated = _parse_bytes(repaired, headers_only=opaque)
                defects.add("obsolete header syntax (space before ':' or 8-bit field name) repaired")
            except RecursionError:
                pass  # keep the first reading
    for name, length in truncated:
        limit = REFERENCES_LIMIT if name.lower() == "references" else HEADER_LIMIT
        defects.add(f"header too long: {name} ({_kb(length)}) truncated to {_kb(limit)}")

    hints = _charset_hints(msg)
    headers = _Headers(msg, hints, defects)

    own_ids = _ids(headers.get("Message-ID"))
    if own_ids:
        message_id, synthetic = own_ids[0], False
    else:
        message_id, synthetic = _synthetic_id(raw), True
        value = headers.get("Message-ID")
        defects.add(
            "no Message-ID: synthetic id used"
            if value is None or not value.strip()
            else f"unreadable Message-ID {_one_line(value)[:80]!r}: synthetic id used"
        )
    parent = next((i for i in _ids(headers.get("In-Reply-To")) if i != message_id), None)
    references: list[str] = []
    for ref in _ids(" ".join(_all_raw(headers.items, "References"))):
        if ref != message_id and ref not in references:
            references.append(ref)

    subject_raw = headers.get("Subject")
    subject = _one_line(_unstructured(subject_raw)) if subject_raw else ""
    senders = _addresses("From", headers.get("From"), defects)
    to = _addresses("To", headers.get("To"), defects)
    cc = _addresses("Cc", headers.get("Cc"), defects)
    reply_to = _addresses("Reply-To", headers.get("Reply-To"), defects)
    date = _parse_date(headers.get("Date"), defects)

    top_type = _content_type(msg)
    walker = _Walker(hints, defects, opaque)
    pieces, used = walker.body(msg, "", 0)
    if not any(p.text.strip() for p in pieces):
        pieces = walker.fallback_body(msg)
    _collect_part_defects(msg, "", 0, defects)
    walker.list_attachments(msg, "", 0, set(used))

    text = "\n\n".join(p.text.strip("\n") for p in pieces if p.text.strip())
    if len(text) > TEXT_LIMIT:
        defects.add(f"body text too long ({len(text):,} characters): cut to {TEXT_LIMIT:,}")
        text = text[:TEXT_LIMIT]

    return ParsedMessage(
        message_id=_clean(message_id),
        synthetic_id=synthetic,
        in_reply_to=_clean(parent) if parent else None,
        references=[_clean(r) for r in references],
        sender=senders[0] if senders else None,
        to=to,
        cc=cc,
        reply_to=reply_to,
        date=date,
        subject=subject,
        text=text.rstrip(),
        text_from_html=any(p.from_html for p in pieces if p.text.strip()),
        attachments=walker.attachments,
        defects=defects.result(),
        auto_submitted=_is_auto(headers, top_type),
        size=len(raw),
    )


# --------------------------------------------------------------------------------------
# Quoted text


# (how the line starts, how it ends); checked with str methods and a tail regex: linear.
_ATTRIBUTION_END = re.compile(
    r"(?:\bwrote|написал|написала|написал\(а\)|写道|escribió|a\sécrit|schrieb[^:]*)"
    r"\s?[:：]\s*$",
    re.I,
)
_ATTRIBUTION_START = ("on ", "am ", "le ", "el ", "在")


def _is_attribution(line: str) -> bool:
    stripped = line.strip()
    m = _ATTRIBUTION_END.search(stripped[-120:])
    if not m:
        return False
    if "написал" in m.group().lower():
        return True  # Russian clients put the date and the name first, in many forms
    return stripped.lower().startswith(_ATTRIBUTION_START)


_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(?:Original\s+Message|Исходное\s+сообщение|"
    r"Ursprüngliche\s+Nachricht|"
    r"Message\s+d'origine|原始邮件)\s*-{2,}\s*$",
    re.I,
)
_OUTLOOK_FROM = re.compile(r"^\s*(?:From|От|Von|De|发件人)\s?[:：]\s*\S", re.I)
_OUTLOOK_NEXT = re.compile(
    r"^\s*(?:Sent|Date|Отправлено|Дата|Gesendet|Envoyé|发送时间)\s?[:：]", re.I
)
_QUOTE_LINE = re.compile(r"^[ \t]*>")


def split_quoted(text: str) -> list[tuple[str, bool]]:
    """Split a plain body into runs of (text, is_quoted).

    Quoted: lines starting with ``>``; an attribution line (``On ... wrote:``,
    ``... написал(а):``, ``在 ... 写道：``, ...) together with the quote under it; and
    everything from an ``-----Original Message-----`` line or an Outlook ``From:``/``Sent:``
    block to the end. When an ``On ... wrote:`` line is not followed by ``>`` lines
    (top-posting clients), the rest of the text is the quote. Blank lines between quoted
    lines are quoted. Runs keep their line ends: joining the texts gives ``text`` back.
    """
    if not text:
        return []
    lines = text.splitlines(keepends=True)
    n = len(lines)
    flags: list[bool | None] = [None] * n  # None: blank, decided from its neighbours
    rest_from = n
    i = 0
    while i < n:
        line = lines[i].rstrip("\r\n")
        if not line.strip():
            i += 1
            continue
        if _QUOTE_LINE.match(line):
            flags[i] = True
            i += 1
            continue
        span = _attribution_span(lines, i)
        if span:
            nxt = i + span
            while nxt < n and not lines[nxt].strip():
                nxt += 1
            for k in range(i, i + span):
                flags[k] = True
            if nxt < n and _QUOTE_LINE.match(lines[nxt]):
                i += span
                continue
            rest_from = i
            break
        if _ORIGINAL.match(line) or (
            _OUTLOOK_FROM.match(line) and i + 1 < n and _OUTLOOK_NEXT.match(lines[i + 1])
        ):
            rest_from = i
            break
        flags[i] = False
        i += 1
    for k in range(rest_from, n):
        flags[k] = True
    # A blank line is quoted when the nearest non-blank lines around it both are.
    prev: bool | None = None
    for k in range(n):
        if flags[k] is None:
            flags[k] = prev
        else:
            prev = flags[k]
    nxt_flag: bool | None = None
    for k in range(n - 1, -1, -1):
        if lines[k].strip():
            nxt_flag = flags[k]
        elif not (flags[k] and (nxt_flag is None or nxt_flag)):
            flags[k] = False
    runs: list[tuple[list[str], bool]] = []
    for line, flag in zip(lines, flags):
        quoted = bool(flag)
        if runs and runs[-1][1] == quoted:
            runs[-1][0].append(line)
        else:
            runs.append(([line], quoted))
    return [("".join(run), quoted) for run, quoted in runs]


def _attribution_span(lines: list[str], i: int) -> int:
    """1 or 2 when an attribution starts at line i (clients wrap long ones), else 0."""
    first = lines[i].rstrip("\r\n")
    if len(first) > 400:
        return 0
    if _is_attribution(first):
        return 1
    if i + 1 < len(lines):
        second = lines[i + 1].rstrip("\r\n")
        if second.strip() and len(second) < 400 and _is_attribution(first + " " + second):
            return 2
    return 0
