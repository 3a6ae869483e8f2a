"""The demo's past: what its three agents did over the days its mail covers, as history events.

Made once when the demo store is built, after the import and before `set_the_scene`. For each
conversation, from its mail (the customers' mails, the agents' replies with their authors and
dates) and what it is about (the generator's topic), a script of actions:

- triage soon after the first mail: assigned to the agent who answers (by that agent or by the
  lead, Alice), tagged by topic;
- a reply event for every agent mail, by its author, at its date; some name the bundled snippets
  they used (name + sha256 of the text, as desk.history records them); a hand-over to another
  agent is an assign just before that agent's reply;
- after a reply: set pending, snoozed until the customer replies or until a morning, or closed
  (the customer's next mail reopens it);
- the conversations quiet for DEMO_SETTLED_DAYS end closed after their last mail (most after the
  last agent reply; some after a snooze ran out with no answer); a few are reopened by an agent
  later and closed again. Every one of them a customer wrote was answered (the generator's
  `answered_before`), but for a customer's mail that started a second conversation about what
  an agent answered in another (a broken thread, three mails in a row): tagged `duplicate` and
  closed with no reply, as are the bounces and out-of-office mail nobody needs to answer. The others keep the status their mail gives them: the queue is what
  the import made it.

Actions that are not replies fall in working hours (Mon-Fri 08-18 UTC) where the mail lets them.
Each one goes through the same edits as the desk's commands (desk.commands.*_edit) and the same
event builder (desk.history.state_events), from the state the desk would have shown at that
moment (desk.priority.summarize over the mail up to then), so the events say what the desk
would have recorded and the final states agree with them. Everything is written in one
transaction (store.events.record, store.queries.write_states), then the conversations are
refreshed. Seeded per conversation by its anchor: the same mail gives the same events, ids too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from tui_desk.desk import commands
from tui_desk.desk.csat import answer_event_id
from tui_desk.desk.history import records_of_snippets, state_events
from tui_desk.desk.keywords import queue_changes
from tui_desk.desk.priority import summarize
from tui_desk.desk.snippets import bundled_dir, load_snippets
from tui_desk.mail.survey import RATINGS, survey_message_id
from tui_desk.mail.threading import strip_subject_prefixes
from tui_desk.store import events as store_events
from tui_desk.store import queries
from tui_desk.store.events import Event
from tui_desk.store.ingest import wire_message_id
from tui_desk.store.queries import ConvState, MessageFact

if TYPE_CHECKING:
    from tui_desk.demo.message import Msg
    from tui_desk.desk.service import Desk
    from tui_desk.desk.views import Snippet

LEAD = "Alice Martin"  # the demo config's agent: she triages and tidies up
DAY_START, DAY_END = 8, 18  # the team's working hours, UTC, Monday to Friday
HOUR, MINUTE = 3600, 60
SURVEY_DOMAIN = "helpdesk.test"  # the demo account's (support@helpdesk.test)

TOPIC_TAGS = {
    "refund": ("refund", "billing"), "charged_twice": ("billing",), "invoice": ("billing",),
    "discount": ("billing",), "cancel": ("billing", "cancel"), "shipping": ("shipping",),
    "address": ("shipping",), "damaged": ("shipping", "damaged"), "exchange": ("shipping",),
    "login": ("account",), "reset": ("account",), "email": ("account",), "gdpr": ("account", "gdpr"),
    "crash": ("bug",), "api": ("bug", "api"), "export": ("bug",), "checkout": ("bug", "outage"),
    "feature": ("feature-request",), "presales": ("sales",), "question": ("question",),
}
TOPIC_SNIPPETS = {
    "refund": ("refund-issued", "refund-policy"), "charged_twice": ("charged-twice",),
    "damaged": ("refund-issued",), "shipping": ("order-delayed",), "address": ("order-delayed",),
    "login": ("account-locked", "password-reset"), "reset": ("password-reset",),
    "crash": ("more-info", "bug-logged", "bug-fixed"), "api": ("escalated", "bug-logged"),
    "export": ("bug-logged", "bug-fixed"), "checkout": ("outage-investigating", "outage-resolved"),
    "feature": ("feature-request", "thanks-feedback"), "gdpr": ("data-deleted",),
    "question": ("thanks-feedback",),
}


# how each agent's customers answer the survey: shares of great, okay, bad
CSAT_MIX = {"Alice Martin": (0.74, 0.17, 0.09), "Bob Okafor": (0.56, 0.28, 0.16), "Chen Wei": (0.66, 0.2, 0.14)}
CSAT_ANSWERED = 0.5  # share of surveys answered (a demo wants figures: real desks see 15-40%)
CSAT_COMMENTS = {"great": ("Quick and friendly, thank you!", "Solved on the first try.", "Great help, thanks."),
                 "okay": ("Fine in the end, but it took a few mails.", "OK, though I had to wait a while.")}


@dataclass(frozen=True, slots=True)
class Action:
    at: int
    seq: int  # order among actions of one conversation at one time
    agent: str
    kind: str  # assign | tag | status | snooze | unsnooze | reply
    arg: Any


class SeededIds:
    """Event ids as store.events lays them out, the random part drawn from `rng`."""

    def __init__(self, rng: random.Random) -> None:
        self.rng, self.last = rng, 0

    def __call__(self, clock: float) -> str:
        self.last = max(int(clock * 1000), self.last + 1)
        return store_events.event_id(self.last, f"{self.rng.getrandbits(80):020x}")


def at_work(t: float, rng: random.Random) -> int:
    """`t` when it is in working hours, else a time early in the next working morning."""
    d = dt.datetime.fromtimestamp(t, dt.timezone.utc)
    if d.weekday() < 5 and DAY_START <= d.hour < DAY_END:
        return int(t)
    day = d.date() + dt.timedelta(days=1 if d.hour >= DAY_END else 0)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    morning = dt.datetime(day.year, day.month, day.day, DAY_START, tzinfo=dt.timezone.utc).timestamp()
    return int(morning + rng.uniform(5 * MINUTE, 100 * MINUTE))


def morning_after(t: float, days: int) -> int:
    """9:00 UTC on the `days`-th working day after `t` (what "snooze until mon 9:00" gives)."""
    day = dt.datetime.fromtimestamp(t, dt.timezone.utc).date()
    while days:
        day += dt.timedelta(days=1)
        days -= day.weekday() < 5
    return int(dt.datetime(day.year, day.month, day.day, 9, tzinfo=dt.timezone.utc).timestamp())


DUPLICATE_TAG = "duplicate"


def asked(facts: list[MessageFact]) -> tuple[str, str] | None:
    """(customer, what about) of a conversation: its first customer mail's sender and subject, with
    no Re: and no shouting ("WHERE IS MY ORDER?!!!" asks what "Where is my order?" did)."""
    first = next((f for f in facts if not f.is_agent and not f.auto_submitted), None)
    return None if first is None else (first.sender_key, strip_subject_prefixes(first.subject).casefold().rstrip("!"))


def duplicates(facts: dict[int, list[MessageFact]]) -> set[int]:
    """The conversations no agent answered whose customer asked the same in one an agent did."""
    answered = {asked(mail) for mail in facts.values() if any(f.is_agent for f in mail)}
    return {conv_id for conv_id, mail in facts.items()
            if not any(f.is_agent for f in mail) and asked(mail) is not None and asked(mail) in answered}


def plan(facts: list[MessageFact], topic: str, agents: tuple[str, ...], settled: bool, end: int,
         rng: random.Random, snippets: list[Snippet], duplicate: bool = False) -> list[Action]:
    """What the agents did in one conversation (its mail in date order). `settled`: quiet long
    enough to end closed; otherwise nothing may leave it in another state than its mail gives.
    `duplicate`: asked again what an agent answered in another conversation (duplicates)."""
    acts: list[Action] = []

    def add(at: float, agent: str, kind: str, arg: Any = None) -> None:
        at = int(at)
        if at < end:
            acts.append(Action(at, len(acts), agent, kind, arg))
    customer = [f for f in facts if not f.is_agent and not f.auto_submitted]
    replies = [f for f in facts if f.is_agent]
    owner = next((f.sender_name for f in replies if f.sender_name in agents), None) or rng.choice(agents)
    first = facts[0].date or 0
    assignee = None
    if settled or replies:  # fresh mail nobody answered yet waits in the queue untouched
        triage = at_work(first + rng.uniform(5 * MINUTE, 2 * HOUR), rng)
        if replies and triage >= replies[0].date:  # answered at once, or out of hours: before the answer
            triage = int(first + (replies[0].date - first) * rng.uniform(0.05, 0.6))
        triager = owner if rng.random() < 0.6 else LEAD
        if rng.random() < 0.85:
            add(triage, triager, "assign", owner)
            assignee = owner
        tags = TOPIC_TAGS.get(topic, ())
        if tags and rng.random() < 0.75:
            add(triage + rng.randint(15, 120), triager, "tag", tags[:rng.randint(1, len(tags))])
    close_hint = None  # a snooze that ran out with no answer: closed the morning it woke
    by_name = {s.name: s for s in snippets}
    candidates = [name for name in TOPIC_SNIPPETS.get(topic, ()) if name in by_name]
    for n, mail in enumerate(replies):
        who = mail.sender_name if mail.sender_name in agents else owner
        prev = max([f.date for f in facts if f.date < mail.date] + [first])
        if assignee is not None and assignee != who and rng.random() < 0.8:  # a hand-over
            add(max(prev + 1, mail.date - rng.randint(2 * MINUTE, 30 * MINUTE)), who, "assign", who)
            assignee = who
        used = [rng.choice(candidates)] if candidates and rng.random() < (0.45 if n == 0 else 0.2) else []
        add(mail.date, who, "reply", {"message_id": wire_message_id(mail.message_id), "reply_all": False,
                                      "snippets": records_of_snippets(snippets, used)})
        later = next((f.date for f in customer if f.date > mail.date), None)
        again = next((f.date for f in replies if f.date > mail.date), None)
        if again is not None and (later is None or again < later):
            # the agent writes again before the customer does: some snoozed it till a morning to
            # follow up, and woke it to write (or the snooze had run out by then)
            if rng.random() < 0.3:
                until, soon = morning_after(mail.date, 1), mail.date + rng.randint(20, 300)
                if soon < again - 10 * MINUTE:
                    add(soon, who, "snooze", (until, False))
                    if again < until:
                        add(again - rng.randint(MINUTE, 10 * MINUTE), who, "unsnooze")
            continue
        r, soon = rng.random(), mail.date + rng.randint(20, 300)
        if later is not None:
            if soon >= later:
                continue
            if r < 0.22:  # closed; the customer's next mail reopens it
                close = at_work(mail.date + rng.uniform(20 * MINUTE, 10 * HOUR), rng)
                if close < later - MINUTE:
                    add(close, who, "status", "closed")
            elif r < 0.36 and settled:
                add(soon, who, "snooze", (None, True))
            elif r < 0.45 and settled:
                add(soon, who, "snooze", (morning_after(mail.date, 1), False))
        elif settled:
            if r < 0.18:
                until = morning_after(mail.date, rng.choice((1, 2, 3)))
                if until < end - 2 * HOUR:
                    add(soon, who, "snooze", (until, False))
                    close_hint = until + rng.randint(10 * MINUTE, 3 * HOUR)
    # "thanks, I will try that": the ball is in the customer's court, no answer needed
    for n, mail in enumerate(facts):
        if mail.is_agent or mail.auto_submitted or not any(f.date < mail.date for f in replies):
            continue
        following = facts[n + 1].date if n + 1 < len(facts) else None
        at = at_work(mail.date + rng.uniform(10 * MINUTE, 2 * HOUR), rng)
        if rng.random() < 0.35 and (following is None and settled or following is not None and at < following):
            add(at, assignee or owner, "status", "pending")
    if settled:
        last = max([facts[-1].date or 0] + [a.at for a in acts])
        closer = assignee if assignee and rng.random() < 0.85 else LEAD
        wait = rng.uniform(5 * MINUTE, 20 * HOUR) if replies and facts[-1].is_agent else rng.uniform(20 * MINUTE, 6 * HOUR)
        close = close_hint or at_work(last + wait, rng)
        close = max(last + MINUTE, min(close, end - rng.randint(HOUR, 3 * HOUR)))
        if duplicate:  # answered in the other conversation: said so, then closed with no reply
            add(close, closer, "tag", (DUPLICATE_TAG,))
        add(close, closer, "status", "closed")
        if rng.random() < 0.08:  # an agent opens it again (the customer called), then closes it
            again = at_work(close + rng.uniform(2 * HOUR, 2 * 86400), rng)
            done = at_work(again + rng.uniform(20 * MINUTE, 5 * HOUR), rng)
            if done < end - HOUR:
                add(again, closer, "status", "open")
                add(done, closer, "status", "closed")
    return acts


def edit_of(act: Action) -> Callable[[ConvState], None]:
    """The action's change, as the desk's command makes it."""
    if act.kind == "assign":
        return commands.assign_edit(act.arg)
    if act.kind == "tag":
        return commands.tag_edit(list(act.arg), [])
    if act.kind == "status":
        return commands.status_edit(act.arg, act.at)
    if act.kind == "unsnooze":
        return commands.unsnooze_edit
    until, until_reply = act.arg
    return commands.snooze_edit(until, until_reply, act.at)


def replay(conv_id: int, facts: list[MessageFact], actions: list[Action], anchor: str, cfg,
           new_id: SeededIds) -> tuple[list[Event], ConvState]:
    """The events the actions record and the state they leave, as the desk would have them: each
    action starts from what the desk showed then (the mail up to that moment decides status and
    wakes snoozes, as in desk.priority.summarize)."""
    state, out = ConvState(), []
    for act in sorted(actions, key=lambda a: (a.at, a.seq)):
        seen = [f for f in facts if (f.date or 0) <= act.at]
        if seen:
            shown = summarize(conv_id, seen, state, cfg)
            state = dataclasses.replace(state, status=shown.status, snooze_until=shown.snooze_until,
                                        snooze_reply=shown.snooze_reply, woke_at=shown.woke_at)
        if act.kind == "reply":
            out.append(Event(new_id(act.at), act.at, act.agent, "reply", anchor, act.arg))
            continue
        after = dataclasses.replace(state)
        edit_of(act)(after)
        out += state_events(state, after, at=act.at, agent=act.agent, anchor=anchor, new_id=new_id)
        state = after
    return out, state


def survey_events(facts: list[MessageFact], found: list[Event], anchor: str, domain: str, end: int,
                  rng: random.Random, new_id: SeededIds) -> list[Event]:
    """The survey after the conversation's final close (`found`: its events, replayed) and maybe
    the customer's answer (module docstring); none when nobody replied or it was too late."""
    replies = [e for e in found if e.kind == "reply"]
    closes = [e for e in found if e.kind == "status" and e.data.get("to") == "closed"]
    customer = next((f.sender_key for f in facts if not f.is_agent and not f.auto_submitted), "")
    if not replies or not closes or not customer:
        return []
    close = closes[-1]
    sent = close.at + rng.randint(20 * MINUTE, 90 * MINUTE)
    if sent >= end or any(close.at < (f.date or 0) <= sent for f in facts if not f.is_agent and not f.auto_submitted):
        return []  # too late for the demo, or the customer wrote first: reopened, no survey
    assigned = [e.data.get("to") for e in found if e.kind == "assign"]
    agent = (assigned[-1] if assigned else None) or replies[-1].agent
    used: list[dict[str, Any]] = []
    for e in replies:
        used += [s for s in e.data.get("snippets") or [] if s not in used]
    survey_id = survey_message_id(hashlib.sha256(f"{anchor}\n{close.event_id}".encode()).hexdigest(), domain)
    out = [Event(new_id(sent), sent, close.agent, "survey", anchor,
                 {"message_id": survey_id, "to": [customer], "agent": agent, "snippets": used,
                  "close": close.event_id})]
    if rng.random() >= CSAT_ANSWERED:
        return out
    answered = sent + 10 * MINUTE + int(min(rng.expovariate(1 / (5 * HOUR)), 36 * HOUR))  # most within hours
    if answered >= end:
        return out
    mix = list(CSAT_MIX.get(agent, (0.6, 0.25, 0.15)))
    first = next((f.date for f in facts if not f.is_agent and not f.auto_submitted and f.date), None)
    slow = first is not None and replies[0].at - first > 8 * HOUR
    if len(closes) > 1 or slow:  # reopened, or a long first wait: it did not go smoothly
        mix = [mix[0] * 0.5, mix[1], mix[2] + mix[0] * 0.5]
    rating = rng.choices(list(RATINGS), weights=mix)[0]
    comment = rng.choice(CSAT_COMMENTS[rating]) if rating in CSAT_COMMENTS and rng.random() < 0.4 else ""
    answer_id = f"csat-answer.{hashlib.sha256(survey_id.encode()).hexdigest()[:16]}@{customer.rpartition('@')[2]}"
    out.append(Event(answer_event_id(answer_id, answered), answered, close.agent, "csat", anchor,
                     {"rating": rating, "score": RATINGS[rating], "comment": comment, "agent": agent,
                      "snippets": used, "survey": survey_id}))
    return out


def topics_by_message_id(msgs: list[Msg]) -> dict[str, str]:
    return {m.msgid.strip("<>"): m.topic for m in msgs if m.topic}


async def give_history(desk: Desk, end: dt.datetime, msgs: list[Msg], seed: int, settled_days: float,
                       agents: tuple[str, ...]) -> None:
    """Record the demo's past (see the module docstring) in the store of `desk`."""
    store = desk.store
    end_ts = int(end.timestamp())
    cutoff = end_ts - int(settled_days * 86400)
    topics = topics_by_message_id(msgs)
    facts = await queries.message_facts(store, None)
    anchors = await store_events.anchors(store, list(facts))
    bundled = bundled_dir("snippets")
    snippets = load_snippets([bundled])[0] if bundled else []
    events: list[Event] = []
    states: dict[int, ConvState] = {}
    surveyed: set[str] = set()  # one survey per customer over the demo's days ([csat] min_days_between)
    twins = duplicates(facts)
    for conv_id in sorted(facts):
        mail = [f for f in facts[conv_id] if f.date is not None]
        if not mail or conv_id not in anchors:
            continue
        rng = random.Random(f"{seed}:history:{anchors[conv_id]}")
        topic = next((topics[f.message_id] for f in mail if f.message_id in topics), "")
        acts = plan(mail, topic, agents, mail[-1].date < cutoff, end_ts, rng, snippets, conv_id in twins)
        if not acts:
            continue
        found, state = replay(conv_id, mail, acts, anchors[conv_id], desk.config.priority, SeededIds(rng))
        events += found
        states[conv_id] = state
        # the survey draws from a random stream of its own: the history above stays as it was
        customer = next((f.sender_key for f in mail if not f.is_agent and not f.auto_submitted), "")
        if customer not in surveyed:
            asked = random.Random(f"{seed}:csat:{anchors[conv_id]}")
            surveys = survey_events(mail, found, anchors[conv_id], SURVEY_DOMAIN, end_ts, asked, SeededIds(asked))
            if surveys:
                surveyed.add(customer)
                events += surveys
    before = await queries.conversation_states(store, list(states))
    async with store.transaction():
        await queries.write_states(store, states)
        await queue_changes(store, states, before)
        await store_events.record(store, events)
    await desk.refresh(list(states))
