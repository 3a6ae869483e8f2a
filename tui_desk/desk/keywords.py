"""Conversation state as IMAP keywords: how a team shares it through the mail server.

Every message of a conversation carries the same keywords:

    td:status:<open|pending|closed|spam>     td:assign:<agent>
    td:snooze:<YYYYMMDDTHHMMZ>|reply         td:tag:<tag>

Bytes outside [a-z0-9._-] are written =XX (UTF-8 hex) so every keyword is a plain IMAP atom.
Keywords are case-insensitive (RFC 3501): whoever reads one may fold its case, and we do. So
tags and the claim markers are lower-cased, and an assignee keeps its case by writing each
capital as =XX too ("Chen Wei" -> td:assign:=43hen=20=57ei), which no folding changes: an older
client, which lower-cases and decodes =XX the same way, reads "Chen Wei" too. A name too long
for that (MAX_KEYWORD) is written lower-cased, as older clients write every name; reading a
lower-case assignee back, the desk takes the spelling its config knows (desk.agent_names). Reading back: tags are the union over the messages (tags merge); status,
assignee and snooze come from the message with the highest MODSEQ that carries one (the last
writer wins, as the server ordered the writes).

    td:state                 an agent has changed this conversation's state: with no other
                             state keyword left (a teammate took the last tag, the assignee or
                             the snooze away), its state is "none", not "not written yet"

    td:replying:<agent>      that agent has a reply open (collision warning for the others)

is not conversation state: it is set when a compose view opens and removed when it closes. It
carries no time (one keyword per agent, so the server's keyword list stays small); a client
counts it from when it first saw it and ignores it after REPLYING_EXPIRES, which covers an app
that crashed mid-reply (its own next start removes the leftover too).

    td:rules:<agent>         that agent's client claimed the mail to run the rules on it
    td:rules-done            the rules ran on it (desk.rules.fire; sync.claims)
    td:csat:<agent>          that agent's client claimed the mail for the satisfaction survey
    td:csat-done             ... and sent the survey, or recorded the answer (desk.csat)

are not conversation state either: they sit on one message (a customer's new mail in a queue
folder), never on every message of the conversation, and a merge or split leaves them alone.

    td:incident:<name>.<agent>   that agent's client claimed the conversation to send it the
                                 incident's "it's fixed" mail (desk.incident)
    td:incident-done:<name>      that mail is queued

are claims like the rules' (one message, not state).

    td:fire:<code>:<agent>   that agent's client claimed a timed rule event (desk.rules.timed)
    td:fire:<code>           the rules ran on it

are the same for the events the desk's clock raises (sla-warning, sla-breach, schedule):
`<code>` is 10 base32 letters of a SHA-256 of what names the occurrence ("sla-breach
first_response 1793955600", "schedule <rule> <period number>"), so each keyword is a short
atom however long a rule's name is; a long agent name is hashed too (MAX_KEYWORD).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from typing import TYPE_CHECKING, Collection

from tui_desk.store.queries import ConvState

if TYPE_CHECKING:
    from tui_desk.store import Store

PREFIX = "td:"
STATE_WRITTEN = f"{PREFIX}state"  # every agent's change adds it; never removed (module docstring)
_SAFE = re.compile(r"[a-z0-9._-]")
STATUS_ORDER = ("closed", "spam", "pending", "open")  # tie-break when one message holds two


def encode_name(name: str, *, keep_case: bool = False) -> str:
    return "".join(c if _SAFE.fullmatch(c) else "".join(f"={b:02X}" for b in c.encode())
                   for c in (name if keep_case else name.lower()))


def assign_keyword(agent: str) -> str:
    kept = f"{PREFIX}assign:{encode_name(agent, keep_case=True)}"
    return kept if len(kept) <= MAX_KEYWORD else f"{PREFIX}assign:{encode_name(agent)}"


def decode_name(text: str) -> str:
    out, i = bytearray(), 0
    while i < len(text):
        if text[i] == "=" and re.fullmatch(r"[0-9A-Fa-f]{2}", text[i + 1:i + 3]):
            out.append(int(text[i + 1:i + 3], 16))
            i += 3
        else:
            out += text[i].encode()
            i += 1
    return out.decode("utf-8", "replace")


def _snooze_kw(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y%m%dT%H%MZ")


def keywords_for(state: ConvState) -> set[str]:
    kws = {STATE_WRITTEN, f"{PREFIX}status:{state.status}"}
    if state.assignee:
        kws.add(assign_keyword(state.assignee))
    if state.snooze_reply:
        kws.add(f"{PREFIX}snooze:reply")
    elif state.snooze_until:
        kws.add(f"{PREFIX}snooze:{_snooze_kw(state.snooze_until)}")
    kws |= {f"{PREFIX}tag:{encode_name(t)}" for t in state.tags}
    return kws


REPLYING = f"{PREFIX}replying:"
REPLYING_EXPIRES = 30 * 60  # seconds


RULES_CLAIM = f"{PREFIX}rules:"
RULES_DONE = f"{PREFIX}rules-done"
INCIDENT_CLAIM = f"{PREFIX}incident:"
INCIDENT_DONE = f"{PREFIX}incident-done:"
CSAT_CLAIM = f"{PREFIX}csat:"
CSAT_DONE = f"{PREFIX}csat-done"
TIMED = f"{PREFIX}fire:"
MAX_KEYWORD = 50  # Dovecot's default mail_max_keyword_length; longer keywords are refused


def ours(flags: set[str]) -> set[str]:
    """The keywords that hold conversation state (not the replying markers nor the rules' and
    incidents' claims)."""
    return {f for f in flags if f.lower().startswith(PREFIX)
            and not f.lower().startswith((REPLYING, RULES_CLAIM, RULES_DONE, INCIDENT_CLAIM, INCIDENT_DONE,
                                          CSAT_CLAIM, CSAT_DONE, TIMED))}


def occurrence_code(occurrence: str) -> str:
    """10 letters naming a timed rule event: the same on every client for the same text."""
    return base64.b32encode(hashlib.sha256(occurrence.encode()).digest()).decode()[:10].lower()


def timed_done_keyword(code: str) -> str:
    return TIMED + code


def timed_claim_prefix(code: str) -> str:
    return TIMED + code + ":"


def timed_claim_keyword(code: str, agent: str) -> str:
    name = encode_name(agent)
    if len(timed_claim_prefix(code)) + len(name) > MAX_KEYWORD:
        name = "h" + occurrence_code(name)  # still one per agent, and the same pick everywhere
    return timed_claim_prefix(code) + name


def rules_claim_keyword(agent: str) -> str:
    return RULES_CLAIM + encode_name(agent)


def csat_claim_keyword(agent: str) -> str:
    return CSAT_CLAIM + encode_name(agent)


def replying_keyword(agent: str) -> str:
    return REPLYING + encode_name(agent)


def replying_agents(flags: set[str] | list[str]) -> set[str]:
    """The agents whose replying marker is among these keywords (names as encoded, lower case)."""
    return {f[len(REPLYING):].lower() for f in flags if f.lower().startswith(REPLYING)}


def state_from_keywords(messages: list[tuple[set[str], int | None, int | None]], base: ConvState) -> ConvState:
    """messages: (flags, modseq, date) of every copy of every message in the conversation.

    When a status or snooze was set is taken as the date of the newest message carrying it: a
    customer mail newer than that (which nobody has touched) reopens or wakes the conversation,
    on every agent's client alike."""
    tags: set[str] = set()
    status = assignee = snooze = None
    status_at = snooze_at = None
    for flags, _, date in messages:
        mine: Collection[str] = ours(flags)
        if any(f.lower().startswith(f"{PREFIX}status:") for f in mine) and date is not None:
            status_at = max(status_at or date, date)
        if any(f.lower().startswith(f"{PREFIX}snooze:") for f in mine) and date is not None:
            snooze_at = max(snooze_at or date, date)
    for flags, _, _ in sorted(messages, key=lambda m: (-(m[1] or 0), sorted(m[0]))):
        mine = [f.lower() for f in ours(flags)]
        tags |= {decode_name(f[len(PREFIX) + 4:]) for f in mine if f.startswith(f"{PREFIX}tag:")}
        found = [f.split(":", 2)[2] for f in mine if f.startswith(f"{PREFIX}status:")]
        if status is None and found:
            status = min(found, key=lambda v: STATUS_ORDER.index(v) if v in STATUS_ORDER else 9)
        # two values on one message (writers racing without CONDSTORE): the same pick everywhere
        if assignee is None:
            assignee = min((decode_name(f.split(":", 2)[2]) for f in mine if f.startswith(f"{PREFIX}assign:")),
                           default=None)
        if snooze is None:
            snooze = min((f.split(":", 2)[2] for f in mine if f.startswith(f"{PREFIX}snooze:")), default=None)
    written = any(STATE_WRITTEN in {f.lower() for f in flags} for flags, _, _ in messages)
    if status is None and not tags and assignee is None and snooze is None and not written:
        return base  # nobody has written state for it yet
    state = ConvState(status=status or base.status, status_set_at=status_at if status else base.status_set_at,
                      assignee=assignee, snooze_until=None, snooze_reply=False,
                      snooze_set_at=snooze_at if snooze else None, woke_at=base.woke_at, tags=tuple(sorted(tags)))
    if snooze == "reply":
        state.snooze_reply = True
    elif snooze:
        try:
            when = dt.datetime.strptime(snooze.upper(), "%Y%m%dT%H%MZ").replace(tzinfo=dt.timezone.utc)
            state.snooze_until = int(when.timestamp())
        except ValueError:
            pass
    return state


SINGLE_VALUED = ("status", "assign", "snooze")  # one value per conversation; tags are a set


def change_ops(before: ConvState, after: ConvState) -> dict[str, list[str]] | None:
    """An agent's action as an intent for the server: keywords to add and remove, and the
    single-valued fields it sets ("exclusive"): at push time every other value of those fields
    found on the copy goes, in one conditional STORE (mail.sync), so the server's order decides
    the last writer and a stale local view never re-asserts what it did not change."""
    old, new = keywords_for(before), keywords_for(after)
    add, remove = sorted(new - old), sorted(old - new)
    if not add and not remove:
        return None
    if STATE_WRITTEN not in add:  # in both: said on every change, so the server has it from the first
        add = sorted([*add, STATE_WRITTEN])
    exclusive = sorted({f"{PREFIX}{name}:" for name in SINGLE_VALUED
                        for k in (*add, *remove) if k.startswith(f"{PREFIX}{name}:")})
    return {"add": add, "remove": remove, "exclusive": exclusive}


async def queue_changes(store: Store, states: dict[int, ConvState], before: dict[int, ConvState] | None = None) -> None:
    """Queue what the server must do for `states`. With `before` (an agent's action): the
    change, as an intent for every copy (change_ops). Without (a merge or split): whatever
    brings every copy in line with `states`. Runs inside the caller's transaction."""
    from tui_desk.store import mirror, server_ops
    if before is not None:
        ops = {c: change_ops(before[c], s) for c, s in states.items() if c in before}
        for conv_id, account, message_id in sorted({(c, a, m) for c, a, m, _, _, _
                                                    in await mirror.conversation_copies(store, list(states))}):
            if op := ops.get(conv_id):
                await server_ops.enqueue(store, account, "flags", message_id, op)
        return
    current: dict[tuple[str, str], set[str]] = {}
    conv_of: dict[tuple[str, str], int] = {}
    for conv_id, account, message_id, flags, _, _ in await mirror.conversation_copies(store, list(states)):
        current.setdefault((account, message_id), set()).update(flags.split())
        conv_of[(account, message_id)] = conv_id
    for key, copy_flags in sorted(current.items()):
        want = keywords_for(states[conv_of[key]])
        have = ours(copy_flags)
        add, remove = sorted(want - have), sorted(have - want)
        if add or remove:
            await server_ops.enqueue(store, key[0], "flags", key[1], {"add": add, "remove": remove})
