"""The MIME tree walked once: the readable text (charsets, format=flowed, HTML converted),
the attachments (file names, sizes, payload bytes) and the parts' defects."""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass
from email import utils as email_utils
from email.message import Message
from typing import Any

from tui_desk.mail.html_text import html_to_text
from tui_desk.mail.model import Attachment
from tui_desk.mail.parse.charsets import _codecs_for, _decode_bytes
from tui_desk.mail.parse.common import (
    HTML_LIMIT, MAX_DEPTH, MAX_PARTS, _Defects, _FOLD, _SURROGATES, _TEXT_BYTES_LIMIT, _clean, _kb,
    _one_line,
)
from tui_desk.mail.parse.header_values import _parse_header, _simple_mime_cached, _unfold, _unfold_all
from tui_desk.mail.parse.headers import _fix_header, _part_raw, _unstructured
from tui_desk.mail.parse.stdlib_tree import _Part, _parse_bytes, _raw_payload


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
    return found


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
    payload = _raw_payload(msg)
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


def _text(data: bytes, charset: str | None, hints: list[str], defects: _Defects) -> str:
    """A text part's decoded payload as the record's text: its charset, or the guesses
    (hints: :func:`_charset_hints`), lines ending in \n."""
    if len(data) > _TEXT_BYTES_LIMIT:  # more than we would ever keep after decoding
        defects.add(f"text part too long ({_kb(len(data))}): only the start is read")
        data = data[:_TEXT_BYTES_LIMIT]
    text, note = _decode_bytes(data, charset, hints)
    if note:
        defects.add(note)
    return _clean(text).replace("\r\n", "\n").replace("\r", "\n")


def _part_text(data: bytes, charset: object, html: bool, hints: list[str], defects: _Defects) -> str:
    """:func:`_text` of a part whose charset parameter is ``charset`` (None: absent); an HTML
    part without one may name it in a <meta> tag."""
    if not isinstance(charset, str):
        charset = None
        if html:
            m = _META_CHARSET.search(data[:4096])  # (the same 4096 bytes as after _text's cut)
            charset = m.group(1).decode("ascii") if m else None
    return _text(data, charset, hints, defects)


def _html_shown(html: str, defects: _Defects) -> str:
    """A text/html part's text (from :func:`_part_text`) as shown: converted to plain text."""
    if len(html) > HTML_LIMIT:
        defects.add(f"HTML body too long ({_kb(len(html))}): only the start is shown")
        html = html[:HTML_LIMIT]
    return html_to_text(html)


def _plain_text(text: str, flowed: bool, delsp: bool) -> str:
    """A text/plain part's text (from :func:`_text`) as shown: format=flowed joined."""
    return _unflow(text, delsp) if flowed else text


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
        try:
            charset = part.get_param("charset")
        except Exception:
            charset = None
        return _part_text(data, charset, _content_type(part) == "text/html", self.hints, self.defects)

    def leaf_body(self, part: Message, ctype: str) -> _Piece | None:
        if ctype == "text/plain":
            text = self.text_of(part)
            try:
                flowed = str(part.get_param("format") or "").lower() == "flowed"
                delsp = str(part.get_param("delsp") or "").lower() == "yes"
            except Exception:
                flowed = delsp = False
            return _Piece(_plain_text(text, flowed, delsp), False)
        if ctype == "text/html":
            return _Piece(_html_shown(self.text_of(part), self.defects), True)
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
        leaf = self.leaf_body(part, ctype)
        return ([leaf], [id(part)]) if leaf is not None else ([], [])

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
            _add_hint(hints, part.get_param("charset"))
    except Exception:
        pass
    return hints


def _add_hint(hints: list[str], charset: object) -> None:
    """A part's charset parameter added to the hints, when it names a codec we would use."""
    if isinstance(charset, str) and _codecs_for(charset):
        label = charset.strip().lower()
        if label not in hints and label not in ("utf-8", "utf8"):
            hints.append(label)


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




def _attachment_bytes(part: Message) -> bytes:
    """The content of an attachment's part; its length is what :func:`_size` computes."""
    payload = _raw_payload(part)
    if not isinstance(payload, list):  # what is_multipart() tests
        return _payload_bytes(part)
    out: list[str] = []
    try:
        for sub in payload:  # message/rfc822, message/delivery-status blocks
            _source_text(sub, out)
    except Exception:
        pass
    text = "".join(out)
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", text).encode("utf-8")
