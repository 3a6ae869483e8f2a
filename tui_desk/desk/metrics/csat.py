"""Customer satisfaction figures (issue 17): pure functions over the survey answers (`csat`
history events, desk.csat), beside the report's other metrics.

An answer counts in the period by its own time (the answer mail's date), in [since, until).
Breakdowns are the report's: `agent` (the agent the survey named: the assignee, else the last
replier at survey time), `tag` (the conversation's tags now; an answer counts under each),
`snippet` (the snippets of the agent's replies, each), `domain` (the customer's mail domain),
`day` / `week` (the answer's local date / ISO week). Missing keys are null, sorted last.

JSON (`report --json`, key `csat`): the headline group's keys and `breakdowns` {by: [GROUP]}.
GROUP: `key`, `count`, `great`, `okay`, `bad` (how many answers of each rating), `share`
{`great`, `okay`, `bad`} (fractions of `count`; null when count is 0), `score_mean` (great 3,
okay 2, bad 1; null when count is 0).

CSV (`report --csv`): CSV_HEADER after the report's own columns, on the headline row and on each
breakdown group's row (`csv_cells`; a group without answers: counts 0, shares and mean empty).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from tui_desk.desk.agent_names import AgentNames, agent_order
from tui_desk.desk.metrics.load import LocalTime

RATINGS = ("great", "okay", "bad")


@dataclass(frozen=True)
class CsatAnswer:
    at: float
    rating: str  # great | okay | bad
    score: int  # 3 | 2 | 1
    agent: str | None = None
    tags: tuple[str, ...] = ()
    snippets: tuple[str, ...] = ()
    domain: str | None = None


@dataclass(frozen=True)
class CsatGroup:
    key: str | None
    count: int
    great: int
    okay: int
    bad: int
    score_sum: int

    @property
    def score_mean(self) -> float | None:
        return round(self.score_sum / self.count, 3) if self.count else None

    def share(self, rating: str) -> float | None:
        return round(getattr(self, rating) / self.count, 4) if self.count else None

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "count": self.count, "great": self.great, "okay": self.okay, "bad": self.bad,
                "share": {r: self.share(r) for r in RATINGS}, "score_mean": self.score_mean}


CSV_HEADER = ("csat_count", "csat_great", "csat_okay", "csat_bad", "csat_share_great", "csat_share_okay",
              "csat_share_bad", "csat_score_mean")


def csv_cells(g: CsatGroup | None) -> list[Any]:
    """The CSV_HEADER cells of a group (None: no answers)."""
    if g is None:
        return [0, 0, 0, 0, None, None, None, None]
    return [g.count, g.great, g.okay, g.bad, *(g.share(r) for r in RATINGS), g.score_mean]


def _group(key: str | None, answers: Iterable[CsatAnswer]) -> CsatGroup:
    found = list(answers)
    counts = {r: sum(1 for a in found if a.rating == r) for r in RATINGS}
    return CsatGroup(key, len(found), counts["great"], counts["okay"], counts["bad"], sum(a.score for a in found))


@dataclass(frozen=True)
class Csat:
    headline: CsatGroup
    breakdowns: dict[str, tuple[CsatGroup, ...]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {**self.headline.to_json(),
                "breakdowns": {by: [g.to_json() for g in groups] for by, groups in self.breakdowns.items()}}


NO_CSAT = Csat(CsatGroup(None, 0, 0, 0, 0, 0))


def _keys(by: str, a: CsatAnswer, local: LocalTime) -> tuple[str | None, ...]:
    if by == "agent":
        return (a.agent,)
    if by == "tag":
        return a.tags or (None,)
    if by == "snippet":
        return a.snippets or (None,)
    if by == "domain":
        return (a.domain,)
    if by == "day":
        return (local(a.at)[4],)
    if by == "week":
        return (local(a.at)[5],)
    raise ValueError(f"breakdown is one of agent, tag, snippet, domain, day, week, not {by!r}")


def csat_report(answers: Iterable[CsatAnswer], since: float, until: float, *, zone: str = "UTC",
                by: Iterable[str] = (), agents: Iterable[str] = ()) -> Csat:
    """The answers given in [since, until), with a breakdown for each of `by`; by agent, names
    equal but for case are one agent, spelled as `agents` (the config's) do (desk.agent_names)."""
    found = [a for a in answers if since <= a.at < until]
    local = LocalTime(zone)
    spelling = AgentNames(tuple(agents), (a.agent for a in found))
    breakdowns: dict[str, tuple[CsatGroup, ...]] = {}
    for b in by:
        groups: dict[str | None, list[CsatAnswer]] = {}
        for a in found:
            for k in dict.fromkeys(_keys(b, a, local)):
                groups.setdefault(spelling(k) if b == "agent" else k, []).append(a)
        order = agent_order if b == "agent" else (lambda k: (k is None, k or ""))
        breakdowns[b] = tuple(_group(k, groups[k]) for k in sorted(groups, key=order))
    return Csat(_group(None, found), breakdowns)
