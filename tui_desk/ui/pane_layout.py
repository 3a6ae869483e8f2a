"""The main view's panes: which show at the terminal's width (the snippets fold away below
NARROW_BELOW columns; `w` shows the queue alone), and where Tab and the keys that open a pane
put the focus. A mixin of ui.main_screen.MainScreen, like ui.triage_actions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.actions import SkipAction
from textual.widget import Widget
from textual.widgets import Input

if TYPE_CHECKING:
    from tui_desk.ui.app_base import MainViewScreen as _Base
    from tui_desk.ui.snippets import SnippetPane
else:
    _Base = object

NARROW_BELOW = 100  # columns; narrower than this the snippet pane folds away


class PaneLayout(_Base):
    # the user's choices (MainScreen.__init__ sets them)
    snippets_wanted: bool  # at 100+ columns
    snippets_over_conversation: bool  # below 100 columns
    queue_wide: bool  # "w": the queue alone, across the width (a triage pass at 80 columns)
    narrow: bool

    if TYPE_CHECKING:
        @property
        def snippet_pane(self) -> SnippetPane: ...

    def apply_layout(self, width: int) -> None:
        """Below 100 columns the snippets fold away; shown again they take the conversation's place."""
        self.narrow = width < NARROW_BELOW
        self.set_class(self.narrow, "-narrow")
        self.set_class(self.queue_wide, "-queue-wide")
        snippets = self.snippet_pane
        conversation = self.conversation_pane
        if self.queue_wide:
            snippets.display = conversation.display = False
        elif self.narrow:
            snippets.display = self.snippets_over_conversation
            conversation.display = not self.snippets_over_conversation
        else:
            snippets.display = self.snippets_wanted
            conversation.display = True
        if snippets.display:
            snippets.showing()
        focused = self.focused
        if focused is not None and not self._visible(focused):
            self.focus_now(self.queue)

    @staticmethod
    def focus_now(widget: Widget) -> None:
        """Focus at once, not after the queued events: keys typed right after "/" or Tab
        (fast typists, pasted input over SSH) must land in the newly focused widget."""
        widget.screen.set_focus(widget)

    @staticmethod
    def _visible(widget: Widget) -> bool:
        node: Any = widget
        while isinstance(node, Widget):
            if not node.display:
                return False
            node = node.parent
        return True

    def action_wide_queue(self) -> None:
        """The queue alone across the width, or the panes again."""
        self.queue_wide = not self.queue_wide
        self.apply_layout(self.app.size.width)
        self.focus_now(self.queue)

    def action_toggle_snippets(self, letter_key: bool = False) -> None:
        """Show or hide the snippet pane (below 100 columns it replaces the conversation)."""
        if letter_key and isinstance(self.focused, Input):
            raise SkipAction()  # "S" typed into a box; F2 works there too
        self.queue_wide = False
        if self.narrow:
            self.snippets_over_conversation = not self.snippets_over_conversation
            shown = self.snippets_over_conversation
        else:
            self.snippets_wanted = not self.snippets_wanted
            shown = self.snippets_wanted
        self.apply_layout(self.app.size.width)
        if shown:
            self.focus_now(self.snippet_pane.filter_input)

    def _pane_targets(self) -> list[Widget]:
        """What Tab focuses in each visible pane, left to right."""
        targets: list[Widget] = [self.queue]
        if self.conversation_pane.display:
            targets.append(self.conversation_pane.thread)
        if self.snippet_pane.display:
            targets.append(self.snippet_pane.filter_input)
        return targets

    def action_focus_pane(self, step: int) -> None:
        """Move the focus to the next (or previous) pane."""
        targets = self._pane_targets()
        panes = [t if t is self.queue else t.parent for t in targets]
        panes[0] = self.query_one("#queue-pane")
        index = 0
        node: Any = self.focused
        while node is not None:
            if node in panes:
                index = panes.index(node)
                break
            node = node.parent
        self.focus_now(targets[(index + step) % len(targets)])

    def focus_within(self, widget: Widget) -> bool:
        node: Any = self.focused
        while node is not None:
            if node is widget:
                return True
            node = node.parent
        return False
