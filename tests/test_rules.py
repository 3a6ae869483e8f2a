"""Rules (issue 16, first part): rules.toml read and checked with file:line errors, conditions
through the one search grammar on a real store, the planner, loop guards and rate limits, and
`tui-desk rules check|test` through cli.main."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.mailfactory import BASE
from tui_desk.cli import main
from tui_desk.config import AutoReplyConfig, Config, PriorityConfig
from tui_desk.desk.rules import ConversationFacts, Event, RulesError, load_rules, parse_rules, plan
from tui_desk.desk.rules.actions import ActionChecks
from tui_desk.desk.rules.facts import gather
from tui_desk.desk.rules.guards import SentAutomatically, autoreply_block, message_facts, rate_limit_block
from tui_desk.desk.service import Desk
from tui_desk.mail.parse import parse_message, read_headers
from tui_desk.store import ingest as store_ingest
from tui_desk.store.search import SearchError, parse_query

T0 = int(BASE.timestamp())  # Monday 2026-11-02 09:00 UTC
CHECKS = ActionChecks(agents={"alice", "bob"}, snippets={"auto-ack", "refund-policy"},
                      is_own_address=lambda a: a.lower().endswith("@helpdesk.test"))
SHOP = '''\
# rules.toml of a small shop
[[rule]]
name = "refunds to billing"
on = "new"                  # new | customer-reply | status | sla-warning | sla-breach | schedule
if = "subject:refund"       # the desk's search syntax
do = ["tag +billing", "assign alice"]

[[rule]]
name = "acknowledge"
on = "new"
do = ["reply auto-ack"]

[[rule]]
name = "pending too long"
on = "schedule"
every = "1h"
idle = "3d"
if = "status:pending"
do = ["status closed", "note closed after three quiet days"]
'''


def own(addr: str) -> bool:
    return addr.lower().endswith("@helpdesk.test")


# -------------------------------------------------------------------------------- the file


def test_a_shop_rules_file_reads_in_order():
    rules = parse_rules(SHOP, Path("rules.toml"), CHECKS).rules
    assert [r.name for r in rules] == ["refunds to billing", "acknowledge", "pending too long"]
    assert [r.line for r in rules] == [2, 8, 13]
    first = rules[0]
    assert first.on == "new" and first.condition == "subject:refund"
    assert [(a.kind, a.add, a.value) for a in first.actions] == [("tag", ("billing",), ""), ("assign", (), "alice")]
    assert rules[2].every == 3600 and rules[2].idle == 3 * 86400
    assert rules[1].query.fts == [] and rules[0].query.fts, "the condition is the search grammar's Query"


BAD = [  # (rule body after name/on, the line the error names, what it says)
    ('name = "x"\non = "new"\ndo = ["tagg +a"]\n', 4, "rule 'x': unknown action 'tagg +a'"),
    ('name = "x"\non = "new"\ncolour = "red"\ndo = ["tag +a"]\n', 4, "rule 'x': unknown key 'colour'"),
    ('name = "x"\non = "sometimes"\ndo = ["tag +a"]\n', 3, "rule 'x': unknown event 'sometimes'"),
    ('name = "x"\non = "new"\nif = "subjct:refund"\ndo = ["tag +a"]\n', 4, "if: unknown search field 'subjct:'"),
    ('name = "x"\non = "new"\nif = "status:later"\ndo = ["tag +a"]\n', 4, "status: is one of open"),
    ('name = "x"\non = "new"\ndo = [\n  "tag +a",\n  "assign carol",\n]\n', 6, "unknown agent 'carol'"),
    ('name = "x"\non = "new"\ndo = ["reply no-such"]\n', 4, "unknown snippet 'no-such'"),
    ('name = "x"\non = "new"\ndo = ["snooze soonish"]\n', 4, "snooze wants a length of time"),
    ('name = "x"\non = "schedule"\nevery = "often"\ndo = ["tag +a"]\n', 4, "every: wants a length of time"),
    ('name = "x"\non = "schedule"\nevery = "1h"\nidle = "3 fortnights"\ndo = ["tag +a"]\n', 5,
     "idle: wants a length of time"),
    ('name = "x"\non = "schedule"\ndo = ["tag +a"]\n', 1, "a schedule rule needs every"),
    ('name = "x"\non = "new"\nevery = "1h"\ndo = ["tag +a"]\n', 4, 'every is for on = "schedule" rules'),
    ('name = "x"\non = "status"\nif = "header:X-Foo"\ndo = ["tag +a"]\n', 4, "header: tests need a mail"),
    ('name = "x"\non = "new"\ndo = ["forward support@helpdesk.test"]\n', 4, "the desk's own address"),
    ('name = "x"\non = "new"\ndo = ["priority 5"]\n', 4, "priority wants a step"),
    ('name = "x"\non = "new"\ndo = ["status later"]\n', 4, "status is one of"),
    ('name = "x"\non = "new"\n', 1, "needs do ="),
    ('on = "new"\ndo = ["tag +a"]\n', 1, "rule #1: needs a name"),
    ('name = "x"\ndo = ["tag +a"]\n', 1, "needs on ="),
    ('name = "x"\non = "new"\nif = "vip:maybe"\ndo = ["tag +a"]\n', 4, "vip: is yes or no"),
]


@pytest.mark.parametrize("body, line, says", BAD)
def test_every_problem_is_one_line_with_file_and_line(body, line, says):
    text = "# a comment first\n" + "[[rule]]\n" + body
    with pytest.raises(RulesError) as e:
        parse_rules(text, Path("rules.toml"), CHECKS)
    assert len(e.value.errors) == 1, e.value.errors
    assert e.value.errors[0].startswith(f"rules.toml:{line + 1}: "), e.value.errors[0]
    assert says in e.value.errors[0]
    assert "\n" not in e.value.errors[0]


def test_all_problems_are_listed_in_file_order_and_duplicates_named():
    text = SHOP + '\n[[rule]]\nname = "Acknowledge"\non = "new"\ndo = ["tag +x", "assign zed"]\nfoo = 1\n'
    with pytest.raises(RulesError) as e:
        parse_rules(text, Path("/etc/rules.toml"), CHECKS)
    assert e.value.errors == [
        "/etc/rules.toml:22: rule 'Acknowledge': the name is used already (line 9)",
        "/etc/rules.toml:24: rule 'Acknowledge': 'assign zed': unknown agent 'zed' (agents: alice, bob)",
        "/etc/rules.toml:25: rule 'Acknowledge': unknown key 'foo' (known: name, on, if, do, every, idle)",
    ]


def test_toml_syntax_and_top_level_keys():
    with pytest.raises(RulesError) as e:
        parse_rules('[[rule]]\nname = "a"\non = new\n', Path("r.toml"), CHECKS)
    assert e.value.errors[0].startswith("r.toml:3: not valid TOML")
    with pytest.raises(RulesError) as e:
        parse_rules('\n\nsnippet = "x"\n' + SHOP, Path("r.toml"), CHECKS)
    assert e.value.errors == ["r.toml:3: unknown key 'snippet' (a rules file holds [[rule]] tables)"]


def test_a_missing_file_is_no_rules_unless_the_config_names_it(tmp_path):
    rules = load_rules(tmp_path / "rules.toml", CHECKS)
    assert rules.rules == () and not rules.exists
    with pytest.raises(RulesError) as e:
        load_rules(tmp_path / "rules.toml", CHECKS, required=True)
    assert "no such file" in e.value.errors[0]


def test_the_rule_keys_are_the_search_grammars_and_only_for_rules():
    q = parse_query('subject:refund vip:yes business-hours:no header:X-Priority:1 header:"List-Id" has:attachment '
                    'domain:shop.example', rule_keys=True)
    assert q.vip == [True] and q.business_hours == [False]
    assert q.headers == [("x-priority", "1"), ("list-id", "")]
    assert q.has == ["attachment"] and q.domains == ["shop.example"]
    for term in ("vip:yes", "business-hours:no", "header:X-Foo"):
        with pytest.raises(SearchError, match="for rules"):
            parse_query(term)
    assert parse_query("e-mail:foo").fts, "a word with a dash and a colon is still a word"


# -------------------------------------------------------------------------------- a real store


def mail(msgid: str, *, sender: str = "Ann <ann@shop.example>", subject: str = "Hello", minutes: float = 0,
         headers: dict[str, str] | None = None, attachment: bool = False, refs: str | None = None) -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = "support@helpdesk.test"
    m["Subject"] = subject
    m["Date"] = format_datetime(BASE + dt.timedelta(minutes=minutes))
    m["Message-ID"] = f"<{msgid}>"
    if refs:
        m["References"] = f"<{refs}>"
        m["In-Reply-To"] = f"<{refs}>"
    for k, v in (headers or {}).items():
        m[k] = v
    m.set_content("Hi there.\n")
    if attachment:
        m.add_attachment(b"%PDF-1.4 receipt", maintype="application", subtype="pdf", filename="receipt.pdf")
    return bytes(m)


async def add(desk: Desk, *raws: bytes) -> dict[str, int]:
    items = [store_ingest.NewMessage(raw=r, parsed=(p := parse_message(r)),
                                     is_agent=desk.config.is_agent_address(p.sender.key)) for r in raws]
    result = await store_ingest.ingest(desk.store, items)
    await desk.refresh(result.conversations)
    ids = {}
    for r in raws:
        mid = parse_message(r).message_id
        row = await desk.store.fetchone("SELECT conv_id FROM messages WHERE message_id=?", (mid,))
        ids[mid] = row[0]
    return ids


RULES = '''\
[[rule]]
name = "refunds"
on = "new"
if = "subject:refund"
do = ["tag +billing"]

[[rule]]
name = "receipts"
on = "new"
if = "has:attachment"
do = ["tag +receipt"]

[[rule]]
name = "shop customers"
on = "new"
if = "domain:shop.example"
do = ["assign bob"]

[[rule]]
name = "vip"
on = "new"
if = "vip:yes"
do = ["priority +2"]

[[rule]]
name = "night"
on = "new"
if = "business-hours:no"
do = ["note arrived off-hours"]

[[rule]]
name = "urgent header"
on = "new"
if = "header:X-Priority:1"
do = ["tag +flagged"]

[[rule]]
name = "ack"
on = "new"
do = ["reply auto-ack"]

[[rule]]
name = "replies"
on = "customer-reply"
if = "subject:refund"
do = ["status open"]
'''


@pytest.fixture
async def desk(tmp_path):
    config = Config(agent="alice", team=("alice", "bob"), agent_addresses=("*@helpdesk.test",),
                    priority=PriorityConfig(vip=("vip.example",), business_hours=(dt.time(9), dt.time(17)),
                                            timezone="UTC"))
    clock = {"now": T0 + 3600}
    d = await Desk.open(tmp_path / "r.db", config, clock=lambda: clock["now"])
    yield d
    await d.close()


async def fired(desk: Desk, conv_id: int, kind: str = "new", at: int | None = None) -> list[str]:
    rules = parse_rules(RULES, Path("rules.toml"), CHECKS).rules
    event = Event(kind, conv_id, at if at is not None else desk.now())  # type: ignore[arg-type]  # kind: a str from the test, one of EVENTS
    facts = await gather(desk, rules, event)
    assert facts is not None
    return [p.says + (f" (held: {p.held})" if p.held else "") for p in plan(rules, event, facts)]


async def test_conditions_run_through_the_search_grammar_on_the_store(desk):
    ids = await add(desk,
                    mail("refund@t", subject="Refund please", attachment=True),
                    mail("plain@t", sender="joe@other.example", subject="Question"),
                    mail("vip@t", sender="boss@vip.example", subject="Hi", headers={"X-Priority": "1 (Highest)"}),
                    mail("sub@t", sender="kim@eu.shop.example", subject="Where is it"))
    assert await fired(desk, ids["refund@t"]) == [
        "rule 'refunds' tagged +billing", "rule 'receipts' tagged +receipt", "rule 'shop customers' assigned bob",
        "rule 'ack' replied with snippet 'auto-ack'"]
    assert await fired(desk, ids["plain@t"]) == ["rule 'ack' replied with snippet 'auto-ack'"]
    assert await fired(desk, ids["vip@t"]) == [
        "rule 'vip' raised priority +2", "rule 'urgent header' tagged +flagged", "rule 'ack' replied with snippet 'auto-ack'"]
    assert await fired(desk, ids["sub@t"]) == [  # subdomains are the domain's
        "rule 'shop customers' assigned bob", "rule 'ack' replied with snippet 'auto-ack'"]
    # the same conversation at 20:00 UTC: outside business hours
    assert "rule 'night' added a note" in await fired(desk, ids["plain@t"], at=T0 + 11 * 3600)
    # the other event: only its rules
    assert await fired(desk, ids["plain@t"], "customer-reply") == []
    # the queue search reads the new keys too
    assert await desk.queue_ids("has:attachment") == [ids["refund@t"]]
    assert sorted(await desk.queue_ids("domain:shop.example")) == sorted([ids["refund@t"], ids["sub@t"]])
    assert await desk.queue_ids("body:refund") == [], "the word is in a subject, not a body"
    assert len(await desk.queue_ids('body:"hi there"')) == 4


async def test_customer_reply_looks_at_the_latest_mail_and_no_ops_are_left_out(desk):
    ids = await add(desk, mail("r1@t", subject="Refund please"),
                    mail("a1@t", sender="alice@helpdesk.test", subject="Re: Refund please", refs="r1@t", minutes=5))
    await desk.tag([ids["r1@t"]], add=["billing"])
    assert "rule 'refunds' tagged +billing" not in await fired(desk, ids["r1@t"]), "already tagged: nothing to say"
    await desk.set_status([ids["r1@t"]], "pending")
    assert await fired(desk, ids["r1@t"], "customer-reply") == ["rule 'replies' set status open"]


async def test_a_list_mail_gets_no_automatic_reply(desk):
    ids = await add(desk, mail("list@t", sender="news@shop.example", subject="Weekly",
                                headers={"List-Id": "<weekly.shop.example>", "Precedence": "list"}))
    assert await fired(desk, ids["list@t"]) == [
        "rule 'shop customers' assigned bob", "rule 'ack' replied with snippet 'auto-ack' (held: Precedence: list)"]


# -------------------------------------------------------------------------------- the planner (pure)


def facts(**kw) -> ConversationFacts:
    base = dict(id=7, status="open", tags=frozenset(), assignee=None, customer="ann@shop.example", last_date=T0,
                vip=False, business_hours=True, matched=frozenset())
    base.update(kw)
    return ConversationFacts(**base)  # type: ignore[arg-type]  # the fields, typed by the dataclass


ORDERED = '''\
[[rule]]
name = "one"
on = "status"
do = ["tag +a -b", "status pending"]

[[rule]]
name = "two"
on = "status"
do = ["tag -a", "status closed", "assign bob"]

[[rule]]
name = "three"
on = "status"
do = ["assign bob", "tag +b"]
'''


def test_plan_is_in_file_order_the_later_rule_wins_and_no_ops_are_dropped():
    rules = parse_rules(ORDERED, Path("r.toml"), CHECKS).rules
    planned = plan(rules, Event("status", 7, T0), facts(tags=frozenset({"b"})))
    assert [(p.rule, p.says) for p in planned] == [
        ("one", "rule 'one' tagged +a -b"), ("one", "rule 'one' set status pending"),
        ("two", "rule 'two' tagged -a"), ("two", "rule 'two' set status closed"), ("two", "rule 'two' assigned bob"),
        ("three", "rule 'three' tagged +b")]
    assert plan(rules, Event("new", 7, T0), facts()) == [], "other events fire none of them"


def test_a_rule_never_fires_on_an_event_it_caused():
    rules = parse_rules(ORDERED, Path("r.toml"), CHECKS).rules
    # "one" set the status: the status event it raised fires the others, not "one"
    again = plan(rules, Event("status", 7, T0, caused_by=("one",)), facts(status="pending"))
    assert {p.rule for p in again} == {"two", "three"}
    # "two" then closes it: that event is caused by one and two; only three may fire, and it
    # has nothing left to do once bob has it
    assert plan(rules, Event("status", 7, T0, caused_by=("one", "two")), facts(status="closed", assignee="bob",
                                                                             tags=frozenset({"b"}))) == []
    # a chain stops after MAX_CHAIN links whatever the rules say
    assert plan(rules, Event("status", 7, T0, caused_by=("x", "y", "z")), facts()) == []


def test_schedule_rules_look_at_idle_time_and_store_terms_need_the_stores_answer():
    rules = parse_rules(SHOP, Path("rules.toml"), CHECKS).rules
    quiet = facts(status="pending", last_date=T0 - 4 * 86400, matched=frozenset({"pending too long"}))
    assert [p.says for p in plan(rules, Event("schedule", 7, T0), quiet)] == [
        "rule 'pending too long' set status closed", "rule 'pending too long' added a note"]
    recent = dataclasses.replace(quiet, last_date=T0 - 86400)
    assert plan(rules, Event("schedule", 7, T0), recent) == []
    not_matched = dataclasses.replace(quiet, matched=frozenset())
    assert plan(rules, Event("schedule", 7, T0), not_matched) == []


# -------------------------------------------------------------------------------- guards

DSN = b"""\
From: Mail Delivery System <MAILER-DAEMON@mx.shop.example>
To: support@helpdesk.test
Subject: Undelivered Mail Returned to Sender
Date: Mon, 02 Nov 2026 09:00:00 +0000
Message-ID: <dsn1@mx.shop.example>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.shop.example

Final-Recipient: rfc822; nobody@shop.example
Action: failed
Status: 5.1.1

--B--
"""

OUT_OF_OFFICE = b"""\
From: Ann <ann@shop.example>
To: support@helpdesk.test
Subject: Automatic reply: Your ticket [#12]
Date: Mon, 02 Nov 2026 09:00:00 +0000
Message-ID: <oof1@shop.example>
X-Auto-Response-Suppress: All
Content-Type: text/plain

I am out of the office until Monday.
"""


def header_mail(headers: str, sender: str = "Ann <ann@shop.example>", content_type: str = "text/plain") -> bytes:
    return (f"From: {sender}\r\nTo: support@helpdesk.test\r\nSubject: Hi\r\nMessage-ID: <g@t>\r\n"
            f"Date: Mon, 02 Nov 2026 09:00:00 +0000\r\n{headers}Content-Type: {content_type}\r\n\r\nHello\r\n"
            ).encode()


GUARDS = [
    (DSN, "Auto-Submitted: auto-replied"),
    (header_mail("", content_type='multipart/report; report-type=delivery-status; boundary="x"'),
     "a delivery report (multipart/report)"),
    (OUT_OF_OFFICE, "X-Auto-Response-Suppress: All"),
    (header_mail("Auto-Submitted: auto-generated\r\n"), "Auto-Submitted: auto-generated"),
    (header_mail("Precedence: bulk\r\n"), "Precedence: bulk"),
    (header_mail("Precedence: junk\r\n"), "Precedence: junk"),
    (header_mail("Precedence: list\r\n"), "Precedence: list"),
    (header_mail("List-Id: Shop news <news.shop.example>\r\n"), "List-Id: a mailing list"),
    (header_mail("List-Unsubscribe: <mailto:leave@shop.example>\r\n"), "List-Unsubscribe: a mailing list"),
    (header_mail("X-Autoreply: yes\r\n"), "X-Autoreply: an automatic mail"),
    (header_mail("Return-Path: <>\r\n"), "null sender (Return-Path: <>)"),
    (header_mail("", sender="undisclosed-recipients:;"), "no sender address"),
    (header_mail("", sender="Shop <noreply@shop.example>"), "sender noreply@shop.example is a machine"),
    (header_mail("", sender="postmaster@shop.example"), "sender postmaster@shop.example is a machine"),
    (header_mail("", sender="MAILER-DAEMON@shop.example"), "sender mailer-daemon@shop.example is a machine"),
    (header_mail("", sender="Support <support@helpdesk.test>"), "sender support@helpdesk.test is the desk's own address"),
]


@pytest.mark.parametrize("raw, reason", GUARDS)
def test_each_loop_guard_stops_an_automatic_reply(raw, reason):
    facts_ = message_facts(parse_message(raw), read_headers(raw))
    assert autoreply_block(facts_, own) == reason


def test_a_person_gets_an_answer():
    for headers in ("", "Auto-Submitted: no\r\n", "X-Auto-Response-Suppress: None\r\n", "Precedence: first-class\r\n"):
        raw = header_mail(headers)
        assert autoreply_block(message_facts(parse_message(raw), read_headers(raw)), own) is None, headers


def test_rate_limits_with_an_injected_clock():
    limits = AutoReplyConfig(customer_interval_minutes=180, conversation_interval_minutes=60, max_per_hour=3)
    now = T0 + 10 * 3600
    sent = [SentAutomatically(now - 2 * 3600, "Ann@Shop.example", 1)]
    assert rate_limit_block(sent, "ann@shop.example", 2, now, limits) == \
        "one automatic mail per 3h to ann@shop.example: the last went 2h ago"
    assert rate_limit_block(sent, "ann@shop.example", 2, now + 3600, limits) is None, "3 hours on: allowed"
    assert rate_limit_block(sent, "joe@shop.example", 1, now - 2 * 3600 + 59 * 60, limits) == \
        "one automatic mail per 1h in a conversation: the last went 59m ago"
    assert rate_limit_block(sent, "joe@shop.example", 1, now, limits) is None
    busy = [SentAutomatically(now - m * 60, f"c{m}@x.example", 100 + m) for m in (5, 20, 50)]
    assert rate_limit_block(busy, "new@x.example", 9, now, limits) == \
        "the desk's cap of 3 automatic mails an hour is reached"
    assert rate_limit_block(busy, "new@x.example", 9, now + 11 * 60, limits) is None, "the oldest left the hour"


# -------------------------------------------------------------------------------- the command line


def write_config(tmp_path: Path, rules: str, extra: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text('agent = "alice"\nteam = ["alice", "bob"]\nagent_addresses = ["*@helpdesk.test"]\n' + extra)
    (tmp_path / "rules.toml").write_text(rules)
    return config


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_rules_check(tmp_path, capsys):
    cli_rules = SHOP.replace("reply auto-ack", "reply refund-policy")  # a bundled snippet
    config = write_config(tmp_path, cli_rules)
    assert run(capsys, "--config", config, "rules", "check") == (0, f"{tmp_path / 'rules.toml'}: 3 rules OK\n", "")
    (tmp_path / "rules.toml").write_text(cli_rules.replace('"assign alice"', '"assign carol"'))
    code, out, _ = run(capsys, "--config", config, "rules", "check")
    assert code == 1
    assert out == f"{tmp_path / 'rules.toml'}:6: rule 'refunds to billing': 'assign carol': unknown agent 'carol' " \
                  "(agents: alice, bob)\n"
    other = tmp_path / "elsewhere.toml"
    other.write_text(cli_rules)
    config = write_config(tmp_path, "", extra='[rules]\nfile = "elsewhere.toml"\n')
    assert run(capsys, "--config", config, "rules", "check")[1] == f"{other}: 3 rules OK\n"
    other.unlink()
    code, out, _ = run(capsys, "--config", config, "rules", "check")
    assert code == 1 and "no such file" in out


async def _store_with_mail(db: Path, config: Config) -> dict[str, int]:
    d = await Desk.open(db, config, clock=lambda: T0 + 3600)
    try:
        return await add(d, mail("refund@t", subject="Refund please\x1b[31m"),
                         mail("news@t", sender="news@shop.example", headers={"Precedence": "bulk"}))
    finally:
        await d.close()


def test_rules_test_shows_what_would_fire_without_doing_it(tmp_path, capsys):
    import asyncio
    config = write_config(tmp_path, SHOP.replace("reply auto-ack", "reply refund-policy").replace(
        'if = "subject:refund"', 'if = "subject:refund"\n'), extra="")
    db = tmp_path / "d.db"
    ids = asyncio.run(_store_with_mail(db, Config(agent_addresses=("*@helpdesk.test",))))
    code, out, err = run(capsys, "--db", db, "--config", config, "rules", "test", ids["refund@t"])
    assert (code, err) == (0, "")
    assert out.splitlines() == ["rule 'refunds to billing' tagged +billing", "rule 'refunds to billing' assigned alice",
                                "rule 'acknowledge' replied with snippet 'refund-policy'"]
    code, out, _ = run(capsys, "--db", db, "--config", config, "rules", "test", ids["news@t"], "--json")
    assert json.loads(out) == {"conversation": ids["news@t"], "event": "new", "as_if": None, "matched": ["acknowledge"], "actions": [
        {"rule": "acknowledge", "action": "reply refund-policy", "says": "rule 'acknowledge' replied with snippet "
         "'refund-policy'", "held": "Precedence: bulk", "expected_wait": None}]}
    assert run(capsys, "--db", db, "--config", config, "rules", "test", ids["news@t"], "--on", "status")[1] == \
        f"no rule fires on conversation {ids['news@t']} on status\n"
    code, out, err = run(capsys, "--db", db, "--config", config, "rules", "test", 999)
    assert code == 2 and err == "tui-desk: no conversation 999\n"
    # nothing was done: no tag, no assignee
    code, out, _ = run(capsys, "--db", db, "show", ids["refund@t"], "--json")
    shown = json.loads(out)
    assert shown["tags"] == [] and shown["assignee"] is None


def test_rules_test_says_what_matched_when_nothing_is_left_to_do(tmp_path, capsys):
    """A rule that matches but whose actions are so already (the tag there, the agent assigned)
    is named, with nothing left to do, not "no rule fires"."""
    import asyncio
    config = write_config(tmp_path, SHOP.split("[[rule]]\nname = \"acknowledge\"")[0])
    db = tmp_path / "d.db"
    ids = asyncio.run(_store_with_mail(db, Config(agent_addresses=("*@helpdesk.test",))))
    refund = ids["refund@t"]
    assert run(capsys, "--db", db, "--config", config, "tag", refund, "+billing")[0] == 0
    assert run(capsys, "--db", db, "--config", config, "assign", refund, "alice")[0] == 0
    code, out, err = run(capsys, "--db", db, "--config", config, "rules", "test", refund)
    assert (code, err) == (0, "")
    assert out == (f"rule 'refunds to billing' matches conversation {refund} on new: nothing left to do "
                   "(what it does is done already)\n")
    code, out, _ = run(capsys, "--db", db, "--config", config, "rules", "test", refund, "--json")
    assert json.loads(out) == {"conversation": refund, "event": "new", "as_if": None, "matched": ["refunds to billing"],
                               "actions": []}
    assert run(capsys, "--db", db, "--config", config, "rules", "test", ids["news@t"])[1] == \
        f"no rule fires on conversation {ids['news@t']} on new\n"  # its subject is no refund


def test_the_readme_rules_file_is_a_valid_one(tmp_path, capsys):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = readme.split("\n## Rules\n")[1].split("```toml\n")[1].split("```")[0]
    config = write_config(tmp_path, block)
    code, out, _ = run(capsys, "--config", config, "rules", "check")
    assert (code, out) == (0, f"{tmp_path / 'rules.toml'}: 5 rules OK\n")


def test_what_check_prints_is_sanitized(tmp_path, capsys):
    config = write_config(tmp_path, '[[rule]]\nname = "evil\\u001b]0;owned\\u0007"\non = "new"\ndo = ["tagg +x"]\n')
    code, out, _ = run(capsys, "--config", config, "rules", "check")
    assert code == 1 and "unknown action 'tagg +x'" in out
    assert "\x1b" not in out and "\x07" not in out


async def test_a_batch_of_events_gets_the_same_facts_as_one_at_a_time(desk):
    from tui_desk.desk.rules.facts import gather_many
    ids = await add(desk, mail("b1@t", subject="Refund please", attachment=True),
                    mail("b2@t", sender="joe@other.example", subject="Question"),
                    mail("b3@t", sender="boss@vip.example", subject="Refund", headers={"X-Priority": "1"}))
    rules = parse_rules(RULES, Path("rules.toml"), CHECKS).rules
    events = [Event("new", ids[m], desk.now()) for m in ("b1@t", "b2@t", "b3@t")]
    events += [Event("customer-reply", ids["b3@t"], desk.now()), Event("new", 4242, desk.now())]
    batch = await gather_many(desk, rules, events)
    assert batch[:4] == [await gather(desk, rules, e) for e in events[:4]]
    assert batch[4] is None
    assert batch[0] is not None and batch[0].matched == {"refunds", "receipts", "shop customers"}
    assert batch[3] is not None and batch[3].matched == {"replies"}


async def test_each_event_of_a_batch_is_about_its_own_mail(desk):
    """The batch reads the mail of all its conversations at once: each event still gets the
    mail it names (only in its own conversation), else for new the customer's first and for
    customer-reply the latest; agents' mail and notes are never it; a status event has none."""
    from tui_desk.desk.rules.facts import gather_many
    ids = await add(desk, mail("t1@t", subject="Order", headers={"X-Tag": "first"}),
                    mail("t2@t", sender="Bob <bob@helpdesk.test>", subject="Re: Order", minutes=5, refs="t1@t"),
                    mail("t3@t", subject="Re: Order", minutes=9, refs="t2@t", headers={"X-Tag": "latest"}),
                    mail("u1@t", sender="Zoe <zoe@else.example>", subject="Other", minutes=2))
    conv, other = ids["t1@t"], ids["u1@t"]
    assert conv == ids["t3@t"] != other
    await desk.add_note(conv, "a note, never the mail an event is about")
    rules = parse_rules(RULES, Path("rules.toml"), CHECKS).rules
    events = [Event("new", conv, T0), Event("customer-reply", conv, T0), Event("customer-reply", conv, T0, "t1@t"),
              Event("new", other, T0), Event("new", conv, T0, "u1@t"), Event("status", conv, T0),
              Event("customer-reply", 4242, T0), Event("customer-reply", conv, T0, "t2@t")]
    got = await gather_many(desk, rules, events)
    about = [f.message.message_id if f is not None and f.message is not None else None for f in got]
    assert about == ["t1@t", "t3@t", "t1@t", "u1@t", None, None, None, "t2@t"]
    assert [f is None for f in got] == [False] * 6 + [True, False], "no conversation 4242: no facts"
    heads = [dict(f.message.headers).get("X-Tag") for f in got[:3] if f is not None and f.message is not None]
    assert heads == ["first", "latest", "first"]
    assert got[0] is not None and got[0].message is not None and got[0].message.sender == "ann@shop.example"
    assert got[0].message.date == T0
    assert got == [await gather(desk, rules, e) for e in events]


@pytest.mark.parametrize("extra, says", [
    ('[autoreply]\nmax_per_hourly = 3\n', "unknown key 'autoreply.max_per_hourly'"),
    ('[autoreply]\nmax_per_hour = -1\n', "key 'autoreply.max_per_hour' must be 0 or more"),
    ('[autoreply]\ncustomer_interval_minutes = "3h"\n', "key 'autoreply.customer_interval_minutes' must be a whole"),
    ('[rules]\npath = "x.toml"\n', "unknown key 'rules.path'"),
])
def test_the_config_keys_of_rules_are_checked(tmp_path, extra, says):
    from tui_desk.config import ConfigError, load_config
    config = write_config(tmp_path, "", extra=extra)
    with pytest.raises(ConfigError, match=says.replace("(", r"\(")):
        load_config(config)


def test_the_config_keys_of_rules_are_read(tmp_path):
    from tui_desk.config import load_config
    config = load_config(write_config(tmp_path, "", extra='[rules]\nfile = "r/rules.toml"\n[autoreply]\nmax_per_hour = 5\n'))
    assert config.rules_path() == tmp_path / "r" / "rules.toml"
    assert config.autoreply == AutoReplyConfig(max_per_hour=5)
    assert load_config(write_config(tmp_path, "")).rules_path() == tmp_path / "rules.toml"


def test_header_tests_read_decoded_values():
    raw = (b"From: ann@shop.example\r\nSubject: x\r\nX-Category: =?utf-8?q?R=C3=BCckerstattung?=\r\n"
           b"X-Folded: first\r\n second\r\n\r\nbody\r\n")
    assert read_headers(raw)[-2:] == [("X-Category", "Rückerstattung"), ("X-Folded", "first second")]
    rules = parse_rules('[[rule]]\nname = "de"\non = "new"\nif = "header:x-category:rückerst"\ndo = ["tag +de"]\n',
                        Path("r.toml"), CHECKS).rules
    message = message_facts(parse_message(raw), read_headers(raw))
    assert [p.says for p in plan(rules, Event("new", 7, T0), facts(message=message))] == ["rule 'de' tagged +de"]
    assert plan(rules, Event("new", 7, T0), facts()) == [], "no mail: no header"
