"""The snippet pane: a filter box, the matching titles and a preview of the highlighted one.

Beside each title, what happened after the snippet was used (desk.snippet_stats, read through
DeskService.snippet_stats once the snippets are there and the pane is shown: on a cold metrics
cache that pass computes it, as opening Reports does): uses, the share it solved, and the mean
CSAT when the desk has any; the highlighted one's full figures are under the list. Ctrl+O (the
pane's own key) sorts by best match, uses, solved share or CSAT.

Snippets marked `auto: true` (desk.snippets: the CSAT survey, the automatic acknowledgement,
incident mail) are left out: their placeholders are filled only when the desk sends them by
itself, so an agent could never send a reply made with one."""

from __future__ import annotations

from textual import on
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from typing import TYPE_CHECKING

from textual import work

from tui_desk.desk.snippets import filter_snippets, for_agents, placeholders
from tui_desk.desk.timefmt import format_duration
from tui_desk.desk.views import Snippet
from tui_desk.ui.inputs import FollowingInput

if TYPE_CHECKING:
    from tui_desk.desk.snippet_stats import SnippetStats

SORTS = ("best match", "uses", "solved", "CSAT")


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def _uses(n: int) -> str:
    return f"{n}×" if n < 1000 else f"{n // 1000}k×"


def sort_key(sort: str, stats: SnippetStats | None) -> tuple[float, float]:
    """Descending by the figure sorted on (then by uses); a snippet without it goes last."""
    if stats is None:
        return (1.0, 0.0)
    figure = {"uses": float(stats.uses), "solved": stats.solved_share, "CSAT": stats.csat_mean}.get(sort)
    return (0.0, -figure) if figure is not None else (1.0, -float(stats.uses))


def figures_line(stats: SnippetStats | None) -> str:
    """The highlighted snippet's figures, in words."""
    if stats is None or not stats.uses:
        return "Not used yet"
    parts = [f"Used {_uses(stats.uses)} in {stats.conversations} conv", f"solved {_share(stats.solved_share)}",
             f"reopened {_share(stats.reopen_rate)}"]
    if stats.median_close_seconds is not None:
        parts.append(f"closes in {format_duration(stats.median_close_seconds)}")
    if stats.csat_count:
        parts.append(f"CSAT {stats.csat_mean:.1f} ({stats.csat_count}, {_share(stats.csat_great_share)} great)")
    return " · ".join(parts)


class SnippetFilter(FollowingInput):
    """Typing filters; up/down move through the list below without leaving the box."""

    BINDINGS = [
        Binding("down", "list_down", "Next snippet", show=False),
        Binding("up", "list_up", "Previous snippet", show=False),
        Binding("ctrl+o", "sort_snippets", "Sort", show=False,
                tooltip="Sort snippets: best match, uses, solved share, CSAT"),
    ]

    def action_sort_snippets(self) -> None:
        pane = self.screen.query_one(SnippetPane)
        pane.next_sort()

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
        self.stats: dict[str, SnippetStats] = {}
        self._stats_asked = False  # once per set of snippets: a pass over the reports' cache
        self.sort = SORTS[0]
        self._built = False

    # Nothing composed: the pane's widgets come a frame after the first, the queue's (they were
    # ~12 ms of it at 100k), or sooner when a key or the snippets reach for them (build).

    def on_mount(self) -> None:
        self.call_after_refresh(self.build)

    def build(self) -> None:
        """The pane's widgets, once. Mounted, they are in the DOM at once: a key typed before the
        first frame (S, Tab, F2, the filter's letters) focuses and types into them as later."""
        if self._built or not self.is_attached:  # not after the app closed (it may, before its first frame)
            return
        self._built = True
        self.mount(
            SnippetFilter(placeholder="Filter snippets…", id="snippet-filter"),
            OptionList(id="snippet-list", markup=False),
            Static("", id="snippet-fills"),
            # the Markdown preview is mounted with the first snippet shown: it and markdown-it
            # are 30 ms of imports the first paint of the queue need not wait for
            VerticalScroll(id="snippet-preview-scroll", can_focus=False),
        )

    @property
    def filter_input(self) -> Input:
        self.build()
        return self.query_one("#snippet-filter", Input)

    @property
    def option_list(self) -> OptionList:
        self.build()
        return self.query_one("#snippet-list", OptionList)

    @property
    def current(self) -> Snippet | None:
        index = self.option_list.highlighted
        return self.shown[index] if index is not None and 0 <= index < len(self.shown) else None

    def set_snippets(self, snippets: list[Snippet]) -> None:
        self.all_snippets = for_agents(snippets)  # the auto-only ones: for the desk's own mail
        self._apply_filter(self.filter_input.value)
        self._stats_asked = False
        if self.display:  # a folded pane (narrow terminal) asks when it is first shown
            self._ask_stats()

    def showing(self) -> None:
        """The pane is shown (PaneLayout.apply_layout): its figures are asked for, once. Not
        on Textual's Show: none comes when the pane is shown while the screen's map is stale
        (the display change itself rebuilds the map, so the next layout sees nothing new)."""
        if not self._stats_asked and self.all_snippets:
            self._ask_stats()

    def _ask_stats(self) -> None:
        self._stats_asked = True
        self.load_stats()

    @work(group="snippet-stats", exclusive=True)
    async def load_stats(self) -> None:
        """The figures beside each snippet, from the desk's history (a report-cache pass)."""
        desk = getattr(self.app, "desk", None)
        if desk is None or not self.all_snippets:
            return
        try:
            found = await desk.snippet_stats()
        except Exception as exc:  # noqa: BLE001 - said on screen, never a crash
            self.notify(f"Could not read the snippets' figures: {exc}", severity="warning", markup=False)
            return
        self.set_stats(found)

    def set_stats(self, found: list[SnippetStats]) -> None:
        self.stats = {s.name: s for s in found}
        self._apply_filter(self.filter_input.value, keep=True)

    def next_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.filter_input.placeholder = "Filter snippets…" + ("" if self.sort == SORTS[0] else f" (by {self.sort})")
        self._apply_filter(self.filter_input.value)

    def _label(self, snippet: Snippet, with_csat: bool) -> Content:
        if not self.stats:
            return Content(snippet.title)
        st = self.stats.get(snippet.name)
        figures = f"{_uses(st.uses if st else 0):>4} {_share(st.solved_share if st else None):>4}"
        if with_csat:
            figures += f" {'★' + format(st.csat_mean, '.1f') if st and st.csat_mean is not None else '    '}"
        return Content.assemble((figures + " ", "$text-muted"), snippet.title)

    def _apply_filter(self, text: str, keep: bool = False) -> None:
        current = self.current if keep else None
        shown = filter_snippets(self.all_snippets, text)
        if self.sort != SORTS[0]:
            shown.sort(key=lambda s: sort_key(self.sort, self.stats.get(s.name)))  # stable: ties keep the match order
        self.shown = shown
        with_csat = any(s.csat_count for s in self.stats.values())
        options = self.option_list
        options.set_options(Option(self._label(s, with_csat), id=s.name) for s in self.shown)
        if self.shown:
            options.highlighted = self.shown.index(current) if current in self.shown else 0
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
                *(("\n" + figures_line(self.stats.get(snippet.name)),) if self.stats else ()),
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
