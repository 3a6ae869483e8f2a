"""Customer satisfaction (CSAT) by mail, with no web server: a survey after a close, and the
answers read back from the mail the sync brings (`[csat]` in config.toml; README "Customer
satisfaction (CSAT)").

Sending. After every sync pass (AccountSync.after_pass, beside the rules) a client looks at the
closes (`status` events to `closed`, a teammate's too through History) whose `delay_minutes`
have passed on the desk's clock, within a day after that (a desk that was away longer, or a new
agent's first sync, does not survey old closes). A conversation still closed, never marked spam,
not surveyed since that close, whose customer got no survey in `min_days_between` days, gets one
survey mail, when a person closed it by hand (its last close has no "by": not a rule, an
incident's resolve --close or a bulk follow-up's --status, which ask nobody) and an agent answered
it in a reply of their own (not an automatic reply, not a bulk follow-up; one still in the
outbox is waited for): a rating is about a person's help, and a close nobody helped with (a
duplicate, a "never mind") is not asked about. The survey is the `[csat] snippet` (bundled
`csat`) through the outbox at once, `Auto-Submitted: auto-generated`, threaded as a reply,
recorded as a `survey` event {"message_id", "to", "agent", "snippets", "close"} when sent.
Once across a team: the client claims the conversation's newest customer mail on the server
first (sync.claims, keywords `td:csat:<agent>` / `td:csat-done`), and the survey's Message-ID is
derived from the close, so a restarted client cannot queue it twice.

Answering works in any mail client:
- links `mailto:support+csat-<token>-great@…` (okay, bad): the token is 16 base32 characters of
  HMAC-SHA256(secret, conversation anchor + survey Message-ID), unguessable and bound to that
  survey; nothing happens on opening a link (no web server, no GET): only a sent mail counts;
- a reply to the survey mail (In-Reply-To its Message-ID) whose first word is 3 / 2 / 1 or
  great / okay / bad. The rest of the text (quotes left out) is the comment.

Intake. The parser marks such mail not-a-turn (mail.survey): it does not reopen the
conversation, start a wait or move it in the queue. After a pass, each answer dated within
`answer_days` after its survey (or before it: the customer's clock; it names the survey, so it
came after it) becomes a `csat` event on the survey's conversation, with data
exactly {"rating", "score", "comment", "agent", "snippets", "survey"} (agent and snippets as the
survey recorded them at its time). The event id is derived from the answer's Message-ID and the
client claims the answer mail first: one event across a team. A rating of bad with a comment
tags the conversation `csat-bad` and opens it (somebody should read it); a reply to a survey
with no rating in it opens the conversation too (it is a question, not a vote). A forged,
expired or reused token (a second answer to one survey) is ignored with one line in the log.
A link answer whose token this client cannot check (a teammate's survey, a secret the team does
not share) is filed in the conversation of the teammate's survey to its sender (History) and not
counted: the teammate's client counts it, and the tag and reopening reach here as keywords. Left
apart, it was a conversation of its own here, and those keywords (on every message of the
teammate's conversation, the answer's too) made it an open ticket with a bad rating (tryout).

The secret: `[csat] secret_file` or `secret_command` (one the whole team shares, so any client
checks any token), else `csat.secret` made beside the store on first use (then only the client
that sent a survey can check its link answers; replies work everywhere). Never logged.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import logging
import os
import secrets
import subprocess
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from tui_desk.desk import commands
from tui_desk.desk.commands import CommandError
from tui_desk.desk.keywords import CSAT_CLAIM, CSAT_DONE, csat_claim_keyword
from tui_desk.desk.priority import BAD_RATING_TAG
from tui_desk.desk.quoting import split_quoted
from tui_desk.desk.timefmt import format_duration
from tui_desk.desk.wording import counted
from tui_desk.mail.survey import (RATINGS, TOKEN_LENGTH, answer_address, comment_after_rating, delivered_to,
                                  is_survey_id, rating_in, survey_message_id, token_in)
from tui_desk.sanitize import sanitize_line
from tui_desk.store import csat as store_csat, events as store_events, mirror
from tui_desk.store.events import ConversationEvent, Event, event_id
from tui_desk.sync.claims import ClaimKeywords, ClaimSession, Copy

if TYPE_CHECKING:
    from tui_desk.desk.core import DeskCore as Desk  # the core its work needs (desk.core)

log = logging.getLogger(__name__)
WARNED_KEY = "csat_warned"  # meta: the answer Message-IDs whose ignoring was logged (JSON list)
WARNED_KEEP = 1000

SECRET_FILE = "csat.secret"
LINK_PLACEHOLDERS = tuple(f"csat_{r}" for r in RATINGS)  # the survey snippet's answer links
# an answer by link to a teammate's survey whose token this client cannot check
NOT_VERIFIED = "is a satisfaction answer (not verified here: the CSAT secret is not shared, README team setup)"
LATE = 24 * 3600  # a close found later than delay + this is not surveyed
BAD_TAG = BAD_RATING_TAG  # the queue's reason names it (desk.priority)


class CsatError(Exception):
    """The survey cannot run (its secret cannot be read): one line."""


def load_secret(desk: Desk) -> bytes:
    """The token key: the configured file or command, else csat.secret beside the store (made
    with mode 0600 on first use)."""
    cfg = desk.config.csat
    if cfg.secret_command:
        try:
            done = subprocess.run(cfg.secret_command, shell=True, capture_output=True, timeout=60,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise CsatError("csat.secret_command did not finish within 60 s") from None
        secret = done.stdout.strip() if done.returncode == 0 else b""
        if not secret:
            raise CsatError(f"csat.secret_command failed (exit status {done.returncode}) or printed nothing")
        return secret
    path = cfg.secret_file or Path(desk.store.path).parent / SECRET_FILE
    try:
        if cfg.secret_file is None and not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
        secret = path.read_bytes().strip()
    except FileExistsError:  # another process made it just now
        secret = path.read_bytes().strip()
    except OSError as e:
        raise CsatError(f"csat secret {path}: {e.strerror or e}") from None
    if not secret:
        raise CsatError(f"csat secret {path} is empty")
    return secret


def token(secret: bytes, anchor: str, survey_id: str) -> str:
    """The answer links' token: bound to the conversation and to the survey."""
    mac = hmac.new(secret, f"{anchor}\n{survey_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(mac).decode().lower()[:TOKEN_LENGTH]


def answer_event_id(message_id: str, at: int) -> str:
    """The `csat` event's id, from the answer mail alone: every client derives the same."""
    return event_id(max(at, 0) * 1000, hashlib.sha256(message_id.encode()).hexdigest()[:20])


def unquoted(text: str) -> str:
    return "".join(t for t, quoted in split_quoted(text) if not quoted).strip()


@dataclass(frozen=True)
class Survey:
    conv_id: int | None
    anchor: str
    message_id: str
    at: int
    data: dict[str, Any]
    sent: int = 0  # 1: this client queued it just now
    by: str = ""  # the agent whose client sent it


@dataclass(frozen=True)
class _Vote:
    mail: store_csat.AnswerMail
    survey: Survey
    rating: str
    comment: str


def _survey(found: ConversationEvent) -> Survey | None:
    mid = found.event.data.get("message_id")
    if not isinstance(mid, str) or not mid:
        return None
    return Survey(found.conv_id, found.event.anchor, mid.strip("<>"), found.event.at, found.event.data,
                  by=found.event.agent)


def _teammates_survey_to(agent: str, mail: store_csat.AnswerMail, surveys: list[Survey],
                         days: int) -> Survey | None:
    """The newest survey a teammate's client sent to the answer's sender (History says so) that
    it can still answer: where an answer by link whose token this client cannot check belongs.
    A token that fails on a survey this client sent itself is forged: None."""
    mine = [s for s in surveys if s.by != agent and mail.sender in {str(t).lower() for t in s.data.get("to") or []}
            and mail.at <= s.at + days * 86400]
    return max(mine, key=lambda s: (s.at, s.message_id), default=None)


def _copy(row: store_csat.CopyRow) -> Copy:
    return Copy(row[0], row[1], row[2], row[3], row[4], frozenset(row[5].split()), row[6])


def _addresses(raw_json: str) -> list[str]:
    try:
        return [str(a[1]) for a in json.loads(raw_json or "[]") if isinstance(a, list) and len(a) > 1]
    except ValueError:
        return []


class SurveyRunner:
    """Sends due surveys and records answers after every sync pass (Background wires it)."""

    def __init__(self, desk: Desk, secret: bytes) -> None:
        self.desk, self.secret = desk, secret
        self.keys = ClaimKeywords(csat_claim_keyword(desk.agent).lower(), CSAT_CLAIM, CSAT_DONE)
        self._settled_closes: set[str] = set()  # close event ids this process is done with
        self._settled_answers: set[str] = set()  # answer Message-IDs likewise
        self.sent = 0  # surveys this client queued (tests read them)
        self.recorded = 0  # answers this client recorded
        self.ignored = 0  # answers ignored: forged, expired or reused
        self._warned: set[str] | None = None  # answers whose ignoring was logged, kept in the store
        self._warned_now: list[str] = []  # ... and those logged in this pass

    async def after_pass(self, session: ClaimSession) -> None:
        await self.send_due(session)
        await self.intake(session)

    # -- sending ---------------------------------------------------------------------------------
    async def send_due(self, session: ClaimSession) -> int:
        desk, cfg = self.desk, self.desk.config.csat
        now, delay = desk.now(), cfg.delay_minutes * 60
        latest: dict[int, Event] = {}
        for found in await store_events.of_kind_since(desk.store, "status", now - delay - LATE):
            e = found.event
            if found.conv_id is not None and e.data.get("to") == "closed" and e.at <= now - delay:
                latest[found.conv_id] = e  # oldest first: the last close wins
        # a rule's, an incident's or a bulk follow-up's close asks nobody (its "by")
        due = {c: e for c, e in latest.items() if e.event_id not in self._settled_closes and not e.data.get("by")}
        if not due:
            return 0
        recent = [s for s in map(_survey, await store_events.of_kind_since(
            desk.store, "survey", now - cfg.min_days_between * 86400)) if s is not None]
        # one customer's closes in the order every client sees them: the first that may have
        # a survey gets it (claimed on the server), the others none (min_days_between)
        customers = await store_csat.customer_of(desk.store, list(due))
        ordered = sorted(due.items(), key=lambda item: (customers.get(item[0], ("", ()))[0], item[1].at,
                                                         item[1].anchor))
        sent = 0
        for conv_id, close in ordered:
            if await store_csat.reply_waiting(desk.store, conv_id):
                continue  # replied and closed at once: asked once the answer is sent (a later pass)
            outcome = await self._send_one(session, conv_id, close, recent)
            if outcome is not None:
                sent += outcome.sent
                recent.append(outcome)  # taken (here or by a teammate): that customer is done
            self._settled_closes.add(close.event_id)
        return sent

    async def _send_one(self, session: ClaimSession, conv_id: int, close: Event,
                        recent: list[Survey]) -> Survey | None:
        """The survey this close got (sent here, or claimed by a teammate's client: `sent` 0),
        or None when it gets none."""
        desk, cfg = self.desk, self.desk.config.csat
        from tui_desk.desk.replies import queue_autoreply, reply_headers
        from tui_desk.store.queries import conversation_rows, conversation_states
        row = (await conversation_rows(desk.store, [conv_id])).get(conv_id)
        if row is None or row["status"] != "closed":
            return None  # reopened (the customer wrote again, an agent) or gone
        history = await store_events.of_conversation(desk.store, conv_id)
        if any(e.kind == "status" and e.data.get("to") == "spam" for e in history):
            return None  # never to a conversation that was spam
        if not any(e.kind == "reply" and not e.data.get("followup") for e in history):
            return None  # no agent answered it in person: nothing to rate
        account = desk.config.account(None)
        if account.name != session.account:
            return None  # the survey goes from the first account, claimed on its server
        domain = account.address.rpartition("@")[2]
        survey_id = survey_message_id(hashlib.sha256(f"{close.anchor}\n{close.event_id}".encode()).hexdigest(), domain)
        if await store_events.names_message(desk.store, "survey", survey_id):
            return None  # queued or sent before
        if any(s.anchor == close.anchor and s.at >= close.at for s in recent):
            return None  # surveyed since this close
        try:
            head = await reply_headers(desk, conv_id, False, account)
        except CommandError:
            return None
        customers = {a.key for a in head.to}
        if any(customers & {str(t).lower() for t in s.data.get("to") or []} for s in recent):
            log.info("#%s: no survey: its customer had one within %d days", conv_id, cfg.min_days_between)
            return None
        snippet = next((s for s in desk.snippets() if s.name == cfg.snippet), None)
        if snippet is None:
            log.warning("no survey sent: no snippet '%s' ([csat] snippet)", sanitize_line(cfg.snippet))
            return None
        copy_row = await store_csat.latest_customer_copy(desk.store, session.account, conv_id)
        if copy_row is None:
            return None  # no customer mail of it on this server to claim
        copy = _copy(copy_row)
        taken = Survey(conv_id, close.anchor, survey_id, desk.now(), {"to": sorted(customers)}, sent=0)
        if not await session.claim(copy, self.keys):
            return taken  # a teammate's client sends it (or did)
        if not await store_events.names_message(desk.store, "survey", survey_id):
            state = (await conversation_states(desk.store, [conv_id])).get(conv_id)
            replies = [e for e in history if e.kind == "reply"]
            agent = (state.assignee if state is not None else None) or (replies[-1].agent if replies else None)
            used: list[dict[str, Any]] = []
            for e in replies:
                for s in e.data.get("snippets") or []:
                    if isinstance(s, dict) and s not in used:
                        used.append({"name": s.get("name"), "hash": s.get("hash")})
            tok = token(self.secret, close.anchor, survey_id)
            subject = urllib.parse.quote(head.subject)
            reply_to = urllib.parse.quote(f"<{survey_id}>")
            values = {f"csat_{r}": f"mailto:{answer_address(account.address, tok, r)}?subject={subject}"
                                   f"&In-Reply-To={reply_to}" for r in RATINGS}
            try:
                await queue_autoreply(desk, conv_id, snippet.body, message_id=survey_id, account=account,
                                      event={"agent": agent, "snippets": used, "close": close.event_id},
                                      auto_submitted="auto-generated", kind="survey", values=values)
            except CommandError as e:
                log.warning("#%s: survey not sent: %s", conv_id, e)
                return None
            self.sent += 1
            taken = dataclasses.replace(taken, sent=1)
            log.info("#%s: survey queued to %s", conv_id, ", ".join(sorted(customers)))
        await session.done(copy, self.keys)
        return taken

    # -- answers ---------------------------------------------------------------------------------
    async def intake(self, session: ClaimSession) -> int:
        desk, days = self.desk, self.desk.config.csat.answer_days
        now = desk.now()
        candidates = [m for m in await store_csat.answer_candidates(desk.store, now - days * 86400)
                      if m.message_id not in self._settled_answers]
        if not candidates:
            return 0
        if self._warned is None:
            self._warned = set(json.loads(await desk.store.get_meta(WARNED_KEY) or "[]"))
        surveys = [s for s in map(_survey, await store_events.of_kind_since(desk.store, "survey", now - 2 * days * 86400))
                   if s is not None]
        answered = {str(f.event.data.get("survey")) for f in await store_events.of_kind_since(
            desk.store, "csat", now - 2 * days * 86400)}
        votes: list[_Vote] = []
        for mail in candidates:
            vote = await self._read_answer(session, mail, surveys)
            if vote is not None:
                votes.append(vote)
            else:
                self._settled_answers.add(mail.message_id)
        # one answer counts per survey: the first (its date, then its Message-ID), whichever
        # client looks; a later one is a reused token
        recorded = 0
        for vote in sorted(votes, key=lambda v: (v.mail.at, v.mail.message_id)):
            mail = vote.mail
            if vote.survey.message_id in answered:
                if not await store_csat.has_event(desk.store, answer_event_id(mail.message_id, mail.at)):
                    self._ignore(mail, f"its survey <{sanitize_line(vote.survey.message_id)}> was answered already")
            elif await self._record(session, vote):
                recorded += 1
            answered.add(vote.survey.message_id)
            self._settled_answers.add(mail.message_id)
        if self._warned_now:
            # the newest WARNED_KEEP: an answer older than answer_days is no candidate any more
            keep = [m for m in json.loads(await desk.store.get_meta(WARNED_KEY) or "[]") if m not in self._warned_now]
            async with desk.store.transaction():
                await desk.store.set_meta(WARNED_KEY, json.dumps((keep + self._warned_now)[-WARNED_KEEP:]))
            self._warned_now = []
        return recorded

    def _ignore(self, mail: store_csat.AnswerMail, why: str) -> None:
        self.ignored += 1
        self._say_once(mail, f"ignored: {why}", logging.WARNING)

    def _say_once(self, mail: store_csat.AnswerMail, what: str, level: int) -> None:
        """Logged once per answer mail, not at every pass (nor every `sync --once`) while it is
        within answer_days: it is looked at again each time (a teammate's survey may come in
        through History and make it a good answer)."""
        if self._warned is not None and mail.message_id in self._warned:
            log.debug("csat: answer <%s> again: %s", sanitize_line(mail.message_id), what)
            return
        log.log(level, "csat: answer <%s> %s", sanitize_line(mail.message_id), what)
        if self._warned is not None:
            self._warned.add(mail.message_id)
            self._warned_now.append(mail.message_id)

    async def _read_answer(self, session: ClaimSession, mail: store_csat.AnswerMail,
                           surveys: list[Survey]) -> _Vote | None:
        """The vote a mail carries (None: none, or not a good one, logged)."""
        desk, days = self.desk, self.desk.config.csat.answer_days
        answered = await store_csat.answered_survey(desk.store, answer_event_id(mail.message_id, mail.at))
        if answered is not None:  # recorded already (here, or by a teammate through History)
            await self._file(mail, next((s for s in surveys if s.message_id == answered), None))
            return None
        found = token_in(_addresses(mail.to_json) + _addresses(mail.cc_json))
        if found is None and mail.has_body:
            raw = await mirror.raw_by_rowid(desk.store, mail.rowid)
            found = token_in(delivered_to(raw)) if raw is not None else None
        text = unquoted(mail.body)
        if found is not None:
            tok, rating = found
            survey = next((s for s in surveys if hmac.compare_digest(token(self.secret, s.anchor, s.message_id), tok)),
                          None)
            if survey is None:
                theirs = _teammates_survey_to(desk.agent, mail, surveys, days)
                if theirs is None:
                    self._ignore(mail, "unknown, forged or expired token")
                else:  # counted by the client that can check it; its keywords reach here
                    await self._file(mail, theirs)
                    self._say_once(mail, NOT_VERIFIED, logging.INFO)
                return None
            comment = text
        elif is_survey_id(mail.in_reply_to):
            survey = next((s for s in surveys if s.message_id == (mail.in_reply_to or "").strip("<>")), None)
            if survey is None:
                self._ignore(mail, "a reply to a survey this desk does not know (or older than answer_days)")
                return None
            found_rating = rating_in(text)
            if found_rating is None:
                await self._needs_a_look(session, mail, survey)
                return None
            rating, comment = found_rating, comment_after_rating(text)
        else:
            return None  # an auto-reply or a bounce: not an answer
        # no lower bound: an answer names its survey (the token, the In-Reply-To), so it was
        # written after it; a Date before the survey is the customer's clock (the tryout's ran
        # 3 minutes slow and its answer was lost)
        if mail.at > survey.at + days * 86400:
            self._ignore(mail, f"sent {format_duration(mail.at - survey.at)} after its survey; answers count "
                               f"for {counted(days, 'day')}")
            return None
        await self._file(mail, survey)
        return _Vote(mail, survey, rating, comment)

    async def _file(self, mail: store_csat.AnswerMail, survey: Survey | None) -> None:
        """The answer in its survey's conversation."""
        if survey is not None and survey.conv_id is not None and mail.conv_id != survey.conv_id:
            await self._join(mail, survey.conv_id)

    async def _join(self, mail: store_csat.AnswerMail, conv_id: int) -> None:
        """An answer by link that its [#N] marker did not thread here (another store's numbers)
        is a conversation of its own: folded into the survey's, in this store (merges are
        local), when it holds nothing but answers."""
        from tui_desk.desk.merge import merge
        from tui_desk.store.queries import messages_of
        messages = await messages_of(self.desk.store, mail.conv_id)
        if not messages or any(not m["auto_submitted"] or m["is_agent"] for m in messages if not m["is_note"]):
            return
        try:
            change = await merge(self.desk, conv_id, [mail.conv_id])
        except CommandError as e:
            log.info("csat: answer <%s> left apart: %s", sanitize_line(mail.message_id), e)
            return
        if change in self.desk.undo_stack:
            self.desk.undo_stack.remove(change)

    async def _record(self, session: ClaimSession, vote: _Vote) -> bool:
        """The `csat` event, by the client that claims the answer mail; a bad rating with a
        comment opens the conversation."""
        desk, mail, survey, rating, comment = self.desk, vote.mail, vote.survey, vote.rating, vote.comment
        copy_row = await store_csat.queue_copy(desk.store, session.account, mail.message_id)
        if copy_row is None or not await session.claim(_copy(copy_row), self.keys):
            return False  # not in this account's queue, or a teammate's client records it
        eid = answer_event_id(mail.message_id, mail.at)
        data = {"rating": rating, "score": RATINGS[rating], "comment": comment,
                "agent": survey.data.get("agent") if isinstance(survey.data.get("agent"), str) else None,
                "snippets": [s for s in survey.data.get("snippets") or [] if isinstance(s, dict)],
                "survey": survey.message_id}
        async with desk.store.transaction():
            if not await store_csat.has_event(desk.store, eid):
                # never before its survey in History (a customer's slow clock)
                at = max(mail.at, survey.at)
                await store_events.record(desk.store, [Event(eid, at, desk.agent, "csat", survey.anchor, data)])
        self.recorded += 1
        log.info("csat: <%s> answered survey <%s>: %s", sanitize_line(mail.message_id), survey.message_id, rating)
        if rating == "bad" and comment and survey.conv_id is not None:
            await self._open(survey.conv_id, tag=True)
        await session.done(_copy(copy_row), self.keys)
        return True

    async def _needs_a_look(self, session: ClaimSession, mail: store_csat.AnswerMail, survey: Survey) -> None:
        """A reply to the survey without a rating: a question, so the conversation opens."""
        if not unquoted(mail.body) or survey.conv_id is None:
            return
        copy_row = await store_csat.queue_copy(self.desk.store, session.account, mail.message_id)
        if copy_row is None or not await session.claim(_copy(copy_row), self.keys):
            return
        await self._open(survey.conv_id, tag=False)
        await session.done(_copy(copy_row), self.keys)

    async def _open(self, conv_id: int, tag: bool) -> None:
        """Through the command path (keywords, history); not on the agent's undo key."""
        desk = self.desk
        changes = [await commands.tag(desk, [conv_id], [BAD_TAG])] if tag else []
        changes.append(await commands.set_status(desk, [conv_id], "open"))
        for change in changes:
            if change in desk.undo_stack:
                desk.undo_stack.remove(change)


def survey_runner(desk: Desk) -> SurveyRunner | None:
    """The runner when `[csat] enabled` and an account to send from; None otherwise (a secret
    that cannot be read is logged: no survey is sent then)."""
    if not desk.config.csat.enabled or not desk.config.accounts:
        return None
    try:
        return SurveyRunner(desk, load_secret(desk))
    except CsatError as e:
        log.warning("csat: no surveys: %s", e)
        return None


PassCallback = Callable[[ClaimSession], Awaitable[None]]


def chained(*passes: PassCallback) -> PassCallback:
    """One after_pass running each of `passes` in order (the rules, then the survey)."""
    if len(passes) == 1:
        return passes[0]

    async def run(session: ClaimSession) -> None:
        for p in passes:
            await p(session)
    return run
