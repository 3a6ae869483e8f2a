"""DeskApp: the queue, the conversation and the snippets side by side, all from the keyboard.

The app renders only the values of ``tui_desk.desk.views`` and talks only to a DeskService;
every desk call is awaited in a worker so the screen never waits on the store.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import time
import contextlib
import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on, work
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
from tui_desk.desk.timefmt import format_datetime_short
from tui_desk.desk.views import DeskService, QueueRow
from tui_desk.sanitize import sanitize, sanitize_line
from tui_desk.ui.conversation import ConversationPane, ThreadView
from tui_desk.ui.help import HelpScreen, key_table
from tui_desk.ui.inputs import FollowingInput
from tui_desk.ui.queue import QueueView, fit
from tui_desk.ui.snippets import SnippetFilter, SnippetPane

# The screens a key opens (compose, note, outbox, triage prompts…) are imported inside the
# action, and on a thread once the queue is on screen (_import_the_rest): together with their
# Textual widgets they are ~40 ms the first paint need not wait for.
if TYPE_CHECKING:
    from tui_desk.desk.first_page import FirstPageReader
    from tui_desk.ui.compose import Queued

NARROW_BELOW = 100  # columns; narrower than this the snippet pane folds away
FIRST_PAGE_ROWS = 100  # rows read with the ids at start: a screenful on any terminal
SEARCH_DELAY = 0.2  # seconds of no typing before a search runs
AGE_REFRESH = 30.0  # seconds between repaints of the queue's ages
STORE_WATCH_SECONDS = 0.5  # how often the app looks for commits of other processes to the store
# Cycle order for the theme key; other registered themes are reachable from the palette.
THEME_ORDER = ("tui-desk-dark", "tui-desk-light", "tui-desk-high-contrast")
FALLBACK_THEME = "textual-dark"

Clock = Callable[[], dt.datetime]

# Keys that act on conversations: the selected rows of the queue, else the current one (or
# the open conversation while the conversation pane has the focus). Priority bindings, like
# the focus keys: each acts on the row it arrived on, before the keys behind it (a "j" right
# after "c" must not move the cursor first; "bug" right after "t" belongs in the prompt). In a
# text box they skip themselves and are typed.
TRIAGE_BINDINGS = [
    Binding(
        "t",
        "triage('tag')",
        "Tag",
        tooltip="Tag: +bug -question, or just bug (Tab completes)",
        priority=True,
        id="tag",
    ),
    Binding(
        "z",
        "triage('snooze')",
        "Snooze",
        tooltip="Snooze: later today, tomorrow 9:00, 3d, until reply…",
        priority=True,
        id="snooze",
    ),
    Binding(
        "a",
        "triage('assign')",
        "Assign",
        show=False,  # the footer has room for two triage keys at 80 columns; ? lists them all
        tooltip="Assign to me, to a teammate, or unassign",
        priority=True,
        id="assign",
    ),
    Binding("c", "triage('status', 'closed')", "Close", show=False, tooltip="Close", priority=True, id="close"),
    Binding("o", "triage('status', 'open')", "Reopen", show=False, tooltip="Reopen (status open)", priority=True,
            id="reopen"),
    Binding(
        "exclamation_mark",
        "triage('status', 'spam')",
        "Spam",
        key_display="!",
        show=False,
        tooltip="Mark as spam (asks first)",
        priority=True,
        id="spam",
    ),
    Binding("M", "merge", "Merge", show=False, priority=True,
            tooltip="Merge the selected conversations into the one under the cursor (asks first)", id="merge"),
    # every action's notice says "u undoes"
    Binding("u", "triage('undo')", "Undo", show=False, tooltip="Undo the last triage action", priority=True, id="undo"),
    Binding(
        "p",
        "reasons",
        "Why here",
        show=False,
        tooltip="Why it ranks here: all its reasons",
        id="reasons",
    ),
    Binding("v", "pick_view", "Views", show=False, tooltip="Saved views: Queue, Mine, Snoozed…", id="views"),
    Binding("h", "history", "History", show=False, tooltip="The customer's other conversations: open one",
            id="history"),
]
# Replying: a priority binding like triage, so keys typed right after "r" land in the body.
REPLY_BINDINGS = [
    Binding("r", "reply(False)", "Reply", show=False, tooltip="Reply to the customer (the draft is kept)",
            priority=True, id="reply"),
    Binding("R", "reply(True)", "Reply all", show=False, tooltip="Reply to everyone on the last message",
            priority=True, id="reply_all"),
    Binding("f", "forward", "Forward", show=False, tooltip="Forward the customer's last mail (attached) to someone",
            priority=True, id="forward"),
    Binding("O", "outbox", "Outbox", show=False, tooltip="Replies on their way: cancel, see errors", id="outbox"),
    Binding("s", "attachments", "Attachments", show=False, tooltip="Save or open the conversation's attachments",
            id="attachments"),
    Binding("n", "note", "Note", show=False, tooltip="Internal note for the team (@name mentions); never sent",
            priority=True, id="note"),
]
# 1-9 switch straight to a saved view; no description, the help lists them as one row
VIEW_BINDINGS = [Binding(str(n), f"switch_view({n - 1})", show=False) for n in range(1, 10)]


def local_now() -> dt.datetime:
    return dt.datetime.now().astimezone()


class DeskApp(App[None]):
    """A helpdesk inbox: Queue | Conversation | Snippets."""

    CSS_PATH = "app.tcss"
    TITLE = "tui-desk"

    # Keys that move the focus are priority bindings: they act the moment they arrive, so keys
    # right behind them (a fast typist, a paste over SSH) land in the newly focused widget
    # instead of the one that had the focus. When they would be text, they skip themselves.
    GLOBAL_BINDINGS = [
        Binding("slash", "search", "Search", key_display="/", tooltip="Search conversations", priority=True,
                id="search"),
        Binding(
            "escape",
            "escape",
            "Back",
            show=False,
            tooltip="Clear the selection, the search, or leave snippets",
            priority=True,
            id="back",
        ),
        Binding("question_mark", "help", "Keys", key_display="?", tooltip="Show all keys", id="help"),
        Binding("tab", "focus_pane(1)", "Next pane", show=False, priority=True, id="next_pane"),
        Binding("shift+tab", "focus_pane(-1)", "Previous pane", show=False, priority=True, id="previous_pane"),
        Binding(
            "S",
            "toggle_snippets(True)",
            "Snippets",
            tooltip="Show or hide the snippet pane",
            priority=True,
            id="snippets",
        ),
        Binding(
            "f2",
            "toggle_snippets",
            "Snippets",
            show=False,
            tooltip="Show or hide the snippet pane, also while typing",
            priority=True,
            id="snippets_anywhere",
        ),
        Binding("T", "cycle_theme", "Theme", show=False, tooltip="Next theme: dark, light, high contrast",
                id="theme"),
        Binding("q", "quit", "Quit", tooltip="Quit tui-desk", id="quit"),
    ]
    BINDINGS = [*GLOBAL_BINDINGS, *TRIAGE_BINDINGS, *REPLY_BINDINGS, *VIEW_BINDINGS]

    def __init__(
        self,
        desk: DeskService | None = None,
        *,
        open_desk: Callable[[], Awaitable[DeskService]] | None = None,
        theme_dirs: Iterable[Path] | None = None,
        query: str | None = None,
        clock: Clock | None = None,
        theme: str | None = None,
        first_page: FirstPageReader | None = None,
        keys: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Give either ``desk`` or ``open_desk`` (awaited inside the app's event loop).
        ``first_page``: a desk.first_page.FirstPageReader already reading the queue.

        ``theme`` starts with that theme instead of the remembered one; ``clock`` gives "now"
        for ages and dates (tests fix it).
        """
        if desk is None and open_desk is None:
            raise TypeError("DeskApp needs a desk or open_desk")
        super().__init__()
        from tui_desk.ui.keymap import plan_keymap
        # [keys] in config.toml: rebindings by binding id (ui/keymap.py); problems said at start
        self.keymap, self.key_problems = plan_keymap(
            [b for b in self.BINDINGS if b.id], [*VIEW_BINDINGS, *QueueView.BINDINGS], keys)
        self.set_keymap(self.keymap)
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
        self.background = None  # desk.background.Background once started
        self._background_stop: asyncio.Event | None = None
        self._background_status = ""
        self._background_trouble = ""
        self._background_cause = ""
        self._background_seen = 0
        self._background_news_due = False
        self._store_mark: tuple[int, ...] | None = None  # the file before the first page (_watch_store)
        self._store_version: int | None = None  # PRAGMA data_version at the last look
        self._triage_idle = asyncio.Event()  # cleared while an action reloads the list
        self._triage_idle.set()
        self._held_keys: list[events.Key] = []  # typed meanwhile; read once the list is back
        self.views: list[tuple[str, str | None]] = [("Queue", None)]
        self.view_index = 0
        self.last_action = ""  # the desk's line for the last action (also shown as a notice)
        self.pending_send: Queued | None = None  # the last reply queued; u takes it back
        self._prepared_reload: tuple | None = None  # see _with_reload_prepared
        self._last_key_at = 0.0  # monotonic
        self._first_page_reader = first_page
        self.exit_line: str | None = None  # the message of exit(): run_app prints it
        self._setup_hint: str | None = None  # desk.setup_hint(): no account, no mail
        self._first_page: asyncio.Future | None = None  # see on_load
        self._opening: asyncio.Future | None = None  # see _desk_opening
        self.theme_names = self._load_themes(theme_dirs)
        self.start_theme = theme
        if theme is None:
            remembered = desk_themes.remembered_theme()
            self.start_theme = remembered if remembered in self.available_themes else None
        if self.start_theme is None:
            self.start_theme = self.theme_names[0] if self.theme_names else FALLBACK_THEME
        # before the first frame: a theme set later parses the whole stylesheet a second time
        self.theme = self.start_theme

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every notice, the app's and its screens' (Widget.notify lands here): plain text
        through the sanitizer, never markup. Notices carry subjects, names, addresses and
        servers' words; ``markup`` is accepted for Textual's callers and ignored."""
        super().notify(sanitize(message), title=sanitize_line(title), severity=severity, timeout=timeout,
                       markup=False)

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
        yield Static("", id="trouble")  # shown only while a server cannot be reached
        yield Static("", id="status")
        yield Footer(compact=True)

    def exit(self, result: Any = None, return_code: int = 0, message: Any = None) -> None:
        """A message is kept for run_app to print once the screen is gone: Textual would print
        it through Rich, which breaks one line into several at the terminal's width."""
        if message is not None:
            self.exit_line = str(message)
        super().exit(result, return_code)

    def on_load(self) -> None:
        # The store opens and the first page of the queue is read while Textual builds the
        # screen (SQLite works on a thread of its own), so the first frame can show rows.
        self._first_page = asyncio.ensure_future(self._read_first_page())

    async def _read_first_page(self) -> tuple[list[int], list[QueueRow]] | None:
        """(ids, the rows of the first screenful); None when listing failed: load_queue will
        say why. An error opening the desk is raised."""
        if self._first_page_reader is not None and not self.initial_query:
            page = await asyncio.to_thread(self._first_page_reader.result)
            if page is not None:
                self._store_mark = self._first_page_reader.mark  # what _watch_store compares with
                return page  # the desk opens once they are on screen (start)
        if self.desk is None:
            self.desk = await asyncio.shield(self._desk_opening())
        mark = getattr(self.desk, "store_mark", None)
        if mark is not None:
            self._store_mark = mark()
        try:
            ids = await self._list_ids(self.initial_query)
            return ids, await self.desk.queue_rows(ids[:FIRST_PAGE_ROWS])
        except Exception:  # noqa: BLE001 - said by load_queue, which runs instead
            return None

    def _desk_opening(self) -> asyncio.Future:
        """The one task opening the desk. Awaited through asyncio.shield, so an app closed
        meanwhile still gets the desk back and closes it (an open aiosqlite thread would keep
        the process from exiting)."""
        if self._opening is None:
            assert self._open_desk is not None
            self._opening = asyncio.ensure_future(self._open_desk())
        return self._opening

    def on_mount(self) -> None:
        self._theme_ready = True
        for error in self.theme_errors:
            self.notify(str(error), title="Theme skipped", severity="warning", markup=False)
        for problem in self.key_problems:
            self.notify(problem, title="Keys", severity="warning", timeout=10, markup=False)
        self._apply_layout(self.size.width)
        self.queue.focus()
        if self.initial_query:
            self.query_text = self.initial_query
            search = self.search_input
            search.value = self.initial_query
            self.query_one("#queue-pane").add_class("-searching")
        self.start()
        self.set_interval(AGE_REFRESH, self.queue.refresh)

    async def on_event(self, event: events.Event) -> None:
        # Keys typed while an action is reloading the list wait for it: "c j c" closes the
        # next-but-one conversation, as it would if typed slowly. The screen keeps painting.
        if isinstance(event, events.Key):
            self._last_key_at = time.monotonic()
            if not event.is_forwarded and not self._triage_idle.is_set():
                self._held_keys.append(events.Key(event.key, event.character))
                return
        await super().on_event(event)

    def _collect_when_idle(self) -> None:
        """Full garbage collections run here, between keystrokes, not inside one (see on_mount)."""
        if time.monotonic() - self._last_key_at > 5:
            gc.collect()

    @work(group="start")
    async def start(self) -> None:
        assert self._first_page is not None
        try:
            first_page = await asyncio.shield(self._first_page)
            if first_page is not None:
                self._show_ids(self.query_text, first_page[0], rows=first_page[1])
            if self.desk is None:
                self.desk = await asyncio.shield(self._desk_opening())
        except Exception as exc:  # noqa: BLE001 - one clear line, never a traceback
            # Text: never read as markup, wherever it is printed
            self.exit(return_code=2, message=Text(sanitize_line(f"tui-desk: {exc}")))
            return
        self._check_store()
        self.queue.desk = self.desk
        self.queue.refresh()  # rows past the first page can be fetched now
        try:
            self.views = list(self.desk.views()) or self.views
        except Exception as exc:  # noqa: BLE001
            self.notify(f"Could not load saved views: {exc}", severity="error", markup=False)
        self._show_view_title()
        # rows first: they are what the agent waits for; the rest once they are on screen
        if first_page is None:
            await self.load_queue(self.query_text).wait()
        if not self.queue.ids and not self.query_text:
            await self._show_setup_hint()
        await self.queue.wait_for_refresh()
        await asyncio.to_thread(_import_the_rest)
        try:
            snippets = await asyncio.to_thread(self.desk.snippets)
        except Exception as exc:  # noqa: BLE001
            self.notify(f"Could not load snippets: {exc}", severity="error", markup=False)
            snippets = []
        self.snippet_pane.set_snippets(snippets)
        # Everything built so far lives as long as the app: keep it out of the garbage
        # collector's full passes, which otherwise stall a keystroke now and then. Those
        # passes are rare (a reload drops thousands of cached strips) and run when idle.
        gc.freeze()
        gc.set_threshold(700, 10, 1000)
        self.set_interval(AGE_REFRESH, self._collect_when_idle)
        self.set_interval(STORE_WATCH_SECONDS, self._watch_store)
        self._start_background()

    @work(group="store-check")
    async def _check_store(self) -> None:
        """A desk opened to write checks its store before the first write (store.db.Store.open);
        run_app's begins that beside the queue: a damaged store ends the app in one line."""
        check = getattr(getattr(self.desk, "store", None), "check_intact", None)
        if check is None:
            return
        try:
            await check()
        except Exception as exc:  # noqa: BLE001 - one clear line, never a traceback
            self.exit(return_code=2, message=Text(sanitize_line(f"tui-desk: {exc}")))

    def _start_background(self) -> None:
        """Mail sync and outbox delivery beside the app (desk.background), for a real Desk."""
        if self.background is not None or not getattr(getattr(self.desk, "config", None), "accounts", ()):
            return
        from tui_desk.desk.background import Background
        self.background = Background(self.desk, on_outbox=self._outbox_news, on_news=self._background_news)
        self._background_stop = asyncio.Event()
        self.run_worker(self._run_background(), group="background", exit_on_error=False)
        self.set_interval(1.0, self._background_tick)  # the "retrying in N s" countdown

    async def _run_background(self) -> None:
        assert self.background is not None and self._background_stop is not None
        try:
            await self.background.run(self._background_stop)
        except Exception as exc:  # noqa: BLE001 - Background restarts its own tasks; this is a bug
            logging.getLogger(__name__).exception("background work stopped")
            self.notify(f"Background sync stopped: {type(exc).__name__}: {exc}", title="Sync",
                        severity="error", timeout=30, markup=False)

    def _background_news(self) -> None:
        """Background said something changed: redraw soon (many progress steps, one frame)."""
        if not self._background_news_due:
            self._background_news_due = True
            self.set_timer(0.05, self._background_tick)

    def _outbox_news(self, report) -> None:
        if report.sent:
            self.pending_send = None  # gone out: u is triage's undo again
        for _ in report.sent:
            self.notify("Reply sent", timeout=3)
        for _ in report.failed:
            self.notify("A reply was refused by the server; its text is back in the draft",
                        severity="error", timeout=10)
        for _ in report.held:
            self.notify("A reply was held: the conversation got a new message after you wrote it. "
                        "Read it, then O to send anyway, edit or discard", title="Collision",
                        severity="warning", timeout=20)
        for _ in report.maybe_sent:
            self.notify("A reply may or may not have been sent (the app stopped while sending); "
                        "O shows the outbox", severity="warning", timeout=15)

    def _background_tick(self) -> None:
        self._background_news_due = False
        if self.background is None or not self._main_widgets_alive():
            return
        status = self.background.status()
        if status != self._background_status:
            self._background_status = status
            self._update_queue_subtitle()
        self._show_trouble(self.background.trouble(), self.background.trouble(countdown=False))
        if self.background.changes != self._background_seen:
            self._background_seen = self.background.changes
            self._reload_shown()

    def _undo_window(self) -> str:
        """" (10 s)": the accounts' undo_send_seconds, as configured."""
        accounts = getattr(getattr(self.desk, "config", None), "accounts", ())
        seconds = sorted({a.undo_send_seconds for a in accounts if a.smtp is not None})
        if not seconds:
            return ""
        return f" ({seconds[0]} s)" if len(seconds) == 1 else f" ({seconds[0]}–{seconds[-1]} s)"

    def _main_widgets_alive(self) -> bool:
        """False once the app is closing (timers may still fire; the widgets are gone)."""
        try:
            self.query_one("#queue", QueueView)
        except NoMatches:
            return False
        return True

    def _reload_shown(self) -> None:
        """The queue and the open conversation again, from the store. The cursor stays on its
        conversation, except on the top row with nothing open yet: then it stays on the top
        row (a first sync filling the queue should show its top, not follow row 1 down)."""
        at_top = self.queue.cursor == 0 and self.conversation_pane.conversation is None
        self.load_queue(self.query_text, keep=None if at_top else self.queue.current_id)
        shown = self.conversation_pane.conversation
        if shown is not None:
            self.open_conversation(shown.id)

    async def _watch_store(self) -> None:
        """Another process (`tui-desk tag` from a script, a second app) changed the store:
        show it without a key press. The first look compares the store file with what it was
        when the first page was read (on another connection); later looks ask SQLite, which
        leaves out our own writes."""
        desk = self.desk
        if getattr(desk, "store_version", None) is None or not self._main_widgets_alive():
            return
        try:
            version = await desk.store_version()
        except Exception:  # noqa: BLE001 - the store is closing; the next look will tell
            return
        if self._store_version is None:
            changed = self._store_mark is not None and desk.store_mark() != self._store_mark
        else:
            changed = version != self._store_version
        self._store_version = version
        if changed and self._triage_idle.is_set():
            self._reload_shown()

    def _show_trouble(self, trouble: str, cause: str) -> None:
        """The line above the status line: what is wrong with the sync and when it retries;
        a toast when a new problem (cause: the trouble without its countdown) appears and when
        it is over."""
        before, self._background_trouble = self._background_trouble, trouble
        cause_before, self._background_cause = self._background_cause, cause
        if trouble == before:
            return
        line = self.query_one("#trouble", Static)
        line.update(Content("⚠ " + trouble) if trouble else Content(""))
        line.display = bool(trouble)
        if cause and cause != cause_before:
            self.notify(cause, title="Sync", severity="error", timeout=10, markup=False)
        elif before and not trouble:
            self.notify("Connected again", title="Sync", timeout=3, markup=False)

    async def on_unmount(self) -> None:
        if self._background_stop is not None:
            self._background_stop.set()
        if self._owns_desk and self.desk is None and self._opening is not None:
            with contextlib.suppress(Exception):  # closed while opening: still close it
                self.desk = await asyncio.wait_for(asyncio.shield(self._opening), 5.0)
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
        if self.desk is None:  # a search typed while the first page is shown and the desk opens
            try:
                self.desk = await asyncio.shield(self._desk_opening())
            except Exception:  # noqa: BLE001 - start() says why and ends the app
                return
        try:
            ids = await self._list_ids(query)
        except Exception as exc:  # noqa: BLE001 - e.g. a search syntax error: say it, carry on
            self.notify(str(exc), title="Search", severity="error", markup=False)
            return
        self._show_ids(query, ids, keep=keep)

    def _show_ids(self, query: str, ids: list[int], keep: int | None = None, rows: Iterable[QueueRow] = ()) -> None:
        self.query_text = query
        self.queue.set_ids(ids, keep=keep, empty_text=self._empty_text(query), rows=rows)
        self._update_queue_subtitle()

    @property
    def current_view(self) -> tuple[str, str | None]:
        return self.views[self.view_index]

    async def _list_ids(self, search: str) -> list[int]:
        """The current view's conversations, narrowed by the search (its terms are ANDed)."""
        assert self.desk is not None
        view_query = self.current_view[1]
        if search:
            return await self.desk.queue_ids(f"{view_query} {search}" if view_query else search)
        if view_query:
            return await self.desk.view_ids(view_query)
        return await self.desk.queue_ids(None)

    def _empty_text(self, search: str) -> str:
        if search:
            return f"Nothing matches {search!r}"
        name, view_query = self.current_view
        return f"Nothing in {name}" if view_query else self._setup_hint or "The queue is empty"

    async def _show_setup_hint(self) -> None:
        """No account and no mail: the empty queue says how to start (the desk's words)."""
        assert self.desk is not None
        try:
            self._setup_hint = await self.desk.setup_hint()
        except Exception:  # noqa: BLE001 - only a hint: the plain empty text stays
            return
        if self._setup_hint and not self.queue.ids and not self.current_view[1]:
            self.queue.empty_text = self._setup_hint
            self.queue.refresh()

    def _update_queue_subtitle(self) -> None:
        # Changes only with the list: a new border on every keystroke would repaint the pane.
        parts = [self.query_text] if self.query_text else []
        total = len(self.queue.ids)
        if total:
            self._setup_hint = None  # mail has come: an empty queue later is just empty
        if self.queue.selected:
            parts.append(f"{len(self.queue.selected)} of {total} selected")
        elif self.narrow and self._background_status:
            parts.append(str(total))  # the sync's state must fit the narrow pane's border too
        else:
            parts.append(f"{total} conversation{'s' if total != 1 else ''}")
        if self._background_status:
            # a sync's progress bar first: the subtitle is cut on the right in a narrow pane
            if "%" in self._background_status:
                parts.insert(0, self._background_status)
            else:
                parts.append(self._background_status)
        self.query_one("#queue-pane").border_subtitle = Content(" · ".join(parts))

    def _show_view_title(self) -> None:
        self.query_one("#queue-pane").border_title = Content(self.current_view[0])

    @on(QueueView.SelectionChanged)
    def _selection_changed(self, event: QueueView.SelectionChanged) -> None:
        self._update_queue_subtitle()

    @on(QueueView.CursorMoved)
    def _cursor_moved(self, event: QueueView.CursorMoved) -> None:
        """The status line: where the cursor is, and why that conversation ranks where it does."""
        try:
            status = self.query_one("#status", Static)
        except NoMatches:  # the app is closing: its widgets are gone
            return
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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "/" is text in the compose screen: not a binding there, and not in its footer
        if action == "search" and len(self.screen_stack) > 1:  # the main screen alone: no import
            from tui_desk.ui.compose import ComposeScreen
            if any(isinstance(s, ComposeScreen) for s in self.screen_stack):
                return False
        return super().check_action(action, parameters)

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
        if self.queue.selected and self.focused is self.queue:
            self.queue.clear_selection()
            return
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

    # --- triage ---------------------------------------------------------------------------

    async def action_triage(self, kind: str, status: str = "") -> None:
        """t z a c o ! u: ask what is needed, then do it through the desk.

        A priority binding, so it runs before the keys behind it are read: a prompt is up and
        focused for them (so "tbug⏎" typed at once tags "bug"); and while the desk works and
        the list reloads, keys wait (see on_event), so "c c c" closes three conversations.
        """
        if not self._on_main_screen() or self._typing() or self.desk is None:
            raise SkipAction()  # a letter typed into a box is just text
        await self._triage_idle.wait()
        desk = self.desk
        if kind == "undo":
            if self.pending_send is not None:
                pending, self.pending_send = self.pending_send, None
                self.cancel_send(pending)
                return
            self._start_action(self._undo(), clears_selection=False, undoable=False, to_returned=True)
            return
        self.pending_send = None  # from here on u undoes this action, not the send
        targets = self._targets()
        if not targets:
            self.notify("No conversation to act on", severity="warning", timeout=3)
            return
        what = self._naming(targets)
        if kind == "status":
            if len(targets) == 1 and status != "spam":
                self._start_action(desk.set_status(targets, status))
                return
            verb = {"closed": "Close", "open": "Reopen", "spam": "Mark"}.get(status, f"Set {status}:")
            question = f"{verb} {what} as spam?" if status == "spam" else f"{verb} {what}?"
            detail = "Spam leaves the queue and every view; u undoes it." if status == "spam" else ""

            def answered(yes: bool | None) -> None:
                if yes:
                    self._start_action(desk.set_status(targets, status))

            from tui_desk.ui.triage import ConfirmScreen
            confirm = ConfirmScreen(question, detail, danger=status == "spam")
            await self.push_screen(confirm, callback=answered)
            return
        prepared = self._with_reload_prepared
        from tui_desk.ui.triage import assign_prompt, snooze_prompt, tag_prompt
        if kind == "tag":
            current = sorted({t for i in targets if (row := self.queue.row(i)) for t in row.tags})
            prompt = tag_prompt(
                f"Tag {what}", lambda add, remove: prepared(desk.tag(targets, add, remove)), desk.known_tags,
                current,
            )
        elif kind == "snooze":
            prompt = snooze_prompt(f"Snooze {what}", lambda text: prepared(desk.snooze(targets, text)),
                                   self.clock())
        elif kind == "assign":
            prompt = assign_prompt(
                f"Assign {what}", lambda agent: prepared(desk.assign(targets, agent)), self._me(),
                desk.known_agents,
            )
        else:
            raise ValueError(f"unknown triage action {kind!r}")

        def done(description: str | None) -> None:
            if description is not None:
                self._start_action(self._said(description))

        await self.push_screen(prompt, callback=done)

    async def action_history(self) -> None:
        """h: the open conversation's customer history; Enter opens one (and finds it in the queue)."""
        if not self._on_main_screen() or self._typing() or self.desk is None:
            raise SkipAction()
        conv = self.conversation_pane.conversation
        if conv is None or not conv.history:
            self.notify("This customer has no other conversations" if conv else "No conversation open",
                        timeout=3)
            return
        now = self.clock()

        async def jump(conv_id: int) -> str:
            if conv_id in self.queue.ids:
                self.queue.move_to(self.queue.ids.index(conv_id))
            self.open_conversation(conv_id)
            return f"#{conv_id}"

        choices = [(Content.assemble((f"#{h.id} ", "bold"), (f"{h.status:<8}", "$text-muted"),
                                     f"{format_datetime_short(h.last_date, now) if h.last_date else '':<13}",
                                     fit(h.subject, 40), ("" if h.same_person else "  (same company)", "$text-muted")),
                    h.id) for h in conv.history]
        from tui_desk.ui.triage import ActionPrompt
        await self.push_screen(ActionPrompt(f"Other conversations of {fit(conv.customer, 30).rstrip()}", apply=jump,
                                            choices=choices, placeholder="↑↓ pick, Enter opens",
                                            empty_error="Pick one with ↑↓, or Esc"))

    async def action_merge(self) -> None:
        """M: the selected conversations become one: the cursor's, else the first selected."""
        if not self._on_main_screen() or self._typing() or self.desk is None:
            raise SkipAction()
        await self._triage_idle.wait()
        selected = self.queue.selected_ids
        if len(selected) < 2:
            self.notify("Select the conversations to merge with space first (two or more)", severity="warning",
                        timeout=4)
            return
        current = self.queue.current_id
        keep = current if current in selected else selected[0]
        others = [i for i in selected if i != keep]
        desk = self.desk

        def answered(yes: bool | None) -> None:
            if yes:
                self._start_action(desk.merge(keep, others))

        from tui_desk.ui.triage import ConfirmScreen
        await self.push_screen(ConfirmScreen(f"Merge {len(others) + 1} conversations into {self._naming([keep])}?",
                                             "Their mail, tags and replies join it; u undoes."),
                               callback=answered)

    def _start_action(
        self,
        action: Awaitable[str | None],
        *,
        clears_selection: bool = True,
        undoable: bool = True,
        to_returned: bool = False,
    ) -> None:
        self._triage_idle.clear()  # now, not when the worker starts: the next key waits for it
        self.run_worker(self._finish_action(action, clears_selection, undoable, to_returned), group="triage")

    async def _finish_action(
        self, action: Awaitable[str | None], clears_selection: bool, undoable: bool, to_returned: bool
    ) -> None:
        """Await the desk, say what it did, reload the list; then the open conversation."""
        try:
            try:
                description = await action
            except ValueError as exc:  # the desk's word on bad input
                self.notify(str(exc), severity="error", markup=False)
                return
            except Exception as exc:  # noqa: BLE001 - the store failing is said, never a crash
                self.notify(str(exc), title="Could not do that", severity="error", markup=False)
                return
            if description is None:
                return
            if clears_selection:
                self.queue.clear_selection()
            self.last_action = description
            self.notify(f"{description}  (u undoes)" if undoable else description, timeout=4, markup=False)
            await self._reload_list(to_returned=to_returned)
        finally:
            self._triage_idle.set()
            held, self._held_keys = self._held_keys, []
            for key in held:
                self.post_message(key)
        await self._reload_conversation()

    @staticmethod
    async def _said(description: str) -> str:
        return description  # a prompt has already made the desk call

    async def _undo(self) -> str | None:
        assert self.desk is not None
        undone = await self.desk.undo()
        if undone is None:
            self.notify("Nothing to undo", timeout=3)
            return None
        return f"undid: {undone}"

    def _targets(self) -> list[int]:
        """The selected rows; else the open conversation when its pane has the focus; else the
        row under the cursor."""
        selected = self.queue.selected_ids
        if selected:
            return selected
        one = self._one_target()
        return [] if one is None else [one]

    def _one_target(self) -> int | None:
        """The open conversation when its pane has the focus, else the row under the cursor."""
        conv = self.conversation_pane.conversation
        if conv is not None and self._focus_within(self.conversation_pane):
            return conv.id
        return self.queue.current_id

    def _focus_within(self, widget: Widget) -> bool:
        node: Any = self.focused
        while node is not None:
            if node is widget:
                return True
            node = node.parent
        return False

    def _naming(self, ids: list[int]) -> str:
        """"#12 Charged twice for…" for one, "12 conversations" for more."""
        if len(ids) != 1:
            return f"{len(ids)} conversations"
        row = self.queue.row(ids[0])
        conv = self.conversation_pane.conversation
        subject = row.subject if row else conv.subject if conv is not None and conv.id == ids[0] else ""
        subject = " ".join(subject.split())
        return f"#{ids[0]} {fit(subject, 36).rstrip()}" if subject else f"#{ids[0]}"

    def _me(self) -> str | None:
        """The agent at this desk, for "assign to me"."""
        # Not in DeskService yet: the real Desk keeps it in its config.
        me = getattr(self.desk, "agent", None) or getattr(getattr(self.desk, "config", None), "agent", None)
        return me if isinstance(me, str) and me.strip() else None

    async def _prepare_reload(self, to_returned: bool = False) -> tuple[list[int], int | None, list]:
        """(ids, the row to keep the cursor on, the rows that will be on screen): everything
        the reload needs, fetched before the list changes, so it changes in one frame."""
        assert self.desk is not None
        ids = await self._list_ids(self.query_text)
        queue = self.queue
        keep = queue.current_id
        if to_returned:
            before = set(queue.ids)
            keep = next((i for i in ids if i not in before), keep)
        window = queue.window_after(ids, keep, queue.cursor)
        return ids, keep, await self.desk.queue_rows(window) if window else []

    async def _with_reload_prepared(self, action: Awaitable[str]) -> str:
        """A prompt's desk call, then the reload's fetching, both before the prompt closes: the
        prompt's removal and the new list reach the screen in one frame."""
        description = await action
        try:
            self._prepared_reload = (time.monotonic(), await self._prepare_reload())
        except Exception:  # noqa: BLE001 - _reload_list tries again and says why
            self._prepared_reload = None
        return description

    async def _reload_list(self, *, to_returned: bool = False) -> None:
        """The list again for the current view and search; the cursor on the same row, or on
        the one that took its place. ``to_returned`` (undo): on a row that came back, if any."""
        prepared, self._prepared_reload = self._prepared_reload, None
        if prepared is not None and time.monotonic() - prepared[0] < 1.0 and not to_returned:
            prepared = prepared[1]
        else:
            try:
                prepared = await self._prepare_reload(to_returned)
            except Exception as exc:  # noqa: BLE001
                self.notify(f"Could not reload the queue: {exc}", severity="error", markup=False)
                return
        ids, keep, rows = prepared
        queue = self.queue
        queue.set_ids(
            ids,
            keep=keep,
            at=queue.cursor,
            empty_text=self._empty_text(self.query_text),
            keep_scroll=True,
            rows=rows,
        )
        self._update_queue_subtitle()

    async def _reload_conversation(self) -> None:
        """The open conversation's header with its new status and tags."""
        assert self.desk is not None
        pane = self.conversation_pane
        conv = pane.conversation
        if conv is None:
            return
        try:
            fresh = await self.desk.conversation(conv.id)
        except Exception:  # noqa: BLE001 - the header stays as it was; the queue is right
            return
        if fresh is not None and pane.conversation is not None and pane.conversation.id == conv.id:
            await pane.show(fresh, keep_place=True)

    # --- replying -------------------------------------------------------------------------------

    async def action_forward(self) -> None:
        """f: forward, from the open conversation (when focused) or the current row."""
        await self.action_reply(forward=True)

    async def action_reply(self, reply_all: bool = False, forward: bool = False) -> None:
        """r / R: the compose screen for the open conversation (when focused) or the current row."""
        if not self._on_main_screen() or self._typing() or self.desk is None:
            raise SkipAction()
        await self._triage_idle.wait()
        conv_id = self._one_target()
        if conv_id is None:
            self.notify("No conversation to reply to", severity="warning", timeout=3)
            return
        await self.open_compose(conv_id, reply_all, forward=forward)

    async def action_attachments(self) -> None:
        """s: the open conversation's attachments, to save or open."""
        if not self._on_main_screen() or self._typing() or self.desk is None:
            raise SkipAction()
        target = self._one_target()
        conv = self.conversation_pane.conversation
        if target is not None and (conv is None or conv.id != target):
            conv = await self.desk.conversation(target)
        if conv is None:
            self.notify("No conversation open", severity="warning", timeout=3)
            return
        from tui_desk.desk.attachments import default_save_dir
        from tui_desk.ui.attachments import AttachmentsScreen
        await self.push_screen(AttachmentsScreen(conv, self.desk.save_attachment, self.desk.open_attachment,
                                                 str(default_save_dir())))

    async def action_note(self) -> None:
        """n: an internal note on the open conversation (when focused) or the current row."""
        if not self._on_main_screen() or self._typing() or self.desk is None:
            raise SkipAction()
        await self._triage_idle.wait()
        desk = self.desk
        conv_id = self._one_target()
        if conv_id is None:
            self.notify("No conversation to add a note to", severity="warning", timeout=3)
            return
        try:
            agents = await desk.known_agents()
        except Exception:  # noqa: BLE001 - mentions are a help, not a need
            agents = []

        def added(said: str | None) -> None:
            if said:
                self.notify(said, timeout=4, markup=False)
                self.open_conversation(conv_id)

        from tui_desk.ui.note import NoteScreen
        await self.push_screen(NoteScreen(f"Note on {self._naming([conv_id])}",
                                          lambda body: desk.add_note(conv_id, body), agents), callback=added)

    async def open_compose(self, conv_id: int, reply_all: bool = False, forward: bool = False) -> None:
        """Load the conversation and its draft, then the compose screen. Keys typed meanwhile wait
        (on_event holds them) and then land in the body."""
        assert self.desk is not None
        desk = self.desk
        self._triage_idle.clear()
        try:
            try:
                conv = await desk.conversation(conv_id)
                draft = await desk.draft(conv_id)
                snippets = await asyncio.to_thread(desk.snippets)
            except Exception as exc:  # noqa: BLE001
                self.notify(f"Could not open a reply to #{conv_id}: {exc}", severity="error", markup=False)
                return
            if conv is None:
                self.notify(f"Conversation #{conv_id} no longer exists", severity="warning")
                return
            try:
                seen_upto = await desk.reply_started(conv_id)
            except Exception as exc:  # noqa: BLE001 - the team will not see it; writing still works
                self.notify(f"Could not tell the team you are replying: {exc}", severity="warning", markup=False)
                seen_upto = None
            headers: tuple[str, str, str] | str = ("", "", "")
            if forward:
                try:
                    headers = ("", "", await desk.forward_preview(conv_id))
                except Exception:  # noqa: BLE001 - only a preview; the desk decides on sending
                    headers = ("", "", "")
            else:
                try:
                    headers = await desk.reply_preview(conv_id, reply_all or bool(draft and draft[1]))
                except ValueError as exc:  # nobody to reply to: said on the To line
                    headers = str(exc)
                except Exception:  # noqa: BLE001 - only a preview; the desk decides on sending
                    headers = "could not work out the recipients"
            if conv.replying:
                self.notify(f"{' and '.join(conv.replying)} {'is' if len(conv.replying) == 1 else 'are'} "
                            "replying to this conversation too", title="Collision", severity="warning",
                            timeout=8, markup=False)

            async def reply(conv_id: int, body: str, reply_all: bool = False,
                            send_at_text: str | None = None) -> tuple[int, str]:
                if screen.forward:
                    return await desk.forward(conv_id, screen.forward_to, body, send_at_text, seen_upto=seen_upto,
                                              attachments=screen.attachments)
                return await desk.reply(conv_id, body, reply_all, send_at_text, seen_upto=seen_upto,
                                        attachments=screen.attachments)

            from tui_desk.ui.compose import ComposeScreen
            screen = ComposeScreen(
                conv,
                reply_all=reply_all,
                reply=reply,
                save_draft=desk.save_draft,
                draft=draft,
                snippets=snippets,
                known_placeholders=desk.reply_placeholders(),
                forward=forward,
                headers=headers,
            )

            def closed(queued: Queued | None) -> None:
                self.run_worker(desk.reply_ended(conv_id), group="replying", exit_on_error=False)
                self._reply_queued(queued)

            await self.push_screen(screen, callback=closed)
        finally:
            self._triage_idle.set()
            held, self._held_keys = self._held_keys, []
            for key in held:
                self.post_message(key)

    def _reply_queued(self, queued: Queued | None) -> None:
        if queued is None:
            return
        self.pending_send = queued
        self.last_action = queued.description
        self.notify(f"{queued.description} — u to undo", timeout=10 if not queued.later else 5, markup=False)

    def action_outbox(self) -> None:
        """O: the outbox."""
        if not self._on_main_screen() or self._typing() or self.desk is None:
            raise SkipAction()
        desk = self.desk

        def no_longer_pending(outbox_id: int) -> None:
            if self.pending_send is not None and self.pending_send.outbox_id == outbox_id:
                self.pending_send = None
                self.clear_notifications()  # its "u to undo" notice is no longer true

        async def cancel(outbox_id: int) -> str:
            said = await desk.cancel_send(outbox_id)
            no_longer_pending(outbox_id)
            return said

        async def send_now(outbox_id: int) -> str:
            said = await desk.send_now(outbox_id)
            no_longer_pending(outbox_id)
            return said

        async def back_to_draft(conv_id: int | None) -> None:
            if conv_id is not None and self._on_main_screen():
                await self.open_compose(conv_id)

        from tui_desk.ui.outbox import OutboxScreen
        self.push_screen(OutboxScreen(desk.outbox, cancel, self.clock, desk.send_anyway, desk.discard_send,
                                      send_now), callback=back_to_draft)

    @work(group="cancel-send")
    async def cancel_send(self, queued: Queued) -> None:
        """u after a send: take it back from the outbox; the text returns to the draft."""
        assert self.desk is not None
        try:
            said = await self.desk.cancel_send(queued.outbox_id)
        except ValueError as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return
        except Exception as exc:  # noqa: BLE001
            self.notify(str(exc), title="Could not undo the send", severity="error", markup=False)
            return
        self.clear_notifications()  # the "Sending in 10 s" notice is no longer true
        self.notify(said, timeout=4, markup=False)
        if self._on_main_screen():
            await self.open_compose(queued.conv_id)

    # --- saved views and reasons --------------------------------------------------------------

    def action_switch_view(self, index: int) -> None:
        """1-9: the saved view with that number."""
        if not self._on_main_screen() or self.desk is None:
            raise SkipAction()
        if not 0 <= index < len(self.views):
            self.notify(f"No view {index + 1}: there are {len(self.views)} (v lists them)", timeout=3)
            return
        self.view_index = index
        self._show_view_title()
        self.load_queue(self.query_text, keep=self.queue.current_id)

    def action_pick_view(self) -> None:
        """v: the list of saved views."""
        if not self._on_main_screen() or self.desk is None:
            raise SkipAction()

        def picked(index: int | None) -> None:
            if index is not None:
                self.action_switch_view(index)

        from tui_desk.ui.triage import ViewPicker
        self.push_screen(ViewPicker(self.views, self.view_index), callback=picked)

    def action_reasons(self) -> None:
        """p: every reason of the current conversation, in a popup."""
        if not self._on_main_screen() or self.desk is None:
            raise SkipAction()
        self.show_reasons()

    @work(exclusive=True, group="reasons")
    async def show_reasons(self) -> None:
        assert self.desk is not None
        conv_id = self._one_target()
        if conv_id is None:
            return
        row: QueueRow | None = self.queue.row(conv_id)
        if row is None:
            try:
                rows = await self.desk.queue_rows([conv_id])
            except Exception as exc:  # noqa: BLE001
                self.notify(f"Could not load #{conv_id}: {exc}", severity="error", markup=False)
                return
            row = rows[0] if rows else None
        if row is None:
            self.notify(f"Conversation #{conv_id} no longer exists", severity="warning")
            return
        from tui_desk.ui.triage import ReasonsScreen
        await self.push_screen(ReasonsScreen(row, self.clock()))

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
        from tui_desk.ui.compose import ComposeScreen
        from tui_desk.ui.outbox import OutboxScreen
        return [
            ("Everywhere", key_table(self.GLOBAL_BINDINGS, self.keymap) + [("Ctrl+P", "Command palette: every action")]),
            (
                "Triage: the selected rows, else the current one",
                key_table(TRIAGE_BINDINGS, self.keymap) + [("1 … 9", "Switch to saved view 1 … 9")],
            ),
            (
                "Reply: the open conversation, else the current row",
                key_table(REPLY_BINDINGS, self.keymap) + [("u", f"Undo a send while it waits{self._undo_window()}")],
            ),
            ("Compose", key_table(ComposeScreen.BINDINGS) + [("::name", "Then space: insert that snippet")]),
            ("Outbox", key_table(OutboxScreen.BINDINGS)),
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
            (
                "Prompts",
                [
                    ("Enter", "Apply what is typed, or the highlighted choice"),
                    ("↑ / ↓", "Move through the choices"),
                    ("Tab / →", "Take the completion (tags)"),
                    ("Esc", "Cancel"),
                ],
            ),
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
            ("", None, self.GLOBAL_BINDINGS),
            ("Triage", None, TRIAGE_BINDINGS),
            ("Reply", None, REPLY_BINDINGS),
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
        for n, (name, view_query) in enumerate(self.views):
            key = f"  ({n + 1})" if n < 9 else ""
            help_text = f"Saved view: {view_query or 'the priority queue'}{key}"
            callback = partial(self._run_palette_action, f"switch_view({n})", None)
            commands.append(SystemCommand(f"View: {name}", help_text, callback))
        return commands

    async def _run_palette_action(self, action: str, target: Widget | None) -> None:
        with contextlib.suppress(SkipAction):  # e.g. "Search" while a box has the focus
            await self.run_action(action, target)


def _import_the_rest() -> None:
    """What keys open, imported on a thread once the queue is on screen, so the first t, r, n
    or snippet preview does not wait for it (see the imports at the top)."""
    import textual.widgets._markdown  # noqa: F401 - the snippet preview

    import tui_desk.desk.render  # noqa: F401 - a conversation
    import tui_desk.ui.attachments  # noqa: F401
    import tui_desk.ui.compose  # noqa: F401
    import tui_desk.ui.note  # noqa: F401
    import tui_desk.ui.outbox  # noqa: F401
    import tui_desk.ui.triage  # noqa: F401


def run_app(db_path: Path, config: Any = None, first_page: FirstPageReader | None = None) -> int:
    """Open the desk at ``db_path`` and run the TUI; the exit status for the CLI.
    ``first_page``: a desk.first_page.FirstPageReader on the same store and config."""
    from tui_desk.desk.service import Desk

    async def open_desk() -> DeskService:
        # the check before writing runs beside the queue, not before it (DeskApp._check_store)
        desk = await Desk.open(db_path, config, check=False)
        desk.store.start_check()
        return desk

    app = DeskApp(open_desk=open_desk, first_page=first_page, keys=getattr(config, "keys", ()))
    app.run()
    if app.exit_line:
        print(app.exit_line, file=sys.stderr)
    return app.return_code or 0
