"""Small modal screens over the queue that change nothing themselves: confirm (close several,
spam, merge), why-here (every reason of a conversation) and the saved-view picker. The
prompts that take input are ui/triage.py."""

from __future__ import annotations

import datetime as dt

from rich.cells import cell_len
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui_desk.desk.markers import state_words
from tui_desk.desk.views import QueueRow
from tui_desk.ui.triage import PROMPT_CSS


class ConfirmScreen(ModalScreen[bool]):
    """"Close 12 conversations?" — y or Enter goes ahead, n or Esc does not."""

    DEFAULT_CSS = "ConfirmScreen {" + PROMPT_CSS + """
    & #prompt { width: auto; min-width: 40; }
    & #confirm-text { width: auto; max-width: 100%; margin: 1 1 0 1; }
    & #confirm-keys { width: auto; margin: 1 1 0 1; color: $text-muted; }
    }"""

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", show=False),
        Binding("n,escape", "answer(False)", "No", show=False),
    ]

    def __init__(self, question: str, detail: str = "", *, danger: bool = False) -> None:
        super().__init__(id="confirm")
        self.question = question
        self.detail = detail
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt") as box:
            box.border_title = "Confirm"
            # plain text: the question may hold a subject from mail
            text = Content.assemble((self.question, "bold"), ("\n" + self.detail) if self.detail else "")
            yield Static(text, id="confirm-text")
            yes = "bold $text-error" if self.danger else "bold $text-primary"
            yield Static(
                Content.assemble(("y", yes), " / ", ("Enter", yes), " yes    ", ("n", "bold"), " / ",
                                 ("Esc", "bold"), " no"),
                id="confirm-keys",
            )

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


MARKER_MEANING = {"!": "overdue", "+": "due soon"}


class ReasonsScreen(ModalScreen[None]):
    """Why a conversation ranks where it does: every reason, flag and the score."""

    DEFAULT_CSS = "ReasonsScreen {" + PROMPT_CSS + "& #reasons-text { width: 1fr; } }"

    BINDINGS = [Binding("escape,p,q,enter", "dismiss", "Close", show=False)]

    def __init__(self, row: QueueRow, now: dt.datetime | None = None) -> None:
        super().__init__(id="reasons")
        self.row = row
        self.now = now  # for the snooze and scheduled-reply times

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt") as box:
            box.border_title = f"Why #{self.row.id} is here"
            box.border_subtitle = "Esc closes"
            yield Static(self.content(), id="reasons-text")

    def content(self) -> Content:
        # Everything here came from mail or the desk: plain text, never markup.
        row = self.row
        parts: list[str | tuple[str, str]] = [
            (row.subject or "(no subject)", "bold"),
            "\n",
            (row.customer, "$text-accent"),
            f" · {row.status} · score {row.score:.1f}",
        ]
        marker = (row.marker or " ")[:1]
        if marker in MARKER_MEANING:
            parts += [" · ", (f"{marker} {MARKER_MEANING[marker]}", "bold $text-warning")]
        state = state_words(row, self.now) if self.now is not None else ()
        if state:
            parts += ["\n", ("   ".join(state), "$text-secondary")]
        parts.append("\n")
        if row.reasons:
            for reason in row.reasons:
                parts += ["\n", ("• ", "$text-primary"), reason]
        else:
            parts += ["\n", ("No reasons: plain queue order.", "$text-muted")]
        if row.flags:
            parts += ["\n\n", ("flags: ", "bold"), ", ".join(row.flags)]
        if row.tags:
            parts += ["\n", ("tags: ", "bold"), " ".join(row.tags)]
        return Content.assemble(*parts)


class ViewPicker(ModalScreen[int | None]):
    """The saved views; Enter or the view's number switches."""

    DEFAULT_CSS = "ViewPicker {" + PROMPT_CSS + """
    & #prompt { width: 56; }
    & #view-list {
        height: auto;
        max-height: 12;
        border: none;
        padding: 0;
        background: transparent;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    }"""

    BINDINGS = [
        Binding("escape,v", "dismiss", "Close", show=False),
        *(Binding(str(n), f"pick({n - 1})", show=False) for n in range(1, 10)),
    ]

    def __init__(self, views: list[tuple[str, str | None]], current: int) -> None:
        super().__init__(id="views")
        self.views = views
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt") as box:
            box.border_title = "Saved views"
            box.border_subtitle = "Enter or 1–9 switches"
            options = []
            width = max((cell_len(name) for name, _ in self.views), default=0) + 2
            for n, (name, query) in enumerate(self.views):
                label = Content.assemble(
                    (f"{n + 1} " if n < 9 else "  ", "bold $text-primary"),
                    (name + " " * (width - cell_len(name)), "bold" if n == self.current else ""),
                    (query or "the priority queue", "$text-muted"),
                )
                options.append(Option(label))
            yield OptionList(*options, id="view-list")

    def on_mount(self) -> None:
        options = self.query_one("#view-list", OptionList)
        options.highlighted = self.current
        options.focus()

    @on(OptionList.OptionSelected, "#view-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option_index)

    def action_pick(self, index: int) -> None:
        if index < len(self.views):
            self.dismiss(index)
