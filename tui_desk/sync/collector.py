"""How often Python's cyclic garbage collector runs while mail is moved in bulk.

A sync pass allocates millions of short-lived objects (the wire's FETCH responses, the parse
results coming back from the workers, the store's rows) and almost none of them form cycles:
reference counting frees them. The collector's default, a collection every 700 allocations,
walked them anyway: ~5% of the main process's CPU in a first sync of 10k messages, and about
as much in each parse worker (bench/sync_vs_mbsync.py --profile). Cycles are still collected,
only in bigger steps."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

BULK_THRESHOLD = 10_000  # allocations between two young-generation collections (default 700)

_bulk_users = 0  # bulk() contexts open in this process (accounts sync side by side)
_saved: tuple[int, int, int] | None = None  # the thresholds before the first of them


@contextmanager
def bulk() -> Iterator[None]:
    """Collect less often while inside (this process, every thread); the thresholds come back
    when the last of the contexts open at once ends."""
    global _bulk_users, _saved
    if _bulk_users == 0:
        _saved = gc.get_threshold()
        gc.set_threshold(max(_saved[0], BULK_THRESHOLD), _saved[1], _saved[2])
    _bulk_users += 1
    try:
        yield
    finally:
        _bulk_users -= 1
        if _bulk_users == 0 and _saved is not None:
            gc.set_threshold(*_saved)
            _saved = None


def for_worker() -> None:
    """A parse worker, once its imports are done: what it imported stays for its life, so the
    collector leaves it out of every walk (gc.freeze), and it collects in bulk steps."""
    gc.freeze()
    gc.set_threshold(max(gc.get_threshold()[0], BULK_THRESHOLD), *gc.get_threshold()[1:])
