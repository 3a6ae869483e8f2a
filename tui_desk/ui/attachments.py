"""The attachments popup (`s`): every attachment of the open conversation, newest mail first.

Enter or s saves the highlighted one (a path prompt, the download folder filled in and the
file Enter saves there shown in grey, Tab completes); o opens it in the desktop's viewer
(xdg-open or mailcap), when there is one.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui_desk.desk.attachments import free_name
from tui_desk.desk.views import ConversationView
from tui_desk.ui.conversation import human_size, split_sender
from tui_desk.ui.inputs import PathSuggester
from tui_desk.ui.text import literal
from tui_desk.ui.triage import PROMPT_CSS, ActionPrompt

Save = Callable[[int, int, str | None], Awaitable[str]]
Open = Callable[[int, int], Awaitable[str]]


def listed(conv: ConversationView) -> list[tuple[int, int, Content]]:
    """(message id, index in the message, label) of every attachment, newest message first."""
    out = []
    for message in reversed(conv.messages):
        name, addr = split_sender(message.sender)
        for index, a in enumerate(message.attachments):
            out.append((message.id, index, Content.assemble(
                (a.filename or "(no name)", "bold"), f"  {human_size(a.size)}",
                (f"  {a.content_type} · from {name or addr}", "$text-muted"))))
    return out


class SaveSuggester(PathSuggester):
    """The save prompt's completion: a path as it is typed (PathSuggester), and for a folder
    (the download folder filled in, or one typed with its "/") the file Enter saves there: the
    attachment's safe name, or its next free copy (never another file of that folder, which
    read as if Enter would replace it)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    async def get_suggestion(self, value: str) -> str | None:
        if self.name and value.endswith("/"):
            folder = os.path.expanduser(value)
            if os.path.isdir(folder):
                return value + free_name(folder, self.name)
        return await super().get_suggestion(value)


class AttachmentsScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("s", "save", "Save"),
        Binding("o", "open", "Open"),
        Binding("escape", "close", "Close"),
    ]
    DEFAULT_CSS = "AttachmentsScreen {" + PROMPT_CSS + """
        & > #prompt { width: 90; }
        & #attachment-list { height: auto; max-height: 12; border: none; padding: 0; background: transparent; }
    }"""

    def __init__(self, conv: ConversationView, save: Save, open_: Open, default_dir: str) -> None:
        super().__init__(id="attachments-screen")
        self.items = listed(conv)
        self.offered = {(m.id, index): a.saved_as for m in conv.messages for index, a in enumerate(m.attachments)}
        self.conv_id = conv.id
        self.save = save
        self.open_ = open_
        self.default_dir = default_dir

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt") as box:
            box.border_title = f"Attachments · #{self.conv_id}"
            box.border_subtitle = "Enter/s save · o open · Esc"
            yield OptionList(*(Option(label) for _, _, label in self.items), id="attachment-list", markup=False)
            yield Static("" if self.items else "No attachments in this conversation.", id="prompt-note")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#attachment-list"))

    @on(OptionList.OptionSelected, "#attachment-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()  # Enter on a row: save it
        self.action_save()

    def _current(self) -> tuple[int, int] | None:
        index = self.query_one("#attachment-list", OptionList).highlighted
        if index is None or index >= len(self.items):
            return None
        message_id, number, _ = self.items[index]
        return message_id, number

    def set_note(self, text: str, *, error: bool = False) -> None:
        note = self.query_one("#prompt-note", Static)
        note.set_class(error, "-error")
        note.update(literal(text))  # desk lines, servers' words, exceptions: sanitized, never markup

    def action_save(self) -> None:
        current = self._current()
        if current is None:
            return

        async def save(path: str) -> str:
            return await self.save(current[0], current[1], path)

        prompt = ActionPrompt("Save to (a folder or a file name)", apply=save,
                              suggester=SaveSuggester(self.offered[current]),
                              hints=["Tab or → completes · an existing file is never replaced"],
                              load=self._prefill)
        self.app.push_screen(prompt, callback=lambda said: self.set_note(said) if said else None)

    async def _prefill(self, prompt: ActionPrompt) -> None:
        text = prompt.text_input
        if not text.value:
            text.value = self.default_dir.rstrip("/") + "/"
            text.cursor_position = len(text.value)

    async def action_open(self) -> None:
        current = self._current()
        if current is None:
            return
        self.set_note("Opening…")
        try:
            said = await self.open_(*current)
        except Exception as exc:  # noqa: BLE001 - ValueError carries the user's message
            self.set_note(str(exc), error=True)
            return
        self.set_note(said, error=said.startswith(("no viewer", "could not")))

    def action_close(self) -> None:
        self.dismiss(None)
