"""Everything in the parser that leans on private stdlib internals, in one file.

The stdlib may change any of these in a minor release without notice;
tests/test_stdlib_internals.py checks each one (presence, signature, the feedparser patterns
copied here) and fails naming it. When that test fails, this file is what to look at; no other
file of the parser touches a private name of ``email``, ``email.feedparser`` or ``codecs``.

Private names used, and why:

* ``email.message._splitparam``, ``_parseparam``, ``_unquotevalue`` (module functions):
  :class:`_Part` answers ``get_content_type`` / ``get_content_disposition`` / ``get_param``
  from a memo and must give exactly what ``Message`` gives, so it calls the same helpers.
* ``email.message.Message._headers`` (the list of ``(name, raw value)`` fields): read by
  :class:`_Part` to index its fields; written by :class:`_TreeBuilder`, as feedparser does.
* ``email.message.Message._payload``: written by :class:`_TreeBuilder` (bodies sliced
  between boundaries, as feedparser sets them); read by :func:`_raw_payload`, so an attached
  message is returned as it was read, never through the stdlib's generator (whose header
  re-folding can loop forever).
* ``email.message.Message._get_params_preserve(failobj, header)``: overridden by
  :class:`_Part` to memoize parameters; ``get_params`` / ``get_filename`` / ``get_boundary``
  / ``get_content_charset`` of the stdlib go through it.
* ``email.feedparser``: :class:`_TreeBuilder` rebuilds the tree ``FeedParser._parsegen`` and
  ``FeedParser._parse_headers`` build, so it copies ``headerRE``, ``NLCRE_eol`` and the
  boundary pattern ``_parsegen`` compiles; a change there means this builder is no longer
  the stdlib's twin (tests/test_parse.py compares the trees on the corpus and generated mail).
* ``email._encoded_words.decode(word)`` -> ``(text, charset, lang, defects)``:
  :func:`_decode_encoded_word`, the fast reader of plain address lists, decodes display-name
  words exactly as the stdlib's phrase parser does.
* ``email._header_value_parser``: no call; ``header_values._TOKEN`` / ``_PARAM_WORD`` mirror
  its ``TOKEN_ENDS`` / ``ATTRIBUTE_ENDS`` and ``addresses._simple_encoded_word`` mirrors where
  its ``get_encoded_word`` ends a word (the test checks the two character sets).
* ``codecs.CodecInfo._is_text_encoding``: :func:`_is_text_encoding` tells text codecs from
  bytes-to-bytes ones (base64_codec, rot13, zlib...) that a charset label must never reach.

Also here, as they make the tree: the header-capping policy (:class:`_CappingPolicy`) and
:func:`_parse_bytes`, which builds with :class:`_TreeBuilder` and falls back on ``BytesParser``.
"""

from __future__ import annotations

import codecs
import re
from contextvars import ContextVar
from email import _encoded_words  # type: ignore[attr-defined]  # private module, not in typeshed
from email import errors as email_errors, utils as email_utils
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import EmailPolicy, default as _DEFAULT_POLICY
from typing import TYPE_CHECKING, Any

from tui_desk.mail.parse.common import HEADER_LIMIT, REFERENCES_LIMIT
from tui_desk.mail.parse.header_values import (
    _SimpleMime, _parse_header, _raw_items, _simple_mime_cached, _unfold, _unfold_all,
)

if TYPE_CHECKING:
    # Private helpers typeshed leaves out: their signatures as 3.11-3.13 have them (the names of
    # the parameters are checked by tests/test_stdlib_internals.py). A parameter value is a str,
    # or (charset, language, value) for RFC 2231.
    def _splitparam(param: str) -> tuple[str, str | None]: ...
    def _parseparam(s: str) -> list[str]: ...
    def _unquotevalue(value: str | tuple[str | None, str | None, str]) -> str | tuple[str | None, str | None, str]: ...
else:
    from email.message import _parseparam, _splitparam, _unquotevalue


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
    # Message's private attributes (see the module docstring), which typeshed does not declare:
    # the fields as (name, raw value), and the body (a str, or the parts; None until set)
    _headers: list[tuple[str, Any]]
    _payload: str | list[Message] | None

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
        return stripped.get(name.lower())

    def __contains__(self, name: str) -> bool:
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
        return ctype

    def get_content_disposition(self) -> str | None:
        hit = self._first("content-disposition")
        if hit is None:
            return None
        return _splitparam(self._header_text(hit))[0].lower()

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
        return email_utils.decode_params(params)


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
    # typeshed lists the stdlib's keywords only; a policy takes any attribute of its class
    policy = _CappingPolicy(truncated=truncated,  # type: ignore[call-overload]  # (see above)
                            header_factory=_DEFAULT_POLICY.header_factory, message_factory=_Part)
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

    def part(self, depth: int, parent_type: str = "") -> _Part:
        if depth > _BUILD_DEPTH or parent_type == "multipart/digest":
            raise _Unsupported  # digest children default to message/rfc822
        msg = _Part(_PARSE_POLICY)
        text = self.text
        # the header loop of _parsegen: header lines up to EOF or the first other line
        start = self.pos
        pos = _FEED_HEADER_LINES.match(text, start).end()  # type: ignore[union-attr]  # matches "" too: never None
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

    def multipart(self, msg: _Part, sep: str, depth: int, ctype: str) -> None:
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

    def headers(self, msg: _Part, block: str) -> None:
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
# Private stdlib names other files of the parser need, behind plain functions


def _raw_payload(msg: Message) -> str | list[Message] | None:
    """``Message._payload`` as the parser left it: a str (never decoded) or a list of parts."""
    return msg._payload  # type: ignore[attr-defined, no-any-return]  # private: typeshed leaves it out


def _decode_encoded_word(word: str) -> tuple[str, str, str, list[email_errors.MessageDefect]]:
    """``email._encoded_words.decode``: (text, charset, lang, defects) of one RFC 2047 word."""
    return _encoded_words.decode(word)  # type: ignore[no-any-return]  # the module has no stub: Any


def _is_text_encoding(info: codecs.CodecInfo) -> bool:
    """``codecs.CodecInfo._is_text_encoding``: False for bytes-to-bytes / str-to-str codecs."""
    return bool(info._is_text_encoding)
