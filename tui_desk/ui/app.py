"""DeskApp: the queue, the conversation and the snippets side by side, all from the keyboard.

The app renders only the values of ``tui_desk.desk.views`` and talks only to a DeskService;
every desk call is awaited in a worker so the screen never waits on the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from textual import on, work
from textual.actions import SkipAction
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.theme import Theme
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Input, Static

from tui_desk.desk import themes as desk_themes
from tui_desk.desk.views import DeskService
from tui_desk.ui.conversation import ConversationPane, ThreadView
from tui_desk.ui.help import HelpScreen, key_table
from tui_desk.ui.inputs import FollowingInput
from tui_desk.ui.queue import QueueView
from tui_desk.ui.snippets import SnippetFilter, SnippetPane

NARROW_BELOW = 100  # columns; narrower than this the snippet pane folds away
SEARCH_DELAY = 0.2  # seconds of no typing before a search runs
AGE_REFRESH = 30.0  # seconds between repaints of the queue's ages
# Cycle order for the theme key; other registered themes are reachable from the palette.
THEME_ORDER = ("tui-desk-dark", "tui-desk-light", "tui-desk-high-contrast")
FALLBACK_THEME = "textual-dark"

Clock = Callable[[], dt.datetime]


def local_now() -> dt.datetime:
    return dt.datetime.now().astimezone()


class DeskApp(App[None]):
    """A helpdesk inbox: Queue | Conversation | Snippets."""

    CSS_PATH = "app.tcss"
    TITLE = "tui-desk"

    # Keys that move the focus are priority bindings: they act the moment they arrive, so keys
    # right behind them (a fast typist, a paste over SSH) land in the newly focused widget
    # instead of the one that had the focus. When they would be text, they skip themselves.
    BINDINGS = [
        Binding(
            "slash", "search", "Search", key_display="/", tooltip="Search conversations", priority=True
        ),
        Binding(
            "escape",
            "escape",
            "Back",
            show=False,
            tooltip="Clear the search, or leave the snippets",
            priority=True,
        ),
        Binding("question_mark", "help", "Keys", key_display="?", tooltip="Show all keys"),
        Binding("tab", "focus_pane(1)", "Next pane", show=False, priority=True),
        Binding("shift+tab", "focus_pane(-1)", "Previous pane", show=False, priority=True),
        Binding(
            "S",
            "toggle_snippets(True)",
            "Snippets",
            tooltip="Show or hide the snippet pane",
            priority=True,
        ),
        Binding(
            "f2",
            "toggle_snippets",
            "Snippets",
            show=False,
            tooltip="Show or hide the snippet pane, also while typing",
            priority=True,
        ),
        Binding(
            "T", "cycle_theme", "Theme", show=False, tooltip="Next theme: dark, light, high contrast"
        ),
        Binding("q", "quit", "Quit", tooltip="Quit tui-desk"),
    ]

    def __init__(
        self,
        desk: DeskService | None = None,
        *,
        open_desk: Callable[[], Awaitable[DeskService]] | None = None,
        theme_dirs: Iterable[Path] | None = None,
        query: str | None = None,
        clock: Clock | None = None,
        theme: str | None = None,
    ) -> None:
        """Give either ``desk`` or ``open_desk`` (awaited inside the app's event loop).

        ``theme`` starts with that theme instead of the remembered one; ``clock`` gives "now"
        for ages and dates (tests fix it).
        """
        if desk is None and open_desk is None:
            raise TypeError("DeskApp needs a desk or open_desk")
        super().__init__()
        self.desk = desk
        self._open_desk = open_desk
        self._owns_desk = desk is None
        self.clock: Clock = clock or local_now
        self.initial_query = query or ""
        self.query_text = ""
        self._search_timer: Timer | None = None
        self.snippets_wanted = True  # the user's choice at 100+ columns
        self.snippets_over_conversation = False  # the user's choice below 100 columns
        self.narrow = False
        self._theme_ready = False
        self.theme_names = self._load_themes(theme_dirs)
        self.start_theme = theme
        if theme is None:
            remembered = desk_themes.remembered_theme()
            self.start_theme = remembered if remembered in self.available_themes else None
        if self.start_theme is None:
            self.start_theme = self.theme_names[0] if self.theme_names else FALLBACK_THEME

    # --- building -------------------------------------------------------------------------

    def _load_themes(self, theme_dirs: Iterable[Path] | None) -> list[str]:
        """Register the themes from ``themes/`` and return the names the theme key cycles."""
        dirs = list(theme_dirs) if theme_dirs is not None else desk_themes.default_theme_dirs()
        errors: list[desk_themes.ThemeError] = []
        names = []
        for spec in desk_themes.load_theme_specs(dirs, errors):
            try:
                theme = Theme(**spec)
                theme.to_color_system()  # a colour Textual cannot parse fails here, not later
            except Exception as exc:  # noqa: BLE001 - a bad theme file must not stop the app
                errors.append(desk_themes.ThemeError(spec.get("name", "?"), None, str(exc)))
                continue
            self.register_theme(theme)
            names.append(theme.name)
        self.theme_errors = errors
        rank = {name: i for i, name in enumerate(THEME_ORDER)}
        return sorted(names, key=lambda n: (rank.get(n, len(rank)), n))

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            with Vertical(id="queue-pane", classes="pane") as queue_pane:
                queue_pane.border_title = "Queue"
                yield FollowingInput(placeholder="Search…  Enter keeps it, Esc clears", id="search")
                yield QueueView(self.desk, clock=self.clock, id="queue")
            conversation = ConversationPane(clock=self.clock, id="conversation-pane", classes="pane")
            conversation.border_title = "Conversation"
            yield conversation
            snippets = SnippetPane(id="snippet-pane", classes="pane")
            snippets.border_title = "Snippets"
            yield snippets
        yield Static("", id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.theme = self.start_theme
        self._theme_ready = True
        for error in self.theme_errors:
            self.notify(str(error), title="Theme skipped", severity="warning", markup=False)
        self._apply_layout(self.size.width)
        self.queue.focus()
        if self.initial_query:
            self.query_text = self.initial_query
            search = self.search_input
            search.value = self.initial_query
            self.query_one("#queue-pane").add_class("-searching")
        self.start()
        self.set_interval(AGE_REFRESH, self.queue.refresh)

    @work(group="start")
    async def start(self) -> None:
        if self.desk is None:
            assert self._open_desk is not None
            try:
                self.desk = await self._open_desk()
            except Exception as exc:  # noqa: BLE001 - one clear line, never a traceback
                self.exit(return_code=2, message=f"tui-desk: {exc}")
                return
            self.queue.desk = self.desk
        self.load_queue(self.query_text)
        try:
            snippets = await asyncio.to_thread(self.desk.snippets)
        except Exception as exc:  # noqa: BLE001
            self.notify(f"Could not load snippets: {exc}", severity="error", markup=False)
            snippets = []
        self.snippet_pane.set_snippets(snippets)

    async def on_unmount(self) -> None:
        close = getattr(self.desk, "close", None)
        if self._owns_desk and close is not None:
            await close()

    # --- parts ----------------------------------------------------------------------------

    @property
    def queue(self) -> QueueView:
        return self.query_one("#queue", QueueView)

    @property
    def conversation_pane(self) -> ConversationPane:
        return self.query_one("#conversation-pane", ConversationPane)

    @property
    def snippet_pane(self) -> SnippetPane:
        return self.query_one("#snippet-pane", SnippetPane)

    @property
    def search_input(self) -> Input:
        return self.query_one("#search", Input)

    # --- queue and search -----------------------------------------------------------------

    @work(exclusive=True, group="queue-ids")
    async def load_queue(self, query: str, keep: int | None = None) -> None:
        assert self.desk is not None
        try:
            ids = await self.desk.queue_ids(query or None)
        except Exception as exc:  # noqa: BLE001 - e.g. a search syntax error: say it, carry on
            self.notify(str(exc), title="Search", severity="error", markup=False)
            return
        self.query_text = query
        empty = f"Nothing matches {query!r}" if query else "The queue is empty"
        self.queue.set_ids(ids, keep=keep, empty_text=empty)
        self._update_queue_subtitle()

    def _update_queue_subtitle(self) -> None:
        # Changes only with the list: a new border on every keystroke would repaint the pane.
        total = f"{len(self.queue.ids)} conversations"
        pane = self.query_one("#queue-pane")
        pane.border_subtitle = Content(f"{self.query_text} · {total}" if self.query_text else total)

    @on(QueueView.CursorMoved)
    def _cursor_moved(self, event: QueueView.CursorMoved) -> None:
        """The status line: where the cursor is, and why that conversation ranks where it does."""
        status = self.query_one("#status", Static)
        total = len(self.queue.ids)
        parts: list[str | tuple[str, str]] = [f"{event.index + 1}/{total}" if total else ""]
        row = event.row
        if row is not None:
            parts += [(f"  #{row.id}", "bold"), f"  score {row.score:.1f}"]
            for reason in row.reasons:
                parts += [("  · ", "$text-muted"), reason]
        status.update(Content.assemble(*parts), layout=False)  # one line, fixed height

    @on(QueueView.Opened)
    def _opened(self, event: QueueView.Opened) -> None:
        self.open_conversation(event.conv_id)

    @work(exclusive=True, group="conversation")
    async def open_conversation(self, conv_id: int) -> None:
        assert self.desk is not None
        pane = self.conversation_pane
        try:
            conv = await self.desk.conversation(conv_id)
        except Exception as exc:  # noqa: BLE001
            await pane.show_note(f"Could not load conversation #{conv_id}: {exc}")
            return
        if conv is None:
            await pane.show_note(f"Conversation #{conv_id} no longer exists")
            return
        await pane.show(conv)

    def _on_main_screen(self) -> bool:
        """False while the help screen or the command palette is up."""
        return self.screen is self.screen_stack[0]

    def _typing(self) -> bool:
        return isinstance(self.focused, Input)

    def action_search(self) -> None:
        """Open the search box over the queue."""
        if not self._on_main_screen() or self._typing():
            raise SkipAction()  # a "/" typed into a box is just text
        self.query_one("#queue-pane").add_class("-searching")
        search = self.search_input
        self.focus_now(search)
        search.select_all()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        if self.focused is not self.search_input:
            return  # Enter or Esc has already dealt with this text
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DELAY, partial(self._run_search, event.value))

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        """Enter in the search box: run it now and go back to the queue (an empty one closes)."""
        self._run_search(event.value)
        if not event.value.strip():
            self.query_one("#queue-pane").remove_class("-searching")
        self.focus_now(self.queue)

    def _run_search(self, text: str) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_timer = None
        query = text.strip()
        if query != self.query_text or not self.queue.ids:
            self.load_queue(query)

    def action_escape(self) -> None:
        """Clear the search (back to the queue), or put the conversation back over snippets."""
        if not self._on_main_screen():
            raise SkipAction()
        searching = self.query_one("#queue-pane").has_class("-searching")
        if searching or self.query_text:
            keep = self.queue.current_id
            self.search_input.value = ""
            if self._search_timer is not None:
                self._search_timer.stop()
                self._search_timer = None
            self.query_one("#queue-pane").remove_class("-searching")
            self.focus_now(self.queue)
            if self.query_text:
                self.query_text = ""
                self.load_queue("", keep=keep)
            return
        if self.narrow and self.snippets_over_conversation:
            self.action_toggle_snippets()
            return
        if self.focused is not None and self.focused in self.snippet_pane.query("*"):
            self.focus_now(self.queue)
            return
        raise SkipAction()

    # --- panes and layout -----------------------------------------------------------------

    def on_resize(self, event: Any) -> None:
        self._apply_layout(event.size.width)

    def _apply_layout(self, width: int) -> None:
        """Below 100 columns the snippets fold away; shown again they take the conversation's place."""
        self.narrow = width < NARROW_BELOW
        self.screen.set_class(self.narrow, "-narrow")
        snippets = self.snippet_pane
        conversation = self.conversation_pane
        if self.narrow:
            snippets.display = self.snippets_over_conversation
            conversation.display = not self.snippets_over_conversation
        else:
            snippets.display = self.snippets_wanted
            conversation.display = True
        focused = self.focused
        if focused is not None and not self._visible(focused):
            self.focus_now(self.queue)

    @staticmethod
    def focus_now(widget: Widget) -> None:
        """Focus at once, not after the queued events: keys typed right after "/" or Tab
        (fast typists, pasted input over SSH) must land in the newly focused widget."""
        widget.screen.set_focus(widget)

    @staticmethod
    def _visible(widget: Widget) -> bool:
        node: Any = widget
        while isinstance(node, Widget):
            if not node.display:
                return False
            node = node.parent
        return True

    def action_toggle_snippets(self, letter_key: bool = False) -> None:
        """Show or hide the snippet pane (below 100 columns it replaces the conversation)."""
        if not self._on_main_screen() or (letter_key and self._typing()):
            raise SkipAction()
        if self.narrow:
            self.snippets_over_conversation = not self.snippets_over_conversation
            shown = self.snippets_over_conversation
        else:
            self.snippets_wanted = not self.snippets_wanted
            shown = self.snippets_wanted
        self._apply_layout(self.size.width)
        if shown:
            self.focus_now(self.snippet_pane.filter_input)

    def _pane_targets(self) -> list[Widget]:
        """What Tab focuses in each visible pane, left to right."""
        targets: list[Widget] = [self.queue]
        if self.conversation_pane.display:
            targets.append(self.conversation_pane.thread)
        if self.snippet_pane.display:
            targets.append(self.snippet_pane.filter_input)
        return targets

    def action_focus_pane(self, step: int) -> None:
        """Move the focus to the next (or previous) pane."""
        if not self._on_main_screen():
            raise SkipAction()  # Tab inside the help screen or the palette works as usual
        targets = self._pane_targets()
        panes = [t if t is self.queue else t.parent for t in targets]
        panes[0] = self.query_one("#queue-pane")
        index = 0
        node: Any = self.focused
        while node is not None:
            if node in panes:
                index = panes.index(node)
                break
            node = node.parent
        self.focus_now(targets[(index + step) % len(targets)])

    # --- help, themes, palette -------------------------------------------------------------

    def help_sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        return [
            ("Everywhere", key_table(self.BINDINGS) + [("Ctrl+P", "Command palette: every action")]),
            ("Queue", key_table(QueueView.BINDINGS)),
            ("Conversation", key_table(ThreadView.BINDINGS)),
            (
                "Snippets",
                key_table(SnippetFilter.BINDINGS)
                + [
                    ("type", "Filter by name, title, tag or text"),
                    ("Enter", "Copy the snippet to the clipboard"),
                ],
            ),
            ("Search box", [("Enter", "Keep the results, back to the queue"), ("Esc", "Clear the search")]),
        ]

    def action_help(self) -> None:
        """Show every key."""
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.help_sections()))

    def action_cycle_theme(self) -> None:
        """Next of dark / light / high-contrast; the choice is remembered."""
        names = self.theme_names or [FALLBACK_THEME]
        index = names.index(self.theme) + 1 if self.theme in names else 0
        self.theme = names[index % len(names)]
        self.notify(f"Theme: {self.theme}", timeout=2, markup=False)

    def watch_theme(self, theme: str) -> None:
        # The theme key and the palette's theme picker both land here.
        if self._theme_ready and self.theme_names:
            self.run_worker(partial(desk_themes.remember_theme, theme), thread=True, group="theme")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every action of the app and its panes, plus Textual's own (theme picker, screenshot)."""
        mine = self._palette_commands()
        titles = {c.title for c in mine} | {"Keys"}
        for command in super().get_system_commands(screen):
            if command.title not in titles:
                yield command
        yield from mine

    def _palette_commands(self) -> list[SystemCommand]:
        commands: list[SystemCommand] = []
        try:
            thread: Widget = self.conversation_pane.thread
            snippets: Widget = self.snippet_pane.filter_input
        except NoMatches:
            return commands
        groups: list[tuple[str, Widget | None, list[Any]]] = [
            ("", None, self.BINDINGS),
            ("Queue", self.queue, QueueView.BINDINGS),
            ("Conversation", thread, ThreadView.BINDINGS),
            ("Snippets", snippets, SnippetFilter.BINDINGS),
        ]
        for where, target, bindings in groups:
            seen: set[str] = set()
            for binding in bindings:
                rows = key_table([binding])
                if not rows or binding.description in seen:
                    continue  # S and F2 are one command
                seen.add(binding.description)
                keys = rows[0][0]
                title = f"{where}: {binding.description}" if where else binding.description
                help_text = f"{binding.tooltip}  ({keys})" if binding.tooltip else f"Key: {keys}"
                callback = partial(self._run_palette_action, binding.action, target)
                commands.append(SystemCommand(title, help_text, callback))
        return commands

    async def _run_palette_action(self, action: str, target: Widget | None) -> None:
        with contextlib.suppress(SkipAction):  # e.g. "Search" while a box has the focus
            await self.run_action(action, target)


def run_app(db_path: Path, config: Any = None) -> int:
    """Open the desk at ``db_path`` and run the TUI; the exit status for the CLI."""
    from tui_desk.desk.service import Desk

    async def open_desk() -> DeskService:
        return await Desk.open(db_path, config)

    app = DeskApp(open_desk=open_desk)
    app.run()
    return app.return_code or 0
