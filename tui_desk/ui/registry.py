"""Every key of the main view in one table: the bindings of DeskApp and MainScreen, the `?`
help and the command palette are all read from here, so a key is described once.

Every binding with a description has an id: `[keys]` in config.toml rebinds by id
(ui/keymap.py), and the README's key table lists them in this order (tests check it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.binding import Binding

from tui_desk.ui.help import key_table

# Keys that move the focus are priority bindings: they act the moment they arrive, so keys
# right behind them (a fast typist, a paste over SSH) land in the newly focused widget
# instead of the one that had the focus. When they would be text, they skip themselves.
GLOBAL_BINDINGS = [
    Binding("slash", "search", "Search", key_display="/", tooltip="Search conversations", priority=True,
            id="search"),
    Binding(
        "escape",
        "escape",
        "Back",
        show=False,
        tooltip="Clear the selection, the search, or leave snippets",
        priority=True,
        id="back",
    ),
    Binding("question_mark", "help", "Keys", key_display="?", tooltip="Show all keys", id="help"),
    Binding("tab", "focus_pane(1)", "Next pane", show=False, priority=True, id="next_pane"),
    Binding("shift+tab", "focus_pane(-1)", "Previous pane", show=False, priority=True, id="previous_pane"),
    Binding(
        "S",
        "toggle_snippets(True)",
        "Snippets",
        tooltip="Show or hide the snippet pane",
        priority=True,
        id="snippets",
    ),
    Binding(
        "f2",
        "toggle_snippets",
        "Snippets",
        show=False,
        tooltip="Show or hide the snippet pane, also while typing",
        priority=True,
        id="snippets_anywhere",
    ),
    Binding("T", "cycle_theme", "Theme", show=False, tooltip="Next theme: dark, light, high contrast",
            id="theme"),
    Binding("D", "reports", "Reports", show=False,
            tooltip="Reports: response times, resolution, CSAT, load by hour, frequent questions", id="reports"),
    Binding("q", "quit", "Quit", tooltip="Quit tui-desk", id="quit"),
]
# What works on every screen (help, theme, quit) is the app's; the rest is the main view's.
APP_ACTIONS = ("help", "cycle_theme", "quit")

# Keys that act on conversations. The focused pane decides which (ui/triage_actions.py,
# targets): in the conversation pane the open conversation; in the queue the selected rows,
# else the row under the cursor. Priority bindings, like
# the focus keys: each acts on the row it arrived on, before the keys behind it (a "j" right
# after "c" must not move the cursor first; "bug" right after "t" belongs in the prompt). In a
# text box they skip themselves and are typed.
TRIAGE_BINDINGS = [
    Binding(
        "t",
        "triage('tag')",
        "Tag",
        tooltip="Tag: +bug -question, or just bug (Tab completes)",
        priority=True,
        id="tag",
    ),
    Binding(
        "z",
        "triage('snooze')",
        "Snooze",
        tooltip="Snooze: later today, tomorrow 9:00, 3d, until reply…",
        priority=True,
        id="snooze",
    ),
    Binding(
        "a",
        "triage('assign')",
        "Assign",
        show=False,  # the footer has room for two triage keys at 80 columns; ? lists them all
        tooltip="Assign to me, to a teammate, or unassign",
        priority=True,
        id="assign",
    ),
    Binding("c", "triage('status', 'closed')", "Close", show=False, tooltip="Close", priority=True, id="close"),
    Binding("o", "triage('status', 'open')", "Reopen", show=False, tooltip="Reopen (status open)", priority=True,
            id="reopen"),
    Binding(
        "exclamation_mark",
        "triage('status', 'spam')",
        "Spam",
        key_display="!",
        show=False,
        tooltip="Mark as spam (asks first)",
        priority=True,
        id="spam",
    ),
    Binding("M", "merge", "Merge", show=False, priority=True,
            tooltip="Merge the selected conversations into the current one (asks first when customers differ)", id="merge"),
    Binding("F", "followup", "Follow-up", show=False, priority=True,
            tooltip="Bulk follow-up: a snippet to the customers of the selected conversations, one mail each "
                    "(dry run, then asks)", id="followup"),
    # every action's notice says "u undoes"
    Binding("u", "triage('undo')", "Undo", show=False, tooltip="Undo the last triage action", priority=True, id="undo"),
    Binding(
        "p",
        "reasons",
        "Why here",
        show=False,
        tooltip="Why it ranks here: all its reasons",
        id="reasons",
    ),
    Binding("v", "pick_view", "Views", show=False, tooltip="Saved views: Queue, Mine, Snoozed…", id="views"),
    Binding("w", "wide_queue", "Wide queue", show=False,
            tooltip="The queue across the whole width, a row a line with its tags (Enter opens the panes again)",
            id="wide_queue"),
    Binding("L", "sla_order", "SLA order", show=False,
            tooltip="Order the list by SLA (breached first, then the target due next); again: as before",
            id="sla_order"),
    Binding("h", "history", "History", show=False, tooltip="The customer's other conversations: open one",
            id="history"),
    Binding("I", "incident", "Incident", show=False, priority=True,
            tooltip="Start an incident from the search and selection; with one active, resolve it (asks first)",
            id="incident"),
]
# Replying: a priority binding like triage, so keys typed right after "r" land in the body.
REPLY_BINDINGS = [
    Binding("r", "reply(False)", "Reply", show=False, tooltip="Reply to the customer (the draft is kept)",
            priority=True, id="reply"),
    Binding("R", "reply(True)", "Reply all", show=False, tooltip="Reply to everyone on the last message",
            priority=True, id="reply_all"),
    Binding("f", "forward", "Forward", show=False, tooltip="Forward the customer's last mail (attached) to someone",
            priority=True, id="forward"),
    Binding("O", "outbox", "Outbox", show=False, tooltip="Replies on their way: cancel, see errors", id="outbox"),
    Binding("s", "attachments", "Attachments", show=False, tooltip="Save or open the conversation's attachments",
            id="attachments"),
    Binding("n", "note", "Note", show=False, tooltip="Internal note for the team (@name mentions); never sent",
            priority=True, id="note"),
]
# The compose screen (ui/compose.py). Its keys act there only: `?` help lists them under
# Compose, and its palette (ComposeScreen.palette_groups) offers them with what works everywhere.
# Priority: the body (a TextArea) would take Ctrl+D (delete right) and Ctrl+E/O/T/L itself.
COMPOSE_BINDINGS = [
    Binding("ctrl+s", "send", "Send", tooltip="Send after the undo window", priority=True, id="compose_send"),
    Binding("ctrl+l", "send_later", "Send later", tooltip="Send at a time: tomorrow 9:00, 2h…",
            priority=True, id="compose_send_later"),
    Binding("ctrl+e", "edit_externally", "$EDITOR", tooltip="Write the body in $VISUAL / $EDITOR",
            priority=True, id="compose_editor"),
    Binding("ctrl+o", "pick_snippet", "Snippet", tooltip="Insert a snippet (or type ::name, Tab completes it)",
            priority=True, id="compose_snippet"),
    Binding("ctrl+t", "attach", "Attach", tooltip="Attach a file (Tab completes the path)", priority=True,
            id="compose_attach"),
    # not in the footer (80 columns hold the rest, not it too): the box's border line says it
    Binding("ctrl+d", "discard", "Discard", show=False, tooltip="Discard the draft and close (u undoes)",
            priority=True, id="compose_discard"),
    Binding("escape", "close", "Close", tooltip="Close; the draft is kept", id="compose_close"),
]
COMPOSE_EXTRA = [
    ("::name", "Then space: insert that snippet"),
    ("::na Tab", "Complete the snippet's name; one match inserts it"),
    ("Ctrl+A", "Select the whole body"),
]

# 1-9 switch straight to a saved view; no description, the help lists them as one row
VIEW_BINDINGS = [Binding(str(n), f"switch_view({n - 1})", show=False) for n in range(1, 10)]

# The Reports screen (ui/reports.py, opened by "D" above). Its keys are its own: 1-4 and "b" act
# there only, so they are not rebindable ([keys] is one table for the main view).
REPORTS_PERIODS = ((7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "365 days"))
REPORTS_BINDINGS = [
    Binding("left_square_bracket", "period(-1)", "Shorter", key_display="[",
            tooltip="Shorter period: 365, 90, 30, 7 days", id="reports_shorter"),
    Binding("right_square_bracket", "period(1)", "Longer", key_display="]",
            tooltip="Longer period: 7, 30, 90, 365 days", id="reports_longer"),
    Binding("b", "business_hours", "Business time", tooltip="Durations in business time or in calendar time "
            "(when [priority] business_hours is configured)", id="reports_business_hours"),
    Binding("r", "refresh", "Refresh", show=False, tooltip="Read the store again now", id="reports_refresh"),
    Binding("escape", "back", "Back", tooltip="Back to the queue", id="reports_back"),
]
PERIOD_BINDINGS = [Binding(str(n), f"set_period({n - 1})", show=False) for n in range(1, len(REPORTS_PERIODS) + 1)]
REPORTS_EXTRA = [
    ("1 … 4", "Period: " + ", ".join(name for _, name in REPORTS_PERIODS)),
    ("↑ / ↓", "Move in the frequent questions"),
    ("Enter", "Open the question's conversations as a search in the queue"),
]

# Every binding [keys] may rebind, in the README's order.
REBINDABLE = [b for b in (*GLOBAL_BINDINGS, *TRIAGE_BINDINGS, *REPLY_BINDINGS) if b.id]

APP_BINDINGS = [b for b in GLOBAL_BINDINGS if b.action in APP_ACTIONS]
# The main view carries the app's keys too (as "app.help"…), in the table's order: the footer
# lists a screen's keys before the app's, and keeps the order it has always had.
MAIN_SCREEN_BINDINGS = [
    *(dataclasses.replace(b, action=f"app.{b.action}") if b.action in APP_ACTIONS else b for b in GLOBAL_BINDINGS),
    *TRIAGE_BINDINGS,
    *REPLY_BINDINGS,
    *VIEW_BINDINGS,
]


@dataclass(frozen=True)
class Group:
    """A section of `?` help; with a palette prefix, also commands of the palette."""

    title: str
    bindings: list[Any]
    extra: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    palette: str | None = None  # the palette's "Triage: Tag" prefix; None: not in the palette
    target: str | None = None  # what the palette runs the action on: a MainScreen attribute


def help_sections(groups: list[Group], keymap: dict[str, str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The `?` screen's sections, from the same groups the palette uses."""
    return [(g.title, key_table(g.bindings, keymap) + g.extra) for g in groups]


@dataclass(frozen=True)
class PaletteEntry:
    title: str
    help: str
    action: str
    target: str | None


def palette_entries(groups: list[Group]) -> list[PaletteEntry]:
    """One command per described binding of the groups that are in the palette."""
    entries: list[PaletteEntry] = []
    for group in groups:
        if group.palette is None:
            continue
        seen: set[str] = set()
        for binding in group.bindings:
            rows = key_table([binding])
            if not rows or binding.description in seen:
                continue  # S and F2 are one command
            seen.add(binding.description)
            keys = rows[0][0]
            title = f"{group.palette}: {binding.description}" if group.palette else binding.description
            help_text = f"{binding.tooltip}  ({keys})" if binding.tooltip else f"Key: {keys}"
            entries.append(PaletteEntry(title, help_text, binding.action, group.target))
    return entries


def view_entries(views: list[tuple[str, str | None]]) -> list[PaletteEntry]:
    """The saved views, as palette commands (1-9 for the first nine)."""
    entries = []
    for n, (name, view_query) in enumerate(views):
        key = f"  ({n + 1})" if n < 9 else ""
        entries.append(PaletteEntry(f"View: {name}", f"Saved view: {view_query or 'the priority queue'}{key}",
                                    f"switch_view({n})", None))
    return entries


def main_groups(undo_window: str, pane_bindings: Callable[[str], list[Any]]) -> list[Group]:
    """The whole table, in the help's order. ``pane_bindings(name)``: the BINDINGS of a pane's
    widget class (imported by the caller, which knows the widgets)."""
    return [
        Group("Everywhere", GLOBAL_BINDINGS, [("Ctrl+P", "Command palette: every action")], palette=""),
        Group("Which conversation the keys below act on: the focused pane decides", [], [
            ("Queue", "The selected rows, else the row under the cursor"),
            ("Conversation", "The open conversation, not the cursor's row"),
        ]),
        Group("Triage: the selected rows, else the current one (or the open one)", TRIAGE_BINDINGS,
              [("1 … 9", "Switch to saved view 1 … 9")], palette="Triage"),
        Group("Reply: the current row (or the open one)", REPLY_BINDINGS,
              [("u", f"Undo a send while it waits{undo_window}")], palette="Reply"),
        Group("Compose", COMPOSE_BINDINGS, COMPOSE_EXTRA),
        Group("Outbox", pane_bindings("outbox")),
        Group("Queue", pane_bindings("queue"), palette="Queue", target="queue"),
        Group("Conversation", pane_bindings("conversation"), palette="Conversation", target="thread"),
        Group("Snippets", pane_bindings("snippets"), [
            ("type", "Filter by name, title, tag or text"),
            ("Enter", "Copy the snippet to the clipboard"),
        ], palette="Snippets", target="snippet_filter"),
        Group("Reports screen", REPORTS_BINDINGS, REPORTS_EXTRA),
        Group("Search box", [], [("Enter", "Keep the results, back to the queue"), ("Esc", "Clear the search")]),
        Group("Prompts", [], [
            ("Enter", "Apply what is typed, or the highlighted choice"),
            ("↑ / ↓", "Move through the choices"),
            ("Tab / →", "Take the completion (tags)"),
            ("Esc", "Cancel"),
        ]),
    ]


def compose_groups() -> list[Group]:
    """The compose screen's palette: its own keys, then what works everywhere."""
    return [
        Group("Compose", COMPOSE_BINDINGS, COMPOSE_EXTRA, palette="Compose"),
        Group("Everywhere", APP_BINDINGS, [("Ctrl+P", "Command palette: every action")], palette=""),
    ]


def reports_groups() -> list[Group]:
    """The Reports screen's `?` help and palette: its own keys, then what works everywhere."""
    return [
        Group("Reports", REPORTS_BINDINGS, REPORTS_EXTRA, palette="Reports"),
        Group("Everywhere", APP_BINDINGS, [("Ctrl+P", "Command palette: every action")], palette=""),
    ]
