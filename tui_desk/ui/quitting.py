"""Quitting with a reply still in its undo window: never dropped without a word.

The app's quit key asks first when the outbox holds a reply about to go (ui/app.py,
DeskApp.action_quit): Enter sends it now and quits (the default), l quits and leaves it in the
outbox (it goes the next time tui-desk runs or syncs; in the demo, whose store is deleted on
exit, it is dropped, and the line says so), Esc stays. Sending shows its progress here; the
line run_app prints after the screen is gone says how it went.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui_desk.desk.timefmt import format_when
from tui_desk.desk.views import OutboxEntry
from tui_desk.ui.triage import PROMPT_CSS


def replies(n: int) -> str:
    return "1 reply" if n == 1 else f"{n} replies"


def own_waiting(entries: list[OutboxEntry], soon: dt.datetime) -> list[OutboxEntry]:
    """What the quit question is about: this desk's own queued replies due by ``soon`` (the end
    of the longest undo window), retrying ones too. A teammate's (their app shares this store)
    are theirs to decide; held, failed and maybe-sent ones wait for O, quitting or not."""
    return [e for e in entries if e.mine and e.state == "queued" and e.send_at <= soon]


def waiting_line(waiting: list[OutboxEntry], now: dt.datetime) -> str:
    """"1 reply is waiting to be sent (to X, in 8 s)." (recipients are sanitized already); when
    all of them are retrying (the server could not take them): "(to X; retrying, next try 9:10)"."""
    who = ", ".join(dict.fromkeys(r for e in waiting for r in e.recipients))
    verb = "is" if len(waiting) == 1 else "are"
    if all(e.retrying for e in waiting):
        tries = [e.next_try for e in waiting if e.next_try is not None and e.next_try > now]
        when = f"next try {format_when(min(tries), now)}" if tries else "trying now"
        return f"{replies(len(waiting))} {verb} waiting to be sent (to {who}; retrying, {when})."
    seconds = max(0, round(min(e.send_at for e in waiting if not e.retrying).timestamp() - now.timestamp()))
    return f"{replies(len(waiting))} {verb} waiting to be sent (to {who}, in {seconds} s)."


class QuitScreen(ModalScreen[None]):
    """"1 reply is waiting to be sent (to X, in 8 s)": Enter send now and quit, l leave it, Esc stay."""

    DEFAULT_CSS = "QuitScreen {" + PROMPT_CSS + """
    & #prompt { width: auto; min-width: 40; }
    & #quit-text { width: auto; max-width: 100%; margin: 1 1 0 1; }
    & #quit-keys { width: auto; max-width: 100%; margin: 1 1 0 1; color: $text-muted; }
    }"""

    BINDINGS = [
        Binding("enter,s", "send", "Send now and quit", show=False),
        Binding("l", "leave", "Quit, leave it in the outbox", show=False),
        Binding("escape,c", "stay", "Cancel", show=False),
    ]

    def __init__(self, waiting: str, count: int, *, send_and_quit: Callable[[], Awaitable[str]],
                 temporary_store: bool = False) -> None:
        """``waiting``: the one line saying what waits (plain text: it holds addresses);
        ``send_and_quit``: ends the undo window, lets the outbox deliver and returns the line
        to print once the app has gone."""
        super().__init__(id="quit")
        self.waiting = waiting
        self.count = count
        self.send_and_quit = send_and_quit
        self.temporary_store = temporary_store
        self.sending = False

    def leave_words(self) -> str:
        """Short: the dialog is read at 80 columns too."""
        if self.temporary_store:
            return f"quit and drop {'it' if self.count == 1 else 'them'} (the demo's mailbox is deleted on exit)"
        return f"quit; {'it stays' if self.count == 1 else 'they stay'} in the outbox, sent at the next start or sync"

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt") as box:
            box.border_title = "Quit"
            yield Static(Content.assemble((self.waiting, "bold")), id="quit-text")
            key = "bold $text-primary"
            yield Static(
                Content.assemble(("Enter", key), " send now and quit\n", ("l", "bold"), f" {self.leave_words()}\n",
                                 ("Esc", "bold"), " cancel"),
                id="quit-keys",
            )

    def action_send(self) -> None:
        if self.sending:
            return
        self.sending = True
        self.query_one("#quit-text", Static).update(
            Content(f"Sending {replies(self.count)} before quitting…"))
        self.query_one("#quit-keys", Static).update(Content("Quitting as soon as the outbox has tried."))
        self._send()

    @work(group="quit-send", exit_on_error=False)
    async def _send(self) -> None:
        line = await self.send_and_quit()
        self.app.exit(message=line)

    def action_leave(self) -> None:
        if self.sending:
            return
        it = "it goes" if self.count == 1 else "they go"
        if self.temporary_store:
            line = f"tui-desk demo: {replies(self.count)} waiting to be sent dropped with the demo's mailbox"
        else:
            line = f"tui-desk: {replies(self.count)} left in the outbox; {it} the next time tui-desk runs or syncs"
        self.app.exit(message=line)

    def action_stay(self) -> None:
        if not self.sending:
            self.dismiss(None)
