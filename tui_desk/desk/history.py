"""The desk's history: what an agent's action records (store.events) and how it reads back.

One event per conversation per change, recorded in the transaction of the change itself:

    status   {"from": "open", "to": "closed"}, with "by": "rule" | "incident" | "followup" when no
             person set it on this conversation by hand (a rule, an incident's resolve --close,
             a bulk follow-up's --status), and "undo": true when an undo (u) set it back
    assign   {"from": "alice" | null, "to": "bob" | null}
    snooze   {"until": unix seconds | null, "reply": true while "until the customer replies"}
    unsnooze {}
    tag      {"add": [...], "remove": [...]}
    reply    {"message_id": ..., "reply_all": bool, "snippets": [{"name": ..., "hash": sha256 hex}]}
    forward  {"message_id": ..., "to": [addresses]}
    note     {"message_id": ...}
    merge    {"into": id, "merged": [ids], "conversations": [{"subject", "customer"}], "events": [ids]}
             in the kept conversation (desk.merge): ids are this desk's numbers, so the text names
             the merged ones by subject and customer (a teammate numbers them otherwise);
             "events": the state events of the kept conversation the merge recorded with it
    unmerge  the same, when undo took them out again, with "undoes": the merge's event id

    rule      {"rule": name, "says": "rule 'refunds to billing' tagged +billing"}
    autoreply {"message_id": ..., "rule": name, "to": [addresses], "snippets": [...],
               "expected_wait": {...} when the snippet used it (desk.expected_wait.ExpectedWait.record)}

    survey    {"message_id": ..., "to": [addresses], "agent": name | null, "snippets": [...], "close": event id}
    csat      {"rating": "great" | "okay" | "bad", "score": 3 | 2 | 1, "comment": str, "agent": name | null,
               "snippets": [...], "survey": the survey's message_id}

A rule's actions record their own events too (a tag event beside the rule event that says why);
an automatic reply is an `autoreply` event, never a `reply` (desk.rules.execute). Read back, such
a state event is left out, and so is the `autoreply` a rule's line says it sent: the rule's line
says it (`conversation_history`, `rules_own`, `rules_replies`).
An undo takes its status change back (desk.metrics.timeline.undone): the change and its undo
are neither a close nor a reopen for the metrics (desk.report_data), and read back as one line,
"closed, undone".
A merge and its undo read back as one line too, "merged "Printer" (ann@example.com) into this
one, undone", without the state events either recorded (`merges_undone`).
A customer's mail reopening or waking a conversation is not recorded: every client would record
it; it is in the mail. Nor is a thank-you that left a closed or pending conversation as it was
(desk.thanks): read back, it is one line at the mail's time, "Ann thanked: not reopened"
(`thanked_lines`, from the mail and the status events, as the metrics' walk holds it). The satisfaction survey (desk.csat) records `survey` when one is sent and
`csat` for an answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable

from tui_desk.desk.timefmt import format_stamp, local_zone
from tui_desk.sanitize import sanitize_line
from tui_desk.store import events as store_events
from tui_desk.store.events import Event, new_event_id
from tui_desk.store.queries import ConvState

if TYPE_CHECKING:
    from tui_desk.desk.core import DeskCore
    from tui_desk.desk.views import ActionLine, Snippet


def state_events(before: ConvState, after: ConvState, *, at: int, agent: str, anchor: str,
                 clock: float | None = None, new_id: Callable[[float], str] = new_event_id,
                 by: str | None = None, undo: bool = False) -> list[Event]:
    """The events that take a conversation from `before` to `after` (none when nothing changed).
    `new_id`: makes each event's id from `clock` (the demo's history gives seeded ones); `undo`:
    an undo sets the state back (its status event says so)."""
    out: list[Event] = []
    clock = at if clock is None else clock

    def add(kind: str, data: dict[str, Any]) -> None:
        out.append(Event(new_id(clock), at, agent, kind, anchor, data))
    if before.status != after.status:
        add("status", {"from": before.status, "to": after.status, **({"by": by} if by else {}),
                       **({"undo": True} if undo else {})})
    if before.assignee != after.assignee:
        add("assign", {"from": before.assignee, "to": after.assignee})
    if (before.snooze_until, before.snooze_reply) != (after.snooze_until, after.snooze_reply):
        if after.snooze_until is not None or after.snooze_reply:
            add("snooze", {"until": after.snooze_until, "reply": after.snooze_reply})
        else:
            add("unsnooze", {})
    added, removed = sorted(set(after.tags) - set(before.tags)), sorted(set(before.tags) - set(after.tags))
    if added or removed:
        add("tag", {"add": added, "remove": removed})
    return out


async def record_state_changes(desk: DeskCore, states: dict[int, ConvState], before: dict[int, ConvState],
                               by: str | None = None, undo: bool = False) -> None:
    """Inside the caller's transaction: the events of an action (or of its undo); `by`, `undo`:
    see state_events."""
    anchors = await store_events.anchors(desk.store, states)
    at, agent = desk.now(), desk.agent
    found = [e for cid, s in sorted(states.items()) if cid in before and cid in anchors
             for e in state_events(before[cid], s, at=at, agent=agent, anchor=anchors[cid], clock=desk.clock(),
                                   by=by, undo=undo)]
    await store_events.record(desk.store, found)


async def anchor_of(desk: DeskCore, conv_id: int) -> str | None:
    """The anchor the conversation's events get now (store.events.anchors)."""
    return (await store_events.anchors(desk.store, [conv_id])).get(conv_id)


@dataclass(frozen=True, slots=True)
class Merged:
    """A conversation a merge folded in, as its event names it."""
    conv_id: int
    subject: str
    customer: str  # its customer's address, "" for none


async def record_merge(desk: DeskCore, kind: str, into: int, anchor: str | None, merged: list[Merged],
                       after: ConvState | None, before: ConvState | None, undoes: str | None = None) -> str | None:
    """Inside the caller's transaction: the `merge` (or `unmerge`) event of the kept conversation,
    after the state events of what it changed there (`before` -> `after`: its owner, its tags),
    all under `anchor`: the kept conversation's own, taken before the merge (after it, its
    oldest mail may be a merged one's, whose history the undo gives back). Returns the event's id."""
    if anchor is None:
        return None
    at, agent = desk.now(), desk.agent
    found = state_events(before, after, at=at, agent=agent, anchor=anchor, clock=desk.clock()) if (
        before is not None and after is not None) else []
    data: dict[str, Any] = {"into": into, "merged": sorted(m.conv_id for m in merged),
                            "conversations": [{"subject": m.subject, "customer": m.customer}
                                              for m in sorted(merged, key=lambda m: m.conv_id)],
                            "events": [e.event_id for e in found], **({"undoes": undoes} if undoes else {})}
    event = Event(new_event_id(desk.clock()), at, agent, kind, anchor, data)
    await store_events.record(desk.store, [*found, event])
    return event.event_id


def merges_undone(events: list[Event]) -> tuple[set[str], set[str]]:
    """(the merges an undo took back, every event that then reads as part of their line: the
    `unmerge` and the state events both recorded), by event id. An `unmerge` without "undoes"
    (recorded before it was kept) reads on its own line."""
    undone: set[str] = set()
    folded: set[str] = set()
    merges = {e.event_id: e for e in events if e.kind == "merge"}
    for e in events:
        merge = merges.get(str(e.data.get("undoes"))) if e.kind == "unmerge" else None
        if merge is not None:
            undone.add(merge.event_id)
            folded.add(e.event_id)
            folded.update(str(i) for i in (merge.data.get("events") or []) + (e.data.get("events") or []))
    return undone, folded


async def record_message(desk: DeskCore, conv_id: int, kind: str, data: dict[str, Any],
                         outbox_id: int | None = None) -> None:
    """Inside the caller's transaction: a reply, forward or note of the conversation."""
    anchor = (await store_events.anchors(desk.store, [conv_id])).get(conv_id)
    if anchor is None:
        return
    await store_events.record(desk.store, [Event(new_event_id(desk.clock()), desk.now(), desk.agent, kind, anchor, data)],
                              outbox_id=outbox_id)


def snippet_records(desk: DeskCore, names: list[str] | None) -> list[dict[str, Any]]:
    """[{"name", "hash"}] of the snippets a reply used: the hash (sha256 of the snippet's text)
    tells two versions of one snippet apart; null for a name this desk does not have."""
    return records_of_snippets(desk.snippets(), names)


def records_of_snippets(snippets: Iterable[Snippet], names: list[str] | None) -> list[dict[str, Any]]:
    """snippet_records with the snippets given (the demo's history: the bundled ones alone)."""
    if not names:
        return []
    by_name = {s.name: s for s in snippets}
    out: list[dict[str, Any]] = []
    for name in dict.fromkeys(names):
        snippet = by_name.get(name)
        digest = hashlib.sha256(snippet.body.encode()).hexdigest() if snippet is not None else None
        out.append({"name": name, "hash": digest})
    return out


@dataclass(frozen=True, slots=True)
class HistoryLine:
    at: dt.datetime  # in the desk's zone
    agent: str  # sanitized
    kind: str
    text: str  # sanitized: "closed (was open)"
    data: dict[str, Any]
    event_id: str


_STATUS_WORDS = {"open": "reopened", "closed": "closed", "pending": "set pending", "spam": "marked as spam"}


def _merged_name(conversation: dict[str, Any]) -> str:
    """A merged conversation as any desk can name it: "Printer" (ann@example.com)."""
    customer = sanitize_line(str(conversation.get("customer") or ""))
    return f'"{sanitize_line(str(conversation.get("subject") or ""))}"' + (f" ({customer})" if customer else "")


def describe(event: Event, zone: dt.tzinfo) -> str:
    """What the event did, in a few words (sanitized: names and tags come from teammates)."""
    d = event.data

    def name(value: Any) -> str:
        return sanitize_line(str(value)) if value else "nobody"
    if event.kind == "status":
        text = f"{_STATUS_WORDS.get(str(d.get('to')), 'set ' + name(d.get('to')))} (was {name(d.get('from'))})"
    elif event.kind == "assign":
        text = (f"assigned to {name(d.get('to'))}" if d.get("to") else "unassigned") + f" (was {name(d.get('from'))})"
    elif event.kind == "snooze":
        until = d.get("until")
        text = ("snoozed until the customer replies" if d.get("reply") else
                f"snoozed until {format_stamp(int(until), zone)}"
                if isinstance(until, int) else "snoozed")
    elif event.kind == "unsnooze":
        text = "woke it"
    elif event.kind == "tag":
        words = [f"+{t}" for t in d.get("add") or []] + [f"-{t}" for t in d.get("remove") or []]
        text = "tagged " + sanitize_line(" ".join(map(str, words)))
    elif event.kind == "reply":
        text = "replied to all" if d.get("reply_all") else "replied"
        used = [str(s.get("name")) for s in d.get("snippets") or [] if isinstance(s, dict)]
        if used:
            text += " with " + sanitize_line(", ".join(used))
    elif event.kind == "forward":
        text = "forwarded to " + sanitize_line(", ".join(map(str, d.get("to") or [])))
    elif event.kind == "note":
        text = "added a note"
    elif event.kind in ("merge", "unmerge") and isinstance(named := d.get("conversations"), list):
        merged = ", ".join(_merged_name(c) for c in named if isinstance(c, dict))
        text = f"merged {merged} into this one" if event.kind == "merge" else f"undid the merge of {merged}"
    elif event.kind in ("merge", "unmerge"):  # recorded before the subjects were (this desk's numbers)
        merged = ", ".join(f"#{sanitize_line(str(i))}" for i in d.get("merged") or [])
        into = f"#{sanitize_line(str(d.get('into')))}"
        text = f"merged {merged} into {into}" if event.kind == "merge" else f"undid the merge of {merged} into {into}"
    elif event.kind == "rule":
        text = sanitize_line(str(d.get("says") or f"rule '{d.get('rule')}'"))
    elif event.kind == "autoreply":
        used = [str(s.get("name")) for s in d.get("snippets") or [] if isinstance(s, dict)]
        text = "sent an automatic reply" + (" with " + sanitize_line(", ".join(used)) if used else "")
        wait = d.get("expected_wait")
        if isinstance(wait, dict):  # the measured wait it told the customer, and how (sanitized there)
            from tui_desk.desk.expected_wait import explain  # with the metrics: only for such an event
            text += ": " + explain(wait)
    elif event.kind == "survey":
        text = "sent a satisfaction survey"
    elif event.kind == "csat":
        comment = str(d.get("comment") or "")
        text = f"recorded the customer's answer to the survey: {sanitize_line(str(d.get('rating')))}" + (
            f": {sanitize_line(comment)}" if comment else "")
    else:  # a kind from a newer client
        text = sanitize_line(event.kind)
    return text


# What a rule's line says for each kind of state event its action records (desk.rules.actions.describe)
_RULE_SAYS = {"tag": " tagged ", "status": " set status ", "assign": " assigned ", "snooze": " snoozed ",
              "note": " added a note "}
RULE_GAP = 5  # seconds: a rule records its action's event, then its line, at once


def rules_own(events: list[Event]) -> set[str]:
    """The ids of the state events a rule's (or an incident's) action recorded: desk.rules.execute
    records the action through desk.commands, then the `rule` event saying it, so the rule's
    line comes next, by the same agent, within RULE_GAP, and says that kind of change. No link
    is stored between the two; this is how they are told apart from an agent's own change."""
    own = set()
    for e, after in zip(events, events[1:]):
        word = _RULE_SAYS.get(e.kind)
        says = " " + str(after.data.get("says") or "").replace(" unassigned", " assigned ") + " "
        if (word and after.kind == "rule" and after.agent == e.agent and 0 <= after.at - e.at <= RULE_GAP
                and word in says):
            own.add(e.event_id)
    return own


def rules_replies(events: list[Event]) -> dict[str, Event]:
    """The `autoreply` events a rule's (or an incident's) line already says ("… replied with
    snippet 'x'"), by the id of that `rule` event. An automatic reply is recorded when it is sent
    (after the undo window, or later on a retry), so the reply is the first of the same rule and
    snippet from RULE_GAP before its line until the next such line (a rule firing again)."""
    def snippet_names(reply: Event) -> list[str]:
        return [str(s.get("name")) for s in reply.data.get("snippets") or [] if isinstance(s, dict)]

    lines = [e for e in events if e.kind == "rule" and " replied with snippet " in str(e.data.get("says") or "")]
    replies = [e for e in events if e.kind == "autoreply"]
    paired: dict[str, Event] = {}
    taken: set[str] = set()
    for i, line in enumerate(lines):
        says = str(line.data.get("says"))
        same = [later for later in lines[i + 1:] if later.data.get("rule") == line.data.get("rule")
                and later.data.get("says") == says]
        until = same[0].at - RULE_GAP if same else None
        for reply in replies:
            if (reply.event_id not in taken and reply.data.get("rule") == line.data.get("rule")
                    and reply.at >= line.at - RULE_GAP and (until is None or reply.at < until)
                    and any(f"'{name}'" in says for name in snippet_names(reply))):
                paired[line.event_id] = reply
                taken.add(reply.event_id)
                break
    return paired


async def conversation_history(desk: DeskCore, conv_id: int) -> list[HistoryLine]:
    """The conversation's events, oldest first; a state event a rule's action recorded reads once,
    as the rule's line (rules_own), and so does the automatic reply a rule's line says it sent
    (rules_replies: the line gains the measured wait the reply told the customer)."""
    zone = local_zone(desk.config.priority.timezone)
    found = await store_events.of_conversation(desk.store, conv_id)
    said_by_rule = rules_own(found)
    replies = rules_replies(found)
    said_by_rule.update(e.event_id for e in replies.values())
    from tui_desk.desk.metrics.timeline import undone  # the metrics' rule: only when history is read
    taken_back = undone((e.event_id, e.data) for e in found if e.kind == "status")
    merges_taken_back, part_of_a_merge = merges_undone(found)
    lines = []
    for e in found:
        if (e.event_id in said_by_rule or (e.event_id in taken_back and e.data.get("undo"))
                or e.event_id in part_of_a_merge):
            continue
        text = describe(e, zone)
        if e.event_id in taken_back:  # its undo reads here, once
            text = f"{_STATUS_WORDS.get(str(e.data.get('to')), 'set ' + sanitize_line(str(e.data.get('to'))))}, undone"
        elif e.event_id in merges_taken_back:
            text += ", undone"
        reply = replies.get(e.event_id)
        wait = reply.data.get("expected_wait") if reply is not None else None
        if isinstance(wait, dict):
            from tui_desk.desk.expected_wait import explain  # with the metrics: only for such an event
            text += ": " + explain(wait)
        lines.append(HistoryLine(dt.datetime.fromtimestamp(e.at, zone), sanitize_line(e.agent), e.kind, text,
                                 e.data, e.event_id))
    return sorted(lines + await thanked_lines(desk, conv_id, zone), key=lambda h: h.at)


async def thanked_lines(desk: DeskCore, conv_id: int, zone: dt.tzinfo) -> list[HistoryLine]:
    """A line for each customer's thank-you that left the conversation closed or pending
    (metrics.timeline.held_by_thanks, walked as the metrics walk the status events)."""
    from tui_desk.desk.metrics.timeline import held_by_thanks
    from tui_desk.desk.report_data import timeline
    from tui_desk.store import queries, report_cache
    src = (await report_cache.sources(desk.store, [conv_id])).get(conv_id)
    if src is None or not src.events:
        return []
    tl = timeline(src)
    thanked = {t.at for t in tl.turns if t.role == "customer" and t.thanks}
    if not thanked:
        return []
    row = (await queries.conversation_rows(desk.store, [conv_id])).get(conv_id)
    customer = sanitize_line((row["customer_name"] or row["customer_key"]) if row is not None else "") or "the customer"
    marks = sorted([(t.at, 0, "") for t in tl.turns if t.role == "customer"]
                   + [(c.at, 1, c.status) for c in tl.status_changes])
    state, out = "open", []
    for at, kind, status in marks:
        if kind == 1:
            state = status
        elif held_by_thanks(state, at, thanked):
            out.append(HistoryLine(dt.datetime.fromtimestamp(at, zone), customer, "thanks", "thanked: not reopened",
                                   {}, f"thanks-{int(at)}"))
        else:
            state = "open"
    return out


async def action_lines(desk: DeskCore, conv_id: int) -> tuple[ActionLine, ...]:
    """What rules and incidents did in the conversation, oldest first, for its view."""
    from tui_desk.desk.views import ActionLine
    return tuple(ActionLine(h.at, h.text) for h in await conversation_history(desk, conv_id) if h.kind == "rule")


def line_text(line: HistoryLine) -> str:
    return f"{format_stamp(line.at)} {line.agent} {line.text}"
