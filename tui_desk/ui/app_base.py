"""The app and its main view as the screens that use them see them. This file sits below
ui/app.py and ui/main_screen.py and imports neither, so the files of ui/ import one way: the
screens and the main view's mixins type ``self.app`` and ``self`` with what is here.

DeskAppBase: what a screen may use of the app (``self.app``): the desk, opened once on demand
(desk_opened), the clock, the type-ahead hold and the main view. DeskApp (ui/app.py) is the app.

MainView: what the main view's key mixins (ui/triage_actions.py, ui/replying.py, ui/followup.py,
ui/notices.py) and the Reports screen use of ui.main_screen.MainScreen, which is one.
MainViewScreen, for type checkers only, is a Screen that is a MainView: the mixins' ``self``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from textual.app import App

from tui_desk.desk.views import DeskService

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.widget import Widget
    from textual.worker import Worker

    from tui_desk.ui.compose import Queued
    from tui_desk.ui.conversation import ConversationPane
    from tui_desk.ui.queue import QueueView
    from tui_desk.ui.typeahead import KeyHold

Clock = Callable[[], dt.datetime]


class DeskAppBase(App[None]):
    """The app as its screens see it; DeskApp sets these up."""

    desk: DeskService | None
    clock: Clock  # "now" for ages and dates (tests fix it)
    type_ahead: KeyHold  # keys typed while an action reloads the list wait here
    main: MainView
    _open_desk: Callable[[], Awaitable[DeskService]] | None
    _opening: asyncio.Future[DeskService] | None  # the one task opening the desk

    async def desk_opened(self) -> DeskService:
        """The desk, opened if need be. The one task opening it is awaited through
        asyncio.shield, so an app closed meanwhile still gets the desk back and closes it (an
        open aiosqlite thread would keep the process from exiting)."""
        if self.desk is None:
            if self._opening is None:
                assert self._open_desk is not None
                self._opening = asyncio.ensure_future(self._open_desk())
            self.desk = await asyncio.shield(self._opening)
        return self.desk


class MainView(Protocol):
    """The main view, as its mixins and the Reports screen use it (MainScreen is one). What the
    mixins set is declared on MainViewScreen: mypy takes an attribute that a Protocol declares
    and a subclass assigns for the subclass's own, of the type of its first assignment."""

    @property
    def desk(self) -> DeskService | None: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def queue(self) -> QueueView: ...

    @property
    def conversation_pane(self) -> ConversationPane: ...

    def alive(self) -> bool: ...

    def load_queue(self, query: str, keep: int | None = None) -> Worker[bool]: ...

    async def list_ids(self, search: str) -> list[int]: ...

    def empty_text(self, search: str) -> str: ...

    def update_queue_subtitle(self) -> None: ...

    def _show_view_title(self) -> None: ...

    def refresh_incident(self) -> Worker[None]: ...

    def open_conversation(self, conv_id: int) -> Worker[None]: ...

    def focus_within(self, widget: Widget) -> bool: ...

    def show_search(self, query: str) -> None: ...

    # what one mixin uses of another: ui/triage_actions.py's targets, ui/replying.py's undo of a send

    def targets(self) -> list[int]: ...

    def from_selection(self) -> bool: ...

    def one_target(self) -> int | None: ...

    def naming(self, ids: list[int]) -> str: ...

    def start_action(self, action: Awaitable[str | None], *, clears_selection: bool = True,
                     undoable: bool = True, to_returned: bool = False) -> None: ...

    def cancel_send(self, queued: Queued) -> Worker[None]: ...

    def send_first(self) -> int | None: ...

    def later_action(self) -> None: ...


if TYPE_CHECKING:
    class MainViewScreen(MainView, Screen[None]):
        """The mixins' ``self``: a Screen of this app that is a MainView, with the state they set."""

        app: DeskAppBase
        views: list[tuple[str, str | None]]  # (name, query) of the saved views; the first is the Queue
        view_index: int
        query_text: str  # the search the list shows
        pending_send: Queued | None  # the last reply queued; u takes it back
        pending_until: float  # when its undo window ends (unix seconds)
        last_action: str  # the desk's line for the last action
