"""One way to run a desk call and say what went wrong: a notice, never a traceback; and where
notices stand: under a dialog, or in rows of their own on a full screen."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from textual.screen import ModalScreen, Screen

T = TypeVar("T")

# A full screen (the main view, the compose box, Reports; not a dialog) carries this class
# (DeskApp marks each: mark_full_screen), and the app's CSS (DeskApp.CSS) holds this rule for it.
# Textual draws notices over the screen, bottom right, on a layer of their own: at 80x24 they
# hid the reply being typed and the Reports' figures. Here they are on the screen's own layer,
# docked above the footer, so the content above gives them their rows while they are up (a dock
# takes its rows from the widgets laid out beside it); packed (no blank rows around each, as wide
# as Textual makes them even at 80 columns: fewer rows) and at most 40% of the screen, the newest
# at the bottom (Textual scrolls to it).
FULL_SCREEN = "-full-screen"
NOTICES_ON_FULL_SCREEN = """
Screen.-full-screen > ToastRack { layer: default; max-height: 40%; }
Screen.-full-screen > ToastRack Toast { padding: 0 1; margin-top: 0; max-width: 100%; }
"""


def mark_full_screen(screen: Screen[Any]) -> None:
    """A screen that is no dialog gets the full screens' place for notices (FULL_SCREEN)."""
    if not isinstance(screen, ModalScreen):
        screen.add_class(FULL_SCREEN)


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
