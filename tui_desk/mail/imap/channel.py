"""The update stream's queue: a FIFO that can end, with an error or without."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

from tui_desk.mail.imap.errors import _fresh

_T = TypeVar("_T")


class _EndOfStream(Exception):
    pass


class _Channel(Generic[_T]):
    """An unbounded FIFO that can end, with an error or without."""

    def __init__(self) -> None:
        self._items: deque[_T] = deque()
        self._wakeup = asyncio.Event()
        self._ended = False
        self._error: BaseException | None = None

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: _T) -> None:
        self._items.append(item)
        self._wakeup.set()

    def end(self, error: BaseException | None = None) -> None:
        if not self._ended:
            self._ended, self._error = True, error
            self._wakeup.set()

    def drain(self) -> list[_T]:
        items = list(self._items)
        self._items.clear()
        return items

    async def get(self) -> _T:
        while not self._items:
            if self._ended:
                if self._error is not None:
                    raise _fresh(self._error)
                raise _EndOfStream
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._items.popleft()
