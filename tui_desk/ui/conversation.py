"""The conversation pane: one thread, oldest first, opened at the newest (at the bottom, with
the customer's other conversations listed below it).

Everything from mail is put on screen as ``Content(text)`` (plain text), never as markup: a
subject such as ``[bold]x[/]`` must show its brackets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tui_desk.desk.markers import state_markers
from tui_desk.desk.timefmt import format_age, format_datetime_short
from tui_desk.desk.views import AUTO_REPLY, ActionLine, AttachmentView, ConversationView, MessageView, TextBlock
from tui_desk.ui.note_markdown import markdown_content

FOLD_MARK = "▸"
STATUS_STYLES = {
    "open": "bold $text-success",
    "pending": "bold $text-warning",
    "closed": "bold $text-muted",
    "spam": "bold $text-error",
}
OPEN_MARK = "▾"


def human_size(size: int) -> str:
    """1536 -> "1.5 KB" (powers of 1024, as file managers show them)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            if unit == "B":
                return f"{int(value)} B"
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def plain(text: str) -> Content:
    """Mail text as literal content: no markup, tabs expanded."""
    return Content(text).expand_tabs(4)


def renew(static: Static, content: Content) -> None:
    """``content`` on ``static`` unless it shows that already: a tick of the clock repaints
    only the texts it changed."""
    shown = static.content
    if isinstance(shown, Content) and shown.plain == content.plain and shown.spans == content.spans:
        return
    static.update(content)


def split_sender(sender: str) -> tuple[str, str]:
    """("Name", "addr") from the desk's "Name <addr>" (parseaddr would mangle odd names)."""
    sender = sender.strip()
    if sender.endswith(">") and "<" in sender:
        name, _, addr = sender[:-1].rpartition("<")
        return name.strip().strip('"').strip(), addr.strip()
    return "", sender


def addresses(field: str) -> set[str]:
    from email.utils import getaddresses  # here: email.utils (calendar, email.charset…) cost the start ~2 ms
    return {addr.lower() for _, addr in getaddresses([field]) if addr}


class QuotedBlock(Static):
    """A quoted part of an earlier message, folded to one dim line until expanded."""

    DEFAULT_CSS = """
    QuotedBlock {
        color: $text-muted;
        padding: 0 0 0 1;
        &:hover { background: $boost; }
    }
    """

    def __init__(self, block: TextBlock) -> None:
        self.text = block.text.rstrip("\n")
        self.line_count = self.text.count("\n") + 1
        self.expanded = False
        super().__init__(self._content(), classes="-folded")

    def _content(self) -> Content:
        if self.expanded:
            head = Content.styled(f"{OPEN_MARK} {self.line_count} quoted lines (x folds)", "italic")
            return Content.assemble(head, "\n", plain(self.text))
        noun = "line" if self.line_count == 1 else "lines"
        return Content.styled(f"{FOLD_MARK} {self.line_count} quoted {noun}", "italic")

    def set_expanded(self, expanded: bool) -> None:
        self.expanded = expanded
        self.set_class(not expanded, "-folded")
        self.update(self._content())

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.set_expanded(not self.expanded)


class MessageBox(Vertical):
    """One message: compact header, text, folded quotes, attachments, defects."""

    DEFAULT_CSS = """
    MessageBox {
        height: auto;
        margin: 0 0 1 0;
        padding: 0 1;
        border-left: outer $primary;
        &.-agent {
            border-left: outer $success;
            background: $boost;
        }
        /* internal notes must never be mistaken for mail the customer saw */
        &.-note {
            border-left: thick $warning;
            background: $warning 12%;
        }
        & > .message--header {
            height: 1;
            & > .message--sender { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
            & > .message--date { width: auto; color: $text-muted; padding: 0 0 0 2; }
        }
        & > .message--to { color: $text-muted; }
        & > .message--text { color: $text; }
        & > .message--attachment { color: $text-accent; }
        & > .message--defect { color: $text-warning; text-style: dim; }
    }
    """

    def __init__(self, message: MessageView, *, usual: set[str], now: dt.datetime) -> None:
        super().__init__(classes="-note" if message.is_note else "-agent" if message.from_agent else "-customer")
        self.message = message
        self.usual = usual
        self.now = now
        self._date: Static | None = None
        self._sender: Static | None = None
        self._narrow = 0  # how much the header is shortened to fit (on_resize)

    def _when(self) -> Content:
        assert self.message.date is not None
        age = format_age(self.message.date, self.now)
        return Content(age if self._narrow >= 1 else f"{format_datetime_short(self.message.date, self.now)} · {age}")

    def _who(self) -> Content:
        m = self.message
        name, addr = split_sender(m.sender)
        who = name or addr or "(unknown sender)"
        label: tuple[str, str] | str = ""
        if m.is_note:
            label = (" · NOTE" if self._narrow >= 2 else " · INTERNAL NOTE", "bold $text-warning")
        elif m.from_agent:
            label = (" · agent", "bold $text-success")
        # sent by a machine (the desk's acknowledgement, an out-of-office): nobody's turn
        auto = (f" · {AUTO_REPLY}", "italic $text-secondary") if m.auto_submitted else ""
        return Content.assemble((who, "bold"), label, auto)

    def follow_clock(self, now: dt.datetime) -> None:
        """Its date and age against ``now``."""
        self.now = now
        if self._date is not None:
            renew(self._date, self._when())

    def on_resize(self) -> None:
        """Too narrow for the sender, what it is and the date and age whole (80 columns): the
        date goes first (the age says when), then "INTERNAL NOTE" says "NOTE"; the name last."""
        width = self.content_region.width
        narrow = 0
        while narrow < 2 and self._header_cells(narrow) > width:
            narrow += 1
        if narrow != self._narrow:
            self._narrow = narrow
            if self._sender is not None:
                renew(self._sender, self._who())
            if self._date is not None:
                renew(self._date, self._when())

    def _header_cells(self, narrow: int) -> int:
        was, self._narrow = self._narrow, narrow
        try:
            when = self._when().cell_length + 2 if self._date is not None else 0  # its padding
            return self._who().cell_length + when
        finally:
            self._narrow = was

    def compose(self) -> ComposeResult:
        m = self.message
        with Horizontal(classes="message--header"):
            self._sender = Static(self._who(), classes="message--sender")
            yield self._sender
            if m.date is not None:
                self._date = Static(self._when(), classes="message--date")
                yield self._date
        extra = (addresses(m.to) | addresses(m.cc)) - self.usual
        if extra:
            parts: list[str | tuple[str, str]] = []
            if m.to:
                parts += [("To: ", "bold"), m.to]
            if m.cc:
                parts += ["  " if m.to else "", ("Cc: ", "bold"), m.cc]
            yield Static(Content.assemble(*parts), classes="message--to")
        for block in m.blocks:
            if block.quoted:
                yield QuotedBlock(block)
            elif block.text.strip():
                text = block.text.strip("\n")
                yield Static(markdown_content(text) if m.is_note else plain(text), classes="message--text")
        for attachment in m.attachments:
            yield Static(self._attachment(attachment), classes="message--attachment")
        if m.defects:
            yield Static(
                Content.assemble(("Malformed mail: ", "bold"), ", ".join(m.defects)),
                classes="message--defect",
            )

    @staticmethod
    def _attachment(a: AttachmentView) -> Content:
        return Content.assemble(
            ("+ ", "bold"),  # not an emoji: their width varies between terminals
            (a.filename or "(no name)", "bold"),
            (f"  {a.content_type}, {human_size(a.size)}", "$text-muted"),
        )


class ActionLineStatic(Static):
    """What a rule or an incident did: a quiet line between the messages (sanitized by the desk)."""

    def __init__(self, action: ActionLine, now: dt.datetime) -> None:
        self.action = action
        super().__init__(self._content(now), classes="thread--action")

    def _content(self, now: dt.datetime) -> Content:
        return Content.assemble(("· ", "bold"), f"{format_datetime_short(self.action.at, now)}  ", self.action.text)

    def follow_clock(self, now: dt.datetime) -> None:
        renew(self, self._content(now))


class ThreadView(VerticalScroll, can_focus=True):
    """The scrolling list of messages."""

    BINDINGS = [
        Binding("j,down", "scroll_down", "Scroll down", show=False),
        Binding("k,up", "scroll_up", "Scroll up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("g,home", "scroll_home", "Top of thread", show=False),
        Binding("G,end", "scroll_end", "End of thread", show=False),
        Binding("x", "toggle_quotes", "Quoted text", tooltip="Fold or unfold quoted text"),
    ]

    DEFAULT_CSS = """
    ThreadView {
        scrollbar-size-vertical: 1;
        /* the scrollbar's column is kept even when no scrollbar shows: a scrollbar that appears
           once the messages are laid out would narrow them, rewrap their text and move the
           newest message after scroll_to_newest placed it */
        scrollbar-gutter: stable;
        & > .thread--empty { color: $text-muted; padding: 1 1; }
    }
    """

    def scroll_to_newest(self) -> None:
        """The newest message whole on screen (from its header when it is taller than the pane),
        older mail above it and what follows it (the customer's other conversations) below."""
        boxes = self.query(MessageBox)
        if not boxes:
            self.scroll_home(animate=False)
            return
        newest = boxes.last()
        region = newest.virtual_region
        bottom = region.bottom + newest.styles.margin.bottom
        self._newest_y = max(0, min(region.y, bottom - self.scrollable_content_region.height))
        self.scroll_to(y=self._newest_y, animate=False)

    _newest_y: int | None = None  # where scroll_to_newest put the view

    def on_resize(self) -> None:
        # The pane changed size (the terminal, or the header above taking another line): still
        # where scroll_to_newest put it (nobody scrolled since), so put it there again.
        if self._newest_y is not None and round(self.scroll_y) == self._newest_y:
            self.call_after_refresh(self.scroll_to_newest)

    def action_toggle_quotes(self) -> None:
        """Expand every folded quote, or fold them all when none is folded."""
        quotes = list(self.query(QuotedBlock))
        expand = any(not q.expanded for q in quotes)
        for quote in quotes:
            quote.set_expanded(expand)


PICK_ONE = "Pick a conversation in the queue and press Enter."
NOTHING_TO_PICK = "Nothing to open: the queue is empty."


class ConversationPane(Vertical):
    """Subject line on top, the thread below."""

    DEFAULT_CSS = """
    ConversationPane {
        & > .conv-header {
            height: 1;
            padding: 0 1;
            text-wrap: nowrap;
            text-overflow: ellipsis;
        }
        & .thread--history { margin: 0 0 1 0; padding: 0 1; border-left: outer $accent; height: auto; }
        & .thread--action { margin: 0 0 1 0; padding: 0 1 0 2; color: $text-muted; height: auto; }
        & > #conv-meta {
            color: $text-muted;
            border-bottom: solid $foreground 20%;
            height: 2;
        }
    }
    """

    def __init__(
        self, *, clock: Callable[[], dt.datetime], id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._clock = clock
        self.conversation: ConversationView | None = None
        # (conversation, header width, form): how the header says the state (0 whole, 1 short,
        # 2 tight: _show_header), kept while that conversation is open at that width
        self._state_form: tuple[int, int, int] | None = None
        self._thread: ThreadView | None = None  # see thread
        self._queue_empty = False

    def compose(self) -> ComposeResult:
        yield Static(
            Content.styled("No conversation open", "$text-muted"), id="conv-subject", classes="conv-header"
        )
        yield Static("", id="conv-meta", classes="conv-header")

    def on_mount(self) -> None:
        self.call_after_refresh(lambda: self.is_attached and self.thread)

    def queue_emptied(self, empty: bool) -> None:
        """The text shown while nothing is open says what is true of the queue beside it."""
        self._queue_empty = empty
        for hint in self.query(".thread--empty").results(Static):
            hint.update(Content(NOTHING_TO_PICK if empty else PICK_ONE))

    @property
    def thread(self) -> ThreadView:
        """Mounted a frame after the first, the queue's (~5 ms of it at 100k), or when first
        wanted (Tab, a conversation opened): in the DOM at once, keys typed meanwhile reach it."""
        if self._thread is None:
            hint = Static(Content(NOTHING_TO_PICK if self._queue_empty else PICK_ONE), classes="thread--empty")
            self._thread = ThreadView(hint, id="thread")
            self.mount(self._thread)
        return self._thread

    async def show_note(self, text: str) -> None:
        """A one-line note instead of a thread (not found, failed to load)."""
        self.conversation = None
        self.query_one("#conv-subject", Static).update(Content.styled(text, "$text-muted"))
        self.query_one("#conv-meta", Static).update("")
        thread = self.thread
        await thread.remove_children()

    async def show(self, conv: ConversationView, *, keep_place: bool = False) -> None:
        """Show ``conv`` from its newest message; ``keep_place`` (after a triage action on the
        open conversation) renews the header and leaves the thread, its scroll and folds be."""
        same_thread = (
            keep_place
            and self.conversation is not None
            and self.conversation.id == conv.id
            and [m.id for m in self.conversation.messages] == [m.id for m in conv.messages]
            and self.conversation.actions == conv.actions
        )
        self.conversation = conv
        if same_thread:
            self._show_header(conv)
            return
        self._show_header(conv)
        usual = self._usual_addresses(conv)
        thread = self.thread
        with self.app.batch_update():
            await thread.remove_children()
            now = self._clock()
            await thread.mount_all([ActionLineStatic(a, now) if isinstance(a, ActionLine) else
                                    MessageBox(a, usual=usual, now=now) for a in conv.in_time_order()])
            if conv.history:
                await thread.mount(Static(self._history(conv), classes="thread--history"))
        thread.call_after_refresh(thread.scroll_to_newest)  # once the new messages are laid out

    def follow_clock(self) -> None:
        """The times on show against the clock again, as the queue's ages are: the header's
        markers (SLA due or breached, snoozed until), each message's date and age, the action
        lines' and the other conversations' dates. From the conversation already shown: the
        store is not asked, and only the texts that changed are repainted."""
        conv = self.conversation
        if conv is None:
            return
        now = self._clock()
        self._show_header(conv)
        for item in self.thread.query(".thread--action, MessageBox, .thread--history"):
            if isinstance(item, (MessageBox, ActionLineStatic)):
                item.follow_clock(now)
            elif isinstance(item, Static):
                renew(item, self._history(conv))

    def _history(self, conv: ConversationView) -> Content:
        """The customer's (and their company's) other conversations; h jumps to one."""
        now = self._clock()
        parts: list[str | tuple[str, str]] = [("Other conversations of this customer", "bold"), ("  (h opens one)", "$text-muted")]
        for h in conv.history:
            when = format_datetime_short(h.last_date, now) if h.last_date else ""
            parts += ["\n", (f"#{h.id} ", "bold"), (h.status, STATUS_STYLES.get(h.status, "bold")),
                      (f"  {when}  ", "$text-muted"), h.subject or "(no subject)",
                      ("" if h.same_person else "  (same company)", "$text-muted")]
        return Content.assemble(*parts)

    def _show_header(self, conv: ConversationView) -> None:
        tags = " ".join(f"#{t}" for t in conv.tags)
        count = len(conv.messages)
        renew(self.query_one("#conv-subject", Static), Content.styled(conv.subject or "(no subject)", "bold"))
        first = next((m for m in conv.messages if not m.from_agent), None)
        addr = split_sender(first.sender)[1] if first else ""
        # a teammate replying comes first (two answers to one customer is the costly mistake),
        # then status and tags: they are what triage changes, and the line is cut on the right
        replying = ""
        if conv.replying:
            replying = f"✎ {' and '.join(conv.replying)} {'is' if len(conv.replying) == 1 else 'are'} replying"
        now = self._clock()
        meta = self.query_one("#conv-meta", Static)
        width = meta.content_region.width

        def line(state: tuple[str, ...], addr: str, count: int | None, *, rest: bool = True,
                 replying: str = replying, tags: str = tags) -> Content:
            return Content.assemble(
                (replying, "bold $text-warning"),
                " · " if replying else "",
                (conv.status, STATUS_STYLES.get(conv.status, "bold")),
                (f" · {' · '.join(state)}", "$text-secondary") if state else "",
                *((f" · {tags}" if tags else "",
                   " · ",
                   (conv.customer, "$text-accent"),
                   f" <{addr}>" if addr and addr != conv.customer else "",
                   f" · {count} message{'s' if count != 1 else ''}" if count is not None else "") if rest else ()),
            )

        # Too narrow for all (80 columns, the pane beside the queue): the less important parts
        # go first (the count, the address), then the state takes a shorter form (the SLA
        # target's name, the owner's last name go: "breached 19h 54m", then "⚠19h54m"), until
        # the line fits, or at least who is replying, the status and the state read whole (the
        # tags and the customer after them are cut on the right). The form is chosen from what
        # stays while the conversation is open (its status, state and customer; the first form
        # that reads whole beside the status if none goes with the customer), not from its
        # tags or a teammate replying, and kept while it is open at this width: it goes shorter
        # only when the state no longer fits, never back, so the header does not switch forms
        # as tags come and go or the clock moves on.
        forms = (state_markers(conv, now, roomy=True), state_markers(conv, now), state_markers(conv, now, tight=True))
        form = 0
        if width:
            kept = self._state_form
            if kept is not None and kept[:2] == (conv.id, width):
                form = kept[2]
            else:
                form = next((f for f, state in enumerate(forms)
                             if line(state, "", None, replying="", tags="").cell_length <= width),
                            next((f for f, state in enumerate(forms)
                                  if line(state, "", None, rest=False, replying="").cell_length <= width),
                                 len(forms) - 1))
            while form < len(forms) - 1 and line(forms[form], "", None, rest=False).cell_length > width:
                form += 1
            if any(forms):  # nothing to say yet (no target, no owner): no form chosen
                self._state_form = (conv.id, width, form)
        variants = [(addr, count), (addr, None), ("", None)] if form == 0 else [("", None)]
        chosen = next((v for v in variants if not width or line(forms[form], *v).cell_length <= width), variants[-1])
        renew(meta, line(forms[form], *chosen))

    def on_resize(self) -> None:
        self.call_after_refresh(self._renew_header)  # the header's own width is laid out by then

    def _renew_header(self) -> None:
        if self.conversation is not None:
            self._show_header(self.conversation)

    @staticmethod
    def _usual_addresses(conv: ConversationView) -> set[str]:
        """Who is normally on a message of this thread: the customer and the desk.

        To/Cc are shown only when somebody else is there too (a colleague cc'd, a second
        mailbox), which is what an agent needs to notice before replying.
        """
        usual: set[str] = set()
        first = next((m for m in conv.messages if not m.from_agent), None)
        if first is not None:
            usual |= addresses(first.sender)
            to = addresses(first.to)
            if len(to) == 1:  # the desk's own address
                usual |= to
        for m in conv.messages:
            if m.from_agent:
                usual |= addresses(m.sender)
        return usual
