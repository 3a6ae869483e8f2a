"""The outbox as the app shows it: each reply's row (who gets it, its subject, when it goes), in
the order they go, and one reply as the customer gets it.

What a reply says was fixed when it was queued (desk.replies: placeholders filled with
`_values`, the mail built): shown here from the queued mail itself and the Markdown it was made
from (store.outbox.sent_markdown), rendered as the conversation shows a sent reply
(desk.render.as_sent). Nothing is filled a second time.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from tui_desk.desk.commands import CommandError
from tui_desk.desk.render import addresses_text, as_sent
from tui_desk.desk.views import OutboxEntry, OutboxMail
from tui_desk.mail.model import Address
from tui_desk.sanitize import sanitize, sanitize_line
from tui_desk.store import outbox
from tui_desk.sync.delivery import HELD_ADVICE, NEEDS_A_FIX
from tui_desk.sync.parse_worker import parse_safely

if TYPE_CHECKING:
    from tui_desk.desk.core import DeskCore

UTC = dt.timezone.utc
GOING = ("sending", "sent")  # on their way now


def going_order(entry: OutboxEntry) -> tuple[int, dt.datetime, int]:
    """The outbox's order: what is going now, then the queued ones by when each goes (a retrying
    one at its next try), then those that wait for the agent (held, failed, maybe sent)."""
    if entry.state in GOING:
        return 0, entry.send_at, entry.id
    if entry.state == "queued":
        return 1, entry.due, entry.id
    return 2, entry.send_at, entry.id


def _stamp(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, UTC)


def customer_of(to: list[Address], cc: list[Address], recipients: list[str]) -> str:
    """Who gets it, short: the first To's name (else its address), "+2" for the others."""
    everyone = to + cc
    if not everyone:
        return sanitize_line(", ".join(recipients))
    first = everyone[0]
    more = f" +{len(everyone) - 1}" if len(everyone) > 1 else ""
    return sanitize_line(first.name or first.addr) + more


async def entries(desk: "DeskCore") -> list[OutboxEntry]:
    """Replies not yet done, in going_order. `mine`: no other agent's event names it (two
    agents' apps may share one store)."""
    items = await outbox.items(desk.store)
    agents = await outbox.agents(desk.store, [i.id for i in items])
    me = desk.config.agent.casefold()
    found = []
    for i in items:
        head, _ = parse_safely(i.raw, "header")  # the queued mail's own headers: a few lines
        error = i.last_error.removesuffix(HELD_ADVICE) if i.last_error else None  # the outbox says what to do
        found.append(OutboxEntry(
            i.id, i.conv_id, tuple(sanitize_line(r) for r in i.recipients), i.state, _stamp(i.send_at),
            sanitize_line(error) if error else None, i.attempts, _stamp(i.next_try) if i.next_try else None,
            agents.get(i.id, desk.config.agent).casefold() == me,
            subject=sanitize_line(head.subject), customer=customer_of(head.to, head.cc, i.recipients),
            needs_fix=i.state == "queued" and (i.last_error or "").startswith(NEEDS_A_FIX)))
    return sorted(found, key=going_order)


async def mail(desk: "DeskCore", outbox_id: int) -> OutboxMail:
    """The reply as the customer gets it: its To, Cc and Subject, and its text as rendered from
    the Markdown it was queued with (placeholders filled then); a reply queued before the store
    kept that Markdown (schema 16) shows its text/plain part."""
    item = await outbox.get(desk.store, outbox_id)
    if item is None:
        raise CommandError("this reply is no longer in the outbox")
    parsed, _ = parse_safely(item.raw)
    markdown = (await outbox.sent_markdown(desk.store, [item.message_id])).get(item.message_id)
    text = as_sent(markdown) if markdown is not None else parsed.text
    return OutboxMail(
        to=addresses_text((a.name, a.addr) for a in parsed.to),
        cc=addresses_text((a.name, a.addr) for a in parsed.cc),
        subject=sanitize_line(parsed.subject),
        text=sanitize(text).strip("\n"),
        attachments=tuple(sanitize_line(a.filename or a.content_type) for a in parsed.attachments))
