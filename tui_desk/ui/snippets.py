"""The snippet pane: a filter box, the matching titles and a preview of the highlighted one."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui_desk.desk.snippets import filter_snippets, placeholders
from tui_desk.desk.views import Snippet
from tui_desk.ui.inputs import FollowingInput


class SnippetFilter(FollowingInput):
    """Typing filters; up/down move through the list below without leaving the box."""

    BINDINGS = [
        Binding("down", "list_down", "Next snippet", show=False),
        Binding("up", "list_up", "Previous snippet", show=False),
    ]

    def action_list_down(self) -> None:
        self.screen.query_one("#snippet-list", OptionList).action_cursor_down()

    def action_list_up(self) -> None:
        self.screen.query_one("#snippet-list", OptionList).action_cursor_up()


class SnippetPane(Vertical):
    """Saved replies from ``snippets/``: filter as you type, preview, Enter copies."""

    DEFAULT_CSS = """
    SnippetPane {
        & > #snippet-filter { border: none; height: 1; padding: 0 1; margin: 0 0 0 0; }
        & > #snippet-list {
            height: 1fr;
            min-height: 3;
            border: none;
            padding: 0;
            scrollbar-size-vertical: 1;
            text-wrap: nowrap;
            text-overflow: ellipsis;
        }
        & > #snippet-fills {
            height: auto;
            padding: 0 1;
            color: $text-muted;
            border-top: solid $foreground 20%;
            text-wrap: nowrap;
            text-overflow: ellipsis;
        }
        & > #snippet-preview-scroll { height: 2fr; scrollbar-size-vertical: 1; }
        & #snippet-preview { padding: 0 1; margin: 0; background: transparent; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.all_snippets: list[Snippet] = []
        self.shown: list[Snippet] = []

    def compose(self) -> ComposeResult:
        yield SnippetFilter(placeholder="Filter snippets…", id="snippet-filter")
        yield OptionList(id="snippet-list", markup=False)
        yield Static("", id="snippet-fills")
        # the Markdown preview is mounted with the first snippet shown: it and markdown-it
        # are 30 ms of imports the first paint of the queue need not wait for
        yield VerticalScroll(id="snippet-preview-scroll", can_focus=False)

    @property
    def filter_input(self) -> Input:
        return self.query_one("#snippet-filter", Input)

    @property
    def option_list(self) -> OptionList:
        return self.query_one("#snippet-list", OptionList)

    @property
    def current(self) -> Snippet | None:
        index = self.option_list.highlighted
        return self.shown[index] if index is not None and 0 <= index < len(self.shown) else None

    def set_snippets(self, snippets: list[Snippet]) -> None:
        self.all_snippets = list(snippets)
        self._apply_filter(self.filter_input.value)

    def _apply_filter(self, text: str) -> None:
        self.shown = filter_snippets(self.all_snippets, text)
        options = self.option_list
        options.set_options(
            Option(Content(s.title), id=s.name)
            for s in self.shown
        )
        if self.shown:
            options.highlighted = 0
        else:
            self._preview(None)

    @on(Input.Changed, "#snippet-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._apply_filter(event.value)

    @on(Input.Submitted, "#snippet-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._use(self.current)

    @on(OptionList.OptionHighlighted, "#snippet-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._preview(self.current)

    @on(OptionList.OptionSelected, "#snippet-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._use(self.current)

    def _preview(self, snippet: Snippet | None) -> None:
        from textual.widgets import Markdown

        fills = self.query_one("#snippet-fills", Static)
        scroll = self.query_one("#snippet-preview-scroll", VerticalScroll)
        previews = scroll.query(Markdown)
        if snippet is None:
            text = "No snippet matches." if self.all_snippets else "No snippets."
            fills.update(Content(text))
            if previews:
                previews.first().update("")
            return
        names = placeholders(snippet.body)
        fills.update(
            Content.assemble(
                ("::" + snippet.name, "bold"),
                ("  " + " ".join(f"#{t}" for t in snippet.tags)) if snippet.tags else "",
                "\nFills: " + (", ".join(names) if names else "nothing"),
            )
        )
        if previews:
            previews.first().update(snippet.body)
        else:
            scroll.mount(Markdown(snippet.body, id="snippet-preview", open_links=False))
        scroll.scroll_home(animate=False)

    def _use(self, snippet: Snippet | None) -> None:
        # No composer yet: the body goes to the clipboard (OSC 52) to paste into a reply.
        if snippet is None:
            return
        self.app.copy_to_clipboard(snippet.body)
        self.notify(f"Copied “{snippet.title}” to the clipboard", timeout=3, markup=False)
