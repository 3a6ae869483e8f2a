"""The triage prompts: tag, snooze, assign (confirm, why-here and the view picker: ui/popups.py).

Each prompt is a small modal over the queue. A prompt that changes something is given the
desk call to make (``apply``); it stays open with the desk's message inline when the input is
bad (an unknown time, a tag with a space) and closes with the desk's one-line description
when it worked. Nothing here holds state beyond the prompt itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from rich.cells import cell_len
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.suggester import Suggester, SuggestionReady
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui_desk.desk.agent_names import not_an_agent, resolve
from tui_desk.desk.tags import change_words, parse_tag_words
from tui_desk.desk.timefmt import format_wake
from tui_desk.desk.when import SEND_LATER_PRESETS, WhenError, parse_send_at, parse_when, snooze_presets
from tui_desk.ui.inputs import InOrderInput
from tui_desk.ui.notify import NOTICES_UNDER_DIALOG
from tui_desk.ui.text import literal
from tui_desk.ui.typeahead import KeyHold

Apply = Callable[[Any], Awaitable[str]]
Load = Callable[["ActionPrompt"], Awaitable[None]]

PROMPT_CSS = """
align: center middle;
& > #prompt {
    width: 64;
    max-width: 95%;
    height: auto;
    max-height: 90%;
    border: round $primary;
    border-title-color: $text-primary;
    border-title-style: bold;
    border-subtitle-color: $text-muted;
    background: $surface;
    padding: 0 1;
}
& #prompt-input { border: none; height: 1; padding: 0 1; background: $boost; }
& #prompt-choices {
    height: auto;
    max-height: 9;
    border: none;
    padding: 0;
    background: transparent;
    scrollbar-size-vertical: 1;
}
& #prompt-note { height: auto; color: $text-muted; }
& #prompt-note.-error { color: $text-error; text-style: bold; }
& .prompt--hint { height: auto; color: $text-muted; }
""" + NOTICES_UNDER_DIALOG  # every dialog built on it: its text and keys read, notices around it


# --- tags ------------------------------------------------------------------------------------


class TagSuggester(Suggester):
    """Completes the word being typed: known tags after "+" or nothing, the targets' own tags
    after "-" (those are the ones that can be removed)."""

    def __init__(self, known: Iterable[str], current: Iterable[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.known = list(dict.fromkeys(known))
        self.current = list(dict.fromkeys(current))

    async def get_suggestion(self, value: str) -> str | None:
        if not value or value[-1].isspace():
            return None
        word = value.split()[-1]
        sign = word[0] if word[0] in "+-" else ""
        partial = word[len(sign):].casefold()
        if not partial:
            return None
        pool = self.current + self.known if sign == "-" else self.known
        for tag in pool:
            if tag.casefold().startswith(partial) and len(tag) > len(partial):
                return value + tag[len(partial):]
        return None


# --- the prompt ------------------------------------------------------------------------------


class PromptInput(InOrderInput):
    """The prompt's text box: up/down move through the choices below, Tab (or → at the end)
    takes a completion, Enter applies.

    These keys are taken the moment they arrive, not as bindings (which run only once the key
    has bubbled up to the app, after the keys behind it were typed): "tbug⏎" typed at once
    must apply "bug", "↓⏎" the second choice. Keys behind Enter wait until the desk has
    answered: "tbug⏎c" tags "bug", then closes the next conversation.
    """

    async def on_key(self, event: events.Key) -> None:
        # runs before Input's own handler, which types the key unless the default is prevented
        screen = self.screen
        if not isinstance(screen, ActionPrompt):
            return
        if screen.busy:
            handled = True
            screen.held_keys.keep(event)
        elif event.key == "enter":
            handled = True
            screen.submit(self.value)
        elif event.key in ("down", "up"):
            handled = True
            screen.move_choice(1 if event.key == "down" else -1)
        elif (
            event.key in ("tab", "right")
            and self.cursor_at_end
            and (completion := await self._completion())
        ):
            handled = True
            self.value = completion
            self.cursor_position = len(self.value)
        else:
            handled = False  # Tab with nothing to complete moves the focus as usual
        if handled:
            event.stop()
            event.prevent_default()

    async def _completion(self) -> str | None:
        """The completion of what is typed now. Asked here rather than taken from the one on
        screen: typed at once, "re⇥" reaches Tab before that one has been worked out."""
        screen = self.screen
        if not self.value or self.suggester is None or not isinstance(screen, ActionPrompt):
            return self._suggestion or None
        await screen.loaded.wait()  # the desk's known tags; a moment at most
        value = self.value if self.suggester.case_sensitive else self.value.casefold()
        return await self.suggester.get_suggestion(value)


class ChoiceList(OptionList, can_focus=False):
    """The choices under the box; the box keeps the focus, a click picks."""


class ActionPrompt(ModalScreen[str | None]):
    """A titled box: free text, optional choices, a note line (preview or error), hints.

    Enter applies the typed text, or the highlighted choice when nothing is typed. Typing
    takes the highlight off the choices, moving through them clears the text: one of the two
    is what Enter applies, and the screen shows which.

    With ``narrow`` the typed text is a filter instead: the choices become ``narrow(text)``
    as it is typed, the first one highlighted, and Enter applies the highlighted choice (the
    text only when nothing matches, so the apply function can say so).
    """

    DEFAULT_CSS = "ActionPrompt {" + PROMPT_CSS + "}"

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(
        self,
        title: str,
        *,
        apply: Apply,
        placeholder: str = "",
        choices: Sequence[tuple[Content | str, Any]] = (),
        highlight: int | None = 0,
        suggester: Suggester | None = None,
        preview: Callable[[str], Content | str] | None = None,
        hints: Sequence[Content | str] = (),
        empty_error: str = "Type something, or Esc to cancel",
        load: Load | None = None,
        narrow: Callable[[str], Sequence[tuple[Content | str, Any]]] | None = None,
        id: str | None = None,
    ) -> None:
        """``load`` fills in what needs the desk (known tags, teammates) once the prompt is up:
        the prompt opens at once, so keys typed right after the action key land in it."""
        super().__init__(id=id)
        self.title_text = title
        self.apply = apply
        self.placeholder = placeholder
        self.choices = list(choices)
        self.initial_highlight = highlight if self.choices else None
        self.suggester = suggester
        self.preview = preview
        self.hints = list(hints)
        self.empty_error = empty_error
        self.load = load
        self.narrow = narrow
        self.loaded = asyncio.Event()  # set once ``load`` is done (or failed, or there is none)
        self.busy = False  # the desk call is on its way
        self.held_keys = KeyHold()  # typed meanwhile; they go where they belong after
        self._clearing = False
        self._narrowed_for = ""  # the text the choices were narrowed to (with ``narrow``)

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt") as box:
            box.border_title = literal(self.title_text)  # "Tag #12 <subject>": from mail
            box.border_subtitle = "Enter applies · Esc cancels"
            yield PromptInput(placeholder=self.placeholder, suggester=self.suggester, id="prompt-input")
            yield Static("", id="prompt-note")
            if self.choices:
                yield ChoiceList(*(Option(literal(label)) for label, _ in self.choices), id="prompt-choices")
            for hint in self.hints:
                yield Static(literal(hint), classes="prompt--hint")

    def on_mount(self) -> None:
        if self.choices:
            self.choice_list.highlighted = self.initial_highlight
        self.set_focus(self.text_input)  # now: keys already on their way belong here
        if self.load is not None:
            self.run_worker(self._load(self.load), group="prompt-load")
        else:
            self.loaded.set()

    async def _load(self, load: Load) -> None:
        try:
            await load(self)
        except Exception as exc:  # noqa: BLE001 - the prompt works without completions
            self.set_note(f"Could not load suggestions: {exc}")
        finally:
            self.loaded.set()

    def set_choices(self, choices: Sequence[tuple[Content | str, Any]]) -> None:
        """New choices; the highlight stays on the same value when it is still there."""
        options = self.choice_list
        index = options.highlighted
        value = self.choices[index][1] if index is not None and index < len(self.choices) else None
        self.choices = list(choices)
        options.set_options(Option(literal(label)) for label, _ in self.choices)
        if index is not None:
            values = [v for _, v in self.choices]
            options.highlighted = values.index(value) if value in values else 0

    async def set_hints(self, hints: Sequence[Content | str]) -> None:
        self.hints = list(hints)
        box = self.query_one("#prompt", Vertical)
        await box.query(".prompt--hint").remove()
        await box.mount_all(Static(literal(hint), classes="prompt--hint") for hint in self.hints)

    @property
    def text_input(self) -> Input:
        return self.query_one("#prompt-input", Input)

    @property
    def choice_list(self) -> OptionList:
        return self.query_one("#prompt-choices", OptionList)

    def move_choice(self, step: int) -> None:
        if not self.choices:
            return
        options = self.choice_list
        if options.highlighted is None:
            options.highlighted = 0 if step > 0 else len(self.choices) - 1
        else:
            options.highlighted = (options.highlighted + step) % len(self.choices)
        if self.text_input.value and self.narrow is None:
            self._clearing = True
            self.text_input.value = ""
        self.set_note("")

    def set_note(self, text: Content | str, *, error: bool = False) -> None:
        note = self.query_one("#prompt-note", Static)
        note.set_class(error, "-error")
        note.update(literal(text))

    @on(Input.Changed, "#prompt-input")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._clearing:
            self._clearing = False
            return
        if self.narrow is not None:
            self._narrow_to(event.value)
        elif event.value.strip() and self.choices:
            self.choice_list.highlighted = None
        self.set_note(self.preview(event.value) if self.preview and event.value.strip() else "")

    def _narrow_to(self, value: str) -> None:
        assert self.narrow is not None
        self.choices = list(self.narrow(value))
        self._narrowed_for = value
        options = self.choice_list
        options.set_options(Option(label) for label, _ in self.choices)
        options.highlighted = 0 if self.choices else None

    def submit(self, value: str) -> None:
        """Enter: the typed text, or else the highlighted choice."""
        if self.narrow is not None and value != self._narrowed_for:
            # typed at once ("feature⏎"): Enter is here before the Input.Changed of the text
            self._narrow_to(value)
        text = value.strip()
        index = self.choice_list.highlighted if self.choices else None
        if text and (self.narrow is None or index is None):
            self._run(text)
            return
        if index is None:
            self.set_note(self.empty_error, error=True)
            return
        self._run(self.choices[index][1])

    @on(OptionList.OptionSelected, "#prompt-choices")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._run(self.choices[event.option_index][1])

    def _run(self, value: Any) -> None:
        if self.busy:
            return  # Enter twice: the first one is on its way
        self.busy = True
        self.run_worker(self._apply(value), group="prompt")

    async def _apply(self, value: Any) -> None:
        try:
            description = await self.apply(value)
        except Exception as exc:  # noqa: BLE001 - bad input or a failing store: said here
            # ValueError is the desk's word on bad input: show it, let them fix it
            error = str(exc) if isinstance(exc, ValueError) else f"Failed: {exc}"
            self.busy = False
            self.set_note(error, error=True)
            self._release_keys(self.text_input)
            return
        self.dismiss(description)
        self._release_keys(self.app)  # after the dismissal: they act on the queue

    def _release_keys(self, target: Any) -> None:
        self.held_keys.release(target)

    def action_cancel(self) -> None:
        self.dismiss(None)


def tag_prompt(title: str, apply: Callable[[list[str], list[str]], Awaitable[str]],
               known_tags: Callable[[], Awaitable[list[str]]], current: list[str]) -> ActionPrompt:
    """``t``: "+bug -question", or just "bug"; completes the desk's known tags."""

    async def apply_text(text: str) -> str:
        add, remove = parse_tag_words(text)
        if not add and not remove:
            raise ValueError("Type a tag: bug, +bug or -bug")
        return await apply(add, remove)

    def preview(text: str) -> Content:
        add, remove = parse_tag_words(text)  # the words the desk's result will say
        parts: list[str | tuple[str, str]] = []
        if add:
            parts += ["adds ", (change_words(add, ()), "bold")]
        if remove:
            parts += ["  " if add else "", "removes ", (change_words((), remove), "bold")]
        return Content.assemble(*parts)

    def hints(known: list[str]) -> list[Content | str]:
        lines: list[Content | str] = []
        if current:
            lines.append(_word_line("on it: ", current, 58))
        others = [t for t in known if t not in current]
        if others:
            lines.append(_word_line("known: ", others, 58))
        lines.append("+tag adds, -tag removes, a bare word adds · Tab completes")
        return lines

    suggester = TagSuggester([], current)

    async def load(prompt: ActionPrompt) -> None:
        known = await known_tags()
        suggester.known = list(dict.fromkeys(known))
        await prompt.set_hints(hints(known))
        box = prompt.text_input
        typed = box.value
        if typed and (suggestion := await suggester.get_suggestion(typed)) is not None:
            box.post_message(SuggestionReady(typed, suggestion))  # for what was typed meanwhile

    return ActionPrompt(
        title,
        apply=apply_text,
        placeholder="+bug -question",
        suggester=suggester,
        preview=preview,
        hints=hints([]),
        empty_error="Type a tag: bug, +bug or -bug",
        load=load,
        id="tag-prompt",
    )


def _word_line(label: str, words: list[str], width: int) -> Content:
    """"known: a b c …" cut to ``width`` cells at a word boundary."""
    shown: list[str] = []
    used = cell_len(label)
    for word in words:
        if used + cell_len(word) + 2 > width:
            shown.append("…")
            break
        shown.append(word)
        used += cell_len(word) + 1
    return Content.assemble((label, "bold"), " ".join(shown))


def snooze_prompt(title: str, apply: Callable[[str], Awaitable[str]], now: dt.datetime) -> ActionPrompt:
    """``z``: the presets with the time each one means now, or free text."""

    def when_text(text: str) -> str:
        if text.strip().lower() in ("off", "wake", "none"):
            return "wake up now"
        when = parse_when(text, now)
        return "until the customer replies" if when.until_reply else format_wake(when.at, now)

    return _when_prompt(
        title, apply, snooze_presets(now), when_text,
        placeholder="fri 14:00, 3d, 2026-12-01, off… or pick below",
        hints=["↑↓ pick · or type a time · off wakes it now"],
        empty_error="Say when: e.g. tomorrow 9:00, 3d, fri 14:00",
        id="snooze-prompt",
    )


def send_later_prompt(title: str, apply: Callable[[str], Awaitable[str]], now: dt.datetime) -> ActionPrompt:
    """Ctrl+L in the compose screen: send-later presets (a moment, never "until reply"), or a time."""

    def when_text(text: str) -> str:
        return format_wake(parse_send_at(text, now), now)

    return _when_prompt(
        title, apply, SEND_LATER_PRESETS, when_text,
        placeholder="mon 8:30, 2h, 2026-12-01 14:00… or pick below",
        hints=["↑↓ pick · or type a time: tomorrow 9:00, mon 8:30, 2h"],
        empty_error="Say when to send: e.g. in 1 hour, tomorrow 9:00, mon 8:30",
        id="send-later-prompt",
    )


def _when_prompt(title: str, apply: Callable[[str], Awaitable[str]], presets: Sequence[str],
                 when_text: Callable[[str], str], *, placeholder: str, hints: list[Content | str],
                 empty_error: str, id: str) -> ActionPrompt:
    """Presets, each with the time it means now, or free text previewed as it is typed."""

    def preview(text: str) -> Content:
        try:
            return Content.assemble("→ ", (when_text(text), "bold"))
        except WhenError:
            return Content("…")  # still typing; Enter says what is wrong

    width = max(len(p) for p in presets) + 2
    choices: list[tuple[Content | str, Any]] = []
    for preset in presets:
        try:
            label = Content.assemble(preset.ljust(width), (when_text(preset), "$text-muted"))
        except WhenError:
            label = Content(preset)
        choices.append((label, preset))
    return ActionPrompt(title, apply=apply, placeholder=placeholder, choices=choices, preview=preview,
                        hints=hints, empty_error=empty_error, id=id)


UNASSIGN = object()  # the "unassign" choice; a typed name is a str


class NameSuggester(Suggester):
    """Completes a name from ``names``, the first that starts with what is typed in any case;
    taking it writes the name as the desk spells it ("ch" → "Chen Wei")."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        super().__init__(use_cache=False, case_sensitive=False)  # get_suggestion sees casefolded text
        self.names = list(names)

    async def get_suggestion(self, value: str) -> str | None:
        for name in self.names if value.strip() else ():
            if name.casefold().startswith(value) and len(name) > len(value):
                return name
        return None


def assign_prompt(title: str, apply: Callable[[str | None], Awaitable[str]],
                  me: str | None, known_agents: Callable[[], Awaitable[list[str]]]) -> ActionPrompt:
    """``a``: me, a teammate (the desk's known agents; Tab completes them), unassign, or a
    name typed in: a first name is the one agent it begins (desk.agent_names.resolve, as the
    CLI's assign); one the desk does not know is asked about first (a typo makes a ghost agent)."""
    suggester = NameSuggester([me] if me else [])
    asked: list[str] = []  # the unknown name Enter was pressed on once

    def choices(agents: list[str]) -> list[tuple[Content | str, Any]]:
        out: list[tuple[Content | str, Any]] = []
        if me:
            out.append((Content.assemble(("me", "bold"), f"  {me}"), me))
        out += [(Content(agent), agent) for agent in agents if agent != me]
        out.append((Content.styled("unassign", "italic"), UNASSIGN))
        return out

    async def apply_choice(value: Any) -> str:
        if isinstance(value, str) and resolve(value, suggester.names) is None:
            await prompt.loaded.wait()  # the known agents, if Enter came first
        if isinstance(value, str):  # a known agent, or the only one it begins (desk.agent_names)
            agent = resolve(value, suggester.names)
            if agent is None and asked != [value]:
                asked[:] = [value]
                raise ValueError(f"{not_an_agent(value, suggester.names)} — assign anyway? Enter/Esc")
            value = agent or value
        return await apply(None if value is UNASSIGN else value)

    async def load(prompt: ActionPrompt) -> None:
        agents = await known_agents()
        suggester.names = list(dict.fromkeys([*([me] if me else []), *agents]))
        prompt.set_choices(choices(agents))

    prompt = ActionPrompt(
        title,
        apply=apply_choice,
        placeholder="a teammate's name… or pick below",
        choices=choices([]),
        suggester=suggester,
        hints=["↑↓ pick · or type a name (Tab completes)"],
        empty_error="Pick someone or type a name",
        load=load,
        id="assign-prompt",
    )
    return prompt
