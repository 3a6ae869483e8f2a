"""What changed in the service levels since the last look (issue 16): the app's SLA notices.

The app asks the desk now and then (Desk.sla_news); the desk works out every open
conversation's SLA (desk.sla) and hands it here. A notice is news about a running target:
- `ok` -> `warning`: "SLA: first response for 'Printer on fire' due in 25m";
- `ok` or `warning` -> `breached`: "SLA: first response for 'Printer on fire' breached 5m ago".
Each change is said once. The first look only takes note (the app starting says nothing about
what was already late), and so does a target first seen later (a first sync filling the queue
with old mail, a conversation reopened late): only a change seen while the app runs is news.

`sla_news` is pure: the SLAs, subjects and the clock are given (tests drive it on an injected
clock); `desk_sla_news` reads them from the desk's store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

from tui_desk.desk.markers import SOON
from tui_desk.desk.sla import RUNNING, Sla, sla_parts
from tui_desk.desk.timefmt import format_duration, format_when, local_zone
from tui_desk.desk.views import SlaAlert
from tui_desk.sanitize import sanitize_line
from tui_desk.store.search import parse_query, query_ids

if TYPE_CHECKING:
    from tui_desk.desk.core import DeskCore

SUBJECT_CHARS = 40  # a notice names the subject, cut to this
# the state now -> the states before it that make it news
NEWS_AFTER = {"warning": ("ok",), "breached": ("ok", "warning")}

Seen = dict[tuple[int, str], str]  # (conversation, target kind) -> running state


def short_subject(subject: str) -> str:
    line = sanitize_line(subject).strip() or "(no subject)"
    return line if len(line) <= SUBJECT_CHARS else line[:SUBJECT_CHARS - 1].rstrip() + "…"


def alert_text(kind: str, state: str, subject: str, due: float | None, now: float, zone: dt.tzinfo) -> str:
    what = f"SLA: {kind.replace('_', ' ')} for '{short_subject(subject)}'"
    if state == "breached":
        over = now - due if due is not None else 0.0
        return f"{what} breached {format_duration(over)} ago" if over >= 60 else f"{what} breached"
    if due is None:
        return f"{what} due soon"
    ahead = due - now
    if ahead < SOON:
        return f"{what} due in {format_duration(ahead)}"
    local_now = dt.datetime.fromtimestamp(now, zone)
    return f"{what} due {format_when(dt.datetime.fromtimestamp(due, zone), local_now)}"


def sla_news(seen: Seen | None, slas: Mapping[int, Sla], subjects: Mapping[int, str], now: float,
             zone: dt.tzinfo = dt.timezone.utc) -> tuple[Seen, list[SlaAlert]]:
    """(what to remember for the next look, the notices). `seen`: the last look's (None: this
    is the first). `slas`: the conversations to watch, by id; `subjects` as stored (the
    sanitizer runs here)."""
    states: Seen = {(cid, t.kind): t.state for cid, sla in slas.items() for t in sla.targets
                    if t.state in RUNNING}
    if seen is None:
        return states, []
    alerts = []
    for (cid, kind), state in sorted(states.items()):
        if seen.get((cid, kind)) in NEWS_AFTER.get(state, ()):
            target = slas[cid].target(kind)
            alerts.append(SlaAlert(cid, kind, state,
                                   alert_text(kind, state, subjects.get(cid, ""), target.due, now, zone)))
    return states, alerts


class SlaWatch:
    """sla_news with its memory: one per app (the desk keeps it)."""

    def __init__(self) -> None:
        self.seen: Seen | None = None

    def look(self, slas: Mapping[int, Sla], subjects: Mapping[int, str], now: float,
             zone: dt.tzinfo = dt.timezone.utc) -> list[SlaAlert]:
        self.seen, alerts = sla_news(self.seen, slas, subjects, now, zone)
        return alerts


async def desk_sla_news(desk: DeskCore, watch: SlaWatch) -> list[SlaAlert]:
    """The watch's look at the desk's open conversations (no target runs in any other)."""
    if not desk.config.sla.configured():
        return []
    now = desk.now()
    slas: dict[int, Sla] = {}
    subjects: dict[int, str] = {}
    async for rows, part in sla_parts(desk, await query_ids(desk.store, parse_query("status:open"), now), now):
        slas.update(part)
        subjects.update((i, r["subject"] or "") for i, r in rows.items())
    return watch.look(slas, subjects, now, local_zone(desk.config.priority.timezone))
