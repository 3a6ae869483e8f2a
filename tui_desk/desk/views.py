"""What the desk hands to the UI and the CLI: plain, already-sanitized values.

The UI renders these and nothing else; it never touches the store or mail records directly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, dataclass_transform

from tui_desk.desk.snippets import Fill as Fill, Snippet as Snippet  # defined beside their loader; handed on from here

if TYPE_CHECKING:
    from tui_desk.desk import metrics
    from tui_desk.desk.questions import QuestionGroup
    from tui_desk.desk.sla import Sla
    from tui_desk.desk.snippet_stats import SnippetStats

# a message's header word when a machine sent it (MessageView.auto_submitted): the pane and `show`
AUTO_REPLY = "auto-reply"

_Record = TypeVar("_Record")


@dataclass_transform(frozen_default=True)
def record(cls: type[_Record]) -> type[_Record]:
    """A view record: frozen to mypy (``frozen_default``), plain slots at run time. Nothing
    sets a field after ``__init__``: mypy says so here, and tests/conftest.py makes every
    record's fields set-once for the whole suite. ``frozen=True`` made each class's
    ``__setattr__`` and ``__delattr__`` at import: with the rest of its making, ~22 M
    instructions (~3.5 ms) of the first paint, and every row built through object.__setattr__.
    Hashable as before (a frozen dataclass with eq is)."""
    return dataclass(slots=True, unsafe_hash=True)(cls)


@record
class QueueRow:
    id: int
    customer: str  # display name or address of the customer, sanitized
    customer_addr: str
    subject: str  # sanitized
    status: str  # open | pending | closed | spam
    tags: tuple[str, ...]
    message_count: int
    last_date: dt.datetime  # aware, newest message
    score: float
    marker: str  # one char for the row: "!" overdue, "+" due soon, " " otherwise
    reasons: tuple[str, ...]  # short, human-readable ("waiting 3h of 2h target", "loud: 3 mails in 5 min")
    flags: tuple[str, ...] = ()  # "loud", "urgent-word", "vip", ...
    assignee: str | None = None
    snoozed_until: dt.datetime | None = None
    snoozed_until_reply: bool = False
    has_draft: bool = False  # a reply draft is saved
    scheduled_reply_at: dt.datetime | None = None  # a send-later reply waits in the outbox (the first)
    sla: Sla | None = None  # due times and states per [sla] target (desk.sla); None: not computed
    mention_unseen: bool = False  # a teammate's note mentions this agent, not seen yet (desk.mentions)
    # an open conversation's customer mail still unanswered, the oldest (None: nobody waits)
    waiting_since: dt.datetime | None = None

    @property
    def age_from(self) -> dt.datetime:
        """What the row's age counts from: the customer's wait while they wait (as its reasons'
        "waiting 17m": the desk's acknowledgement answers nobody), else the newest message."""
        return self.waiting_since or self.last_date


@record
class SlaAlert:
    """A running SLA target changed while the app runs (desk.sla_watch): ok -> warning, or to
    breached. `text` is the notice, sanitized."""
    conv_id: int
    kind: str  # first_response | next_response | resolution
    state: str  # warning | breached
    text: str


@record
class MentionAlert:
    """A teammate's note mentioning this agent arrived (desk.mentions). `text` is the notice,
    sanitized plain text: "Chen Wei mentioned you on #42: <the note's first words>"."""
    conv_id: int
    author: str  # sanitized
    text: str


@record
class WorkAlert:
    """Work came to this agent (desk.work_news): a teammate assigned a conversation to me
    ("assigned": "Alice Martin assigned #2 to you: <subject>"), or a customer wrote in one
    assigned to me or where my reply was the last mail ("replied": "Ann Lee replied on #2
    (assigned to you): <subject>"). `who` and `text` are sanitized plain text."""
    conv_id: int
    kind: str  # assigned | replied
    who: str
    text: str


@record
class AttachmentView:
    filename: str
    content_type: str
    size: int
    saved_as: str = ""  # the file name a save into a folder starts from (desk.attachments.filename_for)


@record
class TextBlock:
    text: str  # sanitized
    quoted: bool  # a quoted part of an earlier message ("> ..." or "On ... wrote:" and below)


@record
class MessageView:
    id: int
    sender: str  # "Name <addr>", sanitized
    to: str
    cc: str
    date: dt.datetime | None
    from_agent: bool
    blocks: tuple[TextBlock, ...]
    attachments: tuple[AttachmentView, ...]
    defects: tuple[str, ...]
    is_note: bool = False  # an agents' internal note: show it as such, never quote it to a customer
    message_id: str = ""
    auto_submitted: bool = False  # an auto-reply, a bounce or a forward: nobody's turn
    # each address of To and Cc ("Name <addr>" or addr, sanitized): `to` and `cc` are them as
    # one line, for the screens; these keep a name with a comma in it one address (show --json)
    to_each: tuple[str, ...] = ()
    cc_each: tuple[str, ...] = ()


@record
class ActionLine:
    """What a rule or an incident did in the conversation, from its history (a `rule` event):
    a quiet line between the messages."""
    at: dt.datetime  # aware
    text: str  # sanitized: "rule 'refunds to billing' tagged +billing"


@record
class HistoryItem:
    """Another conversation of the same customer (or company)."""
    id: int
    subject: str
    status: str
    last_date: dt.datetime | None
    same_person: bool  # False: same company domain, other person


@record
class ConversationView:
    id: int
    subject: str
    customer: str
    status: str
    tags: tuple[str, ...]
    messages: tuple[MessageView, ...]  # oldest first, newest last
    reasons: tuple[str, ...] = ()
    history: tuple[HistoryItem, ...] = ()  # newest first
    assignee: str | None = None
    snoozed_until: dt.datetime | None = None
    snoozed_until_reply: bool = False
    replying: tuple[str, ...] = ()  # teammates with a reply open right now (sanitized names)
    has_draft: bool = False
    scheduled_reply_at: dt.datetime | None = None
    sla: Sla | None = None
    actions: tuple[ActionLine, ...] = ()  # what rules and incidents did, oldest first

    def in_time_order(self) -> list[MessageView | ActionLine]:
        """The messages with the action lines between them: each action before the first
        message dated after it (a message without a date keeps its place)."""
        out: list[MessageView | ActionLine] = []
        waiting = list(self.actions)
        for m in self.messages:
            while waiting and m.date is not None and waiting[0].at < m.date:
                out.append(waiting.pop(0))
            out.append(m)
        return out + waiting


@record
class FollowupLine:
    """One conversation of a bulk follow-up's dry run (desk.followup)."""
    conv_id: int
    state: str  # new (carries its customer's mail) | covered (the customer's mail goes in another: a note)
    # | already (sent before: not again) | skipped (it cannot get one: text says why)
    text: str  # sanitized: "#12  ann@x.test  Re: Dark mode? [#12]  Hi Ann, it is here"


@record
class OutboxEntry:
    """A reply in the outbox, not yet done (its text: DeskService.outbox_mail)."""
    id: int
    conv_id: int | None
    recipients: tuple[str, ...]  # sanitized
    state: str  # queued | sending | sent (filing in Sent) | failed | maybe_sent | held
    send_at: dt.datetime  # aware
    error: str | None = None  # the server's last word (held: the news, without what to do), sanitized
    attempts: int = 0  # tries that failed for a reason a retry may fix (queued: it is retrying)
    next_try: dt.datetime | None = None  # aware: when a retrying one is tried again
    mine: bool = True  # this desk's agent queued it (a store two agents share holds theirs too)
    subject: str = ""  # its Subject as sent, sanitized, one line
    customer: str = ""  # who gets it: the first To's name (else address), "+2" for more; sanitized
    needs_fix: bool = False  # queued, waiting for its account's SMTP secret to be fixed (error says)

    @property
    def retrying(self) -> bool:
        """Queued after a failed try (SMTP down, say): the outbox tries again at next_try."""
        return self.state == "queued" and self.attempts > 0

    @property
    def due(self) -> dt.datetime:
        """When it goes (a retrying one: its next try), if nothing holds it."""
        return self.next_try if self.retrying and self.next_try is not None else self.send_at


@record
class OutboxMail:
    """A reply in the outbox as the customer gets it: what was queued, never filled again."""
    to: str  # sanitized: "Ann Lee <ann@c.test>, bob@y.test"
    cc: str
    subject: str  # sanitized, one line
    text: str  # sanitized: the text as the customer reads it, placeholders filled
    attachments: tuple[str, ...] = ()  # file names, sanitized


@record
class IncidentView:
    """An active incident (desk.incident), for the app's header and its incident key."""
    name: str  # one word: "payments-failing"
    title: str  # sanitized
    match: str  # sanitized: the search it matches new mail with
    conversations: int  # tagged with it now


@record
class IncidentPlanView:
    """Who resolving an incident mails (desk.incident.fixed.plan_b), for the app's confirm."""
    name: str
    fixed: str  # the snippet's name
    customers: int  # the mails: one per customer
    conversations: int  # those they answer (a customer's others get a note)
    lines: tuple[FollowupLine, ...]  # one per customer (state new), then the held ones (conv_id 0)


class BackgroundWork(Protocol):
    """Mail sync and outbox delivery beside the app (desk.background.Background). The UI sets
    the two callbacks (called on the event loop) and runs it until ``stop`` is set."""

    on_news: Callable[[], None] | None  # status(), trouble() or `changes` may have changed
    on_outbox: Callable[[Any], None] | None  # a sync.delivery.OutboxReport with something in it
    changes: int  # grows whenever mail or state changed in the store

    def status(self) -> str: ...

    def trouble(self, countdown: bool = True) -> str: ...

    async def run(self, stop: Any) -> None: ...

    async def deliver_now(self) -> Any:
        """One outbox pass now, after the one running (if any); its OutboxReport."""


class DeskService(Protocol):
    """The whole surface the TUI uses. Implemented by tui_desk.desk.service.Desk."""

    agent: str  # this agent's name ("me" when assigning)

    async def queue_ids(self, query: str | None = None) -> list[int]:
        """Conversation ids: priority order, or for a search query newest first."""

    async def queue_rows(self, ids: list[int]) -> list[QueueRow]:
        """Rows for these ids, in the same order (ids that vanished are left out)."""

    async def sla_order(self, ids: list[int]) -> list[int]:
        """These ids by SLA (desk.sla.sla_order): breached first, the most over first; then by
        due time; then those without a running target, in the order given. Without [sla]
        targets: as given."""

    def sla_configured(self) -> bool:
        """[sla] has targets: L, the Breaching view and the rows' SLA markers mean something."""

    async def sla_news(self) -> list[SlaAlert]:
        """SLA targets that went from ok to warning, or to breached, since the last call
        (desk.sla_watch): each said once; the first call only takes note. [] without [sla]."""

    async def mention_news(self) -> list[MentionAlert]:
        """Teammates' notes mentioning this agent stored since the last call (desk.mentions),
        oldest first: each said once, not again at the next start; the first call on a store
        only takes note."""

    def other_app_line(self) -> str | None:
        """When another running tui-desk app has this store open, the one line that says so
        (store.app_lock; taking the store's app lock when it is free)."""

    async def work_news(self) -> list[WorkAlert]:
        """Conversations a teammate assigned to this agent, and customers' mail to the agent's
        conversations, since the last call (desk.work_news): each said once, not again at the
        next start, never for the agent's own actions; the first call on a store only takes note."""

    async def conversation(self, conv_id: int) -> ConversationView | None:
        """The conversation as the agent opens it: its mentions of the agent are seen now."""

    def snippets(self) -> list[Snippet]: ...

    async def snippet_stats(self, since: int | None = None, until: int | None = None) -> list[SnippetStats]:
        """What happened after each snippet was used (uses in [since, until); None: no bound):
        every snippet there is, and names used that are gone, by name (desk.snippet_stats)."""

    # Agents' actions. Each returns one line saying what was done; bad input raises ValueError
    # (desk.commands.CommandError, desk.when.WhenError) with a message for the user.
    async def tag(self, ids: list[int], add: Sequence[str] = (), remove: Sequence[str] = ()) -> str: ...

    async def set_status(self, ids: list[int], status: str) -> str: ...

    async def snooze(self, ids: list[int], when_text: str) -> str: ...

    async def assign(self, ids: list[int], agent: str | None) -> str: ...

    async def merge(self, keep_id: int, other_ids: list[int], different_customers: bool = False) -> str:
        """The others' mail, tags and replies join `keep_id` (undoable); different customers'
        conversations only with `different_customers` (merge_differs: the question to ask)."""

    async def merge_differs(self, keep_id: int, other_ids: list[int]) -> str | None:
        """"#12 (ana@x) and #40 (bo@y) are different customers", or None when one customer's."""

    async def undo(self) -> str | None:
        """Undo the last action; None when there is nothing to undo."""

    async def known_tags(self) -> list[str]: ...

    async def save_attachment(self, message_rowid: int, index: int, target: str | None = None) -> str:
        """Attachment `index` of message `message_rowid` (MessageView.id) saved; never overwrites."""

    async def open_attachment(self, message_rowid: int, index: int) -> str: ...

    async def add_note(self, conv_id: int, body_markdown: str) -> str:
        """An internal note (Markdown) on the conversation, shared with the team, never sent."""

    async def known_agents(self) -> list[str]: ...

    # Incident mode (desk.incident): shared with the team through the server.
    async def active_incidents(self) -> list[IncidentView]:
        """The incidents active now, oldest first."""

    async def start_incident(self, title: str, match: str, ids: list[int]) -> str:
        """Start one: new mail matching `match` gets its acknowledgement; `ids` join it now."""

    async def incident_preview(self, name: str) -> IncidentPlanView:
        """Who resolving it would mail, one line per customer (nothing is done)."""

    async def resolve_incident(self, name: str) -> str:
        """End it for the team: its conversations get the 'fixed' snippet through the outbox."""

    async def setup_hint(self) -> str | None:
        """What the empty queue says when there is no account and no mail yet (plain text)."""

    def views(self) -> list[tuple[str, str | None]]:
        """Saved views (name, query); query None is the priority queue."""

    async def view_ids(self, query: str | None) -> list[int]: ...

    # Replies. reply() queues (bad input: ValueError with the user's message) and returns
    # (outbox id, what will happen); cancel_send() undoes a queued one back to the draft.
    # reply_started() tells teammates "<agent> is replying" and returns what the agent has seen,
    # for reply(seen_upto=...): mail arriving after it holds the reply before SMTP.
    async def reply(self, conv_id: int, body: str, reply_all: bool = False,
                    send_at_text: str | None = None, seen_upto: int | None = None,
                    attachments: Sequence[str] = (), snippets: list[str] | None = None) -> tuple[int, str]:
        """Queue a reply; `snippets` names the snippets it used (recorded in the history)."""

    async def forward(self, conv_id: int, to_text: str, body: str, send_at_text: str | None = None,
                      seen_upto: int | None = None, attachments: Sequence[str] = (),
                      snippets: list[str] | None = None) -> tuple[int, str]:
        """The customer's last mail, attached whole, to `to_text` ("a@x, Name <b@y>")."""

    async def reply_started(self, conv_id: int) -> int | None: ...

    async def reply_preview(self, conv_id: int, reply_all: bool = False) -> tuple[str, str, str]:
        """(To, Cc, Subject) the reply would have, sanitized; ValueError when there is nobody."""

    async def forward_preview(self, conv_id: int) -> str:
        """The Subject a forward would have, sanitized."""

    async def reply_ended(self, conv_id: int) -> None: ...

    async def cancel_send(self, outbox_id: int) -> str: ...

    async def send_anyway(self, outbox_id: int) -> str:
        """A held, failed or 'maybe sent' reply: the agent has decided it goes (again)."""

    async def discard_send(self, outbox_id: int) -> str: ...

    async def draft(self, conv_id: int) -> tuple[str, bool, str | None] | None: ...

    async def save_draft(self, conv_id: int, body: str, reply_all: bool = False) -> None: ...

    async def discard_draft(self, conv_id: int) -> str:
        """Throw the draft away (undo brings it back); says what it did."""

    async def others_replying(self, conv_id: int) -> tuple[str, ...]:
        """The teammates with a reply to the conversation open now (the collision warning)."""

    def reply_placeholders(self) -> list[str]: ...

    async def reply_fills(self, conv_id: int, body: str) -> list[Fill]:
        """Each placeholder of `body` with the value a reply to the conversation sent now fills it
        with (sanitized plain text), or why it has none (desk.replies.fill_preview)."""

    async def outbox(self) -> list[OutboxEntry]:
        """Replies not yet done, in the order they go (desk.outbox_view.going_order): held ones last."""

    async def outbox_mail(self, outbox_id: int) -> OutboxMail:
        """One reply of the outbox as the customer gets it; ValueError when it is no longer there."""

    async def send_now(self, outbox_id: int) -> str:
        """A reply waiting out its undo window (or its send-later time) goes now."""

    # Bulk follow-up (desk.followup): one reply from the snippet to each conversation, through
    # the outbox at the [followup] pace, never twice to one conversation.
    async def followup_preview(self, ids: list[int], snippet: str) -> list[FollowupLine]:
        """The dry run: who gets what, one line per conversation; ValueError for an unknown snippet."""

    async def followup(self, ids: list[int], snippet: str, status: str | None = None) -> str:
        """Queue the follow-up (then set `status` on the conversations that got it); one line saying so."""

    # Reports (issue 15): periods are [since, until) in POSIX seconds; the desk's zone is
    # [priority] timezone. Subjects in QuestionGroup come from mail: sanitize them to show.
    async def report(self, since: int, until: int, by: tuple[str, ...] = (),
                     business_hours: bool = False) -> metrics.Report:
        """Headline figures and the breakdowns `by` (metrics.BREAKDOWNS); ValueError for a bad one."""

    async def load(self, since: int, until: int) -> tuple[metrics.Heatmap, metrics.Staffing]:
        """Customer messages by weekday x hour, and the busiest hours against the reply rate."""

    async def questions(self, since: int, until: int) -> list[QuestionGroup]:
        """Frequent questions of the conversations first asked in the period, biggest first."""

    async def export(self, query: str | None) -> tuple[list[str], list[list[object]]]:
        """(header, rows): one row per conversation (all, or those the search finds) with its metrics."""

    def business_hours_configured(self) -> bool:
        """[priority] business_hours is set: reports can give business time too."""

    # The desk itself: what the app needs of its config, its store and the work beside it.
    def undo_send_seconds(self) -> list[int]:
        """The undo windows of the accounts that send (seconds); [] when none sends."""

    def background(self) -> BackgroundWork | None:
        """Sync and delivery for the desk's accounts, not started; None without accounts."""

    async def store_version(self) -> int | None:
        """Changes when another process committed to the store; None: nothing to watch."""

    def store_mark(self) -> tuple[int, ...] | None:
        """Changes when the store was written to, by any process; None: nothing to watch."""

    async def check_store(self) -> None:
        """The store checked before the first write; raises when it is damaged."""

    async def close(self) -> None: ...
