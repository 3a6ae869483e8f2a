"""Snippets that learn (issue 17): what happened after each snippet was used, and what to make
of it (`tui-desk snippets stats | suggest`, the snippet picker's numbers).

Pure over the reports' per-conversation rows (desk.metrics.ConvMetrics, read as the plain tuples
the report cache keeps: no row object made, so 100k conversations take one pass) and over the
`csat` history events; the store is read by the two async functions at the bottom only.

Definitions (the README copies them). A snippet's *use* is an agent reply that used it (its
`reply` event names it: typed as ::name, picked, or `tui-desk reply --snippet`) sent in the
period; automatic replies are not uses. For each conversation answered with the snippet, "after
it" is after the last reply in the period that used it (time t):
- conversations: the conversations answered with it (those with history: mail alone never
  names a snippet).
- solved: the conversation is closed now, by a close at or after t, and no customer mail came
  after t but a thank-you (desk.thanks: the rule FCR reads too; metrics.timeline.asked_again).
  solved_share = solved / conversations.
- closed: a close at or after t (the close that left it closed, or one a reopen undid).
  reopened: one of those closes was undone (customer mail or a status change: metrics' reopen).
  reopen_rate = reopened / closed.
- median_close_seconds: the median of (the close that left it closed - t), over the
  conversations closed now by a close at or after t (desk.metrics.stats: an even count's median
  is the mean of the two middle values).
- csat: over the `csat` events of the period whose data names the snippet in "snippets":
  count, mean (of "score": great 3, okay 2, bad 1) and great_share (rating great / count).
Shares and the median are null when their count is 0.

Suggestions (`suggest`, thresholds in config [snippets]):
- automate: a snippet answering at least `min_uses` conversations with solved_share at least
  `automate_share` is offered as a rule draft (TOML for rules.toml, checked by
  desk.rules.load.parse_rules) that replies with it to new conversations like the ones it
  solved: `if` is the words of the frequent-question group it answers most, else its tags.
- new snippet: a frequent-question group (desk.questions) whose most used snippet is missing or
  solves less than `good_share` of its conversations is offered a snippet draft made from the
  agents' best real answer: among the group's conversations solved by their last agent reply
  (closed, no customer mail after it but a thank-you), the one closed fastest after the customer first wrote
  (ties: fastest after that reply, then the conversation number); the reply's own words
  (quotes cut), the customer's first name as {{customer_first_name}}.
- self-service: a snippet with a `kb:` URL whose question group is one of the frequent ones
  (the group's top snippet, or one of the group's terms is a word of the snippet's name or tags)
  suggests its link for those questions.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from tui_desk.desk import metrics
from tui_desk.desk.metrics.stats import stats
from tui_desk.desk.metrics.timeline import asked_again

if TYPE_CHECKING:
    from tui_desk.config import SnippetsConfig
    from tui_desk.desk.questions import QuestionGroup
    from tui_desk.desk.core import DeskCore
    from tui_desk.desk.snippets import Snippet

CSAT_SCORES = {"great": 3, "okay": 2, "bad": 1}
_F = metrics.ConvMetrics._fields
_CONV_ID, _SOURCE, _FIRST_CUSTOMER, _CUSTOMERS, _REPLIES, _CLOSED_AT, _REOPENS, _THANKS = (
    _F.index(f) for f in ("conv_id", "source", "first_customer_at", "customer_messages", "replies", "closed_at",
                          "reopens", "thanks"))
_R_AT, _R_SNIPPETS = metrics.Reply._fields.index("at"), metrics.Reply._fields.index("snippets")
_REOPEN_CLOSED_AT = metrics.Reopen._fields.index("closed_at")


@dataclass(frozen=True, slots=True)
class CsatVote:
    """A `csat` event: when, its score (3 great, 2 okay, 1 bad) and the snippets it names."""
    at: float
    score: int
    snippets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SnippetStats:
    name: str
    uses: int = 0
    conversations: int = 0
    solved: int = 0
    closed: int = 0
    reopened: int = 0
    median_close_seconds: float | None = None
    csat_count: int = 0
    csat_mean: float | None = None
    csat_great_share: float | None = None

    @property
    def solved_share(self) -> float | None:
        return self.solved / self.conversations if self.conversations else None

    @property
    def reopen_rate(self) -> float | None:
        return self.reopened / self.closed if self.closed else None

    def to_json(self) -> dict[str, Any]:
        """The keys of `tui-desk snippets stats --json` (README: stable)."""
        return {"name": self.name, "uses": self.uses, "conversations": self.conversations,
                "solved": self.solved, "solved_share": self.solved_share, "closed": self.closed,
                "reopened": self.reopened, "reopen_rate": self.reopen_rate,
                "median_close_seconds": self.median_close_seconds,
                "csat": {"count": self.csat_count, "mean": self.csat_mean, "great_share": self.csat_great_share}}


@dataclass(slots=True)
class _Tally:
    uses: int = 0
    conversations: int = 0
    solved: int = 0
    closed: int = 0
    reopened: int = 0
    close_times: list[float] = field(default_factory=list)
    scores: list[int] = field(default_factory=list)


def _bounds(since: float | None, until: float | None) -> tuple[float, float]:
    return (-float("inf") if since is None else since), (float("inf") if until is None else until)


def compute(rows: Iterable[tuple[Any, ...]], votes: Iterable[CsatVote] = (), *,
            since: float | None = None, until: float | None = None, names: Iterable[str] = ()) -> list[SnippetStats]:
    """Per snippet, by name: every name in `names` (the snippets there are) and every name used.
    `rows`: ConvMetrics or the plain tuples they are encoded from (desk.report_data.plain)."""
    lo, hi = _bounds(since, until)
    tallies: dict[str, _Tally] = {n: _Tally() for n in names}
    for row in rows:
        last: dict[str, float] = {}
        for reply in row[_REPLIES]:
            at = reply[_R_AT]
            if lo <= at < hi:
                for name in reply[_R_SNIPPETS]:
                    tallies.setdefault(name, _Tally()).uses += 1
                    last[name] = max(at, last.get(name, at))
        if not last or row[_SOURCE] != "history":
            continue
        closed_at = row[_CLOSED_AT]
        customers = row[_CUSTOMERS]
        undone = [r[_REOPEN_CLOSED_AT] for r in row[_REOPENS] or ()]
        for name, t in last.items():
            tally = tallies[name]
            tally.conversations += 1
            closed_now = closed_at is not None and closed_at >= t
            reopened = any(c >= t for c in undone)
            if closed_now:
                tally.close_times.append(closed_at - t)
                if not asked_again(customers, row[_THANKS], t):
                    tally.solved += 1
            if closed_now or reopened:
                tally.closed += 1
            if reopened:
                tally.reopened += 1
    for vote in votes:
        if lo <= vote.at < hi:
            for name in set(vote.snippets):
                tallies.setdefault(name, _Tally()).scores.append(vote.score)
    out = []
    for name in sorted(tallies):
        got = tallies[name]
        n = len(got.scores)
        great = sum(1 for score in got.scores if score == CSAT_SCORES["great"])
        out.append(SnippetStats(
            name, got.uses, got.conversations, got.solved, got.closed, got.reopened, stats(got.close_times).median,
            n, sum(got.scores) / n if n else None, great / n if n else None))
    return out


def csat_vote(at: float, data: dict[str, Any]) -> CsatVote | None:
    """A `csat` event's data read defensively (another client wrote it): None without a score."""
    score = data.get("score")
    if not isinstance(score, int) or isinstance(score, bool) or score not in CSAT_SCORES.values():
        score = CSAT_SCORES.get(str(data.get("rating", "")).lower())
    if score is None:
        return None
    names: list[str] = []
    used = data.get("snippets")
    for s in used if isinstance(used, list) else []:
        name = s.get("name") if isinstance(s, dict) else s
        if isinstance(name, str) and name and name not in names:
            names.append(name)
    return CsatVote(float(at), score, tuple(names))


# --- suggestions ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RuleDraft:
    snippet: str
    conversations: int
    solved_share: float
    toml: str
    problems: tuple[str, ...] = ()  # what desk.rules.load says of the draft (empty: it loads)


@dataclass(frozen=True, slots=True)
class SnippetDraft:
    question: str  # the group's label (from mail: sanitized here)
    size: int
    name: str  # a file name for it (snippets/<name>.md)
    conv_id: int  # the conversation whose reply it is made from
    text: str  # the whole file, front matter and body (sanitized)


@dataclass(frozen=True, slots=True)
class KbLink:
    snippet: str
    kb: str
    question: str
    size: int


@dataclass(frozen=True, slots=True)
class Suggestions:
    automate: tuple[RuleDraft, ...] = ()
    new_snippets: tuple[SnippetDraft, ...] = ()
    self_service: tuple[KbLink, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The keys of `tui-desk snippets suggest --json` (README: stable)."""
        return {
            "automate": [{"snippet": r.snippet, "conversations": r.conversations, "solved_share": r.solved_share,
                          "rule": r.toml, "problems": list(r.problems)} for r in self.automate],
            "new_snippets": [{"question": d.question, "size": d.size, "name": d.name, "conversation": d.conv_id,
                              "snippet": d.text} for d in self.new_snippets],
            "self_service": [{"snippet": k.snippet, "kb": k.kb, "question": k.question, "size": k.size}
                             for k in self.self_service],
        }


def _slug(text: str, fallback: str = "suggested") -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-")
    return slug or fallback


def _unique(name: str, taken: set[str]) -> str:
    """`name`, or name-2, name-3 ... : the first not in `taken` (which then holds it)."""
    found, n = name, 1
    while found in taken:
        n += 1
        found = f"{name}-{n}"
    taken.add(found)
    return found


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string


def automation_candidates(found: list[SnippetStats], config: SnippetsConfig) -> list[SnippetStats]:
    """The snippets that solve enough of enough conversations to be offered for automation."""
    return [s for s in found if s.conversations >= config.min_uses and s.solved_share is not None
            and s.solved_share >= config.automate_share]


def rule_draft(s: SnippetStats, snippet: Snippet | None, groups: list[QuestionGroup]) -> str:
    """rules.toml text replying with the snippet to new conversations like those it solved."""
    group = next((g for g in groups if g.top_snippet and g.top_snippet[0] == s.name), None)
    words = [t for t in (group.terms if group else ()) if re.fullmatch(r"[^\W_][\w'-]*", t)][:2]
    if words:
        from tui_desk.sanitize import sanitize_line
        condition, why = " ".join(words), f"questions like \"{sanitize_line(group.label) if group else ''}\""
    elif snippet is not None and snippet.tags:
        condition, why = " ".join(f"tag:{t}" for t in snippet.tags[:2]), "its tags"
    else:
        condition, why = _slug(s.name).replace("-", " "), "the words of its name"
    share = f"{(s.solved_share or 0) * 100:.0f}%"
    return "\n".join([
        f"# Suggested: ::{s.name} solved {share} of {s.conversations} conversations it answered.",
        f"# `if` is a guess from {why}:",
        "# check what it finds (tui-desk search) before you keep it.",
        "[[rule]]",
        f"name = {_toml_string('auto-reply ' + s.name)}",
        'on = "new"',
        f"if = {_toml_string(condition)}",
        f"do = [{_toml_string('reply ' + s.name)}]",
        ""])


def check_rule(text: str, path: Path, checks: Any) -> tuple[str, ...]:
    from tui_desk.desk.rules.load import RulesError, parse_rules
    try:
        parse_rules(text, path, checks)
    except RulesError as e:
        return tuple(e.errors)
    return ()


def groups_wanting_a_snippet(groups: list[QuestionGroup], by_name: dict[str, SnippetStats],
                             config: SnippetsConfig) -> list[QuestionGroup]:
    out = []
    for g in groups:
        top = by_name.get(g.top_snippet[0]) if g.top_snippet else None
        if top is None or top.solved_share is None or top.solved_share < config.good_share:
            out.append(g)
    return out


def best_answer(rows: Iterable[metrics.ConvMetrics]) -> tuple[int, float] | None:
    """(conversation, time of its reply) of the group's best real answer (module docstring)."""
    best: tuple[float, float, int, float] | None = None
    for row in rows:
        if row.source != "history" or row.closed_at is None or row.first_customer_at is None:
            continue
        before = [r for r in row.replies if r.at <= row.closed_at]
        if not before:
            continue
        last = before[-1]
        if asked_again(row.customer_messages, row.thanks, last.at):
            continue
        key = (row.closed_at - row.first_customer_at, row.closed_at - last.at, int(row.conv_id), last.at)
        if best is None or key < best:
            best = key
    return (best[2], best[3]) if best is not None else None


def snippet_text(label: str, body: str, customers: Sequence[str], agent_name: str = "",
                 captures: Iterable[tuple[str, str]] = (), is_ours: Callable[[str], bool] | None = None) -> str:
    """A snippet file from an agent's reply: its own words, with nothing of one customer left
    (desk.generalise: `customers` are the source conversation's, the one answered first; an order
    number becomes the placeholder of a capture rule in `captures`, and the file says the rule);
    the agent's name and first name (as the reply signed them) become placeholders too."""
    from tui_desk.desk.generalise import generalise
    from tui_desk.desk.quoting import split_quoted
    from tui_desk.sanitize import sanitize
    own = "\n".join(text for text, quoted in split_quoted(body) if not quoted).strip()
    found = generalise(own, customers=customers, agent=agent_name, captures=captures, is_ours=is_ours)
    front = [f"title: {draft_title(label, customers)}", "tags: [suggested]"]
    if found.captures:
        front.append("capture: {" + ", ".join(f"{n}: '{p.replace(chr(39), chr(39) * 2)}'" for n, p in found.captures)
                     + "}")
    return "\n".join(["---", *front, "---", sanitize(found.text).strip(), ""])


def draft_title(label: str, customers: Sequence[str] = ()) -> str:
    """A draft's title: the question's label, one line, nothing of one customer in it."""
    from tui_desk.desk.generalise import label as general_label
    from tui_desk.sanitize import sanitize_line
    return general_label(sanitize_line(label).replace("\n", " ").strip(), customers) or "Suggested answer"


def kb_links(snippets: list[Snippet], groups: list[QuestionGroup]) -> list[KbLink]:
    from tui_desk.sanitize import sanitize_line
    out = []
    for s in snippets:
        if not s.kb:
            continue
        words = {w.lower() for w in re.split(r"[-_\s]+", s.name)} | {t.lower() for t in s.tags}
        for g in groups:
            if (g.top_snippet and g.top_snippet[0] == s.name) or words & {t.lower() for t in g.terms}:
                out.append(KbLink(s.name, s.kb, sanitize_line(g.label), g.size))
    return out


# --- from the store -------------------------------------------------------------------------

async def csat_votes(desk: DeskCore, since: float | None = None, until: float | None = None) -> list[CsatVote]:
    """The `csat` events of the period (the CSAT survey records them; none without it)."""
    from tui_desk.store import events as store_events
    lo, hi = _bounds(since, until)
    found = await store_events.of_kind_since(desk.store, "csat", int(since) if since is not None else -(2 ** 62))
    votes = (csat_vote(e.event.at, e.event.data) for e in found if lo <= e.event.at < hi)
    return [v for v in votes if v is not None]


async def snippet_stats(desk: DeskCore, since: float | None = None, until: float | None = None) -> list[SnippetStats]:
    """Desk.snippet_stats: the report cache brought up to date, then one pass over its rows."""
    from tui_desk.desk import reports
    from tui_desk.desk.report_data import plain
    from tui_desk.store import report_cache
    await reports.update_cache(desk)
    data = await report_cache.cached(desk.store, since, until)
    votes = await csat_votes(desk, since, until)
    names = [s.name for s in desk.snippets()]

    def run() -> list[SnippetStats]:
        with metrics.gc_paused():
            return compute(plain(data), votes, since=since, until=until, names=names)
    return await asyncio.to_thread(run)


def _best_of(data: list[bytes]) -> tuple[int, float] | None:
    from tui_desk.desk.report_data import decode
    return best_answer(decode(d) for d in data)


async def suggest(desk: DeskCore, since: int, until: int) -> Suggestions:
    """What the history of [since, until) suggests (module docstring; config [snippets])."""
    from tui_desk.desk import reports
    from tui_desk.desk.rules.load import checks_for
    from tui_desk.store import queries, report_cache
    config = desk.config.snippets
    found = await snippet_stats(desk, since, until)
    by_name = {s.name: s for s in found}
    snippets = desk.snippets()
    known = {s.name: s for s in snippets}
    groups = await reports.questions(desk, since, until)
    checks = checks_for([*desk.config.team, desk.config.agent], list(known), desk.config.is_agent_address)
    automate = []
    for s in automation_candidates(found, config):
        text = rule_draft(s, known.get(s.name), groups)
        automate.append(RuleDraft(s.name, s.conversations, s.solved_share or 0.0, text,
                                  check_rule(text, desk.config.rules_path(), checks)))
    drafts = []
    taken = set(known)
    # the order numbers an agent's answer names become what the snippets' capture rules fill
    captures = list(dict.fromkeys(c for s in snippets for c in s.capture))
    for g in groups_wanting_a_snippet(groups, by_name, config):
        data = await report_cache.cached(desk.store, conv_ids=[int(c) for c in g.conv_ids])
        best = await asyncio.to_thread(_best_of, data)
        if best is None:
            continue
        conv_id, at = best
        mail = [m for m in await queries.messages_of(desk.store, conv_id) if not m["is_note"]]
        answers = [m for m in mail if m["is_agent"] and not m["auto_submitted"]]
        customers = [m for m in mail if not m["is_agent"]]
        if not answers:
            continue
        answer = min(answers, key=lambda m: abs((m["date"] or m["added_at"] or 0) - at))
        names = list(dict.fromkeys(m["sender_name"] or m["sender_addr"].partition("@")[0] for m in customers))
        title = draft_title(g.label, names)
        drafts.append(SnippetDraft(title, g.size, _unique(_slug(title), taken), conv_id,
                                   snippet_text(title, answer["body"] or "", names, answer["sender_name"] or "",
                                                captures, desk.config.is_agent_address)))
    return Suggestions(tuple(automate), tuple(drafts), tuple(kb_links(snippets, groups)))
