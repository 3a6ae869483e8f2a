"""The one command path for agents' actions: store change + operations for the server, undoable.

Every action (tag, status, snooze, assign) changes the conversations' state in the store and,
in the same transaction, queues keyword changes for every server copy of their messages
(desk.keywords); the sync pushes them. Undo applies the saved earlier state the same way.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

from tui_desk.desk.core import Change, DeskCore
from tui_desk.desk.keywords import queue_changes
from tui_desk.desk.tags import change_words, tag_names, tag_problem
from tui_desk.desk.timefmt import format_day_time
from tui_desk.desk.when import When
from tui_desk.desk.wording import counted
from tui_desk.store import queries
from tui_desk.store.queries import ConvState
from tui_desk.sanitize import sanitize_line
from tui_desk.store.search import STATUSES

UNDO_DEPTH = 100


class CommandError(ValueError):
    pass


async def _apply(desk: DeskCore, conv_ids: list[int], edit: Callable[[ConvState], None], description: str,
                 by: str | None = None) -> Change:
    conv_ids = sorted(set(conv_ids))
    states = await queries.conversation_states(desk.store, conv_ids)
    missing = set(conv_ids) - set(states)
    if missing:
        raise CommandError(f"no conversation {', '.join(map(str, sorted(missing)))}")
    before = {cid: dataclasses.replace(s) for cid, s in states.items()}
    for s in states.values():
        edit(s)
    await write_states(desk, states, before, by)
    change = Change(description, before)
    desk.undo_stack.append(change)
    del desk.undo_stack[:-UNDO_DEPTH]
    return change


async def write_states(desk: DeskCore, states: dict[int, ConvState], before: dict[int, ConvState],
                       by: str | None = None, undo: bool = False) -> None:
    """Store the states, queue the change (from `before`) for the server and record it in the
    history (desk.history; an undo records the change back as new events, marked `undo`: it
    takes the change back, it is no reopen). `by`: what made a status change when no person did
    it by hand (desk.history: a status event's "by")."""
    from tui_desk.desk.history import record_state_changes
    store = desk.store
    async with store.transaction():
        await queries.write_states(store, states)
        await queue_changes(store, states, before)
        await record_state_changes(desk, states, before, by, undo)
    await desk.refresh(list(states))


# What each action does to a conversation's state, apart from the checks of its input (the
# commands below; the demo's history replays them over its conversations' past).

def tag_edit(add: list[str], remove: list[str]) -> Callable[[ConvState], None]:
    def edit(s: ConvState) -> None:
        s.tags = tuple(sorted((set(s.tags) | set(add)) - set(remove)))
    return edit


def status_edit(status: str, now: int) -> Callable[[ConvState], None]:
    def edit(s: ConvState) -> None:
        s.status, s.status_set_at = status, now
        if status in ("closed", "spam"):
            s.snooze_until, s.snooze_reply = None, False
    return edit


def snooze_edit(until: int | None, until_reply: bool, now: int) -> Callable[[ConvState], None]:
    def edit(s: ConvState) -> None:
        s.snooze_until = until
        s.snooze_reply, s.snooze_set_at, s.woke_at = until_reply, now, None
    return edit


def unsnooze_edit(s: ConvState) -> None:
    s.snooze_until, s.snooze_reply = None, False


def assign_edit(agent: str | None) -> Callable[[ConvState], None]:
    def edit(s: ConvState) -> None:
        s.assignee = agent
    return edit


def _conversations(conv_ids: list[int]) -> str:
    return counted(len(set(conv_ids)), "conversation")


async def tag(desk: DeskCore, conv_ids: list[int], add: Sequence[str] = (), remove: Sequence[str] = ()) -> Change:
    add, remove = tag_names(add), tag_names(remove)
    if (problem := tag_problem(add)) is not None:
        raise CommandError(problem)
    words = change_words(add, remove)
    return await _apply(desk, conv_ids, tag_edit(add, remove), f"tagged {_conversations(conv_ids)} {words}")


async def set_status(desk: DeskCore, conv_ids: list[int], status: str, *, fire: bool = True,
                     by: str | None = None) -> Change:
    """A desk that runs rules (desk.rules set) fires its `status` rules on each conversation
    whose status this changed (fire=False: the caller does, desk.rules.execute for a rule's
    own change, naming the rules that caused it). `by`: "rule", "incident" or "followup" when
    the change is automatic or bulk, not a person's on these conversations (the survey, desk.csat,
    asks only after a person's close)."""
    if status not in STATUSES:
        raise CommandError(f"status is one of {', '.join(STATUSES)}, not {status!r}")
    change = await _apply(desk, conv_ids, status_edit(status, desk.now()), f"{status} {_conversations(conv_ids)}",
                          by)
    if fire and desk.rules is not None:
        await desk.fire_status_rules(status_changed(change, status), ())
    return change


def status_changed(change: Change, status: str) -> list[int]:
    """The conversations whose status a set_status change changed."""
    return sorted(c for c, s in change.before.items() if s.status != status)


async def snooze(desk: DeskCore, conv_ids: list[int], when: When) -> Change:
    now = desk.now()
    if when.at is not None and when.at.timestamp() <= now:
        raise CommandError("that time is already past")
    edit = snooze_edit(int(when.at.timestamp()) if when.at else None, when.until_reply, now)
    until = "until the customer replies" if when.until_reply or when.at is None else f"until {format_day_time(when.at, desk.local_now())}"
    said = f"snoozed {_conversations(conv_ids)} {until}"
    if when.until_reply or when.at is None:
        # the customer wrote last: a reply of theirs will not come, and the response target runs
        # on while the row is out of the queue (the tryout's #116 breached out of sight)
        waiting = await queries.waiting_for_answer(desk.store, sorted(set(conv_ids)))
        if waiting:
            shown = ", ".join(f"#{c}" for c in waiting[:5]) + (f" and {len(waiting) - 5} more" if len(waiting) > 5 else "")
            said += f" ({shown} {'waits' if len(waiting) == 1 else 'wait'} for an answer: the response target runs on)"
    return await _apply(desk, conv_ids, edit, said)


async def unsnooze(desk: DeskCore, conv_ids: list[int]) -> Change:
    return await _apply(desk, conv_ids, unsnooze_edit, f"woke {_conversations(conv_ids)}")


async def assign(desk: DeskCore, conv_ids: list[int], agent: str | None) -> Change:
    agent = " ".join((agent or "").split()) or None
    if agent and (len(agent) > 64 or '"' in agent):
        raise CommandError(f"an agent name has at most 64 characters and no quotes, not {agent!r}")

    what = f"assigned {_conversations(conv_ids)} to {agent}" if agent else f"unassigned {_conversations(conv_ids)}"
    return await _apply(desk, conv_ids, assign_edit(agent), what)


async def undo(desk: DeskCore) -> str | None:
    """Undo the last action; returns what was undone and on which conversations ("closed 1
    conversation (#12 Charged twice)"), or None when there is nothing to undo. The stack holds
    actions on any conversation: the line names them, so an undo never acts out of sight."""
    if not desk.undo_stack:
        return None
    change = desk.undo_stack.pop()
    on = await naming(desk, getattr(change, "conv_ids", ()) or sorted(change.before))
    said = f"{change.description} ({on})" if on else change.description
    revert = getattr(change, "revert", None)
    if revert is not None:  # merge/split (desk.merge), a discarded draft: not only state
        await revert(desk)
        return said
    states = {cid: dataclasses.replace(s) for cid, s in change.before.items()}
    existing = await queries.conversation_states(desk.store, list(states))
    await write_states(desk, {cid: s for cid, s in states.items() if cid in existing}, existing, undo=True)
    return said


NAMED_SUBJECT = 40  # characters of a subject in naming()
NAMED_IDS = 4  # conversations naming() lists before "and N more"


async def naming(desk: DeskCore, conv_ids: Sequence[int]) -> str:
    """The conversations as named() names them, the subject of one read from the store."""
    rows = await queries.conversation_rows(desk.store, list(conv_ids)) if len(conv_ids) == 1 else {}
    return named(conv_ids, next((r["subject"] or "" for r in rows.values()), ""))


def named(conv_ids: Sequence[int], subject: str = "") -> str:
    """"#12 Charged twice for my order" for one conversation (`subject`: its own, from mail,
    sanitized here and cut), "#12, #13 and #14" for a few, "#12, #13, #14, #15 and 3 more" for
    many; "" for none."""
    ids = list(conv_ids)
    if len(ids) == 1:
        subject = " ".join(sanitize_line(subject).split())
        if len(subject) > NAMED_SUBJECT:
            subject = subject[:NAMED_SUBJECT - 1].rstrip() + "…"
        return f"#{ids[0]} {subject}".rstrip()
    shown = [f"#{i}" for i in ids[:NAMED_IDS]]
    if len(ids) > NAMED_IDS:
        return f"{', '.join(shown)} and {len(ids) - NAMED_IDS} more"
    return f"{', '.join(shown[:-1])} and {shown[-1]}" if len(shown) > 1 else ""
