"""Text boxes that pass on keys which arrived after the focus had already moved on, and path completion."""

from __future__ import annotations

import os
from pathlib import Path

from textual import events
from textual.suggester import Suggester
from textual.widgets import Input

from tui_desk.ui.typeahead import pass_on_if_unfocused, release_if_held, submit_holding


class FollowingInput(Input):
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
