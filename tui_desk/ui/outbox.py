"""The outbox view: replies on their way, with state, recipients, time and the server's error.

A popup over the queue; it reloads every two seconds while open (the background sends).
Cancelling puts the text back into the conversation's draft (``r`` reopens it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui_desk.desk.timefmt import format_datetime_short
from tui_desk.desk.views import OutboxEntry
from tui_desk.ui.triage import PROMPT_CSS

REFRESH = 2.0  # seconds
STATE_TEXT = {
    "queued": ("queued", "$text-primary"),
    "sending": ("sending", "bold $text-warning"),
    "sent": ("filing in Sent", "$text-success"),
    "failed": ("failed", "bold $text-error"),
    "maybe_sent": ("maybe sent", "bold $text-warning"),
}


def entry_label(entry: OutboxEntry, now: dt.datetime) -> Content:
    state, style = STATE_TEXT.get(entry.state, (entry.state, "bold"))
    conv = f"#{entry.conv_id} " if entry.conv_id is not None else ""
    return Content.assemble(
        (f"{state:<14}", style),
        (f"{format_datetime_short(entry.send_at, now):<13}", "$text-muted"),
        (conv, "bold"),
        ", ".join(entry.recipients),
    )


class OutboxScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("c,delete", "cancel_send", "Cancel send", tooltip="Cancel it: the text goes back to the draft"),
        Binding("escape,O", "close", "Close"),
    ]
    DEFAULT_CSS = "OutboxScreen {" + PROMPT_CSS + """
        & > #prompt { width: 90; }
        & #outbox-list { height: auto; max-height: 12; border: none; padding: 0; background: transparent; }
    }"""

    def __init__(
        self,
        load: Callable[[], Awaitable[list[OutboxEntry]]],
        cancel: Callable[[int], Awaitable[str]],
        clock: Callable[[], dt.datetime],
    ) -> None:
        super().__init__(id="outbox-screen")
        self.load = load
        self.cancel = cancel
        self.clock = clock
        self.entries: list[OutboxEntry] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt") as box:
            box.border_title = "Outbox"
            box.border_subtitle = "c cancels (back to the draft) · Esc closes"
            yield OptionList(id="outbox-list", markup=False)
            yield Static("", id="prompt-note")

    async def on_mount(self) -> None:
        await self.reload()
        self.set_interval(REFRESH, self.reload)
        self.set_focus(self.query_one("#outbox-list"))

    async def reload(self) -> None:
        try:
            entries = await self.load()
        except Exception as exc:  # noqa: BLE001
            self.set_note(f"Could not read the outbox: {exc}", error=True)
            return
        options = self.query_one("#outbox-list", OptionList)
        index = options.highlighted
        current = self.entries[index].id if index is not None and index < len(self.entries) else None
        self.entries = entries
        now = self.clock()
        options.set_options(Option(entry_label(e, now)) for e in entries)
        if not entries:
            self.set_note("Nothing on its way.")
            return
        ids = [e.id for e in entries]
        options.highlighted = ids.index(current) if current in ids else 0
        self._show_detail()

    @on(OptionList.OptionHighlighted, "#outbox-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show_detail()

    def _current(self) -> OutboxEntry | None:
        index = self.query_one("#outbox-list", OptionList).highlighted
        return self.entries[index] if index is not None and index < len(self.entries) else None

    def _show_detail(self) -> None:
        entry = self._current()
        if entry is None:
            return
        if entry.error:
            self.set_note(f"Server said: {entry.error}", error=entry.state == "failed")
        elif entry.state == "maybe_sent":
            self.set_note("The app stopped while sending: it may have gone out. Cancel keeps it as a draft.")
        else:
            self.set_note("")

    def set_note(self, text: str, *, error: bool = False) -> None:
        note = self.query_one("#prompt-note", Static)
        note.set_class(error, "-error")
        note.update(Content(text))

    async def action_cancel_send(self) -> None:
        entry = self._current()
        if entry is None:
            return
        try:
            said = await self.cancel(entry.id)
        except ValueError as exc:
            self.set_note(str(exc), error=True)
            return
        except Exception as exc:  # noqa: BLE001
            self.set_note(f"Could not cancel: {exc}", error=True)
            return
        self.notify(said, timeout=4, markup=False)
        await self.reload()

    def action_close(self) -> None:
        self.dismiss(None)
