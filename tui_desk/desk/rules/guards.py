"""Loop and abuse guards for mail the desk sends by itself (RFC 3834 and helpdesk practice).

Pure functions: `autoreply_block` looks at the mail that would be answered, `rate_limit_block`
at when earlier automatic mail went out. Each returns the reason not to send ("Precedence:
bulk"), or None when sending is fine. Every automatic mail the desk sends carries
`Auto-Submitted: auto-replied` (RFC 3834), which these same checks stop on the other side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tui_desk.config import AutoReplyConfig
from tui_desk.desk.rules.model import MessageFacts
from tui_desk.desk.timefmt import format_duration
from tui_desk.mail.model import ParsedMessage
from tui_desk.mail.survey import is_survey_answer

# local parts that are machines, not people
MACHINE_SENDERS = ("mailer-daemon", "postmaster", "noreply", "no-reply", "no_reply", "donotreply",
                   "do-not-reply", "do_not_reply", "bounce", "bounces")
LIST_HEADERS = ("list-id", "list-unsubscribe", "list-post")
AUTO_HEADERS = ("x-autoreply", "x-autorespond", "x-failed-recipients")
REPORT_TYPES = ("multipart/report", "message/delivery-status", "message/disposition-notification")


def message_facts(parsed: ParsedMessage, headers: Sequence[tuple[str, str]]) -> MessageFacts:
    """`headers`: mail.parse.read_headers of the same raw message."""
    date = int(parsed.date.timestamp()) if parsed.date is not None else None
    return MessageFacts(parsed.message_id, parsed.sender.key if parsed.sender else "", tuple(headers), date)


def answers_the_survey(message: MessageFacts) -> bool:
    """Whether the mail is an answer to the satisfaction survey (mail.survey): not a customer
    turn, so no mail rule runs on it (desk.rules.fire) and nothing answers it."""
    recipients = [v for name, v in message.headers if name.lower() in ("to", "cc", "delivered-to", "x-original-to")]
    in_reply_to = next((" ".join(v.split()).split(" ")[0] for name, v in message.headers
                        if name.lower() == "in-reply-to"), "") or None
    return is_survey_answer(recipients, in_reply_to)


def autoreply_block(message: MessageFacts, is_own_address: Callable[[str], bool]) -> str | None:
    """Why this mail must not get an automatic answer, or None."""
    first: dict[str, str] = {}
    for name, value in message.headers:
        first.setdefault(name.lower(), " ".join(value.split()))
    auto = first.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = first.get("precedence", "").strip().lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return f"Precedence: {precedence}"
    for name in LIST_HEADERS:
        if name in first:
            return f"{'-'.join(p.capitalize() for p in name.split('-'))}: a mailing list"
    suppress = first.get("x-auto-response-suppress", "").strip()
    if suppress and suppress.lower() != "none":
        return f"X-Auto-Response-Suppress: {suppress}"
    for name in AUTO_HEADERS:
        if name in first:
            return f"{'-'.join(p.capitalize() for p in name.split('-'))}: an automatic mail"
    content_type = first.get("content-type", "").split(";")[0].strip().lower()
    if content_type in REPORT_TYPES:
        return f"a delivery report ({content_type})"
    if first.get("return-path", "").strip() == "<>":
        return "null sender (Return-Path: <>)"
    if answers_the_survey(message):
        return "an answer to the satisfaction survey"
    sender = message.sender.strip().lower()
    if not sender or "@" not in sender:
        return "no sender address"
    local = sender.rsplit("@", 1)[0]
    if local in MACHINE_SENDERS or local.startswith(("mailer-daemon", "noreply", "no-reply")):
        return f"sender {sender} is a machine"
    if is_own_address(sender):
        return f"sender {sender} is the desk's own address"
    return None


@dataclass(frozen=True)
class SentAutomatically:
    """An automatic mail the desk sent earlier."""
    at: int  # unix seconds
    recipient: str  # address, any case
    conv_id: int
    capped: bool = True  # counts toward max_per_hour (an incident's plan B does not: a person's send)


def rate_limit_block(earlier: Sequence[SentAutomatically], recipient: str, conv_id: int, now: int,
                     limits: AutoReplyConfig, *, cap_only: bool = False) -> str | None:
    """Why another automatic mail to `recipient` in conversation `conv_id` must wait, or None.
    `cap_only`: only the desk's hourly cap counts (a mail an agent's own action sends, such as a
    status notice when they close: no mail triggered it, so it cannot loop)."""
    recipient = recipient.lower()
    if cap_only:
        return _hourly_cap(earlier, now, limits)
    customer_span = limits.customer_interval_minutes * 60
    last = max((e.at for e in earlier if e.recipient.lower() == recipient and now - e.at < customer_span), default=None)
    if last is not None:
        return (f"one automatic mail per {format_duration(customer_span)} to {recipient}: "
                f"the last went {format_duration(now - last)} ago")
    conversation_span = limits.conversation_interval_minutes * 60
    last = max((e.at for e in earlier if e.conv_id == conv_id and now - e.at < conversation_span), default=None)
    if last is not None:
        return (f"one automatic mail per {format_duration(conversation_span)} in a conversation: "
                f"the last went {format_duration(now - last)} ago")
    return _hourly_cap(earlier, now, limits)


def _hourly_cap(earlier: Sequence[SentAutomatically], now: int, limits: AutoReplyConfig) -> str | None:
    in_hour = sum(1 for e in earlier if e.capped and 0 <= now - e.at < 3600)
    if in_hour >= limits.max_per_hour:
        return f"the desk's cap of {limits.max_per_hour} automatic mails an hour is reached"
    return None
