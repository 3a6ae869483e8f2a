"""Bulk follow-up: one personalised reply from a snippet to each customer of the conversations a
search (or the agent's selection in the app) names, through the outbox (undo window, collision
check, crash recovery: sync.delivery).

- One mail per customer (the grouping is desk.per_customer, shared with an incident's mails):
  the customer is the conversation's customer_key (the normalized address customer history and
  priority use). Their mail goes in their most recent open conversation among those named
  (else their most recent one) that can take it; the others
  get an internal note saying so (`covered`, then `noted`), with a Message-ID derived like the
  reply's, so it is added once. A customer the follow-up reached before, in any of their
  conversations, gets no second mail: the named conversations get the note.

- Never twice to one conversation: each reply's Message-ID is derived from the follow-up's id
  (by default the snippet's name) and the conversation's anchor (the Message-ID of its first
  mail: the same on every teammate's desk). One already in the outbox (in any state, done too)
  or among the stored mail (its copy synced from Sent, a teammate's) is not queued again, and
  the outbox refuses a second row with one Message-ID anyway.
- A cancelled mail is no follow-up sent: a covered conversation counts as done only while its
  customer's mail is in the outbox or among the stored mail. Cancelling (or discarding) the
  mail in the outbox (Desk.cancel_send and discard_send call `mail_cancelled`) leaves a note beside each note that
  named it, saying it was cancelled and the customer got nothing; the next run sends the mail
  and notes those conversations anew (the note of round k+1 once round k's was cancelled).
  Its text goes to no draft (`cancel_send`): the follow-up run again is what sends it, and a
  draft sent by hand besides would mail the customer twice.
- Resumable: each reply is queued in its own transaction with its `reply` event
  (data: "followup": the id), and the notes follow the replies; after a kill -9 the same command
  again queues the missing ones, nothing twice, notes the rest, then tags and sets the status of
  them all.
- Throttled: [followup] per_minute. The replies' send times are spaced 60/per_minute seconds,
  after the undo window and after the follow-up mail still waiting in the outbox; the outbox
  sends each when it is due. Nothing sleeps.
- The dry run is `plan`: the run queues exactly what it lists (headers by
  desk.replies.reply_headers, the text filled with the values desk.replies fills it with).
- Not to list senders and machines: a conversation whose customer mail the automatic replies'
  guards protect (desk.rules.guards: a mailing list, Precedence: bulk, a noreply sender…) is
  skipped, with the guard's reason, in the dry run and the run alike.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from tui_desk.desk import per_customer
from tui_desk.desk.commands import CommandError
from tui_desk.desk.snippets import auto_only_refusal
from tui_desk.desk.views import FollowupLine, Snippet
from tui_desk.desk.wording import counted
from tui_desk.mail.model import NOTE_DOMAIN
from tui_desk.sanitize import sanitize_line

if TYPE_CHECKING:
    from tui_desk.config import AccountConfig
    from tui_desk.desk.core import DeskCore as Desk  # the core its work needs (desk.core)

MESSAGE_ID_PREFIX = "followup."
NOTE_PREFIX = "followup-note."


@dataclass(frozen=True)
class FollowupItem:
    """What one conversation gets. Strings are as they will be sent: sanitize to show them."""
    conv_id: int
    message_id: str  # derived: the same on every run
    to: tuple[str, ...] = ()
    subject: str = ""
    first_line: str = ""  # of the filled text
    done: bool = False  # queued or sent before (or noted: its customer had it in another)
    problem: str | None = None  # why it gets none (a placeholder this conversation cannot fill…)
    customer: str = ""  # the conversation's customer_key ("": none known, a customer of its own)
    told_in: int | None = None  # the conversation whose mail reaches this customer, when another

    @property
    def state(self) -> str:
        return ("already" if self.done else "skipped" if self.problem else
                "covered" if self.told_in is not None else "new")

    def line(self) -> str:
        """One line for a terminal: `#12  ann@x.test  Re: Dark mode? [#12]  Hi Ann, …`."""
        to = sanitize_line(', '.join(self.to))
        if self.done:
            where = f", in #{self.told_in}" if self.told_in is not None else ""
            return f"#{self.conv_id}  already sent ({to or 'this follow-up'}{where})"
        if self.problem:
            return f"#{self.conv_id}  skipped: {sanitize_line(self.problem)}"
        if self.told_in is not None:
            return (f"#{self.conv_id}  {sanitize_line(self.customer)}  gets it in #{self.told_in} "
                    "(one mail per customer)")
        return (f"#{self.conv_id}  {to}  {sanitize_line(self.subject)}  "
                f"{sanitize_line(self.first_line)}")


@dataclass(frozen=True)
class Plan:
    followup_id: str
    snippet: Snippet
    items: tuple[FollowupItem, ...]

    @property
    def new(self) -> list[FollowupItem]:
        """The mails: one per customer."""
        return [i for i in self.items if i.state == "new"]

    @property
    def covered(self) -> list[FollowupItem]:
        """The conversations whose customer the follow-up reaches in another: a note each."""
        return [i for i in self.items if i.state == "covered"]

    def summary(self) -> str:
        """`2 customers (3 conversations)`: who gets a mail, and the conversations it answers."""
        return per_customer.summary(len(self.new), len(self.new) + len(self.covered))


@dataclass
class Outcome:
    plan: Plan
    queued: list[tuple[FollowupItem, int, int]] = field(default_factory=list)  # (item, outbox id, send_at)
    skipped: list[FollowupItem] = field(default_factory=list)  # a problem, before or while queueing
    already: list[FollowupItem] = field(default_factory=list)
    noted: list[FollowupItem] = field(default_factory=list)  # its customer's mail went in another
    state_done: str = ""  # what tagging / the status change said

    def line(self) -> str:
        n = len(self.queued)
        text = f"follow-up '{sanitize_line(self.plan.followup_id)}': queued {n} repl{'y' if n == 1 else 'ies'}"
        if self.noted:
            text += f", {counted(len(self.noted), 'conversation')} noted (one mail per customer)"
        if self.already:
            text += f", {len(self.already)} already sent"
        if self.skipped:
            text += f", {len(self.skipped)} skipped"
        return text + (f"; {self.state_done}" if self.state_done else "")


def find_snippet(desk: Desk, name: str) -> Snippet:
    """The snippet an agent's reply or follow-up (`reply --snippet`, `followup`, F) sends; an
    auto-only one (desk.snippets) is refused: the desk sends those by itself, filled as only it can."""
    snippet = next((s for s in desk.snippets() if s.name == name), None)
    if snippet is None:
        raise CommandError(f"no snippet '{name}'")
    if snippet.auto:
        raise CommandError(auto_only_refusal(name))
    return snippet


def derived_message_id(followup_id: str, anchor: str, domain: str) -> str:
    """The one Message-ID follow-up `followup_id` has in the conversation anchored at `anchor`."""
    fid = hashlib.sha256(followup_id.encode()).hexdigest()[:12]
    conv = hashlib.sha256(f"{followup_id}\n{anchor}".encode()).hexdigest()[:24]
    return f"{MESSAGE_ID_PREFIX}{fid}.{conv}@{domain}"


def note_message_id(followup_id: str, anchor: str) -> str:
    """The one Message-ID of the note follow-up `followup_id` leaves in the conversation anchored
    at `anchor` when its customer's mail goes in another."""
    return derived_message_id(followup_id, anchor, NOTE_DOMAIN).replace(MESSAGE_ID_PREFIX, NOTE_PREFIX, 1)


CANCELLED_PREFIX = "followup-cancelled."


def _round_note_id(followup_id: str, anchor: str, round_no: int) -> str:
    """The note's Message-ID in round `round_no`: 0 is note_message_id; a later round (the mail of
    the one before was cancelled) keeps the follow-up's part, so the cancel finds every round."""
    if round_no == 0:
        return note_message_id(followup_id, anchor)
    fid = hashlib.sha256(followup_id.encode()).hexdigest()[:12]
    conv = hashlib.sha256(f"{followup_id}\n{anchor}\n{round_no}".encode()).hexdigest()[:24]
    return f"{NOTE_PREFIX}{fid}.{conv}@{NOTE_DOMAIN}"


def cancelled_note_id(note_id: str) -> str:
    """The one Message-ID of the note that says the mail note `note_id` named was cancelled."""
    return f"{CANCELLED_PREFIX}{hashlib.sha256(note_id.encode()).hexdigest()[:36]}@{NOTE_DOMAIN}"


async def _current_note(desk: Desk, followup_id: str, anchor: str) -> str:
    """The Message-ID of the conversation's note for this round of the follow-up: the first round
    whose note is not there yet or was not cancelled."""
    round_no = 0
    while True:
        note_id = _round_note_id(followup_id, anchor, round_no)
        cancelled = cancelled_note_id(note_id)
        if await _known(desk, [note_id, cancelled]) != {note_id, cancelled}:
            return note_id
        round_no += 1


def _account(desk: Desk, account: AccountConfig | None) -> AccountConfig:
    return account or desk.config.account(None)


async def _known(desk: Desk, message_ids: list[str]) -> set[str]:
    """Which of these Message-IDs the outbox has (in any state) or the store holds as mail."""
    rows = await desk.store.fetchall(
        "SELECT message_id FROM outbox WHERE message_id IN (SELECT value FROM json_each(?1))"
        " UNION SELECT message_id FROM messages WHERE message_id IN (SELECT value FROM json_each(?1))",
        (json.dumps(message_ids),))
    return {r[0] for r in rows}


async def _filled_first_line(desk: Desk, conv_id: int, body: str,
                             account: AccountConfig) -> tuple[tuple[str, ...], str, str]:
    """(To, Subject, first line of the text) of the reply desk.replies.queue_reply would queue;
    CommandError when it would refuse (nobody to reply to, a placeholder it cannot fill)."""
    from tui_desk.desk.replies import reply_text
    head, _, plain = await reply_text(desk, conv_id, body, account=account)
    first = next((line.strip() for line in plain.splitlines() if line.strip()), "")
    return tuple(a.addr for a in head.to), head.subject, first


async def plan(desk: Desk, conv_ids: Sequence[int], snippet_name: str, followup_id: str | None = None,
               account: AccountConfig | None = None) -> Plan:
    """Who gets what, conversation by conversation (ascending ids): the dry run. One `new`
    conversation per customer carries their mail; their others are `covered` by it."""
    from tui_desk.store import events as store_events
    snippet = find_snippet(desk, snippet_name)
    followup_id = followup_id or snippet.name
    account = _account(desk, account)
    domain = account.address.rpartition("@")[2]
    ids = sorted(set(conv_ids))
    facts = await per_customer.conversations(desk, ids)
    theirs = await per_customer.customers_conversations(desk, {f.customer for f in facts.values() if f.customer})
    anchors = await store_events.anchors(desk.store, set(ids) | set(theirs))
    mids = {cid: derived_message_id(followup_id, anchor, domain) for cid, anchor in anchors.items()}
    notes = {cid: await _current_note(desk, followup_id, anchors[cid]) for cid in ids if cid in anchors}
    known = await _known(desk, [*mids.values(), *notes.values()])
    told: dict[str, int] = {}  # customer -> the conversation their mail went in, before this run
    for cid, customer in sorted(theirs.items()):
        if cid in mids and mids[cid] in known:
            told.setdefault(customer, cid)
    blocks = await _guarded(desk, [cid for cid in ids if cid in mids])
    items: list[FollowupItem] = []
    for cid in ids:
        if cid not in mids:
            items.append(FollowupItem(cid, "", problem=f"no conversation {cid} with mail"))
            continue
        customer = facts[cid].customer
        # noted counts while the mail it names is there: a cancelled one reached nobody
        done = mids[cid] in known or (notes[cid] in known and customer in told)
        elsewhere = told.get(customer) if customer and told.get(customer) != cid and mids[cid] not in known else None
        if cid in blocks and not done:
            items.append(FollowupItem(cid, mids[cid], problem=f"a sender automatic replies skip: {blocks[cid]}",
                                      customer=customer))
            continue
        try:
            to, subject, first = await _filled_first_line(desk, cid, snippet.body, account)
        except CommandError as e:
            items.append(FollowupItem(cid, mids[cid], done=done, problem=str(e), customer=customer,
                                      told_in=elsewhere if done else None))
            continue
        items.append(FollowupItem(cid, mids[cid], to, subject, first, done=done, customer=customer,
                                  told_in=elsewhere))
    return Plan(followup_id, snippet, tuple(_one_per_customer(items, facts)))


def _one_per_customer(items: list[FollowupItem],
                      facts: dict[int, per_customer.CustomerConversation]) -> list[FollowupItem]:
    """The `new` conversations of one customer: the carrier stays new, the others are covered by
    it (all of them, when the customer's mail went in another conversation before)."""
    wanting = [i for i in items if i.state in ("new", "covered")]
    before: dict[str, int] = {}
    for i in wanting:
        if i.customer and i.told_in is not None:
            before.setdefault(i.customer, i.told_in)
    told_in = per_customer.covered_by([(i.conv_id, i.customer) for i in wanting], facts, before)
    return [dataclasses.replace(i, told_in=told_in[i.conv_id]) if i.conv_id in told_in else i for i in items]


async def _guarded(desk: Desk, conv_ids: list[int]) -> dict[int, str]:
    """conversation -> why the automatic replies' guards would not answer its customer mail (a
    list, a bulk or machine sender), for those they protect: a bulk send skips them too."""
    from tui_desk.desk.rules.facts import gather_many
    from tui_desk.desk.rules.model import Event
    now = desk.now()
    facts = await gather_many(desk, [], [Event("customer-reply", cid, now) for cid in conv_ids])
    return {cid: f.autoreply_block for cid, f in zip(conv_ids, facts) if f is not None and f.autoreply_block}


async def _last_queued_send_at(desk: Desk) -> int | None:
    """When the last follow-up mail still waiting in the outbox is due (every follow-up's)."""
    row = await desk.store.fetchone("SELECT max(send_at) FROM outbox WHERE state='queued' AND message_id LIKE ?",
                                    (MESSAGE_ID_PREFIX + "%",))
    return row[0] if row is not None and row[0] is not None else None


def send_times(count: int, now: int, undo_seconds: int, per_minute: int, last_queued: int | None) -> list[int]:
    """`count` send times, 60/per_minute seconds apart, the first after the undo window and one
    step after the follow-up mail already waiting (`last_queued`)."""
    gap = 60 / per_minute
    start = float(now + undo_seconds)
    if last_queued is not None:
        start = max(start, last_queued + gap)
    return [int(start + k * gap + 1e-9) for k in range(count)]


async def run(desk: Desk, the_plan: Plan, *, add_tags: Sequence[str] = (), remove_tags: Sequence[str] = (),
              status: str | None = None, per_minute: int | None = None,
              account: AccountConfig | None = None) -> Outcome:
    """Queue the plan's new replies (each in its own transaction, due one after the other at the
    follow-up pace), then note the covered conversations whose customer's reply is queued (or was
    before), then tag and set the status of every conversation that has its reply or note."""
    from tui_desk.desk import commands
    from tui_desk.desk.replies import queue_reply
    from tui_desk.store.search import STATUSES
    if status is not None and status not in STATUSES:
        raise CommandError(f"status is one of {', '.join(STATUSES)}, not {status!r}")
    account = _account(desk, account)
    per_minute = per_minute or desk.config.followup.per_minute
    if per_minute < 1:
        raise CommandError("the follow-up rate is 1 a minute or more")
    outcome = Outcome(the_plan)
    new = the_plan.new
    times = send_times(len(new), desk.now(), account.undo_send_seconds, per_minute, await _last_queued_send_at(desk))
    for item in the_plan.items:
        if item.state == "skipped":
            outcome.skipped.append(item)
        elif item.state == "already":
            outcome.already.append(item)
    for item, send_at in zip(new, times):
        try:
            queued = await queue_reply(desk, item.conv_id, the_plan.snippet.body, send_at=send_at, account=account,
                                       snippets=[the_plan.snippet.name], message_id=item.message_id,
                                       event={"followup": the_plan.followup_id}, clears_draft=False)
        except sqlite3.IntegrityError:  # another process queued this very one meanwhile
            outcome.already.append(item)
            continue
        except CommandError as e:  # the conversation changed since the plan
            outcome.skipped.append(dataclasses.replace(item, problem=str(e)))
            continue
        outcome.queued.append((item, queued.outbox_id, queued.send_at))
    # a note only once its customer's mail is in the outbox: a crash before it leaves the
    # carrier to the next run, never a note without a mail
    failed = {i.conv_id for i in outcome.skipped}
    carriers = {i.conv_id: i for i in new}
    for item in the_plan.covered:
        assert item.told_in is not None  # what covered means
        if item.told_in in failed:
            outcome.skipped.append(dataclasses.replace(
                item, problem=f"its customer's reply in #{item.told_in} was not queued"))
            continue
        try:
            await _note(desk, the_plan, item, carriers.get(item.told_in))
        except CommandError as e:
            outcome.skipped.append(dataclasses.replace(item, problem=str(e)))
            continue
        outcome.noted.append(item)
    replied = sorted({i.conv_id for i, _, _ in outcome.queued} | {i.conv_id for i in outcome.already}
                     | {i.conv_id for i in outcome.noted})
    said = []
    if replied and (add_tags or remove_tags):
        said.append((await commands.tag(desk, replied, list(add_tags), list(remove_tags))).description)
    if replied and status is not None:
        said.append((await commands.set_status(desk, replied, status, by="followup")).description)
    outcome.state_done = "; ".join(said)
    return outcome


async def _note(desk: Desk, the_plan: Plan, item: FollowupItem, carrier: FollowupItem | None) -> None:
    """The covered conversation's note: its customer gets the follow-up in #told_in. Added once
    (its Message-ID is derived: a second run, or a teammate's synced copy, finds it)."""
    from tui_desk.desk.notes import add_note
    from tui_desk.store import events as store_events
    anchors = await store_events.anchors(desk.store, [item.conv_id])
    if item.conv_id not in anchors:
        raise CommandError(f"no conversation {item.conv_id} with mail")
    message_id = await _current_note(desk, the_plan.followup_id, anchors[item.conv_id])
    if await _known(desk, [message_id]):
        return
    to = ", ".join(carrier.to) if carrier is not None else item.customer
    await add_note(desk, item.conv_id, f"Follow-up '{the_plan.followup_id}' (snippet {the_plan.snippet.name}) "
                   f"goes to {to} in #{item.told_in}, not here: one mail per customer.", message_id=message_id)


def _followup_key(message_id: str) -> str | None:
    """The follow-up's part of its mail's Message-ID (derived_message_id: a hash of its id), or
    None: not a follow-up's mail."""
    if not message_id.startswith(MESSAGE_ID_PREFIX):
        return None
    return message_id[len(MESSAGE_ID_PREFIX):].split(".", 1)[0]


async def cancel_send(desk: Desk, outbox_id: int) -> str:
    """Cancel a reply in the outbox before it goes. A follow-up's mail leaves no draft (a draft
    sent by hand and the follow-up run again would mail the customer twice), and the line says
    the follow-up sends it again; an incident's 'fixed' mail likewise (desk.incident.fixed);
    any other reply goes back to its draft (replies.cancel_send)."""
    from tui_desk.desk.replies import cancel_send as cancel_reply
    from tui_desk.store import outbox
    from tui_desk.desk.incident.fixed import fixed_mail_label
    item = await outbox.get(desk.store, outbox_id)
    if item is None:
        return await cancel_reply(desk, outbox_id)  # it says what there is to undo
    to = sanitize_line(", ".join(item.recipients)) or "the customer"
    if _followup_key(item.message_id) is not None:
        await cancel_reply(desk, outbox_id, to_draft=False)
        return f"follow-up mail to {to} cancelled: nothing sent, no draft kept; run the follow-up again to send it"
    incident = await fixed_mail_label(desk, item.message_id)  # read before the cancel drops its event
    if incident is None:
        return await cancel_reply(desk, outbox_id)
    await cancel_reply(desk, outbox_id, to_draft=False)
    return (f"{sanitize_line(incident)}: its 'fixed' mail to {to} cancelled: nothing sent, no draft kept; to send "
            "it, start the incident again and resolve it (a conversation that had its 'fixed' mail gets none)")


async def mail_cancelled(desk: Desk, message_id: str, conv_id: int | None, recipients: Sequence[str]) -> int:
    """A follow-up mail left the outbox unsent (cancelled, discarded): each note of the follow-up
    in its customer's conversations gets a note beside it saying so, once (the note's text stays:
    it was true when written). Not a follow-up's mail: nothing. Returns how many notes it added."""
    from tui_desk.desk.notes import add_note
    fid = _followup_key(message_id)
    if fid is None or conv_id is None:
        return 0
    customer = (await per_customer.conversations(desk, [conv_id])).get(conv_id)
    theirs = (await per_customer.customers_conversations(desk, {customer.customer}) if customer and customer.customer
              else {conv_id: ""})
    rows = await desk.store.fetchall(
        "SELECT conv_id, message_id FROM messages WHERE is_note = 1 AND message_id LIKE ?"  # hex: no wildcard
        " AND conv_id IN (SELECT value FROM json_each(?)) ORDER BY id",
        (f"{NOTE_PREFIX}{fid}.%", json.dumps(sorted(theirs))))
    to = sanitize_line(", ".join(recipients)) or "the customer"
    added = 0
    for note_conv, note_id in rows:
        cancelled = cancelled_note_id(note_id)
        if await _known(desk, [cancelled]):
            continue
        await add_note(desk, note_conv, f"The follow-up mail to {to} in #{conv_id} was cancelled before it went out: "
                       f"{to} got nothing. This conversation can get the follow-up again.", message_id=cancelled)
        added += 1
    return added


def preview_lines(the_plan: Plan) -> list[FollowupLine]:
    """The dry run for the app: one sanitized line per conversation."""
    return [FollowupLine(i.conv_id, i.state, i.line()) for i in the_plan.items]


class FollowupDesk:
    """The follow-up part of the Desk (desk.service.Desk mixes it in; DeskService names it)."""

    def _as_desk(self) -> Desk:
        return cast("Desk", self)  # only ever mixed into Desk

    async def followup_preview(self, ids: list[int], snippet: str) -> list[FollowupLine]:
        return preview_lines(await plan(self._as_desk(), ids, snippet))

    async def followup(self, ids: list[int], snippet: str, status: str | None = None) -> str:
        desk = self._as_desk()
        return (await run(desk, await plan(desk, ids, snippet), status=status)).line()
