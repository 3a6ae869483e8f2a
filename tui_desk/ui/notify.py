"""One way to run a desk call and say what went wrong: a notice, never a traceback; and where
notices stand when a dialog is up."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")


# A dialog's CSS (inside its screen's rule): the notices go under the dialog and to the top,
# where a centred dialog seldom is. Textual draws them over the top screen, on a layer of their
# own above all others (Screen.layers: "_toastrack"), so an SLA notice arriving at 80x24 hid a
# confirm question or its keys. Put on a layer of the dialog screen's own, below "default", the
# dialog's text and keys always read; the notices still show around it and whole once it closes.
NOTICES_UNDER_DIALOG = """
layers: notices default;
& > ToastRack { layer: notices; align: right top; }
"""


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


def withdraw(app: Any, message: str, *, refresh: bool = True) -> bool:
    """Take back the toasts saying ``message`` now; whether there was one. Textual (8.2,
    requirements.lock) has no public way to take back one toast: notify() returns no handle and
    clear_notifications() takes every toast (the SLA notices too). So the shown one is found in
    App._notifications and removed with App._unnotify, as Textual's own Toast does when it
    expires (tests/test_sent_news.py)."""
    shown = [n for n in app._notifications if n.message == message and not n.has_expired]
    for notification in shown:
        app._unnotify(notification, refresh=refresh)
    return bool(shown)
