"""The queue's first screenful, read beside the TUI while it is still being imported and built.

Start-up is mostly the main thread importing and laying out Textual (~0.2 s); reading the
store meanwhile on the second core takes the store off the path to the first painted rows.
Only plain values (ids and rows) come back to the app.

`tui-desk` reads it in a forked child process (`fork=True`, cli.run_tui): a thread's Python
(the rows, the 57k-id list) would hold the GIL the main thread's imports wait for. The child
is forked before the TUI is imported and while no other thread runs, reads on a plain sqlite3
connection that cannot write, sends the ids (as int64 bytes) and the rows through a pipe and
leaves with os._exit: no atexit handler, no buffered output flushed, its stdin, stdout and
stderr on /dev/null (it never touches the terminal), Ctrl+C ends it at once. The parent
reaps it (result() or close()). When it cannot fork, or the child fails, the page is read as
it is without `fork`: on a thread.

It reads with the store's own queries and desk.queue_rows (store.db.PlainReads), and leaves
the desk itself (desk.service and all it imports) to the app, after the first paint. A store
that must first be brought up to date (new priority settings, a changed agent identity) or
whose rows carry SLA timelines ([sla] targets: their plans are computed and stored) is read as
before, through a Desk opened on the thread with its own event loop, and closed again. A store
made by an older tui-desk is not read here at all: the app's own open upgrades it (an upgrade
can take seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from tui_desk.config import Config
    from tui_desk.desk.views import QueueRow

Page = tuple[list[int], list["QueueRow"]]
PIPE_BYTES = 1 << 20  # the child's whole answer at 100k conversations (~0.5 MB) fits: it need not wait


class FirstPageReader:
    """`reader = FirstPageReader(db, config)` starts at once; `reader.result()` waits for
    (every id of the queue, the rows of the first `rows` of them), or None when reading
    failed: the app then reads the queue itself and reports the error as it would.
    `fork`: read in a child process (see the module's doc); `close()` ends it if its answer
    was never taken."""

    def __init__(self, db_path: str | Path, config: Config, rows: int = 100,
                 clock: Callable[[], float] = time.time, *, fork: bool = False) -> None:
        self._db_path = Path(db_path)
        self._config = config
        self._rows = rows
        self._clock = clock  # as Desk's
        self._page: Page | None = None
        self.mark: tuple[int, ...] | None = None  # the store's change mark before the read
        self.timings: dict[str, float] = {}  # when the ids and the rows were read (bench/ui_bench.py)
        self._child: tuple[int, int] | None = None  # (pid, the pipe's read end)
        self._child_status: int | None = None  # its wait status, once reaped
        # the child's: "page", "desk" (to read through a Desk here) or "failed"; then "read here"
        self._answer: str | None = None
        self._thread: threading.Thread | None = None
        if fork and self._plain_read_possible():
            self._child = self._fork()
        self.forked = self._child is not None  # else it reads on a thread
        if self._child is None:
            self._start_thread()

    def _start_thread(self) -> None:
        self._thread = threading.Thread(target=self._run, name="first-page", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._page = asyncio.run(self._read())
        except Exception:  # noqa: BLE001 - the app's own open says what is wrong
            self._page = None

    def _plain_read_possible(self) -> bool:
        return not self._config.sla.configured() and self._db_path.exists()

    async def _read(self) -> Page:
        page = await self._read_plain()
        if page is None:
            page = await self._read_with_desk()
        return page

    async def _read_plain(self) -> Page | None:
        """The page, or None when the store needs a Desk to read it (see the module's doc)."""
        from tui_desk.desk.queue_rows import build_rows, outdated, stored_rows
        from tui_desk.store import queries
        from tui_desk.store.db import PlainReads, change_mark
        from tui_desk.store.schema import SCHEMA_VERSION

        config = self._config
        if not self._plain_read_possible():
            return None
        store = PlainReads(self._db_path)
        try:
            if store.version != SCHEMA_VERSION:
                return None
            todo = await outdated(store, config)
            if todo.senders or todo.ranks:
                return None
            self.mark = change_mark(self._db_path)
            now = int(self._clock())  # as Desk.now()
            started = time.perf_counter()
            ids, _ = await queries.queue_list(store, now)  # what Desk.queue_ids reads (desk.queue_ids)
            self.timings.update(ids_read=time.time(), ids_query_s=time.perf_counter() - started)
            first = ids[:self._rows]
            started = time.perf_counter()
            rows = build_rows(first, await stored_rows(store, first, config), now, config)
            self.timings.update(rows_made=time.time(), rows_s=time.perf_counter() - started)
            return ids, rows
        finally:
            store.close()

    async def _read_with_desk(self) -> Page:
        from tui_desk.desk.service import Desk

        # it reads; the app's own open checks, and upgrades an old store (a long upgrade here would
        # hold the app's open behind it)
        desk = await Desk.open(self._db_path, self._config, clock=self._clock, check=False, migrate=False)
        try:
            self.mark = desk.store_mark()
            ids = await desk.queue_ids()
            return ids, await desk.queue_rows(ids[:self._rows])
        finally:
            await desk.close()

    # --- the child process ----------------------------------------------------------------

    def _fork(self) -> tuple[int, int] | None:
        """(pid, read end), or None when a child cannot be had: another thread runs (a fork
        copies only this one, and whatever lock that other holds stays held in the child), no
        fork on this system, or the system refuses one."""
        if not hasattr(os, "fork") or threading.active_count() > 1:
            return None
        try:
            read_end, write_end = os.pipe()
        except OSError:
            return None
        try:
            import fcntl
            fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except (ImportError, AttributeError, OSError):
            pass  # a smaller pipe: the child waits for the app to read the rest
        # Ctrl+C held back over the fork: the child must not take it for the parent's (a
        # KeyboardInterrupt there would run the parent's code on in a second process)
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        parent, pid = os.getpid(), -1
        try:
            pid = os.fork()
            if pid == 0:
                self._child_main(read_end, write_end, mask)
        except BaseException as exc:
            if os.getpid() != parent:  # the child, before _child_main's own guard
                os._exit(1)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            os.close(read_end)
            os.close(write_end)
            if pid > 0:  # a Ctrl+C noticed just after the fork
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            if isinstance(exc, OSError):  # the system refused a fork
                return None
            raise
        os.close(write_end)
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a Ctrl+C held back is raised here
        except BaseException:
            self._child = (pid, read_end)
            self._reap(kill=True)
            raise
        return pid, read_end

    def _child_main(self, read_end: int, write_end: int, mask: Iterable[int]) -> NoReturn:
        status = 1
        try:
            os.close(read_end)
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl+C in the terminal ends it with the app
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            quiet = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(quiet, fd)
            from tui_desk.store.db import PlainReads
            page = PlainReads.run(self._read_plain())  # no event loop to set up: it never waits
            answer: tuple[Any, ...] = ("desk",)  # the store needs a Desk: the app's side reads it
            if page is not None:
                from array import array
                ids, rows = page
                answer = ("page", array("q", ids).tobytes(), rows, self.mark, self.timings)
            import pickle
            data = memoryview(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
            while data:
                data = data[os.write(write_end, data):]
            status = 0
        except BaseException:  # noqa: BLE001 - said by nobody: the app reads the page itself
            pass
        finally:
            os._exit(status)

    def _take_answer(self) -> None:
        """Everything the child sent (it has left or is leaving), and the child reaped."""
        assert self._child is not None
        chunks = []
        try:
            while chunk := os.read(self._child[1], PIPE_BYTES):
                chunks.append(chunk)
        finally:
            self._reap()
        import pickle
        try:
            answer = pickle.loads(b"".join(chunks))
        except Exception:  # noqa: BLE001 - a child that died says nothing: read here, the thread's way
            answer = ("failed",)
        if answer[0] == "page":
            from array import array
            ids = array("q")
            ids.frombytes(answer[1])
            self.mark, self.timings = answer[3], answer[4]
            self._page = ids.tolist(), answer[2]
        self._answer = answer[0]

    def _reap(self, kill: bool = False) -> None:
        if self._child is None:
            return
        pid, read_end = self._child
        self._child = None
        os.close(read_end)
        if self._child_status is not None:  # reaped already (done())
            return
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._child_status = os.waitpid(pid, 0)[1]

    def done(self) -> bool:
        """result() will not wait: the child has sent its page and left, or the thread ended.
        (Not when the page must still be read here: a failed child, a store needing a Desk.)"""
        if self._child is not None:
            if self._child_status is None:
                pid, status = os.waitpid(self._child[0], os.WNOHANG)
                if pid == 0:
                    return False
                self._child_status = status
            self._take_answer()
        if self.forked:
            return self._answer in ("page", "read here")
        return self._thread is None or not self._thread.is_alive()

    def result(self) -> Page | None:
        if self._child is not None:
            self._take_answer()
        if self.forked and self._answer in ("desk", "failed"):
            how, self._answer = self._answer, "read here"
            try:  # as the thread would have
                self._page = asyncio.run(self._read_with_desk() if how == "desk" else self._read())
            except Exception:  # noqa: BLE001 - the app's own open says what is wrong
                self._page = None
        elif self._thread is not None:
            self._thread.join()
        return self._page

    def close(self) -> None:
        """Ends the child if its answer was never taken (the app did not get that far)."""
        self._reap(kill=True)

