"""A conversation's timeline from the store (mail + history events), and the cached row's encoding.

Turns (desk.metrics.Turn) come from the conversation's messages:
- a note (is_note) is `note`; an auto-submitted mail (either side) is `auto`;
- an agent's mail (is_agent) that a forward event names is `forward`, else `agent`: its agent,
  time and snippets are the reply event's (the time it was sent) when one names it, else the
  sender's address and the mail's date;
- any other mail is `customer`, marked `thanks` when its own words only thank (desk.thanks: the
  one rule; FCR, reopens and a snippet's "solved" read the mark).
Events whose mail is not in the store still count: a reply event is an `agent` turn at its time
(forward / note / autoreply / survey likewise as their roles), so a store without the Sent
folder agrees with one that has it.
Status changes are the status events, but for those an undo took back and those undos
(desk.metrics.timeline.undone: an accidental close and its undo are no close and no reopen).
A snooze (snooze event) ends at the first of: an unsnooze event, its `until`, a customer message after it began (mail wakes a snoozed conversation), a
status event, or the next snooze (which starts a span of its own); none of these: still snoozed.
tags and assignee are the conversation's now; the customer domain is the part after "@" of the
conversation's customer address. has_history: the conversation has any event. Merged
conversations need nothing here: their mail is the survivor's and their events resolve to it
through thread_ids.
"""

from __future__ import annotations

import json
import marshal
from typing import Any, Iterable, Iterator

from tui_desk.desk.metrics import ConvMetrics, Reopen, Reply, SnoozeSpan, StatusChange, Timeline, Turn
from tui_desk.desk.metrics.timeline import undone
from tui_desk.desk.thanks import only_thanks
from tui_desk.store.report_cache import ConversationSource, EventRow

ENCODING = 1  # of encode(); part of the cache key with metrics.METRICS_VERSION

_EVENT_ROLES = {"reply": "agent", "forward": "forward", "note": "note", "autoreply": "auto", "survey": "survey"}


def _data(event: EventRow) -> dict[str, Any]:
    try:
        data = json.loads(event.data_json)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _snippet_names(data: dict[str, Any]) -> tuple[str, ...]:
    out: list[str] = []
    for s in data.get("snippets") or []:
        name = s.get("name") if isinstance(s, dict) else s
        if isinstance(name, str) and name and name not in out:
            out.append(name)
    return tuple(out)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def timeline(src: ConversationSource) -> Timeline:
    """The conversation's timeline (see the module docstring)."""
    decoded = [(e, _data(e)) for e in src.events]
    by_message: dict[str, tuple[EventRow, dict[str, Any]]] = {}
    for e, d in decoded:
        mid = d.get("message_id")
        if e.kind in _EVENT_ROLES and isinstance(mid, str) and mid:
            by_message.setdefault(mid.strip("<>"), (e, d))
    turns: list[Turn] = []
    customer_times: list[int] = []
    seen: set[str] = set()
    for m in src.messages:
        seen.add(m.message_id)
        if m.is_note:
            turns.append(Turn(m.at, "note"))
        elif m.auto_submitted:
            turns.append(Turn(m.at, "auto"))
        elif m.is_agent:
            named = by_message.get(m.message_id)
            if named is None:
                turns.append(Turn(m.at, "agent", m.sender_key or None))
            else:
                e, d = named
                # an autoreply's mail is `auto` even where its Auto-Submitted header was lost
                role = _EVENT_ROLES[e.kind] if e.kind in ("forward", "note", "autoreply") else "agent"
                turns.append(Turn(e.at, role, e.agent, _snippet_names(d) if role == "agent" else ()))
        else:
            turns.append(Turn(m.at, "customer", thanks=only_thanks(m.excerpt)))
            customer_times.append(m.at)
    for e, d in decoded:
        event_role = _EVENT_ROLES.get(e.kind)
        mid = d.get("message_id")
        if event_role is None or (isinstance(mid, str) and mid.strip("<>") in seen):
            continue
        turns.append(Turn(e.at, event_role, e.agent, _snippet_names(d) if event_role == "agent" else ()))

    changes = [(n, (e, d)) for n, (e, d) in enumerate(decoded) if e.kind == "status" and isinstance(d.get("to"), str)]
    taken_back = undone((n, d) for n, (_, d) in changes)  # an undo and what it took back: neither happened
    status = [StatusChange(e.at, str(d.get("to")), e.agent) for n, (e, d) in changes if n not in taken_back]
    snoozes: list[SnoozeSpan] = []
    start: int | None = None
    until: int | None = None

    def end_at(t: int | None) -> None:
        nonlocal start
        if start is not None:
            ends = [x for x in (t, until) if x is not None]
            snoozes.append(SnoozeSpan(start, min(ends) if ends else None))
            start = None
    marks = sorted([(e.at, 1, e.kind, d) for e, d in decoded if e.kind in ("snooze", "unsnooze", "status")]
                   + [(t, 0, "customer", {}) for t in customer_times], key=lambda x: (x[0], x[1]))
    for at, _, kind, d in marks:
        if start is not None and until is not None and until <= at:
            end_at(until)
        if kind == "snooze":
            end_at(at)
            start, until = at, _int_or_none(d.get("until"))
        elif start is not None and (kind != "customer" or at > start):
            end_at(at)
    end_at(None)
    _, _, domain = src.customer_key.rpartition("@")
    return Timeline(conv_id=str(src.conv_id), customer_domain=domain.lower(), tags=tuple(src.tags),
                    assignee=src.assignee, turns=tuple(sorted(turns, key=lambda t: t.at)),
                    status_changes=tuple(status), snoozes=tuple(snoozes), has_history=bool(src.events))


# The cache keeps each ConvMetrics as a marshal'd tuple of plain values: about ten times faster
# to read back than JSON. marshal's format may change between Pythons: the cache key names the
# interpreter (desk.reports), so a new Python recomputes.

def encode(m: ConvMetrics) -> bytes:
    replies = tuple((r.at, r.agent, tuple(r.snippets), r.waited_from, r.wait, r.wait_business) for r in m.replies)
    reopens = None if m.reopens is None else tuple((r.at, r.closed_at, r.closed_by) for r in m.reopens)
    return marshal.dumps((
        m.conv_id, m.source, m.customer_domain, tuple(m.tags), m.assignee, m.business, m.first_customer_at,
        tuple(m.customer_messages), replies, m.frt, m.frt_business, m.frt_agent, m.unanswered_since,
        m.closed_at, m.closed_by, m.resolution, m.resolution_business, m.resolution_net,
        m.resolution_net_business, m.replies_to_resolve, reopens, m.reopened_within_7d, m.fcr, m.first_at,
        m.last_at, tuple(m.thanks)))


_reply = Reply._make
_reopen = Reopen._make
_metrics = ConvMetrics._make


def decode(data: bytes) -> ConvMetrics:
    v = list(marshal.loads(data))
    v[8] = tuple(map(_reply, v[8]))
    if v[20] is not None:
        v[20] = tuple(map(_reopen, v[20]))
    return _metrics(v)


def plain(data: Iterable[bytes]) -> Iterator[tuple[Any, ...]]:
    """The cached rows as the plain tuples they were encoded from (ConvMetrics' field order;
    replies and reopens as plain tuples in Reply's / Reopen's), one at a time: what
    metrics.headline_report reads without making a ConvMetrics per row."""
    loads = marshal.loads
    for d in data:
        yield loads(d)
