"""The compose box's snippets, a mixin of ui.compose.ComposeScreen: ``::name`` then Space or
Enter on a line of its own inserts the snippet, Tab after ``::na`` completes the name wherever
the token stands (at the line's start or after a space: "Thanks! ::na"; a single match goes in at
once, none is said), Ctrl+O picks one. Auto-only snippets (`auto: true`) are not offered:
``::name`` says so instead. The snippets a reply used are read from its text
(desk.snippets.used_snippets).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from textual.content import Content
from textual.screen import Screen
from textual.widgets import TextArea

from tui_desk.desk.snippets import auto_only_refusal, filter_snippets, used_snippets
from tui_desk.desk.views import Snippet
from tui_desk.ui.triage import ActionPrompt

if TYPE_CHECKING:
    _Base = Screen[Any]
else:
    _Base = object

# "::name" alone on a line, then a space or Enter: the snippet takes the line's place
SNIPPET_TRIGGER = re.compile(r"::([\w.-]+) ?")
# what Tab completes: "::na" right before the cursor, at the line's start or after whitespace
SNIPPET_TOKEN = re.compile(r"(?:^|(?<=\s))::([\w.-]*)$")
NAME_CHARACTER = re.compile(r"[\w.-]")


class SnippetTyping(_Base):
    """Snippets typed into the compose body. The compose screen gives its body, its snippets by
    name (those for agents), the auto-only names and its note line."""

    snippets: dict[str, Snippet]
    auto_only: set[str]

    if TYPE_CHECKING:
        @property
        def body(self) -> TextArea: ...

        def set_note(self, text: str, *, error: bool = False) -> None: ...

    def _expand_snippet(self) -> None:
        """"::name" then space (or Enter) on a line of its own becomes that snippet's text."""
        area = self.body
        row, col = area.cursor_location
        for line_no in (row, row - 1):
            if line_no < 0:
                continue
            line = area.document.get_line(line_no)
            match = SNIPPET_TRIGGER.fullmatch(line)
            if match is None:
                continue
            typed_space = line_no == row and line.endswith(" ") and col == len(line)
            typed_enter = line_no == row - 1 and col == 0 and not line.endswith(" ")
            if not (typed_space or typed_enter):
                continue
            snippet = self.snippets.get(match.group(1))
            if match.group(1) in self.auto_only:
                self.set_note(auto_only_refusal(match.group(1)), error=True)
                return
            if snippet is None:
                self.set_note(f"No snippet ::{match.group(1)} (Ctrl+O lists them)", error=True)
                return
            self._insert_snippet(snippet, (line_no, 0), (line_no, len(line)))
            return
        token = self._snippet_token()
        if token is not None:
            names = [n for n in sorted(self.snippets) if n.startswith(token[1])]
            listed = " ".join(f"::{n}" for n in names[:8])
            self.set_note(f"snippets: {listed} · Tab completes" if listed else "snippets: none match")

    def _snippet_token(self) -> tuple[int, str] | None:
        """(its column, the name typed) of the ``::na`` token that ends at the cursor, if any:
        at the line's start or after whitespace, and not followed by more of a name."""
        area = self.body
        row, col = area.cursor_location
        line = area.document.get_line(row)
        match = SNIPPET_TOKEN.search(line[:col])
        if match is None or NAME_CHARACTER.match(line[col:col + 1]):
            return None
        return match.start(), match.group(1)

    def complete_snippet(self) -> bool:
        """Tab right after a "::na" token (_snippet_token): the snippet names that start so are
        completed as far as they agree; a single one is inserted (as "::name " does). False
        when the cursor is not after such a token (Tab is then the body's own)."""
        area = self.body
        token = self._snippet_token()
        if token is None or area.selected_text:
            return False
        start, typed = token
        row, col = area.cursor_location
        names = [n for n in sorted(self.snippets) if n.startswith(typed)]
        if not names:
            if typed in self.auto_only:
                self.set_note(auto_only_refusal(typed), error=True)
            else:
                self.set_note(f"No snippet starts with ::{typed} (Ctrl+O lists them)", error=True)
            return True
        if len(names) == 1:
            self._insert_snippet(self.snippets[names[0]], (row, start), (row, col))
            return True
        common = os.path.commonprefix(names)
        if len(common) > len(typed):
            area.replace(common[len(typed):], (row, col), (row, col))  # Changed lists the names left
            area.move_cursor((row, col + len(common) - len(typed)))
        else:
            self.set_note("snippets: " + " ".join(f"::{n}" for n in names[:8]))
        return True

    @property
    def snippets_used(self) -> list[str]:
        """The snippets the body holds now (desk.snippets.used_snippets); the reply records them."""
        return used_snippets(list(self.snippets.values()), self.body.text)

    def _insert_snippet(self, snippet: Snippet, start: tuple[int, int], end: tuple[int, int]) -> None:
        result = self.body.replace(snippet.body.rstrip("\n"), start, end)
        self.body.move_cursor(result.end_location)
        self.set_note(f"Inserted ::{snippet.name}")

    def action_pick_snippet(self) -> None:
        """Ctrl+O: pick a snippet to insert at the cursor."""
        snippets = list(self.snippets.values())
        if not snippets:
            self.set_note("No snippets", error=True)
            return

        async def insert(value: object) -> str:
            if isinstance(value, str):
                snippet = self.snippets.get(value.removeprefix("::").strip())
                if value.removeprefix("::").strip() in self.auto_only:
                    raise ValueError(auto_only_refusal(value.removeprefix("::").strip()))
                if snippet is None:
                    raise ValueError(f"No snippet ::{value.removeprefix('::').strip()}")
            else:
                snippet = value  # type: ignore[assignment]
            here = self.body.cursor_location
            self._insert_snippet(snippet, here, here)  # type: ignore[arg-type]
            return snippet.name  # type: ignore[union-attr]

        def choices(text: str) -> list[tuple[Content, Snippet]]:
            """The snippets matching what is typed, best first (as in the snippet pane)."""
            return [(Content.assemble(("::" + s.name, "bold"), "  ", s.title), s)
                    for s in filter_snippets(snippets, text.strip().removeprefix("::"))]

        self.app.push_screen(
            ActionPrompt(
                "Insert a snippet", apply=insert, placeholder="type to filter, or pick below",
                choices=choices(""), narrow=choices, hints=["↑↓ pick · Enter inserts · Esc cancels"],
                id="snippet-prompt",
            ),
            callback=lambda _: self.set_focus(self.body),
        )
