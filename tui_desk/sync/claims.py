"""Claims on the server: which client runs the rules on a new mail, exactly once across a team.

The desk (desk.rules.fire) decides what to run; this module talks IMAP for it. Before a client
acts on a mail it CLAIMS it: one conditional STORE (RFC 7162, UNCHANGEDSINCE the MODSEQ the
client saw) adding its own claim keyword (`td:rules:<agent>`, desk.keywords) to that copy. The
server orders concurrent STOREs: the first wins, every later one answers MODIFIED; the loser
reads the flags again, finds the winner's claim and leaves the mail alone. After acting the
winner adds the done keyword (`td:rules-done`). A client that finds its own claim without the
done keyword (it stopped between the two) runs the mail again: the desk's actions are
idempotent.

Without CONDSTORE the claim is a plain +FLAGS, read back: when two claims are there the
lowest keyword wins (every client picks the same one). That is weaker: a client that reads
before the other has stored may act too. Servers without CONDSTORE are rare (Dovecot, Cyrus,
Gmail, Fastmail and Exchange-less stacks have it); README says so.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from tui_desk.mail.imap import FetchedMessage, ImapConnection
from tui_desk.store import Store, mirror

MAX_TRIES = 8  # MODIFIED answers in a row (teammates' keywords landing on the same mail)


@dataclass(frozen=True)
class Copy:
    """One server copy of a mail a rule may run on, as the store last saw it."""
    folder: str
    uid: int
    message_id: str
    conv_id: int
    date: int | None
    flags: frozenset[str]
    modseq: int | None


@dataclass(frozen=True)
class ClaimKeywords:
    mine: str  # this client's claim
    prefix: str  # every client's claim starts so
    done: str


def claims_on(flags: frozenset[str] | set[str], keys: ClaimKeywords) -> set[str]:
    """The claim keywords among these flags (lower case)."""
    return {f.lower() for f in flags if f.lower().startswith(keys.prefix)}


class ClaimSession:
    """Claims over the sync's open connection, during one of its passes (AccountSync.after_pass)."""

    def __init__(self, store: Store, account: str, conn: ImapConnection) -> None:
        self.store, self.account, self.conn = store, account, conn

    async def copies(self, since: int) -> list[Copy]:
        """Customer mail in the account's queue folders dated `since` or later."""
        return [Copy(*row[:5], frozenset(row[5].split()), row[6])
                for row in await mirror.queue_copies_since(self.store, self.account, since)]

    async def current(self, message_id: str, conv_id: int) -> Copy | None:
        """This account's copy of the mail with its flags and MODSEQ as the server has them now
        (the mirror learns them too); None when the account holds no copy of it. The timed rule
        events (desk.rules.timed) claim on any mail of a conversation, not only new mail."""
        for folder, uid, _ in await mirror.locations_of(self.store, self.account, message_id):
            copy = Copy(folder, uid, message_id, conv_id, None, frozenset(), None)
            await self._select(folder)
            found = await self._read(copy)
            if found is None:
                continue  # expunged since the last sync
            await self._remember(copy, found)
            return dataclasses.replace(copy, flags=frozenset(found.flags or ()), modseq=found.modseq)
        return None

    async def _select(self, folder: str) -> None:
        if self.conn.selected != folder:
            await self.conn.select(folder)

    async def _read(self, copy: Copy) -> FetchedMessage | None:
        answers = [m for m in await self.conn.uid_fetch([copy.uid], ["FLAGS", "MODSEQ"])
                   if m.uid == copy.uid and m.flags is not None]
        return max(answers, key=lambda m: m.modseq or 0) if answers else None

    async def _remember(self, copy: Copy, m: FetchedMessage) -> None:
        """The mirror learns the server's answer at once (the next sync would too)."""
        if m.flags is None:
            return
        folder = await mirror.folder_state(self.store, self.account, copy.folder, "queue")
        async with self.store.transaction():
            await mirror.update_flags(self.store, folder.id, [(copy.uid, " ".join(m.flags), m.modseq)])

    async def claim(self, copy: Copy, keys: ClaimKeywords) -> bool:
        """True when this client holds the claim now (new, or its own from before without the
        done keyword); False when another client has it, the rules ran on it already, or it is
        gone from the server."""
        await self._select(copy.folder)
        flags, modseq = set(copy.flags), copy.modseq
        condstore = self.conn.has("CONDSTORE")
        for _ in range(MAX_TRIES):
            lowered = {f.lower() for f in flags}
            if keys.done in lowered:
                return False
            held = claims_on(flags, keys)
            if held:
                return min(held) == keys.mine  # the one pick every client makes
            if not condstore or modseq is None:
                stored = await self.conn.uid_store([copy.uid], "+FLAGS", [keys.mine])
                if not stored:
                    return False  # expunged meanwhile
                current = await self._read(copy)
                if current is None:
                    return False
                await self._remember(copy, current)
                if keys.done in {f.lower() for f in current.flags or ()}:
                    return False  # done meanwhile (its claim may be gone already: forget)
                held = claims_on(set(current.flags or ()), keys)
                return bool(held) and min(held) == keys.mine
            want = sorted((flags - {"\\Recent"}) | {keys.mine})
            stored_one = await self.conn.uid_set_flags_if_unchanged(copy.uid, want, modseq)
            if stored_one is not None:
                if stored_one.flags is not None:
                    await self._remember(copy, stored_one)
                return True
            current = await self._read(copy)  # MODIFIED: someone got in first; look again
            if current is None:
                return False
            await self._remember(copy, current)
            flags, modseq = set(current.flags or ()), current.modseq
        return False

    async def done(self, copy: Copy, keys: ClaimKeywords) -> None:
        await self._select(copy.folder)
        for m in await self.conn.uid_store([copy.uid], "+FLAGS", [keys.done]):
            if m.uid == copy.uid:
                await self._remember(copy, m)

    async def forget(self, copy: Copy, keywords: list[str]) -> None:
        """Take keywords off the copy (a claim once its done keyword is stored: the done keyword
        alone stops every client, so claims do not pile up on a mail that keeps firing)."""
        await self._select(copy.folder)
        for m in await self.conn.uid_store([copy.uid], "-FLAGS", keywords):
            if m.uid == copy.uid:
                await self._remember(copy, m)
