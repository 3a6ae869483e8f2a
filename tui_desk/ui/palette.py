"""The command palette's commands (DeskApp.get_system_commands) found by their name, as Textual
finds them (a fuzzy match), or by the words of their help: "csat" finds Reports, whose help
names CSAT; Textual's own provider reads names only."""

from __future__ import annotations

from textual.command import Hit, Hits
from textual.system_commands import SystemCommandsProvider

# every word of the query in a command's help scores this share of a name that is the query
# itself: above a scattered fuzzy match of the name ("csat" in "Queue: Next conversation"),
# below a good one ("next" in "Queue: Next conversation")
HELP_WORDS_SHARE = 0.6


class DeskCommands(SystemCommandsProvider):
    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        words = query.casefold().split()
        by_help = matcher.match(query) * HELP_WORDS_SHARE  # Textual's scores have no fixed top
        for name, help_text, callback, *_ in self.app.get_system_commands(self.screen):
            score = matcher.match(name)
            if words and all(word in (help_text or "").casefold() for word in words):
                score = max(score, by_help)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
