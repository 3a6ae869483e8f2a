"""The outbox view: replies on their way, one line each: the conversation, who gets it, the
subject and what happens next ("sends at 9:14", "retry 2 at 9:20: <the server's words>",
"held: …"), in the order they go (held ones last: desk.outbox_view.going_order).

A popup over the queue; it reloads every two seconds while open (the background sends).
Cancelling (``c``) puts the text back into the conversation's draft and closes the outbox with
that conversation, which the app opens in the compose screen. ``n`` sends a scheduled reply now.
A held, failed or "maybe sent" reply waits for the agent: ``s`` sends it (again), ``d d`` discards it.
A retrying one (the server could not take it yet) shows its tries, next try and last error;
``s`` tries it now (due at once: the outbox's next pass, under its usual rules).
Enter shows the highlighted reply as the customer gets it (To, Cc, Subject and its text,
placeholders filled when it was queued), and hides it again; PgUp/PgDn scroll it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui_desk.desk.timefmt import format_datetime_short, format_when
from tui_desk.desk.views import ConversationView, OutboxEntry, OutboxMail
from tui_desk.ui.queue_columns import fit
from tui_desk.ui.text import literal
from tui_desk.ui.triage import PROMPT_CSS

if TYPE_CHECKING:
    from tui_desk.ui.app_base import DeskAppBase

REFRESH = 2.0  # seconds
NEEDS_AGENT = ("failed", "maybe_sent", "held")
CUSTOMER_CELLS = 16  # the customer's column at most
SUBJECT_FLOOR = 14  # cells the subject keeps beside a long state (a server's words are cut first)


def next_try_text(entry: OutboxEntry, now: dt.datetime) -> str:
    """When a retrying reply is tried again, in the desk's zone: "9:10", or "now" (due)."""
    if entry.next_try is None or entry.next_try <= now:
        return "now"
    return format_when(entry.next_try, now)


def _at(when: str) -> str:
    """"at 9:14" for a time today, "Fri 9:00" / "Nov 27" for another day."""
    return when if " " in when or ":" not in when else f"at {when}"


def state_text(entry: OutboxEntry, now: dt.datetime) -> tuple[str, str]:
    """(what happens next, its style): "sends at 9:14", "sends Fri 9:00", "sends now",
    "sending", "retry 2 at 9:20: <error>", "held: <why>", "failed: <error>", "maybe sent"."""
    error = entry.error or ""
    if entry.retrying:  # the time that matters is the next try, not when it was first due
        next_try = next_try_text(entry, now)
        when = "now" if next_try == "now" else _at(next_try)
        return f"retry {entry.attempts} {when}{': ' + error if error else ''}", "bold $text-warning"
    if entry.state == "queued" and entry.needs_fix:
        return error, "bold $text-error"
    if entry.state == "queued":
        return ("sends now" if entry.send_at <= now else f"sends {_at(format_when(entry.send_at, now))}",
                "$text-primary")
    if entry.state == "held":
        return (error if error.startswith("held") else f"held: {error}" if error else "held"), "bold $text-warning"
    if entry.state == "failed":
        return f"failed: {error}" if error else "failed", "bold $text-error"
    return {"sending": ("sending", "bold $text-warning"), "sent": ("sent, filing in Sent", "$text-success"),
            "maybe_sent": ("maybe sent", "bold $text-warning")}.get(entry.state, (entry.state, "bold"))


def row_labels(entries: list[OutboxEntry], now: dt.datetime, width: int) -> list[Content]:
    """One line each, ``width`` cells at most, in columns: "#13 Ann Lee  Re: Refund…  sends at 9:14".
    The customer is cut to its column, then the subject to what the state leaves it; a long
    state (the server's words) is cut before the subject goes under SUBJECT_FLOOR."""
    if not entries:
        return []
    convs = [f"#{e.conv_id}" if e.conv_id is not None else "" for e in entries]
    states = [state_text(e, now) for e in entries]
    conv_cells = max(cell_len(c) for c in convs)
    customer_cells = min(CUSTOMER_CELLS, max(cell_len(e.customer) for e in entries))
    rest = width - conv_cells - 1 - customer_cells - 1
    floor = min(SUBJECT_FLOOR, max(cell_len(e.subject) for e in entries))
    state_cells = max(0, min(max(cell_len(text) for text, _ in states), rest - floor - 1))
    subject_cells = rest - state_cells - 1
    return [Content.assemble((fit(conv, conv_cells), "bold"), " ", fit(e.customer, customer_cells), " ",
                             fit(e.subject, subject_cells), " ", (fit(text, state_cells), style))
            for conv, e, (text, style) in zip(convs, entries, states)]


def mail_text(mail: OutboxMail) -> Content:
    """The reply as the customer gets it: its headers, then its text (plain, never markup)."""
    head: list[str | tuple[str, str]] = [("To: ", "bold"), mail.to]
    if mail.cc:
        head += ["\n", ("Cc: ", "bold"), mail.cc]
    head += ["\n", ("Subject: ", "bold"), mail.subject]
    for name in mail.attachments:
        head += ["\n", ("Attached: ", "bold"), name]
    return Content.assemble(*head, "\n\n", mail.text or "(no text)")


def retrying_note(entry: OutboxEntry, now: dt.datetime) -> str:
    """"Try 5 failed: <the server's words, one line>. Next try 9:10; s tries now, c edits it."""
    error = f": {entry.error}" if entry.error else ""
    next_try = next_try_text(entry, now)
    when = "now" if next_try == "now" else f"at {next_try}"
    return f"Try {entry.attempts} failed{error}. Next try {when}; s tries now, c edits it."


def waiting_line(conv: ConversationView, entries: list[OutboxEntry], pending_id: int | None,
                 now: dt.datetime) -> str | None:
    """What the compose screen says while a reply to ``conv`` is still in the outbox (a second
    one would mail the customer twice): "a reply to #13 is waiting to be sent at 9:14 (u undoes;
    O shows it)", "a reply to #13 is scheduled for Dec 8 09:00 (O shows it)"; None when there is none.
    ``pending_id``: the reply that u takes back (the last one queued)."""
    waiting = [e for e in entries if e.conv_id == conv.id]
    if not waiting:
        return None
    first = waiting[0]  # the outbox lists the soonest first
    if first.retrying:
        line = f"a reply to #{conv.id} is retrying: the server could not take it (next try {next_try_text(first, now)})"
    elif first.state == "queued" and conv.scheduled_reply_at is not None and first.send_at >= conv.scheduled_reply_at:
        line = f"a reply to #{conv.id} is scheduled for {format_datetime_short(first.send_at, now)}"
    elif first.state == "queued":
        line = f"a reply to #{conv.id} is waiting to be sent at {format_when(first.send_at, now)}"
    elif first.state in ("sending", "sent"):
        line = f"a reply to #{conv.id} is being sent now"
    else:
        line = f"a reply to #{conv.id} is in the outbox, {state_text(first, now)[0]}"
    more = f"; {len(waiting) - 1} more" if len(waiting) > 1 else ""
    undo = "u undoes; " if first.id == pending_id and first.state == "queued" else ""
    return f"{line}{more} ({undo}O shows it)"


class OutboxScreen(ModalScreen[int | None]):
    """Dismissed with the conversation whose reply went back to its draft (c), else None. A bulk
    follow-up's mail goes to no draft (desk.followup.cancel_send): the outbox stays, for the next."""

    BINDINGS = [
        # priority: before the list's own Enter (select), which does nothing here
        Binding("enter", "read", "Read", tooltip="Show the reply's text; Enter again hides it", priority=True),
        Binding("c,delete", "cancel_send", "Cancel send",
                tooltip="Cancel it: the text goes back to the draft, opened to edit "
                        "(a follow-up's mail: to no draft; run the follow-up again)"),
        Binding("n", "send_now", "Send now", tooltip="A scheduled reply goes on the outbox's next pass"),
        Binding("s", "send_anyway", "Send anyway",
                tooltip="A held, failed or maybe-sent reply goes (again); a retrying one is tried now"),
        Binding("d", "discard", "Discard", tooltip="Drop a held, failed or maybe-sent reply (press twice)"),
        Binding("escape,O", "close", "Close"),
        # priority: the text shown scrolls, before the list pages
        Binding("pageup", "scroll_text(-1)", "Scroll the text up", show=False, priority=True),
        Binding("pagedown", "scroll_text(1)", "Scroll the text down", show=False, priority=True),
    ]
    DEFAULT_CSS = "OutboxScreen {" + PROMPT_CSS + """
        & > #prompt { width: 90; }
        & #outbox-list { height: auto; max-height: 12; border: none; padding: 0; background: transparent; }
        & #outbox-text { height: auto; max-height: 16; padding: 0 1; border-left: tall $primary;
                         scrollbar-size-vertical: 1; }
        & #outbox-body { height: auto; }
    }"""
    app: "DeskAppBase"

    def __init__(
        self,
        load: Callable[[], Awaitable[list[OutboxEntry]]],
        cancel: Callable[[int], Awaitable[str]],
        clock: Callable[[], dt.datetime],
        send_anyway: Callable[[int], Awaitable[str]] | None = None,
        discard: Callable[[int], Awaitable[str]] | None = None,
        send_now: Callable[[int], Awaitable[str]] | None = None,
        read: Callable[[int], Awaitable[OutboxMail]] | None = None,
        has_draft: Callable[[int], Awaitable[bool]] | None = None,
    ) -> None:
        """``read``: one reply as the customer gets it (by default the app's desk.outbox_mail)."""
        super().__init__(id="outbox-screen")
        self.read = read
        self.load = load
        self.cancel = cancel
        self.send_anyway = send_anyway
        self.discard = discard
        self.send_now = send_now
        self.has_draft = has_draft  # of a conversation: after c, is there a draft to open?
        self.clock = clock
        self.entries: list[OutboxEntry] = []
        self._discard_armed: int | None = None  # outbox id: the next d discards it
        self._reading: int | None = None  # outbox id whose text shows (Enter)
        self._mail: dict[int, OutboxMail] = {}  # outbox id -> its mail: fixed when it was queued

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt") as box:
            box.border_title = "Outbox"
            box.border_subtitle = "⏎ read · c back to the draft · n send now · s send anyway · d discard · Esc"
            yield OptionList(id="outbox-list", markup=False)
            with VerticalScroll(id="outbox-text", can_focus=False):
                yield Static("", id="outbox-body")
            yield Static("", id="prompt-note")

    async def on_mount(self) -> None:
        self.query_one("#outbox-text", VerticalScroll).display = False
        await self.reload()
        self.call_after_refresh(self._draw_rows)  # at the width the list got
        self.set_interval(REFRESH, self.reload)
        self.set_focus(self.query_one("#outbox-list"))

    async def reload(self) -> None:
        try:
            entries = await self.load()
        except Exception as exc:  # noqa: BLE001 - said on screen, never a crash
            self.set_note(f"Could not read the outbox: {exc}", error=True)
            return
        # the reply highlighted now, after the read: a key moved it meanwhile (the keys run
        # beside this reload), and the list stays on it
        current = self._current()
        self.entries = entries
        self._draw_rows()
        if not entries:
            self._show_text(None)
            self.set_note("Nothing on its way.")
            return
        ids = [e.id for e in entries]
        self.query_one("#outbox-list", OptionList).highlighted = (
            ids.index(current.id) if current is not None and current.id in ids else 0)
        self._show_detail()

    def _draw_rows(self) -> None:
        options = self.query_one("#outbox-list", OptionList)
        # before the first layout the list has no width yet: the box's, less its border and padding
        width = options.scrollable_content_region.width or min(86, self.app.size.width * 95 // 100 - 4)
        index = options.highlighted
        options.set_options(Option(label) for label in row_labels(self.entries, self.clock(), width))
        if index is not None and index < len(self.entries):
            options.highlighted = index

    def on_resize(self) -> None:
        self._draw_rows()  # the rows are cut to the list's width

    @on(OptionList.OptionHighlighted, "#outbox-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show_detail()

    def _current(self) -> OutboxEntry | None:
        index = self.query_one("#outbox-list", OptionList).highlighted
        return self.entries[index] if index is not None and index < len(self.entries) else None

    def _show_detail(self) -> None:
        entry = self._current()
        self._show_text(entry if entry is not None and entry.id == self._reading else None)
        if entry is None:
            return
        if entry.retrying:
            self.set_note(retrying_note(entry, self.clock()), error=True)
        elif entry.state == "held" and entry.error:
            self.set_note(f"{entry.error}. s sends it, c edits it, d d discards it.", error=True)
        elif entry.error:
            self.set_note(f"Server said: {entry.error}", error=entry.state == "failed")
        elif entry.state == "maybe_sent":
            self.set_note("tui-desk stopped while sending: it may have gone out. Cancel keeps it as a draft.")
        else:
            self.set_note("")

    def _show_text(self, entry: OutboxEntry | None) -> None:
        box = self.query_one("#outbox-text", VerticalScroll)
        mail = self._mail.get(entry.id) if entry is not None else None
        box.display = mail is not None
        if mail is not None:
            self.query_one("#outbox-body", Static).update(mail_text(mail))  # plain parts, never markup

    async def action_read(self) -> None:
        """Enter: the highlighted reply as the customer gets it; Enter again hides it."""
        entry = self._current()
        if entry is None or self._reading == entry.id:
            self._reading = None
            self._show_text(None)
            return
        if entry.id not in self._mail:
            read = self.read or (await self.app.desk_opened()).outbox_mail
            try:
                self._mail[entry.id] = await read(entry.id)
            except Exception as exc:  # noqa: BLE001 - gone meanwhile (sent, cancelled): said, never a crash
                self.set_note(str(exc), error=True)
                return
        self._reading = entry.id
        self._show_text(entry)
        self.query_one("#outbox-text", VerticalScroll).scroll_home(animate=False)

    def action_scroll_text(self, pages: int) -> None:
        box = self.query_one("#outbox-text", VerticalScroll)
        if box.display:
            (box.scroll_page_down if pages > 0 else box.scroll_page_up)(animate=False)
        else:
            options = self.query_one("#outbox-list", OptionList)
            (options.action_page_down if pages > 0 else options.action_page_up)()

    def set_note(self, text: str, *, error: bool = False) -> None:
        note = self.query_one("#prompt-note", Static)
        note.set_class(error, "-error")
        note.update(literal(text))  # desk lines, servers' words, exceptions: sanitized, never markup

    async def action_cancel_send(self) -> None:
        entry = self._current()
        if entry is None:
            return
        try:
            said = await self.cancel(entry.id)
        except ValueError as exc:
            self.set_note(str(exc), error=True)
            return
        except Exception as exc:  # noqa: BLE001 - said on screen, never a crash
            self.set_note(f"Could not cancel: {exc}", error=True)
            return
        self.notify(said, timeout=4, markup=False)
        if entry.conv_id is not None and (self.has_draft is None or await self.has_draft(entry.conv_id)):
            self.dismiss(entry.conv_id)  # the app opens the draft in the compose screen
            return
        await self.reload()

    async def _decide(self, action: Callable[[int], Awaitable[str]] | None, entry: OutboxEntry) -> None:
        if action is None:
            return
        try:
            said = await action(entry.id)
        except Exception as exc:  # noqa: BLE001 - ValueError carries the user's message
            self.set_note(str(exc), error=True)
            return
        self.notify(said, timeout=4, markup=False)
        await self.reload()

    async def action_send_now(self) -> None:
        entry = self._current()
        if entry is None:
            return
        if entry.state in NEEDS_AGENT:
            self.set_note("This reply waits for you: s sends it anyway, c edits it, d d discards it.")
            return
        if entry.state != "queued":
            self.set_note("It is on its way already.")
            return
        await self._decide(self.send_now, entry)

    async def action_send_anyway(self) -> None:
        entry = self._current()
        if entry is not None and entry.retrying:  # try now: due at once, the outbox's next pass
            await self._decide(self.send_now, entry)
            return
        if entry is None or entry.state not in NEEDS_AGENT:
            self.set_note("Only a held, failed, maybe-sent or retrying reply waits for you to send it; "
                          "n sends a scheduled one now.")
            return
        await self._decide(self.send_anyway, entry)

    async def action_discard(self) -> None:
        entry = self._current()
        if entry is None or entry.state not in NEEDS_AGENT:
            self.set_note("Only a held, failed or maybe-sent reply can be discarded; c cancels a queued one.")
            return
        if self._discard_armed != entry.id:  # the text would be gone: ask once more
            self._discard_armed = entry.id
            self.set_note("Press d again to discard this reply for good (c keeps it as a draft).", error=True)
            return
        self._discard_armed = None
        await self._decide(self.discard, entry)

    def action_close(self) -> None:
        self.dismiss(None)
