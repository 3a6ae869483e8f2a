"""The desk: the one object the TUI and the CLI talk to."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
from pathlib import Path
from typing import TYPE_CHECKING, Awaitable, Callable, Sequence

from tui_desk.config import Config
from tui_desk.desk import keywords, priority
from tui_desk.desk.agent_names import AgentNames
from tui_desk.desk.core import Change, DeskCore
from tui_desk.desk.followup import FollowupDesk
from tui_desk.desk.measuring import MeasuringDesk
from tui_desk.desk.queue_ids import QueueIds
from tui_desk.desk.queue_rows import build_rows, outdated, stored_rows
from tui_desk.desk.views import ConversationView, Fill, HistoryItem, MentionAlert, OutboxEntry, OutboxMail, QueueRow, WorkAlert

from tui_desk.sanitize import sanitize_line
from tui_desk.store import Store, mirror, queries, server_ops
from tui_desk.store.search import parse_query, query_ids

if TYPE_CHECKING:
    import sqlite3

    from tui_desk.desk.background import Background
    from tui_desk.desk.replies import QueuedReply
    from tui_desk.mail.model import Attachment

UTC = dt.timezone.utc

# Mail providers: people who share one are not colleagues, so no company history for them.
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.co.jp", "outlook.com", "hotmail.com",
    "live.com", "msn.com", "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.de",
    "gmx.net", "web.de", "mail.ru", "yandex.ru", "ya.ru", "rambler.ru", "bk.ru", "list.ru", "inbox.ru",
    "qq.com", "163.com", "126.com", "sina.com", "sohu.com", "foxmail.com", "naver.com",
    "example.com", "example.net", "example.org",  # the demo's customers are strangers to each other
})


@dataclasses.dataclass(frozen=True)
class DraftChange(Change):
    """A discarded draft on the undo stack: undo (desk.commands.undo) awaits `revert`, which
    writes it back."""
    revert: Callable[[DeskCore], Awaitable[None]] | None = None
    conv_ids: tuple[int, ...] = ()  # whose draft (desk.commands.undo names it)


class Desk(FollowupDesk, MeasuringDesk, DeskCore):
    """The desk's core (desk.core: state, clock, refresh) with everything the TUI and the CLI
    ask of it; most methods hand the work to the module that does it."""

    def __init__(self, store: Store, config: Config, clock: Callable[[], float] = time.time):
        super().__init__(store, config, clock)
        self._replying_seen: dict[tuple[int, str], float] = {}  # (conv, agent) -> first seen here
        self.open_queue = QueueIds(store)  # the open queue, moved by what changed (desk.queue_ids)
        # outbox id -> what became of a reply that left the outbox unsent here ("the reply to #12
        # was discarded"): a later undo of it says so (cancel_send)
        self._unsent_here: dict[int, str] = {}

    @classmethod
    async def open(cls, db_path: str | Path, config: Config | None = None,
                   clock: Callable[[], float] = time.time, check: bool = True, migrate: bool = True) -> "Desk":
        """`check`, `migrate`: see Store.open (False only for a desk opened to read)."""
        desk = cls(await Store.open(db_path, check=check, migrate=migrate), config or Config(), clock)
        todo = await outdated(desk.store, desk.config)
        if todo.senders:
            await desk.reclassify_senders()
            await desk.store.set_meta("agent_identity", desk.config.agent_identity())
        if todo.ranks:
            if todo.bursts:
                await desk.refresh_all()
            else:
                await desk.rerank_all()
            cfg = desk.config.priority
            await desk.store.set_meta("priority_settings", repr(cfg))
            await desk.store.set_meta("priority_loud_window", str(cfg.loud_window_minutes))
        return desk

    async def close(self) -> None:
        await self.store.close()

    async def store_version(self) -> int:
        """Changes when another process (the CLI, a second app on this store) committed to it;
        our own writes leave it as it is."""
        return await self.store.data_version()

    def store_mark(self) -> tuple[int, ...]:
        """Changes when the store was written to, by this or another process (the CLI, a
        second app on this store)."""
        return self.store.change_mark()

    async def check_store(self) -> None:
        """The check a store opened with check=False still owes before its first write."""
        await self.store.check_intact()

    def undo_send_seconds(self) -> list[int]:
        return [a.undo_send_seconds for a in self.config.accounts if a.smtp is not None]

    async def fire_status_rules(self, conv_ids: list[int], caused_by: tuple[str, ...]) -> None:
        from tui_desk.desk.rules.fire import fire_status
        await fire_status(self, conv_ids, caused_by)

    def background(self) -> Background | None:
        """Sync and delivery of the configured accounts (not started); None without any."""
        if not self.config.accounts:
            return None
        from tui_desk.desk.background import Background
        return Background(self)

    async def refresh_all(self) -> None:
        """refresh() of every conversation, in one pass: whole-table reads, each ranked once
        (every customer's conversations are in, so no lookup of their others)."""
        cfg = self.config.priority
        facts = await queries.message_facts(self.store, None)
        states = await queries.conversation_states(self.store, None)
        pulled = await self._state_from_server(list(states), states)
        states.update(pulled)
        summaries = [priority.summarize(c, facts[c], state, cfg) for c, state in states.items() if facts.get(c)]
        await self._write_ranked(summaries, pulled)

    async def reclassify_senders(self) -> int:
        """is_agent of every message again from the configured addresses; the conversations
        that changed are refreshed. Returns how many messages changed."""
        changes = [(int(now), rowid) for rowid, sender, was in await queries.senders_to_classify(self.store)
                   if (now := self.config.is_agent_address(sender)) != bool(was)]
        if changes:
            async with self.store.transaction():
                touched = await queries.set_is_agent(self.store, changes)
            await self.refresh(touched)
        return len(changes)

    async def rerank_all(self) -> None:
        """Ranks only, from the stored summaries: enough when the mail is unchanged and only the
        boosts, targets, VIPs, tag weights or business hours changed."""
        cfg = self.config.priority
        tags = await queries.tags_of(self.store, None)
        summaries = await queries.rank_inputs(self.store)
        before = {s.id: (s.rank, s.burst) for s in summaries}
        for s in summaries:
            s.rank = priority.rank(s, cfg, tags.get(s.id, ()))
        priority.rank_customer_bursts(summaries, cfg)
        changed = [(s.rank, s.burst, s.id) for s in summaries if (s.rank, s.burst) != before[s.id]]
        async with self.store.transaction():
            await queries.write_ranks(self.store, changed)

    async def queue_ids(self, query: str | None = None) -> list[int]:
        if query and query.strip():
            return await self._search(query, by_priority=False)
        return await self.open_queue.ids(self.now())

    async def _search(self, text: str, by_priority: bool) -> list[int]:
        """The store finds the query's terms; the desk answers `sla:` (store.search) and puts
        the mentions of this agent not yet seen first (desk.mentions)."""
        q = parse_query(text, me=self.agent)
        ids = await query_ids(self.store, q, self.now(), by_priority, day_end=self._day_end())
        if q.sla:
            from tui_desk.desk.sla import sla_matches, slas_of
            slas = await slas_of(self, ids)
            ids = [i for i in ids if sla_matches(slas.get(i), q.sla)]
        if ids and q.mentions:
            from tui_desk.desk import mentions
            if mentions.asks_for_me(self, q):
                ids = await mentions.unseen_first(self, ids)
        return ids

    def _day_end(self) -> int:
        """The end of today where the agent is (for "waking today")."""
        local = self.local_now()
        tomorrow = local.date() + dt.timedelta(days=1)
        return int(dt.datetime.combine(tomorrow, dt.time(), tzinfo=local.tzinfo).timestamp())

    def views(self) -> list[tuple[str, str | None]]:
        """Saved views: (name, query); None is the priority queue itself."""
        me = self.config.agent.lower()
        # Breaching: a running [sla] target breached or within its warn_minutes (only with targets);
        # Mentions: notes mentioning me, not seen first, newest mention first (desk.mentions), last,
        # so the keys 1-8 name the views they named before it came
        return [("Queue", None), ("Mine", f'assignee:"{me}" status:open'), ("Unassigned", "is:unassigned status:open"),
                ("Pending", "status:pending"), ("Snoozed", "is:snoozed"), ("Waking today", "is:waking-today"),
                ("Closed", "status:closed"), *([("Breaching", "sla:soon")] if self.config.sla.configured() else []),
                ("Mentions", "mentions:me")]

    async def view_ids(self, query: str | None) -> list[int]:
        """A saved view's conversations, in priority order."""
        if not query:
            return await self.queue_ids()
        return await self._search(query, by_priority=True)

    # -- agents' actions (desk.commands); each returns a line saying what was done ----------------
    async def tag(self, ids: list[int], add: Sequence[str] = (), remove: Sequence[str] = ()) -> str:
        from tui_desk.desk import commands
        return (await commands.tag(self, ids, list(add), list(remove))).description

    async def set_status(self, ids: list[int], status: str) -> str:
        """The line says when a reply to a conversation closed (or spam) still goes (replies.still_going)."""
        from tui_desk.desk import commands
        from tui_desk.desk.replies import still_going
        said = (await commands.set_status(self, ids, status)).description
        return said + (await still_going(self, ids) if status in ("closed", "spam") else "")

    async def snooze(self, ids: list[int], when_text: str) -> str:
        """`when_text` as the agent typed it ("tomorrow 9:00", "3d", "until reply", "off")."""
        from tui_desk.desk import commands
        from tui_desk.desk.when import parse_when
        if when_text.strip().lower() in ("off", "wake", "none"):
            return (await commands.unsnooze(self, ids)).description
        return (await commands.snooze(self, ids, parse_when(when_text, self.local_now()))).description

    async def assign(self, ids: list[int], agent: str | None) -> str:
        from tui_desk.desk import commands
        return (await commands.assign(self, ids, agent)).description

    async def merge(self, keep_id: int, other_ids: list[int], different_customers: bool = False) -> str:
        """Fold the other conversations into `keep_id` (desk.merge); different customers' only
        when `different_customers` says so."""
        from tui_desk.desk import merge
        change = await merge.merge(self, keep_id, list(other_ids), different_customers)
        return change.said if isinstance(change, merge.MessagesChange) else change.description

    async def merge_differs(self, keep_id: int, other_ids: list[int]) -> str | None:
        """"#12 (ana@x) and #40 (bo@y) are different customers", or None: one customer's (desk.merge)."""
        from tui_desk.desk import merge
        return await merge.differs(self, keep_id, list(other_ids))

    async def split(self, message_rowid: int) -> str:
        """Move one message into a new conversation of its own (desk.merge)."""
        from tui_desk.desk import merge
        return (await merge.split(self, message_rowid)).description

    async def undo(self) -> str | None:
        from tui_desk.desk import commands
        return await commands.undo(self)

    async def setup_hint(self) -> str | None:
        """How to start, when there is no account and no mail (desk.setup_hint); else None."""
        from tui_desk.desk.setup_hint import setup_hint
        return await setup_hint(self.store, self.config)

    async def known_tags(self) -> list[str]:
        return await queries.tag_names(self.store)

    async def queue_rows(self, ids: list[int]) -> list[QueueRow]:
        stored = await stored_rows(self.store, ids, self.config)
        now = self.now()
        slas = {}
        if self.config.sla.configured():
            from tui_desk.desk.sla import desk_sla  # the store's timelines: only with [sla] targets
            slas = await desk_sla(self, stored.rows, now)
        return build_rows(ids, stored, now, self.config, slas)

    async def mention_news(self) -> list[MentionAlert]:
        from tui_desk.desk.mentions import mention_news
        return await mention_news(self)

    def other_app_line(self) -> str | None:
        from tui_desk.store.app_lock import other_app_line
        return other_app_line(self.store.path)

    async def work_news(self) -> list[WorkAlert]:
        from tui_desk.desk.work_news import work_news
        return await work_news(self)

    async def conversation(self, conv_id: int) -> ConversationView | None:
        """The conversation `conv_id` names now, as the agent opens it: a merged-away id shows the
        one it went into (as a [#N] marker finds it), so a pane or `show` on it follows; its
        mentions of the agent are seen now. None when there is none."""
        rows = await queries.conversation_rows(self.store, [conv_id])
        if conv_id not in rows:
            from tui_desk.store.merge import merged_into
            conv_id = await merged_into(self.store, conv_id) or conv_id
            rows = await queries.conversation_rows(self.store, [conv_id])
        if conv_id not in rows:
            return None
        from tui_desk.desk.mentions import mark_seen
        await mark_seen(self, conv_id)
        messages = await queries.messages_of(self.store, conv_id)
        [qrow] = await self.queue_rows([conv_id])
        from tui_desk.desk.history import action_lines
        from tui_desk.desk.render import conversation_view  # imports the mail parser: not before the first paint
        from tui_desk.store import outbox
        # this desk's own replies are shown as sent (rendered), not as their Markdown source
        sent = await outbox.sent_markdown(self.store, [m["message_id"] for m in messages if m["is_agent"]])
        view = conversation_view(rows[conv_id], messages, qrow.tags, qrow.reasons,
                                 await self.customer_history(rows[conv_id]), sent)
        return dataclasses.replace(view, assignee=qrow.assignee, snoozed_until=qrow.snoozed_until,
                                   snoozed_until_reply=qrow.snoozed_until_reply, has_draft=qrow.has_draft,
                                   scheduled_reply_at=qrow.scheduled_reply_at, sla=qrow.sla,
                                   replying=await self.others_replying(conv_id),
                                   actions=await action_lines(self, conv_id))

    # -- collision warning: who else has a reply open (desk.keywords td:replying:) ----------------
    async def others_replying(self, conv_id: int) -> tuple[str, ...]:
        me = keywords.encode_name(self.agent)
        names: set[str] = set()
        for _, _, _, flags, _, _ in await mirror.conversation_copies(self.store, [conv_id]):
            names |= keywords.replying_agents(flags.split())
        now = self.clock()
        out = []
        spelling = AgentNames((self.config.agent, *self.config.team))
        for name in sorted(names - {me}):
            first_seen = self._replying_seen.setdefault((conv_id, name), now)
            if now - first_seen < keywords.REPLYING_EXPIRES:  # the marker is lower case: the config's spelling
                out.append(sanitize_line(spelling.legacy(keywords.decode_name(name)) or ""))
        return tuple(out)

    async def reply_started(self, conv_id: int) -> int | None:
        """The agent opened a reply: teammates are told, and what the agent has seen is returned
        (give it to reply(seen_upto=...): mail arriving after it holds the send)."""
        await self._mark_replying(conv_id, True)
        from tui_desk.store import outbox
        return await outbox.newest_message(self.store, conv_id)

    async def reply_ended(self, conv_id: int) -> None:
        await self._mark_replying(conv_id, False)

    async def _mark_replying(self, conv_id: int, on: bool) -> None:
        keyword = keywords.replying_keyword(self.agent)
        copies = {(account, message_id) for _, account, message_id, _, _, _
                  in await mirror.conversation_copies(self.store, [conv_id])}
        async with self.store.transaction():
            for account, message_id in sorted(copies):
                await server_ops.enqueue(self.store, account, "flags", message_id,
                                         {"add": [keyword]} if on else {"remove": [keyword]})

    async def customer_history(self, conv: sqlite3.Row) -> tuple[HistoryItem, ...]:
        key = conv["customer_key"]
        if not key:
            return ()
        domain = key.rpartition("@")[2]
        company = domain if domain and domain not in FREE_MAIL_DOMAINS else None
        rows = await queries.customer_conversations(self.store, key, company, conv["id"])
        return tuple(HistoryItem(r["id"], sanitize_line(r["subject"]), r["status"],
                                 dt.datetime.fromtimestamp(r["last_date"], UTC) if r["last_date"] else None,
                                 r["customer_key"] == key) for r in rows)

    # -- received attachments (desk.attachments) ----------------------------------------------------
    async def save_attachment(self, message_rowid: int, index: int, target: str | None = None) -> str:
        """Attachment `index` of a message to `target` (a folder or a file path; default: the
        download folder). Never overwrites. Returns the line to show."""
        from tui_desk.desk import attachments
        data, attachment = await self._attachment(message_rowid, index)
        where = Path(target).expanduser() if target and target.strip() else attachments.default_save_dir()
        path = await asyncio.to_thread(attachments.save, data, attachments.filename_for(attachment), where)
        return f"saved {sanitize_line(str(path))}"

    async def open_attachment(self, message_rowid: int, index: int) -> str:
        """Saved to a private folder and handed to xdg-open or mailcap; returns what happened."""
        from tui_desk.desk import attachments
        data, attachment = await self._attachment(message_rowid, index)
        return await asyncio.to_thread(attachments.open_attachment, data, attachments.filename_for(attachment),
                                       attachment.content_type)

    async def _attachment(self, message_rowid: int, index: int) -> tuple[bytes, Attachment]:
        from tui_desk.desk.commands import CommandError
        from tui_desk.mail.parse import attachment_payloads
        raw = await mirror.raw_by_rowid(self.store, message_rowid)
        if raw is None:
            raise CommandError(f"message {message_rowid} is not stored")
        found = await asyncio.to_thread(attachment_payloads, raw)
        if not 0 <= index < len(found):
            raise CommandError(f"message {message_rowid} has no attachment {index + 1}")
        attachment, data = found[index]
        return data, attachment

    async def add_note(self, conv_id: int, body_markdown: str) -> str:
        from tui_desk.desk.notes import add_note
        return await add_note(self, conv_id, body_markdown)

    # -- replies (desk.replies, store.outbox); thin, for the compose screen ----------------------
    async def reply(self, conv_id: int, body: str, reply_all: bool = False,
                    send_at_text: str | None = None, seen_upto: int | None = None,
                    attachments: Sequence[str] = (), snippets: list[str] | None = None) -> tuple[int, str]:
        """Queue a reply: now plus the undo window, or at `send_at_text` ("tomorrow 9:00", "2h").
        `seen_upto` is what reply_started() returned when the agent began writing; `snippets`
        the names of the snippets it used (the history records them).
        Returns (outbox id, a line saying when and to whom)."""
        from tui_desk.desk.replies import queue_reply
        send_at = self._send_at(send_at_text)
        queued = await queue_reply(self, conv_id, body, reply_all=reply_all, send_at=send_at, seen_upto=seen_upto,
                                   attachments=[Path(a).expanduser() for a in attachments], snippets=snippets)
        return queued.outbox_id, self._queued_line(queued, send_at)

    async def reply_preview(self, conv_id: int, reply_all: bool = False) -> tuple[str, str, str]:
        """(To, Cc, Subject) of a reply as it would go now; ValueError says why there is none."""
        from tui_desk.desk.render import addresses_text
        from tui_desk.desk.replies import reply_headers
        head = await reply_headers(self, conv_id, reply_all)
        return (addresses_text((a.name, a.addr) for a in head.to), addresses_text((a.name, a.addr) for a in head.cc),
                sanitize_line(head.subject))

    async def forward_preview(self, conv_id: int) -> str:
        """The Subject a forward of the conversation would go with."""
        from tui_desk.desk.replies import forward_subject_of
        return sanitize_line(await forward_subject_of(self, conv_id))

    async def forward(self, conv_id: int, to_text: str, body: str, send_at_text: str | None = None,
                      seen_upto: int | None = None, attachments: Sequence[str] = (),
                      snippets: list[str] | None = None) -> tuple[int, str]:
        """Forward the conversation's latest customer mail to `to_text` ("a@x, Name <b@y>")."""
        from tui_desk.desk.replies import queue_forward
        send_at = self._send_at(send_at_text)
        queued = await queue_forward(self, conv_id, to_text, body, send_at=send_at, seen_upto=seen_upto,
                                     attachments=[Path(a).expanduser() for a in attachments], snippets=snippets)
        return queued.outbox_id, self._queued_line(queued, send_at)

    def _send_at(self, send_at_text: str | None) -> int | None:
        from tui_desk.desk.when import parse_send_at
        if send_at_text is None:
            return None
        return int(parse_send_at(send_at_text, self.local_now()).timestamp())

    def _queued_line(self, queued: QueuedReply, send_at: int | None) -> str:
        from tui_desk.desk.timefmt import format_datetime_short
        who = sanitize_line(", ".join(queued.recipients))  # addresses are the customer's words
        if send_at is None:
            return f"Sending to {who} in {max(queued.send_at - self.now(), 0)} s"
        local_now = self.local_now()
        when = dt.datetime.fromtimestamp(queued.send_at, local_now.tzinfo)
        return f"Will send to {who} {format_datetime_short(when, local_now)}"

    async def cancel_send(self, outbox_id: int) -> str:
        from tui_desk.desk.commands import CommandError
        from tui_desk.desk.followup import cancel_send
        from tui_desk.store import outbox
        # u after O discarded it, or after an undo already (an id SQLite gave a newer reply is that one)
        if outbox_id in self._unsent_here and await outbox.get(self.store, outbox_id) is None:
            raise CommandError(f"nothing to undo: {self._unsent_here[outbox_id]}")
        return await self._unsent(outbox_id, cancel_send, "is back in its draft")

    async def _unsent(self, outbox_id: int, drop: Callable[[DeskCore, int], Awaitable[str]], became: str) -> str:
        """A mail leaves the outbox unsent (cancelled, discarded): a bulk follow-up's notes say
        so (desk.followup.mail_cancelled); its conversations can have it again. `became`: what
        a later undo of it is told ("was discarded")."""
        from tui_desk.desk.followup import mail_cancelled
        from tui_desk.store import outbox
        item = await outbox.get(self.store, outbox_id)
        said = await drop(self, outbox_id)
        if item is not None:
            await mail_cancelled(self, item.message_id, item.conv_id, item.recipients)
            what = f"the reply to #{item.conv_id}" if item.conv_id is not None else f"outbox #{outbox_id}"
            self._unsent_here[outbox_id] = f"{what} {became}"
        return said

    async def send_anyway(self, outbox_id: int) -> str:
        from tui_desk.desk.replies import send_anyway
        said = await send_anyway(self, outbox_id)
        if self.wake_outbox is not None:
            self.wake_outbox()
        return said

    async def send_now(self, outbox_id: int) -> str:
        from tui_desk.desk.replies import send_now
        said = await send_now(self, outbox_id)
        if self.wake_outbox is not None:
            self.wake_outbox()
        return said

    async def discard_send(self, outbox_id: int) -> str:
        from tui_desk.desk.replies import discard_send
        return await self._unsent(outbox_id, discard_send, "was discarded")

    async def draft(self, conv_id: int) -> tuple[str, bool, str | None] | None:
        """(body, reply_all, the server's error if a send was refused) of the saved draft."""
        from tui_desk.store import outbox
        return await outbox.draft(self.store, conv_id)

    async def save_draft(self, conv_id: int, body: str, reply_all: bool = False) -> None:
        """Keep the draft (the compose screen's text replaces it); an empty one is deleted. Not
        on a conversation that is gone (merged elsewhere since the reply was opened): said."""
        from tui_desk.store import outbox
        from tui_desk.store.merge import conversation_exists
        async with self.store.transaction():  # never inside a sync's batch that could roll back
            if not await conversation_exists(self.store, conv_id):
                from tui_desk.desk.merge import missing
                raise await missing(self, conv_id)
            if body.strip():
                await outbox.save_draft(self.store, conv_id, body, reply_all, replace=True, now=self.now())
            else:
                await outbox.delete_draft(self.store, conv_id)

    async def discard_draft(self, conv_id: int) -> str:
        """Throw the conversation's draft away; undo brings it back (a draft written there
        since is kept below it, as when a send comes back: outbox.save_draft)."""
        from tui_desk.desk.commands import UNDO_DEPTH, CommandError
        from tui_desk.desk.replies import draft_name
        from tui_desk.store import outbox
        async with self.store.transaction():
            kept = await outbox.draft(self.store, conv_id)
            if kept is None:
                raise CommandError(f"#{conv_id} has no draft to discard")
            await outbox.delete_draft(self.store, conv_id)
        body, reply_all, error = kept

        async def revert(desk: DeskCore) -> None:
            async with desk.store.transaction():
                await outbox.save_draft(desk.store, conv_id, body, reply_all, error, now=desk.now(),
                                        label=lambda at: draft_name(desk, at))

        self.undo_stack.append(DraftChange("discarded the draft", {}, revert, (conv_id,)))
        del self.undo_stack[:-UNDO_DEPTH]
        return f"discarded the draft of #{conv_id}"

    async def outbox(self) -> list[OutboxEntry]:
        """Replies not yet done, in the order they go (desk.outbox_view)."""
        from tui_desk.desk.outbox_view import entries
        return await entries(self)

    async def outbox_mail(self, outbox_id: int) -> OutboxMail:
        """One reply of the outbox as the customer gets it (desk.outbox_view)."""
        from tui_desk.desk.outbox_view import mail
        return await mail(self, outbox_id)

    def reply_placeholders(self) -> list[str]:
        """The {{names}} a reply fills in on sending."""
        from tui_desk.desk.replies import MEASURED_PLACEHOLDERS, placeholder_values
        from tui_desk.desk.snippets import capture_names
        fixed = [*placeholder_values(self, {"id": 0, "subject": ""}, "", "x@x"), *MEASURED_PLACEHOLDERS]
        return [*fixed, *(n for n in capture_names(self.snippets()) if n not in fixed)]

    async def reply_fills(self, conv_id: int, body: str) -> list[Fill]:
        """Each placeholder of `body` as a reply to the conversation would fill it now."""
        from tui_desk.desk.replies import fill_preview
        return await fill_preview(self, conv_id, body)

    async def threads(self) -> dict[int, list[str]]:
        return await queries.thread_message_ids(self.store)
