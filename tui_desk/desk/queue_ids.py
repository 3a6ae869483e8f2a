"""The queue's id list, kept up to date by moving what changed instead of reading it all again.

After an action the queue at 100k conversations is the same ~57k ids but for a few: the
conversations acted on and the customer's other open ones (a returning customer's ranks move
together, desk.priority). Reading the whole list again cost ~11-15 ms of SQLite and JSON per
action (issue 14); this reads the rows of the conversations that changed and moves, drops or
inserts only those, in (rank, id) order as the full read has them.

What changed is noted by the store (store.queries.watch_queue_moves: triggers on this desk's
connection), whatever wrote it: an action, its undo, a rule, a merge, the sync in this process.
The list is read whole again whenever this cannot be sure:
- another connection committed (the CLI, a second app, a teammate's process): data_version;
- a snooze ran out since the last read (the earliest wake-up is noted with it), or the clock
  went back;
- a transaction is open on the shared connection (it may still be rolled back);
- many conversations moved at once (a recomputation): reading them one by one is no cheaper.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from tui_desk.store import Store, queries

MANY_MOVED = 1000  # more than this: the whole list again
FEW_LEAVING = 32  # up to this many leave one by one, more in one pass over the list
FANOUT = 64  # ranks fetched per round when finding where a conversation goes (3 rounds at 57k)


class _Unsure(Exception):
    """The store changed under an update: read the whole list."""


@dataclass
class _Held:
    ids: list[int]
    version: int  # data_version when it was read
    now: int  # the time it was read for
    wakes_at: int | None  # the earliest snooze end after `now` (the list changes then)
    ranks: dict[int, float] = field(default_factory=dict)  # of some of ids, fetched while placing
    _members: set[int] | None = None

    def members(self) -> set[int]:
        """The ids as a set, made at the first update (a list read for one look never needs it)."""
        if self._members is None:
            self._members = set(self.ids)
        return self._members


class QueueIds:
    """Desk.queue_ids() without a query: the open queue in answer-next order."""

    def __init__(self, store: Store):
        self.store = store
        self._watching = False
        self._held: _Held | None = None
        self.full_reads = 0  # how often the whole list was read (tests, benches)

    async def ids(self, now: int) -> list[int]:
        held, self._held = self._held, None
        if held is not None:
            async with queries.no_transaction(self.store) as quiet:
                try:
                    if quiet and await self._update(held, now) and await self._same_version(held):
                        self._held = held
                        return list(held.ids)
                except _Unsure:
                    pass
        return list(await self._read(now))

    async def _same_version(self, held: _Held) -> bool:
        return await self.store.data_version() == held.version

    async def _read(self, now: int) -> list[int]:
        store = self.store
        self.full_reads += 1
        async with queries.no_transaction(store) as quiet:
            if not quiet:  # as it stands; not kept, since it may be rolled back
                return (await queries.queue_list(store, now))[0]
            if not self._watching:
                await queries.watch_queue_moves(store)
                self._watching = True
            await queries.queue_moves(store)  # the list read next has them
            version = await store.data_version()
            ids, wakes_at = await queries.queue_list(store, now)
            self._held = _Held(ids, version, now, wakes_at)
            return ids

    async def _update(self, held: _Held, now: int) -> bool:
        """Bring `held` to `now`'s queue; False when only a whole read can."""
        if now < held.now or (held.wakes_at is not None and now >= held.wakes_at):
            return False
        store = self.store
        if not await self._same_version(held):
            return False
        moved = await queries.queue_moves(store)
        if len(moved) > MANY_MOVED:
            return False
        held.now = now
        if not moved:
            return True
        places = await queries.queue_places(store, moved)
        ids, members = held.ids, held.members()
        leaving = [i for i in moved if i in members]
        if len(leaving) <= FEW_LEAVING:  # list.index runs in C, and stops where the id is
            for conv_id in leaving:
                del ids[ids.index(conv_id)]
        else:
            gone = set(leaving)
            ids[:] = [i for i in ids if i not in gone]
        members.difference_update(leaving)
        ranks = held.ranks
        entering: list[tuple[float, int]] = []
        for conv_id in moved:
            ranks.pop(conv_id, None)
            place = places.get(conv_id)
            if place is None:  # deleted (merged away)
                continue
            status, rank, snooze_until, snooze_reply = place
            if status != "open" or snooze_reply:
                continue
            if snooze_until is not None and snooze_until > now:
                if held.wakes_at is None or snooze_until < held.wakes_at:
                    held.wakes_at = snooze_until
                continue
            entering.append((rank, conv_id))
        for rank, conv_id in sorted(entering):
            at = await self._position(held, (rank, conv_id))
            ids.insert(at, conv_id)
            members.add(conv_id)
            ranks[conv_id] = rank
        return True

    async def _position(self, held: _Held, key: tuple[float, int]) -> int:
        """Where `key` goes in held.ids (sorted by (rank, id)): a search that fetches the ranks
        of FANOUT ids a round, those in held.ranks kept for the next search."""
        ids, ranks = held.ids, held.ranks
        lo, hi = 0, len(ids)
        while lo < hi:
            step = max(1, (hi - lo) // FANOUT)
            probes = list(range(lo, hi, step))
            missing = [ids[p] for p in probes if ids[p] not in ranks]
            if missing:
                ranks.update(await queries.ranks_of(self.store, missing))
                if any(i not in ranks for i in missing):  # gone meanwhile: another connection
                    raise _Unsure
            keys = [(ranks[ids[p]], ids[p]) for p in probes]
            k = bisect.bisect_left(keys, key)  # probes[k - 1] < key <= probes[k]
            if step == 1:
                return probes[k] if k < len(probes) else hi
            lo = probes[k - 1] + 1 if k > 0 else lo
            hi = probes[k] if k < len(probes) else hi
        return lo
