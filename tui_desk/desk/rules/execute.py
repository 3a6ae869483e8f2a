"""The executor: what plan() returned, done through the desk's own paths, and said in the
conversation.

- State (tag, status, assign, snooze) goes through desk.commands, the one command path: the
  store, the keywords for the server and the history events, as if an agent had done it (the
  events carry this desk's agent). A rule's change is not on the agent's undo stack.
- A note is desk.notes; a reply is a snippet sent through the outbox as an automatic reply
  (desk.replies.queue_autoreply: `Auto-Submitted: auto-replied`, threaded, an `autoreply`
  event); a snippet with {{expected_wait}} gets the measured wait, and the event keeps how it
  was worked out (desk.expected_wait.ExpectedWait.record) for the agent to read; a forward
  goes through the outbox too, `Auto-Submitted: auto-generated`.
- Priority: the desk keeps no per-conversation priority boost (its rank is computed from the
  mail, desk.priority), so a `priority` action is skipped and the conversation says so.
- Each action done leaves a `rule` event: {"rule": name, "says": "rule 'x' tagged +billing"};
  a reply the guards or the rate limit stop leaves one saying why.
- Running the same plan again does nothing twice (a restarted client redoes its unfinished
  claims, desk.rules.fire): plan() leaves out state that is already so, and the mail and notes
  a rule makes have Message-IDs derived from `key`, refused the second time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui_desk.desk import commands
from tui_desk.desk.commands import CommandError
from tui_desk.desk.core import Change
from tui_desk.desk.history import record_message, snippet_records
from tui_desk.desk.rules.guards import SentAutomatically, rate_limit_block
from tui_desk.desk.rules.model import Event, PlannedAction
from tui_desk.desk.snippets import placeholders
from tui_desk.desk.when import When
from tui_desk.store import events as store_events

if TYPE_CHECKING:
    from tui_desk.desk.core import DeskCore as Desk  # the core its work needs (desk.core)

log = logging.getLogger(__name__)


def derived_message_id(desk: Desk, seed: str) -> str:
    """The same Message-ID every time for the same rule action on the same mail."""
    account = desk.config.accounts[0].address if desk.config.accounts else "desk@tui-desk.invalid"
    return f"rule.{hashlib.sha256(seed.encode()).hexdigest()[:32]}@{account.rpartition('@')[2]}"


def _forget(desk: Desk, change: Change) -> None:
    """A rule's change is not the agent's to undo with their undo key."""
    if change in desk.undo_stack:
        desk.undo_stack.remove(change)


async def record_rule_line(desk: Desk, conv_id: int, rule: str, says: str) -> None:
    """The line the conversation shows for what a rule (or an incident) did: a `rule` event."""
    async with desk.store.transaction():
        await record_message(desk, conv_id, "rule", {"rule": rule, "says": says})


async def earlier_autoreplies(desk: Desk, now: int) -> list[SentAutomatically]:
    """The automatic replies the rate limits count: the `autoreply` events (a teammate's too,
    through the History folder; those still in this outbox too)."""
    limits = desk.config.autoreply
    span = max(limits.customer_interval_minutes * 60, limits.conversation_interval_minutes * 60, 3600)
    out: list[SentAutomatically] = []
    for found in await store_events.of_kind_since(desk.store, "autoreply", now - span):
        to = found.event.data.get("to")
        # an incident's "fixed" mail is a person's deliberate bulk send (dry run, undo window,
        # paced by desk.incident): it still spaces the next automatic mail to that customer and
        # conversation, but it neither uses up nor is stopped by the hourly cap
        capped = found.event.data.get("plan") != "fixed"
        for addr in to if isinstance(to, list) else []:
            out.append(SentAutomatically(found.event.at, str(addr), found.conv_id if found.conv_id is not None else -1,
                                         capped))
    return out


async def _expected_wait(desk: Desk, conv_id: int, body: str) -> tuple[dict[str, str], dict[str, Any]]:
    """({{expected_wait}}'s value, the `autoreply` event's "expected_wait": how it was worked
    out, for the agent) when the snippet uses it; nothing otherwise."""
    if "expected_wait" not in placeholders(body):
        return {}, {}
    from tui_desk.desk.expected_wait import for_conversation  # the metrics cache: only when asked
    wait = await for_conversation(desk, conv_id)
    return {"expected_wait": wait.words}, {"expected_wait": wait.record()}


async def rate_block(desk: Desk, conv_id: int, *, cap_only: bool = False) -> str | None:
    """Why the rate limits hold an automatic reply to this conversation now (None: they do not):
    the one check auto_reply makes and `rules test` shows."""
    from tui_desk.desk.replies import reply_headers
    recipients = [a.addr for a in (await reply_headers(desk, conv_id)).to]
    now = desk.now()
    earlier = await earlier_autoreplies(desk, now)
    for recipient in recipients:
        block = rate_limit_block(earlier, recipient, conv_id, now, desk.config.autoreply, cap_only=cap_only)
        if block is not None:
            return block
    return None


async def told_wait(desk: Desk, conv_id: int, snippet_name: str) -> str | None:
    """The wait an automatic reply with this snippet would tell the customer now ({{expected_wait}}),
    or None when the snippet does not say one."""
    snippet = next((s for s in desk.snippets() if s.name == snippet_name), None)
    if snippet is None:
        return None
    values, _ = await _expected_wait(desk, conv_id, snippet.body)
    return values.get("expected_wait")


async def auto_reply(desk: Desk, conv_id: int, snippet_name: str, message_id: str, event: dict[str, Any], *,
                     rate_limited: bool = True, cap_only: bool = False, values: dict[str, str] | None = None,
                     send_at: int | None = None) -> tuple[bool, str | None]:
    """An automatic reply with a snippet through the outbox (rules, and an incident's mail:
    desk.incident). (queued now, why it is held: None when it is not). Nothing is queued when
    this Message-ID was queued or sent before (False, None), or when the rate limits (unless
    not `rate_limited`; only the hourly cap with `cap_only`) stop it. A snippet using
    {{expected_wait}} gets the measured wait, and the event records how it was worked out."""
    if await store_events.names_message(desk.store, "autoreply", message_id):
        return False, None  # queued or sent before this run
    snippet = next((s for s in desk.snippets() if s.name == snippet_name), None)
    if snippet is None:
        return False, f"no snippet '{snippet_name}'"
    from tui_desk.desk.replies import queue_autoreply
    try:
        if rate_limited:
            block = await rate_block(desk, conv_id, cap_only=cap_only)
            if block is not None:
                return False, block
        measured_values, measured = await _expected_wait(desk, conv_id, snippet.body)
        await queue_autoreply(desk, conv_id, snippet.body, message_id=message_id,
                              values={**measured_values, **(values or {})}, send_at=send_at,
                              event={**event, "snippets": snippet_records(desk, [snippet.name]), **measured})
    except CommandError as e:
        return False, str(e)
    return True, None


async def _reply(desk: Desk, event: Event, p: PlannedAction, message_id: str) -> str | None:
    # a status an agent set (no rule, no mail behind it) cannot start a loop: its notice is held
    # only by the desk's hourly cap, not by the acknowledgement sent an hour before
    agents_own = event.kind == "status" and not event.caused_by
    queued, held = await auto_reply(desk, event.conv_id, p.action.value, message_id, {"rule": p.rule},
                                    cap_only=agents_own)
    if held is not None:
        return f"rule '{p.rule}' held its reply: {held}"
    return p.says if queued else None


@dataclass(frozen=True)
class _Done:
    says: str  # what the conversation says
    status_caused_by: tuple[str, ...] | None = None  # a status it changed: the rules behind it


async def _apply(desk: Desk, event: Event, p: PlannedAction, seed: str) -> _Done | str | None:
    """Do one planned action; what the conversation says about it (None: nothing to say, it
    was done by an earlier run)."""
    cid, action = event.conv_id, p.action
    if p.held is not None:
        return f"rule '{p.rule}' held its {action.kind}: {p.held}"
    try:
        if action.kind == "tag":
            _forget(desk, await commands.tag(desk, [cid], list(action.add), list(action.remove)))
        elif action.kind == "status":
            change = await commands.set_status(desk, [cid], action.value, fire=False, by="rule")
            _forget(desk, change)
            if commands.status_changed(change, action.value):  # fired after this rule has said so
                return _Done(p.says, (*event.caused_by, p.rule))
        elif action.kind == "assign":
            _forget(desk, await commands.assign(desk, [cid], action.value or None))
        elif action.kind == "snooze":
            when = (When(None, until_reply=True) if action.value else
                    When(dt.datetime.fromtimestamp(desk.now() + action.seconds, dt.timezone.utc)))
            _forget(desk, await commands.snooze(desk, [cid], when))
        elif action.kind == "priority":
            return f"rule '{p.rule}' left the priority as it is ({action.text}): the desk keeps no priority boost"
        elif action.kind == "note":
            message_id = derived_message_id(desk, seed)
            if await store_events.names_message(desk.store, "note", message_id):
                return None
            from tui_desk.desk.notes import add_note
            await add_note(desk, cid, action.value, message_id=message_id)
        elif action.kind == "reply":
            return await _reply(desk, event, p, derived_message_id(desk, seed))
        elif action.kind == "forward":
            message_id = derived_message_id(desk, seed)
            if await store_events.names_message(desk.store, "forward", message_id):
                return None
            from tui_desk.desk.replies import queue_forward
            await queue_forward(desk, cid, action.value, "", send_at=desk.now(), message_id=message_id,
                                auto_submitted="auto-generated", event={"rule": p.rule})
    except CommandError as e:
        return f"rule '{p.rule}' could not {action.text}: {e}"
    return p.says


async def execute(desk: Desk, event: Event, planned: Sequence[PlannedAction], key: str) -> list[str]:
    """Do what plan() returned for `event`, in order; returns what the conversation now says.
    `key`: names this run (the claimed mail and event): the same key, the same mail ids."""
    said: list[str] = []
    for p in planned:
        done = await _apply(desk, event, p, f"{key}\n{p.rule}\n{p.action.text}")
        if done is None:
            continue
        says = done.says if isinstance(done, _Done) else done
        await record_rule_line(desk, event.conv_id, p.rule, says)
        said.append(says)
        log.info("#%s: %s", event.conv_id, says)
        if isinstance(done, _Done) and done.status_caused_by is not None:
            # a rule's status change is an event for the status rules, fired once it is said
            await desk.fire_status_rules([event.conv_id], done.status_caused_by)
    return said
