"""@mentions in internal notes reach the agent named (as Help Scout and Front do): a notice once
for each note by a teammate that mentions this agent, and the Mentions view (`mentions:me`,
store.search), unseen first.

How a note names an agent is store.search's (mention_name, mention_condition): the search, the
notices and the seen marks find the same mentions, none in a note naming its own writer. The state is this store's own, never shared
through the server (each agent has a store): the meta key MENTIONS_TOLD holds the newest message
id the notices have looked at; a conversation's seen mark (store.queries.MENTION_SEEN) the newest
note id it had when the agent opened it. The first look on a store says nothing of the mentions
it holds already (a first sync brings a team's whole history): the Mentions view lists them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_desk.desk.views import MentionAlert
from tui_desk.sanitize import sanitize_line
from tui_desk.store import queries
from tui_desk.store.db import StoreReads
from tui_desk.store.search import Query, mention_name

if TYPE_CHECKING:
    from tui_desk.desk.core import DeskCore

MENTIONS_TOLD = "mentions_told_upto"
NOTICE_CHARS = 60  # of the note's first words in a notice
BODY_WAIT = 600  # seconds a note's body is waited for (a sync brings headers first), then it is passed


def _one_agent(name: str) -> str:
    return " ".join(name.split()).casefold()


def by_me(desk: "DeskCore", author: str) -> bool:
    return _one_agent(author) == _one_agent(desk.agent)


def first_words(body: str) -> str:
    line = " ".join(sanitize_line(body).split())
    if len(line) <= NOTICE_CHARS:
        return line
    cut = line[:NOTICE_CHARS]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(" ,;:") + "…"


async def mention_news(desk: "DeskCore") -> list[MentionAlert]:
    """Notes by teammates that mention this agent, stored since the last look (oldest first);
    each is said once, at this start or the next. A note whose body has not come yet waits,
    with those after it, for a later look (BODY_WAIT at most: its body may never come)."""
    store = desk.store
    newest = await queries.newest_message_id(store)
    told = await store.get_meta(MENTIONS_TOLD)
    if told is not None and newest <= int(told):
        return []
    upto = newest
    if told is not None:
        waiting = await queries.first_note_without_body(store, int(told), int(desk.now()) - BODY_WAIT)
        upto = newest if waiting is None else waiting - 1
        if upto <= int(told):
            return []
    async with store.transaction():
        await store.set_meta(MENTIONS_TOLD, str(upto))
    if told is None:
        return []
    notes = await queries.notes_mentioning(store, mention_name(desk.agent), after_id=int(told), upto_id=upto)
    return [MentionAlert(n["conv_id"], sanitize_line(n["sender_name"]),
                         f"{sanitize_line(n['sender_name']) or 'A teammate'} mentioned you on #{n['conv_id']}: "
                         f"{first_words(n['body'])}")
            for n in notes]


def asks_for_me(desk: "DeskCore", q: Query) -> bool:
    me = mention_name(desk.agent).casefold()
    return any(name.casefold() == me for name in q.mentions)


async def unseen_first(desk: "DeskCore", ids: list[int]) -> list[int]:
    """`ids` (conversations mentioning this agent) with those holding a teammate's mention the
    agent has not seen yet first, each part in the order given."""
    seen_not = await unseen(desk.store, desk.agent, ids)
    return [i for i in ids if i in seen_not] + [i for i in ids if i not in seen_not]


async def unseen(store: StoreReads, agent: str, conv_ids: list[int]) -> set[int]:
    """Those of `conv_ids` where a teammate's note mentions `agent` and the agent has not seen it
    (opened the conversation since): the Mentions view's order and the queue rows' mark
    (QueueRow.mention_unseen, desk.queue_rows). A store alone: the app's first page reads it
    before the desk is there."""
    if not conv_ids or not agent.strip():
        return set()
    notes = await queries.notes_mentioning(store, mention_name(agent), conv_ids=conv_ids)
    if not notes:
        return set()
    seen = await queries.mentions_seen(store, [n["conv_id"] for n in notes])
    return {n["conv_id"] for n in notes if n["id"] > seen.get(n["conv_id"], 0)}


async def mark_seen(desk: "DeskCore", conv_id: int) -> None:
    """The agent opened the conversation: its mentions so far are seen."""
    notes = await queries.notes_mentioning(desk.store, mention_name(desk.agent), conv_ids=[conv_id])
    newest = max((n["id"] for n in notes), default=0)
    if newest and newest > (await queries.mentions_seen(desk.store, [conv_id])).get(conv_id, 0):
        async with desk.store.transaction():
            await queries.set_mention_seen(desk.store, conv_id, newest)
