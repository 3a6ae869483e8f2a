"""`tui-desk rules check` and `tui-desk rules test ID`: the rules file checked, and what its
rules would do to a conversation, without doing it."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from tui_desk.cli.output import UsageError, add_json, command, print_json, say
from tui_desk.desk.wording import counted
from tui_desk.config import Config, ConfigError, default_db_path
from tui_desk.desk.rules import EVENTS, Event, PlannedAction, RulesError, RuleSet, plan
from tui_desk.desk.rules.engine import firing
from tui_desk.desk.rules.model import Rule
from tui_desk.desk.rules.timed import not_in_state
from tui_desk.desk.snippets import default_snippet_dirs, load_snippets

if TYPE_CHECKING:
    from tui_desk.desk.service import Desk


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(sub, "rules", "rules.toml: check it, or test what its rules would do to a conversation")
    rules = p.add_subparsers(dest="rules_command", metavar="check|test", required=True)
    command(rules, "check", "validate the rules file: one line per problem, with file and line")
    t = command(rules, "test", "what the rules would do to conversation ID on an event (nothing is done)")
    t.add_argument("id", type=int, help="the conversation's number (the first column of queue and search)")
    t.add_argument("--on", choices=EVENTS, default="new", help="the event (default: new)")
    add_json(t)


def run_rules(args: argparse.Namespace, config: Config) -> int:
    from tui_desk.store.db import store_errors
    db = args.db or default_db_path()
    with store_errors(db):
        return asyncio.run(_run(args, config, db))


async def _run(args: argparse.Namespace, config: Config, db: Path) -> int:
    """The rules as the desk reads them (desk.rules.fire.read_rules: the agents its store knows
    count), then checked or tested. `check` without a store reads them against the config's
    agents (no store is made for it)."""
    from tui_desk.desk.rules.fire import read_rules, rules_of
    from tui_desk.desk.service import Desk
    desk = await Desk.open(db, config, check=False) if args.rules_command == "test" or db.exists() else None
    try:
        try:
            if desk is not None:
                ruleset = await read_rules(desk)
            else:
                snippets, _ = load_snippets(default_snippet_dirs())
                ruleset = rules_of(config, [s.name for s in snippets], [config.agent, *config.team])
        except RulesError as e:
            for line in e.errors:
                say(line)
            if args.rules_command == "test":  # the desk runs none of them: no test of them would be true
                say(f"rules test: the desk runs no rule until {'this is' if len(e.errors) == 1 else 'these are'} "
                    "fixed (tui-desk rules check)")
            return 1
        if args.rules_command == "check":
            return _check(ruleset)
        assert desk is not None
        return await _test(args, desk, ruleset)
    finally:
        if desk is not None:
            await desk.close()


def _check(ruleset: RuleSet) -> int:
    implicit = [r for r in ruleset.rules if r.fallback_reply]
    if not ruleset.exists:
        say(f"{ruleset.path}: no rules file (no rules)")
    else:
        n = len(ruleset.rules) - len(implicit)
        say(f"{ruleset.path}: {counted(n, 'rule')} OK")
    for rule in implicit:
        say(f"[autoreply] acknowledge: rule '{rule.name}' answers every new conversation with "
            f"snippet '{rule.actions[0].value}' unless a rule replies to it")
    return 0


async def _test(args: argparse.Namespace, desk: Desk, ruleset: RuleSet) -> int:
    matched, planned, waits = await _planned(desk, ruleset, args.id, args.on)
    as_if = await not_in_state(desk, args.id, args.on)
    if args.json:
        print_json({"conversation": args.id, "event": args.on, "as_if": as_if, "matched": [r.name for r in matched],
                    "actions": [{"rule": p.rule, "action": p.action.text, "says": p.says, "held": p.held,
                                 "expected_wait": waits.get(i)}
                                for i, p in enumerate(planned)]})
        return 0
    if as_if is not None:
        say(f"(#{args.id} {as_if}; shown as if it were)")
    if not matched:
        say(f"no rule fires on conversation {args.id} on {args.on}")
        return 0
    for i, p in enumerate(planned):
        told = f" (tells the customer: {waits[i]})" if i in waits and not p.held else ""
        say(p.says + (f" (held: {p.held})" if p.held else "") + told)
    acting = {p.rule for p in planned}
    replies = any(p.action.kind == "reply" for p in planned)
    for rule in matched:
        if rule.name in acting:
            continue
        if rule.fallback_reply and replies:
            say(f"rule '{rule.name}' matches but stands aside: another rule replies")
        else:  # it matches, but what it does is so already (the tag is there, the status set)
            say(f"rule '{rule.name}' matches conversation {args.id} on {args.on}: nothing left to do "
                "(what it does is done already)")
    return 0


async def _planned(desk: Desk, ruleset: RuleSet, conv_id: int,
                   on: str) -> tuple[list[Rule], list[PlannedAction], dict[int, str]]:
    """(the rules that match, what they would do, the wait each planned reply would tell the
    customer by its index). A reply the rate limits would hold now is planned held, as the run
    holds it (desk.rules.execute.rate_block)."""
    from tui_desk.desk.commands import CommandError
    from tui_desk.desk.rules.execute import rate_block, told_wait
    from tui_desk.desk.rules.facts import gather
    event = Event(EVENTS[EVENTS.index(on)], conv_id, desk.now())  # argparse checked `on`
    facts = await gather(desk, ruleset.rules, event)
    if facts is None:
        raise UsageError(f"no conversation {conv_id}")
    planned = plan(ruleset.rules, event, facts)
    waits: dict[int, str] = {}
    for i, p in enumerate(planned):
        if p.action.kind != "reply" or p.held is not None:
            continue
        # an agent's own status change is held by the hourly cap only (desk.rules.execute._reply)
        try:
            block = await rate_block(desk, conv_id, cap_only=event.kind == "status" and not event.caused_by)
        except (CommandError, ConfigError):  # no account to reply from: no recipients to count (a run says so)
            block = None
        if block is not None:
            planned[i] = dataclasses.replace(p, held=block)
        elif (wait := await told_wait(desk, conv_id, p.action.value)) is not None:
            waits[i] = wait
    return firing(ruleset.rules, event, facts), planned, waits
