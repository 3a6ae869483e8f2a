"""Counts in words, said once for every line the desk and the CLI print: "1 reply", "2 replies"."""

from __future__ import annotations


def counted(n: int, one: str, many: str | None = None) -> str:
    """A count and its noun (`many`: when not `one` + "s")."""
    return f"{n} {one if n == 1 else many or one + 's'}"
