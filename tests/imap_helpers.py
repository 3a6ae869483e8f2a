"""IMAP commands only the tests use, as functions over an `ImapConnection` (they were its methods;
the app never called them). They go through the connection's own plumbing (`_slot`, `_wire`,
`_simple`, `_execute`), so they behave exactly as its methods do."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, Iterable, Sequence

from tui_desk.mail.imap import FetchedMessage, ImapConnection, ImapError, uid_set
from tui_desk.mail.imap.channel import _Channel, _EndOfStream
from tui_desk.mail.imap.responses import _text
from tui_desk.mail.imap.wire import _parse_uid_ranges


def connected(conn: ImapConnection) -> bool:
    """Whether the connection is open (connected and not lost or closed)."""
    return conn._proto is not None and conn._proto.lost is None


async def delete(conn: ImapConnection, folder: str) -> None:
    await conn._simple("DELETE", conn._wire("DELETE").mailbox(folder))


async def uid_expunge(conn: ImapConnection, uids: str | Iterable[int]) -> None:
    """UID EXPUNGE (UIDPLUS): only these \\Deleted messages; the server's EXPUNGE/VANISHED
    answers go to the update stream."""
    if not conn.has("UIDPLUS"):
        raise ImapError(f"{conn.label} has no UIDPLUS; cannot expunge by UID")
    await conn._simple("EXPUNGE", conn._wire("UID EXPUNGE").raw(uid_set(uids)), prefix="UID")


async def uid_move(conn: ImapConnection, uids: str | Iterable[int], folder: str) -> dict[int, int]:
    """UID MOVE (RFC 6851); returns old UID → new UID when the server reports COPYUID."""
    if not conn.has("MOVE"):
        raise ImapError(f"{conn.label} has no MOVE")
    cmd = await conn._simple("MOVE", conn._wire("UID MOVE").raw(uid_set(uids)).mailbox(folder),
                             prefix="UID")
    for text in [_text(u[0]) for u in cmd.units] + [cmd.tagged_text()]:
        if m := re.search(r"\[COPYUID \d+ ([0-9:,]+) ([0-9:,]+)\]", text):
            old = [u for lo, hi in _parse_uid_ranges(m.group(1)) for u in range(lo, hi + 1)]
            new = [u for lo, hi in _parse_uid_ranges(m.group(2)) for u in range(lo, hi + 1)]
            return dict(zip(old, new, strict=False))
    return {}


async def uid_fetch_iter(conn: ImapConnection, uids: str | Iterable[int], items: str | Sequence[str], *,
                         changed_since: int | None = None,
                         high_water: int = 256) -> AsyncGenerator[FetchedMessage, None]:
    """UID FETCH as a stream: messages are yielded as they arrive; reading from the server
    pauses while `high_water` parsed messages wait for the consumer. Other commands must wait
    until the stream ends; close it early with contextlib.aclosing."""
    async with conn._slot(busy="a FETCH stream") as protocol:
        channel: _Channel[FetchedMessage] = _Channel()
        cmd = conn._fetch_command(uid_set(uids), items, changed_since, channel.put)

        def sink(msg: FetchedMessage) -> None:
            channel.put(msg)
            if len(channel) >= high_water and not cmd.paused and protocol.transport:
                cmd.paused = True
                protocol.transport.pause_reading()

        def resume() -> None:
            if cmd.paused:
                cmd.unpause()
                if protocol.transport is not None and not protocol.transport.is_closing():
                    protocol.transport.resume_reading()

        cmd.sink = sink
        cmd.closed_hook = channel.end  # errors come from the task, already translated
        task = asyncio.get_running_loop().create_task(conn._execute(cmd))
        try:
            while True:
                try:
                    msg = await channel.get()
                except _EndOfStream:
                    break
                if cmd.paused and len(channel) <= high_water // 2:
                    resume()
                yield msg
            await task
        finally:
            if not task.done():  # consumer stopped early: drain the rest, keep the connection
                cmd.sink = lambda msg: None
                resume()
                await asyncio.wait({task})
            if not task.cancelled():
                task.exception()  # retrieved here; raised above when it mattered
