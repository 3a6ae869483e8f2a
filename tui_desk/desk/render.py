"""Store rows → sanitized views, and the plain-text form of a conversation (CLI `show`)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Iterable, Mapping

from tui_desk.desk.attachments import filename_for
from tui_desk.desk.markers import state_words
from tui_desk.desk.quoting import split_quoted
from tui_desk.desk.timefmt import format_datetime_short
from tui_desk.desk.views import AUTO_REPLY, ActionLine, AttachmentView, ConversationView, HistoryItem, MessageView, TextBlock
from tui_desk.mail.model import Attachment
from tui_desk.sanitize import cell_safe, sanitize, sanitize_line

UTC = dt.timezone.utc


def addresses_text(pairs: Iterable[tuple[str, str]]) -> str:
    """(name, address) pairs as one sanitized line: 'Ann Lee <ann@x>, bob@y'."""
    return ", ".join(_each_address(pairs))


def _each_address(pairs: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """(name, address) pairs as 'Ann Lee <ann@x>', 'bob@y', each sanitized."""
    return tuple(sanitize_line(f"{name} <{addr}>" if name else addr) for name, addr in pairs)


def as_sent(markdown: str) -> str:
    """An agent's reply as the customer saw it: the HTML part mail.compose made from this
    Markdown, read as text the way the desk reads any HTML mail (mail.html_text: "- item",
    "text <url>", "> quote"). Not sanitized: message_view does that, as for every body."""
    from tui_desk.mail.compose import markdown_to_html  # markdown-it: at the first reply shown, not at start
    from tui_desk.mail.html_text import html_to_text
    return html_to_text(markdown_to_html(markdown))


def message_view(m: sqlite3.Row, sent_markdown: str | None = None) -> MessageView:
    """`sent_markdown`: the Markdown this desk sent the mail as (store.outbox.sent_markdown): the
    text shown is then the reply as rendered for the customer, not its text/plain part (the
    Markdown source, its placeholders filled with the values as they are)."""
    sender = f"{m['sender_name']} <{m['sender_addr']}>" if m["sender_name"] else m["sender_addr"]
    to, cc = _each_address(json.loads(m["to_json"])), _each_address(json.loads(m["cc_json"]))
    body = m["body"] if sent_markdown is None else as_sent(sent_markdown)
    if m["error"]:
        body = f"[this message could not be parsed: {m['error']}]\n\n{body}"
    # cell_safe: emoji sequences drawn at the width Rich counts (tui_desk.sanitize)
    blocks = tuple(TextBlock(cell_safe(sanitize(text)), quoted) for text, quoted in split_quoted(body))
    return MessageView(
        id=m["id"],
        sender=sanitize_line(sender),
        to=", ".join(to),
        cc=", ".join(cc),
        date=dt.datetime.fromtimestamp(m["date"], UTC) if m["date"] is not None else None,
        from_agent=bool(m["is_agent"]),
        blocks=blocks,
        attachments=tuple(AttachmentView(sanitize_line(a[0]), sanitize_line(a[1]), a[2],
                                         filename_for(Attachment(a[0], a[1], a[2], a[3] if len(a) > 3 else "")))
                          for a in json.loads(m["attachments_json"])),
        defects=tuple(sanitize_line(d) for d in json.loads(m["defects_json"])),
        is_note=bool(m["is_note"]),
        message_id=sanitize_line(m["message_id"]),
        auto_submitted=bool(m["auto_submitted"]),
        to_each=to,
        cc_each=cc,
    )


def conversation_view(conv: sqlite3.Row, messages: Iterable[sqlite3.Row], tags: tuple[str, ...], reasons: tuple[str, ...],
                      history: tuple[HistoryItem, ...] = (),
                      sent_markdown: Mapping[str, str] | None = None) -> ConversationView:
    """`sent_markdown`: Message-ID -> the Markdown this desk sent that mail as (message_view)."""
    sent = sent_markdown or {}
    return ConversationView(
        id=conv["id"],
        subject=sanitize_line(conv["subject"]),
        customer=sanitize_line(conv["customer_name"] or conv["customer_key"]),
        status=conv["status"],
        tags=tags,
        messages=tuple(message_view(m, sent.get(m["message_id"])) for m in messages),
        reasons=reasons,
        history=history,
    )


def human_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def conversation_text(view: ConversationView, now: dt.datetime | None = None) -> str:
    """What the conversation pane shows, as plain lines (quoted text included, marked '>')."""
    lines = [f"#{view.id} {view.subject}",
             f"customer: {view.customer}   status: {view.status}"
             + (f"   tags: {', '.join(view.tags)}" if view.tags else "")]
    state = state_words(view, now or dt.datetime.now(UTC).astimezone())  # snooze times in now's zone (the desk's)
    if state:
        lines.append("   ".join(state))
    if view.reasons:
        lines.append("priority: " + "; ".join(view.reasons))
    for m in view.in_time_order():
        if isinstance(m, ActionLine):  # what a rule or an incident did: one quiet line
            lines += ["", f"   · {format_datetime_short(m.at, now)}  {m.text}"]
            continue
        when = format_datetime_short(m.date, now) if m.date else "(no date)"
        who = "internal note" if m.is_note else "agent" if m.from_agent else "customer"
        if m.auto_submitted:
            who += f" · {AUTO_REPLY}"
        lines += ["", f"── {who}: {m.sender} · {when}"]
        if m.to:
            lines.append(f"   to: {m.to}")
        if m.cc:
            lines.append(f"   cc: {m.cc}")
        for d in m.defects:
            lines.append(f"   ! {d}")
        for b in m.blocks:
            text = b.text.rstrip("\n")
            if b.quoted:
                lines += [("> " + ln if not ln.startswith(">") else ln) for ln in text.split("\n")]
            else:
                lines += text.split("\n")
        for a in m.attachments:
            lines.append(f"   📎 {a.filename or '(unnamed)'} ({a.content_type}, {human_size(a.size)})")
    if view.history:
        lines += ["", "other conversations of this customer:"]
        for h in view.history:
            when = format_datetime_short(h.last_date, now) if h.last_date else ""
            who = "" if h.same_person else "  (same company)"
            lines.append(f"   #{h.id:<6} {h.status:<8} {when:<13} {h.subject}{who}")
    return "\n".join(lines) + "\n"
