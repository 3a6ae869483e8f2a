"""Merging conversations and splitting a message out of one: agents' actions with undo.

Merge (keep, others): every message of the others moves into `keep`, and so does every thread
key of theirs (store.merge), so mail that later threads to either side, and a re-import or
re-sync of the same mail, lands in the merged conversation: the merge holds with no record of
its own. Local state merges as the team keywords do (desk.keywords): tags are the union;
status and snooze are the kept conversation's, and so is the assignee, or when it has none the
first merged one's that has one (an owner is never lost). The history of the kept conversation
says the merge (a `merge` event naming both ids; its undo an `unmerge` one), and a merged-away
id shows the kept conversation (Desk.conversation). Queued replies and a draft go along;
two drafts among the conversations are refused (send or discard one first). A merged-away id
stays an alias of `keep`, so a `[#N]` marker in a customer's subject still finds it.
Different customers' conversations are refused, naming them, unless the caller says so (the
app asks, the CLI takes --different-customers): a reply would go to one of them. A draft that
moves is said; one written to another customer than the kept one's is kept below a line that
says whose it was, which a reply is refused for (desk.replies._filled), so it never reaches
this customer unread; undo gives it back as it was. The merge's events go under the kept
conversation's own anchor, taken before the merge, so after an undo each history is its own.

Split (message): that one message, and nothing else, moves to a new conversation of its own,
with a fresh state (open, untagged, unassigned: as if it had arrived alone) and its own
summary. Only its own Message-ID moves with it, so a later mail that refers to that message
alone (In-Reply-To/References naming only it, or only mail that has joined it since) goes to
the new conversation. A split is not remembered beyond that: ingest joins every conversation a
message's ids touch, so mail whose references name the split message and anything of the old
conversation re-joins the two (the new one is folded back into the old one, which keeps its
state). That includes most replies to the split message, whose References carry the whole
chain (our own replies too), and a re-import of the split message itself when it refers to
mail of the old conversation. A note cannot be split out; it belongs to its conversation.

Both run in one store transaction, queue the keyword changes that bring the server copies in
line with the new state, recompute summaries and ranks, and push a Change on the undo stack
whose `revert` puts the messages back (desk.commands.undo calls it). Repeating one is a no-op
that says so and is not pushed. Undo restores the state from before; mail that arrived after
the action stays where it went.

Merge and split are local to this store for now (not shared with teammates through IMAP):
the server keywords carry a conversation's state, not its grouping, so teammates keep their
own grouping. The keyword changes do reach them: after a merge the merged-away mail carries
the kept conversation's state, so their copy of that conversation shows it too.
"""

from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass
from typing import Awaitable, Callable

from tui_desk.desk.commands import UNDO_DEPTH, CommandError
from tui_desk.desk.core import Change, DeskCore
from tui_desk.desk.history import Merged, anchor_of, record_merge
from tui_desk.desk.keywords import keywords_for, queue_changes
from tui_desk.sanitize import sanitize_line
from tui_desk.store import merge as store_merge
from tui_desk.store import outbox
from tui_desk.store import queries
from tui_desk.store.queries import ConvState


@dataclass(frozen=True)
class MessagesChange(Change):
    """A Change that moved messages between conversations: undo awaits `revert(desk)`, which
    moves them back and writes `before`."""
    revert: Callable[["DeskCore"], Awaitable[None]] | None = None
    said: str = ""  # what the action says beyond `description` (the undo's line): a draft that moved


def _push(desk: DeskCore, change: Change) -> Change:
    desk.undo_stack.append(change)
    del desk.undo_stack[:-UNDO_DEPTH]
    return change


async def _settle(desk: DeskCore, queued: dict[int, ConvState]) -> None:
    """refresh() works the status out again from the mail each conversation now has (a status
    nobody set follows the mail): when that differs from what was queued for the server copies,
    they follow, else a round trip through the keywords would bring the stale status back."""
    store = desk.store
    now = await queries.conversation_states(store, list(queued))
    changed = {cid: s for cid, s in now.items() if keywords_for(s) != keywords_for(queued[cid])}
    if changed:
        async with store.transaction():
            await queue_changes(store, changed)


def _conv_id(value: object) -> int:
    try:  # anything may come: what is not an integer raises the TypeError turned into a message below
        return operator.index(value)  # type: ignore[arg-type]  # see the line above
    except TypeError:
        raise CommandError(f"a conversation is given by its number, not {value!r}") from None


async def missing(desk: DeskCore, conv_id: int) -> CommandError:
    """Why there is no conversation `conv_id`: none, or merged into another (which is named)."""
    now = await store_merge.merged_into(desk.store, conv_id)
    if now is not None and now != conv_id:
        return CommandError(f"conversation {conv_id} was merged into {now}")
    return CommandError(f"no conversation {conv_id}")


def _listing(ids: list[int]) -> str:
    return f"conversation{'s' if len(ids) != 1 else ''} {', '.join(map(str, ids))}"


class DifferentCustomers(CommandError):
    """A merge that would mix customers, not asked for (its text names them)."""


def mixed_customers(customers: dict[int, str], order: list[int]) -> str | None:
    """"#12 (ana@x) and #40, #41 (bo@y) are different customers", or None when one customer
    has them all (a conversation without one, only agents' mail, names nobody)."""
    groups: dict[str, list[int]] = {}
    for conv_id in order:
        if customers.get(conv_id):
            groups.setdefault(customers[conv_id], []).append(conv_id)
    if len(groups) < 2:
        return None
    named = [f"{', '.join(f'#{i}' for i in ids)} ({sanitize_line(key)})" for key, ids in groups.items()]
    return f"{', '.join(named[:-1])} and {named[-1]} are different customers"


async def differs(desk: DeskCore, keep_id: int, other_ids: list[int]) -> str | None:
    """What merging these would mix (see mixed_customers): the app asks it before a merge,
    which refuses it unless told `different_customers`."""
    order = [keep_id, *sorted(set(other_ids) - {keep_id})]
    return mixed_customers(await store_merge.customers(desk.store, order), order)


async def _set_apart(desk: DeskCore, keep_id: int, record: store_merge.MergedAway, customers: dict[int, str]) -> str:
    """A draft that moved with a merge: said, and when it was written to another customer than
    the kept conversation's, kept below a line saying whose it was (a reply holding that line is
    refused: replies._filled), so it never goes to this customer unread. Returns what to say."""
    said = f"#{record.conv_id}'s draft kept on #{keep_id}"
    written_to = customers.get(record.conv_id, "")
    if not written_to or written_to == customers.get(keep_id) or not customers.get(keep_id):
        return said
    found = await outbox.draft(desk.store, keep_id)
    if found is not None:
        await store_merge.set_draft_body(desk.store, keep_id, f"{_apart_line(record.conv_id, written_to)}\n\n{found[0]}")
    return f"{said} — it was written to {sanitize_line(written_to)}"


def _apart_line(conv_id: int, written_to: str) -> str:
    return outbox.kept_separator(f"#{conv_id}'s draft, written to {sanitize_line(written_to)}")


async def merge(desk: DeskCore, keep_id: int, other_ids: list[int], different_customers: bool = False) -> Change:
    """Fold the other conversations into `keep_id` (see the module docstring). Different
    customers' conversations are refused, naming them, unless `different_customers`."""
    store = desk.store
    keep_id = _conv_id(keep_id)
    wanted = sorted({_conv_id(c) for c in other_ids} - {keep_id})
    if not wanted:
        raise CommandError(f"name a conversation to merge into {keep_id}, other than {keep_id} itself")
    async with store.transaction():
        if not await store_merge.conversation_exists(store, keep_id):
            raise await missing(desk, keep_id)
        others, already = [], []
        for conv_id in wanted:
            if await store_merge.conversation_exists(store, conv_id):
                others.append(conv_id)
            elif await store_merge.merged_into(store, conv_id) == keep_id:
                already.append(conv_id)
            else:
                raise await missing(desk, conv_id)
        if not others:
            return Change(f"{_listing(already)} already merged into {keep_id}", {})
        customers = await store_merge.customers(store, [keep_id, *others])
        mixed = mixed_customers(customers, [keep_id, *others])
        if mixed is not None and not different_customers:
            raise DifferentCustomers(mixed)
        drafts = await store_merge.conversations_with_drafts(store, [keep_id, *others])
        if len(drafts) > 1:
            raise CommandError(f"{_listing(drafts)} each have a draft: send or discard all but one first")
        states = await queries.conversation_states(store, [keep_id, *others])
        before = {cid: dataclasses.replace(s) for cid, s in states.items()}
        owner = next((states[c].assignee for c in (keep_id, *others) if states[c].assignee), None)
        merged = dataclasses.replace(states[keep_id], assignee=owner,
                                     tags=tuple(sorted({t for s in states.values() for t in s.tags})))
        anchor = await anchor_of(desk, keep_id)  # before its mail is joined by (maybe older) mail
        records = await store_merge.merge_conversations(store, keep_id, others)
        said = [await _set_apart(desk, keep_id, r, customers) for r in records if r.draft_moved]
        await queries.write_states(store, {keep_id: merged})
        await queue_changes(store, {keep_id: merged})
        named = [Merged(r.conv_id, str(r.row["subject"] or ""), customers.get(r.conv_id, "")) for r in records]
        merge_event = await record_merge(desk, "merge", keep_id, anchor, named, merged, states[keep_id])
        customer_keys = [key for r in records if isinstance(key := r.row["customer_key"], str) and key]  # TEXT
        # the others' customers' open conversations get their loud-customer ranking again
        rerank = await queries.open_conversations_of_customers(store, customer_keys) if customer_keys else []
    await desk.refresh({keep_id, *rerank})
    await _settle(desk, {keep_id: merged})

    async def revert(desk: DeskCore) -> None:
        async with store.transaction():
            home = await store_merge.merged_into(store, keep_id)
            if home is None:
                raise CommandError(f"cannot undo the merge: conversation {keep_id} is gone")
            restored = {record.conv_id: await store_merge.unmerge(store, home, record) for record in records}
            for record in records:
                if record.draft_moved:  # the line that set it apart goes with the merge
                    await _take_apart_line_off(desk, restored[record.conv_id],
                                               _apart_line(record.conv_id, customers.get(record.conv_id, "")))
            states = {now: before[was] for was, now in restored.items()}
            if home == keep_id:  # else keep was merged on since: that merge's state stays
                states[keep_id] = before[keep_id]
            now = await queries.conversation_states(store, [home])
            await queries.write_states(store, states)
            await queue_changes(store, states)
            back = [dataclasses.replace(m, conv_id=restored[m.conv_id]) for m in named]
            await record_merge(desk, "unmerge", home, await anchor_of(desk, home), back, states.get(home),
                               now.get(home), undoes=merge_event)
        await desk.refresh({home, *restored.values(), *rerank})
        await _settle(desk, states)

    description = f"merged {_listing(others)} into {keep_id}"
    return _push(desk, MessagesChange(description, before, revert, said="; ".join([description, *said])))


async def _take_apart_line_off(desk: DeskCore, conv_id: int, line: str) -> None:
    found = await outbox.draft(desk.store, conv_id)
    if found is not None and found[0].startswith(line + "\n\n"):
        await store_merge.set_draft_body(desk.store, conv_id, found[0].removeprefix(line + "\n\n"))


async def split(desk: DeskCore, message: int | str) -> Change:
    """Move one message (by rowid, or by Message-ID) into a new conversation of its own (see the
    module docstring for what happens to replies)."""
    store = desk.store
    if isinstance(message, bool) or not isinstance(message, (int, str)):
        raise CommandError(f"a message is given by its number or its Message-ID, not {message!r}")
    async with store.transaction():
        found = await store_merge.find_message(store, message)
        if found is None:
            raise CommandError(f"no message {message}")
        rowid, _, conv_id, is_note = found
        if is_note:
            raise CommandError(f"message {rowid} is an internal note: it stays with its conversation")
        if not await store_merge.other_mail_count(store, conv_id, rowid):
            return Change(f"message {rowid} is already a conversation of its own ({conv_id})", {})
        before = await queries.conversation_states(store, [conv_id])
        record = await store_merge.split_message(store, rowid)
        fresh = {record.new_conv: ConvState()}
        await queries.write_states(store, fresh)
        # its server copies drop the old conversation's keywords (else they would come back)
        await queue_changes(store, fresh)
    await desk.refresh([conv_id, record.new_conv])
    await _settle(desk, fresh)

    async def revert(desk: DeskCore) -> None:
        async with store.transaction():
            home = await store_merge.unsplit(store, record)
            if home is None:
                raise CommandError(f"cannot undo the split: conversation {conv_id} is gone")
            # the conversation it came from gets its state back, unless a merge took it since
            if home == conv_id:
                states = {home: before[conv_id]}
            else:
                states = await queries.conversation_states(store, [home])
            await queries.write_states(store, states)
            await queue_changes(store, states)  # the message's copies take on the home's keywords
        await desk.refresh({home, record.new_conv})
        await _settle(desk, states)

    return _push(desk, MessagesChange(f"split message {rowid} out of conversation {conv_id} into {record.new_conv}",
                                      before, revert))
