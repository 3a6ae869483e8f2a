"""Smart priority: who to answer next, and why.

The rank is "effective waiting start": when the customer's oldest unanswered mail arrived,
moved earlier by capped boosts (VIP, first contact, an urgent word, tag weights). Lower rank
means answer sooner. It does not depend on the current time, so the queue is one index scan
and never needs re-sorting as the clock runs; the score shown is (now - rank) / target.

Loud is not urgent: more mails from a waiting customer do not move the waiting start, and the
urgent-word boost is a fixed, capped amount however often or loudly it is said.

Nor is a thank-you a question (desk.thanks, the one rule the reports read too): a customer's mail
that only thanks leaves a closed or pending conversation as it was, and after an agent's answer
starts no wait (only_thanked: open, waiting for nobody, "close it?"). It is judged here, where
the status and the wait are worked out (summarize), from the excerpt store.queries.message_facts
carries of each customer mail (the reports' excerpt, so one verdict), not from a flag stored at
ingest: the store may not import the desk, and judging at each summary needs no migration and
follows a body that arrives after its headers (store.ingest.replace_bodies names the
conversations to read again).
"""

from __future__ import annotations

from dataclasses import dataclass

from tui_desk.desk.business_time import business_clock
from tui_desk.config import PriorityConfig
from tui_desk.desk.thanks import only_thanks
from tui_desk.desk.timefmt import format_duration
from tui_desk.mail.threading import strip_subject_prefixes
from tui_desk.store.queries import ConversationSummary, ConvState, MessageFact

NOT_WAITING_RANK = 1e15  # sorts after every waiting conversation
# nobody waits on these, whatever the mail says: nothing is due or overdue (the first reason)
NOT_WAITING_STATUS = {"closed": "closed: nobody is waiting", "spam": "spam: nobody is waiting",
                      "pending": "waiting on the customer"}

# desk.csat tags a bad rating with a comment and opens the conversation: a person should read it
BAD_RATING_TAG = "csat-bad"
BAD_RATING_REASON = "bad rating with a comment: reopened for a look"


def clean_subject(subject: str) -> str:
    return strip_subject_prefixes(subject)


def summarize(conv_id: int, facts: list[MessageFact], state: ConvState, cfg: PriorityConfig) -> ConversationSummary:
    s = ConversationSummary(id=conv_id, status=state.status, snooze_until=state.snooze_until,
                            snooze_reply=state.snooze_reply, woke_at=state.woke_at)
    s.message_count = len(facts)
    dates = [f.date for f in facts if f.date is not None]
    s.first_date = min(dates, default=None)
    s.last_date = max(dates, default=None)
    customer_mails = [f for f in facts if not f.is_agent and not f.auto_submitted]
    first = customer_mails[0] if customer_mails else (facts[0] if facts else None)
    if first is not None:
        s.customer_key, s.customer_name = first.sender_key, first.sender_name
        s.subject = clean_subject(first.subject) or first.subject
    waiting_since = None
    answered = False  # an agent's answer came before
    for f in facts:
        if f.auto_submitted:
            continue  # an auto-reply, a bounce, our auto-acknowledgement or forward: nobody's turn
        if f.is_agent:
            waiting_since = None
            s.last_agent_date = f.date
            answered = True
        else:
            s.last_customer_date = f.date
            if waiting_since is None and not (answered and only_thanks(f.excerpt)):
                waiting_since = f.date if f.date is not None else s.last_date
    s.waiting_since = waiting_since
    s.burst = _burst(customer_mails, cfg.loud_window_minutes * 60)
    def customer_wrote_after(t: int | None) -> bool:
        return t is not None and s.last_customer_date is not None and s.last_customer_date > t

    def asked_after(t: int, customer: bool) -> bool:
        """Mail after t (the customer's if `customer`) that is not a customer's thank-you
        (desk.thanks): an agent's and automatic mail have no excerpt, so never only thank."""
        return any(f.date is not None and f.date > t and not (customer and (f.is_agent or f.auto_submitted))
                   and not only_thanks(f.excerpt) for f in facts)

    thanked = only_thanked(s)
    derived = "open" if waiting_since is not None or s.last_agent_date is None or thanked else "pending"
    if state.status in ("closed", "spam"):
        # stays closed until the customer writes again, for more than thanks
        if state.status_set_at is None or (customer_wrote_after(state.status_set_at)
                                           and asked_after(state.status_set_at, customer=True)):
            s.status = derived if state.status_set_at is not None else state.status
    elif state.status_set_at is None or (s.last_date is not None and s.last_date > state.status_set_at
                                         and asked_after(state.status_set_at, customer=False)):
        s.status = derived  # mail since the agent set it: the mail decides again (a thank-you does not)
    if (s.snooze_until or s.snooze_reply) and customer_wrote_after(state.snooze_set_at):
        s.snooze_until, s.snooze_reply, s.woke_at = None, False, s.last_customer_date
        s.status = "open"
    if (waiting_since is None and state.status == "open" and s.status == "open" and state.status_set_at is not None
            and not (thanked and (s.last_agent_date or 0) > state.status_set_at)):
        # Opened again after the last mail (o, a bad rating with a comment, a question to the
        # survey; a teammate's through the server): nobody wrote, yet a person is needed, from
        # then on. Always after the last mail (a wait by mail never is): see reopened(). An
        # answer since, then a thank-you, ended it.
        s.waiting_since = max(state.status_set_at, (s.last_date or 0) + 1)
    s.rank = rank(s, cfg, state.tags)
    return s


def rank_customer_bursts(summaries: list[ConversationSummary], cfg: PriorityConfig) -> None:
    """A customer who opens several conversations within the loud window (three separate mails
    instead of replies) is waiting once: the later ones rank right behind the first, to be
    answered together, ahead of a quieter customer who wrote in between (by at most the
    window); their reasons say so (kept_next_to_burst). Needs every open conversation of the
    customers involved in `summaries`."""
    window = cfg.loud_window_minutes * 60
    by_customer: dict[str, list[ConversationSummary]] = {}
    for s in summaries:
        if s.customer_key and s.status == "open" and s.waiting_since is not None:
            by_customer.setdefault(s.customer_key, []).append(s)
    for convs in by_customer.values():
        if len(convs) < 2:
            continue
        convs.sort(key=lambda c: (c.waiting_since, c.id))
        start = 0
        for i in range(1, len(convs) + 1):
            # every conversation here waits (waiting_since set, see the grouping above)
            if i == len(convs) or convs[i].waiting_since - convs[start].waiting_since > window:  # type: ignore[operator]  # see above
                cluster = convs[start:i]
                if len(cluster) > 1:
                    lead = min(c.rank for c in cluster)
                    for k, c in enumerate(sorted(cluster, key=lambda c: (c.rank, c.id))):
                        c.rank = lead + k * 1e-3
                        c.burst = max(c.burst, len(cluster))
                start = i


def _burst(customer_mails: list[MessageFact], window: int) -> int:
    """Most customer mails inside any window of `window` seconds."""
    dates = sorted(f.date for f in customer_mails if f.date is not None)
    best, lo = 0, 0
    for hi, d in enumerate(dates):
        while d - dates[lo] > window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def is_vip(customer_key: str, cfg: PriorityConfig) -> bool:
    domain = customer_key.rpartition("@")[2]
    return customer_key in cfg.vip or domain in cfg.vip


PRIORITY_CLASSES = ("vip", "urgent", "normal")


def priority_class(customer_key: str, subject: str, cfg: PriorityConfig) -> str:
    """The conversation's class for comparisons (expected wait): vip, else urgent (an urgent
    word in the subject), else normal."""
    if is_vip(customer_key, cfg):
        return "vip"
    return "urgent" if urgent_word(subject, cfg) else "normal"


def urgent_word(subject: str, cfg: PriorityConfig) -> str | None:
    low = subject.lower()
    for w in cfg.urgent_words:
        if w in low:
            return w
    return None


@dataclass(frozen=True, slots=True)
class Boost:
    minutes: int
    reason: str
    flag: str = ""


def boosts(s: ConversationSummary, cfg: PriorityConfig, tags: tuple[str, ...]) -> list[Boost]:
    out = []
    if is_vip(s.customer_key, cfg):
        out.append(Boost(cfg.vip_boost_minutes, "VIP customer", "vip"))
    word = urgent_word(s.subject, cfg)
    if word:
        out.append(Boost(cfg.urgent_boost_minutes, f"says '{word}' (capped +{cfg.urgent_boost_minutes}m)", "urgent-word"))
    for t in tags:
        if cfg.tag_weights.get(t):
            out.append(Boost(cfg.tag_weights[t], f"tag {t} ({cfg.tag_weights[t]:+d}m)"))
    return out


def kept_next_to_burst(s: ConversationSummary, cfg: PriorityConfig, tags: tuple[str, ...]) -> bool:
    """Whether rank_customer_bursts ranked ``s`` up, next to its customer's first conversation:
    its stored rank is ahead of its own (by more than rounding)."""
    return s.waiting_since is not None and s.status == "open" and rank(s, cfg, tags) - s.rank > 0.5


def only_thanked(s: ConversationSummary) -> bool:
    """Whether the customer's mail since the last agent answer only thanks (desk.thanks): then
    nobody waits (summarize starts no wait on it) though the customer wrote last."""
    return (s.waiting_since is None and s.last_agent_date is not None and s.last_customer_date is not None
            and s.last_customer_date > s.last_agent_date)


def reopened(s: ConversationSummary) -> bool:
    """Whether ``s`` waits because it was opened again (an agent, desk.csat), not for a customer's mail:
    its wait starts after its last mail (summarize)."""
    return s.waiting_since is not None and (s.last_date is None or s.waiting_since > s.last_date)


def rank(s: ConversationSummary, cfg: PriorityConfig, tags: tuple[str, ...] = ()) -> float:
    if s.waiting_since is None:
        return NOT_WAITING_RANK + -(s.last_date or 0) / 1e6
    return business_clock(cfg).elapsed(s.waiting_since) - 60 * sum(b.minutes for b in boosts(s, cfg, tags))


def thanked_reason(answered_by: str) -> str:
    who = f"{answered_by}'s answer" if answered_by else "the answer"
    return f"the customer only thanked after {who}: close it?"


@dataclass(frozen=True, slots=True)
class Explained:
    score: float
    marker: str
    reasons: tuple[str, ...]
    flags: tuple[str, ...]


def explain(s: ConversationSummary, now: int, cfg: PriorityConfig, tags: tuple[str, ...],
            conversations_of_customer: int, kept_next_to: int | None = None, answered_by: str = "") -> Explained:
    """``kept_next_to``: the customer's first conversation this one is ranked next to
    (rank_customer_bursts; the caller finds it, see kept_next_to_burst). ``answered_by``: who
    wrote the last answer (sanitized), for a conversation the customer only thanked since
    (only_thanked; the caller finds it)."""
    target = cfg.response_target_minutes * 60
    reasons: list[str] = []
    flags: list[str] = []
    snoozed = s.snooze_reply or bool(s.snooze_until and s.snooze_until > now)
    if s.snooze_reply:
        reasons.append("snoozed until the customer replies")
    elif snoozed and s.snooze_until is not None:  # (not until a reply: snoozed means a time is set)
        reasons.append(f"snoozed for {format_duration(s.snooze_until - now)} more")
    elif s.snooze_until:
        reasons.append(f"woke up {format_duration(now - s.snooze_until)} ago")
        flags.append("woke")
    if s.woke_at:
        reasons.append("the customer wrote while it was snoozed")
        flags.append("woke")
    if s.waiting_since is None or s.status in NOT_WAITING_STATUS:
        if s.status in NOT_WAITING_STATUS:
            reasons.insert(0, NOT_WAITING_STATUS[s.status])
        elif s.status == "open" and only_thanked(s):
            reasons.insert(0, thanked_reason(answered_by))
        elif s.status == "open" and s.last_agent_date is None:
            reasons.append("only automatic mail (bounce or auto-reply), nobody waiting")
        elif s.status == "open":
            reasons.append("nobody waiting: answered, no mail since")
        return Explained(0.0, " ", tuple(reasons), tuple(flags))
    clock_now = business_clock(cfg).elapsed(now)
    waited = max(0.0, clock_now - business_clock(cfg).elapsed(s.waiting_since))
    extra = boosts(s, cfg, tags)
    score = (clock_now - s.rank) / target
    if waited >= target:
        marker = "!"
        reasons.append(f"waiting {format_duration(waited)}, over the {format_duration(target)} target")
    else:
        marker = "+" if waited >= 0.75 * target else " "
        reasons.append(f"waiting {format_duration(waited)} of {format_duration(target)} target")
    if reopened(s):
        reasons.append(BAD_RATING_REASON if BAD_RATING_TAG in tags else "reopened, not answered since")
    if snoozed:
        marker = " "  # out of the queue for now: nothing is overdue yet
    for b in extra:
        reasons.append(b.reason)
        if b.flag:
            flags.append(b.flag)
    if kept_next_to is not None:
        reasons.append(f"same customer as #{kept_next_to}: kept next to it")
    if s.burst >= cfg.loud_messages:
        flags.append("loud")
        reasons.append(f"loud: {s.burst} mails within {cfg.loud_window_minutes}m (waiting counted once)")
    if conversations_of_customer <= 1:
        reasons.append("first contact")
    else:
        reasons.append(f"returning customer ({conversations_of_customer} conversations)")
    return Explained(round(score, 3), marker, tuple(reasons), tuple(flags))
