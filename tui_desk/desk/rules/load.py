"""rules.toml read and checked: every problem is one line `file:line: rule 'name': what`.

tomllib gives no line numbers for values, so they are found in the text: each `[[rule]]`
header starts a rule's span, and a key's line is the line in that span where `key =` is
written (an action's, the line holding its string). Every problem in the file is reported,
not only the first.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from tui_desk.desk.rules.actions import ActionChecks, ActionError, parse_action
from tui_desk.desk.rules.model import EVENTS, Action, EventKind, Rule, RuleSet
from tui_desk.desk.when import parse_span
from tui_desk.store.search import SearchError, parse_query

RULE_KEYS = ("name", "on", "if", "do", "every", "idle")
SCHEDULE_ONLY = ("every", "idle")
MESSAGE_EVENTS = ("new", "customer-reply")  # events about one mail: header: tests need one
_RULE_HEADER = re.compile(r"^\s*\[\[\s*rule\s*\]\]")
_TOML_LINE = re.compile(r"\(at line (\d+)")


class RulesError(Exception):
    """The rules file cannot be used; `errors` holds one line per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(errors[0] if len(errors) == 1 else f"{errors[0]} (and {len(errors) - 1} more)")
        self.errors = errors


class _Lines:
    """Where things are written in the file's text."""

    def __init__(self, text: str, rules: int) -> None:
        self.lines = text.splitlines()
        starts = [i for i, line in enumerate(self.lines) if _RULE_HEADER.match(line)]
        # a rule list written inline (rule = [{...}]) has no headers to count: its first line
        self.starts = starts if len(starts) == rules else [0] * rules

    def _span(self, index: int) -> range:
        start = self.starts[index]
        later = [s for s in self.starts if s > start]
        return range(start, later[0] if later else len(self.lines))

    def rule(self, index: int) -> int:
        return self.starts[index] + 1

    def key(self, index: int, key: str) -> int:
        pattern = re.compile(rf"^\s*(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')\s*=")
        for i in self._span(index):
            if pattern.match(self.lines[i]):
                return i + 1
        return self.rule(index)

    def value(self, index: int, key: str, value: str) -> int:
        """The line of a string in the rule's `key` (a list may span lines)."""
        first = self.key(index, key) - 1
        for literal in (json.dumps(value, ensure_ascii=False), f"'{value}'", value):
            for i in self._span(index):
                if i >= first and literal in self.lines[i]:
                    return i + 1
        return first + 1

    def top(self, key: str) -> int:
        pattern = re.compile(rf"^\s*(?:\[+\s*)?{re.escape(key)}\b")
        return next((i + 1 for i, line in enumerate(self.lines) if pattern.match(line)), 1)


def parse_rules(text: str, path: Path, checks: ActionChecks | None = None) -> RuleSet:
    """The rules in `text` (the contents of `path`). Raises RulesError with every problem.
    `checks`: what agent and snippet names are checked against (None: names are not checked)."""
    checks = checks or ActionChecks()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = _TOML_LINE.search(str(e))
        raise RulesError([f"{path}:{m.group(1) if m else 1}: not valid TOML: {_TOML_LINE.split(str(e))[0].strip()}"]
                         ) from None
    errors: list[str] = []
    tables = data.get("rule", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise RulesError([f"{path}:{_Lines(text, 0).top('rule')}: rules are [[rule]] tables"])
    lines = _Lines(text, len(tables))
    for key in data:
        if key != "rule":
            errors.append(f"{path}:{lines.top(key)}: unknown key '{key}' (a rules file holds [[rule]] tables)")
    rules: list[Rule] = []
    names: dict[str, int] = {}
    for index, table in enumerate(tables):
        rule = _rule(index, table, path, lines, checks, names, errors)
        if rule is not None:
            rules.append(rule)
    if errors:
        prefix = len(f"{path}:")
        errors.sort(key=lambda e: int(e[prefix:].split(":", 1)[0]))  # in the file's order
        raise RulesError(errors)
    return RuleSet(path, tuple(rules))


def _rule(index: int, table: dict[str, Any], path: Path, lines: _Lines, checks: ActionChecks,
          names: dict[str, int], errors: list[str]) -> Rule | None:
    raw_name = table.get("name")
    name = raw_name.strip() if isinstance(raw_name, str) else ""
    who = f"rule '{name}'" if name else f"rule #{index + 1}"
    before = len(errors)

    def error(line: int, message: str) -> None:
        errors.append(f"{path}:{line}: {who}: {message}")

    for key in table:
        if key not in RULE_KEYS:
            error(lines.key(index, key), f"unknown key '{key}' (known: {', '.join(RULE_KEYS)})")
    if not name:
        error(lines.key(index, "name") if "name" in table else lines.rule(index), "needs a name = \"...\"")
    elif name.lower() in names:
        error(lines.key(index, "name"), f"the name is used already (line {names[name.lower()]})")
    else:
        names[name.lower()] = lines.key(index, "name")
    on = table.get("on")
    if on is None:
        error(lines.rule(index), f"needs on = one of {', '.join(EVENTS)}")
    elif on not in EVENTS:
        error(lines.key(index, "on"), f"unknown event {on!r} (events: {', '.join(EVENTS)})")
    condition = table.get("if", "")
    query = None
    if not isinstance(condition, str):
        error(lines.key(index, "if"), "if is a search, written as a string")
    else:
        try:
            query = parse_query(condition, rule_keys=True)
        except SearchError as e:
            error(lines.key(index, "if"), f"if: {e}")
        else:
            if query.headers and on in EVENTS and on not in MESSAGE_EVENTS:
                error(lines.key(index, "if"), f"header: tests need a mail: only on {' or '.join(MESSAGE_EVENTS)}")
    actions = _actions(index, table, lines, checks, error)
    spans: dict[str, int | None] = {}
    for key in SCHEDULE_ONLY:
        value = table.get(key)
        spans[key] = None
        if value is None:
            continue
        if on != "schedule":
            error(lines.key(index, key), f"{key} is for on = \"schedule\" rules")
        elif not isinstance(value, str) or not parse_span(value):
            error(lines.key(index, key), f"{key}: wants a length of time like \"1h\" or \"3d\", not {value!r}")
        else:
            spans[key] = parse_span(value)
    if on == "schedule" and table.get("every") is None:
        error(lines.rule(index), "a schedule rule needs every = \"1h\" (how often it looks)")
    if len(errors) > before or query is None or on not in EVENTS:
        return None
    event: EventKind = EVENTS[EVENTS.index(on)]
    return Rule(name, event, condition, query, tuple(actions), lines.rule(index), spans["every"], spans["idle"])


def _actions(index: int, table: dict[str, Any], lines: _Lines, checks: ActionChecks,
             error: Callable[[int, str], None]) -> list[Action]:
    do = table.get("do")
    if do is None or do == []:
        error(lines.rule(index), "needs do = [\"...\"], the actions")
        return []
    if isinstance(do, str):
        do = [do]
    if not isinstance(do, list) or not all(isinstance(a, str) for a in do):
        error(lines.key(index, "do"), "do is a list of action strings")
        return []
    actions = []
    for text in do:
        try:
            actions.append(parse_action(text, checks))
        except ActionError as e:
            error(lines.value(index, "do", text), str(e))
    return actions


def load_rules(path: Path, checks: ActionChecks | None = None, *, required: bool = False) -> RuleSet:
    """The rules at `path`; a missing file is no rules (unless `required`: a file the config names)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            raise RulesError([f"{path}: no such file (named by [rules] file in the config)"]) from None
        return RuleSet(path, (), exists=False)
    except (OSError, UnicodeDecodeError) as e:
        raise RulesError([f"{path}: cannot read: {e}"]) from None
    return parse_rules(text, path, checks)


def checks_for(agents: Collection[str], snippets: Collection[str] | None,
               is_own_address: Callable[[str], bool] | None) -> ActionChecks:
    """`agents`: the desk's known agents (DeskCore.known_agents: the config's and the store's), which
    an `assign` resolves against as the app and the CLI do (desk.agent_names.resolve)."""
    return ActionChecks(agents=list(dict.fromkeys(agents)), snippets=set(snippets) if snippets is not None else None,
                        is_own_address=is_own_address)
