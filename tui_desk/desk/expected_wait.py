"""The measured expected wait (issue 16): when a human will answer a new conversation, in words
a customer reads, and how that was worked out.

    samples = first_responses(rows, now)               # the last 7 days' answered first waits
    wait = expected_wait(samples, tags=("billing",), priority_class="normal", arrival=t, now=t,
                         clock=clock, zone=zone, default_seconds=4 * 3600, min_samples=5)
    wait.words  -> "in about 2 hours"
    wait.how()  -> "expected wait 'in about 2 hours' (p75 1h 40m business time of 9 first responses
                    with tag billing, last 7 days)"   (explain(wait.record()): the agent reads it)

The wait is the p75 (nearest rank) of the first-response times, in business seconds, of the
conversations whose first answer came in the last 7 days and that are comparable: sharing a tag
with this one, else of its priority class (desk.priority.priority_class), else all of them;
each step needs `min_samples`, and with fewer even for all, the configured default is used.
The answer is then the arrival moved to the next opening (off-hours mail waits for it) plus that
many business seconds, back on the wall clock (BusinessClock.add), rounded into the words of
WORDS (one table, English, so a translation can come later) in the desk's zone, which a clock
time names ("later today, by 16:15 CET", "tomorrow morning, Tuesday 9:00 (UTC+4)"): the customer
may be elsewhere.

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

    def how(self) -> str:
        """One line for the agent: the value and how it was computed (explain)."""
        return explain(self.record())

    def record(self) -> dict[str, Any]:
        """What an `autoreply` history event keeps of it (JSON; explain() reads it back)."""
        return {"words": self.words, "default": self.default, "samples": self.samples, "p75_seconds": self.p75,
                "wait_seconds": self.wait, "comparable": self.comparable, "min_samples": self.min_samples,
                "from_opening": self.opens > self.arrival, "business": self.business}

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
    if record.get("default") is True or record.get("p75_seconds") is None:
        basis = (f"default wait {format_duration(number('wait_seconds'))}: only {samples} first responses "
                 f"{scope} in the last 7 days, {int(number('min_samples'))} needed{moved}")
    else:
        # "business time" only where business hours are set (a record from before says nothing)
        time_of = " business time of" if record.get("business") is True else " of"
        basis = (f"p75 {format_duration(number('p75_seconds'))}{time_of} {samples} first responses "
                 f"{scope}, last 7 days{moved}")
    return f"expected wait '{words}' ({basis})"


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
                  min_samples: int) -> ExpectedWait:
    waits, which = comparable(samples, tags, priority_class, min_samples)
    default = len(waits) < min_samples
    p75 = None if default else nearest_rank(sorted(waits), 3, 4)
    wait = float(default_seconds) if p75 is None else p75
    opens = clock.next_open(arrival)
    answer_by = clock.add(opens, wait)
    return ExpectedWait(words(now, max(answer_by, now), zone), answer_by, arrival, opens, wait, default,
                        len(waits), p75, which, min_samples, business=not clock.always)


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
    arrival, the desk's cached metrics as the history, [autoreply] default_wait / min_samples."""
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
    return expected_wait(first_responses(found, now, classes, exclude=str(conv_id)), tags=tuple(tags),
                         priority_class=classes.get(str(conv_id), "normal"), arrival=min(arrival, now), now=now,
                         clock=business_clock(cfg.priority), zone=local_zone(cfg.priority.timezone),
                         default_seconds=cfg.autoreply.default_wait_seconds, min_samples=cfg.autoreply.min_samples)
