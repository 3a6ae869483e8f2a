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
_saved: tuple[int, int] | None = None  # the young threshold before the first of them, and the one set


@contextmanager
def bulk() -> Iterator[None]:
    """Collect less often while inside (this process, every thread): the young generation's
    threshold only, which comes back when the last of the contexts open at once ends, unless
    someone changed it meanwhile. The older generations' thresholds are left to their owner
    (the app sets its own while a sync may be running: ui.app)."""
    global _bulk_users, _saved
    if _bulk_users == 0:
        young, older, oldest = gc.get_threshold()
        _saved = (young, max(young, BULK_THRESHOLD))
        gc.set_threshold(_saved[1], older, oldest)
    _bulk_users += 1
    try:
        yield
    finally:
        _bulk_users -= 1
        if _bulk_users == 0 and _saved is not None:
            young, older, oldest = gc.get_threshold()
            if young == _saved[1]:
                gc.set_threshold(_saved[0], older, oldest)
            _saved = None


def for_worker() -> None:
    """A parse worker, once its imports are done: what it imported stays for its life, so the
    collector leaves it out of every walk (gc.freeze), and it collects in bulk steps."""
    gc.freeze()
    gc.set_threshold(max(gc.get_threshold()[0], BULK_THRESHOLD), *gc.get_threshold()[1:])
