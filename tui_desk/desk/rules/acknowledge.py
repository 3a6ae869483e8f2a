"""The acknowledgement without a rule (issue 16): `[autoreply] acknowledge = true` in config.toml
adds one implicit last rule to the rules the desk runs:

    name = "acknowledgement", on = "new", do = ["reply <[autoreply] snippet>"]

so every new conversation gets the acknowledgement snippet through the same path as a rule's
`reply` (the claim on the server, once across a team; the RFC 3834 guards and rate limits; an
`autoreply` history event, never an agent's reply). It is a fallback: on a mail another rule
already replies to (any `reply` on `new`), it stands aside (engine.plan), so the customer gets
one answer, not two. `tui-desk rules test ID` lists it like the rules of the file.

It acknowledges a question, so it holds its reply (and says why, as the guards' holds are said)
for a new conversation whose first mail asks nothing (`not_a_question`):
- a thank-you: the mail's own words only thank (desk.thanks, the reports' one rule), e.g.
  "Thanks, that worked!";
- a reply to one of the customer's conversations that mail did not thread into: a subject with
  a reply prefix ("Re:", "AW:", "Ответ:": mail.threading.strip_subject_prefixes) whose rest is
  the subject of a conversation of the same customer address with mail in the last 30 days,
  and no In-Reply-To or References (mail that has them was threaded by them, or names mail the
  desk never had).
Threading is left as it is: subjects never join conversations (mail.threading; the store and
notmuch must agree on every thread), and a customer's "Re: Order arrived damaged" may be a new
matter. The conversation stays for a person to read, merge or close; only no promise of an
answer goes to a customer who asked nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tui_desk.config import Config, default_config_path
from tui_desk.desk.priority import clean_subject
from tui_desk.desk.rules.load import RulesError
from tui_desk.desk.rules.model import Action, MessageFacts, Rule, RuleSet
from tui_desk.desk.thanks import only_thanks
from tui_desk.mail.threading import strip_subject_prefixes
from tui_desk.sanitize import sanitize_line
from tui_desk.store import queries
from tui_desk.store.search import parse_query

if TYPE_CHECKING:
    from tui_desk.desk.core import DeskCore as Desk  # the core its work needs (desk.core)

NAME = "acknowledgement"
EARLIER_WITHIN = 30 * 86400  # a conversation of the customer's with mail this recent: a reply's


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


def _same(subject: str) -> str:
    return " ".join(clean_subject(subject).split()).casefold()


async def not_a_question(desk: Desk, asked: Sequence[tuple[int, MessageFacts]]) -> list[str | None]:
    """For each (conversation, its first mail): why the acknowledgement does not answer it (module
    docstring), None when it does. The store is asked twice for the whole batch."""
    if not asked:
        return []
    mail = await queries.mail_for_acknowledgement(desk.store, [m.message_id for _, m in asked])
    replies = [(cid, m) for cid, m in asked if (row := mail.get(m.message_id)) is not None
               and strip_subject_prefixes(row["subject"] or "", forwards=False) != (row["subject"] or "").strip()
               and not row["in_reply_to"] and json.loads(row["refs_json"] or "[]") == []]
    reply_ids = {m.message_id for _, m in replies}
    earlier = await queries.conversations_of_customers(
        desk.store, [m.sender for _, m in replies if m.sender], desk.now() - EARLIER_WITHIN) if replies else []
    out: list[str | None] = []
    for cid, message in asked:
        row = mail.get(message.message_id)
        if row is None:
            out.append(None)
            continue
        if only_thanks(row["body"] or ""):
            out.append("the customer only thanks: no question to acknowledge")
            continue
        found = next((e for e in earlier if message.message_id in reply_ids and e["id"] != cid
                      and e["customer_key"] == message.sender and _same(e["subject"]) == _same(row["subject"] or "")),
                     None)
        out.append(f"a reply to #{found['id']} '{sanitize_line(found['subject'])}' of the same customer: "
                   "no new question" if found is not None else None)
    return out
