"""Turning an agent's Markdown into a queued reply: recipients, subject, threading headers,
placeholders filled (unknown ones stop the send), then into the durable outbox."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from email.utils import getaddresses
from pathlib import Path

from tui_desk.config import AccountConfig
from tui_desk.desk.commands import CommandError
from tui_desk.desk.history import record_message, snippet_records
from tui_desk.desk.snippets import Fill, capture_names, captured_values, fill, fills, first_name, placeholders
from tui_desk.desk.timefmt import format_datetime_short
from tui_desk.mail.compose import (ComposeError, Outgoing, build_message, escape_markdown, forward_subject, plain_text,
                                   new_message_id, reply_references, reply_subject)
from tui_desk.mail.model import Address
from tui_desk.sanitize import sanitize_line
from tui_desk.store import mirror, outbox, queries
from tui_desk.store.ingest import wire_message_id

from typing import TYPE_CHECKING, Any, Protocol, Sequence

if TYPE_CHECKING:
    from tui_desk.desk.core import DeskCore


class Keyed(Protocol):
    """A row read by column name: a sqlite3.Row, or a dict standing in for one."""
    def __getitem__(self, key: str, /) -> Any: ...


@dataclass(frozen=True)
class QueuedReply:
    outbox_id: int
    message_id: str
    recipients: list[str]
    send_at: int


def _addrs(raw_json: str) -> list[Address]:
    return [Address(n, a) for n, a in json.loads(raw_json)]


def placeholder_values(desk: "DeskCore", conv: Keyed, customer_name: str, customer_addr: str) -> dict[str, str]:
    first = customer_name.split()[0] if customer_name.strip() else customer_addr.split("@")[0]
    return {**dict(desk.config.snippets.values),  # the team's own ([snippets.values]); the desk's win
            "customer_first_name": first, "customer_name": customer_name or customer_addr,
            "ticket_id": str(conv["id"]), "agent_name": desk.config.agent,
            "agent_first_name": first_name(desk.config.agent), "subject": conv["subject"]}


# Placeholders measured from the desk's history for the conversation, only when a text uses them.
MEASURED_PLACEHOLDERS = ("expected_wait",)


async def measured_values(desk: "DeskCore", conv_id: int, body: str,
                          given: dict[str, str] | None = None) -> dict[str, str]:
    """{{expected_wait}} (desk.expected_wait: the measured wait in a customer's words) when `body`
    uses it and `given` does not set it already."""
    wanted = [n for n in placeholders(body) if n in MEASURED_PLACEHOLDERS and n not in (given or {})]
    if not wanted:
        return {}
    from tui_desk.desk.expected_wait import for_conversation  # the metrics cache: only when asked
    return {"expected_wait": (await for_conversation(desk, conv_id)).words}


async def reply_text(desk: "DeskCore", conv_id: int, body_markdown: str, *, reply_all: bool = False,
                     account: AccountConfig | None = None,
                     extra_values: dict[str, str] | None = None) -> tuple[ReplyHeaders, str, str]:
    """(headers, the Markdown, the text/plain part) of the reply queue_reply would queue now;
    CommandError when it would refuse. A bulk follow-up's dry run shows this (desk.followup)."""
    head = await reply_headers(desk, conv_id, reply_all, account)
    extra_values = {**await measured_values(desk, conv_id, body_markdown, extra_values), **(extra_values or {})}
    text, plain = _filled(desk, head.conv, head.original, body_markdown, extra_values, "reply")
    return head, text, plain


async def queue_reply(desk: "DeskCore", conv_id: int, body_markdown: str, *, reply_all: bool = False,
                      send_at: int | None = None, account: AccountConfig | None = None,
                      attachments: Sequence[Path] = (), extra_values: dict[str, str] | None = None,
                      seen_upto: int | None = None, snippets: list[str] | None = None,
                      message_id: str | None = None, event: dict[str, Any] | None = None,
                      clears_draft: bool = True) -> QueuedReply:
    """`seen_upto`: the conversation's newest message when the agent started writing (by default:
    now). Mail that arrives after it holds the reply before SMTP (sync.delivery collision check).
    `snippets`: the names of the snippets the reply used (its history event records them).
    `message_id`: fixed by a caller that must never queue it twice (desk.followup: the outbox
    holds one message per Message-ID); `event`: more data for the `reply` event; `clears_draft`
    False: the agent's draft there is not this reply (a bulk follow-up leaves it as it is)."""
    account = account or desk.config.account(None)
    head, text, plain = await reply_text(desk, conv_id, body_markdown, reply_all=reply_all, account=account,
                                         extra_values=extra_values)
    original = head.original
    refs = reply_references(wire_message_id(original["message_id"]), json.loads(original["refs_json"]))
    return await _queue(desk, account, conv_id, Outgoing(
        sender=Address(account.display_name, account.address), to=head.to, cc=head.cc,
        subject=head.subject, body_markdown=text, body_text=plain,
        in_reply_to=wire_message_id(original["message_id"]), references=refs,
        attachments=list(attachments)),
        body_markdown, send_at, seen_upto, reply_all=reply_all, clears_draft=clears_draft,
        event=("reply", {"reply_all": reply_all, "snippets": snippet_records(desk, snippets), **(event or {})}),
        message_id=message_id)


async def queue_autoreply(desk: "DeskCore", conv_id: int, body_markdown: str, *, message_id: str,
                          event: dict[str, Any], account: AccountConfig | None = None,
                          auto_submitted: str = "auto-replied", kind: str = "autoreply",
                          values: dict[str, str] | None = None, send_at: int | None = None) -> QueuedReply:
    """Mail the desk sends by itself to the customer (a rule's reply with a snippet): threaded as
    a reply, `Auto-Submitted: auto-replied` (RFC 3834), sent at once (no undo window: nobody is
    there to undo it), and recorded as an `autoreply` event, never as an agent's reply (the
    first response time keeps running). `message_id` is fixed by the caller: the outbox holds
    one message per Message-ID, so running the same rule again cannot send it twice.
    `values`: more placeholders ({{incident}}, the survey's answer links); `send_at`: later than
    now (an incident's "it's fixed" mail waits the undo window, spaced out: desk.incident).
    The satisfaction survey (desk.csat) goes this way too: `auto-generated`, a `survey` event."""
    account = account or desk.config.account(None)
    head = await reply_headers(desk, conv_id, False, account)
    original = head.original
    text, plain = _filled(desk, head.conv, original, body_markdown, values, "reply")
    refs = reply_references(wire_message_id(original["message_id"]), json.loads(original["refs_json"]))
    return await _queue(desk, account, conv_id, Outgoing(
        sender=Address(account.display_name, account.address), to=head.to, subject=head.subject,
        body_markdown=text, body_text=plain, in_reply_to=wire_message_id(original["message_id"]),
        references=refs, auto_submitted=auto_submitted),
        body_markdown, desk.now() if send_at is None else send_at, None, reply_all=False, clears_draft=False,
        event=(kind, {**event, "to": [a.addr for a in head.to]}), message_id=message_id)


@dataclass(frozen=True)
class ReplyHeaders:
    to: list[Address]
    cc: list[Address]
    subject: str
    conv: sqlite3.Row  # the conversation's row
    original: sqlite3.Row  # the message answered: the customer's last


async def reply_headers(desk: "DeskCore", conv_id: int, reply_all: bool = False,
                        account: AccountConfig | None = None) -> ReplyHeaders:
    """Who a reply goes to and its subject: the answered mail's Reply-To (else its sender), minus
    the desk; with reply_all its other To/Cc as Cc; 'Re:' once and the [#N] marker. The compose
    screen shows exactly this."""
    account = account or desk.config.account(None)
    conv, original = await _conversation_and_original(desk, conv_id)
    reply_to = _addrs(original["reply_to_json"]) or [Address(original["sender_name"], original["sender_addr"])]
    ours = {account.address.lower(), *desk.config.agent_addresses}
    to = [a for a in reply_to if a.key not in ours]
    cc: list[Address] = []
    if reply_all:
        seen = {a.key for a in to} | ours
        for a in _addrs(original["to_json"]) + _addrs(original["cc_json"]):
            if a.key not in seen and not desk.config.is_agent_address(a.key):
                cc.append(a)
                seen.add(a.key)
    if not to:
        raise CommandError("nobody to reply to: the last message came from this desk")
    return ReplyHeaders(to, cc, reply_subject(original["subject"] or conv["subject"], conv_id), conv, original)


async def forward_subject_of(desk: "DeskCore", conv_id: int) -> str:
    """The Subject a forward of the conversation goes with (queue_forward; the compose screen
    shows it): 'Fwd:' once before the forwarded mail's subject without its Re:/Fwd:."""
    conv, original = await _conversation_and_original(desk, conv_id)
    return forward_subject(original["subject"] or conv["subject"])


async def queue_forward(desk: "DeskCore", conv_id: int, to_text: str, body_markdown: str, *,
                        send_at: int | None = None, account: AccountConfig | None = None,
                        attachments: Sequence[Path] = (), seen_upto: int | None = None,
                        snippets: list[str] | None = None, message_id: str | None = None,
                        auto_submitted: str | None = None, event: dict[str, Any] | None = None) -> QueuedReply:
    """Forward the conversation's latest customer mail (attached whole, as message/rfc822) with
    the agent's Markdown on top. It stays in the conversation (References) and a third party's
    answer threads back; it is not an answer to the customer (mail.compose.FORWARD_HEADER).
    A rule's forward gives its fixed `message_id`, `auto_submitted` and more `event` data."""
    account = account or desk.config.account(None)
    conv, original = await _conversation_and_original(desk, conv_id)
    to = parse_recipients(to_text)
    raw_original = await mirror.raw_by_message_id(desk.store, original["message_id"])
    if raw_original is None:
        raise CommandError(f"the original of #{conv_id} is not stored; fetch it first")
    text, plain = _filled(desk, conv, original, body_markdown, await measured_values(desk, conv_id, body_markdown),
                          "forward", allow_empty=True)
    refs = reply_references(wire_message_id(original["message_id"]), json.loads(original["refs_json"]))
    return await _queue(desk, account, conv_id, Outgoing(
        sender=Address(account.display_name, account.address), to=to,
        subject=await forward_subject_of(desk, conv_id), body_markdown=text, body_text=plain,
        references=refs, attachments=list(attachments), forwarded=raw_original, auto_submitted=auto_submitted),
        body_markdown, send_at, seen_upto, reply_all=False, clears_draft=False,
        event=("forward", {"to": [a.addr for a in to], "snippets": snippet_records(desk, snippets), **(event or {})}),
        message_id=message_id)


def parse_recipients(text: str) -> list[Address]:
    """'Ann <ann@x.test>, bob@y.test' as typed by the agent; each must be an address."""
    found = [Address(name, addr) for name, addr in getaddresses([text]) if name or addr]
    bad = [a.name or a.addr for a in found if "@" not in a.addr or any(c.isspace() for c in a.addr)]
    if bad:
        raise CommandError(f"not an email address: {bad[0]}")
    if not found:
        raise CommandError("forward to whom? type one or more addresses")
    return found


async def conversation_mail(desk: "DeskCore", conv_id: int,
                            empty: str = "has no messages") -> tuple[sqlite3.Row, list[sqlite3.Row]]:
    """The conversation's row and its mail, oldest first (internal notes left out);
    CommandError when there is no such conversation or no mail ("conversation N " + empty)."""
    rows = await queries.conversation_rows(desk.store, [conv_id])
    if conv_id not in rows:
        raise CommandError(f"no conversation {conv_id}")
    messages = [m for m in await queries.messages_of(desk.store, conv_id) if not m["is_note"]]
    if not messages:
        raise CommandError(f"conversation {conv_id} {empty}")
    return rows[conv_id], messages


async def _conversation_and_original(desk: "DeskCore", conv_id: int) -> tuple[sqlite3.Row, sqlite3.Row]:
    """The conversation's row and the message a reply answers: the customer's last."""
    conv, messages = await conversation_mail(desk, conv_id, "has no messages to reply to")
    customer_mail = [m for m in messages if not m["is_agent"] and not m["auto_submitted"]]
    return conv, (customer_mail or messages)[-1]


async def fill_preview(desk: "DeskCore", conv_id: int, body_markdown: str) -> list[Fill]:
    """Each placeholder of `body_markdown` with the value a reply to the conversation sent now
    fills it with (the compose box shows it: desk.snippets.Fill), or why it has none."""
    conv, original = await _conversation_and_original(desk, conv_id)
    values = _values(desk, conv, original, body_markdown, await measured_values(desk, conv_id, body_markdown))
    return fills(body_markdown, values, set(capture_names(desk.snippets())))


def _values(desk: "DeskCore", conv: Keyed, original: Keyed, body_markdown: str,
            extra_values: dict[str, str] | None) -> dict[str, str]:
    """What a reply's placeholders are filled with (and fill_preview shows)."""
    values = placeholder_values(desk, conv, original["sender_name"], original["sender_addr"])
    # {{order_number}}-style values a snippet's `capture` finds in the mail answered
    values.update(captured_values(desk.snippets(), body_markdown, original["body"] or ""))
    values.update(extra_values or {})
    return values


def _filled(desk: "DeskCore", conv: sqlite3.Row, original: sqlite3.Row, body_markdown: str, extra_values: dict[str, str] | None,
            what: str, allow_empty: bool = False) -> tuple[str, str]:
    """(the Markdown, the text/plain part): placeholders filled, escaped in the Markdown so a
    customer's name such as "[Verify](https://evil.example)" is text there, never a link."""
    if (separator := outbox.kept_separator_in(body_markdown)) is not None:
        # two texts the agent has not chosen between yet (outbox.save_draft): never both to the customer
        raise CommandError(f"the {what} still holds a draft kept below it: delete the line "
                           f"\"{separator}\" and what you do not send")
    values = _values(desk, conv, original, body_markdown, extra_values)
    plain, unknown = fill(body_markdown, values)
    if unknown:
        # why each has no value (the compose box's Fills line says it in full), and what to do
        why = {f.name: f.why.split(":")[0] for f in fills(body_markdown, values, set(capture_names(desk.snippets())))}
        names = ", ".join("{{" + u + "}}" + (f" ({why[u]})" if why.get(u) else "") for u in unknown)
        raise CommandError(f"fill these before sending: {names}; write the value in its place in the text")
    if not plain.strip() and not allow_empty:
        raise CommandError(f"the {what} is empty")
    text, _ = fill(body_markdown, {k: escape_markdown(v) for k, v in values.items() if v is not None})
    # the text part's links read as words and address: those the agent wrote, never a value's
    # (filled in after, as it is)
    plain, _ = fill(plain_text(body_markdown), values)
    return text, plain


async def _queue(desk: "DeskCore", account: AccountConfig, conv_id: int, out: Outgoing, body_markdown: str,
                 send_at: int | None, seen_upto: int | None, *, reply_all: bool, clears_draft: bool,
                 event: tuple[str, dict[str, Any]], message_id: str | None = None) -> QueuedReply:
    """`event`: the history event's kind and data; it becomes history when the item is sent."""
    message_id = message_id or new_message_id(account.address.rpartition("@")[2])
    try:
        raw = build_message(out, message_id)
    except ComposeError as e:
        raise CommandError(str(e)) from None
    recipients = [a.addr for a in out.to + out.cc]
    when = send_at if send_at is not None else desk.now() + account.undo_send_seconds
    store = desk.store
    async with store.transaction():
        if seen_upto is None:
            seen_upto = await outbox.newest_message(store, conv_id)
        item_id = await outbox.add(store, account=account.name, conv_id=conv_id, message_id=message_id, raw=raw,
                                   mail_from=account.address, recipients=recipients, body_markdown=body_markdown,
                                   send_at=when, reply_all=reply_all, seen_upto=seen_upto, created_at=desk.now(),
                                   sent_markdown=out.body_markdown)  # the conversation shows it (desk.render)
        if clears_draft:
            await outbox.delete_draft(store, conv_id)
        kind, data = event
        await record_message(desk, conv_id, kind, {"message_id": message_id, **data}, outbox_id=item_id)
    return QueuedReply(item_id, message_id, recipients, when)


async def cancel_send(desk: "DeskCore", outbox_id: int, *, to_draft: bool = True) -> str:
    """Undo a send that has not started: the text goes back to the conversation's draft. A
    draft written there since (the agent's next words) is kept below it (outbox.save_draft),
    and the line says so. to_draft=False: the text goes nowhere (a bulk follow-up's mail:
    desk.followup.cancel_send)."""
    kept: outbox.KeptDraft | None = None
    async with desk.store.transaction():  # the sender takes items under the same lock: no race
        item = await outbox.get(desk.store, outbox_id)
        if item is None:  # undone, discarded or gone: Desk.cancel_send names which when it knows
            window = max((a.undo_send_seconds for a in desk.config.accounts), default=0)
            raise CommandError(f"nothing sent in the last {window} s to undo" if window
                               else "nothing in the outbox to undo")
        what = f"the reply to #{item.conv_id}" if item.conv_id is not None else f"outbox #{outbox_id}"
        if item.state in ("sent", "done"):  # the row stays: this is said after a restart too
            went = f" (sent {desk.clock_text(item.sent_at)})" if item.sent_at is not None else ""
            raise CommandError(f"{what} has gone{went}")
        if item.state not in ("queued", *outbox.NEEDS_AGENT):
            raise CommandError(f"{what} is going out now: too late to undo")
        if item.conv_id is not None and to_draft:
            kept = await outbox.save_draft(desk.store, item.conv_id, item.body_markdown, item.reply_all,
                                           now=desk.now(), label=lambda at: draft_name(desk, at))
        await outbox.remove(desk.store, outbox_id)
    if not to_draft:
        return f"send cancelled; the reply to #{item.conv_id} is gone"
    said = (f"Reply to #{item.conv_id}" if item.conv_id is not None else f"Outbox #{outbox_id}") + \
        " cancelled: back in the draft"
    if kept is not None:
        said += f"; {draft_name(desk, kept.updated_at)} is kept below it"
    return said


def draft_name(desk: "DeskCore", updated_at: int) -> str:
    """"your draft of Dec 7 09:02": a draft kept below a reply that came back, by when it was saved."""
    local_now = desk.local_now()
    return f"your draft of {format_datetime_short(dt.datetime.fromtimestamp(updated_at, local_now.tzinfo), local_now)}"


async def still_going(desk: "DeskCore", conv_ids: list[int]) -> str:
    """"; its reply still goes Dec 8 09:00 (O cancels it)": closing a conversation leaves its
    queued or scheduled reply in the outbox. No question asked (nothing is lost: the reply goes
    as written, or O cancels it back to the draft), but the agent closing is told."""
    wanted = set(conv_ids)
    going = [i for i in await outbox.items(desk.store, ("queued",)) if i.conv_id in wanted]
    if not going:
        return ""
    if len(going) > 1:
        return f"; {len(going)} replies to them still go (O cancels them)"
    local_now = desk.local_now()
    when = format_datetime_short(dt.datetime.fromtimestamp(going[0].send_at, local_now.tzinfo), local_now)
    whose = "its" if len(wanted) == 1 else f"#{going[0].conv_id}'s"
    return f"; {whose} reply still goes {when} (O cancels it)"


async def _waiting_for_agent(desk: "DeskCore", outbox_id: int) -> outbox.OutboxItem:
    """The outbox item, if it waits for the agent's decision (outbox.NEEDS_AGENT)."""
    item = await outbox.get(desk.store, outbox_id)
    if item is None or item.state not in outbox.NEEDS_AGENT:
        raise CommandError(f"outbox item {outbox_id} is not held, failed or 'maybe sent'")
    return item


async def send_anyway(desk: "DeskCore", outbox_id: int) -> str:
    """A held, failed or 'maybe sent' reply goes out (again): the agent has looked and decided."""
    async with desk.store.transaction():
        item = await _waiting_for_agent(desk, outbox_id)
        seen = await outbox.newest_message(desk.store, item.conv_id) if item.conv_id is not None else None
        await outbox.release(desk.store, outbox_id, seen)
    return f"sending #{outbox_id} to {sanitize_line(', '.join(item.recipients))}"


async def send_now(desk: "DeskCore", outbox_id: int) -> str:
    """A scheduled (or retrying) reply is due now; the outbox sends it on its next pass, with the
    usual collision check. Held, failed or 'maybe sent' ones need send_anyway."""
    async with desk.store.transaction():
        item = await outbox.get(desk.store, outbox_id)
        if item is None or not await outbox.due_now(desk.store, outbox_id, desk.now()):
            raise CommandError(f"outbox item {outbox_id} is not waiting to be sent" if item
                               else "no such message in the outbox")
    return f"sending #{outbox_id} to {', '.join(item.recipients)} now"


async def discard_send(desk: "DeskCore", outbox_id: int) -> str:
    async with desk.store.transaction():
        await _waiting_for_agent(desk, outbox_id)
        await outbox.remove(desk.store, outbox_id)
    return f"discarded #{outbox_id}"
