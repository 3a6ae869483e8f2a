"""The `?` screen: every key of every pane, read from the bindings themselves."""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

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


class HelpScreen(ModalScreen[None]):
    """All keys, grouped by where they work."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close help", show=False),
        Binding("j,down", "scroll('down')", "Scroll down", show=False),
        Binding("k,up", "scroll('up')", "Scroll up", show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
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
        /* a line wider than the box ends in "…", not cut mid-word */
        & #help-text { width: auto; max-width: 100%; text-wrap: nowrap; text-overflow: ellipsis; }
    }
    """

    def __init__(self, sections: list[tuple[str, list[tuple[str, str]]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help") as help_box:
            help_box.border_title = "Keys"
            help_box.border_subtitle = "Esc closes"
            yield Static(self._content(), id="help-text")

    def _content(self) -> Content:
        width = max((cell_len(k) for _, rows in self.sections for k, _ in rows), default=4) + 2
        parts: list[Content | str | tuple[str, str]] = []
        for n, (title, rows) in enumerate(self.sections):
            if n:
                parts.append("\n")
            parts += [(title, "bold $text-accent"), "\n"]
            for keys, description in rows:
                parts += [("  " + keys.ljust(width), "bold $text-primary"), description, "\n"]
        return Content.assemble(*parts).rstrip()

    def action_scroll(self, direction: str) -> None:
        box = self.query_one("#help", VerticalScroll)
        box.scroll_down() if direction == "down" else box.scroll_up()
