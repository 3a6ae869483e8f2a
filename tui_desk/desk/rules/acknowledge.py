"""The acknowledgement without a rule (issue 16): `[autoreply] acknowledge = true` in config.toml
adds one implicit last rule to the rules the desk runs:

    name = "acknowledgement", on = "new", do = ["reply <[autoreply] snippet>"]

so every new conversation gets the acknowledgement snippet through the same path as a rule's
`reply` (the claim on the server, once across a team; the RFC 3834 guards and rate limits; an
`autoreply` history event, never an agent's reply). It is a fallback: on a mail another rule
already replies to (any `reply` on `new`), it stands aside (engine.plan), so the customer gets
one answer, not two. `tui-desk rules test ID` lists it like the rules of the file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

from tui_desk.config import Config, default_config_path
from tui_desk.desk.rules.load import RulesError
from tui_desk.desk.rules.model import Action, Rule, RuleSet
from tui_desk.store.search import parse_query

NAME = "acknowledgement"


def acknowledgement_rule(config: Config, taken: Collection[str] = ()) -> Rule:
    """The implicit rule; named apart from the rules in `taken` (names, any case)."""
    snippet = config.autoreply.snippet
    lower = {t.lower() for t in taken}
    name = NAME if NAME not in lower else f"{NAME} ([autoreply])"
    return Rule(name, "new", "", parse_query("", rule_keys=True),
                (Action("reply", f"reply {snippet}", value=snippet),), line=0, fallback_reply=True)


def with_acknowledgement(ruleset: RuleSet, config: Config, snippets: Collection[str] | None) -> RuleSet:
    """The rules the desk runs: the file's, and last the acknowledgement when the config asks
    for it. `snippets`: the names there are (None: not checked); an unknown one is a RulesError
    naming the config, as an unknown snippet in rules.toml is."""
    if not config.autoreply.acknowledge:
        return ruleset
    snippet = config.autoreply.snippet
    if snippets is not None and snippet not in snippets:
        where = config.path or default_config_path()
        raise RulesError([f"{where}: [autoreply] acknowledge = true: unknown snippet '{snippet}' "
                          f"([autoreply] snippet)"])
    rule = acknowledgement_rule(config, [r.name for r in ruleset.rules])
    return dataclasses.replace(ruleset, rules=(*ruleset.rules, rule))
