"""Outgoing mail: Markdown body → multipart/alternative (readable text + styled HTML), with
headers that keep the thread together. Header values are checked, never trusted."""

from __future__ import annotations

import datetime as dt
import mimetypes
import re
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP, default
from email.utils import format_datetime, formataddr
from pathlib import Path

from markdown_it import MarkdownIt

from tui_desk.mail.model import Address
from tui_desk.mail.threading import strip_subject_prefixes
from tui_desk.sanitize import sanitize

# breaks: every line break the agent (or a snippet) writes is kept, as in the text part; plain
# Markdown would join "For the support team,\nAlice Martin" into one line
_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False, "breaks": True}).enable(
    ["table", "strikethrough"])

# Inline styles: many mail clients drop <style> blocks, so each element carries its own.
_STYLE = {
    "p": "margin:0 0 12px 0;",
    "table": "border-collapse:collapse;margin:0 0 12px 0;",
    "th": "border:1px solid #cccccc;padding:4px 8px;text-align:left;background:#f3f3f3;",
    "td": "border:1px solid #cccccc;padding:4px 8px;",
    "code": "font-family:Consolas,Menlo,monospace;background:#f3f3f3;padding:1px 3px;border-radius:3px;",
    "pre": "font-family:Consolas,Menlo,monospace;background:#f3f3f3;padding:8px;border-radius:4px;white-space:pre-wrap;",
    "blockquote": "margin:0 0 12px 0;padding:0 0 0 12px;border-left:3px solid #cccccc;color:#555555;",
    "ul": "margin:0 0 12px 0;padding-left:24px;",
    "ol": "margin:0 0 12px 0;padding-left:24px;",
    "img": "max-width:100%;",
    "a": "color:#1a5fb4;",
}
_TAG = re.compile(r"<(" + "|".join(_STYLE) + r")(?=[\s>/])")
_BODY_STYLE = "font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;line-height:1.5;color:#222222;"


class ComposeError(ValueError):
    pass


# CommonMark lets a backslash escape any ASCII punctuation, and then it is only that character
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def escape_markdown(text: str) -> str:
    """``text`` as Markdown that renders as exactly this text, on one line: for data put into
    the agent's Markdown (a customer's name by a placeholder), which must never become a link,
    an image, emphasis, raw HTML or an autolink. Runs of whitespace become one space, so it
    cannot start a block (a heading, a list, a code block) either."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", " ".join(text.split()))


def markdown_to_html(markdown: str) -> str:
    inner = _TAG.sub(lambda m: f'<{m.group(1)} style="{_STYLE[m.group(1)]}"', _MD.render(markdown))
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
            f'<body style="{_BODY_STYLE}">\n{inner}</body></html>\n')


# code (fenced or inline), left as it is; else an inline link [words](address "title"), not an image
_CODE_OR_LINK = re.compile(
    r"(?P<code>^ {0,3}(?P<fence>```|~~~).*?(?:^ {0,3}(?P=fence)|\Z)|`[^`\n]*`)"
    r"|(?<![!\\])\[(?P<words>[^\[\]\n]+)\]\(<?(?P<address>[^\s()<>]+)>?(?:\s+\"[^\"\n]*\")?\)",
    re.M | re.S)


def plain_text(markdown: str) -> str:
    """The text/plain part of a reply written in Markdown: the source as it is (people read it
    well), but for links, which read as their words and address, ``Great <mailto:...>`` (as
    the HTML part reads as text: html_text), not ``[Great](mailto:...)``."""
    return _CODE_OR_LINK.sub(lambda m: m.group("code") or f"{m.group('words')} <{m.group('address')}>", markdown)


def check_header(name: str, value: str) -> str:
    """CR, LF or NUL in a header value would start a new header: refuse, never repair."""
    if any(c in value for c in "\r\n\x00"):
        raise ComposeError(f"{name} contains a line break or NUL; refusing to send ({value[:60]!r})")
    return value


@dataclass
class Outgoing:
    sender: Address
    to: list[Address]
    subject: str
    body_markdown: str
    cc: list[Address] = field(default_factory=list)
    in_reply_to: str | None = None  # Message-ID without brackets
    references: list[str] = field(default_factory=list)
    attachments: list[Path] = field(default_factory=list)
    date: dt.datetime | None = None
    forwarded: bytes | None = None  # a forward: the original, attached whole as message/rfc822
    # the text/plain part when it differs from the Markdown source: placeholders filled with
    # the values as they are, where the Markdown has them escaped (escape_markdown)
    body_text: str | None = None
    # mail the desk sends by itself (a rule's reply or forward): "auto-replied" or
    # "auto-generated" (RFC 3834), so other machines do not answer it
    auto_submitted: str | None = None


FORWARD_HEADER = "X-TUI-Desk-Forward"  # marks our forwards: mail to a third party, not an answer


def new_message_id(domain: str) -> str:
    return f"{uuid.uuid4().hex}@{domain}"


def idna_address(addr: str) -> str:
    """The address with a non-ASCII domain in its ASCII (IDNA, xn--) form when the local part is
    ASCII, so it needs nothing special from any server; otherwise unchanged."""
    local, _, domain = addr.rpartition("@")
    if addr.isascii() or not local.isascii():
        return addr
    return f"{local}@{domain.encode('idna').decode('ascii')}"


def _header_address(a: Address, what: str) -> str:
    """name <addr> for a header: a non-ASCII name as an RFC 2047 encoded word, the domain as
    IDNA, a non-ASCII local part as UTF-8 (RFC 6532; such mail needs SMTPUTF8 anyway)."""
    check_header(what, a.name)
    check_header(what, a.addr)
    local, sep, domain = a.addr.rpartition("@")
    if not sep or not local or not domain or any(c.isspace() or c in '<>,;"' for c in a.addr):
        raise ComposeError(f"{what}: {a.addr!r} is not an email address")
    try:
        addr = idna_address(a.addr)
    except UnicodeError:
        raise ComposeError(f"{what}: {a.addr!r} has a domain that is not a valid international name") from None
    # formataddr quotes or encodes the name, but insists on an ASCII address: give it one to hold
    named = formataddr((a.name, "x@x"), charset="utf-8")
    return named[:-len("x@x>")] + addr + ">" if named.endswith("<x@x>") else addr


def _address_header(name: str, addresses: list[str]) -> bytes:
    """One address per line: folded at commas, never inside an address or encoded word."""
    return (name + ": " + ",\r\n ".join(addresses) + "\r\n").encode("utf-8")


def build_message(out: Outgoing, message_id: str) -> bytes:
    """The exact bytes to send, built once and kept, so a retry sends the same message."""
    if not out.to:
        raise ComposeError("no recipient")
    # The address headers are written here, not by the email package: it would turn a UTF-8
    # local part into an encoded word, which no server or client reads as an address.
    addresses = _address_header("From", [_header_address(out.sender, "From")])
    addresses += _address_header("To", [_header_address(a, "To") for a in out.to])
    if out.cc:
        addresses += _address_header("Cc", [_header_address(a, "Cc") for a in out.cc])
    msg = EmailMessage()
    msg["Subject"] = check_header("Subject", out.subject)
    msg["Date"] = format_datetime(out.date or dt.datetime.now(dt.timezone.utc))
    msg["Message-ID"] = f"<{check_header('Message-ID', message_id)}>"
    if out.in_reply_to:
        msg["In-Reply-To"] = f"<{check_header('In-Reply-To', out.in_reply_to)}>"
    refs = [check_header("References", r) for r in out.references]
    if refs:
        msg["References"] = " ".join(f"<{r}>" for r in refs)
    msg["MIME-Version"] = "1.0"
    if out.auto_submitted:
        msg["Auto-Submitted"] = check_header("Auto-Submitted", out.auto_submitted)
    if out.forwarded is not None:
        msg[FORWARD_HEADER] = "yes"
    # body_text: the reply's text part as desk.replies made it (plain_text before the values)
    text = plain_text(out.body_markdown) if out.body_text is None else out.body_text
    msg.set_content(text if text.endswith("\n") else text + "\n")
    msg.add_alternative(markdown_to_html(out.body_markdown), subtype="html")
    for path in out.attachments:
        try:
            data = path.read_bytes()
        except OSError as e:
            raise ComposeError(f"cannot attach {path}: {e.strerror}") from None
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)
    if out.forwarded is None:
        return addresses + msg.as_bytes(policy=SMTP)
    # The original goes as its bytes, never parsed and written again (a mail nested 300 deep
    # overflowed the stdlib's recursion; re-serialising may also change it): a placeholder
    # part, replaced by the bytes. 7bit/8bit: RFC 2046 does not allow base64 for message/rfc822.
    original = out.forwarded.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if not original.endswith(b"\r\n"):
        original += b"\r\n"
    placeholder = f"tui-desk-forwarded-{uuid.uuid4().hex}"
    # the class of the parts add_attachment makes (type(msg)); it differs from MIMEPart only in
    # set_content, which is not called here
    part = EmailMessage(policy=default)
    part["Content-Type"] = "message/rfc822"
    part["Content-Disposition"] = 'attachment; filename="forwarded-message.eml"'
    part["Content-Transfer-Encoding"] = "7bit" if original.isascii() else "8bit"
    part.set_payload(placeholder)
    if msg.get_content_subtype() != "mixed":
        msg.make_mixed()
    msg.attach(part)
    built = msg.as_bytes(policy=SMTP)
    at = built.index(placeholder.encode("ascii"))
    end = at + len(placeholder)
    if built[end:end + 2] == b"\r\n":
        end += 2
    return addresses + built[:at] + original + built[end:]


def _echoed(subject: str) -> str:
    """The customer's subject as the desk writes it back: no terminal controls or escape
    sequences (a mail client shows them to the customer as they are), one line."""
    return re.sub(r"[\n\t]+", " ", sanitize(subject)).strip()


def forward_subject(subject: str) -> str:
    """'Fwd: ' exactly once, before the subject without its Re:/Fwd: prefixes."""
    return f"Fwd: {strip_subject_prefixes(_echoed(subject))}"


def reply_subject(subject: str, ticket: int | None = None) -> str:
    """'Re: ' exactly once, and the ticket marker so replies find their way back."""
    base = strip_subject_prefixes(_echoed(subject), forwards=False)
    marker = f"[#{ticket}]"
    if ticket is not None and marker not in base:
        base = f"{marker} {base}".strip()
    return f"Re: {base}"


def reply_references(message_id: str, references: list[str]) -> list[str]:
    refs = [r for r in references if r != message_id]
    return refs + [message_id]
