"""Reports from the store (issue 15): the cached per-conversation metrics and what the desk
asks of them (Desk.report / load / questions / export delegate here).

The cache (store.report_cache): one ConvMetrics per conversation, recomputed for the
conversations marked dirty (their mail, events, tags or assignee changed: triggers, so changes
by the sync and by other processes count) and for all of them when the cache key changes: the
metrics' version, the row encoding, the Python (marshal) or the business-hours config
([priority] business_hours/business_days/holidays/timezone). Rows are computed with the desk's
business clock, so `business_hours=True` needs no recomputation.

The pure work (computing and decoding rows, aggregating, grouping questions) runs on a thread
(asyncio.to_thread): the app awaits these from its event loop, which must go on answering keys
meanwhile (at 100k conversations the aggregation alone takes a second or more).
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import weakref
from functools import partial
from typing import TYPE_CHECKING

from tui_desk.desk import metrics
from tui_desk.desk.business_time import BusinessClock, business_clock
from tui_desk.desk.metrics.csat import RATINGS, Csat, CsatAnswer, csat_report
from tui_desk.desk.report_data import ENCODING, decode, encode, plain, timeline
from tui_desk.desk.timefmt import local_zone
from tui_desk.store import csat as store_csat, events as store_events, report_cache

if TYPE_CHECKING:
    from tui_desk.desk.questions import QuestionCache, QuestionGroup
    from tui_desk.desk.core import DeskCore

CHUNK = 5000  # conversations read and computed at a time (bounded memory on a cold cache)
_KEY = "metrics_cache_key"


def zone_name(desk: DeskCore) -> str:
    zone = local_zone(desk.config.priority.timezone)
    return str(getattr(zone, "key", None) or desk.config.priority.timezone or "UTC")


def known_agents(desk: DeskCore) -> tuple[str, ...]:
    """The names the config spells: a report groups an agent's other spellings under them."""
    return (desk.config.agent, *desk.config.team)


def _clock(desk: DeskCore) -> BusinessClock:
    clock: BusinessClock = business_clock(desk.config.priority)
    return clock


def cache_key(desk: DeskCore) -> str:
    p = desk.config.priority
    return repr((metrics.METRICS_VERSION, ENCODING, sys.version_info[:2], p.business_hours, p.business_days,
                 sorted(p.holidays), p.timezone))


async def update_cache(desk: DeskCore) -> int:
    """Recompute the rows of dirty conversations (all of them when the cache key changed).
    Returns how many were computed."""
    store = desk.store
    key = cache_key(desk)
    if await store.get_meta(_KEY) != key:
        await report_cache.invalidate_all(store)
        await store.set_meta(_KEY, key)
    clock = _clock(desk)
    done = 0
    while True:
        seen = await report_cache.dirty(store, CHUNK)
        if not seen:
            return done
        sources = await report_cache.sources(store, [c for _, c in seen])
        rows = await asyncio.to_thread(_computed, sources, clock)
        await report_cache.save(store, rows, seen)
        done += len(rows)


def _computed(sources: dict[int, report_cache.ConversationSource], clock: BusinessClock) -> list[tuple[int, float | None, float | None, bytes]]:
    out = []
    for conv_id, src in sources.items():
        m = metrics.conversation_metrics(timeline(src), clock)
        out.append((conv_id, m.first_at, m.last_at, encode(m)))
    return out


def decode_all(data: list[bytes]) -> list[metrics.ConvMetrics]:
    """The cyclic GC paused: decoding a year allocates ~a million small acyclic tuples, and the
    collector's passes over them cost as much as the work (bench/report_bench.py)."""
    with metrics.gc_paused():
        return [decode(d) for d in data]


async def rows(desk: DeskCore, since: float | None = None, until: float | None = None) -> list[metrics.ConvMetrics]:
    """The up-to-date rows of conversations with anything in [since, until)."""
    await update_cache(desk)
    return await asyncio.to_thread(decode_all, await report_cache.cached(desk.store, since, until))


async def report(desk: DeskCore, since: int, until: int, by: tuple[str, ...] = (),
                 business_hours: bool = False) -> metrics.Report:
    for b in by:
        if b not in metrics.BREAKDOWNS:
            raise ValueError(f"--by is one of {', '.join(metrics.BREAKDOWNS)}, not {b!r}")
    figures = await csat(desk, since, until, by)
    if not by:  # the headline: one pass over the encoded rows, no row kept (time and memory at 100k)
        await update_cache(desk)
        data = await report_cache.cached(desk.store, since, until)
        made = await asyncio.to_thread(partial(metrics.headline_report, plain(data), since, until,
                                               zone=zone_name(desk), business_hours=business_hours))
    else:
        found = await rows(desk, since, until)
        made = await asyncio.to_thread(partial(metrics.report, found, since, until, zone=zone_name(desk), by=by,
                                               business_hours=business_hours, agents=known_agents(desk)))
    return dataclasses.replace(made, csat=figures)


async def csat(desk: DeskCore, since: int, until: int, by: tuple[str, ...] = ()) -> Csat:
    """The survey answers (`csat` events, desk.csat) given in [since, until), with the
    conversation's tags and customer domain as they are now."""
    found = [f for f in await store_events.of_kind_since(desk.store, "csat", since) if f.event.at < until]
    convs = await store_csat.customer_of(desk.store, sorted({f.conv_id for f in found if f.conv_id is not None}))
    answers = []
    for f in found:
        d = f.event.data
        rating, score = d.get("rating"), d.get("score")
        if rating not in RATINGS or not isinstance(score, int):
            continue  # not a shape this desk reads (a newer client's)
        customer, tags = convs.get(f.conv_id, ("", ())) if f.conv_id is not None else ("", ())
        agent = d.get("agent")
        names = tuple(dict.fromkeys(str(s.get("name")) for s in d.get("snippets") or []
                                    if isinstance(s, dict) and s.get("name")))
        answers.append(CsatAnswer(f.event.at, rating, score, agent if isinstance(agent, str) else None, tags, names,
                                  customer.rpartition("@")[2].lower() or None))
    return csat_report(answers, since, until, zone=zone_name(desk), by=by, agents=known_agents(desk))


async def load(desk: DeskCore, since: int, until: int) -> tuple[metrics.Heatmap, metrics.Staffing]:
    found = await rows(desk, since, until)
    return await asyncio.to_thread(_load, found, since, until, zone_name(desk))


def _load(found: list[metrics.ConvMetrics], since: int, until: int, zone: str) -> tuple[metrics.Heatmap, metrics.Staffing]:
    local = metrics.LocalTime(zone)
    heat = metrics.heatmap(found, since, until, local=local)
    return heat, metrics.staffing(found, since, until, heat=heat, local=local)


# per Desk: a live Reports screen asks again and again
_question_caches: weakref.WeakKeyDictionary[DeskCore, QuestionCache] = weakref.WeakKeyDictionary()


async def questions(desk: DeskCore, since: int, until: int) -> list[QuestionGroup]:
    """Frequent questions of the conversations whose first customer message is in [since, until)."""
    from tui_desk.desk.questions import QuestionCache  # its regexes: only when asked
    await update_cache(desk)
    data = await report_cache.cached(desk.store, since, until)
    snippets = await asyncio.to_thread(_snippets_of_asked, data, since, until)
    del data
    firsts = await report_cache.first_customer_messages(desk.store, snippets)
    cache = _question_caches.setdefault(desk, QuestionCache())
    return await asyncio.to_thread(_grouped, firsts, snippets, since, until, cache)


_CONV_ID, _FIRST_CUSTOMER_AT, _REPLIES = (metrics.ConvMetrics._fields.index(f)
                                          for f in ("conv_id", "first_customer_at", "replies"))
_SNIPPETS = metrics.Reply._fields.index("snippets")


def _snippets_of_asked(data: list[bytes], since: int, until: int) -> dict[int, tuple[str, ...]]:
    """The conversations first asked in [since, until), each with the snippets its replies used
    (read from the encoded rows as plain tuples, the GC paused: no ConvMetrics made)."""
    out: dict[int, tuple[str, ...]] = {}
    with metrics.gc_paused():
        for row in plain(data):
            first = row[_FIRST_CUSTOMER_AT]
            if first is not None and since <= first < until:
                out[int(row[_CONV_ID])] = tuple(s for reply in row[_REPLIES] for s in reply[_SNIPPETS])
    return out


def _grouped(firsts: list[report_cache.FirstMessage], snippets: dict[int, tuple[str, ...]], since: int, until: int,
             cache: QuestionCache) -> list[QuestionGroup]:
    from tui_desk.desk.questions import Asked, frequent_questions
    with metrics.gc_paused():  # 100k Asked and their terms: acyclic, and the GC's passes cost
        asked = [Asked(m.conv_id, float(m.at), m.subject, m.body, snippets.get(m.conv_id, ())) for m in firsts]
        return frequent_questions(asked, period_start=float(since), period_end=float(until), cache=cache)


EXPORT_CSAT = ("csat_rating", "csat_score")  # export's columns after metrics.EXPORT_HEADER


async def latest_answers(desk: DeskCore) -> dict[int, tuple[str, int]]:
    """(rating, score) of each conversation's newest survey answer (`csat` event)."""
    out: dict[int, tuple[str, int]] = {}
    for f in await store_events.of_kind_since(desk.store, "csat", 0):  # oldest first: the newest stays
        rating, score = f.event.data.get("rating"), f.event.data.get("score")
        if f.conv_id is not None and rating in RATINGS and isinstance(score, int):
            out[f.conv_id] = (rating, score)
    return out


async def export(desk: DeskCore, query: str | None) -> tuple[list[str], list[list[object]]]:
    """One row per conversation (all, or those the search query finds) with its metrics:
    (header, rows), columns metrics.EXPORT_HEADER then EXPORT_CSAT (its newest survey answer,
    empty without one); conv_id is the conversation number."""
    await update_cache(desk)
    if query is None or not query.strip():
        ids = None
    else:
        from tui_desk.store.search import search_ids
        ids = await search_ids(desk.store, query, desk.now())
    data = await report_cache.cached(desk.store, conv_ids=ids) if ids is not None else \
        await report_cache.cached(desk.store)
    table = await asyncio.to_thread(lambda: metrics.export_rows(decode_all(data), zone=zone_name(desk)))
    rated = await latest_answers(desk)
    header = [str(h) for h in table[0]] + list(EXPORT_CSAT)
    out = [[int(r[0]), *r[1:], *rated.get(int(r[0]), ("", ""))] for r in table[1:]]
    out.sort(key=lambda r: int(str(r[0])))
    return header, out
