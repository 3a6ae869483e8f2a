"""The note popup (`n`): an internal note in Markdown on the open conversation, for the team only.

Typing "@" lists the teammates to mention; Tab completes the name being typed. A teammate's
note mentioning the agent is a notice in the agent's app and lists in its Mentions view
(desk.mentions). Ctrl+S adds the
note; Esc with text in it asks once more, since the text would be lost.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from tui_desk.store.search import mention_name  # one way to write a name: notes, mention:, the notices
from tui_desk.ui.text import literal
from tui_desk.ui.triage import PROMPT_CSS

PARTIAL_MENTION = re.compile(r"(?<![\w@.])@([\w.-]*)$")


class NoteScreen(ModalScreen[str | None]):
    """Returns what the desk said ("note added to #12"), or None when nothing was added."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Add note", priority=True),
        Binding("tab", "complete", "Complete @name", show=False, priority=True),
        Binding("escape", "cancel", "Cancel", priority=True),
    ]
    DEFAULT_CSS = "NoteScreen {" + PROMPT_CSS + """
        & > #prompt { width: 80; border: round $warning; border-title-color: $text-warning; }
        & #note-body { height: 10; border: none; padding: 0; }
    }"""

    def __init__(self, title: str, add: Callable[[str], Awaitable[str]], agents: list[str]) -> None:
        super().__init__(id="note-screen")
        self.title_text = title
        self.add = add
        self.agents = sorted({mention_name(a) for a in agents if a.strip()}, key=str.lower)
        self._discard_armed = False
        self._completed_space: tuple[int, int] | None = None  # where the cursor stood after a completion's space

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt") as box:
            box.border_title = literal(self.title_text)  # "Note on #12 <subject>": from mail
            box.border_subtitle = "Internal: never sent to the customer · Ctrl+S adds · Esc"
            yield TextArea(id="note-body", soft_wrap=True, show_line_numbers=False)
            yield Static("Markdown. @name tells a teammate.", id="prompt-note")

    def on_mount(self) -> None:
        self.query_one("#note-body", TextArea).focus()

    @property
    def body(self) -> TextArea:
        return self.query_one("#note-body", TextArea)

    def _partial(self) -> str | None:
        """The name after an "@" right before the cursor, if the agent is typing one."""
        row, col = self.body.cursor_location
        line = self.body.document.get_line(row)[:col]
        match = PARTIAL_MENTION.search(line)
        return match.group(1) if match else None

    def _matches(self, partial: str) -> list[str]:
        return [a for a in self.agents if a.lower().startswith(partial.lower())]

    @on(TextArea.Changed, "#note-body")
    def _typed(self) -> None:
        self._discard_armed = False
        self._one_space_after_completion()
        partial = self._partial()
        if partial is None:
            self.set_note("Markdown. @name tells a teammate.")
            return
        found = self._matches(partial)
        self.set_note("Mention: " + "  ".join(f"@{a}" for a in found) + "  (Tab completes)" if found
                      else f"No teammate called @{partial}")

    def action_complete(self) -> None:
        partial = self._partial()
        found = self._matches(partial) if partial is not None else []
        if partial is None or not found:
            self.body.insert("    ")  # Tab is still indentation for Markdown lists
            return
        common = found[0] if len(found) == 1 else _common_prefix(found)
        if len(common) > len(partial) or len(found) == 1:
            # the name as the desk spells it replaces what was typed ("@al" -> "@Alice.Martin")
            row, col = self.body.cursor_location
            self.body.replace(common + (" " if len(found) == 1 else ""), (row, col - len(partial)), (row, col))
            self._completed_space = self.body.cursor_location if len(found) == 1 else None

    def _one_space_after_completion(self) -> None:
        """The space a completion adds, then the space typed out of habit: one space, not two."""
        spot = self._completed_space
        if spot is None or self.body.cursor_location == spot:  # the completion's own change
            return
        self._completed_space = None
        row, col = self.body.cursor_location
        if (row, col) == (spot[0], spot[1] + 1) and self.body.document.get_line(row)[col - 2:col] == "  ":
            self.body.delete((row, col - 1), (row, col))

    def action_save(self) -> None:
        # Ctrl+S is a priority binding: it overtakes the characters still queued for the text
        # area (typed or pasted just before it). Save once the text area has taken them.
        self.body.call_later(self._save)

    async def _save(self) -> None:
        text = self.body.text
        if not text.strip():
            self.set_note("The note is empty.", error=True)
            return
        try:
            said = await self.add(text)
        except Exception as exc:  # noqa: BLE001 - ValueError carries the user's message
            self.set_note(str(exc), error=True)
            return
        self.dismiss(said)

    def action_cancel(self) -> None:
        if self.body.text.strip() and not self._discard_armed:
            self._discard_armed = True
            self.set_note("Esc again throws this note away; Ctrl+S adds it.", error=True)
            return
        self.dismiss(None)

    def set_note(self, text: str, *, error: bool = False) -> None:
        note = self.query_one("#prompt-note", Static)
        note.set_class(error, "-error")
        note.update(literal(text))  # desk lines, servers' words, exceptions: sanitized, never markup


def _common_prefix(names: list[str]) -> str:
    first, last = min(names, key=str.lower), max(names, key=str.lower)
    n = 0
    while n < min(len(first), len(last)) and first[n].lower() == last[n].lower():
        n += 1
    return first[:n]
