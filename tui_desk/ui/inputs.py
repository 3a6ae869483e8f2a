"""Text boxes whose keys act in the order typed: each runs its bound keys on arrival
(InOrderKeys: InOrderInput, InOrderTextArea), an Input passes on keys which arrived after the
focus had already moved on (FollowingInput); and path completion."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from textual import events
from textual.suggester import Suggester
from textual.widgets import Input, TextArea

from tui_desk.ui.typeahead import pass_on_if_unfocused, release_if_held, submit_holding


class InOrderKeys:
    """A text box whose keys act in the order they were typed (the base of InOrderInput and
    InOrderTextArea, before Input or TextArea).

    Textual types a character the moment its key reaches the box, but runs a bound key
    (Backspace, Ctrl+A, the arrows, Home, Ctrl+W, ...) only once the key has bubbled up to the
    app, one message queue per container on the way. Characters typed right behind a bound key
    (a word typed on at once, keys bunched up over SSH or by a busy CPU) overtook it: after
    Ctrl+A, Backspace they were typed into the selection and deleted with it, after an arrow
    they landed where the cursor was before, after a Backspace the wrong letter went. Here the
    box runs its own bindings on arrival; keys it does not bind (Esc, Tab, the screen's) go on
    up as before. A subclass's ``on_key`` (type-ahead: ui/typeahead.py) runs before this.
    """

    async def _on_key(self, event: events.Key) -> None:
        # Textual calls Input's or TextArea's own _on_key after this one unless the default is prevented
        box: Any = self
        for binding in box._bindings.key_to_bindings.get(event.key, ()):
            if not binding.priority and await box.app.run_action(binding.action, box):
                event.stop()  # done: the app must not run it a second time
                event.prevent_default()
                return


class InOrderInput(InOrderKeys, Input):
    """A one-line box whose keys act in the order typed (InOrderKeys): every Input the app
    shows is one (the search box, the prompts, the forward's To line, the snippet filter, the
    palette's)."""


class InOrderTextArea(InOrderKeys, TextArea):
    """A TextArea whose keys act in the order typed (InOrderKeys): "C-a BSpace One two" typed
    at once leaves "One two"."""


class FollowingInput(InOrderInput):
    """An Input that hands keys to the widget that has the focus now.

    Keys are queued to the focused widget as they arrive. When a burst (a fast typist, a paste,
    keys bunched up by a slow SSH link) holds Enter followed by more keys, those later keys are
    already queued here when Enter moves the focus to the queue; without this they would be
    typed into the box instead of reaching the queue.

    They go back to the app as if just typed (ui/typeahead.py). A handler of this class runs
    before Input's own; preventing the default keeps Input from typing the key. Enter is taken
    on arrival: the keys behind it wait until its Submitted has been handled (which moves the
    focus), then go where the focus is.
    """

    async def on_key(self, event: events.Key) -> None:
        if not pass_on_if_unfocused(self, event):
            await submit_holding(self, event)

    def on_unmount(self) -> None:
        # a box gone with its SubmitHandled still on the way must not hold the keys for ever
        release_if_held(self)


class PathSuggester(Suggester):
    """Completes a file path as it is typed ("~/Doc" -> "~/Documents/"): the first entry of
    that directory, in name order, that starts with what follows the last "/"."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        head, _, partial = value.rpartition("/")
        directory = Path(os.path.expanduser(head + "/" if head or value.startswith("/") else "."))
        if not head and value.startswith("~"):
            return None
        try:
            names = sorted(e.name + ("/" if e.is_dir() else "") for e in os.scandir(directory)
                           if e.name.startswith(partial) and (partial.startswith(".") or not e.name.startswith(".")))
        except OSError:
            return None
        if not names:
            return None
        return f"{head}/{names[0]}" if head or value.startswith("/") else names[0]
