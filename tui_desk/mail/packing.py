"""How raw mail is packed where it is kept (the store's raw_messages.data): zlib. Here, below
the store, so a parse worker (sync.parse_worker) packs what it parsed without importing the
store and its database driver."""

from __future__ import annotations

import zlib


def pack_raw(raw: bytes, kept: bool = True) -> bytes:
    """raw_messages.data: zlib, level 6 (the parse workers compress with the same call).
    kept=False: a header block that the same sync replaces with the whole mail (header-first
    pass): zlib level 0, stored blocks that the same zlib.decompress reads; compressing them
    was a tenth of the parse workers' time in a first sync, for bytes soon overwritten."""
    return zlib.compress(raw, 6 if kept else 0)
