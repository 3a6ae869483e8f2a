"""Local changes reach the server: one queued keyword change on one copy of a message (with
CONDSTORE, one conditional STORE of the whole flag set), and a note APPENDed once."""

from __future__ import annotations

from typing import Any

from tui_desk.mail.imap import FetchedMessage, ImapConnection, ImapError
from tui_desk.store import Store, mirror


async def store_flags(conn: ImapConnection, uid: int, args: dict[str, Any]) -> list[FetchedMessage]:
    """One queued change on one copy. "exclusive" names single-valued fields the change sets:
    every other value of them on the copy goes too. With CONDSTORE that is one STORE of the
    whole flag set, UNCHANGEDSINCE the flags it was computed from (re-read and retried when
    a teammate got in between), so concurrent writers never leave a field without a value
    and the server's order decides who wrote last."""
    add, remove = list(args.get("add", [])), set(args.get("remove", []))
    exclusive = tuple(args.get("exclusive", ()))
    if exclusive:
        for _ in range(8):
            # a teammate's change may arrive as a second FETCH for the same UID: the newest counts
            answers = [m for m in await conn.uid_fetch([uid], ["FLAGS", "MODSEQ"])
                       if m.uid == uid and m.flags is not None]
            if not answers:
                return []  # expunged meanwhile
            current = max(answers, key=lambda m: m.modseq or 0)
            have = set(current.flags or ()) - {"\\Recent"}  # (answers all carry FLAGS)
            want = {f for f in have if f not in remove and not (f.lower().startswith(exclusive) and f not in add)}
            want |= set(add)
            if want == have:
                return [current]
            if not conn.has("CONDSTORE") or current.modseq is None:
                remove |= have - want  # best effort: two steps, not atomic
                break
            stored = await conn.uid_set_flags_if_unchanged(uid, sorted(want), current.modseq)
            if stored is not None:
                return [stored]
        else:
            raise ImapError(f"UID {uid} kept changing while its flags were being set")
    out: list[FetchedMessage] = []
    if add:
        out += await conn.uid_store([uid], "+FLAGS", add)
    if remove:
        out += await conn.uid_store([uid], "-FLAGS", sorted(remove))
    return out


async def append_note(store: Store, conn: ImapConnection, message_id: str, folder: str) -> None:
    """Idempotent: the folder is made when missing, and a note already there is not added again."""
    raw = await mirror.raw_by_message_id(store, message_id)
    if raw is None:
        return  # the note is gone locally (undone): nothing to share
    if folder not in {f.name for f in await conn.list_folders()}:
        await conn.create(folder)
    await conn.select(folder)
    if not await conn.uid_search("HEADER", "Message-ID", f"<{message_id}>"):
        await conn.append(folder, raw, flags=["\\Seen"])
