"""The note popup (`n`): an internal note in Markdown on the open conversation, for the team only.

Typing "@" lists the teammates to mention; Tab completes the name being typed. As GitHub and
Slack do it, a name completed whole gets one space after it so typing goes on; that space never
doubles (a space typed out of habit, a name completed in front of a space), gives way to
punctuation or Enter typed right after it, and the saved note ends with no whitespace. A
teammate's note mentioning the agent is a notice in the agent's app and lists in its Mentions
view (desk.mentions). Ctrl+S adds the note; Esc with text in it asks once more, since the text
would be lost. Keys act in the order typed (ui.inputs.InOrderTextArea; Tab and Ctrl+S wait for
the characters typed before them).
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
from tui_desk.ui.inputs import InOrderTextArea
from tui_desk.ui.text import literal
from tui_desk.ui.triage import PROMPT_CSS

PARTIAL_MENTION = re.compile(r"(?<![\w@.])@([\w.-]*)$")
ENDS_A_WORD = ",.;:!?)"  # typed right after a completed name: takes the place of its space


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
        # a completion's space: (row, column after it, the body's line count then), until typing goes on
        self._completed_space: tuple[int, int, int] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt") as box:
            box.border_title = literal(self.title_text)  # "Note on #12 <subject>": from mail
            box.border_subtitle = "Internal: never sent to the customer · Ctrl+S adds · Esc"
            yield InOrderTextArea(id="note-body", soft_wrap=True, show_line_numbers=False)
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
        # Tab is a priority binding: it overtakes the characters still queued for the text area
        # ("@al" typed just before it). Complete once the text area has taken them.
        self.body.call_later(self._complete)

    def _complete(self) -> None:
        partial = self._partial()
        found = self._matches(partial) if partial is not None else []
        if partial is None or not found:
            self.body.insert("    ")  # Tab is still indentation for Markdown lists
            return
        common = found[0] if len(found) == 1 else _common_prefix(found)
        if len(common) > len(partial) or len(found) == 1:
            # the name as the desk spells it replaces what was typed ("@al" -> "@Alice.Martin")
            body = self.body
            row, col = body.cursor_location
            whole = len(found) == 1
            space_there = body.document.get_line(row)[col:col + 1].isspace()
            body.replace(common + (" " if whole and not space_there else ""), (row, col - len(partial)), (row, col))
            if whole and space_there:
                body.move_cursor((row, col - len(partial) + len(common) + 1))  # past the space there
            elif whole:
                self._completed_space = (*body.cursor_location, body.document.line_count)

    def _one_space_after_completion(self) -> None:
        """The space a completion added, once the next key is in: a space typed out of habit goes
        (one space, not two), punctuation or Enter takes its place. Read from the text, not the
        cursor: keys typed in a burst are all in before this runs."""
        spot = self._completed_space
        if spot is None:
            return
        row, col, lines = spot
        document = self.body.document
        if row >= document.line_count or document.get_line(row)[col - 1:col] != " ":
            self._completed_space = None  # edited elsewhere meanwhile: left as it is
            return
        line = document.get_line(row)
        typed = line[col:col + 1]
        if not typed and document.line_count == lines:
            return  # nothing typed after it yet (the completion's own change)
        self._completed_space = None
        if typed == " ":
            self.body.delete((row, col), (row, col + 1))
        elif (typed and typed in ENDS_A_WORD) or (not typed and document.line_count > lines):
            self.body.delete((row, col - 1), (row, col))

    def action_save(self) -> None:
        # Ctrl+S is a priority binding: it overtakes the characters still queued for the text
        # area (typed or pasted just before it). Save once the text area has taken them.
        self.body.call_later(self._save)

    async def _save(self) -> None:
        text = self.body.text.rstrip()  # a completion's space (or any) never ends the saved note
        if not text:
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
