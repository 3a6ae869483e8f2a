"""Rules (issue 16): rules.toml read and checked (load), what a rule would do to a conversation
on an event (engine.plan, pure), the loop and abuse guards for automatic mail (guards, pure),
and the conversation facts the desk gathers for the engine (facts).

Planning and doing are apart: `plan()` returns PlannedActions and changes nothing; the executor
(execute) applies them through the desk's one command path (desk.commands) and says in the
conversation what each rule did; fire runs it on new mail after each sync pass, claimed once
per team on the server (sync.claims), and on status changes; timed runs the events of the
desk's clock (sla-warning, sla-breach, schedule) after a pass, claimed the same way.
"""

from tui_desk.desk.rules.engine import plan
from tui_desk.desk.rules.load import RulesError, load_rules, parse_rules
from tui_desk.desk.rules.model import (
    EVENTS, Action, ConversationFacts, Event, MessageFacts, PlannedAction, Rule, RuleSet,
)

__all__ = ["EVENTS", "Action", "ConversationFacts", "Event", "MessageFacts", "PlannedAction", "Rule", "RuleSet",
           "RulesError", "load_rules", "parse_rules", "plan"]
