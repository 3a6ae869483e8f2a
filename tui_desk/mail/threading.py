"""Threading rules: which Message-IDs tie a message to a conversation.

A conversation is a connected component of the graph whose edges join a message's own id
with every id in its References and In-Reply-To (JWZ's containers without the tree: missing
parents become placeholder ids, duplicates collapse, cycles are harmless). Components do not
depend on arrival order, so one-at-a-time and all-at-once give the same grouping. Subjects are
never used to join, except a `[#N]` ticket marker, and only when the sender already takes part
in conversation N (checked by the store).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:  # desk.priority uses this module on the app's first page: mail.model can wait
    from tui_desk.mail.model import ParsedMessage

#: What UnionFind joins: a Message-ID, or a (tag, number) pair a caller joins with them
#: (store ingest: ("conv", conversation id); bench/build_big_store.py: ("msg", index)).
ThreadKey: TypeAlias = str | tuple[str, int]

TICKET_MARKER = re.compile(r"\[#(\d{1,9})\]")

_REPLY_WORDS = "re|aw|sv|vs|antw|ответ|回复|答复"
_FORWARD_WORDS = "fw|fwd|wg|tr"
_PREFIXES = {
    forwards: re.compile(rf"^\s*(({_REPLY_WORDS}{'|' + _FORWARD_WORDS if forwards else ''})\s*(\[\d+\])?\s*[:：]\s*)+",
                         re.I)
    for forwards in (False, True)
}


def strip_subject_prefixes(subject: str, forwards: bool = True) -> str:
    """'Re: AW: Ответ: x' -> 'x' (and 'Fwd:' too unless forwards=False). Only for display and
    for writing 'Re:' once: subjects never join conversations."""
    return _PREFIXES[forwards].sub("", subject).strip()


def thread_keys(msg: ParsedMessage) -> list[str]:
    """The message's own id first, then every id it points at, without duplicates."""
    keys = [msg.message_id]
    for ref in [*msg.references, msg.in_reply_to]:
        if ref and ref not in keys:
            keys.append(ref)
    return keys


def ticket_number(subject: str) -> int | None:
    m = TICKET_MARKER.search(subject)
    return int(m.group(1)) if m else None


class UnionFind:
    """Disjoint sets over thread keys (path halving, union by size)."""

    def __init__(self) -> None:
        self.parent: dict[ThreadKey, ThreadKey] = {}  # key -> a key of its set (itself at the root)
        self.size: dict[ThreadKey, int] = {}  # key -> size of its set (up to date at roots only)

    def find(self, x: ThreadKey) -> ThreadKey:
        parent = self.parent
        if x not in parent:
            parent[x] = x
            self.size[x] = 1
            return x
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: ThreadKey, b: ThreadKey) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]

    def groups(self) -> dict[ThreadKey, list[ThreadKey]]:
        """Root -> every key of its set."""
        out: dict[ThreadKey, list[ThreadKey]] = {}
        for x in self.parent:
            out.setdefault(self.find(x), []).append(x)
        return out
