"""A conversation opened again after its last mail needs a person: a bad rating with a comment
(the real survey path: Dovecot, the SMTP sink, the survey runner) and an agent's `o` on an
answered conversation rank it as waiting from the moment it was opened, and its reasons say why,
never "only automatic mail"."""

from __future__ import annotations

import datetime as dt
import email
import re
import time
import urllib.parse
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

from tests.clock import Clock
from tests.desk_clients import open_agent_client, support_account
from tests.mailfactory import BASE, make_mail
from tui_desk.config import Config, CsatConfig, PriorityConfig
from tui_desk.desk.csat import SurveyRunner, load_secret
from tui_desk.desk.priority import NOT_WAITING_RANK, explain, summarize
from tui_desk.desk.service import Desk
from tui_desk.store.queries import ConvState, MessageFact, conversation_rows, thread_message_ids

# The outbox dates a sent reply by the wall clock: the desk's clock starts after it, so that a
# reopen comes after the agent's reply, as it does at a desk
NOW = int(time.time()) + 3600
AUTOMATIC = "only automatic mail"


async def open_alice(tmp_path, dovecot, user: str, smtp_sink, clock: Clock):
    config = Config(agent="alice", agent_addresses=("*@helpdesk.test",), team=("alice",),
                    accounts=(support_account(dovecot, user, smtp_sink),), csat=CsatConfig(enabled=True))
    return await open_agent_client(tmp_path / "alice.db", config, dovecot, user, clock,
                                   lambda desk: SurveyRunner(desk, load_secret(desk)), read_back=True)


async def conv_of(desk: Desk, message_id: str) -> int:
    return next(c for c, ids in (await thread_message_ids(desk.store)).items() if message_id in ids)


def bad_link(smtp_sink, address: str) -> str:
    [survey] = [email.message_from_bytes(m.data, policy=policy.default) for m in smtp_sink.messages
                if address in m.rcpt_tos and email.message_from_bytes(m.data)["Message-ID"].startswith("<csat.")]
    # the text part reads a link as its words and address (mail.compose.plain_text)
    return re.search(r"\bBad <(mailto:[^>\s]+)>", survey.get_body(("plain",)).get_content()).group(1)


def answer_by_link(link: str, message_id: str, sender: str, body: str, minutes: float) -> bytes:
    parsed = urllib.parse.urlparse(link)
    m = EmailMessage()
    m["From"] = sender
    m["To"] = urllib.parse.unquote(parsed.path)
    m["Subject"] = urllib.parse.parse_qs(parsed.query)["subject"][0]
    m["Date"] = format_datetime(dt.datetime.fromtimestamp(NOW, dt.timezone.utc) + dt.timedelta(minutes=minutes))
    m["Message-ID"] = f"<{message_id}>"
    m.set_content(body)
    return bytes(m)


async def test_a_bad_rating_with_a_comment_ranks_as_a_person_waiting(tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    dovecot.load_maildir(mail_user, [make_mail("q@t", subject="Refund", sender="Di <di@f.test>"),
                                     make_mail("early@t", subject="Login fails", sender="Ed <ed@g.test>", minutes=1)])
    clock = Clock(NOW)
    alice = await open_alice(tmp_path, dovecot, mail_user, smtp_sink, clock)
    desk = alice.desk
    await alice.round()
    rated = await conv_of(desk, "q@t")
    await desk.reply(rated, "Your refund is on its way.")
    await desk.set_status([rated], "closed")
    clock.now += 60
    for _ in range(3):  # the reply goes out; then the survey
        await alice.round()
    dovecot.deliver(mail_user, answer_by_link(bad_link(smtp_sink, "di@f.test"), "di-bad@t", "Di <di@f.test>",
                                              "Still no refund after a week.", 5))
    clock.now += 600
    await alice.round()
    reopened_at = clock.now
    row = (await conversation_rows(desk.store, [rated]))[rated]
    assert row["status"] == "open"  # tagged and opened by the survey's intake
    # a customer who wrote after the reopen waits less: behind it; one waiting since before, ahead
    dovecot.deliver(mail_user, make_mail("late@t", subject="Invoice copy", sender="Flo <flo@h.test>",
                                         minutes=(reopened_at - BASE.timestamp()) / 60 + 5))
    clock.now += 30 * 60
    await alice.round()
    early, late = await conv_of(desk, "early@t"), await conv_of(desk, "late@t")
    queue = await desk.queue_ids()
    assert queue.index(early) < queue.index(rated) < queue.index(late)
    [shown] = await desk.queue_rows([rated])
    assert "csat-bad" in shown.tags
    assert "bad rating with a comment: reopened for a look" in shown.reasons
    assert not any(AUTOMATIC in r for r in shown.reasons)
    assert shown.reasons[0].startswith("waiting 3")  # 30 minutes since it was opened for a look
    assert shown.score > 0
    await desk.close()


async def test_an_agents_reopen_of_an_answered_conversation_ranks_it_as_waiting(tmp_path, dovecot, mail_user,
                                                                             smtp_sink):
    smtp_sink.clear()
    dovecot.load_maildir(mail_user, [make_mail("a@t", subject="Printer jam", sender="Ann <ann@c.test>"),
                                     make_mail("b@t", subject="Wifi drops", sender="Bo <bo@e.test>", minutes=2)])
    clock = Clock(NOW)
    alice = await open_alice(tmp_path, dovecot, mail_user, smtp_sink, clock)
    desk = alice.desk
    await alice.round()
    answered, waiting = await conv_of(desk, "a@t"), await conv_of(desk, "b@t")
    await desk.reply(answered, "Open the back cover.")
    clock.now += 60
    for _ in range(2):
        await alice.round()
    assert (await conversation_rows(desk.store, [answered]))[answered]["status"] == "pending"
    assert answered not in await desk.queue_ids()
    clock.now += 600
    await desk.set_status([answered], "open")  # o: the agent wants another look
    clock.now += 20 * 60
    assert await desk.queue_ids() == [waiting, answered]  # bo waits since before the reopen
    [shown] = await desk.queue_rows([answered])
    assert "reopened, not answered since" in shown.reasons
    assert not any(AUTOMATIC in r for r in shown.reasons)
    assert shown.reasons[0].startswith("waiting 20")
    assert shown.score > 0
    await desk.close()


def test_an_answer_after_the_reopen_ends_its_wait():
    """(The outbox dates a reply by the wall clock, so this one is worked out from its facts.)"""
    cfg = PriorityConfig()
    facts = [MessageFact(1, 1000, False, False, "ann@c.test", "Ann", "Printer jam"),
             MessageFact(1, 2000, True, False, "alice@helpdesk.test", "Alice", "Re: Printer jam")]
    reopened = ConvState(status="open", status_set_at=3000)
    s = summarize(1, facts, reopened, cfg)
    assert (s.status, s.waiting_since) == ("open", 3000) and s.rank < NOT_WAITING_RANK
    answered = facts + [MessageFact(1, 4000, True, False, "alice@helpdesk.test", "Alice", "Re: Printer jam")]
    s = summarize(1, answered, reopened, cfg)
    assert (s.status, s.waiting_since) == ("pending", None) and s.rank >= NOT_WAITING_RANK
    # an agent's reopen in the same second as the last mail still waits after it
    s = summarize(1, facts, ConvState(status="open", status_set_at=2000), cfg)
    assert s.waiting_since == 2001
    ex = explain(s, 2000 + 600, cfg, (), 1)
    assert "reopened, not answered since" in ex.reasons
