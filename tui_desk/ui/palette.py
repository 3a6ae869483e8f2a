"""The command palette's commands (DeskApp.get_system_commands) found by their name, as Textual
finds them (a fuzzy match), or by the words of their help: "csat" finds Reports, whose help
names CSAT; Textual's own provider reads names only.

Opened with nothing typed, the palette lists the commands run from it lately first (the last
one on top, as VS Code does), then the ones an agent uses most (USEFUL), then the rest in the
registry's order; Textual's own sorts them by name, which put "Back" first.

Only runs from the palette count as recent, not commands run by their key (as in VS Code and
Sublime Text). A command run by key is one whose key the agent knows, and the palette is where
they look for the others: counted, `j`, `k`, Enter and `c`, run hundreds of times a shift,
would fill the RECENT places and push out the command they came back to find."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from textual.app import ComposeResult
from textual.command import CommandInput, CommandPalette, DiscoveryHit, Hit, Hits
from textual.system_commands import SystemCommandsProvider

from tui_desk.ui.inputs import InOrderInput

# every word of the query in a command's help scores this share of a name that is the query
# itself: above a scattered fuzzy match of the name ("csat" in "Queue: Next conversation"),
# below a good one ("next" in "Queue: Next conversation")
HELP_WORDS_SHARE = 0.6

# The main view's commands an agent reaches for most, in this order (titles as the registry
# makes them: "<group's palette prefix>: <description>"; tests check each is a command).
USEFUL = ("Search", "Reply: Reply", "Triage: Tag", "Triage: Snooze", "Triage: Assign", "Triage: Close",
          "Reply: Note", "Triage: Views", "Reports", "Keys")
RECENT = 5  # commands run from the palette lately, listed first

_recent: WeakKeyDictionary[Any, list[str]] = WeakKeyDictionary()  # per app: titles, the last first


def recent_titles(app: Any) -> list[str]:
    return list(_recent.get(app, ()))


def _noting(app: Any, title: str, callback: Callable[[], Any]) -> Callable[[], Any]:
    """The command's callback, which first notes that it ran (for the next opening's order)."""
    def run() -> Any:
        titles = [title, *(t for t in _recent.get(app, ()) if t != title)]
        _recent[app] = titles[:RECENT]
        return callback()
    return run


def discovery_order(titles: list[str], recent: list[str]) -> list[str]:
    """The palette's order with nothing typed: recent, then USEFUL, then the rest as given."""
    first = [t for t in (*recent, *USEFUL) if t in titles]
    first = list(dict.fromkeys(first))
    return first + [t for t in titles if t not in first]


class DeskCommands(SystemCommandsProvider):
    async def discover(self) -> Hits:
        commands = {name: (help_text, callback) for name, help_text, callback, discover
                    in self.app.get_system_commands(self.screen) if discover}
        for name in discovery_order(list(commands), recent_titles(self.app)):
            help_text, callback = commands[name]
            yield DiscoveryHit(name, _noting(self.app, name, callback), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        words = query.casefold().split()
        by_help = matcher.match(query) * HELP_WORDS_SHARE  # Textual's scores have no fixed top
        for name, help_text, callback, *_ in self.app.get_system_commands(self.screen):
            score = matcher.match(name)
            if words and all(word in (help_text or "").casefold() for word in words):
                score = max(score, by_help)
            if score > 0:
                yield Hit(score, matcher.highlight(name), _noting(self.app, name, callback), help=help_text)


class InOrderCommandInput(CommandInput, InOrderInput):
    """The palette's box, whose keys act in the order typed (ui/inputs.InOrderKeys).
    CommandInput first: Textual's CSS and queries know a widget by its first base's names."""


class InOrderPalette(CommandPalette):
    """Textual's palette with InOrderCommandInput for its box: "sex⌫ar" typed at once finds
    "sear", not "sexa"."""

    def compose(self) -> ComposeResult:
        for widget in super().compose():  # its containers open and close as it goes on
            if type(widget) is CommandInput:
                widget = InOrderCommandInput(placeholder=widget.placeholder, select_on_focus=widget.select_on_focus)
            yield widget
