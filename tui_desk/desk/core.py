"""The desk's core: its state and the primitives every module it hands work to uses (the store,
the config, the clock, this agent, the undo stack, the rules it runs, its snippets, refresh()).

desk.service.Desk extends it into the object the TUI and the CLI talk to. The modules Desk hands
work to (desk.commands, desk.replies, desk.rules, desk.sla, ...) take a DeskCore and import this
module, never desk.service: imports inside desk/ point one way, without circles.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from tui_desk.config import Config
from tui_desk.desk import keywords, priority
from tui_desk.desk.agent_names import AgentNames
from tui_desk.desk.snippets import Snippet, SnippetError, default_snippet_dirs, load_snippets
from tui_desk.desk.timefmt import format_when, local_zone
from tui_desk.sanitize import sanitize_line
from tui_desk.store import Store, mirror, queries, server_ops

if TYPE_CHECKING:
    from tui_desk.desk.rules.model import RuleSet


@dataclass(frozen=True)
class Change:
    """One undoable action (desk.commands, desk.merge) on the desk's undo stack."""
    description: str  # "tagged 3 conversations +bug"
    before: dict[int, queries.ConvState]  # what undo restores


class DeskCore:
    def __init__(self, store: Store, config: Config, clock: Callable[[], float] = time.time):
        self.store = store
        self.config = config
        self.clock = clock
        self._snippets: list[Snippet] | None = None
        self.undo_stack: list[Change] = []  # newest last
        self.snippet_errors: list[SnippetError] = []
        # the rules this desk runs (desk.rules.fire; Background sets them): None runs none
        self.rules: RuleSet | None = None
        # desk.background.Background's: the outbox tries a reply made due now at once (send
        # now, send anyway), not at its next pass; None without one (the CLI)
        self.wake_outbox: Callable[[], None] | None = None

    def now(self) -> int:
        return int(self.clock())

    @property
    def agent(self) -> str:
        """This agent's name, as assignments and notes show it."""
        return self.config.agent

    def local_now(self) -> dt.datetime:
        """Now, in the agent's zone with its DST rules (what "mon 9:00" and "tomorrow" mean)."""
        return dt.datetime.fromtimestamp(self.now(), local_zone(self.config.priority.timezone))

    def clock_text(self, when: int) -> str:
        """A moment (unix seconds) as the outbox's lines say it, in the desk's zone: "9:12" today
        (the held line, sync.delivery; the next try of a retrying reply)."""
        local_now = self.local_now()
        return format_when(dt.datetime.fromtimestamp(when, local_now.tzinfo), local_now)

    async def refresh(self, conv_ids: list[int] | set[int]) -> None:
        """Recompute state, status and rank of these conversations from their messages."""
        ids = sorted(conv_ids)
        for start in range(0, len(ids), 2000):
            pulled: dict[int, queries.ConvState] = {}
            summaries = await self._summaries(ids[start:start + 2000], pulled)
            # the customers' other open conversations take part in loud-customer ranking
            chunk = {s.id for s in summaries}
            others = await queries.open_conversations_of_customers(
                self.store, [s.customer_key for s in summaries if s.customer_key])
            summaries += await self._summaries([c for c in others if c not in chunk], pulled)
            await self._write_ranked(summaries, pulled)

    async def _write_ranked(self, summaries: list[queries.ConversationSummary],
                            pulled: dict[int, queries.ConvState]) -> None:
        """The end of a refresh (refresh, Desk.refresh_all): the customers' bursts ranked, then
        the states the server had and the summaries written together."""
        priority.rank_customer_bursts(summaries, self.config.priority)
        async with self.store.transaction():
            if pulled:
                await queries.write_states(self.store, pulled)
            await queries.write_summaries(self.store, summaries)

    async def _summaries(self, conv_ids: list[int], pulled: dict[int, queries.ConvState]
                         ) -> list[queries.ConversationSummary]:
        facts = await queries.message_facts(self.store, conv_ids)
        states = await queries.conversation_states(self.store, conv_ids)
        pulled.update(await self._state_from_server(conv_ids, states))
        states.update(pulled)
        return [priority.summarize(c, facts[c], states.get(c, queries.ConvState()), self.config.priority)
                for c in conv_ids if facts.get(c)]

    async def _state_from_server(self, conv_ids: list[int], states: dict[int, queries.ConvState]
                                 ) -> dict[int, queries.ConvState]:
        """The server's keywords are the team's truth, except where our own changes are still
        on their way there."""
        copies = await mirror.conversation_copies(self.store, conv_ids)
        if not copies:
            return {}
        unpushed = await server_ops.pending_message_ids(self.store)
        by_conv: dict[int, list[tuple[set[str], int | None, int | None]]] = {}
        blocked: set[int] = set()
        for conv_id, _, message_id, flags, modseq, date in copies:
            by_conv.setdefault(conv_id, []).append((set(flags.split()), modseq, date))
            if message_id in unpushed:
                blocked.add(conv_id)
        out = {}
        spelling = AgentNames((self.config.agent, *self.config.team))  # an older client's lower-case name
        for conv_id, messages in by_conv.items():
            if conv_id in blocked or conv_id not in states:
                continue
            state = keywords.state_from_keywords(messages, states[conv_id])
            if state.assignee and (known := spelling.legacy(state.assignee)) != state.assignee:
                state = dataclasses.replace(state, assignee=known)
            if state != states[conv_id]:
                out[conv_id] = state
        return out

    async def clear_own_replying_marks(self) -> None:
        """At start: nobody is replying yet, so a marker of ours is left over from a crash."""
        keyword = keywords.replying_keyword(self.agent)
        copies = await mirror.copies_with_keyword(self.store, keyword)
        if copies:
            async with self.store.transaction():
                for account, message_id in copies:
                    await server_ops.enqueue(self.store, account, "flags", message_id, {"remove": [keyword]})

    def snippets(self) -> list[Snippet]:
        if self._snippets is None:
            self._snippets, self.snippet_errors = load_snippets(default_snippet_dirs())
        return self._snippets

    async def known_agents(self) -> list[str]:
        """This agent, the configured team, and the agents seen in the store (assignees, note
        authors, td:replying: keywords); each name once, whatever its case (the spelling
        desk.agent_names picks: the config's, else one with capitals), sorted. The names an
        assign resolves against (desk.agent_names.resolve): the app's prompt, the CLI, rules."""
        names, flags = await queries.agents_seen(self.store)
        replying = {keywords.decode_name(n) for f in flags for n in keywords.replying_agents(f.split())}
        clean = [sanitize_line(" ".join(n.split())) for n in (self.config.agent, *self.config.team)]
        seen = [sanitize_line(" ".join(n.split())) for n in (*names, *replying)]
        spelling = AgentNames(clean, seen)
        return sorted({n.casefold(): spelling(n) for n in (*clean, *seen) if n}.values(), key=str.casefold)

    async def fire_status_rules(self, conv_ids: list[int], caused_by: tuple[str, ...]) -> None:
        """The `status` rules (desk.rules.fire.fire_status) on conversations whose status just
        changed on this client. desk.service.Desk runs them: the rules act through the command
        path (desk.commands) that calls this, so the core cannot import them."""
        raise NotImplementedError
