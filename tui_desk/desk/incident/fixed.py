"""Plan B (desk.incident): the client of the agent who resolved it (`send_fixes`, after its next
sync pass, or `tui-desk incident resolve` at once) queues the fixed snippet to every
conversation of the round (record.members: tagged `incident-<name>`, less those an earlier
round of the name sent its fixed mail to), one mail per customer (desk.per_customer, the
follow-up's grouping: their most recent open conversation carries it, the others get a note
with a derived Message-ID), each customer claimed on the server first (sync.claims:
`td:incident:<name>.<round>.<agent>` on the oldest customer mail of their conversations, then
`td:incident-done:<name>.<round>` on each conversation's oldest customer mail; <round>:
record.round_code, so a name used again is a mark of its own), so two clients resolving, or one
restarted after a crash, never send it twice. The keyword of the versions without a round,
`td:incident-done:<name>`, still means done. The mails wait the account's undo window
(cancellable in the outbox) and go SPACING seconds apart; each is an `autoreply` event
(Auto-Submitted: auto-replied; the first response time keeps running) that does not count toward
the hourly cap of automatic replies (a person's deliberate send:
desk.rules.execute.earlier_autoreplies). Mail the loop guards protect (a list, a bounce) gets
none. With `close`, each conversation is closed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tui_desk.desk import per_customer
from tui_desk.desk.commands import CommandError
from tui_desk.desk.incident.record import (
    Incident, claim_keywords, incidents, legacy_done, members, message_id,
)
from tui_desk.desk.rules.model import Event
from tui_desk.store import events as store_events
from tui_desk.sync.claims import ClaimSession, Copy

if TYPE_CHECKING:
    from tui_desk.desk.core import DeskCore as Desk  # the core its work needs (desk.core)

SPACING = 2  # seconds between two "it's fixed" mails: a hundred customers are not one burst


@dataclass(frozen=True)
class Fix:
    """Plan B for one conversation, as resolving would send it."""
    conv_id: int
    subject: str
    to: tuple[str, ...]
    held: str | None  # why it gets none (a loop guard), else None
    customer: str = ""  # the conversation's customer_key ("": none known, a customer of its own)
    told_in: int | None = None  # the conversation whose mail reaches this customer, when another

    @property
    def state(self) -> str:
        """new (carries its customer's mail) | covered (a note: the mail goes in told_in) | held"""
        return "held" if self.held is not None else "covered" if self.told_in is not None else "new"


@dataclass(frozen=True)
class Mail:
    """One customer's 'fixed' mail: the conversation carrying it and those it answers too."""
    carrier: Fix
    covers: tuple[int, ...]


def mails(fixes: Sequence[Fix]) -> list[Mail]:
    """The plan's mails, by carrying conversation (a carrier that is held or gone: none)."""
    carriers = {f.conv_id: f for f in fixes if f.state == "new"}
    return [Mail(c, tuple(f.conv_id for f in fixes if f.told_in == c.conv_id)) for c in carriers.values()]


def summary(fixes: Sequence[Fix]) -> str:
    """`2 customers (3 conversations)`: who gets a mail, and the conversations it answers."""
    found = mails(fixes)
    return per_customer.summary(len(found), sum(1 + len(m.covers) for m in found))


def fix_lines(fixes: Sequence[Fix]) -> list[tuple[str, str]]:
    """(state, sanitized line) for a terminal: one line per customer (address, the carrying #,
    the covered #s, the subject), then one per held conversation."""
    from tui_desk.sanitize import sanitize_line
    out = []
    found = mails(fixes)
    carrying = {m.carrier.conv_id for m in found}
    for m in found:
        to = ", ".join(m.carrier.to) or "-"
        also = f"  (also answers {', '.join(f'#{c}' for c in m.covers)}: a note there)" if m.covers else ""
        out.append(("new", sanitize_line(f"{to}  #{m.carrier.conv_id}  {m.carrier.subject}{also}")))
    for f in fixes:
        if f.state == "held":
            out.append(("held", sanitize_line(f"#{f.conv_id}  {', '.join(f.to) or '-'}  held: {f.held}")))
        elif f.state == "covered" and f.told_in not in carrying:
            out.append(("covered", sanitize_line(f"#{f.conv_id}  {f.customer}  had it in #{f.told_in}")))
    return out


async def plan_b(desk: Desk, incident: Incident) -> list[Fix]:
    """Who gets what when the incident is resolved (`incident resolve --dry-run`)."""
    from tui_desk.desk.replies import reply_headers
    from tui_desk.desk.rules.facts import gather_many
    ids = await members(desk, incident)
    facts = await gather_many(desk, [], [Event("customer-reply", cid, desk.now()) for cid in ids])
    out: list[Fix] = []
    for cid, conv in zip(ids, facts):
        try:
            head = await reply_headers(desk, cid)
        except CommandError as e:
            out.append(Fix(cid, "", (), str(e)))
            continue
        held = conv.autoreply_block if conv is not None else "no such conversation"
        if not head.to and held is None:
            held = "nobody to write to"
        out.append(Fix(cid, str(head.subject), tuple(a.addr for a in head.to), held))
    return await _one_per_customer(desk, incident, out)


async def _one_per_customer(desk: Desk, incident: Incident, fixes: list[Fix]) -> list[Fix]:
    """desk.per_customer's grouping: one 'fixed' mail per customer, in the conversation this
    round's went in before (a crash, a teammate's client), else their most recent open one."""
    facts = await per_customer.conversations(desk, [f.conv_id for f in fixes])
    fixes = [replace(f, customer=facts[f.conv_id].customer) if f.conv_id in facts else f for f in fixes]
    customer_of = {f.conv_id: f.customer for f in fixes}
    before: dict[str, int] = {}
    for found in await store_events.of_kind_since(desk.store, "autoreply", incident.started_at):
        d = found.event.data
        if d.get("incident") == incident.name and d.get("plan") == "fixed" and customer_of.get(found.conv_id or -1):
            before.setdefault(customer_of[found.conv_id or -1], found.conv_id or -1)
    told_in = per_customer.covered_by([(f.conv_id, f.customer) for f in fixes if f.held is None], facts, before)
    return [replace(f, told_in=told_in[f.conv_id]) if f.conv_id in told_in else f for f in fixes]


def _meta_key(incident: Incident, account: str) -> str:
    return f"incident:{hashlib.sha256(incident.round_id.encode()).hexdigest()[:16]}:fixed:{account}"


async def pending_fixes(desk: Desk, account: str = "") -> list[Incident]:
    """Incidents this agent resolved whose plan B this client has not finished queueing (for
    the conversations of `account`; "": a desk without a server)."""
    out = []
    for incident in await incidents(desk):
        if incident.resolved_by == desk.agent and not await desk.store.get_meta(_meta_key(incident, account)):
            out.append(incident)
    return out


async def send_fixes(desk: Desk, session: ClaimSession | None) -> list[str]:
    """Plan B of every incident this agent resolved and this client has not done yet: each
    conversation claimed on the server first (`session`; None: a desk without a server, alone),
    queued through the outbox, closed when asked. What the conversations say, in order. With
    several accounts each account's pass does the conversations whose mail it holds."""
    said: list[str] = []
    account = session.account if session is not None else ""
    for incident in await pending_fixes(desk, account):
        said += await _fix(desk, incident, session)
        async with desk.store.transaction():
            await desk.store.set_meta(_meta_key(incident, account), str(desk.now()))
    return said


def note_message_id(incident: Incident, anchor: str) -> str:
    """The one Message-ID of the note the round leaves in the conversation anchored at `anchor`
    when its customer's 'fixed' mail goes in another: the same on every client."""
    from tui_desk.mail.model import NOTE_DOMAIN
    digest = hashlib.sha256(f"{incident.round_id}\n{anchor}".encode()).hexdigest()[:32]
    return f"incident-note.{digest}@{NOTE_DOMAIN}"


def _groups(fixes: Sequence[Fix]) -> list[list[Fix]]:
    """The fixes one customer's mail settles together (the carrier first), by carrying
    conversation; a held one or one without a customer alone."""
    by_carrier: dict[int, list[Fix]] = {}
    for f in sorted(fixes, key=lambda f: f.told_in is not None):
        by_carrier.setdefault(f.told_in if f.told_in is not None else f.conv_id, []).append(f)
    return [by_carrier[k] for k in sorted(by_carrier)]


async def _fix(desk: Desk, incident: Incident, session: ClaimSession | None) -> list[str]:
    """Plan B, customer by customer: with a server the group's lead copy (its oldest customer
    mail: the same pick on every client) is claimed first, so one client settles a customer
    whichever of their conversations it would carry the mail in; then the carrier's mail, the
    notes of the others, the closes, and the done mark on each copy of the group. A crash
    between them: the claim is this client's still, and the mail and notes have derived
    Message-IDs (no second one)."""
    from tui_desk.desk import commands
    from tui_desk.desk.rules.execute import auto_reply, record_rule_line
    fixes = await plan_b(desk, incident)
    keys = claim_keywords(incident, desk.agent)
    copies: dict[int, Copy] = {}
    if session is not None:
        for found in await session.copies(0):  # the conversation's oldest customer mail: one for all
            best = copies.get(found.conv_id)
            if best is None or _order(found) < _order(best):
                copies[found.conv_id] = found
    when = desk.now() + (desk.config.accounts[0].undo_send_seconds if desk.config.accounts else 0)
    said: list[str] = []
    for group in _groups(fixes):
        held_copies = [copies[f.conv_id] for f in group if f.conv_id in copies]
        if session is not None:
            if not held_copies:
                continue  # not on this server
            lead = min(held_copies, key=_order)
            if legacy_done(incident) in {f.lower() for f in lead.flags} or not await session.claim(lead, keys):
                continue  # a teammate's client has it
        carrier_done = True
        for fix in group:
            if fix.state == "covered":
                says = await _covered(desk, incident, fix, group[0]) if carrier_done else (
                    f"{incident.label} held its 'fixed' mail: its customer's in #{fix.told_in} was not queued")
            elif fix.held is not None:
                says = f"{incident.label} held its 'fixed' mail: {fix.held}"
                carrier_done = False
            else:
                queued, held = await auto_reply(
                    desk, fix.conv_id, incident.fixed,
                    message_id(desk, f"{incident.round_id}\nfixed\n{fix.conv_id}"),
                    {"rule": incident.label, "incident": incident.name, "plan": "fixed"}, rate_limited=False,
                    values={"incident": incident.title}, send_at=when)
                says = (f"{incident.label} held its 'fixed' mail: {held}" if held is not None else
                        f"{incident.label} resolved: replied with snippet '{incident.fixed}'" if queued else "")
                carrier_done = held is None
                if queued:
                    when += SPACING
            if incident.close:
                try:
                    change = await commands.set_status(desk, [fix.conv_id], "closed", by="incident")
                    if change in desk.undo_stack:
                        desk.undo_stack.remove(change)
                except CommandError as e:
                    says = (says + "; " if says else "") + f"could not close it: {e}"
            if says:
                await record_rule_line(desk, fix.conv_id, incident.label, says)
                said.append(says)
        if session is not None:
            for copy in held_copies:
                await session.done(copy, keys)
    return said


def _order(copy: Copy) -> tuple[int, str, str]:
    return copy.date or 0, copy.message_id, copy.folder


async def _covered(desk: Desk, incident: Incident, fix: Fix, carrier: Fix) -> str:
    """The note of a conversation whose customer gets the 'fixed' mail in another (added once:
    its Message-ID is derived; a teammate's synced copy counts); what the conversation says."""
    from tui_desk.desk.notes import add_note
    anchors = await store_events.anchors(desk.store, [fix.conv_id])
    if fix.conv_id not in anchors:
        return f"{incident.label} held its 'fixed' mail: no conversation {fix.conv_id} with mail"
    message_id = note_message_id(incident, anchors[fix.conv_id])
    says = f"{incident.label} resolved: its customer gets '{incident.fixed}' in #{fix.told_in}"
    if await desk.store.fetchone("SELECT 1 FROM messages WHERE message_id = ?", (message_id,)) is not None:
        return ""
    to = ", ".join(carrier.to) if carrier.conv_id == fix.told_in and carrier.to else fix.customer
    try:
        await add_note(desk, fix.conv_id, f"Incident '{incident.title}' is fixed: '{incident.fixed}' goes to {to} "
                       f"in #{fix.told_in}, not here: one mail per customer.", message_id=message_id)
    except CommandError as e:
        return f"{incident.label} could not note #{fix.conv_id}: {e}"
    return says


async def fixed_mail_label(desk: Desk, message_id: str) -> str | None:
    """The incident's label ("incident 'Payments failing'") when the mail with this Message-ID
    is plan B's (its `autoreply` event says so, while the mail is in the outbox), else None.
    Cancelled, it goes to no draft (desk.followup.cancel_send): a draft sent by hand and the
    incident run again (a round sends to the conversations that had no 'fixed' mail) would mail
    the customer twice."""
    event = await store_events.naming_message(desk.store, message_id)
    if event is None or event.kind != "autoreply" or event.data.get("plan") != "fixed" or not event.data.get("incident"):
        return None
    return str(event.data.get("rule") or f"incident '{event.data['incident']}'")
