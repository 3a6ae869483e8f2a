"""The satisfaction survey by mail (issue 17) on the real Dovecot and SMTP sink, with an injected
clock: one survey per close across two clients (after the delay, never for spam, never twice in
N days to one customer), answers by link (plus address) and by reply delivered to Dovecot and
recorded once as `csat` events, forged / reused tokens ignored, an answer never reopening."""

from __future__ import annotations

import asyncio
import email
import json
import logging
import re
import urllib.parse
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
import datetime as dt


from tests.accounts import client as imap_client, inbox_flags
from tests.clock import Clock
from tests.desk_clients import Agent, open_agent_client, snippet_home, support_account
from tests.mailfactory import BASE, make_mail
from tui_desk.config import AutoReplyConfig, Config, CsatConfig, PriorityConfig
from tui_desk.desk.csat import SurveyRunner, chained, load_secret, token
from tui_desk.desk.history import conversation_history
from tui_desk.desk.rules.fire import RulesRunner, read_rules
from tui_desk.desk.rules.model import RuleSet
from tui_desk.desk.service import Desk
from tui_desk.mail.parse import parse_message
from tui_desk.mail.survey import answer_address, comment_after_rating, rating_in, token_in
from tui_desk.store import events as store_events
from tui_desk.store.queries import conversation_rows, conversation_states, thread_message_ids

NOW = BASE.timestamp() + 3600


async def open_agent(tmp_path: Path, name: str, dovecot, user: str, smtp_sink, clock: Clock,
                     csat: CsatConfig) -> Agent:
    config = Config(agent=name, agent_addresses=("*@helpdesk.test",), team=("alice", "bob"),
                    accounts=(support_account(dovecot, user, smtp_sink),), csat=csat)
    return await open_agent_client(tmp_path / f"{name}.db", config, dovecot, user, clock,
                                   lambda desk: SurveyRunner(desk, load_secret(desk)), read_back=True)


async def conv_of(desk: Desk, message_id: str) -> int:
    return next(c for c, ids in (await thread_message_ids(desk.store)).items() if message_id in ids)


def is_survey(m) -> bool:
    return email.message_from_bytes(m.data, policy=policy.default)["Message-ID"].startswith("<csat.")


def surveys_to(smtp_sink, address: str) -> list[email.message.EmailMessage]:
    """The surveys (not the agents' replies) sent to `address`."""
    return [email.message_from_bytes(m.data, policy=policy.default) for m in smtp_sink.messages
            if address in m.rcpt_tos and is_survey(m)]


def links(survey: email.message.EmailMessage) -> dict[str, str]:
    """rating -> its mailto link, from the survey's text part (where a link reads "Great <mailto:...>")."""
    text = survey.get_body(("plain",)).get_content()
    return {r: u for r, u in re.findall(r"(Great|Okay|Bad) <(mailto:[^>\s]+)>", text)}


def answer_by_link(link: str, message_id: str, sender: str, body: str, minutes: float) -> bytes:
    """What a mail client sends for a mailto link: To and Subject from the link, no threading."""
    parsed = urllib.parse.urlparse(link)
    query = urllib.parse.parse_qs(parsed.query)
    m = EmailMessage()
    m["From"] = sender
    m["To"] = urllib.parse.unquote(parsed.path)
    m["Subject"] = query["subject"][0]
    m["Date"] = format_datetime(dt.datetime.fromtimestamp(NOW, dt.timezone.utc) + dt.timedelta(minutes=minutes))
    m["Message-ID"] = f"<{message_id}>"
    m.set_content(body)
    return bytes(m)


def answer_by_reply(survey: email.message.EmailMessage, message_id: str, sender: str, body: str,
                    minutes: float) -> bytes:
    quoted = "\n".join("> " + line for line in survey.get_body(("plain",)).get_content().splitlines())
    return make_mail(message_id, sender=sender, subject="Re: " + survey["Subject"], to=survey["From"],
                     in_reply_to=survey["Message-ID"].strip("<>"),
                     refs=[r.strip("<>") for r in survey["References"].split()] + [survey["Message-ID"].strip("<>")],
                     minutes=(NOW - BASE.timestamp()) / 60 + minutes,
                     body=f"{body}\n\nOn Monday the support team wrote:\n{quoted}\n")


async def csat_events(desk: Desk, conv_id: int) -> list[store_events.Event]:
    return [e for e in await store_events.of_conversation(desk.store, conv_id) if e.kind == "csat"]


async def status_of(desk: Desk, conv_id: int) -> str:
    return (await conversation_rows(desk.store, [conv_id]))[conv_id]["status"]


async def test_survey_once_per_close_and_both_answer_styles(tmp_path, dovecot, mail_user, smtp_sink, caplog):
    smtp_sink.clear()
    secret = tmp_path / "team.secret"
    secret.write_text("a secret the team shares\n", encoding="utf-8")
    csat = CsatConfig(enabled=True, delay_minutes=30, secret_file=secret)
    dovecot.load_maildir(mail_user, [
        make_mail("jam@t", subject="Printer jam", sender="Ann Lee <ann@c.test>"),
        make_mail("ink@t", subject="Ink is smudged", sender="Ann Lee <ann@c.test>", minutes=2),
        make_mail("spam@t", subject="Cheap watches", sender="Spammer <sp@s.test>", minutes=3),
        make_mail("wifi@t", subject="Wifi drops", sender="Cy Ode <cy@e.test>", minutes=4)])
    clock = Clock(NOW)
    alice, bob = [await open_agent(tmp_path, n, dovecot, mail_user, smtp_sink, clock, csat) for n in ("alice", "bob")]
    for a in (alice, bob):
        await a.round()
    d = alice.desk
    jam, ink, spam, wifi = [await conv_of(d, m) for m in ("jam@t", "ink@t", "spam@t", "wifi@t")]
    await d.reply(jam, "Open the back cover and pull the sheet out.", snippets=["more-info"])
    await d.assign([jam], "alice")
    for conv in (ink, spam, wifi):  # a survey asks about an agent's answer: each got one
        await d.reply(conv, "Thanks, we are on it.")
    clock.now += 60
    await alice.sender.run_due()
    await d.set_status([jam, ink, wifi], "closed")
    await d.set_status([spam], "spam")
    await d.set_status([spam], "closed")
    for a in (alice, bob):
        await a.round()
    assert len(smtp_sink.messages) == 4 and not any(map(is_survey, smtp_sink.messages))  # the replies only
    assert surveys_to(smtp_sink, "cy@e.test") == []  # the delay has not passed on the desk's clock

    clock.now += 31 * 60
    await asyncio.gather(alice.sync.sync_once(), bob.sync.sync_once())  # both at once on the same closes
    for a in (alice, bob):
        await a.sender.run_due()
    for _ in range(2):
        for a in (alice, bob):
            await a.round()
    ann = [s for s in surveys_to(smtp_sink, "ann@c.test") if s["Auto-Submitted"]]
    cy = surveys_to(smtp_sink, "cy@e.test")
    assert len(ann) == 1 and len(cy) == 1  # one per customer: ann's second close gets none
    assert surveys_to(smtp_sink, "sp@s.test") == []  # never for spam
    assert alice.runner.sent + bob.runner.sent == 2
    survey = cy[0]
    assert survey["Auto-Submitted"] == "auto-generated"
    assert survey["Message-ID"].startswith("<csat.") and survey["In-Reply-To"] == "<wifi@t>"
    assert "<wifi@t>" in survey["References"]
    great = links(survey)["Great"]
    assert great.startswith(f"mailto:{mail_user}+csat-") and "-great@helpdesk.test" in great
    ann_survey = ann[0]
    ann_conv = next(c for c in (jam, ink) if f"[#{c}]" in ann_survey["Subject"])
    flags = inbox_flags(dovecot, mail_user)
    claimed = [m for m, f in flags.items() if "td:csat-done" in f]
    assert len(claimed) == 2 and all(len([k for k in flags[m] if k.startswith("td:csat:")]) == 1 for m in claimed)
    for a in (alice, bob):  # the survey event reached both through History, once
        kinds = [e.kind for e in await store_events.of_conversation(a.desk.store, await conv_of(a.desk, "wifi@t"))]
        assert kinds.count("survey") == 1

    # answers: cy replies "3" with a comment, ann clicks Bad and writes; a forger guesses a token;
    # ann sends her link a second time
    dovecot.deliver(mail_user, answer_by_reply(survey, "cy-answer@t", "Cy Ode <cy@e.test>",
                                               "3 - quick and friendly, thanks!", 40))
    dovecot.deliver(mail_user, answer_by_link(links(ann_survey)["Bad"], "ann-answer@t", "Ann Lee <ann@c.test>",
                                              "It jammed again the next day.", 41))
    forged = answer_address(f"{mail_user}@helpdesk.test", "a" * 16, "great")
    dovecot.deliver(mail_user, make_mail("forged@t", sender="Mallory <m@x.test>", to=forged,
                                         subject="vote", minutes=(NOW - BASE.timestamp()) / 60 + 42))
    dovecot.deliver(mail_user, answer_by_link(links(ann_survey)["Great"], "ann-again@t", "Ann Lee <ann@c.test>",
                                              "", 43))
    clock.now += 20 * 60
    caplog.set_level(logging.WARNING, logger="tui_desk.desk.csat")
    await asyncio.gather(alice.sync.sync_once(), bob.sync.sync_once())
    for _ in range(2):
        for a in (alice, bob):
            await a.round()

    for a in (alice, bob):
        wifi_here, ann_here = await conv_of(a.desk, "wifi@t"), await conv_of(a.desk, "jam@t" if ann_conv == jam else "ink@t")
        [cy_event] = await csat_events(a.desk, wifi_here)
        assert cy_event.data == {"rating": "great", "score": 3, "comment": "quick and friendly, thanks!",
                                 "agent": "alice", "snippets": [], "survey": survey["Message-ID"].strip("<>")}
        assert await conv_of(a.desk, "ann-answer@t") == ann_here  # in the conversation's mail
        [ann_event] = await csat_events(a.desk, ann_here)
        expected_agent = "alice"  # jam's assignee; ink's last reply
        expected_snippets = [{"name": "more-info", "hash": ann_event.data["snippets"][0]["hash"]}] if ann_conv == jam else []
        assert ann_event.data == {"rating": "bad", "score": 1, "comment": "It jammed again the next day.",
                                  "agent": expected_agent, "snippets": expected_snippets,
                                  "survey": ann_survey["Message-ID"].strip("<>")}
        # a great answer does not reopen; a bad one with a comment needs a look: tagged and open
        assert await status_of(a.desk, wifi_here) == "closed"
        state = (await conversation_states(a.desk.store, [ann_here]))[ann_here]
        assert "csat-bad" in state.tags and await status_of(a.desk, ann_here) == "open"
        # the answers are in the conversation's mail, never a customer turn
        row = (await conversation_rows(a.desk.store, [wifi_here]))[wifi_here]
        wifi_mail = int(BASE.timestamp()) + 4 * 60
        # alice answered it: no wait, and the customer's answer to the survey started none
        assert row["last_customer_date"] == wifi_mail and row["waiting_since"] is None
    lines = [h.text for h in await conversation_history(bob.desk, await conv_of(bob.desk, "wifi@t"))
             if h.kind in ("survey", "csat")]
    assert lines == ["sent a satisfaction survey",
                     "recorded the customer's answer to the survey: great: quick and friendly, thanks!"]
    assert alice.runner.recorded + bob.runner.recorded == 2
    assert alice.runner.ignored >= 2 and bob.runner.ignored >= 2  # the forged and the reused, on each client
    said = [r.getMessage() for r in caplog.records if "ignored" in r.getMessage()]
    assert any("<forged@t>" in s and "forged" in s for s in said)
    assert any("<ann-again@t>" in s and "answered already" in s for s in said)
    assert not any("a secret the team shares" in r.getMessage() for r in caplog.records)
    # the next process (a new runner on the same store, as the next `sync --once` is) looks at
    # them again but says nothing more: the log said it once (the tryout saw it at every sync)
    caplog.clear()
    again = SurveyRunner(alice.desk, alice.runner.secret)
    alice.sync.after_pass = again.after_pass
    await alice.round()
    assert again.ignored >= 2 and not [r for r in caplog.records if "ignored" in r.getMessage()]
    for a in (alice, bob):
        await a.desk.close()


async def test_a_reply_to_the_survey_without_a_rating_opens_the_conversation(tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    csat = CsatConfig(enabled=True)  # no delay; the secret made beside the store
    dovecot.load_maildir(mail_user, [make_mail("q@t", subject="Refund", sender="Di <di@f.test>")])
    clock = Clock(NOW)
    alice = await open_agent(tmp_path, "alice", dovecot, mail_user, smtp_sink, clock, csat)
    assert (tmp_path / "csat.secret").stat().st_mode & 0o077 == 0
    await alice.round()
    conv = await conv_of(alice.desk, "q@t")
    await alice.desk.reply(conv, "Your refund is on its way.")
    await alice.desk.set_status([conv], "closed")  # replied and closed at once
    clock.now += 60
    await alice.round()  # the survey waits for the reply to be sent (in this round)
    assert len(smtp_sink.messages) == 1 and surveys_to(smtp_sink, "di@f.test") == []
    await alice.round()
    [survey] = surveys_to(smtp_sink, "di@f.test")
    await alice.round()
    assert len(surveys_to(smtp_sink, "di@f.test")) == 1  # later passes send no second one
    dovecot.deliver(mail_user, answer_by_reply(survey, "di-q@t", "Di <di@f.test>", "Where is my refund though?", 5))
    clock.now += 600
    await alice.round()
    assert await csat_events(alice.desk, conv) == []  # not a vote
    assert await status_of(alice.desk, conv) == "open"  # a question: somebody reads it
    # a link answer whose subject lost the [#N] marker arrives as a mail of its own: it joins
    okay = links(survey)["Okay"].replace(urllib.parse.quote(f" [#{conv}]"), "")
    assert f"[#{conv}]" not in urllib.parse.unquote(okay)
    dovecot.deliver(mail_user, answer_by_link(okay, "di-okay@t", "Di <di@f.test>", "", 7))
    clock.now += 600
    await alice.round()
    assert await conv_of(alice.desk, "di-okay@t") == conv
    [event] = await csat_events(alice.desk, conv)
    assert (event.data["rating"], event.data["comment"]) == ("okay", "")
    await alice.desk.close()


async def test_an_answer_dated_before_its_survey_counts_and_a_late_one_says_so(tmp_path, dovecot, mail_user,
                                                                                 smtp_sink, caplog):
    """The tryout's customer clock ran 3 minutes slow: the answer's Date was before the survey's
    and it was dropped as "sent outside the 30 days". An answer names its survey (the token, the
    In-Reply-To), so it was written after it: it counts. An answer past answer_days is ignored
    with that reason alone, saying how late it was."""
    smtp_sink.clear()
    csat = CsatConfig(enabled=True)
    dovecot.load_maildir(mail_user, [make_mail("slow@t", subject="Printer", sender="Fa <fa@h.test>"),
                                     make_mail("late@t", subject="Scanner", sender="Gu <gu@i.test>", minutes=1)])
    clock = Clock(NOW)
    alice = await open_agent(tmp_path, "alice", dovecot, mail_user, smtp_sink, clock, csat)
    await alice.round()
    slow, late = await conv_of(alice.desk, "slow@t"), await conv_of(alice.desk, "late@t")
    for conv in (slow, late):
        await alice.desk.reply(conv, "Fixed it for you.")
    clock.now += 60
    await alice.sender.run_due()
    await alice.desk.set_status([slow, late], "closed")
    clock.now += 60
    await alice.round()  # the surveys go at NOW + 2 min on the desk's clock
    [fa_survey], [gu_survey] = surveys_to(smtp_sink, "fa@h.test"), surveys_to(smtp_sink, "gu@i.test")
    caplog.set_level(logging.WARNING, logger="tui_desk.desk.csat")
    # dated NOW - 1 min: 3 minutes before its survey, delivered after it
    dovecot.deliver(mail_user, answer_by_link(links(fa_survey)["Okay"], "fa-okay@t", "Fa <fa@h.test>", "", -1))
    clock.now += 600
    await alice.round()
    [event] = await csat_events(alice.desk, slow)
    assert event.data["rating"] == "okay"
    assert event.at >= NOW + 120  # after its survey in History, whatever the customer's clock said
    assert not [r for r in caplog.records if "ignored" in r.getMessage()]

    # 31 days after its survey (answer_days 30)
    dovecot.deliver(mail_user, answer_by_link(links(gu_survey)["Great"], "gu-late@t", "Gu <gu@i.test>", "",
                                              2 + 31 * 24 * 60))
    clock.now = NOW + 31 * 86400 + 600
    await alice.round()
    assert await csat_events(alice.desk, late) == []
    [said] = [r.getMessage() for r in caplog.records if "<gu-late@t>" in r.getMessage()]
    assert said.endswith("ignored: sent 31d after its survey; answers count for 30 days"), said
    await alice.desk.close()


def test_tokens_and_answer_words():
    assert token(b"k", "a@x", "csat.1@x") == token(b"k", "a@x", "csat.1@x")
    assert token(b"k", "a@x", "csat.1@x") != token(b"k", "b@x", "csat.1@x") != token(b"j", "a@x", "csat.1@x")
    tok = token(b"k", "a@x", "csat.1@x")
    assert re.fullmatch(r"[a-z2-7]{16}", tok)
    address = answer_address("support+sales@desk.test", tok, "okay")
    assert address == f"support+csat-{tok}-okay@desk.test"
    assert token_in([f"Support <{address}>"]) == (tok, "okay")
    assert token_in(["support@desk.test", "support+csat-short-great@desk.test"]) is None
    assert [rating_in(t) for t in ("3", "2.", "1 - slow", "Great!", "ok then", "bad", "Hello", "")] == [
        "great", "okay", "bad", "great", "okay", "bad", None, None]
    assert comment_after_rating("3 - quick, thanks!") == "quick, thanks!"
    raw = (f"From: a@b.test\r\nTo: support@desk.test\r\nDelivered-To: {address}\r\nMessage-ID: <v@b>\r\n\r\nhi")
    assert parse_message(raw.encode()).auto_submitted  # a survey answer is never a customer turn


def test_rules_never_answer_a_survey_answer_automatically():
    from tui_desk.desk.rules.guards import autoreply_block
    from tui_desk.desk.rules.model import MessageFacts
    by_link = MessageFacts("a@t", "ann@c.test", (("To", "support+csat-abcdefghijklmnop-bad@helpdesk.test"),), 0)
    by_reply = MessageFacts("b@t", "ann@c.test", (("To", "support@helpdesk.test"),
                                                  ("In-Reply-To", "<csat.0123@helpdesk.test>")), 0)
    plain = MessageFacts("c@t", "ann@c.test", (("To", "support@helpdesk.test"), ("In-Reply-To", "<x@t>")), 0)
    assert autoreply_block(by_link, lambda a: False) == "an answer to the satisfaction survey"
    assert autoreply_block(by_reply, lambda a: False) == "an answer to the satisfaction survey"
    assert autoreply_block(plain, lambda a: False) is None


def test_sync_once_sends_the_survey_from_the_config(tmp_path, dovecot, mail_user, smtp_sink):
    """`tui-desk sync --once` with `[csat] enabled = true`: the Background runs the survey after
    its pass (real clock, delay 0) and sends it before it exits, once."""
    import subprocess
    import sys
    from tests.accounts import sync_cmd, write_config
    cfg = write_config(tmp_path / "config.toml", dovecot, mail_user, smtp_port=smtp_sink.port,
                       settings="[csat]\nenabled = true\ndelay_minutes = 0\n")
    cfg.write_text(cfg.read_text().replace("[accounts.support]\n", "[accounts.support]\nundo_send_seconds = 0\n"))
    db = tmp_path / "desk.db"
    dovecot.load_maildir(mail_user, [make_mail("cli@t", subject="Lost key", sender="Eve <eve@g.test>")])

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "tui_desk", "--config", str(cfg), "--db", str(db), *args],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout
    assert subprocess.run(sync_cmd(cfg, db), capture_output=True, timeout=120).returncode == 0
    [row] = json.loads(cli("queue", "--json"))
    smtp_sink.clear()
    answer = tmp_path / "answer.md"
    answer.write_text("Here is a new key.\n", encoding="utf-8")
    cli("reply", str(row["id"]), "--body-file", str(answer))  # an agent answered it
    cli("outbox", "--send")
    cli("status", str(row["id"]), "closed")
    assert [r for r in json.loads(cli("outbox", "--json")) if "csat." in str(r)] == []
    assert subprocess.run(sync_cmd(cfg, db), capture_output=True, timeout=120).returncode == 0
    [survey] = [m for m in smtp_sink.messages if is_survey(m)]  # queued after the pass, delivered before `--once` exits
    assert survey.rcpt_tos == ["eve@g.test"]
    assert (tmp_path / "csat.secret").exists()
    assert subprocess.run(sync_cmd(cfg, db), capture_output=True, timeout=120).returncode == 0
    assert len([m for m in smtp_sink.messages if is_survey(m)]) == 1  # a second pass queues none


# -- beside the rules (features built apart): an answer is not a customer turn -------------------

RULES = """
[[rule]]
name = "triage"
on = "new"
do = ["tag +triage"]

[[rule]]
name = "customer wrote"
on = "customer-reply"
do = ["status open", "tag +replied"]
"""


class RulesThenSurvey:
    """What Background runs after a pass: the rules, then the survey."""

    def __init__(self, desk: Desk, rules: RuleSet) -> None:
        self.rules = RulesRunner(desk, rules)
        self.survey = SurveyRunner(desk, load_secret(desk))
        self.after_pass = chained(self.rules.after_pass, self.survey.after_pass)

    @classmethod
    async def of(cls, desk: Desk) -> "RulesThenSurvey":
        return cls(desk, await read_rules(desk))  # the store's agents count (desk.rules.fire)


async def open_rules_agent(home: Path, dovecot, user: str, smtp_sink, clock: Clock, rules_text: str = RULES) -> Agent:
    rules = home / "rules.toml"
    rules.write_text(rules_text, encoding="utf-8")
    config = Config(agent="alice", agent_addresses=("*@helpdesk.test",), team=("alice", "bob"),
                    accounts=(support_account(dovecot, user, smtp_sink),), rules_file=rules,
                    path=home / "config.toml", priority=PriorityConfig(timezone="UTC"),
                    autoreply=AutoReplyConfig(acknowledge=False), csat=CsatConfig(enabled=True))
    return await open_agent_client(home / "alice.db", config, dovecot, user, clock, RulesThenSurvey.of, read_back=True)


async def rule_lines(desk: Desk, conv_id: int) -> list[str]:
    return [str(e.data.get("says")) for e in await store_events.of_conversation(desk.store, conv_id) if e.kind == "rule"]


async def test_no_mail_rule_fires_on_an_answer_to_the_survey(tmp_path, monkeypatch, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    home = snippet_home(tmp_path, monkeypatch, {})
    dovecot.load_maildir(mail_user, [make_mail("q@t", subject="Refund", sender="Di <di@f.test>")])
    clock = Clock(NOW)
    alice = await open_rules_agent(home, dovecot, mail_user, smtp_sink, clock)
    await alice.round()
    conv = await conv_of(alice.desk, "q@t")
    assert await rule_lines(alice.desk, conv) == ["rule 'triage' tagged +triage"]
    await alice.desk.reply(conv, "Your refund is on its way.")
    clock.now += 60
    await alice.sender.run_due()
    await alice.desk.set_status([conv], "closed")
    await alice.round()
    [survey] = surveys_to(smtp_sink, "di@f.test")

    # a vote by reply (threads: a `customer-reply` candidate), and one by a link whose subject lost
    # its [#N] marker (a conversation of its own first: a `new` candidate)
    dovecot.deliver(mail_user, answer_by_reply(survey, "di-vote@t", "Di <di@f.test>", "3 thanks!", 5))
    okay = links(survey)["Okay"].replace(urllib.parse.quote(f" [#{conv}]"), "")
    dovecot.deliver(mail_user, answer_by_link(okay, "di-link@t", "Di <di@f.test>", "", 7))
    clock.now += 600
    await alice.round()
    await alice.round()

    assert [e.data["rating"] for e in await csat_events(alice.desk, conv)] == ["great"]  # recorded
    assert await status_of(alice.desk, conv) == "closed"  # not reopened by the customer-reply rule
    assert await rule_lines(alice.desk, conv) == ["rule 'triage' tagged +triage"]  # nothing since
    state = (await conversation_states(alice.desk.store, [conv]))[conv]
    assert "replied" not in state.tags
    link_conv = await conv_of(alice.desk, "di-link@t")  # a second answer (ignored): threaded or apart,
    # no rule ran on it (apart, it would be a `new` candidate)
    assert await rule_lines(alice.desk, link_conv) == ([] if link_conv != conv else ["rule 'triage' tagged +triage"])
    assert alice.runner.rules.claimed == 1  # the customer's first mail only
    await alice.desk.close()


THANKS_CLOSES = """
[[rule]]
name = "thanks closes"
on = "customer-reply"
if = "body:thanks"
do = ["status closed"]
"""


async def test_only_a_persons_close_of_an_answered_conversation_is_surveyed(tmp_path, monkeypatch, dovecot,
                                                                              mail_user, smtp_sink):
    """A rating is about a person's help: a close by hand of a conversation an agent answered
    gets the survey; a rule's close, an incident's resolve --close, a bulk follow-up's --status
    closed and a close nobody answered get none (each recorded with its "by")."""
    from tui_desk.desk import followup
    from tui_desk.desk.incident import record as incident
    smtp_sink.clear()
    home = snippet_home(tmp_path, monkeypatch, {})
    dovecot.load_maildir(mail_user, [
        make_mail("hand@t", subject="Printer jam", sender="Ann <ann@c.test>"),
        make_mail("rule@t", subject="Login fails", sender="Bo <bo@d.test>", minutes=1),
        make_mail("bulk@t", subject="Dark mode?", sender="Cy <cy@e.test>", minutes=2),
        make_mail("inc@t", subject="Payment failed", sender="Di <di@f.test>", minutes=3),
        make_mail("quiet@t", subject="Never mind my last mail", sender="Eve <eve@g.test>", minutes=4)])
    clock = Clock(NOW)
    alice = await open_rules_agent(home, dovecot, mail_user, smtp_sink, clock, THANKS_CLOSES)
    await alice.round()
    d = alice.desk
    hand, rule, bulk, inc, quiet = [await conv_of(d, m) for m in ("hand@t", "rule@t", "bulk@t", "inc@t", "quiet@t")]
    for conv in (hand, rule, bulk, inc):
        await d.reply(conv, "Here is what to do.")
    clock.now += 60
    await alice.round()

    await d.set_status([hand, quiet], "closed")  # by hand: answered, and not
    dovecot.deliver(mail_user, make_mail("rule-thanks@t", subject="Re: Login fails", sender="Bo <bo@d.test>",
                                         in_reply_to="rule@t", minutes=(NOW - BASE.timestamp()) / 60 + 2,
                                         body="thanks, it works now"))
    await followup.run(d, await followup.plan(d, [bulk], "more-info", "round-1"), status="closed")
    found, _ = await incident.start(d, "Payments failing", "subject:payment", conv_ids=[inc])
    await incident.resolve(d, found.name, close=True)
    clock.now += 60
    for _ in range(3):
        await alice.round()
        clock.now += 60

    by = {}
    for conv in (hand, rule, bulk, inc, quiet):
        closes = [e for e in await store_events.of_conversation(d.store, conv)
                  if e.kind == "status" and e.data.get("to") == "closed"]
        assert await status_of(d, conv) == "closed" and len(closes) == 1, conv
        by[conv] = closes[0].data.get("by")
    assert by == {hand: None, rule: "rule", bulk: "followup", inc: "incident", quiet: None}
    assert len(surveys_to(smtp_sink, "ann@c.test")) == 1
    for customer in ("bo@d.test", "cy@e.test", "di@f.test", "eve@g.test"):
        assert surveys_to(smtp_sink, customer) == [], customer
    assert alice.runner.survey.sent == 1
    await d.close()


async def test_a_teammate_without_the_secret_files_a_link_answer_with_its_survey(tmp_path, dovecot, mail_user,
                                                                                 smtp_sink, caplog):
    """The tryout's finding 9: bob's desk has a csat.secret of its own (the team shares none), and
    his conversation numbers are not alice's (a mail the team deleted before he started). Ann's
    answer by link (no In-Reply-To: mail clients drop it) carries alice's [#N], which is not
    Ann's conversation on bob's desk: it was a conversation of its own there, and alice's tag
    csat-bad and her reopening (IMAP keywords on every message of her conversation, the answer's
    too) made it an open ticket with a bad rating, with no history, its token "unknown, forged or
    expired" at every sync. Now bob files it with the survey to Ann (History names her) without
    counting it, and says once that it is not verified here."""
    smtp_sink.clear()
    csat = CsatConfig(enabled=True)  # each desk makes its own csat.secret: not shared
    dovecot.load_maildir(mail_user, [make_mail("old@t", subject="Old thing", sender="Zed <zed@z.test>"),
                                     make_mail("fire@t", subject="Printer on fire", sender="Ann Lee <ann@c.test>",
                                               minutes=1)])
    clock = Clock(NOW)
    for name in ("alice", "bob"):
        (tmp_path / name).mkdir()
    alice = await open_agent(tmp_path / "alice", "alice", dovecot, mail_user, smtp_sink, clock, csat)
    await alice.round()
    c = imap_client(dovecot, mail_user)  # the team deletes the old mail before bob starts
    try:
        c.select("INBOX")
        _, found = c.search(None, "HEADER", "Message-ID", "old@t")
        c.store(found[0].decode(), "+FLAGS", "\\Deleted")
        c.expunge()
    finally:
        c.logout()
    bob = await open_agent(tmp_path / "bob", "bob", dovecot, mail_user, smtp_sink, clock, csat)
    await bob.round()
    fire_a, fire_b = await conv_of(alice.desk, "fire@t"), await conv_of(bob.desk, "fire@t")
    assert fire_a != fire_b  # the stores number apart
    await alice.desk.reply(fire_a, "Unplug it and step back.")
    clock.now += 60
    await alice.round()
    await alice.desk.set_status([fire_a], "closed")
    clock.now += 60
    for a in (alice, bob, alice, bob):
        await a.round()
    [survey] = surveys_to(smtp_sink, "ann@c.test")
    assert f"[#{fire_a}]" in survey["Subject"]
    dovecot.deliver(mail_user, answer_by_link(links(survey)["Bad"], "ann-bad@t", "Ann Lee <ann@c.test>",
                                              "It is still smoking.", 5))
    clock.now += 600
    caplog.set_level(logging.INFO, logger="tui_desk.desk.csat")
    for a in (bob, alice, bob, alice, bob):  # bob first: he looks before alice's History has it
        await a.round()

    [event] = await csat_events(alice.desk, fire_a)  # the desk that can check the token counts it
    assert event.data["rating"] == "bad" and await status_of(alice.desk, fire_a) == "open"
    assert await csat_events(bob.desk, fire_b) == [event]  # bob has it through History
    # on bob's desk the answer is in Ann's conversation: tagged and opened once, with its history
    assert await conv_of(bob.desk, "ann-bad@t") == fire_b
    states = await conversation_states(bob.desk.store, list((await thread_message_ids(bob.desk.store))))
    assert [c for c, s in states.items() if "csat-bad" in s.tags] == [fire_b]
    assert await status_of(bob.desk, fire_b) == "open"
    said = [r.getMessage() for r in caplog.records if "<ann-bad@t>" in r.getMessage()]
    assert not any("forged" in s for s in said)
    assert [s for s in said if "not verified here" in s] == [
        "csat: answer <ann-bad@t> is a satisfaction answer (not verified here: the CSAT secret is not shared, "
        "README team setup)"]
    assert bob.runner.recorded == 0
    caplog.clear()  # the next `sync --once` on bob's desk says nothing more
    again = SurveyRunner(bob.desk, bob.runner.secret)
    bob.sync.after_pass = again.after_pass
    await bob.round()
    assert not [r for r in caplog.records if "ann-bad@t" in r.getMessage()]
    for a in (alice, bob):
        await a.desk.close()
