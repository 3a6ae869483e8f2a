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
* Re-serialising a parsed message (``as_bytes``, ``as_string``, the generators) re-folds its
  headers, and ``_fold_mime_parameters`` loops forever on a long parameter name with a long
  quoted value: nothing here re-serialises; attached messages are measured and returned
  from the parts as read (:func:`_source_text`).
* The stdlib's header value parser raises on some fields (``text/plain; a*`` IndexError,
  400 "(" RecursionError): such a field is read without its parameters, with a defect,
  and the rest of the message is read as usual (:func:`_unreadable_header`).
* Python "text encodings" no mail is written in (punycode: quadratic, idna, undefined,
  unicode_escape...) are treated as unknown charsets (:data:`_REFUSED_CODECS`).
* Whatever still hangs or crashes the parser is bounded by ``parse_pool`` (a time budget
  per message, in worker processes), whose last resort is :func:`last_resort_record`.

Strings in the record are not sanitized for the terminal (``tui_desk.sanitize`` does that at
display) but carry no lone surrogates and no NUL, so they can be stored and encoded.

Speed (bulk sync and import; ``bench/parse_speed.py`` measures it): the stdlib is still what
reads mail, but its slow paths are skipped where their result is known. :class:`_TreeBuilder`
builds the very tree ``email.feedparser`` builds, slicing bodies between boundary lines
instead of reading line by line (feedparser also compiles a regex per boundary, and every
mail has its own); mail it does not reproduce (message/* parts, digests, lone CRs, a few
corner cases) goes to ``BytesParser``. Plain Content-Type / Content-Disposition values and
plain address lists are read without the stdlib's header value parser (40-130 us a header),
by :func:`_simple_mime` and :func:`_simple_addresses`, which accept only forms whose stdlib
reading is known; :class:`_Part` memoizes header lookups per part. tests/test_parse.py checks
every fast path against the stdlib.
"""

from __future__ import annotations

import codecs
import datetime as dt
import functools
import hashlib
import mimetypes
import re
import string
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from email import _encoded_words
from email import errors as email_errors
from email import utils as email_utils
from email.message import EmailMessage, Message
from email.message import _parseparam, _splitparam, _unquotevalue  # the stdlib's own
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.policy import default as _DEFAULT_POLICY
from typing import Any

from tui_desk.mail.html_text import html_to_text
from tui_desk.mail.model import Address, Attachment, ParsedBody, ParsedMessage

__all__ = ["attachment_payloads", "last_resort_record", "parse_body", "parse_header_block", "parse_message", "normalize_msgid",
           "split_quoted"]

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


# Codecs Python calls text encodings that no mail is written in, and that decode slowly
# (punycode is quadratic: 400 kB in 17 s), strangely (escapes) or not at all (undefined):
# such a label is treated as unknown.
_REFUSED_CODECS = frozenset({"idna", "punycode", "undefined", "raw-unicode-escape", "unicode-escape",
                             "raw_unicode_escape", "unicode_escape", "mbcs", "oem", "palmos"})


def _codec_exists(name: str) -> bool:
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return False
    return bool(info._is_text_encoding) and info.name not in _REFUSED_CODECS  # type: ignore[attr-defined]


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
            try:
                return _parse_header(name, value)
            except Exception as exc:  # one bad field must not cost the message its other fields
                return _unreadable_header(name, value, exc)
        return super().header_fetch_parse(name, value)

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        name, value = super().header_source_parse(sourcelines)
        return _cap_field(name, value, self.truncated)


# Problems found while the stdlib reads a header for the parse under way (the policy that meets
# them is shared by every parse): _parse collects them. A context variable, not a global: the
# import and the sync may parse in threads.
_HEADER_NOTES: ContextVar[list[str] | None] = ContextVar("tui_desk_header_notes", default=None)


def _unreadable_header(name: str, value: str, exc: Exception) -> Any:
    """The stdlib's header parser raised on this field (``Content-Type: text/plain; a*``
    IndexError, 400 "(" RecursionError...): its value without parameters, else empty, and a
    note for the defects."""
    notes = _HEADER_NOTES.get()
    if notes is not None:
        notes.append(f"unreadable {name.strip()} header ({type(exc).__name__}): read without its parameters")
    for fallback in (_unfold(value).split(";", 1)[0].strip(" \t()\\\""), ""):
        try:
            return _DEFAULT_POLICY.header_factory(name, fallback)
        except Exception:
            continue
    return _DEFAULT_POLICY.header_factory("X-Unreadable", "")


def _cap_field(name: str, value: str, truncated: list[tuple[str, int]] | None) -> tuple[str, str]:
    if len(value) <= HEADER_LIMIT:
        return name, value
    is_refs = name.strip().lower() == "references"
    limit = REFERENCES_LIMIT if is_refs else HEADER_LIMIT
    if len(value) > limit:
        if truncated is not None:
            truncated.append((name.strip(), len(value)))
        value = _shorten(value, limit, keep_tail=is_refs)
    return name, value


class _Part(EmailMessage):
    """The message class of every parsed part: ``EmailMessage`` with the header lookups the
    parser and this module make over and over answered from an index and a memo, and
    Content-Type / Content-Disposition read by :func:`_simple_mime` when it can. Every
    method returns what the stdlib's returns (tests/test_parse.py compares them)."""

    _src: list[tuple[str, Any]] | None = None  # the header list _index was built from
    _count = -1  # and its length then: any change starts a new index and memo
    _index: dict[str, tuple[str, Any]]
    _memo: dict[Any, Any]

    def memo(self) -> dict[Any, Any]:
        """A place for results derived from the headers as they are now."""
        headers = self._headers
        if self._src is not headers or self._count != len(headers):
            index: dict[str, tuple[str, Any]] = {}
            for k, v in headers:
                index.setdefault(k.lower(), (k, v))
            self._index, self._memo = index, {}
            self._src, self._count = headers, len(headers)
        return self._memo

    def _first(self, lname: str) -> tuple[str, Any] | None:
        """(name, raw value) of the first field named ``lname`` (lower case), or None."""
        self.memo()
        return self._index.get(lname)

    def first_raw(self, name: str) -> str | None:
        """``_first_raw(_raw_items(self), name)``."""
        memo = self.memo()
        stripped = memo.get("raw")
        if stripped is None:
            stripped = memo["raw"] = {}
            for key, value in _raw_items(self):
                stripped.setdefault(key.lower(), value)
        return stripped.get(name.lower())  # type: ignore[no-any-return]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return super().__contains__(name)
        return self._first(name.lower()) is not None

    def get(self, name: str, failobj: Any = None) -> Any:
        hit = self._first(name.lower())
        if hit is None:
            return failobj
        return self.policy.header_fetch_parse(*hit)

    def _simple(self, hit: tuple[str, Any]) -> _SimpleMime | None:
        name, value = hit
        if type(value) is not str or not isinstance(self.policy, _CappingPolicy):
            return None  # not what _CappingPolicy.header_fetch_parse hands to _parse_header
        return _simple_mime_cached(name.lower(), _unfold_all(value))

    def _header_text(self, hit: tuple[str, Any]) -> str:
        """``str(self.get(name))`` for a field found by _first."""
        simple = self._simple(hit)
        if simple is not None:
            return simple[0]
        return str(self.policy.header_fetch_parse(*hit))

    def get_content_type(self) -> str:
        memo = self.memo()
        ctype = memo.get("ctype")
        if ctype is None:
            hit = self._index.get("content-type")
            if hit is None:
                return self.get_default_type()
            ctype = _splitparam(self._header_text(hit))[0].lower()
            ctype = memo["ctype"] = "text/plain" if ctype.count("/") != 1 else ctype
        return ctype  # type: ignore[no-any-return]

    def get_content_disposition(self) -> str | None:
        hit = self._first("content-disposition")
        if hit is None:
            return None
        return _splitparam(self._header_text(hit))[0].lower()  # type: ignore[no-any-return]

    def get_param(
        self, param: str, failobj: Any = None, header: str = "content-type", unquote: bool = True
    ) -> Any:
        memo = self.memo()
        key = ("param", header.lower(), unquote)
        found = memo.get(key)
        if found is None:
            found = memo[key] = self._params_by_name(header, unquote)
        return found.get(param.lower(), failobj)

    def _params_by_name(self, header: str, unquote: bool) -> dict[str, Any]:
        """What Message.get_param returns, for every parameter name (lower case)."""
        found: dict[str, Any] = {}
        if header.lower() not in self._index:
            return found
        for k, v in self._get_params_preserve(None, header):
            found.setdefault(k.lower(), _unquotevalue(v) if unquote else v)
        return found

    def _get_params_preserve(self, failobj: Any, header: str) -> Any:
        memo = self.memo()
        hit = self._index.get(header.lower())
        if hit is None:
            return failobj
        key = ("params", header.lower())
        params = memo.get(key)
        if params is None:
            params = memo[key] = self._read_params(hit)
        return list(params)

    def _read_params(self, hit: tuple[str, Any]) -> list[tuple[str, Any]]:
        simple = self._simple(hit)
        if simple is not None and (simple[2] or ";" not in simple[0]):
            # what the code below makes of the text _simple_mime renders
            head = simple[0].split(";", 1)[0].strip()
            return [(head, "")] + [(n.lower(), f'"{v}"') if v else (n, '""') for n, v in simple[2]]
        params = []
        for p in _parseparam(self._header_text(hit)):  # as Message._get_params_preserve
            try:
                name, val = p.split("=", 1)
                name = name.strip()
                val = val.strip()
            except ValueError:
                name = p.strip()
                val = ""
            params.append((name, val))
        return email_utils.decode_params(params)  # type: ignore[no-any-return]


#: The policy of trees built by _TreeBuilder (it records truncations itself).
_PARSE_POLICY = _CappingPolicy(header_factory=_DEFAULT_POLICY.header_factory, message_factory=_Part)


def _parse_bytes(raw: bytes, headers_only: bool = False) -> tuple[Message, list[tuple[str, int]]]:
    truncated: list[tuple[str, int]] = []
    if not headers_only:
        text = raw.decode("ascii", "surrogateescape")  # what BytesParser feeds the parser
        try:
            return _TreeBuilder(text, truncated).build(), truncated
        except _Unsupported:
            truncated.clear()
    policy = _CappingPolicy(truncated=truncated, header_factory=_DEFAULT_POLICY.header_factory,
                            message_factory=_Part)
    msg = BytesParser(policy=policy).parsebytes(raw, headersonly=headers_only)
    return msg, truncated


# --------------------------------------------------------------------------------------
# The same tree as email.feedparser, built faster


class _Unsupported(Exception):
    """Input outside what :class:`_TreeBuilder` reproduces: the stdlib parser reads it."""


# a run of lines that match feedparser.headerRE, ^(From |[\041-\071\073-\176]*:|[\t ])
_FEED_HEADER_LINES = re.compile(r"(?:(?:From |[\041-\071\073-\176]*:|[\t ])[^\n]*\n?)*")
# one field: its name, and its value as EmailPolicy.header_source_parse joins it (before rstrip)
_HEADER_FIELD = re.compile(r"([^:\n]*):[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)\n?")
_BUILD_DEPTH = 30  # deeper nesting is left to the stdlib (and its RecursionError handling)


class _TreeBuilder:
    """Builds exactly the ``Message`` tree ``email.feedparser`` builds (``policy.default``
    semantics, :class:`_CappingPolicy` caps), for the mail that is common, and raises
    :class:`_Unsupported` for the rest (message/* parts, digests, lone CRs, rare corner cases).

    Why: feedparser reads line by line through a generator and compiles a regex for every
    boundary (each mail has its own, so re's cache never hits): ~0.2 ms per mail. Here whole
    bodies are sliced between boundary lines found with ``str.find``. The algorithm follows
    ``FeedParser._parsegen`` step by step (names in comments refer to it).
    """

    def __init__(self, text: str, truncated: list[tuple[str, int]]) -> None:
        if "\r" in text and text.count("\r") != text.count("\r\n"):
            raise _Unsupported  # a lone CR ends a line for feedparser: not reproduced
        self.text = text
        self.n = len(text)
        self.pos = 0
        self.seps: list[str] = []  # the eofstack: "--" + boundary of each enclosing multipart
        self.truncated = truncated

    def build(self) -> Message:
        root = self.part(0)
        # FeedParser.close()
        if root.get_content_maintype() == "multipart" and not root.is_multipart():
            root.defects.append(email_errors.MultipartInvariantViolationDefect())
        return root

    # -- lines

    def line_end(self, pos: int) -> int:
        nl = self.text.find("\n", pos)
        return self.n if nl < 0 else nl + 1

    def match(self, pos: int, sep: str) -> tuple[bool, bool, int] | None:
        """The boundary regex of feedparser on the line at ``pos``:
        ``(?P<sep>SEP)(?P<end>--)?(?P<ws>[ \\t]*)(?P<linesep>\\r\\n|\\r|\\n)?$``.
        Returns (end, linesep, end of line) or None."""
        text = self.text
        if not text.startswith(sep, pos):
            return None
        stop = self.line_end(pos)
        rest = text[pos + len(sep) : stop]
        end = rest.startswith("--")
        if end:
            rest = rest[2:]
        rest = rest.lstrip(" \t")
        if rest and rest != "\n" and rest != "\r\n":
            return None
        return end, bool(rest), stop

    def at_eof(self, pos: int) -> bool:
        """True at the end of the text or on a line an enclosing multipart ends at."""
        if pos >= self.n:
            return True
        if not self.seps or not self.text.startswith("--", pos):
            return False
        return any(self.match(pos, sep) is not None for sep in self.seps)

    def find_eof(self, pos: int) -> int:
        """Start of the first line at or after ``pos`` where readline() returns ''."""
        if not self.seps:
            return self.n
        text = self.text
        while pos < self.n:
            if text.startswith("--", pos) and self.at_eof(pos):
                return pos
            nl = text.find("\n--", pos)
            if nl < 0:
                return self.n
            pos = nl + 1
        return self.n

    def find_sep(self, pos: int, sep: str) -> tuple[int, tuple[bool, bool, int] | None]:
        """First line at or after ``pos`` that is EOF (match None) or matches ``sep``."""
        text = self.text
        while pos < self.n:
            if text.startswith("--", pos):
                if self.at_eof(pos):
                    return pos, None
                m = self.match(pos, sep)
                if m is not None:
                    return pos, m
            nl = text.find("\n--", pos)
            if nl < 0:
                break
            pos = nl + 1
        return self.n, None

    # -- messages

    def part(self, depth: int, parent_type: str = "") -> Message:
        if depth > _BUILD_DEPTH or parent_type == "multipart/digest":
            raise _Unsupported  # digest children default to message/rfc822
        msg = _Part(_PARSE_POLICY)
        text = self.text
        # the header loop of _parsegen: header lines up to EOF or the first other line
        start = self.pos
        pos = _FEED_HEADER_LINES.match(text, start).end()  # type: ignore[union-attr]
        if self.seps:  # a header-like line may be an enclosing boundary (EOF) too
            q = start
            while q < pos:
                if text.startswith("--", q) and self.at_eof(q):
                    pos = q
                    break
                q = text.find("\n--", q, pos) + 1
                if not q:
                    break
        block = text[start:pos]
        if not self.at_eof(pos):
            if text[pos] in "\r\n":
                pos = self.line_end(pos)  # the blank line between header and body is dropped
            else:
                msg.defects.append(email_errors.MissingHeaderBodySeparatorDefect())
        self.headers(msg, block)
        self.pos = pos
        try:
            ctype = msg.get_content_type()
            maintype = ctype.split("/")[0]
            boundary = msg.get_boundary() if maintype == "multipart" else None
            cte = str(msg.get("content-transfer-encoding", "8bit")) if maintype == "multipart" else ""
        except Exception:
            raise _Unsupported from None  # the stdlib raises the same, from inside its parser
        if maintype == "message":
            raise _Unsupported
        if maintype != "multipart":
            eof = self.find_eof(pos)
            msg._payload = text[pos:eof]
            self.pos = eof
            return msg
        if boundary is None:
            msg.defects.append(email_errors.NoBoundaryInMultipartDefect())
            eof = self.find_eof(pos)
            msg._payload = text[pos:eof]
            self.pos = eof
            return msg
        if cte.lower() not in ("7bit", "8bit", "binary"):
            msg.defects.append(email_errors.InvalidMultipartContentTransferEncodingDefect())
        self.multipart(msg, "--" + boundary, depth, ctype)
        return msg

    def multipart(self, msg: Message, sep: str, depth: int, ctype: str) -> None:
        text = self.text
        pos = self.pos
        q, m = self.find_sep(pos, sep)
        if m is None or m[0]:
            # EOF, or a closing boundary, before any opening one: StartBoundaryNotFound
            msg.defects.append(email_errors.StartBoundaryNotFoundDefect())
            msg._payload = text[pos:q]
            self.pos = self.find_eof(q)  # the rest is read and dropped
            msg.epilogue = ""
            return
        if q > pos:  # the preamble; its last line end belongs to the boundary
            preamble = text[pos:q]
            if preamble.endswith("\r\n"):
                preamble = preamble[:-2]
            elif preamble.endswith("\n"):
                preamble = preamble[:-1]
            msg.preamble = preamble
        while True:
            pos = m[2]
            # consecutive boundary lines are consumed (not parts)
            while True:
                if self.at_eof(pos):
                    raise _Unsupported  # feedparser unreads '' here: not reproduced
                again = self.match(pos, sep)
                if again is None:
                    break
                pos = again[2]
            self.pos = pos
            self.seps.append(sep)
            sub = self.part(depth + 1, ctype)
            self.seps.pop()
            msg.attach(sub)
            # the line end before a boundary belongs to the boundary
            if sub.get_content_maintype() == "multipart":
                epilogue = sub.epilogue
                if epilogue == "":
                    sub.epilogue = None
                elif epilogue is not None:
                    sub.epilogue = _strip_eol(epilogue)
            elif isinstance(sub._payload, str):
                sub._payload = _strip_eol(sub._payload)
            pos = self.pos
            if self.at_eof(pos):
                msg.defects.append(email_errors.CloseBoundaryNotFoundDefect())
                return
            m = self.match(pos, sep)
            if m is None:
                raise _Unsupported  # cannot happen: the part ended at this line
            if m[0]:
                break
        # the closing boundary: the rest up to EOF is the epilogue
        pos = m[2]
        eof = self.find_eof(pos)
        msg.epilogue = text[pos:eof] if m[1] else ""
        if not m[1] and eof > pos:
            raise _Unsupported  # cannot happen: a line without line end is the last one
        self.pos = eof

    def headers(self, msg: Message, block: str) -> None:
        """FeedParser._parse_headers with the capping of _CappingPolicy.header_source_parse."""
        if not block:
            return
        if (
            block[0] not in " \t:"
            and not block.startswith("From ")
            and "\nFrom " not in block
            and "\n:" not in block
        ):
            # Every line starts a field (a name, then ":") or continues one (starts with
            # space or tab): each match of _HEADER_FIELD is one field, back to back.
            raw = msg._headers
            for name, value in _HEADER_FIELD.findall(block):
                value = value.rstrip("\r\n")
                raw.append((name, value) if len(value) <= HEADER_LIMIT else self.capped(name, value))
            return
        lines = block.split("\n")
        partial = lines.pop()  # "" after a final line end
        lines = [line + "\n" for line in lines]
        if partial:
            lines.append(partial)
        last: list[str] = []
        raw = msg._headers
        for lineno, line in enumerate(lines):
            if line[0] in " \t":
                if not last:
                    msg.defects.append(email_errors.FirstHeaderLineIsContinuationDefect(line))
                    continue
                last.append(line)
                continue
            if last:
                raw.append(self.field(last))
                last = []
            if line.startswith("From "):
                if lineno == 0:
                    msg.set_unixfrom(_strip_eol(line))
                    continue
                if lineno == len(lines) - 1:
                    raise _Unsupported  # feedparser pushes it back as the body's first line
                msg.defects.append(email_errors.MisplacedEnvelopeHeaderDefect(line))
                continue
            if line.find(":") == 0:
                msg.defects.append(email_errors.InvalidHeaderDefect("Missing header name."))
                continue
            last = [line]
        if last:
            raw.append(self.field(last))

    def field(self, sourcelines: list[str]) -> tuple[str, str]:
        # EmailPolicy.header_source_parse, then the cap of _CappingPolicy
        name, value = sourcelines[0].split(":", 1)
        value = (value.lstrip(" \t") + "".join(sourcelines[1:])).rstrip("\r\n")
        return self.capped(name, value)

    def capped(self, name: str, value: str) -> tuple[str, str]:
        return _cap_field(name, value, self.truncated)


def _strip_eol(s: str) -> str:
    """feedparser's NLCRE_eol: one trailing line end off."""
    if s.endswith("\r\n"):
        return s[:-2]
    if s.endswith("\n") or s.endswith("\r"):
        return s[:-1]
    return s


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


def _part_raw(part: Message, name: str) -> str | None:
    """The first raw value of a part's header ``name``."""
    if isinstance(part, _Part):
        return part.first_raw(name)
    return _first_raw(_raw_items(part), name)


def _all_raw(items: list[tuple[str, str]], name: str) -> list[str]:
    name = name.lower()
    return [value for key, value in items if key.lower() == name]


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
        self.first: dict[str, str] = {}
        for key, value in self.items:
            self.first.setdefault(key.lower(), value)
        self.hints = hints
        self.defects = defects

    def get(self, name: str) -> str | None:
        raw = self.first.get(name.lower())
        if raw is None:
            return None
        text, note = _fix_header(raw, self.hints)
        if note:
            self.defects.add(f"{note} in {name} header")
        return text

    def has(self, name: str) -> bool:
        return name.lower() in self.first


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
        text, _charset, _lang, found = _encoded_words.decode(word)
    except Exception:
        return None
    if found or not text.replace("\t", " ").isprintable():
        return None
    return text  # type: ignore[no-any-return]


def _addresses(name: str, value: str | None, defects: _Defects) -> list[Address]:
    if value is None:
        return []
    simple = _simple_addresses(value)
    if simple is not None:
        # what _read_addresses returns for these: the stdlib's reading (no defects), with
        # the lenient name where the stdlib has none
        return [Address(n if n else _decode_phrase(p), a) for n, a, p in simple]
    return _read_addresses(name, value, defects)


def _read_addresses(name: str, value: str, defects: _Defects) -> list[Address]:
    """The stdlib's reading of an address header, checked against the lenient one."""
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


def _parse_date(value: str | None, defects: _Defects) -> dt.datetime | None:
    if value is None:
        return None
    text = _one_line(value)
    if not text:
        return None
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
            when = _written_year(candidate, when)
            if when is None:
                break
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
    """(fixed raw value, the parameters the stdlib reads in it or None) of a part's
    Content-Type or Content-Disposition."""
    raw = _part_raw(part, name)
    if raw is None:
        return None, None
    value, _ = _fix_header(raw, hints)
    simple = _simple_mime_cached(name.lower(), _unfold_all(value))
    if simple is not None:
        return value, simple[1]
    try:
        header = _parse_header(name, value)
    except Exception:
        return value, None
    try:
        return value, header.params
    except Exception:
        return value, None


def _param(params: Any, key: str) -> str | None:
    try:
        value = params.get(key)
    except Exception:
        return None
    return value if isinstance(value, str) else None


def _filename(part: Message, hints: list[str]) -> str:
    if not isinstance(part, _Part):
        return _read_filename(part, hints)
    memo = part.memo()
    key = ("filename", *hints)
    found = memo.get(key)
    if found is None:
        found = memo[key] = _read_filename(part, hints)
    return found  # type: ignore[no-any-return]


def _read_filename(part: Message, hints: list[str]) -> str:
    for hname, key in (("Content-Disposition", "filename"), ("Content-Type", "name")):
        raw, params = _part_header(part, hname, hints)
        if raw is None:
            continue
        value = _param(params, key) if params is not None else None
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
    return len(_attachment_bytes(part))


def _source_text(msg: Message, out: list[str], depth: int = 0) -> None:
    """Append a parsed part as the parser read it: each header field as it came, its body's
    lines, and the boundaries between its parts, lines ending in \n (what
    ``Message.as_bytes()`` gives for a part whose fields need no re-folding). Never through
    the stdlib's generator: its header folding (``_fold_mime_parameters``) loops forever on
    a long parameter name with a long quoted value (tests/hostile_mail.folding_trap)."""
    if depth > MAX_DEPTH:
        return
    for name, value in msg.raw_items():
        out.append(f"{name}: {_LINE_END.join(str(value).splitlines())}\n")
    out.append("\n")
    _source_body(msg, out, depth)


_LINE_END = "\n"


def _source_body(msg: Message, out: list[str], depth: int) -> None:
    payload = msg._payload
    if isinstance(payload, str):
        out.append(_FOLD.sub("\n", payload))
        return
    if not isinstance(payload, list):
        return
    if not msg.is_multipart() or _content_type(msg).startswith("message/"):
        for i, sub in enumerate(payload):  # message/rfc822; the blocks of delivery-status
            if i:
                out.append("\n")
            _source_text(sub, out, depth + 1)
        return
    boundary = msg.get_boundary() or ""
    if msg.preamble is not None:
        out.append(_FOLD.sub("\n", msg.preamble) + "\n")
    out.append(f"--{boundary}\n")
    for i, sub in enumerate(payload):
        if i:
            out.append(f"\n--{boundary}\n")
        _source_text(sub, out, depth + 1)
    out.append(f"\n--{boundary}--\n")
    if msg.epilogue is not None:
        out.append(_FOLD.sub("\n", msg.epilogue))


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
        self.attachment_parts: list[Message] = []  # the part of each attachment, same order
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
        raw_ct = _part_raw(part, "Content-Type")
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
        self.attachment_parts.append(part)

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
        raw = _part_raw(part, "Content-Type")
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
    # our own forwards (mail.compose.FORWARD_HEADER): sent to a third party, not a turn of the conversation
    if any(headers.has(h) for h in ("X-Autoreply", "X-Autorespond", "X-Failed-Recipients", "X-TUI-Desk-Forward")):
        return True
    if (headers.get("Precedence") or "").strip().lower() == "auto_reply":
        return True
    return_path = headers.get("Return-Path")
    return return_path is not None and _unfold(return_path).strip() == "<>"  # null sender


# --------------------------------------------------------------------------------------
# Entry point


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse one raw message. Never raises: problems are listed in ``defects``."""
    data = _as_bytes(raw)
    try:
        return _parse(data)  # type: ignore[return-value]
    except Exception as exc:  # the last line of defence; every step below is guarded too
        return last_resort_record(data, f"parser failed: {type(exc).__name__}: {exc}", subject="")


def parse_header_block(raw: bytes) -> ParsedMessage:
    """The record of a header block alone (what a sync downloads first), as parse_message reads
    its header fields; no text and no attachments, and only the defects the header has: the
    body, not there yet, is not looked for. Never raises."""
    data = _as_bytes(raw)
    try:
        return _parse(data, part="header")  # type: ignore[return-value]
    except Exception as exc:
        return last_resort_record(data, f"parser failed: {type(exc).__name__}: {exc}", subject="")


def parse_body(raw: bytes) -> ParsedBody | ParsedMessage:
    """A whole message whose header block parse_header_block read without defects: what
    parse_message(raw) adds to that record. A :class:`ParsedBody` when the header fields cannot
    read differently now (no 8-bit byte in the header, so the body's charsets do not matter),
    and then the header fields are not read again; else the whole ParsedMessage. Either way
    each field is parse_message(raw)'s. Never raises."""
    data = _as_bytes(raw)
    try:
        return _parse(data, part="body")
    except Exception:  # parse_message says what became of it
        return parse_message(raw)


def _as_bytes(raw: bytes) -> bytes:
    try:
        return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else bytes(raw)
    except Exception:
        return b""


def attachment_payloads(raw: bytes) -> list[tuple[Attachment, bytes]]:
    """Each attachment ``parse_message(raw).attachments`` lists, in its order, with its content.

    The same parse and the same walk (recovered multiparts, epilogue parts, part limits), so
    the list always matches parse_message. Content is decoded as the stdlib decodes it:
    base64 (damaged base64 as far as it goes: bad characters dropped, padding fixed),
    quoted-printable, uuencode; an unknown or broken transfer encoding gives the raw payload
    bytes undecoded. A message/* part (an attached .eml, delivery-status blocks) gives its
    parts as the parser read them (:func:`_source_text`: fields never re-folded, lines ending
    in \n), exactly what ``size`` counts. Never raises: a message parse_message
    cannot read has no attachments here either.
    """
    try:
        data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else bytes(raw)
    except Exception:
        return []
    parts: list[Message] = []
    try:
        msg = _parse(data, parts)
    except Exception:  # parse_message shows such a mail as unreadable, without attachments
        return []
    return [(att, _attachment_bytes(part)) for att, part in zip(msg.attachments, parts)]


def _attachment_bytes(part: Message) -> bytes:
    """The content of an attachment's part; its length is what :func:`_size` computes."""
    if not part.is_multipart():
        return _payload_bytes(part)
    out: list[str] = []
    try:
        for sub in part.get_payload():  # message/rfc822, message/delivery-status blocks
            _source_text(sub, out)
    except Exception:
        pass
    text = "".join(out)
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", text).encode("utf-8")


_SCAN_LIMIT = 64 * 1024
_SCAN_FIELD = re.compile(rb"(?m)^(message-id|from|subject|date)[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.I)
_SCAN_ADDR = re.compile(r"<([^<>\s@]+@[^<>\s]+)>|([^\s<>\"(),;:]+@[^\s<>\"(),;:]+)")


def last_resort_record(raw: bytes, why: str, subject: str = "(unparseable message)") -> ParsedMessage:
    """The record of a message the parser could not read (it raised, or ran over its time
    budget in parse_pool): the raw text as its body and ``why`` as its defect, and the
    Message-ID, From, Subject and Date found by a plain line scan of the header block, which
    uses neither the stdlib's parser nor anything super-linear (Message-ID synthetic only
    when none is found). Never raises."""
    try:
        data = _as_bytes(raw)
        end = min((i for i in (data.find(b"\r\n\r\n"), data.find(b"\n\n")) if i >= 0), default=len(data))
        found: dict[str, str] = {}
        for m in _SCAN_FIELD.finditer(data[:min(end, _SCAN_LIMIT)]):
            name = m.group(1).decode("ascii").lower()
            if name not in found:
                value = _FOLD.sub(" ", _decode_bytes(m.group(2)[:2000], None)[0])
                found[name] = _one_line(value)[:998]
        record = _unreadable(data, why)
        own = _MSGID.search(found.get("message-id", ""))
        if own:
            record.message_id, record.synthetic_id = _clean(own.group(1)), False
        record.subject = found.get("subject") or subject
        sender = _SCAN_ADDR.search(found.get("from", ""))
        if sender:
            addr = sender.group(1) or sender.group(2)
            name = found["from"][:sender.start()].strip().strip('"').strip()
            record.sender = Address(name, addr)
        if found.get("date"):
            try:
                date = email_utils.parsedate_to_datetime(found["date"][:200])
                record.date = date if date.tzinfo is not None else None
            except Exception:
                pass
        return record
    except Exception:
        return ParsedMessage(
            message_id=synthetic_message_id(raw if isinstance(raw, bytes) else b""), synthetic_id=True,
            in_reply_to=None, references=[], sender=None, to=[], cc=[], reply_to=[], date=None, subject=subject,
            text="", text_from_html=False, defects=[why], size=len(raw))


def _unreadable(raw: bytes, why: str, text: str | None = None) -> ParsedMessage:
    if text is None:
        text, _ = _decode_bytes(raw[:TEXT_LIMIT], None)
        text = _clean(text).replace("\r\n", "\n").replace("\r", "\n")
    return ParsedMessage(
        message_id=_synthetic_id(raw), synthetic_id=True, in_reply_to=None, references=[],
        sender=None, to=[], cc=[], reply_to=[], date=None, subject="", text=text,
        text_from_html=False, defects=[why], size=len(raw),
    )


def _parse(raw: bytes, attachment_parts: list[Message] | None = None,
           part: str = "message") -> ParsedMessage | ParsedBody:
    """The record; ``attachment_parts``, when given, receives the part of each attachment.
    part="header": header fields only (parse_header_block); "body": no header fields when
    the header is ASCII (parse_body)."""
    notes: list[str] = []
    token = _HEADER_NOTES.set(notes)
    try:
        record = _read(raw, attachment_parts, part)
    finally:
        _HEADER_NOTES.reset(token)
    if notes:
        defects = _Defects()
        for text in [*notes, *record.defects]:
            defects.add(text)
        record.defects = defects.result()
    return _without_nul(record)


def _without_nul(record: ParsedMessage | ParsedBody) -> ParsedMessage | ParsedBody:
    """The one place that keeps NUL out of every text field of the record (a NUL truncates
    C strings; the store and the terminal get none)."""
    def clean(s: str) -> str:
        return s.replace("\x00", "") if "\x00" in s else s

    for name in ("message_id", "in_reply_to", "subject", "text"):
        value = getattr(record, name, None)
        if isinstance(value, str) and "\x00" in value:
            setattr(record, name, clean(value))
    if isinstance(record, ParsedMessage):
        if any("\x00" in r for r in record.references):
            record.references = [clean(r) for r in record.references]
        for name in ("to", "cc", "reply_to"):
            addresses = getattr(record, name)
            if any("\x00" in a.name or "\x00" in a.addr for a in addresses):
                setattr(record, name, [Address(clean(a.name), clean(a.addr)) for a in addresses])
        sender = record.sender
        if sender is not None and ("\x00" in sender.name or "\x00" in sender.addr):
            record.sender = Address(clean(sender.name), clean(sender.addr))
    if any("\x00" in d for d in record.defects):
        record.defects = [clean(d) for d in record.defects]
    if any("\x00" in a.filename or "\x00" in a.content_type or "\x00" in a.part_path
           for a in record.attachments):
        record.attachments = [Attachment(clean(a.filename), clean(a.content_type), a.size, clean(a.part_path))
                              for a in record.attachments]
    return record


def _read(raw: bytes, attachment_parts: list[Message] | None, part: str) -> ParsedMessage | ParsedBody:
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
    top_type = _content_type(msg)
    headers = fields = None
    if part != "body" or not _ascii_header(msg):
        headers = _Headers(msg, hints, defects)
        fields = _header_fields(raw, headers, defects)
    if part == "header":
        assert headers is not None and fields is not None
        return ParsedMessage(**fields, text="", text_from_html=False, defects=defects.result(),
                             auto_submitted=_is_auto(headers, top_type), size=len(raw))

    walker = _Walker(hints, defects, opaque)
    pieces, used = walker.body(msg, "", 0)
    if not any(p.text.strip() for p in pieces):
        pieces = walker.fallback_body(msg)
    _collect_part_defects(msg, "", 0, defects)
    walker.list_attachments(msg, "", 0, set(used))

    if attachment_parts is not None:
        attachment_parts.extend(walker.attachment_parts)

    text = "\n\n".join(p.text.strip("\n") for p in pieces if p.text.strip())
    if len(text) > TEXT_LIMIT:
        defects.add(f"body text too long ({len(text):,} characters): cut to {TEXT_LIMIT:,}")
        text = text[:TEXT_LIMIT]
    text_from_html = any(p.from_html for p in pieces if p.text.strip())

    if fields is None:
        return ParsedBody(text=text.rstrip(), text_from_html=text_from_html, attachments=walker.attachments,
                          defects=defects.result(), size=len(raw))
    assert headers is not None
    return ParsedMessage(
        **fields,
        text=text.rstrip(),
        text_from_html=text_from_html,
        attachments=walker.attachments,
        defects=defects.result(),
        auto_submitted=_is_auto(headers, top_type),
        size=len(raw),
    )


def _ascii_header(msg: Message) -> bool:
    """No 8-bit byte in the top-level header: its fields then read the same whatever charsets
    the body declares (they only guide the decoding of raw 8-bit header bytes)."""
    try:
        return all(isinstance(k, str) and isinstance(v, str) and k.isascii() and v.isascii()
                   for k, v in msg.raw_items())
    except Exception:
        return False


def _header_fields(raw: bytes, headers: _Headers, defects: _Defects) -> dict[str, Any]:
    """The ParsedMessage fields read from the top-level header, in the order their problems
    are listed."""
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
    seen = {message_id}  # (a set: a capped References still holds ~7000 ids)
    for ref in _ids(" ".join(_all_raw(headers.items, "References"))):
        if ref not in seen:
            seen.add(ref)
            references.append(ref)

    subject_raw = headers.get("Subject")
    subject = _one_line(_unstructured(subject_raw)) if subject_raw else ""
    senders = _addresses("From", headers.get("From"), defects)
    to = _addresses("To", headers.get("To"), defects)
    cc = _addresses("Cc", headers.get("Cc"), defects)
    reply_to = _addresses("Reply-To", headers.get("Reply-To"), defects)
    date = _parse_date(headers.get("Date"), defects)
    return {
        "message_id": _clean(message_id),
        "synthetic_id": synthetic,
        "in_reply_to": _clean(parent) if parent else None,
        "references": [_clean(r) for r in references],
        "sender": senders[0] if senders else None,
        "to": to,
        "cc": cc,
        "reply_to": reply_to,
        "date": date,
        "subject": subject,
    }


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
