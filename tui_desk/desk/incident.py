"""Incident mode (issue 16; the seed's plan A / plan B): when something breaks for many customers,
every new mail about it gets "we know, we're on it" (plan A) instead of the normal
acknowledgement, and its conversations are tagged together; once fixed, every affected customer
gets "it's fixed, here's what happened" (plan B).

Team-wide through the server, on the History folder's machinery (sync.history_sync): starting
and resolving are `incident` events, {"action": "start", "name", "title", "match", "ack",
"fixed"} and {"action": "resolve", "name", "close"}, all under one anchor of their own
(ANCHOR: about no conversation). Every client reads the same events and folds them the same way
(`fold`): a start while an incident of that name is active adds nothing (two clients starting
"Payments failing" make one incident; the earliest start says what it matches), a resolve ends
it. A name used again after a resolve is a new round.

- Plan A: the rules' path (desk.rules.fire) asks `plan_a` about each new mail it runs on: mail
  dated from the incident's start on (START_GRACE) matching its `match` is tagged `incident` and `incident-<name>`, any reply a
  rule planned for it is left out, and the incident's acknowledgement snippet goes instead
  (`acknowledge`: the rules' automatic reply, with its guards and rate limits, {{incident}} =
  the title), once per customer per round: a customer's new conversation gets none when this
  round's went to them in another (the rate limits alone end after customer_interval_minutes). The mail is claimed on the server like any other the rules act on, so one client
  of the team does it.
- Plan B: the client of the agent who resolved it (`send_fixes`, after its next sync pass, or
  `tui-desk incident resolve` at once) queues the fixed snippet to every conversation of the
  round (`members`: tagged `incident-<name>`, less those an earlier round of the name sent its
  fixed mail to), one mail per customer (desk.per_customer, the follow-up's grouping: their most
  recent open conversation carries it, the others get a note with a derived Message-ID), each
  customer claimed on the server first (sync.claims: `td:incident:<name>.<round>.<agent>` on
  the oldest customer mail of their conversations, then `td:incident-done:<name>.<round>` on
  each conversation's oldest customer mail; <round>: `round_code`, so a name used again is a mark of
  its own), so two clients resolving, or one restarted after a crash, never send it twice. The
  keyword of the versions without a round, `td:incident-done:<name>`, still means done. The
  mails wait the account's undo window (cancellable in the outbox) and go SPACING seconds
  apart; each is an `autoreply` event (Auto-Submitted: auto-replied; the first response time
  keeps running) that does not count toward the hourly cap of automatic replies (a person's
  deliberate send: desk.rules.execute.earlier_autoreplies). Mail the loop
  guards protect (a list, a bounce) gets none. With `close`, each conversation is closed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tui_desk.desk import per_customer
from tui_desk.desk.commands import CommandError
from tui_desk.desk.keywords import INCIDENT_CLAIM, INCIDENT_DONE, MAX_KEYWORD, encode_name, occurrence_code
from tui_desk.desk.rules.engine import matches
from tui_desk.desk.rules.model import Action, ConversationFacts, Event, PlannedAction, Rule
from tui_desk.store import events as store_events
from tui_desk.store.events import new_event_id
from tui_desk.store.search import SearchError, parse_query, search_ids
from tui_desk.sync.claims import ClaimKeywords, ClaimSession, Copy

if TYPE_CHECKING:
    from tui_desk.desk.core import DeskCore as Desk  # the core its work needs (desk.core)
    from tui_desk.desk.views import IncidentPlanView, IncidentView

KIND = "incident"
ANCHOR = "incidents@incident.tui-desk.invalid"  # every incident event: about no conversation
TAG = "incident"
DEFAULT_ACK = "incident-ack"  # bundled snippets (snippets/)
DEFAULT_FIXED = "incident-fixed"
SPACING = 2  # seconds between two "it's fixed" mails: a hundred customers are not one burst
MAX_NAME = 24  # a name is in IMAP keywords (td:incident:<name>.<agent>), kept short
# plan A is for mail dated from the start on, or this little before (senders' clocks, mail on
# its way while an agent typed the title); older mail is the agents' to answer
START_GRACE = 600


@dataclass(frozen=True)
class Incident:
    name: str  # the title made a keyword-safe word: "payments-failing"
    title: str
    match: str  # the desk's search syntax
    ack: str  # snippet names: plan A, plan B
    fixed: str
    started_at: int
    started_by: str
    round_id: str  # the id of the start event: one round of this name
    resolved_at: int | None = None
    resolved_by: str | None = None
    close: bool = False  # close the conversations when resolving

    @property
    def tag(self) -> str:
        return f"{TAG}-{self.name}"

    @property
    def active(self) -> bool:
        return self.resolved_at is None

    @property
    def label(self) -> str:
        return f"incident '{self.title}'"


def name_of(title: str) -> str:
    """The incident's name from its title: lower case, one word of a-z, 0-9 and '-'."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    name = "-".join(words)[:MAX_NAME].strip("-")
    if not name:
        raise CommandError(f"an incident's title needs a letter or digit, not {title!r}")
    return name


def fold(events: Iterable[store_events.Event]) -> list[Incident]:
    """Every incident round the events tell of, oldest first. The same events give the same
    incidents on every client (ordered by time, then id)."""
    rounds: list[Incident] = []
    current: dict[str, int] = {}  # name -> index of its active round
    for e in sorted(events, key=lambda e: (e.at, e.event_id)):
        if e.kind != KIND:
            continue
        d = e.data
        name, action = str(d.get("name") or ""), d.get("action")
        if not name:
            continue
        if action == "start" and name not in current:
            current[name] = len(rounds)
            rounds.append(Incident(name, str(d.get("title") or name), str(d.get("match") or ""),
                                   str(d.get("ack") or DEFAULT_ACK), str(d.get("fixed") or DEFAULT_FIXED),
                                   e.at, e.agent, e.event_id))
        elif action == "resolve" and name in current:
            i = current.pop(name)
            r = rounds[i]
            rounds[i] = Incident(r.name, r.title, r.match, r.ack, r.fixed, r.started_at, r.started_by, r.round_id,
                                 e.at, e.agent, bool(d.get("close")))
    return rounds


async def incidents(desk: Desk) -> list[Incident]:
    """Every incident this desk knows of (its own and, through History, the team's)."""
    return fold(await store_events.of_anchor(desk.store, ANCHOR))


async def active(desk: Desk) -> list[Incident]:
    return [i for i in await incidents(desk) if i.active]


def pick(known: Sequence[Incident], name: str | None, *, active_only: bool = True) -> Incident:
    """The incident named (its name or title, any case); without a name, the one active."""
    candidates = [i for i in known if i.active or not active_only]
    if name is None:
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise CommandError("no incident is active")
        raise CommandError("several incidents are active; name one: " + ", ".join(i.name for i in candidates))
    wanted = name.strip().lower()
    found = [i for i in candidates if wanted in (i.name, i.title.lower())]
    if not found:
        raise CommandError(f"no active incident '{name}'")
    return found[-1]


async def _record(desk: Desk, data: dict[str, object]) -> None:
    async with desk.store.transaction():
        await store_events.record(desk.store, [store_events.Event(
            new_event_id(desk.clock()), desk.now(), desk.agent, KIND, ANCHOR, dict(data))])


async def start(desk: Desk, title: str, match: str, ack: str | None = None, fixed: str | None = None,
                conv_ids: Sequence[int] = ()) -> tuple[Incident, bool]:
    """(the incident, whether this started it: False when one of that name is active already).
    `conv_ids`: conversations that belong to it from the start (the app's selection)."""
    title = " ".join(title.split())
    name = name_of(title)
    try:
        parse_query(match, rule_keys=True)
    except SearchError as e:
        raise CommandError(f"--match: {e}") from None
    if not match.strip() and not conv_ids:
        raise CommandError("an incident needs --match (the desk's search syntax), e.g. 'subject:payment'")
    ack, fixed = ack or DEFAULT_ACK, fixed or DEFAULT_FIXED
    names = {s.name for s in desk.snippets()}
    for snippet in (ack, fixed):
        if snippet not in names:
            raise CommandError(f"no snippet '{snippet}'")
    started = name not in {i.name for i in await active(desk)}
    if started:
        await _record(desk, {"action": "start", "name": name, "title": title, "match": match.strip(),
                             "ack": ack, "fixed": fixed})
    incident = pick(await active(desk), name)
    if conv_ids:
        await tag_members(desk, incident, conv_ids)
    return incident, started


async def tag_members(desk: Desk, incident: Incident, conv_ids: Sequence[int]) -> None:
    """Conversations join the incident: its two tags (the agent's to undo, like any tag)."""
    from tui_desk.desk import commands
    await commands.tag(desk, list(conv_ids), [TAG, incident.tag])


async def resolve(desk: Desk, name: str | None = None, close: bool = False) -> Incident:
    """End the incident for the whole team; this agent's client sends plan B (send_fixes)."""
    incident = pick(await active(desk), name)
    await _record(desk, {"action": "resolve", "name": incident.name, "close": close})
    return next(i for i in await incidents(desk) if i.round_id == incident.round_id)


# -- the app's words (desk.service: DeskService) ---------------------------------------------------

async def views(desk: Desk) -> list[IncidentView]:
    from tui_desk.desk.views import IncidentView
    from tui_desk.sanitize import sanitize_line
    return [IncidentView(i.name, sanitize_line(i.title), sanitize_line(i.match), len(await members(desk, i)))
            for i in await active(desk)]


async def start_line(desk: Desk, title: str, match: str, ids: Sequence[int]) -> str:
    from tui_desk.sanitize import sanitize_line
    found, started = await start(desk, title, match, conv_ids=ids)
    joined = f"; {len(ids)} conversation{'s' if len(ids) != 1 else ''} joined it" if ids else ""
    what = "started" if started else "is active already"
    mail = f": new mail matching {found.match!r} gets '{found.ack}'" if found.match else ""
    return sanitize_line(f"{found.label} {what}{mail}{joined}")


async def resolve_line(desk: Desk, name: str) -> str:
    """Resolved; plan B goes with the next sync pass (at once: the record wakes the live sync),
    or now on a desk without a server."""
    from tui_desk.sanitize import sanitize_line
    found = await resolve(desk, name)
    fixes = await plan_b(desk, found)
    if not any(a.imap is not None for a in desk.config.accounts):
        await send_fixes(desk, None)
    return sanitize_line(f"{found.label} resolved: '{found.fixed}' goes to {summary(fixes)} "
                         "through the outbox (O cancels in the undo window)")


async def resolve_preview(desk: Desk, name: str) -> IncidentPlanView:
    """Who resolving would mail: one line per customer (the app's confirm)."""
    from tui_desk.desk.views import FollowupLine, IncidentPlanView
    found = pick(await active(desk), name)
    fixes = await plan_b(desk, found)
    found_mails = mails(fixes)
    return IncidentPlanView(found.name, found.fixed, len(found_mails), sum(1 + len(m.covers) for m in found_mails),
                            tuple(FollowupLine(0, state, text) for state, text in fix_lines(fixes)))


# -- plan A: on the rules' path ------------------------------------------------------------------

def as_rule(incident: Incident) -> Rule:
    """The incident's match as a `new` rule: desk.rules.facts asks the store about it with the
    rules' own conditions, and engine.matches reads the answer."""
    return Rule(f"{KIND}:{incident.round_id}", "new", incident.match, parse_query(incident.match, rule_keys=True),
                (), 0)


def as_rules(incidents_: Sequence[Incident]) -> list[Rule]:
    return [as_rule(i) for i in incidents_ if i.match]


def belongs(incidents_: Sequence[Incident], event: Event, conv: ConversationFacts) -> Incident | None:
    """The active incident a new mail belongs to (the first started), or None: mail dated
    from its start on (START_GRACE) matching it."""
    if event.kind != "new":
        return None
    for incident in incidents_:
        if incident.active and incident.match and event.at >= incident.started_at - START_GRACE \
                and matches(as_rule(incident), event, conv):
            return incident
    return None


def plan_a(incidents_: Sequence[Incident], event: Event, conv: ConversationFacts,
           planned: Sequence[PlannedAction]) -> tuple[list[PlannedAction], Incident | None]:
    """What the rules planned, changed for an incident the mail belongs to: no reply of theirs
    (the incident's acknowledgement goes instead: `acknowledge`) and the incident's tags."""
    incident = belongs(incidents_, event, conv)
    if incident is None:
        return list(planned), None
    out = [p for p in planned if p.action.kind != "reply"]
    add = tuple(t for t in (TAG, incident.tag) if t not in conv.tags)
    if add:
        text = "tag " + " ".join("+" + t for t in add)
        out.insert(0, PlannedAction(incident.label, Action("tag", text, add=add),
                                    f"{incident.label} tagged " + " ".join("+" + t for t in add)))
    return out, incident


def _message_id(desk: Desk, seed: str) -> str:
    from tui_desk.desk.rules.execute import derived_message_id
    return derived_message_id(desk, f"{KIND}\n{seed}")


async def acknowledge(desk: Desk, incident: Incident, conv: ConversationFacts, key: str) -> str | None:
    """Plan A to the mail's customer (rate limits and loop guards as for any automatic reply);
    what the conversation says (None: it was queued by an earlier run)."""
    from tui_desk.desk.rules.execute import auto_reply
    if conv.autoreply_block is not None:
        return f"{incident.label} held its acknowledgement: {conv.autoreply_block}"
    told = await _acknowledged_elsewhere(desk, incident, conv.id)
    if told is not None:
        customer, other = told
        return f"{incident.label} held its acknowledgement: {customer} had it in #{other}"
    queued, held = await auto_reply(desk, conv.id, incident.ack, _message_id(desk, f"{key}\nack"),
                                    {"rule": incident.label, "incident": incident.name, "plan": "ack"},
                                    values={"incident": incident.title})
    if held is not None:
        return f"{incident.label} held its acknowledgement: {held}"
    return f"{incident.label} replied with snippet '{incident.ack}'" if queued else None


async def _acknowledged_elsewhere(desk: Desk, incident: Incident, conv_id: int) -> tuple[str, int] | None:
    """(the customer, the conversation) when this round's acknowledgement went to the
    conversation's customer in another conversation: one per customer per round, however long
    the incident lasts (the rate limits' one per customer_interval_minutes ends sooner). The
    `autoreply` events tell, a teammate's too (History); an earlier round's are older than its
    start."""
    customer = (await per_customer.conversations(desk, [conv_id])).get(conv_id)
    if customer is None or not customer.customer:
        return None
    theirs = await per_customer.customers_conversations(desk, {customer.customer})
    for found in await store_events.of_kind_since(desk.store, "autoreply", incident.started_at):
        d = found.event.data
        if d.get("incident") == incident.name and d.get("plan") == "ack" and found.conv_id in theirs \
                and found.conv_id != conv_id:
            return customer.customer, found.conv_id
    return None


# -- plan B: resolving ---------------------------------------------------------------------------

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


async def members(desk: Desk, incident: Incident) -> list[int]:
    """The conversations of this round: those tagged with its name, less those an earlier round
    of the same name sent its fixed mail to (the tag stays on them; the `autoreply` events,
    shared through History, remember it on a desk without a server too)."""
    tagged = await search_ids(desk.store, f"tag:{incident.tag}", desk.now())
    earlier = [i for i in await incidents(desk) if i.name == incident.name and i.started_at < incident.started_at]
    if not earlier or not tagged:
        return sorted(tagged)
    fixed = {found.conv_id for found in await store_events.of_kind_since(
                 desk.store, "autoreply", min(i.started_at for i in earlier))
             if found.event.at < incident.started_at and found.event.data.get("incident") == incident.name
             and found.event.data.get("plan") == "fixed"}
    return sorted(set(tagged) - fixed)


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


def round_code(incident: Incident) -> str:
    """6 letters naming the round (its start event's id): the same on every client."""
    return occurrence_code(incident.round_id)[:6]


def claim_keywords(incident: Incident, agent: str) -> ClaimKeywords:
    """Per round: `td:incident:<name>.<round>.<agent>`, `td:incident-done:<name>.<round>` (an
    agent's name that would pass the keyword length is hashed, as the timed rules' are)."""
    prefix = f"{INCIDENT_CLAIM}{incident.name}.{round_code(incident)}."
    name = encode_name(agent)
    if len(prefix) + len(name) > MAX_KEYWORD:
        name = "h" + occurrence_code(name)[:MAX_KEYWORD - len(prefix) - 1]
    return ClaimKeywords(prefix + name, prefix, f"{INCIDENT_DONE}{incident.name}.{round_code(incident)}")


def legacy_done(incident: Incident) -> str:
    """The done keyword of the versions without rounds: still done (lower case)."""
    return f"{INCIDENT_DONE}{incident.name}"


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
                    _message_id(desk, f"{incident.round_id}\nfixed\n{fix.conv_id}"),
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
