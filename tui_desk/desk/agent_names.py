"""One agent, one name: how a name seen in several cases is spelled.

Before assignees kept their case through IMAP keywords (desk.keywords), every round trip
lower-cased them, so stores and the events recorded from them hold "bob okafor" beside
"Bob Okafor". Names are one agent when they are equal casefolded; the spelling shown is the
config's (this agent, then the team), else the first spelling (sorted) that is not all lower
case - the lower-case one is what the old round trip left - else the name as seen.

A name typed to assign (the app's `a`, the CLI's `assign`) is resolved by one rule, `resolve`:
the known agent it equals case aside, else the only known agent it begins ("bob" is
"Bob Okafor"). A name that resolves to nobody is asked about in the app and refused by the CLI
unless it says --new (a typo makes a ghost agent); `not_an_agent` says why, in one line.
"""

from __future__ import annotations

from typing import Iterable, overload


class AgentNames:
    def __init__(self, known: Iterable[str] = (), seen: Iterable[str | None] = ()) -> None:
        self._spelling: dict[str, str] = {}
        for name in known:
            if name:
                self._spelling.setdefault(name.casefold(), name)
        for name in sorted({n for n in seen if n}, key=lambda n: (n == n.lower(), n)):
            self._spelling.setdefault(name.casefold(), name)

    @overload
    def __call__(self, name: str) -> str: ...
    @overload
    def __call__(self, name: None) -> None: ...
    @overload
    def __call__(self, name: str | None) -> str | None: ...

    def __call__(self, name: str | None) -> str | None:
        return self._spelling.get(name.casefold(), name) if name else name

    def legacy(self, name: str | None) -> str | None:
        """A name read from a keyword: only an all-lower-case one (as older clients wrote every
        name) is taken for the known spelling; a name with capitals was written as it is."""
        return self(name) if name and name == name.lower() else name


def resolve(name: str, agents: Iterable[str]) -> str | None:
    """The agent of `agents` (the desk's known agents, DeskService.known_agents) that `name`
    names: the one equal to it case aside, else the only one it begins, case aside (a first name);
    None when it names none of them, or several."""
    wanted = " ".join(name.split()).casefold()
    if not wanted:
        return None
    known = list(dict.fromkeys(a for a in agents if a))
    for agent in known:
        if agent.casefold() == wanted:
            return agent
    starting = [a for a in known if a.casefold().startswith(wanted)]
    return starting[0] if len(starting) == 1 else None


def not_an_agent(name: str, agents: Iterable[str]) -> str:
    """Why `name` resolves to nobody (see resolve), in a few words."""
    wanted = " ".join(name.split()).casefold()
    starting = [a for a in dict.fromkeys(agents) if a and a.casefold().startswith(wanted)] if wanted else []
    if len(starting) > 1:
        return f"{name} could be {', '.join(starting)}"
    return f"{name} is not a known agent"


def agent_order(name: str | None) -> tuple[bool, str, str]:
    """Groups by agent in the order a person reads them: nobody last, case aside."""
    return (name is None, (name or "").casefold(), name or "")
