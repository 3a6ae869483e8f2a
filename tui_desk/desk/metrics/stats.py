"""Count, median, p90 and mean of a list of numbers - the one statistics function of the reports.

- median: the middle value; for an even count, the mean of the two middle values.
- p90: nearest rank - the ceil(0.9 * n)-th smallest value (1-based), always a value of the list.
- mean: the arithmetic mean. An empty list gives count 0 and None for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable


@dataclass(frozen=True, slots=True)
class Stats:
    count: int
    median: float | None
    p90: float | None
    mean: float | None

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "median": self.median, "p90": self.p90, "mean": self.mean}


EMPTY = Stats(0, None, None, None)


def nearest_rank(ordered: list[float], fraction_tenths: int, parts: int = 10) -> float:
    """The ceil(n * fraction_tenths / parts)-th smallest of an ordered non-empty list (integer
    arithmetic: no float rounding near a whole rank); p75 is nearest_rank(ordered, 3, 4)."""
    rank = max(1, -(-len(ordered) * fraction_tenths // parts))
    return ordered[rank - 1]


def stats(values: Iterable[float]) -> Stats:
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return EMPTY
    mid = n // 2
    median = ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return Stats(n, median, nearest_rank(ordered, 9), sum(ordered) / n)
