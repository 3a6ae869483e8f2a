"""The headline's one-pass reading (metrics.headline_report, what `report` without breakdowns
uses) gives the same Group as the breakdowns' path (_facts + _group), from ConvMetrics and from
the cache's plain tuples alike, for periods that cut conversations anywhere."""

from __future__ import annotations

import datetime as dt
import random

from tui_desk.desk.business_time import BusinessClock
from tui_desk.desk.metrics import (ConvMetrics, StatusChange, Timeline, Turn, conversation_metrics,
                                   headline_report, report)
from tui_desk.desk.report_data import encode, plain

DAY = 86400
START = dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc).timestamp()
CLOCK = BusinessClock((dt.time(9), dt.time(17)), (0, 1, 2, 3, 4), "UTC", (dt.date(2026, 3, 9),))


def random_rows(n: int, seed: int, clock: BusinessClock | None) -> list[ConvMetrics]:
    """Conversations of every shape: customer and agent turns (with snippets), notes and
    auto-replies, closes, reopens by mail and by status, pending; some without history."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        t = START + rnd.random() * 30 * DAY
        turns: list[Turn] = []
        status: list[StatusChange] = []
        for _ in range(rnd.randrange(1, 7)):
            t += rnd.randrange(60, 3 * DAY)
            kind = rnd.random()
            if kind < 0.4:
                turns.append(Turn(t, "customer"))
            elif kind < 0.8:
                turns.append(Turn(t, "agent", rnd.choice(("alice", "bob")),
                                  tuple(rnd.sample(("refund", "hi", "api"), rnd.randrange(3)))))
            elif kind < 0.9:
                turns.append(Turn(t, rnd.choice(("note", "auto", "forward", "survey")), "alice"))
            else:
                status.append(StatusChange(t, rnd.choice(("closed", "closed", "open", "pending")),
                                           rnd.choice(("alice", "bob"))))
        rows.append(conversation_metrics(Timeline(
            str(i), rnd.choice(("acme.com", "")), ("billing",) if i % 3 else (), rnd.choice(("alice", None)),
            turns=tuple(turns), status_changes=tuple(status), has_history=rnd.random() < 0.8), clock))
    return rows


def test_the_one_pass_headline_is_the_breakdowns_headline():
    rnd = random.Random(15)
    for clock, business in ((CLOCK, True), (None, False)):
        rows = random_rows(400, 15, clock)
        encoded = [encode(r) for r in rows]
        periods = [(START - DAY, START + 60 * DAY)]  # every row wholly inside
        periods += [tuple(sorted((START + rnd.random() * 40 * DAY, START + rnd.random() * 40 * DAY)))
                    for _ in range(25)]
        checked = 0
        for since, until in periods:
            expected = report(rows, since, until, zone="UTC", by=("agent",), business_hours=business).headline
            assert report(rows, since, until, zone="UTC", business_hours=business).headline == expected
            from_cache = headline_report(plain(encoded), since, until, zone="UTC", business_hours=business)
            assert from_cache.headline == expected
            assert from_cache.breakdowns == {}
            checked += expected.conversations + expected.closed + expected.reopens
        assert checked > 400  # the periods held conversations, closes and reopens
