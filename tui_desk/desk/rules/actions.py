"""Action strings ("tag +billing", "assign alice", "snooze 3d") read into Actions, and the line
a conversation shows for each."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from tui_desk.desk.agent_names import not_an_agent, resolve
from tui_desk.desk.rules.model import Action
from tui_desk.desk.when import UNTIL_REPLY, parse_span
from tui_desk.store.search import STATUSES

NOBODY = ("nobody", "none", "-")
_TAG = re.compile(r"[+-][^\s+-][^\s]*")
_ADDRESS = re.compile(r"[^\s@<>\"(),;:]+@[^\s@<>\"(),;:]+\.[^\s@<>\"(),;:]+")
EXAMPLES = ('"tag +billing -new", "status pending", "assign alice", "snooze 3d", "priority +2", '
            '"note text", "reply SNIPPET", "forward someone@example.com"')


class ActionError(ValueError):
    pass


@dataclass(frozen=True)
class ActionChecks:
    """What the names in actions are checked against (None: not checked)."""
    agents: Collection[str] | None = None  # the desk's known agents (DeskCore.known_agents)
    snippets: Collection[str] | None = None
    is_own_address: Callable[[str], bool] | None = None


def parse_action(text: str, checks: ActionChecks) -> Action:
    verb, _, rest = " ".join(text.split()).partition(" ")
    verb = verb.lower()
    if verb == "tag":
        words = rest.split()
        bad = [w for w in words if not _TAG.fullmatch(w)]
        if not words or bad:
            raise ActionError(f"'{text}': tag wants +name or -name, e.g. \"tag +billing -new\"")
        return Action("tag", text, add=tuple(w[1:].lower() for w in words if w[0] == "+"),
                      remove=tuple(w[1:].lower() for w in words if w[0] == "-"))
    if verb == "status":
        if rest.lower() not in STATUSES:
            raise ActionError(f"'{text}': status is one of {', '.join(STATUSES)}")
        return Action("status", text, value=rest.lower())
    if verb == "assign":
        who = rest.strip()
        if who.lower() in NOBODY:
            return Action("assign", text, value="")
        if not who:
            raise ActionError(f"'{text}': assign wants an agent's name (or nobody)")
        if checks.agents is not None:
            # the one name rule of the app's prompt and the CLI: "alice" is Alice Martin
            agent = resolve(who, checks.agents)
            if agent is None:
                known = ", ".join(sorted(checks.agents, key=str.casefold)) or "none: set team in config.toml"
                why = not_an_agent(who, checks.agents)
                said = f"unknown agent '{who}'" if why.endswith("is not a known agent") else why
                raise ActionError(f"'{text}': {said} (agents: {known})")
            who = agent
        return Action("assign", text, value=who)
    if verb == "snooze":
        if rest.lower() in UNTIL_REPLY:
            return Action("snooze", text, value="until reply")
        seconds = parse_span(rest)
        if not seconds:
            raise ActionError(f"'{text}': snooze wants a length of time like 3d, 4h, 30m or 'until reply'")
        return Action("snooze", text, seconds=seconds)
    if verb == "priority":
        if not re.fullmatch(r"[+-][1-9][0-9]?", rest):
            raise ActionError(f"'{text}': priority wants a step up or down like +2 or -1")
        return Action("priority", text, boost=int(rest))
    if verb == "note":
        if not rest.strip():
            raise ActionError(f"'{text}': note wants its text")
        return Action("note", text, value=rest.strip())
    if verb == "reply":
        name = rest.strip()
        if not name:
            raise ActionError(f"'{text}': reply wants a snippet's name")
        if checks.snippets is not None and name not in checks.snippets:
            raise ActionError(f"'{text}': unknown snippet '{name}'")
        return Action("reply", text, value=name)
    if verb == "forward":
        addr = rest.strip()
        if not _ADDRESS.fullmatch(addr):
            raise ActionError(f"'{text}': forward wants one email address")
        if checks.is_own_address is not None and checks.is_own_address(addr):
            raise ActionError(f"'{text}': {addr} is the desk's own address (a mail loop)")
        return Action("forward", text, value=addr)
    raise ActionError(f"unknown action '{text}' (actions: {EXAMPLES})")


def describe(action: Action) -> str:
    """What it did, for the conversation: "tagged +billing", "assigned alice"."""
    if action.kind == "tag":
        return "tagged " + " ".join([*("+" + t for t in action.add), *("-" + t for t in action.remove)])
    if action.kind == "status":
        return f"set status {action.value}"
    if action.kind == "assign":
        return f"assigned {action.value}" if action.value else "unassigned"
    if action.kind == "snooze":
        return "snoozed until the customer replies" if action.value else f"snoozed {action.text.split(None, 1)[1]}"
    if action.kind == "priority":
        return f"{'raised' if action.boost > 0 else 'lowered'} priority {action.boost:+d}"
    if action.kind == "note":
        return "added a note"
    if action.kind == "reply":
        return f"replied with snippet '{action.value}'"
    return f"forwarded to {action.value}"
