"""MainScreen: the queue, the conversation and the snippets side by side, and the main view's
keys. Modal screens (help, prompts, compose, outbox…) are pushed over it; while one is up the
main view's keys are not in play at all.

Triage keys live in ui/triage_actions.py, replying in ui/replying.py, which panes show and
where the focus goes in ui/pane_layout.py; the keys are described once in ui/registry.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.containers import Container, Horizontal, Vertical
from textual.content import Content
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Input, Static
from textual.worker import Worker, WorkerCancelled, WorkerFailed

from tui_desk.desk.views import DeskService, QueueRow
from tui_desk.sanitize import sanitize_line
from tui_desk.ui import registry
from tui_desk.ui.bridge import OutboxReported, StoreChanged, SyncStateChanged, TroubleChanged
from tui_desk.ui.conversation import ConversationPane
from tui_desk.ui.followup import FollowupActions
from tui_desk.ui.inputs import FollowingInput
from tui_desk.ui.notices import Notices
from tui_desk.ui.pane_layout import PaneLayout
from tui_desk.ui.queue import QueueView
from tui_desk.ui.replying import ReplyActions
from tui_desk.ui.snippets import SnippetPane
from tui_desk.ui.triage_actions import TriageActions

if TYPE_CHECKING:
    from tui_desk.ui.app_base import Clock, DeskAppBase

SEARCH_DELAY = 0.2  # seconds of no typing before a search runs
AGE_REFRESH = 30.0  # seconds between repaints of the ages on show (a clock: nothing posts "time passed")
# Another process's commit to the store (`tui-desk tag` from a script, a second app) has no
# callback to turn into a message: SQLite is asked, this often; a change is a StoreChanged.
STORE_WATCH_SECONDS = 0.5


class MainScreen(TriageActions, FollowupActions, ReplyActions, Notices, PaneLayout, Screen[None]):
    """Queue | Conversation | Snippets, with the status and trouble lines and the footer."""

    BINDINGS = registry.MAIN_SCREEN_BINDINGS

    app: DeskAppBase  # ui/app.py's DeskApp; this file does not import it (it imports this one)

    def __init__(self, initial_query: str = "") -> None:
        super().__init__()
        self.initial_query = initial_query
        self.query_text = ""
        self._search_timer: Timer | None = None
        self._searching: Worker[bool] | None = None  # the list the search box's text asked for last
        self._search_box: Input | None = None  # see search_input
        self._sent_burst: list[tuple[str, tuple[str, ...]]] = []  # what the toast shown now says was sent
        self._sent_toast = ""
        self.snippets_wanted = True  # the user's choice at 100+ columns
        self.snippets_over_conversation = False  # the user's choice below 100 columns
        self.queue_wide = False  # "w": the queue alone, across the width (a triage pass at 80 columns)
        self.narrow = False
        self.views: list[tuple[str, str | None]] = [("Queue", None)]
        self.view_index = 0
        self.sla_order = False  # L: the list by SLA (the desk orders it), else as the view has it
        self.setup_hint: str | None = None  # desk.setup_hint(): no account, no mail
        self.sync_status = ""  # Background's line, from SyncStateChanged
        self._trouble = ("", "")  # (line, cause) from TroubleChanged
        self._store_mark: tuple[int, ...] | None = None  # the file before the first page (_watch_store)
        self._store_version: int | None = None  # PRAGMA data_version at the last look
        self.last_action = ""  # the desk's line for the last action (also shown as a notice)
        self.pending_send = None  # ui.compose.Queued: the last reply queued; u takes it back
        self.pending_until = 0.0  # when its undo window ends (unix seconds): till then u takes it back first
        self._prepared_reload: tuple | None = None  # see TriageActions._with_reload_prepared
        self.incident_title = ""  # the active incident's (desk.incident), shown beside the view's name
        self._opening: int | None = None  # the conversation open_conversation is loading

    @property
    def desk(self) -> DeskService | None:
        return self.app.desk

    @property
    def clock(self) -> Clock:
        return self.app.clock

    def panes(self) -> ComposeResult:
        """The main view's widgets. The app's default screen (App.get_default_screen): Textual
        mounts them as the app's compose, whole before the app's on_mount runs ready()."""
        with Horizontal(id="panes"):
            with Vertical(id="queue-pane", classes="pane") as queue_pane:
                queue_pane.border_title = "Queue"
                yield QueueView(self.desk, clock=self.clock, id="queue")
            conversation = ConversationPane(clock=self.clock, id="conversation-pane", classes="pane")
            conversation.border_title = "Conversation"
            yield conversation
            snippets = SnippetPane(id="snippet-pane", classes="pane")
            snippets.border_title = "Snippets"
            yield snippets
        yield Static("", id="trouble")  # shown only while a server cannot be reached
        yield Static("", id="status")
        # the footer's line; its keys come a frame after the first (_fill_footer): ~1.3 ms of it
        yield Container(id="footer-line")

    def ready(self) -> None:
        """Once the panes are mounted: the layout for the terminal's width, the focus."""
        self.apply_layout(self.app.size.width)
        # queued, not now: the first frame does not wait for it (~8 M instructions of it)
        self.app.call_later(self._focus_queue_at_start)
        self.call_after_refresh(self._fill_footer)
        if self.initial_query:
            self.query_text = self.initial_query
            self.search_input.value = self.initial_query
            self.query_one("#queue-pane").add_class("-searching")
        self.set_interval(AGE_REFRESH, self.follow_clock)

    def _focus_queue_at_start(self) -> None:
        """The queue has the focus to start with, unless a key typed right after launch (S, Tab,
        "/": queued to the app before this) has put it elsewhere already."""
        if self.focused is None:
            self.focus_now(self.queue)

    async def _fill_footer(self) -> None:
        line = self.query("#footer-line")
        if line and line.first().is_attached:  # not once the app closes (it may, in its first frames)
            await line.first().mount(Footer(compact=True))
            self.refresh_bindings()  # the footer shows the keys once told they are there

    def follow_clock(self) -> None:
        """The ages on show against the clock: the queue's rows, the open conversation's times;
        and the list itself, which changes with the clock when a snooze runs out."""
        if self.alive():
            self.queue.refresh()
            self.conversation_pane.follow_clock()
            self._list_at_clock()

    @work(exclusive=True, group="queue-clock")
    async def _list_at_clock(self) -> None:
        """The list read again for the clock (the desk reads it whole only when a snooze ran
        out, desk/queue_ids.py): set only when it changed and nothing else changed it meanwhile,
        the cursor on its conversation, else on the row that took its place, the scroll kept."""
        desk = self.desk
        if desk is None or self.app.type_ahead.busy:
            return
        query, before = self.query_text, list(self.queue.ids)
        try:
            ids = await self.list_ids(query)
        except Exception:  # noqa: BLE001 - the store is closing, or a search error said already
            return
        queue = self.queue if self.alive() else None
        if queue is None or ids == before or query != self.query_text or queue.ids != before:
            return
        queue.set_ids(ids, keep=queue.current_id, at=queue.cursor, empty_text=self.empty_text(query),
                      keep_scroll=True)
        self.conversation_pane.queue_emptied(not ids)
        self.update_queue_subtitle()

    def desk_ready(self, views: list[tuple[str, str | None]]) -> None:
        """The desk is open: rows past the first page can be fetched; its saved views."""
        self.queue.desk = self.desk
        self.queue.refresh()
        self.views = views or self.views
        self._show_view_title()
        self.refresh_incident()

    def watch_store(self, mark: tuple[int, ...] | None) -> None:
        """Look for other processes' commits from now on; ``mark``: the store file as the
        first page saw it."""
        self._store_mark = mark
        self.set_interval(STORE_WATCH_SECONDS, self._watch_store)
        self._hold_queue()

    @work(group="queue-hold")
    async def _hold_queue(self) -> None:
        """The queue's ids once more, now the app is up: the desk keeps them, so the first action
        moves the ids that changed instead of reading the whole list (desk/queue_ids.py)."""
        if self.desk is not None and self.alive():
            try:
                await self.desk.queue_ids()
            except Exception:  # noqa: BLE001 - the first action reads the list and says what is wrong
                pass

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
        """The search box over the queue, made the first time it is wanted ("/", a search given
        at start): hidden until then, it was ~3 ms of the first frame. Mounted, it is in the DOM
        at once, so the keys typed behind "/" land in it."""
        if self._search_box is None:
            self._search_box = FollowingInput(placeholder="Search…  Enter keeps it, Esc clears", id="search")
            self.query_one("#queue-pane").mount(self._search_box, before=0)
        return self._search_box

    @property
    def thread(self) -> Widget:
        return self.conversation_pane.thread

    @property
    def snippet_filter(self) -> Widget:
        return self.snippet_pane.filter_input

    def alive(self) -> bool:
        """False once the app is closing (timers may still fire; the widgets are gone)."""
        try:
            self.query_one("#queue", QueueView)
        except NoMatches:
            return False
        return True

    # --- Background's news (ui/bridge.py) and the store watch -------------------------------

    @on(SyncStateChanged)
    def _sync_state_changed(self, message: SyncStateChanged) -> None:
        self.sync_status = message.status
        if self.alive():
            self.update_queue_subtitle()

    @on(StoreChanged)
    def _store_changed(self, message: StoreChanged) -> None:
        if self.alive():
            self.reload_shown()
            self.refresh_incident()
            for screen in self.app.screen_stack:  # the Reports screen reloads its figures too
                if screen is not self and hasattr(screen, "store_changed"):
                    screen.store_changed()

    @on(TroubleChanged)
    def _trouble_changed(self, message: TroubleChanged) -> None:
        """The line above the status line: what is wrong with the sync and when it retries;
        a toast when a new problem (a new cause) appears and when it is over."""
        (before, cause_before), self._trouble = self._trouble, (message.trouble, message.cause)
        if not self.alive():
            return
        line = self.query_one("#trouble", Static)
        line.update(Content("⚠ " + message.trouble) if message.trouble else Content(""))
        line.display = bool(message.trouble)
        if message.cause and message.cause != cause_before:
            self.notify(message.cause, title="Sync", severity="error", timeout=10, markup=False)
        elif before and not message.trouble:
            self.notify("Connected again", title="Sync", timeout=3, markup=False)

    @on(OutboxReported)
    def _outbox_reported(self, message: OutboxReported) -> None:
        report = message.report
        if report.sent:
            self.replies_went(report.sent_ids)  # before the sent toast: its "u to undo" goes
            self._say_sent(report)
        for _ in report.failed:
            self.notify("A reply was refused by the server; its text is back in the draft",
                        severity="error", timeout=10)
        for message_id in report.held:
            # who wrote, when: the words O shows (sync.delivery.held_error); mail's words, sanitized
            why = report.held_why.get(message_id, "the conversation got a new message after you wrote it")
            self.notify(f"A reply was held: {sanitize_line(why)}. Read it, then O to send anyway, edit or discard",
                        title="Collision", severity="warning", timeout=20, markup=False)
        for _ in report.maybe_sent:
            self.notify("A reply may or may not have been sent (tui-desk stopped while sending it); "
                        "O shows the outbox", severity="warning", timeout=15)

    async def _watch_store(self) -> None:
        """The first look compares the store file with what it was when the first page was read
        (on another connection); later looks ask SQLite, which leaves out our own writes."""
        desk = self.desk
        if desk is None or not self.alive():
            return
        try:
            version = await desk.store_version()
        except Exception:  # noqa: BLE001 - the store is closing; the next look will tell
            return
        if version is None:
            return
        if self._store_version is None:
            changed = self._store_mark is not None and desk.store_mark() != self._store_mark
        else:
            changed = version != self._store_version
        self._store_version = version
        if changed and not self.app.type_ahead.busy:
            self.post_message(StoreChanged())

    def reload_shown(self) -> None:
        """The queue and the open conversation again, from the store. The cursor stays on its
        conversation, except on the top row with nothing open yet: then it stays on the top
        row (a first sync filling the queue should show its top, not follow row 1 down)."""
        at_top = self.queue.cursor == 0 and self.conversation_pane.conversation is None
        self.load_queue(self.query_text, keep=None if at_top else self.queue.current_id, at=self.queue.cursor)
        shown = self.conversation_pane.conversation
        # while another one opens, that one stays (it reads the store now): reopening the one
        # shown would cancel it, and the pane would go back to the conversation it replaces
        if shown is not None and self._opening is None:
            self.open_conversation(shown.id)

    # --- queue and search -----------------------------------------------------------------

    async def opened_desk(self) -> DeskService | None:
        """The desk, waited for when a key came while the first page shows and it still opens
        (a search, Enter on a row); None when it could not open (the app's start says why)."""
        if self.desk is None:
            try:
                await self.app.desk_opened()
            except Exception:  # noqa: BLE001 - the app's start says why and ends the app
                return None
        return self.desk

    @work(exclusive=True, group="queue-ids")
    async def load_queue(self, query: str, keep: int | None = None, at: int | None = None) -> bool:
        """The list for ``query``; the cursor on ``keep`` if it is still there, else at position
        ``at`` (the row that took its place: a replied conversation leaves once it is sent),
        else on the top row. False when it could not be read (a bad search: said)."""
        if await self.opened_desk() is None:
            return False
        try:
            ids = await self.list_ids(query)
        except Exception as exc:  # noqa: BLE001 - e.g. a search syntax error: say it, carry on
            self.notify(str(exc), title="Search", severity="error", markup=False)
            return False
        if not self.alive():  # the app closed while the list was read (a test run's end, a quit)
            return False
        self.show_ids(query, ids, keep=keep, at=at)
        return True

    def show_ids(self, query: str, ids: list[int], keep: int | None = None, rows: Iterable[QueueRow] = (),
                 at: int | None = None) -> None:
        self.query_text = query
        self.queue.set_ids(ids, keep=keep, at=at, empty_text=self.empty_text(query), rows=rows,
                           view_query=self.current_view[1] or "")
        self.conversation_pane.queue_emptied(not ids)
        self.update_queue_subtitle()

    @property
    def current_view(self) -> tuple[str, str | None]:
        return self.views[self.view_index]

    async def list_ids(self, search: str) -> list[int]:
        """The current view's conversations, narrowed by the search (its terms are ANDed)."""
        desk = self.desk
        assert desk is not None
        view_query = self.current_view[1]
        if search:
            ids = await desk.queue_ids(f"{view_query} {search}" if view_query else search)
        elif view_query:
            ids = await desk.view_ids(view_query)
        else:
            ids = await desk.queue_ids(None)
        return await desk.sla_order(ids) if self.sla_order else ids

    def empty_text(self, search: str) -> str:
        if search:
            return f"Nothing matches {search!r}"
        name, view_query = self.current_view
        return f"Nothing in {name}" if view_query else self.setup_hint or "The queue is empty"

    async def show_setup_hint(self) -> None:
        """No account and no mail: the empty queue says how to start (the desk's words)."""
        assert self.desk is not None
        try:
            self.setup_hint = await self.desk.setup_hint()
        except Exception:  # noqa: BLE001 - only a hint: the plain empty text stays
            return
        if self.setup_hint and not self.queue.ids and not self.current_view[1]:
            self.queue.empty_text = self.setup_hint
            self.queue.refresh()

    def update_queue_subtitle(self) -> None:
        # Changes only with the list: a new border on every keystroke would repaint the pane.
        parts = [self.query_text] if self.query_text else []
        total = len(self.queue.ids)
        if total:
            self.setup_hint = None  # mail has come: an empty queue later is just empty
        if self.queue.selected:
            parts.append(f"{len(self.queue.selected)} of {total} selected")
        elif self.narrow and self.sync_status:
            parts.append(str(total))  # the sync's state must fit the narrow pane's border too
        else:
            parts.append(f"{total} conversation{'s' if total != 1 else ''}")
        if self.sync_status:
            # a sync's progress bar first: the subtitle is cut on the right in a narrow pane
            if "%" in self.sync_status:
                parts.insert(0, self.sync_status)
            else:
                parts.append(self.sync_status)
        self.query_one("#queue-pane").border_subtitle = Content(" · ".join(parts))

    def _show_view_title(self) -> None:
        order = " · by SLA" if self.sla_order else ""
        incident = f" · ⚠ incident: {self.incident_title}" if self.incident_title else ""
        self.query_one("#queue-pane").border_title = Content(self.current_view[0] + order + incident)

    def action_sla_order(self) -> None:
        """L: the list by SLA (breached first, then the target due next), or back as it was;
        the cursor on the top row, the most urgent (the rows under it are what L is for)."""
        if self.desk is None:
            raise SkipAction()
        if not self.sla_order and not self.desk.sla_configured():  # nothing to order by: say so, keep the list
            self.notify("No SLA targets: set [sla] in config.toml", timeout=5, markup=False)
            return
        self.sla_order = not self.sla_order
        self._show_view_title()
        self.load_queue(self.query_text)

    @work(exclusive=True, group="incident")
    async def refresh_incident(self) -> None:
        """The header names the active incident (a teammate's too, once the sync brought it)."""
        if self.desk is None:
            return
        try:
            active = await self.desk.active_incidents()
        except Exception:  # noqa: BLE001 - the store is closing; the next change tells
            return
        title = " + ".join(i.title for i in active)
        if title != self.incident_title and self.alive():
            self.incident_title = title
            self._show_view_title()

    @on(QueueView.SelectionChanged)
    def _selection_changed(self, event: QueueView.SelectionChanged) -> None:
        self.update_queue_subtitle()

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
        if self.queue_wide:  # opening a conversation brings the panes back
            self.queue_wide = False
            self.apply_layout(self.app.size.width)
        self.open_conversation(event.conv_id)

    def open_conversation(self, conv_id: int) -> Worker[None]:
        """Show ``conv_id`` in the conversation pane (a newer call replaces one still loading)."""
        self._opening = conv_id
        return self._open_conversation(conv_id)

    @work(exclusive=True, group="conversation")
    async def _open_conversation(self, conv_id: int) -> None:
        try:
            await self._show_conversation(conv_id)
        finally:
            if self._opening == conv_id:
                self._opening = None

    async def _show_conversation(self, conv_id: int) -> None:
        desk = await self.opened_desk()
        if desk is None:
            return
        pane = self.conversation_pane
        try:
            conv = await desk.conversation(conv_id)
        except Exception as exc:  # noqa: BLE001 - said on screen, never a crash
            await pane.show_note(f"Could not load conversation #{conv_id}: {exc}")
            return
        if conv is None:
            await pane.show_note(f"Conversation #{conv_id} no longer exists")
            return
        await pane.show(conv)

    def action_search(self) -> None:
        """Open the search box over the queue."""
        if isinstance(self.focused, Input):
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
    async def _search_submitted(self, event: Input.Submitted) -> None:
        """Enter in the search box: run it now and go back to the queue (an empty one closes).
        A search that fails (its error said) keeps the focus in the box with its text, to be
        fixed: the keys typed behind Enter wait for this (ui/typeahead.py) and go there too.
        Typed while the desk still opens, it goes to the queue at once (the keys wait for no desk)."""
        worker = self._run_search(event.value)
        if worker is None and self._searching is not None and not self._searching.is_finished:
            worker = self._searching  # the search typed so far is being read: its list resets the cursor
        if worker is not None and self.desk is not None and not await self._shown(worker):
            return
        if not event.value.strip():
            self.query_one("#queue-pane").remove_class("-searching")
        self.focus_now(self.queue)

    @staticmethod
    async def _shown(worker: Worker[bool]) -> bool:
        """Whether the list ``worker`` reads was shown (one that a newer list replaced counts)."""
        try:
            return await worker.wait()
        except WorkerCancelled:
            return True
        except WorkerFailed:
            return False

    def _run_search(self, text: str) -> Worker[bool] | None:
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_timer = None
        query = text.strip()
        if query != self.query_text or not self.queue.ids:
            self._searching = self.load_queue(query)
            return self._searching
        return None

    def show_search(self, query: str) -> None:
        """The queue searched for ``query``, as if typed into the search box, in the Queue view
        (every conversation): the Reports screen opens a frequent question this way."""
        if self.view_index:
            self.view_index = 0
            self._show_view_title()
        self.query_one("#queue-pane").add_class("-searching")
        self.search_input.value = query
        self.focus_now(self.queue)
        self.load_queue(query)

    def action_reports(self) -> None:
        """D: the Reports screen. Imported now, not at start: the queue's first paint does not
        pay for it (nor for its widgets). Pressed while the desk still opens, the screen
        waits for it."""
        from tui_desk.ui.reports import ReportsScreen
        self.app.push_screen(ReportsScreen())

    def action_escape(self) -> None:
        """Clear the selection or the search (back to the queue), or put the conversation back
        over the snippets, or leave the snippets."""
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
        raise SkipAction()  # Esc goes on to the focused widget

    def palette_target(self, name: str | None) -> Any:
        """What a palette command of ui/registry.py runs on: this screen, or one of its panes."""
        return self if name is None else getattr(self, name)

