"""The incident record (desk.incident): its events, the rounds they fold to, the conversations
of a round, and the IMAP keywords and Message-IDs derived from it, which plan A (ack) and plan B
(fixed) share.

Team-wide through the server, on the History folder's machinery (sync.history_sync): starting
and resolving are `incident` events, {"action": "start", "name", "title", "match", "ack",
"fixed"} and {"action": "resolve", "name", "close"}, all under one anchor of their own
(ANCHOR: about no conversation). Every client reads the same events and folds them the same way
(`fold`): a start while an incident of that name is active adds nothing (two clients starting
"Payments failing" make one incident; the earliest start says what it matches), a resolve ends
it. A name used again after a resolve is a new round.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui_desk.desk.commands import CommandError
from tui_desk.desk.keywords import INCIDENT_CLAIM, INCIDENT_DONE, MAX_KEYWORD, encode_name, occurrence_code
from tui_desk.store import events as store_events
from tui_desk.store.events import new_event_id
from tui_desk.store.search import SearchError, parse_query, search_ids
from tui_desk.sync.claims import ClaimKeywords

if TYPE_CHECKING:
    from tui_desk.desk.core import DeskCore as Desk  # the core its work needs (desk.core)

KIND = "incident"
ANCHOR = "incidents@incident.tui-desk.invalid"  # every incident event: about no conversation
TAG = "incident"
DEFAULT_ACK = "incident-ack"  # bundled snippets (snippets/)
DEFAULT_FIXED = "incident-fixed"
MAX_NAME = 24  # a name is in IMAP keywords (td:incident:<name>.<agent>), kept short


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
    """End the incident for the whole team; this agent's client sends plan B (fixed.send_fixes)."""
    incident = pick(await active(desk), name)
    await _record(desk, {"action": "resolve", "name": incident.name, "close": close})
    return next(i for i in await incidents(desk) if i.round_id == incident.round_id)


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


def message_id(desk: Desk, seed: str) -> str:
    """An automatic mail's derived Message-ID (plan A's and plan B's): the same on every client."""
    from tui_desk.desk.rules.execute import derived_message_id
    return derived_message_id(desk, f"{KIND}\n{seed}")


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
