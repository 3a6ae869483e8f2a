"""A conversation's hand-off state: who has it, until when it sleeps, whether a draft or a
send-later reply waits in it. Short markers for queue rows and CLI lines ("@alice",
"z Fri 9:00", "✎draft", "⏲", "due 25m" / "breached 1h"; tight, for a narrow queue: "due 1h5m" /
"⚠1h5m"), words for the conversation header,
`show` and the why-here popup.

Takes a QueueRow or a ConversationView (both carry the same fields); ``now`` is aware and in
the zone the times are shown in.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol

from tui_desk.desk.timefmt import format_datetime_short, format_duration, format_when
from tui_desk.desk.views import QueueRow

if TYPE_CHECKING:
    from tui_desk.desk.sla import Sla

DRAFT = "✎draft"
SCHEDULED = "⏲"  # U+23F2, text presentation: one cell (not the two-cell emoji ⏰)
MENTION = "@"  # the row's marker: a teammate's note mentions me and I have not seen it
BREACHED = "⚠"  # U+26A0, text presentation: one cell; a breach in a narrow row ("⚠1h29m")


class Marked(Protocol):
    """What the markers read: a QueueRow or a ConversationView (desk.views)."""
    @property
    def assignee(self) -> str | None: ...
    @property
    def snoozed_until(self) -> dt.datetime | None: ...
    @property
    def snoozed_until_reply(self) -> bool: ...
    @property
    def has_draft(self) -> bool: ...
    @property
    def scheduled_reply_at(self) -> dt.datetime | None: ...


def _snoozed(row: Marked, now: dt.datetime) -> bool:
    return row.snoozed_until_reply or (row.snoozed_until is not None and row.snoozed_until > now)


SOON = 12 * 3600  # a due time further than this is said as a day and time ("due Mon 9:30")


def sla_due(row: Marked, now: dt.datetime, *, roomy: bool = False, tight: bool = False) -> str | None:
    """The SLA target due next (desk.sla: the running one with the earliest due time), against
    `now` on the wall clock so it stays right as the clock runs: "due 25m", "due Mon 9:30",
    "breached 1h"; roomy: "first response due 25m"; tight (a narrow queue row): "due 1h5m",
    "⚠1h29m". None without a running target."""
    return sla_due_of(getattr(row, "sla", None), now, roomy=roomy, tight=tight)


def sla_due_of(sla: Sla | None, now: dt.datetime, *, roomy: bool = False, tight: bool = False) -> str | None:
    """sla_due of a conversation's Sla (desk.sla), row or not (`rules test`'s as-if line)."""
    target = sla.next_due() if sla is not None else None
    if target is None or target.due is None:
        return None
    what = target.kind.replace("_", " ") + " " if roomy else ""
    ahead = target.due - now.timestamp()
    if tight:
        if ahead < 0:
            return BREACHED + format_duration(-ahead).replace(" ", "")
        return "due " + (format_duration(ahead).replace(" ", "") if ahead < SOON
                         else format_when(dt.datetime.fromtimestamp(target.due, now.tzinfo), now))
    if ahead < 0:
        return f"{what}breached {format_duration(-ahead)}"
    when = format_duration(ahead) if ahead < SOON else format_when(dt.datetime.fromtimestamp(target.due, now.tzinfo), now)
    return f"{what}due {when}"


def row_marker(row: QueueRow) -> str:
    """The one character a queue row starts with: MENTION for an unseen mention of this agent
    (the Mentions view lists them first; opening the conversation sees it), else the priority's
    ("!" over the response target, "+" close to it, " "): a mention is a teammate asking me,
    and a breach still says so beside the subject ("⚠1h29m")."""
    return MENTION if row.mention_unseen else (row.marker or " ")[:1]


def shared_status(query: str) -> str | None:
    """The one status every conversation a search or view query finds has ("status:pending":
    pending; "sla:soon": open, a target runs only while open); None when it may find several
    (no status term: a search lists pending and closed beside the open ones)."""
    if not query.strip():  # the Queue view, the list at start: no parser (nor its import) needed
        return None
    from tui_desk.store.search import SearchError, parse_query  # a search's or a view's: ~4 ms of import

    try:
        q = parse_query(query)
    except SearchError:
        return None
    statuses = set(q.statuses)
    if q.sla:
        statuses = statuses & {"open"} if statuses else {"open"}
    return statuses.pop() if len(statuses) == 1 else None


def state_markers(row: Marked, now: dt.datetime, *, roomy: bool = False, status: str = "open",
                  view_status: str = "open", tight: bool = False) -> tuple[str, ...]:
    """Short: "@Alice" for Alice Martin (her first name, at most 12 characters) and a bare "⏲".
    ``roomy`` (the conversation header): the whole name and "⏲ Fri 9:00". ``tight`` (a queue
    row too narrow for the short ones beside a useful part of its subject): the SLA's "⚠1h29m".
    The SLA's comes first: a row or header too narrow for all is cut from the end, and a
    breach matters more than a draft or who has it. ``status``: the row's, first when it is not
    ``view_status``, the one every row of the list shares (shared_status: the Pending view's rows
    need no "pending" each); a list of several ("pending", "closed": a search lists them beside
    the open ones) names all but open. The conversation header and the CLI's lines show the
    status on their own."""
    out = [] if status == view_status else [status]
    due = sla_due(row, now, roomy=roomy, tight=tight)
    if due:
        out.append(due)
    if row.assignee:
        out.append(f"@{row.assignee}" if roomy else f"@{row.assignee.split()[0][:12]}")
    if _snoozed(row, now):
        until = row.snoozed_until  # None only when snoozed until the reply (_snoozed)
        out.append("z reply" if row.snoozed_until_reply or until is None else f"z {format_when(until, now)}")
    if row.has_draft:
        out.append(DRAFT)
    if row.scheduled_reply_at is not None:
        out.append(f"{SCHEDULED} {format_when(row.scheduled_reply_at, now)}" if roomy else SCHEDULED)
    return tuple(out)


def state_words(row: Marked, now: dt.datetime) -> tuple[str, ...]:
    out = []
    if row.assignee:
        out.append(f"assigned: {row.assignee}")
    if _snoozed(row, now):
        until = row.snoozed_until  # None only when snoozed until the reply (_snoozed)
        out.append("snoozed until the customer replies" if row.snoozed_until_reply or until is None
                   else f"snoozed until {format_datetime_short(until, now)}")
    if row.has_draft:
        out.append("✎ draft saved")
    if row.scheduled_reply_at is not None:
        out.append(f"{SCHEDULED} reply scheduled {format_datetime_short(row.scheduled_reply_at, now)}")
    due = sla_due(row, now, roomy=True)
    if due:
        out.append(f"SLA: {due}")
    return tuple(out)
