"""The measured expected wait (issue 16): when a human will answer a new conversation, in words
a customer reads, and how that was worked out.

    samples = first_responses(rows, now)               # the last 7 days' answered first waits
    wait = expected_wait(samples, tags=("billing",), priority_class="normal", arrival=t, now=t,
                         clock=clock, zone=zone, default_seconds=4 * 3600, min_samples=5)
    wait.words  -> "in about 2 hours"
    wait.how()  -> "expected wait 'in about 2 hours' (p75 1h 40m business time of 9 first responses
                    with tag billing, last 7 days)"   (explain(wait.record()): the agent reads it)

The wait, truthful (a customer is told it, and the desk is held to it):
1. measured: the p75 (nearest rank) of the first-response times, in business seconds, of the
   conversations whose first answer came in the last 7 days and that are comparable: sharing a
   tag with this one, else of its priority class (desk.priority.priority_class), else all of
   them; each step needs `min_samples`;
2. with fewer, even for all: the conversation's SLA first-response target when one is set
   (a 1 h target is not told "4 hours"), else the configured default;
3. raised by the backlog: the conversations whose customer has waited longer than this one
   (open, not snoozed) are answered first, so the wait is at least how long they take at the
   measured pace (the first answers of the last 7 days per business second of that week). The
   larger of the two is told, never less than what is measured; with no answers in the week
   there is no pace, and the backlog is only counted in the record.
The answer is then the arrival moved to the next opening (off-hours mail waits for it) plus that
many business seconds, back on the wall clock (BusinessClock.add), rounded into the words of
WORDS (one table, English, so a translation can come later) in the desk's zone, which a clock
time names ("later today, by 16:15 CET", "tomorrow morning, Tuesday 9:00 (UTC+4)"): the customer
may be elsewhere. ExpectedWait.how() says which of these made the wait.

`for_conversation(desk, conv_id)` reads the cached per-conversation metrics (desk.reports).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

from tui_desk.desk import reports
from tui_desk.desk.business_time import BusinessClock, business_clock
from tui_desk.desk.metrics import ConvMetrics
from tui_desk.desk.metrics.stats import nearest_rank
from tui_desk.desk.priority import priority_class
from tui_desk.desk.report_data import decode
from tui_desk.desk.timefmt import format_duration, format_zoned_clock, local_zone
from tui_desk.desk.wording import counted
from tui_desk.sanitize import sanitize_line
from tui_desk.store import queries, report_cache

if TYPE_CHECKING:
    from tui_desk.desk.core import DeskCore

WINDOW = 7 * 86400  # first answers of the last 7 days count

# Every word a customer reads, in one place. {n} hours, {time} "9:00 CET" (with the desk's zone:
# timefmt.format_zoned_clock; a customer elsewhere reads it too), {weekday} "Monday",
# {part} one of PARTS, {day} {month} "14 December".
WORDS = {
    "within_hour": "within the hour",
    "about_hour": "in about an hour",
    "hours": "in about {n} hours",
    "later_today": "later today, by {time}",
    "tomorrow": "tomorrow {part}, {weekday} {time}",
    "this_week": "on {weekday} {part}, {time}",
    "later": "on {weekday} {day} {month}, {time}",
    "parts": ("morning", "afternoon", "evening"),  # before 12:00, before 17:00, later
    "weekdays": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "months": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December"),
}
HOURS_IN_WORDS = 5  # up to this many hours ahead: "in about N hours"; beyond: a day and a time
ROUND_TO = 15 * 60  # a time said is rounded up to the quarter hour


@dataclass(frozen=True, slots=True)
class Sample:
    """One answered first wait: business seconds, the conversation's tags and priority class."""
    wait: float
    tags: tuple[str, ...] = ()
    priority_class: str = "normal"


@dataclass(frozen=True, slots=True)
class ExpectedWait:
    words: str  # what the customer reads ("in about 2 hours")
    answer_by: float  # the moment the words describe
    arrival: float
    opens: float  # the arrival moved to the next opening
    wait: float  # business seconds added to `opens`
    default: bool  # too little history: the configured default wait
    samples: int  # comparable first responses found
    p75: float | None  # their p75 (None: default)
    comparable: str  # "tag:billing", "priority:vip", "all"
    min_samples: int
    business: bool = True  # business hours are set: the waits are business time
    target: bool = False  # too little history: the SLA's first-response target, not the default
    ahead: int = 0  # conversations waiting longer than this one, answered first
    backlog: float | None = None  # business seconds they take at the measured pace (None: no pace)
    answered: int = 0  # first answers of the last 7 days, all conversations (the pace)

    def how(self) -> str:
        """One line for the agent: the value and how it was computed (explain)."""
        return explain(self.record())

    def record(self) -> dict[str, Any]:
        """What an `autoreply` history event keeps of it (JSON; explain() reads it back)."""
        return {"words": self.words, "default": self.default, "samples": self.samples, "p75_seconds": self.p75,
                "wait_seconds": self.wait, "comparable": self.comparable, "min_samples": self.min_samples,
                "from_opening": self.opens > self.arrival, "business": self.business, "target": self.target,
                "ahead": self.ahead, "backlog_seconds": self.backlog, "answered": self.answered}

    def to_json(self, zone: dt.tzinfo) -> dict[str, Any]:
        def iso(t: float) -> str:
            return dt.datetime.fromtimestamp(t, zone).isoformat()
        return {"words": self.words, "answer_by": iso(self.answer_by), "arrival": iso(self.arrival),
                "opens": iso(self.opens), "wait_seconds": self.wait, "default": self.default,
                "samples": self.samples, "p75_seconds": self.p75, "comparable": self.comparable,
                "how": self.how()}


def explain(record: dict[str, Any]) -> str:
    """The line the agent reads about an expected wait, from ExpectedWait.record() (which a
    teammate's history event carries too: every value is checked and sanitized here):
    "expected wait 'in about 2 hours' (p75 1h 40m business time of 12 first responses with
    tag billing, last 7 days)"."""
    def number(key: str) -> float:
        value = record.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return 0.0
        return min(max(float(value), 0.0), 1e9)

    words = sanitize_line(str(record.get("words") or "?"))
    comparable = sanitize_line(str(record.get("comparable") or "all"))
    kind, _, value = comparable.partition(":")
    scope = (f"with tag {' or '.join(value.split(','))}" if kind == "tag" and value else
             f"of priority {value}" if kind == "priority" and value else "of all conversations")
    samples = int(number("samples"))
    moved = ", from the next opening" if record.get("from_opening") is True else ""
    responses = counted(samples, "first response") if samples else "no first responses"
    if record.get("default") is True or record.get("p75_seconds") is None:
        source = "the SLA's first-response target" if record.get("target") is True else "default wait"
        few = f"only {responses}" if samples else responses
        basis = (f"{source} {format_duration(number('wait_seconds'))}: {few} {scope} in the last 7 days, "
                 f"{int(number('min_samples'))} needed")
    else:
        # "business time" only where business hours are set (a record from before says nothing)
        time_of = " business time of" if record.get("business") is True else " of"
        basis = f"p75 {format_duration(number('p75_seconds'))}{time_of} {responses} {scope}, last 7 days"
    ahead = int(number("ahead"))
    if ahead:
        waiting = counted(ahead, "conversation") + (" waits" if ahead == 1 else " wait") + " longer"
        if isinstance(record.get("backlog_seconds"), (int, float)) and not isinstance(record.get("backlog_seconds"), bool):
            pace = f"at the pace of {counted(int(number('answered')), 'first answer')} in 7 days"
            took = format_duration(number("backlog_seconds"))
            raised = number("backlog_seconds") > (number("p75_seconds") if record.get("p75_seconds") is not None
                                                  else number("wait_seconds")) - 1
            basis += (f"; {waiting}: {took} {pace}, " + ("which is longer" if raised else "within that"))
        else:
            basis += f"; {waiting} (no answers in the last 7 days to measure their pace)"
    return f"expected wait '{words}' ({basis}{moved})"


def first_responses(rows: Iterable[ConvMetrics], now: float, classes: dict[str, str] | None = None,
                    exclude: str | None = None) -> list[Sample]:
    """The first waits answered in [now - 7 days, now), in business seconds when the row has them.
    `classes`: conv_id -> priority class (missing: "normal"); `exclude`: a conv_id left out."""
    out: list[Sample] = []
    for r in rows:
        if r.frt is None or r.first_customer_at is None or r.conv_id == exclude:
            continue
        answered = r.first_customer_at + r.frt
        if not now - WINDOW <= answered < now:
            continue
        wait = r.frt_business if r.frt_business is not None else r.frt
        out.append(Sample(wait, tuple(r.tags), (classes or {}).get(r.conv_id, "normal")))
    return out


def comparable(samples: list[Sample], tags: tuple[str, ...], priority_class: str,
               min_samples: int) -> tuple[list[float], str]:
    """(the waits, which comparison): same tag, else same priority class, else all; the first
    with at least `min_samples` (none has: all of them, too few)."""
    wanted = set(tags)
    if wanted:
        same_tag = [s.wait for s in samples if wanted & set(s.tags)]
        if len(same_tag) >= min_samples:
            return same_tag, "tag:" + ",".join(sorted(wanted))
    same_class = [s.wait for s in samples if s.priority_class == priority_class]
    if len(same_class) >= min_samples:
        return same_class, f"priority:{priority_class}"
    return [s.wait for s in samples], "all"


def expected_wait(samples: list[Sample], *, tags: tuple[str, ...], priority_class: str, arrival: float,
                  now: float, clock: BusinessClock, zone: dt.tzinfo, default_seconds: float,
                  min_samples: int, target_seconds: float | None = None, ahead: int = 0,
                  week_seconds: float | None = None) -> ExpectedWait:
    """The wait (module docstring). `target_seconds`: the SLA's first-response target (business
    seconds); `ahead`: the conversations waiting longer than this one; `week_seconds`: the
    business seconds of the last 7 days, over which all of `samples` were answered (the pace)."""
    waits, which = comparable(samples, tags, priority_class, min_samples)
    default = len(waits) < min_samples
    p75 = None if default else nearest_rank(sorted(waits), 3, 4)
    target = p75 is None and target_seconds is not None
    base = p75 if p75 is not None else float(target_seconds) if target_seconds is not None else float(default_seconds)
    backlog = None
    if ahead and samples and week_seconds:
        backlog = ahead * week_seconds / len(samples)  # the queue ahead at the measured pace
    wait = max(base, backlog or 0.0)
    opens = clock.next_open(arrival)
    answer_by = clock.add(opens, wait)
    return ExpectedWait(words(now, max(answer_by, now), zone), answer_by, arrival, opens, wait, default,
                        len(waits), p75, which, min_samples, business=not clock.always, target=target,
                        ahead=ahead, backlog=backlog, answered=len(samples))


def words(now: float, answer_by: float, zone: dt.tzinfo) -> str:
    """`answer_by` as a customer reads it at `now`, in `zone` (WORDS)."""
    ahead = answer_by - now
    if ahead <= 3600:
        return str(WORDS["within_hour"])
    hours = round(ahead / 3600)
    if hours <= 1:
        return str(WORDS["about_hour"])
    if hours <= HOURS_IN_WORDS:
        return str(WORDS["hours"]).format(n=hours)
    rounded = -(-answer_by // ROUND_TO) * ROUND_TO
    when = dt.datetime.fromtimestamp(rounded, zone)
    today = dt.datetime.fromtimestamp(now, zone).date()
    days = (when.date() - today).days
    parts, weekdays, months = WORDS["parts"], WORDS["weekdays"], WORDS["months"]
    values = {"time": format_zoned_clock(when), "weekday": weekdays[when.weekday()], "day": when.day,
              "month": months[when.month - 1], "part": parts[0 if when.hour < 12 else 1 if when.hour < 17 else 2]}
    key = "later_today" if days <= 0 else "tomorrow" if days == 1 else "this_week" if days < 7 else "later"
    return str(WORDS[key]).format(**values)


async def for_conversation(desk: DeskCore, conv_id: int) -> ExpectedWait:
    """The expected wait of a conversation now: its waiting customer's mail (else now) as the
    arrival, the desk's cached metrics as the history, its SLA first-response target, the
    conversations waiting longer (module docstring), [autoreply] default_wait / min_samples."""
    now = float(desk.now())
    cfg = desk.config
    found = await reports.rows(desk, now - WINDOW, now)  # rows with anything (an answer) in the window
    mine = next((decode(d) for d in await report_cache.cached(desk.store, conv_ids=[conv_id])), None)
    ids = [int(r.conv_id) for r in found] + [conv_id]
    convs = await queries.conversation_rows(desk.store, ids)
    classes = {str(cid): priority_class(row["customer_key"] or "", row["subject"] or "", cfg.priority)
               for cid, row in convs.items()}
    tags = (await queries.tags_of(desk.store, [conv_id])).get(conv_id, ())
    arrival = mine.unanswered_since if mine is not None and mine.unanswered_since is not None else now
    arrival = min(arrival, now)
    clock = business_clock(cfg.priority)
    target = None
    if cfg.sla.configured():
        from tui_desk.desk.sla import slas_of  # the store's SLA timelines: only with [sla] targets
        sla = (await slas_of(desk, [conv_id])).get(conv_id)
        minutes = sla.target("first_response").minutes if sla is not None else cfg.sla.first_response_minutes
        target = minutes * 60.0 if minutes else None
    ahead = await queries.waiting_longer(desk.store, arrival, conv_id, int(now))
    return expected_wait(first_responses(found, now, classes, exclude=str(conv_id)), tags=tuple(tags),
                         priority_class=classes.get(str(conv_id), "normal"), arrival=arrival, now=now,
                         clock=clock, zone=local_zone(cfg.priority.timezone),
                         default_seconds=cfg.autoreply.default_wait_seconds, min_samples=cfg.autoreply.min_samples,
                         target_seconds=target, ahead=ahead, week_seconds=clock.elapsed(now) - clock.elapsed(now - WINDOW))
