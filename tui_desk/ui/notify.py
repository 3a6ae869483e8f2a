"""One way to run a desk call and say what went wrong: a notice, never a traceback."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")


class Failed(Exception):
    """Raised by run_and_notify when the call failed and the failure has been said."""


async def run_and_notify(node: Any, call: Awaitable[T], *, title: str = "", prefix: str = "",
                         severity: str = "error", value_error: str | None = "error") -> T:
    """Await ``call``; on an exception, one notice (``prefix`` + the error) and Failed.

    ``value_error``: the severity for a ValueError, the desk's word on bad input, said as it
    is (no title, no prefix); None treats it like any other error."""
    try:
        return await call
    except Exception as exc:  # noqa: BLE001 - the store or the desk failing is said, never a crash
        if value_error is not None and isinstance(exc, ValueError):
            node.notify(str(exc), severity=value_error, markup=False)
        else:
            node.notify(f"{prefix}{exc}", title=title, severity=severity, markup=False)
        raise Failed from exc
