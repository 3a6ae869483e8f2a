"""Frequent questions (issue 15): conversations grouped by what the customer asked.

Pure code: no store, no IO. The caller hands over one ``Asked`` per conversation (the
customer's first message: its subject and body; the names of the snippets the agents' replies
used) and gets ``QuestionGroup``s, biggest first. Text handling (quotes, prefixes, numbers,
words, bigrams, stemming, stop words) is in ``desk/question_text.py``.

How conversations are grouped
-----------------------------
1. Each conversation becomes term counts: subject terms count SUBJECT_WEIGHT times, body terms
   once. Conversations with the same counts are handled as one (a busy desk repeats itself).
2. Weights are TF-IDF: (1 + ln tf) * ln((N + 1) / df). Terms seen in one conversation only are
   dropped (they cannot make a group; a conversation left with no term is in no group). Each
   conversation keeps its TOP_TERMS heaviest terms, L2-normed.
3. One greedy pass over the distinct vectors, most frequent first (ties by the terms
   themselves): a vector joins the group whose centroid is most similar (cosine) if that is at
   least JOIN_AT, else it starts a group. Candidate groups come from an inverted index: each
   group is listed under its INDEX_TERMS heaviest centroid terms (refreshed each time the group
   doubles); a vector looks up its LOOKUP_TERMS heaviest terms, and the CANDIDATES groups it
   meets most often are compared in full. (A shortcut: a group none of whose heaviest terms
   the vector has is not considered. It keeps the pass near-linear at 100k conversations.)
4. Merging: groups smaller than ``min_size`` join the most similar group of at least that size
   when the cosine of their centroids is at least ATTACH_AT; then groups of that size whose
   centroids are at least MERGE_AT alike become one (into the bigger). ATTACH_AT is above
   JOIN_AT: what did not join in the pass shares a word or two at most ("Change shipping address"
   with "change my email address", "Thanks, one more question" with "pricing plans": 0.33-0.35
   in the demo), and a question asked once or twice is better in no group than in a wrong one.
5. Groups of ``min_size`` or more are returned (default 3: a question asked once or twice is not
   frequent), sorted by size, then label, then the oldest conversation. A group's label is its
   most common subject made general (desk.generalise: no order number of one customer).

Determinism: the result depends only on the set of conversations given, not on their order
nor on the process (hash seed): distinct vectors are processed in an order fixed by their counts
and terms, so group ids and every "first met" tie-break follow content; members are sorted by
(time, conv id); other ties are broken by name. (Conversation ids must be of one type that
sorts, e.g. all int or all str.) Same input, same groups, same JSON. Not promised: that a
different set (one conversation more) keeps every other group exactly as it was.

``QuestionGroup.to_json()`` keys (stable, snake_case):

    label             str         the group's most common subject (prefixes/markers off), else its top terms
    size              int         conversations in the group
    conv_ids          list        the conversations, oldest first
    example_subjects  list[str]   up to 3 distinct subjects, most common first (case and numbers
                                  ignored when telling them apart; each worded as its oldest use)
    trend             object      period_start (ISO 8601 UTC), week_counts (list[int], one per
                                  7-day week from period_start; the last one may be cut short by
                                  the period's end), direction ("rising" | "falling" | "steady"
                                  | "new" | "": see trend_of; a short last week is left out of it)
    top_snippet       object|null {"name": str, "count": int}: the snippet used in the most of
                                  the group's conversations (ties by name)
    terms             list[str]   the heaviest terms of the group (readable word forms), up to 5

Subjects are returned as the mail gave them: a caller that shows them sanitizes them
(tui_desk.sanitize), as for any string from mail.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import chain, count
from operator import attrgetter, itemgetter
from typing import Any, Iterable, NamedTuple

from tui_desk.desk.generalise import label
from tui_desk.desk.question_text import TermCache, clean_subject, strip_quoted

SUBJECT_WEIGHT = 2
TOP_TERMS = 10
JOIN_AT = 0.35
ATTACH_AT = 0.40        # above JOIN_AT: what did not join a group on its own needs more (docstring, 4.)
MERGE_AT = 0.50
CENTROID_TERMS = 40     # a centroid keeps its heaviest terms only (bounded memory)
INDEX_TERMS = 6         # a group is found through its heaviest terms ...
LOOKUP_TERMS = 10       # ... looked up by a vector's heaviest terms
CANDIDATES = 8          # the groups sharing most of them are compared in full
LABEL_TERMS = 5
WEEK = 7 * 86400
TREND_SHARE = 0.25      # slope over the period, relative to the mean, that counts as a trend
FIRST_WEEK_GRACE = 86400  # the desk's mail starting this far into a week still measures that week
_NUMBER_RE = re.compile(r"\d+")
RAW_BODY_KEY = 800      # bodies up to this long are remembered as they came (see frequent_questions)
_ZERO_DIGITS = bytes.maketrans(b"123456789", b"000000000")

ConvId = str | int  # conversation ids: all of one type, so they sort (see the module docstring)
Vector = tuple[tuple[str, float], ...]  # (term, weight), heaviest first


class Asked(NamedTuple):
    """One conversation's question: its first customer message and the snippets its replies used.
    (A NamedTuple: made 100k at a time for a year's report, ten times faster than a frozen dataclass.)"""
    conv_id: ConvId
    at: dt.datetime | float          # when it was asked (aware datetime or POSIX seconds)
    subject: str
    body: str
    snippets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Trend:
    period_start: float              # POSIX seconds
    week_counts: tuple[int, ...]
    direction: str                   # rising | falling | steady


@dataclass(frozen=True)
class QuestionGroup:
    label: str
    size: int
    conv_ids: tuple[ConvId, ...]
    example_subjects: tuple[str, ...]
    trend: Trend
    top_snippet: tuple[str, int] | None
    terms: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        start = dt.datetime.fromtimestamp(self.trend.period_start, dt.timezone.utc)
        return {
            "label": self.label,
            "size": self.size,
            "conv_ids": list(self.conv_ids),
            "example_subjects": list(self.example_subjects),
            "trend": {"period_start": start.isoformat().replace("+00:00", "Z"),
                      "week_counts": list(self.trend.week_counts),
                      "direction": self.trend.direction},
            "top_snippet": ({"name": self.top_snippet[0], "count": self.top_snippet[1]}
                            if self.top_snippet else None),
            "terms": list(self.terms),
        }


def _seconds(at: dt.datetime | float) -> float:
    return at if type(at) is float else at.timestamp() if isinstance(at, dt.datetime) else float(at)


class QuestionCache:
    """What frequent_questions learnt about conversations, kept between runs by a caller that
    reports again and again (a live Reports screen): the first message never changes, so a
    conversation seen before is not read again (its body is checked by hash). Optional: the
    groups are the same with or without it; only the readable word shown for a term may be one
    seen in an earlier run (the shortest word for that stem seen so far)."""

    def __init__(self) -> None:
        self.words = TermCache()
        # the subject with its ASCII digits made 0 (UTF-8) -> its key (see _subject_key), terms
        self.subjects: dict[bytes, tuple[str, tuple[str, ...]]] = {}
        self.bodies: dict[ConvId, tuple[int, tuple[str, ...]]] = {}  # conv id -> hash(body), terms

    def forget_all_but(self, conv_ids: set[ConvId]) -> None:
        self.bodies = {c: v for c, v in self.bodies.items() if c in conv_ids}
        if len(self.subjects) > 2 * len(conv_ids):
            self.subjects = {}


def frequent_questions(asked: Iterable[Asked], *, min_size: int = 3, period_start: dt.datetime | float | None = None,
                       period_end: dt.datetime | float | None = None,
                       cache: QuestionCache | None = None) -> list[QuestionGroup]:
    """The conversations' questions grouped, biggest group first (see the module docstring).

    The trend's weeks run from ``period_start`` (default: the earliest conversation) to
    ``period_end`` (default: the latest; inclusive); conversations outside the period count in no
    week (they are still grouped).
    ``cache`` (a QuestionCache kept by the caller) makes the next run over mostly the same
    conversations cheaper."""
    items = list(asked)
    if not items:
        return []
    keep = cache is not None
    cache = cache or QuestionCache()
    words, subjects, bodies = cache.words, cache.subjects, cache.bodies
    # 1. term counts per conversation; identical counts share one entry
    by_text: dict[tuple[tuple[str, ...], tuple[str, ...]], list[int]] = {}
    subject_keys: list[str] = []   # per conversation: its subject as told apart in examples
    # Terms ignore digits (they only split words), and so do the subject's and the body's clean-up
    # (clean_subject, strip_quoted: their patterns see a digit, never which one), so texts that
    # differ in their ASCII digits alone ("order 12345" / "order 98765", a web form's mail) have
    # the same terms: worked out once per run, keyed by the text's UTF-8 with every digit made 0
    # (bytes.translate: fast; no other byte of UTF-8 is an ASCII digit). A short body is looked up
    # as it came, before its quotes are cut; a long one after (bounded keys).
    known_terms: dict[bytes, tuple[str, ...]] = {}
    known_bodies: dict[bytes, tuple[str, ...]] = {}

    def terms_of(text: str, lowered: bool = False) -> tuple[str, ...]:
        key = text.encode("utf-8", "surrogatepass").translate(_ZERO_DIGITS)
        found = known_terms.get(key)
        if found is None:
            found = known_terms[key] = tuple(words.terms(text, lowered=lowered))
        return found

    def body_terms_of(body: str) -> tuple[str, ...]:
        if len(body) > RAW_BODY_KEY:
            return terms_of(strip_quoted(body), lowered=True)
        key = body.encode("utf-8", "surrogatepass").translate(_ZERO_DIGITS)
        found = known_bodies.get(key)
        if found is None:
            found = known_bodies[key] = terms_of(strip_quoted(body), lowered=True)
        return found
    for i, item in enumerate(items):
        raw = item.subject.encode("utf-8", "surrogatepass").translate(_ZERO_DIGITS)
        seen = subjects.get(raw)   # subjects repeat far more than bodies
        if seen is None:
            subject = clean_subject(raw.decode("utf-8", "surrogatepass"))
            seen = subjects[raw] = (_subject_key(subject), terms_of(subject))
        subject_keys.append(seen[0])
        if keep:
            body_hash = hash(item.body)
            known = bodies.get(item.conv_id)
            if known is not None and known[0] == body_hash:
                body_terms = known[1]
            else:
                body_terms = body_terms_of(item.body)
                bodies[item.conv_id] = (body_hash, body_terms)
        else:
            body_terms = body_terms_of(item.body)
        key = (seen[1], body_terms)
        members = by_text.get(key)
        if members is None:
            by_text[key] = [i]
        else:
            members.append(i)
    known_terms.clear()   # not needed any more: lower peak memory for what follows
    known_bodies.clear()
    if keep and len(bodies) > 2 * len(items):
        cache.forget_all_but({item.conv_id for item in items})
    by_counts: dict[tuple[tuple[str, int], ...], list[int]] = {}
    for (subject_terms, body_terms), members in by_text.items():
        counts: dict[str, int] = {}
        for term in subject_terms:
            counts[term] = counts.get(term, 0) + SUBJECT_WEIGHT
        for term in body_terms:
            counts[term] = counts.get(term, 0) + 1
        counted = tuple(sorted(counts.items()))
        found = by_counts.get(counted)
        if found is None:
            by_counts[counted] = members
        else:
            found.extend(members)
    # 2. TF-IDF vectors
    df: dict[str, int] = defaultdict(int)
    for counted, members in by_counts.items():
        n = len(members)
        for term, _ in counted:
            df[term] += n
    total = len(items)
    idf = {t: math.log((total + 1) / d) for t, d in df.items() if d >= 2}
    vectors: dict[Vector, list[int]] = {}
    for counted, members in by_counts.items():
        weighted = sorted(((-(1.0 + math.log(tf)) * idf[t], t) for t, tf in counted if t in idf))[:TOP_TERMS]
        if not weighted:
            continue
        norm = math.sqrt(sum(w * w for w, _ in weighted))
        vec = tuple((t, -w / norm) for w, t in weighted)
        found = vectors.get(vec)
        if found is None:
            vectors[vec] = list(members)
        else:
            found.extend(members)
    # 3. greedy pass
    groups = _Groups()
    for vec, members in sorted(vectors.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        best, score = groups.best(vec)
        if best is not None and score >= JOIN_AT:
            groups.add(best, vec, members)
        else:
            groups.new(vec, members)
    # 4. merging
    groups.attach_small(min_size)
    groups.merge_alike(min_size)
    # 5. output
    stamps = [_seconds(item.at) for item in items]
    start = _seconds(period_start) if period_start is not None else min(stamps)
    end = _seconds(period_end) if period_end is not None else max(stamps)
    conv_ids = [item.conv_id for item in items]
    weeks = max(1, math.ceil((end - start) / WEEK))
    last = weeks - 1
    # the last week may be cut short by the period's end: it is shown, but not judged on
    whole = weeks if end - start >= weeks * WEEK or weeks < 3 else weeks - 1
    week_of = [int((s - start) // WEEK) if start <= s < end else last if s == end else -1 for s in stamps]
    order = sorted(range(len(items)), key=conv_ids.__getitem__)
    order.sort(key=stamps.__getitem__)   # stable: by time, then conversation id
    rank = [0] * len(items)
    for position, i in enumerate(order):
        rank[i] = position
    # each conversation's snippets as a number (a tuple is hashed anew each time it is counted;
    # map/setdefault: no Python per conversation)
    snippet_index: dict[tuple[str, ...], int] = {}
    snippet_ids = list(map(snippet_index.setdefault, map(attrgetter("snippets"), items), count()))
    context = _Context(items, conv_ids, subject_keys, snippet_ids, {n: t for t, n in snippet_index.items()}, week_of,
                       words, start, weeks, whole, _first_week_of_mail(stamps, start, end))
    out = []
    for gid in groups.alive():
        members = groups.members[gid]
        if len(members) < min_size:
            continue
        members.sort(key=rank.__getitem__)
        group = _describe(groups, gid, members, context)
        out.append(((-group.size, group.label, rank[members[0]]), group))
    out.sort(key=lambda pair: pair[0])
    return [group for _, group in out]


def questions_json(groups: list[QuestionGroup]) -> list[dict[str, Any]]:
    return [g.to_json() for g in groups]


class _Groups:
    """Groups being built: centroids (term -> summed weight), members, and an index from term to
    the groups that have it among their INDEX_TERMS heaviest (refreshed as a group doubles)."""

    def __init__(self) -> None:
        self.centroids: list[dict[str, float]] = []
        self.sumsq: list[float] = []
        self.members: list[list[int]] = []
        self.indexed: list[tuple[str, ...]] = []
        self.index: dict[str, dict[int, None]] = defaultdict(dict)
        self.merged_into: list[int | None] = []

    def alive(self) -> list[int]:
        return [g for g in range(len(self.members)) if self.merged_into[g] is None]

    def new(self, vec: Vector, members: list[int]) -> int:
        gid = len(self.members)
        n = len(members)
        self.centroids.append({t: w * n for t, w in vec})
        self.sumsq.append(sum((w * n) ** 2 for _, w in vec))
        self.members.append(list(members))
        self.merged_into.append(None)
        self.indexed.append(())
        self._reindex(gid)
        return gid

    def _reindex(self, gid: int) -> None:
        for t in self.indexed[gid]:
            del self.index[t][gid]
        top = tuple(t for t, _ in self.top(gid, INDEX_TERMS))
        for t in top:
            self.index[t][gid] = None
        self.indexed[gid] = top

    def top(self, gid: int, k: int) -> list[tuple[str, float]]:
        return sorted(self.centroids[gid].items(), key=lambda kv: (-kv[1], kv[0]))[:k]

    def add(self, gid: int, vec: Vector, members: list[int]) -> None:
        n = len(members)
        centroid = self.centroids[gid]
        sumsq = self.sumsq[gid]
        for t, w in vec:
            old = centroid.get(t, 0.0)
            new = old + w * n
            centroid[t] = new
            sumsq += new * new - old * old
        self.sumsq[gid] = sumsq
        before = len(self.members[gid])
        self.members[gid].extend(members)
        if len(centroid) > 2 * CENTROID_TERMS:
            self.centroids[gid] = dict(self.top(gid, CENTROID_TERMS))
            self.sumsq[gid] = sum(w * w for w in self.centroids[gid].values())
        if (before + n).bit_length() > before.bit_length():
            self._reindex(gid)

    def best(self, vec: Vector, among: set[int] | None = None, exclude: int | None = None) -> tuple[int | None, float]:
        """The most similar group: cosine of ``vec`` (unit length, heaviest first) with the
        centroids of the CANDIDATES groups sharing most of its LOOKUP_TERMS heaviest terms."""
        hits = Counter(chain.from_iterable(self.index[t] for t, _ in vec[:LOOKUP_TERMS] if t in self.index))
        if exclude is not None:
            hits.pop(exclude, None)
        if among is not None:
            hits = Counter({g: c for g, c in hits.items() if g in among})
        best, best_score = None, 0.0
        # most shared first; ties keep the order first met (fixed by content); sorted() beats
        # most_common's heap here
        for gid, _ in sorted(hits.items(), key=itemgetter(1), reverse=True)[:CANDIDATES]:
            centroid = self.centroids[gid]
            dot = 0.0
            for t, w in vec:
                c = centroid.get(t)
                if c is not None:
                    dot += c * w
            score = dot / math.sqrt(self.sumsq[gid])
            if score > best_score or (score == best_score and best is not None and gid < best):
                best, best_score = gid, score
        return best, best_score

    def unit(self, gid: int) -> Vector:
        """The centroid's heaviest terms as a unit vector, heaviest first."""
        top = self.top(gid, TOP_TERMS * 2)
        norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
        return tuple((t, w / norm) for t, w in top)

    def absorb(self, into: int, gid: int) -> None:
        self.add(into, self.unit(gid), self.members[gid])
        for t in self.indexed[gid]:
            del self.index[t][gid]
        self.indexed[gid] = ()
        self.members[gid] = []
        self.merged_into[gid] = into
        self.centroids[gid] = {}

    def _order(self) -> list[int]:
        # group ids follow the content-fixed order of the greedy pass: a tie-break as stable
        return sorted(self.alive(), key=lambda g: (-len(self.members[g]), g))

    def attach_small(self, min_size: int) -> None:
        order = self._order()
        big = {g for g in order if len(self.members[g]) >= min_size}
        for gid in order:
            if gid in big:
                continue
            into, score = self.best(self.unit(gid), among=big)
            if into is not None and score >= ATTACH_AT:
                self.absorb(into, gid)

    def merge_alike(self, min_size: int) -> None:
        order = [g for g in self._order() if len(self.members[g]) >= min_size]
        kept: set[int] = set()
        for gid in order:   # biggest first: a group merges into a bigger one already kept
            into, score = self.best(self.unit(gid), among=kept, exclude=gid)
            if into is not None and score >= MERGE_AT:
                self.absorb(into, gid)
            else:
                kept.add(gid)


@dataclass
class _Context:
    items: list[Asked]
    conv_ids: list[ConvId]
    subject_keys: list[str]         # per conversation (see _subject_key)
    snippet_ids: list[int]          # per conversation: a key of snippets_of
    snippets_of: dict[int, tuple[str, ...]]
    week_of: list[int]              # per conversation: its week, -1: none
    cache: TermCache
    start: float
    weeks: int
    whole_weeks: int
    first_week: int                 # the first week the desk had mail through (_first_week_of_mail)


def _subject_key(cleaned: str) -> str:
    """How subjects are told apart in a group's examples: case and numbers ignored."""
    return _NUMBER_RE.sub("#", cleaned.casefold())


def _describe(groups: _Groups, gid: int, members: list[int], ctx: _Context) -> QuestionGroup:
    keys = ctx.subject_keys
    counts = Counter(map(keys.__getitem__, members))
    # members are oldest first: the oldest member with a key gives its wording (the last
    # assignment of a reversed walk wins)
    oldest = dict(zip(map(keys.__getitem__, reversed(members)), reversed(members)))
    ranked = sorted((-n, clean_subject(ctx.items[oldest[key]].subject)) for key, n in counts.items() if key)
    examples = tuple(s for _, s in ranked[:3])
    snippet_counts: dict[str, int] = {}
    for snippets, n in Counter(map(ctx.snippet_ids.__getitem__, members)).items():
        for name in set(ctx.snippets_of[snippets]):
            snippet_counts[name] = snippet_counts.get(name, 0) + n
    week_counts = [0] * ctx.weeks
    for week, n in Counter(map(ctx.week_of.__getitem__, members)).items():
        if 0 <= week < ctx.weeks:
            week_counts[week] = n
    top_snippet = None
    if snippet_counts:
        name, uses = min(snippet_counts.items(), key=lambda kv: (-kv[1], kv[0]))
        top_snippet = (name, uses)
    terms = tuple(ctx.cache.word_for(t) for t, _ in groups.unit(gid)[:LABEL_TERMS])
    # a label speaks for every conversation in the group: one customer's order number is no part of it
    return QuestionGroup(label=label(examples[0]) if examples else " ".join(terms), size=len(members),
                         conv_ids=tuple(map(ctx.conv_ids.__getitem__, members)), example_subjects=examples,
                         trend=Trend(ctx.start, tuple(week_counts),
                                     trend_of(week_counts, ctx.first_week, ctx.whole_weeks)),
                         top_snippet=top_snippet, terms=terms)


def _first_week_of_mail(stamps: list[float], start: float, end: float) -> int:
    """The first week the desk had mail through: the week of its first conversation in the period,
    or the next one when that came more than FIRST_WEEK_GRACE into it (a week the mail started in
    the middle of is no measure of how often anything was asked)."""
    first = min((s for s in stamps if start <= s <= end), default=start)
    week = int((first - start) // WEEK)
    return week + 1 if first - start - week * WEEK > FIRST_WEEK_GRACE else week


def trend_of(week_counts: list[int], first_week: int, whole_weeks: int) -> str:
    """A question's trend over the weeks the desk had mail through, [first_week, whole_weeks): a
    trend needs mail on both sides, so "" (none) with fewer than two such weeks (a store a few
    days old made every question "rising"); "new" when the question came in none of the weeks
    before the last whole one; else trend_direction."""
    if whole_weeks - first_week < 2:
        return ""
    if not any(week_counts[:whole_weeks - 1]):
        return "new"
    return trend_direction(week_counts[first_week:whole_weeks])


def trend_direction(week_counts: list[int] | tuple[int, ...]) -> str:
    """rising / falling / steady: the least-squares slope over the weeks, times the number of
    weeks, against the mean weekly count (a change of TREND_SHARE of the mean or more counts)."""
    n = len(week_counts)
    if n < 2:
        return "steady"
    mean = sum(week_counts) / n
    if mean == 0:
        return "steady"
    mid = (n - 1) / 2
    slope = (sum((i - mid) * c for i, c in enumerate(week_counts))
             / sum((i - mid) ** 2 for i in range(n)))
    change = slope * (n - 1) / mean
    if change >= TREND_SHARE:
        return "rising"
    if change <= -TREND_SHARE:
        return "falling"
    return "steady"
