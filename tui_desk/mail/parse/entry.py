"""The entry points: :func:`parse_message`, :func:`parse_header_block`, :func:`parse_body`,
:func:`attachment_payloads` and the last resort record; the top-level header fields."""

from __future__ import annotations

import datetime as dt
import re
from email import errors as email_errors, utils as email_utils
from email.message import Message
from typing import Literal, TypedDict, overload

from tui_desk.mail.model import Address, Attachment, ParsedBody, ParsedMessage
from tui_desk.mail.parse.addresses import _addresses
from tui_desk.mail.parse.body import (
    _Walker, _add_hint, _attachment_bytes, _charset_hints, _collect_part_defects, _content_type, _html_shown,
    _part_text, _plain_text,
)
from tui_desk.mail.parse.charsets import _decode_bytes
from tui_desk.mail.parse.common import (
    HEADER_LIMIT, MAX_DELIMITER_LINES, REFERENCES_LIMIT, TEXT_LIMIT, _Defects, _FOLD, _OLE2_MAGIC, _clean,
    _kb, _one_line,
)
from tui_desk.mail.parse.header_values import _raw_items, _unfold
from tui_desk.mail.parse.headers import (
    _Headers, _MSGID, _fix_header, _ids, _parse_date, _synthetic_id, _unstructured, synthetic_message_id,
)
from tui_desk.mail.parse.quick import Leaf, PlainFields, decoded, plain_header, plain_leaves
from tui_desk.mail.parse.repair import _repair_header_block
from tui_desk.mail.parse.stdlib_tree import _HEADER_NOTES, _parse_bytes
from tui_desk.mail.survey import is_survey_answer


# --------------------------------------------------------------------------------------
# Auto-submitted


def _is_auto(headers: _Headers, top_type: str) -> bool:
    auto = (headers.get("Auto-Submitted") or "").split(";")[0].strip().lower()
    if auto and auto != "no":
        return True
    if top_type in ("multipart/report", "message/delivery-status"):
        return True
    # our own forwards (mail.compose.FORWARD_HEADER): sent to a third party, not a turn of the conversation
    if not _AUTO_FIELDS.isdisjoint(headers.every):
        return True
    if (headers.get("Precedence") or "").strip().lower() == "auto_reply":
        return True
    return_path = headers.get("Return-Path")
    if return_path is not None and _unfold(return_path).strip() == "<>":  # null sender
        return True
    # an answer to the desk's satisfaction survey (mail.survey): not a customer turn
    recipients = [v for name in _SURVEY_RECIPIENT_FIELDS for v in headers.all_raw(name)]
    return is_survey_answer(recipients, next(iter(_ids(headers.get("In-Reply-To"))), None))


_SURVEY_RECIPIENT_FIELDS = ("To", "Cc", "Delivered-To", "X-Original-To")
_AUTO_FIELDS = frozenset({"x-autoreply", "x-autorespond", "x-failed-recipients", "x-tui-desk-forward"})


# --------------------------------------------------------------------------------------
# Entry point


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse one raw message. Never raises: problems are listed in ``defects``."""
    data = _as_bytes(raw)
    try:
        return _parse(data)
    except Exception as exc:  # the last line of defence; every step below is guarded too
        return last_resort_record(data, f"parser failed: {type(exc).__name__}: {exc}", subject="")


def parse_header_block(raw: bytes) -> ParsedMessage:
    """The record of a header block alone (what a sync downloads first), as parse_message reads
    its header fields; no text and no attachments, and only the defects the header has: the
    body, not there yet, is not looked for. Never raises."""
    data = _as_bytes(raw)
    try:
        return _parse(data, part="header")
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


def read_headers(raw: bytes) -> list[tuple[str, str]]:
    """The top-level header fields, in order: names as written, values unfolded and decoded
    (encoded words, raw 8-bit bytes) as parse_message decodes free text. For the checks that
    look at fields the record has no place for (desk.rules: List-Id, Precedence, header: tests).
    Never raises: a header block the parser cannot read gives []."""
    data = _as_bytes(raw)
    end = min((i for i in (data.find(b"\r\n\r\n"), data.find(b"\n\n")) if i >= 0), default=len(data))
    try:
        msg, _ = _parse_bytes(data[:end] + b"\n\n", headers_only=True)
        hints = _charset_hints(msg)
        out = []
        for name, value in _raw_items(msg):
            text, _note = _fix_header(value, hints)
            out.append((name, _one_line(_unstructured(text))))
        return out
    except Exception:
        return []


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


_Reading = Literal["message", "header", "body"]  # how much of a message _parse reads


@overload
def _parse(raw: bytes, attachment_parts: list[Message] | None = None,
           part: Literal["message", "header"] = "message", quick: bool = True) -> ParsedMessage: ...
@overload
def _parse(raw: bytes, attachment_parts: list[Message] | None = None, *,
           part: Literal["body"], quick: bool = True) -> ParsedMessage | ParsedBody: ...
def _parse(raw: bytes, attachment_parts: list[Message] | None = None,
           part: _Reading = "message", quick: bool = True) -> ParsedMessage | ParsedBody:
    """The record; ``attachment_parts``, when given, receives the part of each attachment.
    part="header": header fields only (parse_header_block); "body": no header fields when
    the header is ASCII (parse_body). quick=False: never the quick route (for the tests that
    hold the two routes to the same record)."""
    if quick and attachment_parts is None:
        try:
            found = _read_quick(raw, part)
        except Exception:  # (never seen): the full route reads it, with its own guards
            found = None
        if found is not None:  # no stdlib header parse to note, no NUL (printable fields, a
            return found  # text without it): what the notes and _without_nul below leave
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


def _read(raw: bytes, attachment_parts: list[Message] | None, part: _Reading) -> ParsedMessage | ParsedBody:
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
        headers = _Headers.of(msg, hints, defects)
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


def _read_quick(raw: bytes, part: _Reading) -> ParsedMessage | ParsedBody | None:
    """What _read returns, by the quick route (quick.py) when the mail is plain enough for
    it; None when it is not (nothing is decided yet then)."""
    header = plain_header(raw, every_field=part != "body")
    if header is None:
        return None
    leaves = None
    if part != "header" or header.body_start < len(raw) and header.content_type.startswith("multipart/"):
        leaves = plain_leaves(raw, header)  # (a multipart's parts are parsed even for its header)
        if leaves is None:
            return None
    elif header.content_type.startswith("multipart/"):  # a header block alone: the tree reads
        encoding = header.first.get("content-transfer-encoding")  # this field (its parser can fail)
        if encoding is not None and encoding.lower() not in ("7bit", "8bit", "binary"):
            return None
    defects = _Defects()
    fields = headers = None
    if part != "body":  # (a plain header is ASCII: parse_body does not read it again)
        headers = _Headers(header.items, [], defects, printable=True, every=header.every)  # (no 8-bit byte:
        # no charset guesses to make)
        fields = _header_fields(raw, headers, defects)
    if part == "header":
        assert headers is not None and fields is not None
        return ParsedMessage(**fields, text="", text_from_html=False, defects=defects.result(),
                             auto_submitted=_is_auto(headers, header.content_type), size=len(raw))
    assert leaves is not None
    found = _quick_text(leaves, header, defects)
    if found is None:
        return None
    text, from_html = found
    if "\x00" in text:  # (what _without_nul does to the full route's text)
        text = text.replace("\x00", "")
    if len(text) > TEXT_LIMIT:
        defects.add(f"body text too long ({len(text):,} characters): cut to {TEXT_LIMIT:,}")
        text = text[:TEXT_LIMIT]
    if fields is None:
        return ParsedBody(text=text.rstrip(), text_from_html=from_html, attachments=[], defects=defects.result(),
                          size=len(raw))
    assert headers is not None
    return ParsedMessage(**fields, text=text.rstrip(), text_from_html=from_html, attachments=[],
                         defects=defects.result(), auto_submitted=_is_auto(headers, header.content_type),
                         size=len(raw))


def _quick_text(leaves: list[Leaf], header: PlainFields, defects: _Defects) -> tuple[str, bool] | None:
    """The record's text from the quick route's leaves, as _Walker picks it: the first
    text/plain leaf with any text, else the first HTML one; None: a leaf the quick route cannot
    decode (the full route reads the mail)."""
    hints: list[str] = []  # _charset_hints: the message's own charset, then its parts'
    if header.content_type.startswith("multipart/"):
        _add_hint(hints, header.params.get("charset"))
    for leaf in leaves:
        _add_hint(hints, leaf.params.get("charset"))
    first: tuple[str, bool] | None = None
    for leaf in leaves:
        data = decoded(leaf)
        if data is None:
            return None
        charset, params = leaf.params.get("charset"), leaf.params
        if leaf.content_type == "text/plain":
            text = _plain_text(_part_text(data, charset, False, hints, defects),
                               params.get("format", "").lower() == "flowed", params.get("delsp", "").lower() == "yes")
            if text.strip():
                return text.strip("\n"), False
        else:
            text = _html_shown(_part_text(data, charset, True, hints, defects), defects)
            if text.strip() and first is None:
                first = text.strip("\n"), True
    return first or ("", False)


def _ascii_header(msg: Message) -> bool:
    """No 8-bit byte in the top-level header: its fields then read the same whatever charsets
    the body declares (they only guide the decoding of raw 8-bit header bytes)."""
    try:
        return all(isinstance(k, str) and isinstance(v, str) and k.isascii() and v.isascii()
                   for k, v in msg.raw_items())
    except Exception:
        return False


class _HeaderFields(TypedDict):
    """The ParsedMessage fields the top-level header gives (keyword arguments of ParsedMessage)."""

    message_id: str
    synthetic_id: bool
    in_reply_to: str | None
    references: list[str]
    sender: Address | None
    to: list[Address]
    cc: list[Address]
    reply_to: list[Address]
    date: dt.datetime | None
    subject: str


def _header_fields(raw: bytes, headers: _Headers, defects: _Defects) -> _HeaderFields:
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
    for ref in _ids(" ".join(headers.all_raw("References"))):
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
        # the first with an address: damage that splits a From (an unended escape sequence's
        # ";") leaves the address in a later entry, and a sender without one cannot be answered
        "sender": next((a for a in senders if a.addr), senders[0] if senders else None),
        "to": to,
        "cc": cc,
        "reply_to": reply_to,
        "date": date,
        "subject": subject,
    }
