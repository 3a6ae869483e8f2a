"""Typed results the IMAP session hands the rest of the app."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

UpdateKind = Literal["EXISTS", "RECENT", "EXPUNGE", "VANISHED", "FETCH", "STATUS", "LIST"]
IDLE_MAX_SECONDS = 29 * 60  # servers may drop an IDLE after 30 minutes (RFC 2177)

SPECIAL_USE = frozenset({"\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"})
_SPECIAL_USE_BY_LOWER = {s.lower(): s for s in SPECIAL_USE}


@dataclass(frozen=True, slots=True)
class Folder:
    name: str  # decoded from modified UTF-7; "INBOX" spelled upper-case
    delimiter: str | None
    flags: frozenset[str]  # e.g. "\\HasNoChildren", "\\Sent"
    special_use: str | None  # "\\Sent", "\\Trash", ... (RFC 6154) or None

    @property
    def selectable(self) -> bool:
        return not {"\\noselect", "\\nonexistent"} & {f.lower() for f in self.flags}


@dataclass(slots=True)
class FetchedMessage:
    """One FETCH response. Fields stay None when the item was not in the response."""

    seq: int
    uid: int | None = None
    flags: tuple[str, ...] | None = None
    modseq: int | None = None
    internaldate: dt.datetime | None = None
    size: int | None = None  # RFC822.SIZE
    body: bytes | None = None  # BODY[] / RFC822
    header: bytes | None = None  # BODY[HEADER] / RFC822.HEADER
    # Other BODY[...] by section, upper-case: "TEXT", "1.MIME", "HEADER.FIELDS (SUBJECT)", "<0>"
    sections: dict[str, bytes | None] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # ENVELOPE, BODYSTRUCTURE, ... as parsed lists

    def has(self, key: str) -> bool:
        """Whether the response carried item `key` (upper-case, response spelling)."""
        match key:
            case "UID" | "FLAGS" | "MODSEQ" | "INTERNALDATE":
                return getattr(self, key.lower()) is not None
            case "RFC822.SIZE":
                return self.size is not None
            case "BODY[]" | "RFC822":
                return self.body is not None
            case "BODY[HEADER]" | "RFC822.HEADER":
                return self.header is not None
        if key.startswith("BODY["):
            return _section_key(key[4:]) in self.sections
        return key in self.extra


@dataclass(slots=True)
class MailboxStatus:
    name: str
    readonly: bool
    exists: int = 0
    recent: int = 0
    uidvalidity: int = 0
    uidnext: int = 0
    highestmodseq: int | None = None  # None: no CONDSTORE for this mailbox
    flags: tuple[str, ...] = ()
    permanent_flags: tuple[str, ...] = ()
    vanished: list[int] = field(default_factory=list)  # QRESYNC: expunged since the given modseq
    changed: list[FetchedMessage] = field(default_factory=list)  # QRESYNC: flag changes since then


@dataclass(frozen=True, slots=True)
class QresyncState:
    """What the client knew about a mailbox, for SELECT (QRESYNC ...) (RFC 7162)."""

    uidvalidity: int
    modseq: int
    known_uids: str | None = None  # UID set, e.g. "1:500"


@dataclass(frozen=True, slots=True)
class Update:
    """A change the server announced on its own.

    kind: EXISTS/RECENT (`number` = new count), EXPUNGE (`number` = sequence number),
    VANISHED (`uid_ranges`, QRESYNC), FETCH (`number` = sequence number, `message` = flags,
    modseq and, with QRESYNC, uid); with NOTIFY (RFC 5465, `notify_set`): STATUS (mail came to
    or left another folder) and LIST (a folder was made, renamed or deleted), `mailbox` naming it."""

    kind: UpdateKind
    number: int | None = None
    uid_ranges: tuple[tuple[int, int], ...] = ()
    message: FetchedMessage | None = None
    mailbox: str | None = None

    @property
    def uids(self) -> list[int]:
        return [u for lo, hi in self.uid_ranges for u in range(lo, hi + 1)]


class Raw(str):
    """A search/fetch argument sent verbatim, e.g. Raw("(OR SEEN FLAGGED)")."""


def _section_key(spec: str) -> str:
    """'[HEADER.FIELDS (SUBJECT)]<0>' → 'HEADER.FIELDS (SUBJECT)<0>' (the `sections` key)."""
    close = spec.rindex("]")
    return " ".join(spec[1:close].split()) + spec[close + 1:]

