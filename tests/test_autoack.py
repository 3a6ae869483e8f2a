"""The acknowledgement without a rule (`[autoreply] acknowledge = true`), the expected wait it
told the customer shown to the agent, status mails from a `status` rule, and `tui-desk sync
--once` delivering what the rules queued (issue 16). Real Dovecot and SMTP sink; time is a
clock the test moves."""

from __future__ import annotations

import asyncio
import re
import datetime as dt
import email
import email.utils
import subprocess
import sys
import time
from email import policy
from pathlib import Path

import pytest

from tests.accounts import sync_cmd, write_config
from tests.clock import Clock
from tests.desk_clients import Agent, open_agent_client, snippet_home, support_account
from tests.mailfactory import BASE, mail, make_mail
from tui_desk.config import AutoReplyConfig, Config, ConfigError, PriorityConfig, load_config
from tui_desk.desk.expected_wait import explain
from tui_desk.desk.history import conversation_history, describe
from tui_desk.desk.rules.fire import RulesRunner, read_rules
from tui_desk.desk.service import Desk
from tui_desk.store.events import Event
from tui_desk.store.queries import thread_message_ids

NOW = BASE.timestamp() + 3600
ACK = ("---\ntitle: Acknowledgement\n---\nHi {{customer_first_name}}, we have your mail.\n"
       "A person will answer {{expected_wait}}.\n")
CLOSED = "---\ntitle: Closed\n---\nHi {{customer_first_name}}, we closed ticket #{{ticket_id}}. Just reply to reopen it.\n"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    return snippet_home(tmp_path, monkeypatch, {"auto-ack": ACK, "closed-notice": CLOSED})


async def open_agent(home: Path, name: str, dovecot, user: str, smtp_sink, clock: Clock, rules: str | None = None,
                     acknowledge: bool = True) -> Agent:
    """An agent's client as the app runs it: its rules read by desk.rules.fire.read_rules
    (rules.toml, then the [autoreply] acknowledgement)."""
    path = home / f"{name}-rules.toml"
    if rules is not None:
        path.write_text(rules, encoding="utf-8")
    config = Config(agent=name, agent_addresses=("*@helpdesk.test",), team=("alice", "bob"),
                    accounts=(support_account(dovecot, user, smtp_sink),),
                    rules_file=path if rules is not None else None, path=home / f"{name}-config.toml",
                    priority=PriorityConfig(timezone="UTC"), autoreply=AutoReplyConfig(acknowledge=acknowledge))
    return await open_agent_client(home / f"{name}.db", config, dovecot, user, clock,
                                   rules_runner)


async def rules_runner(desk: Desk) -> RulesRunner:
    return RulesRunner(desk, await read_rules(desk))


def mails_to(smtp_sink, address: str) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(m.data, policy=policy.default) for m in smtp_sink.messages if address in m.rcpt_tos]


async def conv_of(desk: Desk, message_id: str) -> int:
    return next(c for c, ids in (await thread_message_ids(desk.store)).items() if message_id in ids)


async def lines_of(desk: Desk, message_id: str, *kinds: str) -> list[str]:
    return [h.text for h in await conversation_history(desk, await conv_of(desk, message_id)) if h.kind in kinds]


async def test_two_clients_with_acknowledge_send_one_acknowledgement_per_new_mail(home, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    clock = Clock(NOW)
    alice, bob = [await open_agent(home, n, dovecot, mail_user, smtp_sink, clock) for n in ("alice", "bob")]
    assert [r.name for r in alice.runner.rules.rules] == ["acknowledgement"]  # no rules file: the implicit rule
    customers = ["ann@c.test", "bo@d.test", "cy@e.test"]
    for i, who in enumerate(customers):
        dovecot.deliver(mail_user, make_mail(f"n{i}@t", sender=who, subject=f"Question {i}", minutes=i))
    await asyncio.gather(alice.sync.sync_once(), bob.sync.sync_once())  # both at once on the same mail
    for _ in range(3):  # everyone hears of everything: keywords, and sent mail's history through History
        for a in (alice, bob):
            await a.round()
    for i, who in enumerate(customers):
        [ack] = mails_to(smtp_sink, who)
        assert ack["Auto-Submitted"] == "auto-replied" and ack["In-Reply-To"] == f"<n{i}@t>"
        body = ack.get_body(("plain",)).get_content()
        # no history to measure: the default 4h from the mail's arrival (BASE + i minutes), an hour ago
        assert "A person will answer in about 3 hours." in body
        for a in (alice, bob):  # the one acknowledgement, as both clients' history tells it
            # one line for the rule and the reply it sent (not two): the agent reads the wait the
            # customer was told and how it was worked out
            [auto] = await lines_of(a.desk, f"n{i}@t", "rule", "autoreply")
            # the customers who wrote before wait longer: counted, though with no answers there is no pace
            ahead = ["", "; 1 conversation waits longer", "; 2 conversations wait longer"][i]
            pace = " (no answers in the last 7 days to measure their pace)" if ahead else ""
            assert auto == ("rule 'acknowledgement' replied with snippet 'auto-ack': expected wait 'in about 3 hours' "
                            "(default wait 4h: no first responses of all conversations in the last 7 days, 5 needed"
                            f"{ahead}{pace})"), auto
            kinds = [h.kind for h in await conversation_history(a.desk, await conv_of(a.desk, f"n{i}@t"))]
            assert "reply" not in kinds  # never an agent's reply: the first response time runs on
    assert alice.runner.claimed + bob.runner.claimed == len(customers)
    for a in (alice, bob):
        await a.desk.close()


RULE_REPLIES = """
[[rule]]
name = "refund answer"
on = "new"
if = "subject:refund"
do = ["tag +billing", "reply auto-ack"]
"""


async def test_a_rule_that_replies_wins_over_the_acknowledgement(home, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    dovecot.load_maildir(mail_user, [make_mail("refund@t", sender="ann@c.test", subject="Refund please"),
                                     make_mail("other@t", sender="bo@d.test", subject="Where is it", minutes=1)])
    alice = await open_agent(home, "alice", dovecot, mail_user, smtp_sink, Clock(NOW), rules=RULE_REPLIES)
    assert [(r.name, r.fallback_reply) for r in alice.runner.rules.rules] == [
        ("refund answer", False), ("acknowledgement", True)]
    for _ in range(2):
        await alice.round()
    assert len(mails_to(smtp_sink, "ann@c.test")) == 1  # one acknowledgement, not two
    tagged, replied = await lines_of(alice.desk, "refund@t", "rule", "autoreply")
    assert tagged == "rule 'refund answer' tagged +billing"
    assert replied.startswith("rule 'refund answer' replied with snippet 'auto-ack': expected wait '"), replied
    # mail no rule replies to gets the acknowledgement
    assert len(mails_to(smtp_sink, "bo@d.test")) == 1
    [acknowledged] = await lines_of(alice.desk, "other@t", "rule", "autoreply")
    assert acknowledged.startswith("rule 'acknowledgement' replied with snippet 'auto-ack': expected wait '"), acknowledged
    await alice.desk.close()


async def test_the_guards_hold_the_acknowledgement(home, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    dovecot.load_maildir(mail_user, [
        mail("From: News <news@shop.test>\nTo: support@helpdesk.test\nSubject: Offers\n"
             "Message-ID: <bulk@t>\nPrecedence: bulk\nDate: Mon, 02 Nov 2026 09:00:00 +0000"),
        mail("From: Robot <robot@bots.test>\nTo: support@helpdesk.test\nSubject: Out of office\n"
             "Message-ID: <away@t>\nAuto-Submitted: auto-replied\nDate: Mon, 02 Nov 2026 09:01:00 +0000"),
        make_mail("first@t", sender="ann@c.test", subject="One", minutes=2),
        make_mail("second@t", sender="ann@c.test", subject="Another one", minutes=3)])
    alice = await open_agent(home, "alice", dovecot, mail_user, smtp_sink, Clock(NOW))
    for _ in range(2):
        await alice.round()
    assert await lines_of(alice.desk, "bulk@t", "rule") == ["rule 'acknowledgement' held its reply: Precedence: bulk"]
    assert await lines_of(alice.desk, "away@t", "rule") == [
        "rule 'acknowledgement' held its reply: Auto-Submitted: auto-replied"]
    assert mails_to(smtp_sink, "news@shop.test") == [] and mails_to(smtp_sink, "robot@bots.test") == []
    # the rate limit: one automatic mail per customer in 3 hours, whatever the conversation
    assert len(mails_to(smtp_sink, "ann@c.test")) == 1
    [held] = await lines_of(alice.desk, "second@t", "rule")
    assert held.startswith("rule 'acknowledgement' held its reply: one automatic mail per 3h to ann@c.test"), held
    # what `rules test` asks before it says a reply would go: the same limits, and the wait told
    from tui_desk.desk.rules.execute import rate_block, told_wait
    second, bulk = await conv_of(alice.desk, "second@t"), await conv_of(alice.desk, "bulk@t")
    assert (await rate_block(alice.desk, second)).startswith("one automatic mail per 3h to ann@c.test")
    assert await rate_block(alice.desk, bulk) is None  # no mail to news@ yet: the guards hold that one
    assert (await told_wait(alice.desk, second, "auto-ack")).startswith("in about ")
    assert await told_wait(alice.desk, second, "more-info") is None  # says no wait
    await alice.desk.close()


STATUS_RULES = """
[[rule]]
name = "closed notice"
on = "status"
if = "status:closed"
do = ["reply closed-notice"]
"""


async def test_a_status_rule_mails_the_customer_when_a_conversation_is_closed(home, dovecot, mail_user, smtp_sink):
    from tui_desk.desk import commands
    smtp_sink.clear()
    dovecot.load_maildir(mail_user, [make_mail("st@t", sender="Ann Lee <ann@c.test>", subject="Broken login")])
    clock = Clock(NOW)
    alice = await open_agent(home, "alice", dovecot, mail_user, smtp_sink, clock, rules=STATUS_RULES)
    await alice.round()
    [ack] = mails_to(smtp_sink, "ann@c.test")  # the acknowledgement: no rule replies on new
    cid = await conv_of(alice.desk, "st@t")
    clock.now += 3600  # an hour later: within the 3 hours one automatic mail per customer allows
    await commands.set_status(alice.desk, [cid], "pending")  # not closed: no mail
    await alice.sender.run_due()
    assert len(smtp_sink.messages) == 1
    await commands.set_status(alice.desk, [cid], "closed")
    await alice.sender.run_due()
    # the agent closed it: no mail behind it, no loop to stop; only the hourly cap counts
    [_, notice] = mails_to(smtp_sink, "ann@c.test")
    assert notice["Auto-Submitted"] == "auto-replied" and notice["In-Reply-To"] == "<st@t>"
    assert notice["Subject"] == f"Re: [#{cid}] Broken login"
    assert f"Hi Ann, we closed ticket #{cid}. Just reply to reopen it." in notice.get_body(("plain",)).get_content()
    ack_line, notice_line = await lines_of(alice.desk, "st@t", "rule", "autoreply")
    assert ack_line.startswith("rule 'acknowledgement' replied with snippet 'auto-ack': expected wait '"), ack_line
    assert notice_line == "rule 'closed notice' replied with snippet 'closed-notice'"  # no wait in that snippet
    # a status a rule sets (here after the customer's reply) is mail-driven: the limits hold it
    from tui_desk.desk.rules.fire import fire_status
    await commands.set_status(alice.desk, [cid], "open")
    await commands.set_status(alice.desk, [cid], "closed", fire=False)
    await fire_status(alice.desk, [cid], ("customer closes",))  # as if rule 'customer closes' had set it
    assert (await lines_of(alice.desk, "st@t", "rule"))[-1].startswith(
        "rule 'closed notice' held its reply: one automatic mail per 3h to ann@c.test"), await lines_of(
        alice.desk, "st@t", "rule")
    await alice.sender.run_due()
    assert len(mails_to(smtp_sink, "ann@c.test")) == 2
    await alice.desk.close()


async def test_sync_once_delivers_what_the_rules_queued(home, dovecot, mail_user, smtp_sink):
    """The CLI with the real clock: the mail is dated now, within the rules' horizon."""
    smtp_sink.clear()
    now = email.utils.formatdate(time.time() - 60)
    dovecot.load_maildir(mail_user, [mail(f"From: Ann Lee <ann@c.test>\nTo: support@helpdesk.test\n"
                                          f"Subject: Help\nMessage-ID: <once@t>\nDate: {now}", "Hello?\n")])
    cfg = write_config(home / "config.toml", dovecot, mail_user, smtp_port=smtp_sink.port,
                       settings='[autoreply]\nacknowledge = true\n')
    db = home / "once.db"
    done = subprocess.run(sync_cmd(cfg, db), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "outbox: 1 sent" in done.stdout, done.stdout
    [ack] = mails_to(smtp_sink, "ann@c.test")
    assert ack["Auto-Submitted"] == "auto-replied" and ack["In-Reply-To"] == "<once@t>"
    outbox = subprocess.run([sys.executable, "-m", "tui_desk", "--config", str(cfg), "--db", str(db), "outbox"],
                            capture_output=True, text=True, timeout=60)
    assert outbox.stdout.strip() == "Outbox is empty.", outbox.stdout
    history = subprocess.run([sys.executable, "-m", "tui_desk", "--config", str(cfg), "--db", str(db), "history", "1"],
                             capture_output=True, text=True, timeout=60)
    assert "rule 'acknowledgement' replied with snippet 'auto-ack': expected wait '" in history.stdout, history.stdout
    assert "sent an automatic reply" not in history.stdout, history.stdout  # the rule's line says it, once
    again = subprocess.run(sync_cmd(cfg, db), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "outbox:" not in again.stdout, again.stdout
    assert len(mails_to(smtp_sink, "ann@c.test")) == 1



def test_sync_once_whose_acknowledgement_could_not_go_says_so_and_exits_1(home, dovecot, mail_user):
    """The sync is done, but what the rules queued did not go (no SMTP server there): one line on
    stderr, exit status 1 (README: Exit status); the outbox tries it again later."""
    import socket
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    now = email.utils.formatdate(time.time() - 60)
    dovecot.load_maildir(mail_user, [mail(f"From: Bo <bo@c.test>\nTo: support@helpdesk.test\n"
                                          f"Subject: Help\nMessage-ID: <once-down@t>\nDate: {now}", "Hello?\n")])
    cfg = write_config(home / "config.toml", dovecot, mail_user, smtp_port=closed_port,
                       settings='[autoreply]\nacknowledge = true\n')
    done = subprocess.run(sync_cmd(cfg, home / "down.db"), capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "synced: 1 new" in done.stdout, done.stdout
    [line] = [ln for ln in done.stderr.splitlines() if "not sent" in ln]
    assert line.startswith("tui-desk: outbox #1 to bo@c.test not sent: still queued"), done.stderr

def test_acknowledge_is_a_config_key(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[autoreply]\nacknowledge = true\nsnippet = "hello"\ndefault_wait = "2h"\n', encoding="utf-8")
    got = load_config(cfg).autoreply
    assert (got.acknowledge, got.snippet, got.default_wait_seconds) == (True, "hello", 7200)
    assert load_config(tmp_path / "none.toml").autoreply.acknowledge is False
    cfg.write_text('[autoreply]\nacknowledge = "yes"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="'autoreply.acknowledge' must be true or false"):
        load_config(cfg)


def test_rules_check_and_test_show_the_acknowledgement(home, tmp_path, capsys):
    from tui_desk import cli
    from tui_desk.mail.parse import parse_message
    from tui_desk.store import ingest
    cfg = tmp_path / "config.toml"
    cfg.write_text('agent = "alice"\nagent_addresses = ["*@helpdesk.test"]\n[autoreply]\nacknowledge = true\n',
                   encoding="utf-8")
    db = tmp_path / "r.db"

    async def add() -> list[int]:
        desk = await Desk.open(db, load_config(cfg))
        raws = [make_mail("a@t", sender="ann@c.test"),
                mail("From: n@shop.test\nTo: support@helpdesk.test\nMessage-ID: <b@t>\nPrecedence: bulk\n"
                     "Subject: x\nDate: Mon, 02 Nov 2026 09:00:00 +0000")]
        await ingest.ingest(desk.store, [ingest.NewMessage(raw=r, parsed=parse_message(r), is_agent=False) for r in raws])
        ids = [await conv_of(desk, "a@t"), await conv_of(desk, "b@t")]
        await desk.close()
        return ids
    plain, bulk = asyncio.run(add())
    assert cli.main(["--config", str(cfg), "--db", str(db), "rules", "check"]) == 0
    out = capsys.readouterr().out
    assert "no rules file (no rules)" in out
    assert ("[autoreply] acknowledge: rule 'acknowledgement' answers every new conversation with snippet "
            "'auto-ack' unless a rule replies to it") in out
    assert cli.main(["--config", str(cfg), "--db", str(db), "rules", "test", str(plain)]) == 0
    said = capsys.readouterr().out.strip()  # and the wait the customer would be told (the real clock's)
    assert re.fullmatch(r"rule 'acknowledgement' replied with snippet 'auto-ack' \(tells the customer: .+\)", said), said
    assert cli.main(["--config", str(cfg), "--db", str(db), "rules", "test", str(bulk)]) == 0
    assert capsys.readouterr().out.strip() == (
        "rule 'acknowledgement' replied with snippet 'auto-ack' (held: Precedence: bulk)")
    # an unknown snippet is named like a rules file's mistake
    cfg.write_text('[autoreply]\nacknowledge = true\nsnippet = "no-such"\n', encoding="utf-8")
    assert cli.main(["--config", str(cfg), "--db", str(db), "rules", "check"]) == 1
    assert f"{cfg}: [autoreply] acknowledge = true: unknown snippet 'no-such'" in capsys.readouterr().out


def test_the_explanation_reads_the_record_and_trusts_none_of_it():
    measured = {"words": "in about 2 hours", "default": False, "samples": 12, "p75_seconds": 6000.0,
                "wait_seconds": 6000.0, "comparable": "tag:billing", "min_samples": 5, "from_opening": False,
                "business": True}
    assert explain(measured) == ("expected wait 'in about 2 hours' (p75 1h 40m business time of 12 first responses "
                                 "with tag billing, last 7 days)")
    # without business hours every second counts: no "business time" (the tryout read it so)
    assert explain({**measured, "business": False}) == (
        "expected wait 'in about 2 hours' (p75 1h 40m of 12 first responses with tag billing, last 7 days)")
    assert explain({**measured, "comparable": "priority:vip", "from_opening": True}).endswith(
        "of priority vip, last 7 days, from the next opening)")
    # a teammate's event arrives through the History folder: nothing in it reaches the terminal raw
    hostile = {"words": "soon\x1b]52;c;ZXZpbA==\x07\n\x1b[2J", "comparable": "tag:\x1b[31mred", "samples": "x",
               "p75_seconds": float("inf"), "from_opening": "yes"}
    said = describe(Event("e1", int(NOW), "bob", "autoreply", "a@t",
                          {"snippets": [{"name": "auto-ack"}], "expected_wait": hostile}), dt.timezone.utc)
    assert "\x1b" not in said and "\x07" not in said and "\n" not in said
    assert said.startswith("sent an automatic reply with auto-ack: expected wait 'soon")
    assert "p75 0m of no first responses" in said
    assert describe(Event("e2", int(NOW), "bob", "autoreply", "a@t", {"expected_wait": "not a record"}),
                    dt.timezone.utc) == "sent an automatic reply"


def test_the_planner_leaves_the_acknowledgement_out_where_a_rule_replies():
    """Pure: engine.plan with the implicit rule last (desk.rules.acknowledge)."""
    from tui_desk.desk.rules import ConversationFacts, Event as RuleEvent, parse_rules, plan
    from tui_desk.desk.rules.acknowledge import with_acknowledgement
    config = Config(autoreply=AutoReplyConfig(acknowledge=True))
    text = RULE_REPLIES + '\n[[rule]]\nname = "acknowledgement"\non = "status"\ndo = ["tag +x"]\n'
    rules = with_acknowledgement(parse_rules(text, Path("rules.toml")), config, ["auto-ack"]).rules
    assert [r.name for r in rules] == ["refund answer", "acknowledgement", "acknowledgement ([autoreply])"]

    def planned(matched: frozenset[str], held: str | None = None, kind: str = "new") -> list[str]:
        conv = ConversationFacts(id=1, status="open", tags=frozenset(), assignee=None, customer="ann@c.test",
                                 last_date=None, vip=False, business_hours=True, matched=matched,
                                 autoreply_block=held)
        return [p.says for p in plan(rules, RuleEvent(kind, 1, int(NOW)), conv)]  # type: ignore[arg-type]  # kind: one of EVENTS
    assert planned(frozenset()) == ["rule 'acknowledgement ([autoreply])' replied with snippet 'auto-ack'"]
    assert planned(frozenset({"refund answer"})) == [
        "rule 'refund answer' tagged +billing", "rule 'refund answer' replied with snippet 'auto-ack'"]
    # the rule's reply is held by the guards: the acknowledgement would be too, and is not added
    assert planned(frozenset({"refund answer"}), held="Precedence: bulk") == [
        "rule 'refund answer' tagged +billing", "rule 'refund answer' replied with snippet 'auto-ack'"]
    assert planned(frozenset(), kind="customer-reply") == []  # new conversations only
    # off: the rules as the file has them
    assert with_acknowledgement(parse_rules(RULE_REPLIES, Path("r.toml")), Config(), None).rules == parse_rules(
        RULE_REPLIES, Path("r.toml")).rules
