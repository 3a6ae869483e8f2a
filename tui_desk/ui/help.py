"""The `?` screen: every key of every pane, read from the bindings themselves."""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.widgets import Static

from tui_desk.ui.notify import NOTICES_UNDER_DIALOG

KEY_NAMES = {
    "down": "↓",
    "up": "↑",
    "left": "←",
    "right": "→",
    "enter": "Enter",
    "escape": "Esc",
    "pagedown": "PgDn",
    "pageup": "PgUp",
    "home": "Home",
    "end": "End",
    "tab": "Tab",
    "shift+tab": "Shift+Tab",
    "question_mark": "?",
    "slash": "/",
    "space": "Space",
    "asterisk": "*",
    "exclamation_mark": "!",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
}


def key_label(key: str) -> str:
    if key in KEY_NAMES:
        return KEY_NAMES[key]
    if key.startswith("ctrl+"):
        return "Ctrl+" + key_label(key[5:])
    if len(key) > 1 and key[0] == "f" and key[1:].isdigit():
        return key.upper()
    return key


def key_table(bindings: Iterable[BindingType], keymap: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """(keys, description) per described binding; "j,down" reads "j / ↓". keymap: the keys
    rebound in config.toml ([keys]), by binding id."""
    rows: list[tuple[str, str]] = []
    for binding in bindings:
        if not isinstance(binding, Binding) or not binding.description or binding.system:
            continue
        bound = (keymap or {}).get(binding.id or "", binding.key)
        keys = " / ".join(key_label(k.strip()) for k in bound.split(","))
        rows.append((keys, binding.tooltip or binding.description))
    return rows


def hanging(head: Content, body: Content, width: int) -> list[Content]:
    """``head`` then ``body`` in ``width`` cells: a body too long for one line wraps under
    itself, the lines after the first indented by the head's width (a key's description, a
    frequent question's label). Nothing is cut: every word stays to be read."""
    indent = head.cell_length
    lines = body.wrap(max(1, width - indent)) or [Content("")]
    pad = Content(" " * indent)
    return [head + lines[0], *(pad + line for line in lines[1:])]


class KeyTable(Static):
    """The keys, a line each; a description wider than the box goes on under itself."""

    DEFAULT_CSS = "KeyTable { width: auto; max-width: 100%; height: auto; }"
    # a Static (what tests and screens read of one: render()), drawn by its own lines

    def __init__(self, rows: list[tuple[Content, Content]], **kw) -> None:
        """``rows``: (head, body) per line: a key and its description, a section title (no head)."""
        super().__init__(**kw)
        self.rows = rows
        self._wrapped: tuple[int, list[Content]] | None = None

    def lines(self, width: int) -> list[Content]:
        if self._wrapped is None or self._wrapped[0] != width:
            self._wrapped = (width, [line for head, body in self.rows for line in hanging(head, body, width)])
        return self._wrapped[1]

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return max((head.cell_length + body.cell_length for head, body in self.rows), default=0)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines(width))

    def render(self) -> Content:
        return Content("\n").join(self.lines(self.content_size.width))


class HelpScreen(ModalScreen[None]):
    """All keys, grouped by where they work."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close help", show=False),
        Binding("j,down", "scroll('down')", "Scroll down", show=False),
        Binding("k,up", "scroll('up')", "Scroll up", show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;""" + NOTICES_UNDER_DIALOG + """
        & > #help {
            width: auto;
            max-width: 90%;
            height: auto;
            max-height: 90%;
            border: round $primary;
            border-title-color: $primary;
            border-title-style: bold;
            border-subtitle-color: $text-muted;
            background: $surface;
            padding: 0 1;
            scrollbar-size-vertical: 1;
        }
    }
    """

    def __init__(self, sections: list[tuple[str, list[tuple[str, str]]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help") as help_box:
            help_box.border_title = "Keys"
            help_box.border_subtitle = "Esc closes"
            yield KeyTable(self._rows(), id="help-text")

    def _rows(self) -> list[tuple[Content, Content]]:
        """A title line per section, then a line per key: the descriptions in one column."""
        width = max((cell_len(k) for _, rows in self.sections for k, _ in rows), default=4) + 2
        out: list[tuple[Content, Content]] = []
        for n, (title, rows) in enumerate(self.sections):
            if n:
                out.append((Content(""), Content("")))
            out.append((Content(""), Content.styled(title, "bold $text-accent")))
            for keys, description in rows:
                out.append((Content.styled("  " + keys.ljust(width), "bold $text-primary"), Content(description)))
        return out

    def action_scroll(self, direction: str) -> None:
        box = self.query_one("#help", VerticalScroll)
        box.scroll_down() if direction == "down" else box.scroll_up()
