"""A clock for the code under test that moves only when the test moves it (DEVELOPERS.md: time in
tests is an injected clock, never sleeps)."""

from __future__ import annotations

import time


class Clock:
    """Starts at the real time; set `now` to move it."""

    def __init__(self, now: float | None = None):
        self.now = time.time() if now is None else now

    def __call__(self):
        return self.now
