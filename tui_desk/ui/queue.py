"""The queue: one line (two when narrow) per conversation, drawn with the line API.

Only ids are held for the whole queue; rows are fetched from the desk a page at a time for
what is on screen, and each painted line is a cached Strip. 100k conversations cost a list
of ints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui_desk.desk.markers import MENTION, row_marker, shared_status, state_markers
from tui_desk.desk.timefmt import format_age
from tui_desk.desk.views import DeskService, QueueRow
from tui_desk.ui.queue_columns import ONE_LINE, SELECTED_MARK, columns_for, fit, fits, lend, share, wrapped

__all__ = ["PAGE_SIZE", "QueueView", "columns_for", "fit"]  # fit and columns_for: their old home

PAGE_SIZE = 100  # rows per queue_rows() call


class QueueView(ScrollView, can_focus=True):
    """The conversations of the current queue or search, one per line."""

    # Moving and selecting are priority bindings (they only apply while the queue has the
    # focus): the triage keys are, so a burst such as "jc" or " c" must move or select first,
    # in the order typed, before the action reads which rows it acts on.
    BINDINGS = [
        Binding("j,down", "cursor_down", "Next conversation", show=False, priority=True),
        Binding("k,up", "cursor_up", "Previous conversation", show=False, priority=True),
        Binding("pagedown", "page_down", "Page down", show=False, priority=True),
        Binding("pageup", "page_up", "Page up", show=False, priority=True),
        Binding("g,home", "cursor_top", "First conversation", show=False, priority=True),
        Binding("G,end", "cursor_bottom", "Last conversation", show=False, priority=True),
        Binding("enter", "open", "Open", key_display="⏎"),
        Binding(
            "space",
            "toggle_selected",
            "Select",
            show=False,
            priority=True,
            tooltip="Select or unselect, then go to the next",
        ),
        Binding(
            "asterisk",
            "select_all",
            "Select all",
            key_display="*",
            show=False,
            priority=True,
            tooltip="Select the whole list (a search result), or none",
        ),
    ]

    COMPONENT_CLASSES = {
        "queue--cursor",
        "queue--cursor-blurred",
        "queue--overdue",
        "queue--due",
        "queue--customer",
        "queue--subject",
        "queue--age",
        "queue--tags",
        "queue--dim",
        "queue--selected",
        "queue--mark",
        "queue--state",
        "queue--mention",
    }

    DEFAULT_CSS = """
    QueueView {
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        & > .queue--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .queue--cursor-blurred {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .queue--overdue { color: $text-error; text-style: bold; }
        & > .queue--due { color: $text-warning; text-style: bold; }
        & > .queue--customer { color: $text; text-style: bold; }
        & > .queue--subject { color: $text; }
        & > .queue--age { color: $text-muted; }
        & > .queue--tags { color: $text-accent; }
        & > .queue--dim { color: $text-muted; }
        & > .queue--selected { background: $accent 25%; }
        & > .queue--mark { color: $text-success; text-style: bold; }
        & > .queue--state { color: $text-secondary; }
        & > .queue--mention { color: $text-accent; text-style: bold; }
    }
    """

    class CursorMoved(Message):
        """The cursor is on another conversation, or its row has just arrived."""

        def __init__(self, queue: QueueView, index: int, conv_id: int | None, row: QueueRow | None) -> None:
            super().__init__()
            self.queue = queue
            self.index = index
            self.conv_id = conv_id
            self.row = row

        @property
        def control(self) -> QueueView:
            return self.queue

    class SelectionChanged(Message):
        """Rows were selected or unselected; ``count`` are selected now."""

        def __init__(self, queue: QueueView, count: int) -> None:
            super().__init__()
            self.queue = queue
            self.count = count

        @property
        def control(self) -> QueueView:
            return self.queue

    class Opened(Message):
        """Enter (or a click) on a conversation."""

        def __init__(self, queue: QueueView, conv_id: int) -> None:
            super().__init__()
            self.queue = queue
            self.conv_id = conv_id

        @property
        def control(self) -> QueueView:
            return self.queue

    def __init__(
        self,
        desk: DeskService | None,
        *,
        clock: Callable[[], dt.datetime],
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.desk = desk
        self._clock = clock
        self._ids: list[int] | None = None  # None until the first queue_ids() answer
        self._cursor = 0
        self._generation = 0  # bumped when the id list is replaced
        self._rows: LRUCache[int, QueueRow] = LRUCache(20_000)
        self._gone: set[int] = set()  # ids the desk no longer knows
        self._pending: set[int] = set()  # pages being fetched for this generation
        self._strips: LRUCache[tuple, Strip] = LRUCache(2_000)
        self._lines_per_row = 1
        self._base_style: Style | None = None
        self.empty_text = "Loading…"
        self.selected: set[int] = set()  # ids; kept while they stay in the list
        self.view_status = "open"  # the status every row of the view shares (set_ids): no row repeats it

    # --- public ---------------------------------------------------------------------------

    @property
    def ids(self) -> list[int]:
        return self._ids or []

    @property
    def cursor(self) -> int:
        return self._cursor

    @property
    def current_id(self) -> int | None:
        ids = self.ids
        return ids[self._cursor] if 0 <= self._cursor < len(ids) else None

    @property
    def current_row(self) -> QueueRow | None:
        conv_id = self.current_id
        return None if conv_id is None else self._rows.get(conv_id)

    def row(self, conv_id: int) -> QueueRow | None:
        return self._rows.get(conv_id)

    @property
    def selected_ids(self) -> list[int]:
        """The selected conversations in list order."""
        if not self.selected:
            return []
        return [i for i in self.ids if i in self.selected]

    def set_ids(
        self,
        ids: list[int],
        *,
        keep: int | None = None,
        at: int | None = None,
        empty_text: str = "No conversations",
        keep_scroll: bool = False,
        rows: Iterable[QueueRow] = (),
        view_query: str | None = None,
    ) -> None:
        """Show these conversations; the cursor stays on ``keep`` if it is among them, else
        goes to position ``at`` (the row that took its place), else to the top.

        Rows are fetched afresh: a new list (a search, a reload) may come with changed rows.
        ``rows`` already fetched (see ``window_after``) are used at once, so the first frame
        shows them instead of placeholders.
        ``keep_scroll`` leaves the list where it was on screen (a reload after an action).
        ``view_query``: the saved view's terms (None: the same view); a status all its rows share
        (Pending's) is not repeated on each row; a search's rows still say which are not open.
        Selected ids that are not in the new list are unselected: actions only ever apply
        to rows the agent can see.
        """
        scroll_y = self.scroll_y
        self._ids = list(ids)
        self._generation += 1
        self._pending.clear()
        self._gone.clear()
        self._rows.clear()
        for row in rows:
            self._rows[row.id] = row
        self._strips.clear()
        self.empty_text = empty_text
        if view_query is not None:
            self.view_status = shared_status(view_query) or "open"
        if keep in self._ids:
            self._cursor = self._ids.index(keep)
        elif at is not None and self._ids:
            self._cursor = max(0, min(at, len(self._ids) - 1))
        else:
            self._cursor = 0
        if self.selected:
            kept = self.selected.intersection(self._ids)
            if kept != self.selected:
                self.selected = kept
                self._post_selection()
        self._update_virtual_size()
        self._scroll_y_to(scroll_y if keep_scroll else 0)
        self._scroll_cursor_into_view()
        self.refresh()
        self._post_cursor()

    def window_after(self, ids: list[int], keep: int | None, at: int | None) -> list[int]:
        """The ids ``set_ids(ids, keep=keep, at=at, keep_scroll=True)`` will put on screen."""
        if not ids:
            return []
        shown = max(1, (self.scrollable_content_region.height or self.size.height) // self._lines_per_row)
        top = int(self.scroll_y) // self._lines_per_row
        try:
            cursor = ids.index(keep) if keep is not None else -1
        except ValueError:
            cursor = -1
        if cursor < 0:
            cursor = max(0, min(at if at is not None else 0, len(ids) - 1))
        top = min(top, cursor) if cursor < top else max(top, cursor - shown + 1)
        return ids[top:top + shown + 1]

    def clear_selection(self) -> None:
        if self.selected:
            self.selected = set()
            self._strips.clear()
            self.refresh()
            self._post_selection()

    def move_to(self, index: int) -> None:
        ids = self.ids
        if not ids:
            return
        index = max(0, min(index, len(ids) - 1))
        old = self._cursor
        self._cursor = index
        if old != index:
            self._refresh_row(old)
            self._refresh_row(index)
            self._post_cursor()
        self._scroll_cursor_into_view()

    # --- actions --------------------------------------------------------------------------

    def action_cursor_down(self) -> None:
        self.move_to(self._cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_to(self._cursor - 1)

    def action_page_down(self) -> None:
        self.move_to(self._cursor + self._rows_per_page())

    def action_page_up(self) -> None:
        self.move_to(self._cursor - self._rows_per_page())

    def action_cursor_top(self) -> None:
        self.move_to(0)

    def action_cursor_bottom(self) -> None:
        self.move_to(len(self.ids) - 1)

    def action_open(self) -> None:
        conv_id = self.current_id
        if conv_id is not None:
            self.post_message(self.Opened(self, conv_id))

    def action_toggle_selected(self) -> None:
        conv_id = self.current_id
        if conv_id is None:
            return
        self.selected.symmetric_difference_update({conv_id})
        self._refresh_row(self._cursor)
        self._post_selection()
        self.move_to(self._cursor + 1)

    def action_select_all(self) -> None:
        ids = self.ids
        if not ids:
            return
        self.selected = set() if len(self.selected) == len(ids) else set(ids)
        self.refresh()
        self._post_selection()

    # --- events ---------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._update_virtual_size()
        self._scroll_cursor_into_view()

    def on_focus(self) -> None:
        self._refresh_row(self._cursor)

    def on_blur(self) -> None:
        self._refresh_row(self._cursor)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or not self.ids:
            return
        index = (int(self.scroll_y) + offset.y) // self._lines_per_row
        if index < len(self.ids):
            self.move_to(index)
            self.action_open()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._base_style = None
        self._strips.clear()

    # --- drawing --------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        ids = self._ids
        cols = columns_for(width)
        if width and cols.lines_per_row != self._lines_per_row:
            # the width changed without a Resize (a scrollbar came or went)
            self.call_later(self._update_virtual_size)
        if not ids:
            lines = wrapped(self.empty_text, width - 1)
            if y < len(lines):
                return Strip([Segment(fit(f" {lines[y]}", width), self._style("queue--dim"))], width)
            return Strip.blank(width, self._base())
        line = int(self.scroll_y) + y
        index, sub = divmod(line, self._lines_per_row)
        if index >= len(ids):
            return Strip.blank(width, self._base())
        conv_id = ids[index]
        row = self._rows.get(conv_id)
        if row is None:
            if conv_id not in self._gone:
                self._request(index)
            text = "" if sub else ("   (gone)" if conv_id in self._gone else "   …")
            style = self._cursor_style() if index == self._cursor else self._style("queue--dim")
            return Strip([Segment(fit(text, width), style)], width)
        selected = 0 if index != self._cursor else (2 if self.has_focus else 1)
        marked = conv_id in self.selected
        now = self._clock()
        age = format_age(row.age_from, now)  # the customer's wait while they wait (QueueRow.age_from)
        state = state_markers(row, now, status=row.status, view_status=self.view_status)  # a snooze's "Fri 9:00" changes with the day
        if state and not fits(cols.subject, state):
            state = state_markers(row, now, status=row.status, view_status=self.view_status, tight=True)
        key = (conv_id, width, selected, marked, self.app.theme, age, state, sub, self._lines_per_row)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._render_row(row, width, selected, age, sub, marked, state)
            self._strips[key] = strip
        return strip

    def _render_row(
        self, row: QueueRow, width: int, selected: int, age: str, sub: int, marked: bool = False,
        state: tuple[str, ...] = (),
    ) -> Strip:
        cols = columns_for(width)
        base = self._base()
        cursor = self._cursor_style() if selected else None
        # a selected row is tinted whole, its colours kept; the cursor row shows the cursor
        tint = Style(bgcolor=self._style("queue--selected").bgcolor) if marked and cursor is None else None
        if tint is not None:
            base = base + tint

        def seg(text: str, component: str | None) -> Segment:
            if cursor is not None:
                return Segment(text, cursor)
            style = self._style(component) if component else base
            return Segment(text, style + tint if tint is not None else style)

        mark = seg(SELECTED_MARK, "queue--mark") if marked else seg(" ", None)
        marker = row_marker(row)
        marker_component = {"!": "queue--overdue", "+": "queue--due", MENTION: "queue--mention"}.get(marker)
        customer = row.customer.translate(ONE_LINE)
        subject = row.subject.translate(ONE_LINE)
        tags = " ".join(t.translate(ONE_LINE) for t in row.tags)
        subject_cells, shown_state = share(cols.subject, state)
        # one line a row: a name longer than its column takes the cells its subject leaves free
        lent = lend(customer, cols.customer, subject_cells - cell_len(subject)) if cols.lines_per_row == 1 else 0
        subject_segments = [seg(fit(subject, subject_cells - lent), "queue--subject")]
        if shown_state:
            subject_segments += [seg(" ", None), seg(shown_state, "queue--state")]
        segments: list[Segment]
        if cols.lines_per_row == 1:
            segments = [
                seg(marker, marker_component),
                mark,
                seg(fit(customer, cols.customer + lent), "queue--customer"),
                seg(" ", None),
                *subject_segments,
                seg(" ", None),
                seg(fit(age, 3, right=True), "queue--age"),
            ]
            if cols.tags:
                segments += [seg(" ", None), seg(fit(tags, cols.tags), "queue--tags")]
        elif sub == 0:
            segments = [
                seg(marker, marker_component),
                mark,
                seg(fit(customer, cols.customer), "queue--customer"),
            ]
            if cols.tags:
                segments += [seg(" ", None), seg(fit(tags, cols.tags, right=True), "queue--tags")]
            segments += [seg(" ", None), seg(fit(age, 3, right=True), "queue--age"), seg(" ", None)]
        else:
            segments = [seg("  ", None), *subject_segments]
        strip = Strip(segments)
        return strip.adjust_cell_length(width, cursor or base)

    def _base(self) -> Style:
        # Widget.rich_style walks the ancestors each time; this is read for every blank line.
        if self._base_style is None:
            self._base_style = self.rich_style
        return self._base_style

    def _style(self, component: str) -> Style:
        # Full styles: colours with alpha ($text-muted) are blended over the background here.
        return self.get_component_rich_style(component)

    def _cursor_style(self) -> Style:
        return self._style("queue--cursor" if self.has_focus else "queue--cursor-blurred")

    # --- fetching -------------------------------------------------------------------------

    def _request(self, index: int) -> None:
        page = index // PAGE_SIZE
        if page in self._pending or self.desk is None:  # no desk yet: the app refreshes once it has one
            return
        self._pending.add(page)
        ids = self.ids[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        self.run_worker(self._fetch_page(page, ids, self._generation), group="queue-rows")

    async def _fetch_page(self, page: int, ids: list[int], generation: int) -> None:
        assert self.desk is not None
        try:
            rows = await self.desk.queue_rows(ids)
        except Exception as exc:  # the desk is another layer: report it, keep the UI alive
            self.notify(f"Could not load queue rows: {exc}", severity="error", markup=False)
            return  # the page stays "pending": no retry storm on every repaint
        changed = False
        for row in rows:
            old = self._rows.get(row.id)
            if old is not None and old != row:
                changed = True
            self._rows[row.id] = row
        if generation == self._generation:
            self._gone.update(set(ids) - {row.id for row in rows})
            self._pending.discard(page)
        if changed:
            self._strips.clear()
        self.refresh()
        if self.current_id in ids:
            self._post_cursor()

    # --- helpers --------------------------------------------------------------------------

    def _post_selection(self) -> None:
        self.post_message(self.SelectionChanged(self, len(self.selected)))

    def _post_cursor(self) -> None:
        self.post_message(self.CursorMoved(self, self._cursor, self.current_id, self.current_row))

    def _rows_per_page(self) -> int:
        height = self.scrollable_content_region.height or self.size.height
        return max(1, height // self._lines_per_row - 1)

    def _update_virtual_size(self) -> None:
        width = self.scrollable_content_region.width or self.size.width
        lines = columns_for(width).lines_per_row if width else 1
        if lines != self._lines_per_row:
            self._lines_per_row = lines
            self._strips.clear()
        self.virtual_size = Size(self.size.width, len(self.ids) * self._lines_per_row)

    def _refresh_row(self, index: int) -> None:
        lines = self._lines_per_row
        self.refresh_lines(index * lines, lines)

    def _scroll_cursor_into_view(self) -> None:
        height = self.scrollable_content_region.height or self.size.height
        if not height or not self.ids:
            return
        lines = self._lines_per_row
        top = self._cursor * lines
        bottom = top + lines
        if top < self.scroll_y:
            self._scroll_y_to(top)
        elif bottom > self.scroll_y + height:
            self._scroll_y_to(bottom - height)

    def _scroll_y_to(self, y: float) -> None:
        # force: Textual allows a scroll only while the scrollbar shows, and that is decided at
        # the next layout: a long list replacing a short one (Esc after a search) would stay at
        # the top with the cursor's row off screen.
        self.scroll_to(y=y, animate=False, force=True)
