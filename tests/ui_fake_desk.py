"""An in-memory DeskService for the UI tests and for looking at the app by eye.

Its mail is tests/ui_fake_data.py: hand-written conversations first, then as many generated
ones as asked for. Generated rows are made on demand from their id, so a desk of 100k
conversations costs nothing until a row is looked at. Search and saved views are the real
store.search over an in-memory copy (tests/ui_fake_search.py). tests/test_desk_behaviour.py
runs one behaviour suite on this and on the real Desk, so the two cannot drift.

Why this file is long: it is the whole DeskService protocol in one class (desk.views), method
for method beside the real Desk's; a split would scatter what test_desk_behaviour compares.

    python -m tests.ui_fake_desk            # 100k conversations, the clock fixed at FIXED_NOW
    python -m tests.ui_fake_desk --n 50 --live-clock
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import argparse
import asyncio
import dataclasses
import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from tui_desk.desk.outbox_view import going_order
from tui_desk.desk.sla import Sla, sla_matches, sla_order
from tui_desk.desk.sla_watch import SlaWatch
from tui_desk.desk.tags import change_words, tag_names, tag_problem
from tui_desk.desk.timefmt import format_datetime_short
from tui_desk.desk.when import parse_send_at, parse_when
from tui_desk.desk.snippet_stats import SnippetStats
from tui_desk.desk.snippets import capture_names, fills
from tui_desk.desk.views import ActionLine, ConversationView, FollowupLine, HistoryItem, IncidentPlanView, IncidentView, MentionAlert, OutboxEntry, OutboxMail, QueueRow, SlaAlert, Snippet, Fill, WorkAlert
from tui_desk.store.outbox import kept_separator, kept_separator_in
from tui_desk.store.search import STATUSES as ALL_STATUSES, mention_name, parse_query

try:
    from tests.ui_fake_data import (AGENT, FAKE_AGENT, FIRST_NAMES, FIXED_NOW, FIXED_SNIPPETS, GENERATED_STATUSES,
                                    LAST_NAMES, SUBJECTS, SUPPORT, TAGS, ago, handmade_conversations, make_message,
                                    plain, quoted)
    from tests.ui_fake_search import FakeSearchIndex
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_data import (AGENT, FAKE_AGENT, FIRST_NAMES, FIXED_NOW, FIXED_SNIPPETS, GENERATED_STATUSES,
                              LAST_NAMES, SUBJECTS, SUPPORT, TAGS, ago, handmade_conversations, make_message, plain,
                              quoted)
    from ui_fake_search import FakeSearchIndex

__all__ = ["FAKE_AGENT", "FIXED_NOW", "FIXED_SNIPPETS", "FakeDesk", "settle"]  # what the tests import



@dataclass
class TriageState:
    """What agents change on a conversation (the rest of the row comes from the data)."""

    status: str
    tags: tuple[str, ...]
    assignee: str | None = None
    snooze_until: dt.datetime | None = None
    snooze_reply: bool = False

    @property
    def snoozed(self) -> bool:
        return self.snooze_reply or (self.snooze_until is not None and self.snooze_until > FIXED_NOW)


def _plural(n: int) -> str:
    return f"{n} conversation{'s' if n != 1 else ''}"


class FakeDesk:
    """DeskService over hand-written conversations plus ``n`` generated ones in total.

    Triage actions behave as the real desk's (desk.commands): same checks, same one-line
    descriptions, one undo step per action; the queue is the open conversations that are not
    snoozed. Replies wait in an outbox that never sends. Only the conversations an agent changed
    are held as state; tests/test_desk_behaviour.py holds both desks to the same behaviour.
    """

    agent = FAKE_AGENT

    def __init__(
        self,
        n: int = 40,
        *,
        latency: float = 0.0,
        snippet_dir: Path | None = None,
        snippet_list: list[Snippet] | None = None,
        slas: dict[int, Sla] | None = None,
    ) -> None:
        """``slas``: the SLA of each conversation (desk.sla), as with [sla] targets configured
        (rows carry them, the Breaching view and `sla:` work); change it to move time on. None:
        no [sla] targets, as the real desk without them."""
        self.handmade = handmade_conversations()
        self.n = max(n, len(self.handmade))
        self.latency = latency
        self.snippet_dir = snippet_dir
        self.snippet_list = snippet_list
        self.row_calls: list[list[int]] = []  # every queue_rows request, for laziness checks
        self.queries: list[str | None] = []
        self.changed: dict[int, TriageState] = {}  # conversations agents have changed
        # what undo restores: the triage state, or a callable (a discarded draft comes back)
        self.undo_stack: list[tuple[str, dict[int, TriageState] | Callable[[], None], list[int]]] = []
        self.actions: list[tuple] = []  # every triage call, for the tests
        self.search = FakeSearchIndex(self._conversation)
        self.drafts: dict[int, tuple[str, bool, str | None]] = {}
        self.action_lines: dict[int, tuple[ActionLine, ...]] = {}  # what rules did (ConversationView.actions)
        self.histories: dict[int, tuple[HistoryItem, ...]] = {}  # the customer's others (ConversationView.history)
        self.replies: list[tuple[int, str, bool, str | None]] = []  # every reply() call
        self.replying: list[tuple[str, int]] = []  # ("started" | "ended", conv id)
        self.others_replying_now: dict[int, tuple[str, ...]] = {}  # teammates with a reply open
        self.outbox_items: dict[int, tuple[OutboxEntry, str, bool]] = {}  # id -> (entry, body, reply_all)
        self.unsent_here: dict[int, str] = {}  # outbox id -> what became of it (cancel_send says)
        self._outbox_ids = 0
        self.slas = slas
        self.sla_watch = SlaWatch()
        self.followups: dict[tuple[str, int], int] = {}  # (snippet, conv id) -> outbox id: never twice
        self.incidents: dict[str, IncidentView] = {}  # active ones, by name
        self.incident_members: dict[str, list[int]] = {}  # the conversations that joined one
        self.mention_alerts: list[MentionAlert] = []  # what the next mention_news() says (then nothing)
        self.opened: set[int] = set()  # conversations opened: their mentions are seen
        self.work_alerts: list[WorkAlert] = []  # what the next work_news() says (then nothing)
        self.shared_store_line: str | None = None  # another app has the store open: what other_app_line() says
        # conversations a teammate's note mentions this agent in (the stand-in's mail has none):
        # mentions:me finds them, their rows say so until they are opened (QueueRow.mention_unseen)
        self.mentioned: set[int] = set()

    # --- DeskService ---------------------------------------------------------------------

    # no store, no accounts: nothing to watch, check, run beside the app or close
    def undo_send_seconds(self) -> list[int]:
        return []

    def background(self) -> None:
        return None

    async def store_version(self) -> None:
        return None

    def store_mark(self) -> None:
        return None

    async def check_store(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def queue_ids(self, query: str | None = None) -> list[int]:
        self.queries.append(query)
        await self._pause()
        if query and query.strip():  # newest first, as the real search lists them
            return self._search(query, by_priority=False)
        # the queue is what waits for an answer: open and awake (pending waits for the customer)
        return [i for i in range(1, self.n + 1) if self._queued(i)]

    def _search(self, query: str, by_priority: bool) -> list[int]:
        """The real grammar; `sla:` answered from ``slas`` as the desk does (desk.sla)."""
        ids = self.search.ids(query, FIXED_NOW, range(1, self.n + 1), by_priority=by_priority, me=self.agent)
        q = parse_query(query, me=self.agent)
        if q.sla:
            ids = [i for i in ids if sla_matches((self.slas or {}).get(i), q.sla)]
        if mention_name(self.agent).casefold() in [n.casefold() for n in q.mentions]:  # not seen first, as desk.mentions (no new notes here)
            ids = [*ids, *(i for i in sorted(self.mentioned) if i not in ids)]
            ids = [i for i in ids if i not in self.opened] + [i for i in ids if i in self.opened]
        return ids

    async def sla_order(self, ids: list[int]) -> list[int]:
        await self._pause()
        return sla_order(ids, self.slas) if self.slas is not None else list(ids)

    def sla_configured(self) -> bool:
        return self.slas is not None

    async def sla_news(self) -> list[SlaAlert]:
        if self.slas is None:
            return []
        subjects = {cid: self._row(cid).subject for cid in self.slas}
        return self.sla_watch.look(self.slas, subjects, FIXED_NOW.timestamp(), FIXED_NOW.tzinfo or dt.timezone.utc)

    async def mention_news(self) -> list[MentionAlert]:
        said, self.mention_alerts = self.mention_alerts, []
        return said

    def other_app_line(self) -> str | None:
        return self.shared_store_line

    async def work_news(self) -> list[WorkAlert]:
        said, self.work_alerts = self.work_alerts, []
        return said

    def views(self) -> list[tuple[str, str | None]]:
        return [
            ("Queue", None),
            ("Mine", f'assignee:"{FAKE_AGENT}" status:open'),
            ("Unassigned", "is:unassigned status:open"),
            ("Pending", "status:pending"),
            ("Snoozed", "is:snoozed"),
            ("Waking today", "is:waking-today"),
            ("Closed", "status:closed"),
            *([("Breaching", "sla:soon")] if self.slas is not None else []),
            ("Mentions", "mentions:me"),
        ]

    async def view_ids(self, query: str | None) -> list[int]:
        if not query:
            return await self.queue_ids()
        await self._pause()
        return self._search(query, by_priority=True)

    # --- triage (as desk.commands does it) ------------------------------------------------

    async def tag(self, ids: list[int], add: list[str] = (), remove: list[str] = ()) -> str:
        self.actions.append(("tag", list(ids), list(add), list(remove)))
        add, remove = tag_names(add), tag_names(remove)
        if (problem := tag_problem(add)) is not None:
            raise ValueError(problem)

        def edit(s: TriageState) -> None:
            s.tags = tuple(sorted((set(s.tags) | set(add)) - set(remove)))

        return self._apply(ids, edit, f"tagged {_plural(len(set(ids)))} {change_words(add, remove)}")

    async def set_status(self, ids: list[int], status: str) -> str:
        self.actions.append(("status", list(ids), status))
        if status not in ALL_STATUSES:
            raise ValueError(f"status is one of {', '.join(ALL_STATUSES)}, not {status!r}")

        def edit(s: TriageState) -> None:
            s.status = status
            if status in ("closed", "spam"):
                s.snooze_until, s.snooze_reply = None, False

        said = self._apply(ids, edit, f"{status} {_plural(len(set(ids)))}")
        going = [e for e, _, _ in self.outbox_items.values() if e.conv_id in set(ids) and e.state == "queued"]
        if status in ("closed", "spam") and len(going) > 1:
            said += f"; {len(going)} replies to them still go (O cancels them)"
        elif status in ("closed", "spam") and going:
            whose = "its" if len(set(ids)) == 1 else f"#{going[0].conv_id}'s"
            said += f"; {whose} reply still goes {format_datetime_short(going[0].send_at, FIXED_NOW)} (O cancels it)"
        return said

    async def snooze(self, ids: list[int], when_text: str) -> str:
        self.actions.append(("snooze", list(ids), when_text))
        if when_text.strip().lower() in ("off", "wake", "none"):

            def wake(s: TriageState) -> None:
                s.snooze_until, s.snooze_reply = None, False

            return self._apply(ids, wake, f"woke {_plural(len(set(ids)))}")
        when = parse_when(when_text, FIXED_NOW)
        if when.at is not None and when.at <= FIXED_NOW:
            raise ValueError("that time is already past")

        def edit(s: TriageState) -> None:
            s.snooze_until, s.snooze_reply = when.at, when.until_reply

        until = "until the customer replies" if when.until_reply else f"until {when.at:%a %d %b %H:%M}"
        said = f"snoozed {_plural(len(set(ids)))} {until}"
        waiting = [c for c in sorted(set(ids)) if 1 <= c <= self.n and self._waits_for_answer(c)]
        if when.until_reply and waiting:  # as desk.commands.snooze says it
            shown = ", ".join(f"#{c}" for c in waiting[:5]) + (f" and {len(waiting) - 5} more" if len(waiting) > 5 else "")
            said += f" ({shown} {'waits' if len(waiting) == 1 else 'wait'} for an answer: the response target runs on)"
        return self._apply(ids, edit, said)

    def _waits_for_answer(self, cid: int) -> bool:
        """The customer wrote last (the real desk: conversations.waiting_since)."""
        mail = [m for m in self._conversation(cid).messages if not m.is_note and not m.auto_submitted]
        return bool(mail) and not mail[-1].from_agent

    async def assign(self, ids: list[int], agent: str | None) -> str:
        self.actions.append(("assign", list(ids), agent))
        agent = " ".join((agent or "").split()) or None
        if agent and (len(agent) > 64 or '"' in agent):
            raise ValueError(f"an agent name has at most 64 characters and no quotes, not {agent!r}")

        def edit(s: TriageState) -> None:
            s.assignee = agent

        what = f"assigned {_plural(len(set(ids)))} to {agent}" if agent else f"unassigned {_plural(len(set(ids)))}"
        return self._apply(ids, edit, what)

    async def merge_differs(self, keep_id: int, other_ids: list[int]) -> str | None:
        """As desk.merge.differs: the question M asks (the merge itself is the real desk's)."""
        from tui_desk.desk.merge import mixed_customers
        order = [keep_id, *sorted(set(other_ids) - {keep_id})]
        return mixed_customers({cid: self._row(cid).customer_addr for cid in order}, order)

    async def undo(self) -> str | None:
        self.actions.append(("undo",))
        if not self.undo_stack:
            return None
        description, before, ids = self.undo_stack.pop()
        if callable(before):
            before()
        else:
            self.changed.update(before)
        from tui_desk.desk.commands import named  # the real desk's words
        on = named(ids, self._row(ids[0]).subject if len(ids) == 1 else "")
        return f"{description} ({on})" if on else description

    async def known_tags(self) -> list[str]:
        tags = {t for row, _ in self.handmade for t in row.tags} | set(TAGS)
        tags |= {t for s in self.changed.values() for t in s.tags}
        return sorted(tags)

    async def setup_hint(self) -> str | None:
        return None

    async def known_agents(self) -> list[str]:
        known: dict[str, str] = {}
        for name in (FAKE_AGENT, "bob", *sorted(s.assignee for s in self.changed.values() if s.assignee)):
            known.setdefault(name.casefold(), name)  # each name once, whatever its case
        return sorted(known.values(), key=str.casefold)

    async def active_incidents(self) -> list[IncidentView]:
        return list(self.incidents.values())

    async def start_incident(self, title: str, match: str, ids: list[int]) -> str:
        from tui_desk.desk.incident.record import TAG, name_of
        self.actions.append(("start_incident", title, match, list(ids)))
        name = name_of(title)
        if name in self.incidents:
            return f"incident '{title}' is active already"
        if ids:
            await self.tag(ids, [TAG, f"{TAG}-{name}"])
        self.incidents[name] = IncidentView(name, title, match, len(set(ids)))
        self.incident_members[name] = sorted(set(ids))
        return f"incident '{title}' started"

    async def incident_preview(self, name: str) -> IncidentPlanView:
        """As desk.incident.for_app.resolve_preview: one line per customer, the carrier their newest open one."""
        from tui_desk.sanitize import sanitize_line
        ids = self.incident_members.get(name, [])
        by_customer: dict[str, list[int]] = {}
        for cid in ids:
            by_customer.setdefault(self._row(cid).customer_addr, []).append(cid)
        lines = []
        for addr, group in by_customer.items():
            carrier = max(group, key=lambda c: (self._row(c).status == "open", self._row(c).last_date, c))
            covers = [c for c in group if c != carrier]
            also = f"  (also answers {', '.join(f'#{c}' for c in covers)}: a note there)" if covers else ""
            lines.append(FollowupLine(0, "new", sanitize_line(f"{addr}  #{carrier}  Re: [#{carrier}] "
                                                              f"{self._row(carrier).subject}{also}")))
        return IncidentPlanView(name, "incident-fixed", len(by_customer), len(ids), tuple(lines))

    async def resolve_incident(self, name: str) -> str:
        self.actions.append(("resolve_incident", name))
        if name not in self.incidents:
            raise ValueError(f"no active incident '{name}'")
        plan = await self.incident_preview(name)
        found = self.incidents.pop(name)
        customers = f"{plan.customers} customer{'s' if plan.customers != 1 else ''}"
        return f"incident '{found.title}' resolved: 'incident-fixed' goes to {customers} ({_plural(plan.conversations)})"

    def _queued(self, cid: int) -> bool:
        state = self.changed.get(cid)
        if state is None:
            return self._base_row(cid).status == "open"
        return state.status == "open" and not state.snoozed

    def _state(self, cid: int) -> TriageState:
        state = self.changed.get(cid)
        if state is None:
            row = self._base_row(cid)
            state = TriageState(row.status, row.tags)
        return state

    def _apply(self, ids: list[int], edit, description: str) -> str:
        ids = sorted(set(ids))
        missing = [i for i in ids if not 1 <= i <= self.n]
        if missing:
            raise ValueError(f"no conversation {', '.join(map(str, missing))}")
        before = {i: dataclasses.replace(self._state(i)) for i in ids}
        for i in ids:
            state = dataclasses.replace(self._state(i))
            edit(state)
            self.changed[i] = state
        self.undo_stack.append((description, before, ids))
        return description

    async def queue_rows(self, ids: list[int]) -> list[QueueRow]:
        self.row_calls.append(list(ids))
        await self._pause()
        return [self._row(i) for i in ids if 1 <= i <= self.n]

    async def conversation(self, conv_id: int) -> ConversationView | None:
        await self._pause()
        if not 1 <= conv_id <= self.n:
            return None
        self.opened.add(conv_id)
        return self._conversation(conv_id)

    def _conversation(self, conv_id: int) -> ConversationView:
        if conv_id <= len(self.handmade):
            conv = self.handmade[conv_id - 1][1]
        else:
            conv = self._generated_conversation(conv_id)
        state = self.changed.get(conv_id)
        if conv_id in self.drafts:
            conv = dataclasses.replace(conv, has_draft=True)
        if conv_id in self.others_replying_now:
            conv = dataclasses.replace(conv, replying=self.others_replying_now[conv_id])
        if (scheduled := self._scheduled_reply_at(conv_id)) is not None:
            conv = dataclasses.replace(conv, scheduled_reply_at=scheduled)
        if self.slas is not None and conv_id in self.slas:
            conv = dataclasses.replace(conv, sla=self.slas[conv_id])
        if conv_id in self.action_lines:
            conv = dataclasses.replace(conv, actions=self.action_lines[conv_id])
        if conv_id in self.histories:
            conv = dataclasses.replace(conv, history=self.histories[conv_id])
        if state is None:
            return conv
        return dataclasses.replace(conv, status=state.status, tags=state.tags, assignee=state.assignee,
                                   snoozed_until=state.snooze_until, snoozed_until_reply=state.snooze_reply)

    # --- replies (as desk.replies does them: the outbox is a dict, nothing is ever sent) -------

    UNDO_SEND = 10  # the undo window of a desk without accounts (desk.queue_rows.undo_window)

    async def reply_preview(self, conv_id: int, reply_all: bool = False) -> tuple[str, str, str]:
        conv = self._conversation(conv_id)
        customer = next(m for m in reversed(conv.messages) if not m.from_agent)
        return customer.sender, "", f"Re: [#{conv_id}] {conv.subject}"

    async def reply_started(self, conv_id: int) -> int | None:
        self.replying.append(("started", conv_id))
        return max(m.id for m in self._conversation(conv_id).messages)  # the newest mail seen

    async def reply_ended(self, conv_id: int) -> None:
        self.replying.append(("ended", conv_id))

    async def reply(self, conv_id: int, body: str, reply_all: bool = False, send_at_text: str | None = None,
                    seen_upto: int | None = None, attachments: Sequence[str] = (),
                    snippets: list[str] | None = None) -> tuple[int, str]:
        if (separator := kept_separator_in(body)) is not None:
            raise ValueError(f"the reply still holds a draft kept below it: delete the line \"{separator}\" "
                             "and what you do not send")
        self.replies.append((conv_id, body, reply_all, send_at_text))
        send_at = FIXED_NOW + dt.timedelta(seconds=self.UNDO_SEND)
        if send_at_text is not None:
            send_at = parse_send_at(send_at_text, FIXED_NOW)
        who = self._row(conv_id).customer_addr
        self._outbox_ids += 1
        entry = self._outbox_entry(conv_id, send_at)
        self.outbox_items[entry.id] = (entry, body, reply_all)
        self.drafts.pop(conv_id, None)  # the draft went out with it
        if send_at_text is None:
            return entry.id, f"Sending to {who} in {self.UNDO_SEND} s"
        return entry.id, f"Will send to {who} {format_datetime_short(send_at, FIXED_NOW)}"

    async def cancel_send(self, outbox_id: int) -> str:
        if outbox_id in self.unsent_here and outbox_id not in self.outbox_items:  # as the real desk
            raise ValueError(f"nothing to undo: {self.unsent_here[outbox_id]}")
        if outbox_id not in self.outbox_items:
            raise ValueError(f"nothing sent in the last {self.UNDO_SEND} s to undo")
        entry, body, reply_all = self.outbox_items.pop(outbox_id)
        self.unsent_here[outbox_id] = f"the reply to #{entry.conv_id} is back in its draft"
        said = f"Reply to #{entry.conv_id} cancelled: back in the draft"
        kept = self.drafts.get(entry.conv_id)
        if kept is not None and kept[0].strip() and kept[0].strip() != body.strip():  # never lost: below
            name = f"your draft of {format_datetime_short(FIXED_NOW, FIXED_NOW)}"
            body = f"{body.rstrip()}\n\n{kept_separator(name)}\n\n{kept[0]}"
            said += f"; {name} is kept below it"
        self.drafts[entry.conv_id] = (body, reply_all, None)
        return said

    def _outbox_entry(self, conv_id: int, send_at: dt.datetime) -> OutboxEntry:
        row = self._row(conv_id)
        return OutboxEntry(self._outbox_ids, conv_id, (row.customer_addr,), "queued", send_at,
                           subject=f"Re: [#{conv_id}] {row.subject}", customer=row.customer)

    async def outbox(self) -> list[OutboxEntry]:
        return sorted((entry for entry, _, _ in self.outbox_items.values()), key=going_order)

    async def outbox_mail(self, outbox_id: int) -> OutboxMail:
        """As the real desk's: the text with its placeholders filled (the values of reply_fills)."""
        if outbox_id not in self.outbox_items:
            raise ValueError("this reply is no longer in the outbox")
        entry, body, _ = self.outbox_items[outbox_id]
        assert entry.conv_id is not None
        for fill in await self.reply_fills(entry.conv_id, body):
            if fill.value is not None:
                body = body.replace("{{" + fill.name + "}}", fill.value)
        row = self._row(entry.conv_id)
        return OutboxMail(f"{row.customer} <{row.customer_addr}>", "", entry.subject, body)

    async def draft(self, conv_id: int) -> tuple[str, bool, str | None] | None:
        return self.drafts.get(conv_id)

    async def save_draft(self, conv_id: int, body: str, reply_all: bool = False) -> None:
        if body.strip():
            self.drafts[conv_id] = (body, reply_all, None)
        else:  # an empty draft is no draft
            self.drafts.pop(conv_id, None)

    async def discard_draft(self, conv_id: int) -> str:
        draft = self.drafts.pop(conv_id, None)
        if draft is None:
            raise ValueError(f"#{conv_id} has no draft to discard")
        self.actions.append(("discard_draft", conv_id))
        self.undo_stack.append(("discarded the draft", lambda: self.drafts.__setitem__(conv_id, draft), [conv_id]))
        return f"discarded the draft of #{conv_id}"

    async def others_replying(self, conv_id: int) -> tuple[str, ...]:
        return self.others_replying_now.get(conv_id, ())

    # --- bulk follow-up (as desk.followup: one reply per customer into the outbox, in their most
    # recent conversation; the others covered by it; never twice) ----------------------------

    async def followup_preview(self, ids: list[int], snippet: str) -> list[FollowupLine]:
        from tui_desk.desk.snippets import fill
        from tui_desk.sanitize import sanitize_line
        body = next((s.body for s in self.snippets() if s.name == snippet), None)
        if body is None:
            raise ValueError(f"no snippet '{snippet}'")
        sent = {self._row(cid).customer_addr: cid for (name, cid), outbox_id in sorted(self.followups.items())
                if name == snippet and outbox_id}  # the customers it reached before, and where
        firsts: dict[int, str] = {}
        lines: dict[int, FollowupLine] = {}
        for cid in sorted(set(ids)):
            row = self._row(cid)
            if (snippet, cid) in self.followups:
                lines[cid] = FollowupLine(cid, "already", f"#{cid}  already sent ({sanitize_line(row.customer_addr)})")
                continue
            text, unknown = fill(body, {"customer_first_name": row.customer.split()[0], "customer_name": row.customer,
                                        "ticket_id": str(cid), "agent_name": self.agent, "subject": row.subject})
            if unknown:
                lines[cid] = FollowupLine(cid, "skipped", f"#{cid}  skipped: fill these before sending: "
                                          + ", ".join("{{" + u + "}}" for u in unknown))
                continue
            firsts[cid] = next((line.strip() for line in text.splitlines() if line.strip()), "")
        carriers = dict(sent)
        for cid in sorted(firsts, key=lambda c: (self._row(c).status == "open", self._row(c).last_date, c)):
            if self._row(cid).customer_addr not in sent:
                carriers[self._row(cid).customer_addr] = cid  # the most recent open one comes last
        for cid, first in firsts.items():
            row = self._row(cid)
            carrier = carriers[row.customer_addr]
            lines[cid] = (FollowupLine(cid, "new", f"#{cid}  {sanitize_line(row.customer_addr)}  "
                                                   f"Re: [#{cid}] {sanitize_line(row.subject)}  {sanitize_line(first)}")
                          if carrier == cid else
                          FollowupLine(cid, "covered", f"#{cid}  {sanitize_line(row.customer_addr)}  gets it in "
                                                       f"#{carrier} (one mail per customer)"))
        return [lines[cid] for cid in sorted(lines)]

    async def followup(self, ids: list[int], snippet: str, status: str | None = None) -> str:
        lines = await self.followup_preview(ids, snippet)
        new = [line.conv_id for line in lines if line.state == "new"]
        for cid in new:
            self._outbox_ids += 1
            entry = self._outbox_entry(cid, FIXED_NOW + dt.timedelta(seconds=self.UNDO_SEND))
            self.outbox_items[entry.id] = (entry, snippet, False)
            self.followups[(snippet, cid)] = entry.id
        noted = [line.conv_id for line in lines if line.state == "covered"]
        for cid in noted:
            self.followups[(snippet, cid)] = 0  # a note, no mail
        text = f"follow-up '{snippet}': queued {len(new)} repl{'y' if len(new) == 1 else 'ies'}"
        if noted:
            text += f", {_plural(len(noted))} noted (one mail per customer)"
        replied = [line.conv_id for line in lines if line.state != "skipped"]
        if status is not None and replied:
            text += "; " + await self.set_status(replied, status)
        return text

    def business_hours_configured(self) -> bool:
        return False  # as the behaviour suite's real desk: no [priority] business_hours

    def reply_placeholders(self) -> list[str]:
        house = ["customer_first_name", "customer_name", "ticket_id", "agent_name", "agent_first_name", "subject",
                 "expected_wait"]
        return house + [n for n in capture_names(self.snippets()) if n not in house]

    FIXED_WAIT = "later today, by 16:15 UTC"  # {{expected_wait}} here, as the real desk words it

    async def reply_fills(self, conv_id: int, body: str) -> list[Fill]:
        """As the real desk's (desk.replies.fill_preview): the house's values for the conversation."""
        row = self._row(conv_id)
        values = {"customer_first_name": row.customer.split()[0], "customer_name": row.customer,
                  "ticket_id": str(conv_id), "agent_name": self.agent, "agent_first_name": self.agent.split()[0],
                  "subject": row.subject, "expected_wait": self.FIXED_WAIT}
        return fills(body, values, set(capture_names(self.snippets())))

    # (name, uses, conversations, solved, closed, reopened, median close s, csat count, csat mean, great share)
    SNIPPET_FIGURES = (("password-reset", 12, 10, 9, 10, 1, 1800.0, 4, 2.75, 0.75),
                       ("refund-issued", 5, 4, 2, 3, 1, 3600.0, 0, None, None))

    async def snippet_stats(self, since: int | None = None, until: int | None = None) -> list[SnippetStats]:
        """Every snippet, with the canned figures of SNIPPET_FIGURES (the rest not used); the
        canned uses were a day before FIXED_NOW: a period without that day has none."""
        used_at = FIXED_NOW.timestamp() - 86400
        in_period = (since is None or since <= used_at) and (until is None or used_at < until)
        canned = {f[0]: SnippetStats(*f) for f in self.SNIPPET_FIGURES} if in_period else {}
        return [canned.get(s.name, SnippetStats(s.name)) for s in sorted(self.snippets(), key=lambda s: s.name)]

    def snippets(self) -> list[Snippet]:
        if self.snippet_list is not None:
            return list(self.snippet_list)
        from tui_desk.desk.snippets import bundled_dir, load_snippets

        folder = self.snippet_dir or bundled_dir("snippets")
        return load_snippets([folder] if folder else [])[0]

    # --- generated data ------------------------------------------------------------------

    def _scheduled_reply_at(self, conv_id: int) -> dt.datetime | None:
        """The first queued send-later reply (later than the undo window), as the real rows."""
        later = [e.send_at for e, _, _ in self.outbox_items.values() if e.conv_id == conv_id
                 and e.state == "queued" and e.send_at > FIXED_NOW + dt.timedelta(seconds=self.UNDO_SEND)]
        return min(later, default=None)

    async def _pause(self) -> None:
        if self.latency:
            await asyncio.sleep(self.latency)

    def _row(self, cid: int) -> QueueRow:
        row = self._base_row(cid)
        state = self.changed.get(cid)
        if cid in self.drafts:
            row = dataclasses.replace(row, has_draft=True)
        if (scheduled := self._scheduled_reply_at(cid)) is not None:
            row = dataclasses.replace(row, scheduled_reply_at=scheduled)
        if self.slas is not None and cid in self.slas:
            row = dataclasses.replace(row, sla=self.slas[cid])
        if cid in self.mentioned and cid not in self.opened:
            row = dataclasses.replace(row, mention_unseen=True)
        if state is None:
            return row
        return dataclasses.replace(row, status=state.status, tags=state.tags, assignee=state.assignee,
                                   snoozed_until=state.snooze_until, snoozed_until_reply=state.snooze_reply)

    def _base_row(self, cid: int) -> QueueRow:
        if cid <= len(self.handmade):
            return self.handmade[cid - 1][0]
        rnd = random.Random(cid)
        first, last = rnd.choice(FIRST_NAMES), rnd.choice(LAST_NAMES)
        customer = f"{first} {last}"
        subject = rnd.choice(SUBJECTS).format(n=10_000 + cid)
        tags = tuple(sorted(rnd.sample(TAGS, rnd.choice((0, 1, 1, 2, 3)))))
        # priority order: later ids wait less, so the queue reads as a plausible ranking
        minutes = 5 + (cid * 7919) % (60 * 24 * 30) if cid % 97 else 60 * 24 * 400 + cid
        marker = "!" if cid % 23 == 0 else "+" if cid % 11 == 0 else " "
        score = round(max(0.0, 6.0 - cid / max(self.n, 1) * 6.0), 2)
        reasons = ("waiting %dh" % (minutes // 60),) if minutes >= 60 else ("new",)
        return QueueRow(
            id=cid,
            customer=customer,
            customer_addr=f"customer{cid}@example.com",
            subject=f"Re: {subject}" if cid % 5 == 0 else subject,
            status=rnd.choice(GENERATED_STATUSES),
            tags=tags,
            message_count=1 + cid % 4,
            last_date=ago(minutes=minutes),
            score=score,
            marker=marker,
            reasons=reasons,
        )

    def _generated_conversation(self, cid: int) -> ConversationView:
        row = self._row(cid)
        customer = f"{row.customer} <{row.customer_addr}>"
        messages = []
        for k in range(row.message_count):
            agent = k % 2 == 1
            when = row.last_date - dt.timedelta(hours=3 * (row.message_count - 1 - k))
            messages.append(
                make_message(
                    cid * 10 + k,
                    AGENT if agent else customer,
                    when,
                    plain(
                        f"Message {k + 1} of conversation {cid}.\n"
                        + ("We are looking into it." if agent else f"About: {row.subject}")
                    ),
                    *([quoted(f"> earlier message {k}\n> quoted line")] if k else []),
                    to=customer if agent else SUPPORT,
                    cc=SUPPORT if agent else "",
                    agent=agent,
                )
            )
        return ConversationView(
            id=cid,
            subject=row.subject,
            customer=row.customer,
            status=row.status,
            tags=row.tags,
            messages=tuple(messages),
            reasons=row.reasons,
        )


async def settle(pilot) -> None:  # noqa: ANN001 - textual.pilot.Pilot
    """Let the app finish what it started: workers (which may start more), repaints, timers."""
    app = pilot.app
    for _ in range(20):
        await pilot.pause()
        busy = [w for w in app.workers if not w.is_finished]
        if not busy:
            break
        await app.workers.wait_for_complete()
    await pilot.pause()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="conversations in the queue")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds each desk call takes")
    parser.add_argument("--live-clock", action="store_true", help="use the real clock, not FIXED_NOW")
    parser.add_argument("--theme", default=None, help="start with this theme (not remembered)")
    args = parser.parse_args()

    from tui_desk.ui.app import DeskApp

    app = DeskApp(
        FakeDesk(args.n, latency=args.latency),
        clock=None if args.live_clock else (lambda: FIXED_NOW),
        theme=args.theme,
    )
    app.run()


if __name__ == "__main__":
    main()

