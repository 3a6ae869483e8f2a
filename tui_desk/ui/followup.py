"""F: a bulk follow-up on the selected rows (else the current one): pick a snippet, read the dry
run (who gets what, one line per conversation; the title counts customers and conversations),
confirm: one reply per customer goes to the outbox, at the [followup] pace, never twice to one
customer, and their other conversations get a note (desk.followup through DeskService).

A mixin of ui.main_screen.MainScreen, like ui.triage_actions; the confirm screen is its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui_desk.desk.per_customer import summary
from tui_desk.desk.snippets import auto_only_refusal, filter_snippets, for_agents
from tui_desk.desk.views import FollowupLine, IncidentPlanView
from tui_desk.ui.triage import PROMPT_CSS
from tui_desk.ui.typeahead import desk_key

if TYPE_CHECKING:
    from tui_desk.ui.app_base import MainViewScreen as _Base
else:
    _Base = object


class FollowupConfirm(ModalScreen[str | None]):
    """The dry run, then the agent's word: y/Enter queues, c queues and closes them, n/Esc not."""

    DEFAULT_CSS = "FollowupConfirm {" + PROMPT_CSS + """
    & #prompt { width: 100; }
    & #followup-lines { height: auto; max-height: 16; }
    & .followup--skip { color: $text-muted; }
    & #followup-keys { margin: 1 0 0 0; color: $text-muted; }
    }"""

    BINDINGS = [
        Binding("y,enter", "answer('send')", "Send", show=False),
        Binding("c", "answer('close')", "Send and close", show=False),
        Binding("n,escape", "answer(None)", "No", show=False),
        Binding("j,down", "scroll_lines(1)", show=False),
        Binding("k,up", "scroll_lines(-1)", show=False),
        Binding("pagedown,space", "scroll_lines(10)", show=False),
        Binding("pageup", "scroll_lines(-10)", show=False),
    ]

    def __init__(self, snippet: str, lines: list[FollowupLine]) -> None:
        super().__init__(id="followup-confirm")
        self.snippet = snippet
        self.lines = lines

    @property
    def new(self) -> int:
        """The mails: one per customer."""
        return sum(1 for line in self.lines if line.state == "new")

    @property
    def answered(self) -> int:
        """The conversations those mails answer (the customer's others get a note)."""
        return sum(1 for line in self.lines if line.state in ("new", "covered"))

    confirmable = False  # with nobody to mail, still a yes to say (resolving ends the incident too)

    def title_text(self) -> str:
        return f"Follow-up with {self.snippet}: {summary(self.new, self.answered)}"

    def keys_text(self) -> Content:
        return Content.assemble(("y", "bold $text-error"), " / ", ("Enter", "bold $text-error"),
                                " queue them    ", ("c", "bold $text-error"), " queue and close    ",
                                ("n", "bold"), " / ", ("Esc", "bold"), " no")

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt") as box:
            m = self.answered
            # plain text: the snippet's name and every line carry words from files and mail
            box.border_title = self.title_text()
            box.border_subtitle = "it mails customers"
            with VerticalScroll(id="followup-lines"):
                for line in self.lines:
                    yield Static(Content(line.text), classes="" if line.state == "new" else "followup--skip")
            if m or self.confirmable:
                yield Static(self.keys_text(), id="followup-keys")
            else:
                yield Static(Content.assemble("Nobody to send to.  ", ("Esc", "bold"), " back"), id="followup-keys")

    def action_scroll_lines(self, lines: int) -> None:
        """A long dry run (200 customers) is read here before it is sent."""
        self.query_one("#followup-lines", VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_answer(self, answer: str | None) -> None:
        self.dismiss(answer if self.answered else None)


class IncidentResolveConfirm(FollowupConfirm):
    """I with an incident active: who resolving mails, one line per customer (the follow-up's
    look), then the agent's word: y/Enter resolves, c resolves and closes, n/Esc not."""

    def __init__(self, title: str, plan: IncidentPlanView) -> None:
        super().__init__(plan.fixed, list(plan.lines))
        self.incident_title, self.plan = title, plan
        self.confirmable = True

    @property
    def answered(self) -> int:
        return self.plan.conversations

    def title_text(self) -> str:
        return (f"Resolve incident '{self.incident_title}': '{self.plan.fixed}' to "
                f"{summary(self.plan.customers, self.plan.conversations)}")

    def keys_text(self) -> Content:
        return Content.assemble(("y", "bold $text-error"), " / ", ("Enter", "bold $text-error"),
                                " resolve for the team    ", ("n", "bold"), " / ", ("Esc", "bold"), " no    "
                                "(O cancels within the undo window)")

    def action_answer(self, answer: str | None) -> None:
        self.dismiss("send" if answer is not None else None)


class FollowupActions(_Base):
    @desk_key
    async def action_followup(self) -> None:
        """F: snippet, dry run, confirm, queued."""
        await self.app.type_ahead.idle()
        desk = self.desk
        assert desk is not None
        targets = self.targets()
        clears = self.from_selection()
        if not targets:
            self.notify("No conversation to follow up", severity="warning", timeout=3)
            return
        everyone = desk.snippets()
        snippets = for_agents(everyone)  # auto-only ones are the desk's own mail (desk.snippets)
        if not snippets:
            self.notify("No snippets: a follow-up sends one (see README, Snippets)", severity="warning", timeout=4)
            return
        preview: dict[str, list[FollowupLine]] = {}

        def choices(text: str) -> list[tuple[Content | str, str]]:
            return [(Content.assemble((s.name, "bold"), "  ", (s.title, "$text-muted")), s.name)
                    for s in filter_snippets(snippets, text)]

        async def dry_run(name: str) -> str:
            if name not in {s.name for s in snippets}:
                raise ValueError(auto_only_refusal(name) if name in {s.name for s in everyone}
                                 else f"no snippet '{name}'")
            preview[name] = await desk.followup_preview(targets, name)
            return name

        def picked(name: str | None) -> None:
            if name is not None:
                self.app.push_screen(FollowupConfirm(name, preview[name]),
                                     callback=lambda answer: self._queue_followup(targets, name, answer, clears))

        from tui_desk.ui.triage import ActionPrompt
        await self.app.push_screen(ActionPrompt(f"Follow-up to {self.naming(targets)}: which snippet?",
                                                apply=dry_run, choices=choices(""), narrow=choices,
                                                placeholder="type to filter, Enter shows who gets what",
                                                id="followup-snippet"), callback=picked)

    def _queue_followup(self, targets: list[int], snippet: str, answer: str | None, clears: bool) -> None:
        if answer is None:
            return
        assert self.desk is not None
        self.start_action(self.desk.followup(targets, snippet, "closed" if answer == "close" else None),
                          undoable=False, clears_selection=clears)
