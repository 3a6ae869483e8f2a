"""DeskApp: the queue, the conversation and the snippets side by side, all from the keyboard.

The app renders only the values of ``tui_desk.desk.views`` and talks only to a DeskService;
every desk call is awaited in a worker so the screen never waits on the store. The main view
is ui/main_screen.py (its triage keys ui/triage_actions.py, replying ui/replying.py); the keys
are one table (ui/registry.py); Background's news arrives as messages (ui/bridge.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, work
from textual.actions import SkipAction
from textual.app import ComposeResult, SystemCommand
from textual.screen import Screen
from textual.theme import Theme, ThemeProvider

from tui_desk.desk import themes as desk_themes
from tui_desk.desk.timefmt import local_zone
from tui_desk.desk.views import DeskService, OutboxEntry, QueueRow
from tui_desk.sanitize import sanitize, sanitize_line
from tui_desk.ui import registry
from tui_desk.ui.palette import DeskCommands, InOrderPalette
from tui_desk.ui.app_base import Clock, DeskAppBase
from tui_desk.ui.help import HelpScreen, key_label
from tui_desk.ui.main_screen import MainScreen
from tui_desk.ui.notify import NOTICES_ON_FULL_SCREEN, mark_full_screen
from tui_desk.ui.queue import QueueView
from tui_desk.ui.registry import VIEW_BINDINGS  # noqa: F401 - where tests and tools look for it
from tui_desk.ui.typeahead import KeyHold, SubmitHandled, release_if_held

# The screens a key opens (compose, note, outbox, triage prompts…) are imported inside the
# action, and on a thread once the queue is on screen (_import_the_rest): together with their
# Textual widgets they are ~40 ms the first paint need not wait for.
if TYPE_CHECKING:
    from tui_desk.desk.first_page import FirstPageReader
    from tui_desk.desk.service import Desk
    from tui_desk.ui.bridge import BackgroundBridge

FIRST_PAGE_ROWS = 100  # rows read with the ids at start: a screenful on any terminal
GC_IDLE_CHECK = 30.0  # seconds between looks for a quiet moment to collect garbage
# Cycle order for the theme key; other registered themes are reachable from the palette.
THEME_ORDER = ("tui-desk-dark", "tui-desk-light", "tui-desk-high-contrast")
FALLBACK_THEME = "textual-dark"
QUIT_SEND_SECONDS = 30.0  # the longest quitting waits for replies sent on the way out


def local_now() -> dt.datetime:
    return dt.datetime.now().astimezone()


class DeskApp(DeskAppBase):
    """A helpdesk inbox: Queue | Conversation | Snippets (MainScreen). What its screens use of
    it, desk_opened among them, is DeskAppBase's (ui/app_base.py)."""

    CSS_PATH = "app.tcss"
    CSS = NOTICES_ON_FULL_SCREEN  # where notices stand on a full screen (ui/notify.py)
    TITLE = "tui-desk"
    # help, theme and quit work over every screen; the main view's keys are MainScreen's
    BINDINGS = registry.APP_BINDINGS
    COMMANDS = {DeskCommands}  # the palette finds a command by the words of its help too

    main: MainScreen  # the default screen (get_default_screen)

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
        temporary_store: bool = False,
    ) -> None:
        """Give either ``desk`` or ``open_desk`` (awaited inside the app's event loop).
        ``first_page``: a desk.first_page.FirstPageReader already reading the queue.

        ``theme`` starts with that theme instead of the remembered one; ``clock`` gives "now"
        for ages and dates (tests fix it). ``temporary_store``: the store goes on exit (the
        demo), which the quit question says.
        """
        if desk is None and open_desk is None:
            raise TypeError("DeskApp needs a desk or open_desk")
        super().__init__()
        from tui_desk.ui.keymap import plan_keymap
        # [keys] in config.toml: rebindings by binding id (ui/keymap.py); problems said at start
        self.keymap, self.key_problems = plan_keymap(
            registry.REBINDABLE, [*VIEW_BINDINGS, *QueueView.BINDINGS], keys)
        self.set_keymap(self.keymap)
        self.desk = desk
        self._open_desk = open_desk
        self._owns_desk = desk is None
        self.clock: Clock = clock or local_now
        self._theme_ready = False
        self.background = None  # desk.background.Background once started
        self._bridge: BackgroundBridge | None = None
        self.type_ahead = KeyHold()  # keys typed while an action reloads the list wait here
        self._last_key_at = 0.0  # monotonic
        self._first_page_reader = first_page
        self.temporary_store = temporary_store  # the demo's: deleted on exit, outbox and all
        self.exit_line: str | None = None  # the message of exit(): run_app prints it
        self._first_page: asyncio.Future | None = None  # see on_load
        self._opening = None  # see desk_opened
        self._store_mark: tuple[int, ...] | None = None  # the store file as the first page saw it
        self.main = MainScreen(query or "")
        mark_full_screen(self.main)  # and every full screen pushed later (on_mount)
        self.theme_names = self._load_themes(theme_dirs)
        self.start_theme = theme
        if theme is None:
            remembered = desk_themes.remembered_theme()
            self.start_theme = remembered if remembered in self.available_themes else None
        if self.start_theme is None:
            self.start_theme = self.theme_names[0] if self.theme_names else FALLBACK_THEME
        # before the first frame: a theme set later parses the whole stylesheet a second time
        self.theme = self.start_theme
        # ...and into the stylesheet now, which Textual made with the default theme's colours:
        # else the refresh the theme queued (refresh_css, before any screen is there) parses
        # every source into a fresh stylesheet whose parse cache is dropped, and the first
        # widgets' CSS parses them all once more (~10 ms of the first frame)
        self._css_at_start: dict[str, str] | None = self.get_css_variables()
        self.stylesheet.set_variables(self._css_at_start)

    def refresh_css(self, animate: bool = True) -> None:
        start, self._css_at_start = self._css_at_start, None
        if start is not None and not self.screen_stack and start == self.get_css_variables():
            return  # the theme's refresh queued in __init__: nothing is styled yet, the colours are in
        super().refresh_css(animate)

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every notice, the app's and its screens' (Widget.notify lands here): plain text
        through the sanitizer, never markup. Notices carry subjects, names, addresses and
        servers' words; ``markup`` is accepted for Textual's callers and ignored."""
        super().notify(sanitize(message), title=sanitize_line(title), severity=severity, timeout=timeout,
                       markup=False)

    # --- the main view's parts, for tests and tools -------------------------------------------

    @property
    def queue(self) -> QueueView:
        return self.main.queue

    @property
    def conversation_pane(self) -> Any:
        return self.main.conversation_pane

    @property
    def snippet_pane(self) -> Any:
        return self.main.snippet_pane

    @property
    def search_input(self) -> Any:
        return self.main.search_input

    # --- building -------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        return self.main

    def compose(self) -> ComposeResult:
        yield from self.main.panes()

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
        query = self.main.initial_query
        reader = self._first_page_reader
        if reader is not None and not query:
            # read at once when it is there: a thread would hand it over after the first frame
            page = reader.result() if reader.done() else await asyncio.to_thread(reader.result)
            if page is not None:
                self._store_mark = reader.mark  # what the store watch compares with
                return page  # the desk opens once they are on screen (start)
        desk = await self.desk_opened()
        self._store_mark = desk.store_mark()
        try:
            ids = await self.main.list_ids(query)
            return ids, await desk.queue_rows(ids[:FIRST_PAGE_ROWS])
        except Exception:  # noqa: BLE001 - said by load_queue, which runs instead
            return None

    def on_mount(self) -> None:
        self.screen_change_signal.subscribe(self, mark_full_screen, immediate=True)
        self._theme_ready = True
        for error in self.theme_errors:
            self.notify(str(error), title="Theme skipped", severity="warning", markup=False)
        for problem in self.key_problems:
            self.notify(problem, title="Keys", severity="warning", timeout=10, markup=False)
        self.main.ready()
        self.start()

    def on_resize(self, event: events.Resize) -> None:
        # the app's, not the screen's: the main view is laid out again under a modal too
        if self.main.alive():  # before its first compose, its on_mount lays it out
            self.main.apply_layout(event.size.width)

    async def on_event(self, event: events.Event) -> None:
        # Keys typed while an action is reloading the list wait for it: "c j c" closes the
        # next-but-one conversation, as it would if typed slowly. The screen keeps painting.
        if isinstance(event, events.Key):
            self._last_key_at = time.monotonic()
            if self.type_ahead.take(event):
                return
        await super().on_event(event)

    def on_submit_handled(self, message: SubmitHandled) -> None:
        release_if_held(message.box)  # the keys typed behind Enter in a text box

    def _collect_when_idle(self) -> None:
        """Full garbage collections run here, between keystrokes, not inside one (see start)."""
        if time.monotonic() - self._last_key_at > 5:
            gc.collect()

    @work(group="start")
    async def start(self) -> None:
        assert self._first_page is not None
        main = self.main
        try:
            first_page = await asyncio.shield(self._first_page)
            if first_page is not None:
                main.show_ids(main.query_text, first_page[0], rows=first_page[1])
            _resume_collections()
            desk = await self.desk_opened()
        except Exception as exc:  # noqa: BLE001 - one clear line, never a traceback
            # Text: never read as markup, wherever it is printed
            self.exit(return_code=2, message=Text(sanitize_line(f"tui-desk: {exc}")))
            return
        self._check_store()
        try:
            views = list(desk.views())
        except Exception as exc:  # noqa: BLE001 - said on screen, never a crash
            self.notify(f"Could not load saved views: {exc}", severity="error", markup=False)
            views = []
        main.desk_ready(views)
        # rows first: they are what the agent waits for; the rest once they are on screen
        if first_page is None:
            await main.load_queue(main.query_text).wait()
        if not main.queue.ids and not main.query_text:
            await main.show_setup_hint()
        await main.queue.wait_for_refresh()
        await asyncio.to_thread(_import_the_rest)
        try:
            snippets = await asyncio.to_thread(desk.snippets)
        except Exception as exc:  # noqa: BLE001 - said on screen, never a crash
            self.notify(f"Could not load snippets: {exc}", severity="error", markup=False)
            snippets = []
        main.snippet_pane.set_snippets(snippets)
        # Everything built so far lives as long as the app: keep it out of the garbage
        # collector's full passes, which otherwise stall a keystroke now and then. Those
        # passes are rare (a reload drops thousands of cached strips) and run when idle.
        gc.freeze()
        gc.set_threshold(700, 10, 1000)
        self.set_interval(GC_IDLE_CHECK, self._collect_when_idle)
        main.watch_store(self._store_mark)
        main.watch_sla()
        self._start_background()

    @work(group="store-check")
    async def _check_store(self) -> None:
        """A desk opened to write checks its store before the first write (store.db.Store.open);
        run_app's begins that beside the queue: a damaged store ends the app in one line."""
        assert self.desk is not None
        try:
            await self.desk.check_store()
        except Exception as exc:  # noqa: BLE001 - one clear line, never a traceback
            self.exit(return_code=2, message=Text(sanitize_line(f"tui-desk: {exc}")))

    def _start_background(self) -> None:
        """Mail sync and outbox delivery beside the app (desk.background), when the desk has
        accounts; its news reaches the main screen as messages (ui/bridge.py)."""
        if self.background is not None or self.desk is None:
            return
        self.background = self.desk.background()
        if self.background is None:
            return
        from tui_desk.ui.bridge import BackgroundBridge
        self._bridge = BackgroundBridge(self, self.background, self.main)
        self._bridge.start()

    def undo_window(self) -> str:
        """" (10 s)": the accounts' undo_send_seconds, as configured."""
        seconds = sorted(set(self.desk.undo_send_seconds())) if self.desk is not None else []
        if not seconds:
            return ""
        return f" ({seconds[0]} s)" if len(seconds) == 1 else f" ({seconds[0]}–{seconds[-1]} s)"

    async def on_unmount(self) -> None:
        if self._bridge is not None:
            self._bridge.stop()
        if self._owns_desk and self.desk is None and self._opening is not None:
            with contextlib.suppress(Exception):  # closed while opening: still close it
                self.desk = await asyncio.wait_for(asyncio.shield(self._opening), 5.0)
        if self._owns_desk and self.desk is not None:
            await self.desk.close()

    # --- help, themes, palette: all from ui/registry.py ---------------------------------------

    def _groups(self) -> list[registry.Group]:
        from tui_desk.ui.compose import ComposeScreen
        from tui_desk.ui.conversation import ThreadView
        from tui_desk.ui.outbox import OutboxScreen
        from tui_desk.ui.snippets import SnippetFilter
        panes = {"compose": ComposeScreen, "outbox": OutboxScreen, "queue": QueueView,
                 "conversation": ThreadView, "snippets": SnippetFilter}
        return registry.main_groups(self.undo_window(), lambda name: list(panes[name].BINDINGS))

    def help_sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """The keys of the screen on top: a screen with keys of its own (Reports) lists its
        own (``help_groups``), else the main view's whole table."""
        own = getattr(self.screen, "help_groups", None)
        return registry.help_sections(own() if own is not None else self._groups(), self.keymap)

    def action_help(self) -> None:
        """Show every key."""
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.help_sections()))

    async def action_quit(self) -> None:
        """q: quit; with a reply still in its undo window, ask first (ui/quitting.py): never
        drop one without a word."""
        from tui_desk.ui.quitting import QuitScreen, waiting_line
        if isinstance(self.screen, QuitScreen):
            return
        waiting = await self._sends_waiting()
        if not waiting:
            self.exit()
            return
        self.push_screen(QuitScreen(waiting_line(waiting, self.clock()), len(waiting),
                                    send_and_quit=partial(self._send_before_quitting, [e.id for e in waiting]),
                                    temporary_store=self.temporary_store))

    async def _sends_waiting(self) -> list[OutboxEntry]:
        """The outbox's replies about to go: this desk's own, queued, due within the longest undo
        window (ui.quitting.own_waiting)."""
        if self.desk is None:
            return []
        try:
            entries = await self.desk.outbox()
        except Exception:  # noqa: BLE001 - a store that cannot be read must not keep the app open
            return []
        from tui_desk.ui.quitting import own_waiting
        window = max(self.desk.undo_send_seconds(), default=0) + 1
        return own_waiting(entries, self.clock() + dt.timedelta(seconds=window))

    async def _send_before_quitting(self, ids: list[int]) -> str:
        """The undo window ended for these; one outbox pass, bounded; the line to print."""
        from tui_desk.ui.quitting import replies
        desk = self.desk
        assert desk is not None
        try:
            for outbox_id in ids:
                with contextlib.suppress(ValueError):  # gone, or the outbox took it meanwhile
                    await desk.send_now(outbox_id)
            if self.background is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(self.background.deliver_now()), QUIT_SEND_SECONDS)
            left = [e for e in await desk.outbox() if e.id in ids and e.state != "sent"]
        except Exception as exc:  # noqa: BLE001 - said in the line; the outbox keeps the reply
            return sanitize_line(f"tui-desk: could not send before quitting ({exc}); "
                                 "see the outbox the next time tui-desk runs")
        sent = len(ids) - len(left)
        if not left:
            return f"tui-desk: sent {replies(sent)} before quitting"
        why = next((e.error for e in left if e.error), None)
        line = (f"tui-desk: {replies(len(left))} not sent{f' ({why})' if why else ''}: "
                f"{'it stays' if len(left) == 1 else 'they stay'} in the outbox "
                + ("(the demo's mailbox is deleted on exit)" if self.temporary_store
                   else "and goes the next time tui-desk runs or syncs"))
        return sanitize_line(line)

    def action_help_quit(self) -> None:
        """Ctrl+C: how to quit, in plain words. Textual's own line carries markup, which our
        notify (plain text, always) would show as it is. The key is the quit binding active
        here, as the keymap ([keys]) has it, labelled as `?` help labels it."""
        for key, active in self.active_bindings.items():
            if active.binding.action in ("quit", "app.quit"):
                self.notify(f"Press {key_label(key)} to quit tui-desk", title="Do you want to quit?")
                return

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

    def action_command_palette(self) -> None:
        """Textual's, with its box keeping the order of the keys typed (ui/palette.InOrderPalette)."""
        if self.use_command_palette and not InOrderPalette.is_open(self):
            self.push_screen(InOrderPalette(id="--command-palette"))

    def search_themes(self) -> None:
        """Textual's theme picker (the palette's "Theme"), its box keeping the order typed too."""
        self.push_screen(InOrderPalette(providers=[ThemeProvider], placeholder="Search for themes…"))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every action of the app and its panes, plus Textual's own (theme picker, screenshot)."""
        mine = self._palette_commands(screen)
        titles = {c.title for c in mine} | {"Keys"}
        for command in super().get_system_commands(screen):
            if command.title not in titles:
                yield command
        yield from mine

    def _palette_commands(self, screen: Screen | None = None) -> list[SystemCommand]:
        """The main view's commands; on a screen with keys of its own (``palette_groups``:
        Reports), that screen's, run on it."""
        if not self.main.alive():
            return []
        own = getattr(screen, "palette_groups", None)
        if own is not None:
            return [SystemCommand(e.title, e.help, partial(self._run_palette_action, e.action, e.target, screen))
                    for e in registry.palette_entries(own())]
        entries = registry.palette_entries(self._groups()) + registry.view_entries(self.main.views)
        return [SystemCommand(e.title, e.help, partial(self._run_palette_action, e.action, e.target))
                for e in entries]

    async def _run_palette_action(self, action: str, target: str | None, screen: Screen | None = None) -> None:
        name = action.split("(")[0]
        if name in registry.APP_ACTIONS:
            node: Any = self
        else:
            node = screen if screen is not None else self.main.palette_target(target)
        with contextlib.suppress(SkipAction):  # e.g. "Search" while a box has the focus
            await self.run_action(action, node)


def _resume_collections() -> None:
    """`tui-desk` runs its start-up without garbage collection (cli.run_tui); it resumes once the
    first page is there. What was built so far lives as long as the app: frozen first, so no
    pass ever walks it, nor the little garbage start-up left among it (~500 of ~66k objects at
    100k conversations: a full collection here would pause the first paint 15-30 ms for them)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def _import_the_rest() -> None:
    """What keys open, imported on a thread once the queue is on screen, so the first t, r, n
    or snippet preview does not wait for it (see the imports at the top)."""
    import textual.widgets._markdown  # noqa: F401 - the snippet preview

    import tui_desk.desk.render  # noqa: F401 - a conversation
    import tui_desk.ui.attachments  # noqa: F401 - what a key opens
    import tui_desk.ui.compose  # noqa: F401 - what a key opens
    import tui_desk.ui.note  # noqa: F401 - what a key opens
    import tui_desk.ui.outbox  # noqa: F401 - what a key opens
    import tui_desk.ui.popups  # noqa: F401 - what a key opens
    import tui_desk.ui.triage  # noqa: F401 - what a key opens


def _desk_class() -> type[Desk]:
    from tui_desk.desk.service import Desk
    return Desk


def run_app(db_path: Path, config: Any = None, first_page: FirstPageReader | None = None, *,
            temporary_store: bool = False) -> int:
    """Open the desk at ``db_path`` and run the TUI; the exit status for the CLI.
    ``first_page``: a desk.first_page.FirstPageReader on the same store and config;
    ``temporary_store``: the store is deleted on exit (the demo)."""

    async def open_desk() -> DeskService:
        # imported now, on a thread (the loop paints meanwhile): the first page is read without
        # the desk's modules (desk.first_page), so they need not be imported before it is painted
        desk_class = await asyncio.to_thread(_desk_class)
        # the check before writing runs beside the queue, not before it (DeskApp._check_store)
        desk = await desk_class.open(db_path, config, check=False)
        desk.store.start_check()
        return desk

    # the desk's zone with its DST rules, not today's fixed offset: "tomorrow 9:00" said on the
    # Saturday before the clocks change is shown as the desk will read it
    zone = local_zone(getattr(getattr(config, "priority", None), "timezone", None))
    app = DeskApp(open_desk=open_desk, first_page=first_page, keys=getattr(config, "keys", ()),
                  clock=partial(dt.datetime.now, zone), temporary_store=temporary_store)
    app.run()
    if app.exit_line:
        print(app.exit_line, file=sys.stderr)
    return app.return_code or 0
