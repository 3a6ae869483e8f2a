"""Rules fired from the sync on the real Dovecot and SMTP sink (issue 16): on the right mail
only, exactly once across three agents' clients (claims on the server), an offline client
catching up, a client killed between claim and done, the loop guards against a second
auto-replying mailbox, and `tui-desk history ID` saying what a rule did."""

from __future__ import annotations

import asyncio
import dataclasses
import email
import json
import os
import signal
import subprocess
import sys
import textwrap
from email import policy
from pathlib import Path

import pytest

from tests.accounts import client, inbox_flags
from tests.clock import Clock
from tests.desk_clients import ACK, Agent, open_agent_client, snippet_home, support_account
from tests.mailfactory import BASE, make_mail, mail
from tui_desk.config import Config, ServerConfig
from tui_desk.desk.history import conversation_history
from tui_desk.desk.keywords import RULES_DONE
from tui_desk.desk.rules.fire import RulesRunner
from tui_desk.desk.rules.load import checks_for, load_rules
from tui_desk.desk.service import Desk
from tui_desk.store import outbox
from tui_desk.store.queries import conversation_states, thread_message_ids

NOW = BASE.timestamp() + 3600  # an hour after make_mail's mail (minutes=0)

RULES = """
[[rule]]
name = "refunds to billing"
on = "new"
if = "subject:refund"
do = ["tag +billing"]

[[rule]]
name = "ack"
on = "new"
do = ["reply auto-ack"]
"""


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """XDG config home with the acknowledgement snippet."""
    return snippet_home(tmp_path, monkeypatch, {"auto-ack": ACK})


async def open_agent(home: Path, name: str, dovecot, user: str, smtp_sink, clock: Clock,
                     rules: str = RULES, horizon: int | None = None) -> Agent:
    config = Config(agent=name, agent_addresses=("*@helpdesk.test",), team=("alice", "bob", "carol"),
                    accounts=(support_account(dovecot, user, smtp_sink),))
    path = home / f"{name}-rules.toml"
    path.write_text(rules, encoding="utf-8")

    def runner(desk: Desk) -> RulesRunner:
        checks = checks_for(config.team, [s.name for s in desk.snippets()], config.is_agent_address)
        return RulesRunner(desk, load_rules(path, checks), horizon=horizon)
    return await open_agent_client(home / f"{name}.db", config, dovecot, user, clock, runner)


def claims(flags: set[str]) -> list[str]:
    return sorted(f for f in flags if f.lower().startswith("td:rules:"))


def acks_to(smtp_sink, address: str) -> list[email.message.EmailMessage]:
    out = []
    for m in smtp_sink.messages:
        if address in m.rcpt_tos:
            parsed = email.message_from_bytes(m.data, policy=policy.default)
            out.append(parsed)
    return out


async def conv_of(desk: Desk, message_id: str) -> int:
    return next(c for c, ids in (await thread_message_ids(desk.store)).items() if message_id in ids)


async def rule_lines(desk: Desk, message_id: str) -> list[str]:
    return [h.text for h in await conversation_history(desk, await conv_of(desk, message_id)) if h.kind == "rule"]


async def close(*agents: Agent) -> None:
    for a in agents:
        await a.desk.close()


async def test_a_rule_fires_on_the_right_mail_only(home, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    dovecot.load_maildir(mail_user, [
        make_mail("refund@t", subject="Refund for order 7", sender="Ann Lee <ann@c.test>"),
        make_mail("hello@t", subject="Where is my parcel", sender="Bo <bo@d.test>", minutes=1),
        make_mail("old@t", subject="Refund, long ago", sender="Cy <cy@e.test>", minutes=-3 * 24 * 60)])
    alice = await open_agent(home, "alice", dovecot, mail_user, smtp_sink, Clock_at(NOW))
    await alice.round()

    refund, hello = await conv_of(alice.desk, "refund@t"), await conv_of(alice.desk, "hello@t")
    states = await conversation_states(alice.desk.store, [refund, hello, await conv_of(alice.desk, "old@t")])
    assert [set(s.tags) for s in states.values()] == [{"billing"}, set(), set()]
    assert await rule_lines(alice.desk, "refund@t") == [
        "rule 'refunds to billing' tagged +billing", "rule 'ack' replied with snippet 'auto-ack'"]
    assert await rule_lines(alice.desk, "hello@t") == ["rule 'ack' replied with snippet 'auto-ack'"]
    assert await rule_lines(alice.desk, "old@t") == []  # older than the horizon: never run on

    on_server = inbox_flags(dovecot, mail_user)
    assert claims(on_server["refund@t"]) == ["td:rules:alice"] and RULES_DONE in on_server["refund@t"]
    assert "td:tag:billing" in on_server["refund@t"]
    assert claims(on_server["old@t"]) == [] and RULES_DONE not in on_server["old@t"]

    ack = acks_to(smtp_sink, "ann@c.test")
    assert len(ack) == 1
    assert ack[0]["Auto-Submitted"] == "auto-replied"
    assert ack[0]["In-Reply-To"] == "<refund@t>" and "<refund@t>" in ack[0]["References"]
    assert "Hi Ann, we have your mail (Refund for order 7)." in ack[0].get_body(("plain",)).get_content()
    # an automatic reply, never an agent's: the history says so and the first response waits
    history = await conversation_history(alice.desk, refund)
    assert "reply" not in [h.kind for h in history]
    # one line for the rule and the automatic reply it sent (the `autoreply` event is said by it)
    assert [h.text for h in history if h.kind in ("rule", "autoreply")][-1] == "rule 'ack' replied with snippet 'auto-ack'"
    await alice.round()  # a second pass runs nothing again
    assert len(acks_to(smtp_sink, "ann@c.test")) == 1
    assert await rule_lines(alice.desk, "refund@t") == [
        "rule 'refunds to billing' tagged +billing", "rule 'ack' replied with snippet 'auto-ack'"]
    await close(alice)


def Clock_at(at: float) -> Clock:
    clock = Clock()
    clock.now = at
    return clock


async def test_three_clients_fire_each_rule_once_per_new_mail(home, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    dovecot.load_maildir(mail_user, [make_mail("seed@t", sender="zed@z.test", minutes=-5 * 24 * 60)])
    clock = Clock_at(NOW)
    team = [await open_agent(home, n, dovecot, mail_user, smtp_sink, clock) for n in ("alice", "bob", "carol")]
    for a in team:
        await a.round()
    customers = [f"c{i}@shop{i}.test" for i in range(6)]
    for i, who in enumerate(customers):
        dovecot.deliver(mail_user, make_mail(f"n{i}@t", subject=f"Refund {i}" if i % 2 == 0 else f"Question {i}",
                                             sender=who, minutes=10 + i))
    await asyncio.gather(*(a.sync.sync_once() for a in team))  # all three at once on the same mail
    for a in team:
        await a.sender.run_due()
    for _ in range(2):  # everyone hears of everything (keywords, the History folder)
        for a in team:
            await a.round()

    on_server = inbox_flags(dovecot, mail_user)
    for i, who in enumerate(customers):
        flags = on_server[f"n{i}@t"]
        assert len(claims(flags)) == 1 and RULES_DONE in flags, flags
        assert len(acks_to(smtp_sink, who)) == 1, who
        expected = (["rule 'refunds to billing' tagged +billing"] if i % 2 == 0 else []) + [
            "rule 'ack' replied with snippet 'auto-ack'"]
        for a in team:  # the one client's rule events reached the others through History
            assert await rule_lines(a.desk, f"n{i}@t") == expected, (a.name, i)
            cid = await conv_of(a.desk, f"n{i}@t")
            tags = set((await conversation_states(a.desk.store, [cid]))[cid].tags)
            assert tags == ({"billing"} if i % 2 == 0 else set())
    assert sum(a.runner.claimed for a in team) == len(customers)
    await close(*team)


async def test_an_offline_client_catches_up_without_firing_twice(home, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    dovecot.load_maildir(mail_user, [make_mail("first@t", sender="ann@c.test", subject="Refund please")])
    clock = Clock_at(NOW)
    alice, bob, carol = [await open_agent(home, n, dovecot, mail_user, smtp_sink, clock)
                         for n in ("alice", "bob", "carol")]
    await alice.round()  # alice fires on the first mail while bob and carol are away
    dovecot.deliver(mail_user, make_mail("second@t", sender="bo@d.test", subject="Refund two", minutes=5))
    # everybody away when the second arrives; carol is back first and catches up
    await carol.round()
    await bob.round()
    await alice.round()
    await carol.round()
    on_server = inbox_flags(dovecot, mail_user)
    assert claims(on_server["first@t"]) == ["td:rules:alice"]
    assert claims(on_server["second@t"]) == ["td:rules:carol"]
    assert len(acks_to(smtp_sink, "ann@c.test")) == 1 and len(acks_to(smtp_sink, "bo@d.test")) == 1
    for a in (alice, bob, carol):
        assert await rule_lines(a.desk, "first@t") == [
            "rule 'refunds to billing' tagged +billing", "rule 'ack' replied with snippet 'auto-ack'"]
        assert await rule_lines(a.desk, "second@t") == [
            "rule 'refunds to billing' tagged +billing", "rule 'ack' replied with snippet 'auto-ack'"]
    assert (alice.runner.claimed, bob.runner.claimed, carol.runner.claimed) == (1, 0, 1)
    await close(alice, bob, carol)


CRASH = """
import asyncio, json, os, signal, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from tests.test_rules_fire import crash_child
if __name__ == "__main__":  # the parse workers are spawned: they import this file again
    asyncio.run(crash_child(json.loads(sys.argv[1])))
"""


async def crash_child(args: dict) -> None:
    """A client killed (SIGKILL) after it claimed and acted, before `td:rules-done`: run in a
    child process by the test below."""
    from tui_desk.sync import claims

    async def killed(*_a, **_k):
        os.kill(os.getpid(), signal.SIGKILL)
    claims.ClaimSession.done = killed  # type: ignore[method-assign]  # the kill point under test

    class Server:
        imap_port, ca_file = args["port"], Path(args["ca"])

        def password_of(self, _user: str) -> str:
            return args["password"]

    class Sink:
        port = args["smtp"]
    agent = await open_agent(Path(args["home"]), "alice", Server(), args["user"], Sink(), Clock_at(NOW))
    await agent.round()


async def test_a_client_killed_between_claim_and_done_completes_once_on_restart(home, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    dovecot.load_maildir(mail_user, [make_mail("crash@t", sender="ann@c.test", subject="Refund now")])
    script = home / "crash.py"
    script.write_text(textwrap.dedent(CRASH.format(root=str(Path(__file__).parent.parent))), encoding="utf-8")
    with open(home / "child.log", "wb") as log:
        child = subprocess.run(
            [sys.executable, str(script), json.dumps({
                "port": dovecot.imap_port, "ca": str(dovecot.ca_file), "password": dovecot.password_of(mail_user),
                "smtp": smtp_sink.port, "home": str(home), "user": mail_user})],
            # into a file, not a pipe: the killed child's parse workers may hold a pipe open a while
            stdout=log, stderr=subprocess.STDOUT, timeout=120,
            env={**os.environ, "XDG_CONFIG_HOME": str(home / "xdg")})
    assert child.returncode == -signal.SIGKILL, (home / "child.log").read_text()[-2000:]
    flags = inbox_flags(dovecot, mail_user)["crash@t"]
    assert claims(flags) == ["td:rules:alice"] and RULES_DONE not in flags  # claimed, not done

    clock = Clock_at(NOW)
    alice = await open_agent(home, "alice", dovecot, mail_user, smtp_sink, clock)  # the restart
    bob = await open_agent(home, "bob", dovecot, mail_user, smtp_sink, clock)
    await bob.round()  # alice's claim is there: bob leaves it
    await alice.round()
    await alice.round()
    await bob.round()
    flags = inbox_flags(dovecot, mail_user)["crash@t"]
    assert claims(flags) == ["td:rules:alice"] and RULES_DONE in flags
    assert len(acks_to(smtp_sink, "ann@c.test")) == 1
    for a in (alice, bob):
        assert await rule_lines(a.desk, "crash@t") == [
            "rule 'refunds to billing' tagged +billing", "rule 'ack' replied with snippet 'auto-ack'"]
    assert len(await outbox.items(alice.desk.store)) == 0
    await close(alice, bob)


LOOP_RULES = RULES + """
[[rule]]
name = "ack replies"
on = "customer-reply"
do = ["reply auto-ack"]
"""


async def run_loop(desk_agent: Agent, dovecot, user: str, smtp_sink, bot: str, bot_reply, rounds: int = 6) -> int:
    """The desk and an autoresponder at `bot` answering each other: each round the desk syncs
    (its rules fire) and sends, then the bot answers what it got (bot_reply(mail) -> raw or
    None). Returns how many mails the desk sent the bot."""
    answered = 0
    for _ in range(rounds):
        await desk_agent.round()
        got = acks_to(smtp_sink, bot)
        for m in got[answered:]:
            raw = bot_reply(m)
            if raw is not None:
                dovecot.deliver(user, raw, sender=bot)
        answered = len(got)
    return answered


def bot_mail(m, n: list[int], headers: str) -> bytes:
    n[0] += 1
    return mail(f"From: Robot <robot@bots.test>\nTo: {m['From']}\nSubject: Re: {m['Subject']}\n"
                f"Message-ID: <bot{n[0]}@bots.test>\nIn-Reply-To: {m['Message-ID']}\n"
                f"References: {m['References']} {m['Message-ID']}\n"
                f"Date: Mon, 02 Nov 2026 09:{10 + n[0]:02d}:00 +0000\n{headers}",
                "I am away until Monday.\n")


@pytest.mark.parametrize("robot", ["honours Auto-Submitted", "marks its answers", "plain answers"])
async def test_a_mail_loop_with_an_autoresponder_stops(home, dovecot, mail_user, smtp_sink, robot):
    """The desk acknowledges a robot's mail and acknowledges customer replies too: a loop if
    nothing stopped it. A robot that honours the ack's Auto-Submitted does not answer; one that
    answers marked Auto-Submitted is stopped by the desk's guard; one that answers like a person
    is stopped by the rate limit (one automatic mail per customer per 3 hours)."""
    smtp_sink.clear()
    dovecot.load_maildir(mail_user, [mail(
        "From: Robot <robot@bots.test>\nTo: support@helpdesk.test\nSubject: Question\n"
        "Message-ID: <loop@t>\nDate: Mon, 02 Nov 2026 09:00:00 +0000", "Hello?\n")])
    alice = await open_agent(home, "alice", dovecot, mail_user, smtp_sink, Clock_at(NOW), rules=LOOP_RULES)
    n = [0]

    def answer(m):
        assert m["Auto-Submitted"] == "auto-replied"  # every automatic mail of the desk says so
        if robot == "honours Auto-Submitted":
            return None
        return bot_mail(m, n, "Auto-Submitted: auto-replied" if robot == "marks its answers" else "")
    assert await run_loop(alice, dovecot, mail_user, smtp_sink, "robot@bots.test", answer) == 1
    lines = await rule_lines(alice.desk, "loop@t")
    assert lines[0] == "rule 'ack' replied with snippet 'auto-ack'"
    if robot == "honours Auto-Submitted":
        assert (n[0], lines[1:]) == (0, [])
    elif robot == "marks its answers":
        assert (n[0], lines[1:]) == (1, ["rule 'ack replies' held its reply: Auto-Submitted: auto-replied"])
    else:
        assert n[0] == 1 and len(lines) == 2, lines
        assert lines[1].startswith("rule 'ack replies' held its reply: one automatic mail per 3"), lines
    await close(alice)


async def test_bulk_and_list_mail_get_no_automatic_reply(home, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    dovecot.load_maildir(mail_user, [
        mail("From: News <news@shop.test>\nTo: support@helpdesk.test\nSubject: Refund offers\n"
             "Message-ID: <bulk@t>\nPrecedence: bulk\nDate: Mon, 02 Nov 2026 09:00:00 +0000"),
        mail("From: List <list@lists.test>\nTo: support@helpdesk.test\nSubject: Digest\n"
             "Message-ID: <list@t>\nList-Id: <digest.lists.test>\nDate: Mon, 02 Nov 2026 09:01:00 +0000")])
    alice = await open_agent(home, "alice", dovecot, mail_user, smtp_sink, Clock_at(NOW))
    await alice.round()
    assert await rule_lines(alice.desk, "bulk@t") == [
        "rule 'refunds to billing' tagged +billing", "rule 'ack' held its reply: Precedence: bulk"]
    assert await rule_lines(alice.desk, "list@t") == ["rule 'ack' held its reply: List-Id: a mailing list"]
    assert smtp_sink.messages == []
    await close(alice)


async def test_status_rules_fire_from_the_command_path_without_loops(home, dovecot, mail_user, smtp_sink):
    from tui_desk.desk import commands
    dovecot.load_maildir(mail_user, [make_mail("st@t", sender="ann@c.test", subject="Hello")])
    rules = """
[[rule]]
name = "closed means done"
on = "status"
if = "status:closed"
do = ["tag +done"]

[[rule]]
name = "pending reopens"
on = "status"
if = "status:pending"
do = ["status open"]

[[rule]]
name = "open goes pending"
on = "status"
if = "status:open"
do = ["status pending"]
"""
    alice = await open_agent(home, "alice", dovecot, mail_user, smtp_sink, Clock_at(NOW), rules=rules)
    await alice.round()
    cid = await conv_of(alice.desk, "st@t")
    await commands.set_status(alice.desk, [cid], "closed")
    assert await rule_lines(alice.desk, "st@t") == ["rule 'closed means done' tagged +done"]
    assert len(alice.desk.undo_stack) == 1  # the agent's close; the rule's tag is not theirs to undo
    # two rules that undo each other: each fires once on the agent's change, then it stops
    await commands.set_status(alice.desk, [cid], "pending")
    assert (await rule_lines(alice.desk, "st@t"))[1:] == [
        "rule 'pending reopens' set status open", "rule 'open goes pending' set status pending"]
    assert (await conversation_states(alice.desk.store, [cid]))[cid].status == "pending"
    await close(alice)


async def test_tui_desk_history_shows_what_a_rule_did(home, dovecot, mail_user, smtp_sink):
    dovecot.load_maildir(mail_user, [make_mail("h@t", sender="ann@c.test", subject="Refund please")])
    alice = await open_agent(home, "alice", dovecot, mail_user, smtp_sink, Clock_at(NOW))
    await alice.round()
    cid = await conv_of(alice.desk, "h@t")
    await alice.desk.close()
    shown = subprocess.run([sys.executable, "-m", "tui_desk", "--db", str(home / "alice.db"), "history", str(cid)],
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "rule 'refunds to billing' tagged +billing" in shown.stdout
    # the rule's tag event reads once, as the rule's line (desk.history.rules_own)
    assert "tagged +billing" not in shown.stdout.replace("rule 'refunds to billing' tagged +billing", ""), shown.stdout


def test_the_horizon_is_a_config_key(tmp_path):
    from tui_desk.config import ConfigError, load_config
    cfg = tmp_path / "config.toml"
    cfg.write_text('[rules]\nhorizon_hours = 72\n', encoding="utf-8")
    config = load_config(cfg)
    assert (config.rules_horizon_hours, config.rules_file) == (72, None)
    cfg.write_text('[rules]\nhorizon_hours = -1\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="'rules.horizon_hours' must be 0 or more"):
        load_config(cfg)
    assert load_config(tmp_path / "none.toml").rules_horizon_hours == 24


async def test_every_action_kind_and_a_second_pass_adds_nothing(home, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    dovecot.load_maildir(mail_user, [make_mail("inv@t", sender="ann@c.test", subject="Invoice 12")])
    rules = """
[[rule]]
name = "route"
on = "new"
if = "subject:invoice"
do = ["assign bob", "snooze 2h", "note sent to the books", "forward books@partner.test", "priority +1"]
"""
    alice = await open_agent(home, "alice", dovecot, mail_user, smtp_sink, Clock_at(NOW), rules=rules)
    for _ in range(3):
        await alice.round()
    assert await rule_lines(alice.desk, "inv@t") == [
        "rule 'route' assigned bob", "rule 'route' snoozed 2h", "rule 'route' added a note",
        "rule 'route' forwarded to books@partner.test",
        "rule 'route' left the priority as it is (priority +1): the desk keeps no priority boost"]
    cid = await conv_of(alice.desk, "inv@t")
    state = (await conversation_states(alice.desk.store, [cid]))[cid]
    assert (state.assignee, state.snooze_until) == ("bob", int(NOW) + 7200)
    notes = [m for m in await alice.desk.store.fetchall("SELECT body FROM messages WHERE is_note = 1")]
    assert [n[0].strip() for n in notes] == ["sent to the books"]
    forwarded = acks_to(smtp_sink, "books@partner.test")
    assert len(forwarded) == 1 and forwarded[0]["Auto-Submitted"] == "auto-generated"
    assert alice.desk.undo_stack == []
    await close(alice)


async def test_a_claim_on_a_stale_view_loses_to_the_first(home, dovecot, mail_user, smtp_sink):
    """Two clients saw the mail at one MODSEQ. The first claim wins; the second STORE is
    answered MODIFIED, the flags read again show the winner's claim: the second client leaves
    it. A teammate's unrelated keyword in between only makes a claim read again and retry."""
    from tui_desk.desk.keywords import RULES_CLAIM, rules_claim_keyword
    from tui_desk.sync.claims import ClaimKeywords, ClaimSession
    dovecot.load_maildir(mail_user, [make_mail("race@t", sender="ann@c.test"),
                                     make_mail("race2@t", sender="bo@d.test", minutes=1)])
    clock = Clock_at(NOW)
    alice, bob = [await open_agent(home, n, dovecot, mail_user, smtp_sink, clock, rules="") for n in ("alice", "bob")]
    for a in (alice, bob):
        await a.sync.sync_once()  # both mirrors: the mail and its MODSEQ, no claims
    keys = {a.name: ClaimKeywords(rules_claim_keyword(a.name), RULES_CLAIM, RULES_DONE) for a in (alice, bob)}
    conns = [await a.sync.connect() for a in (alice, bob)]
    try:
        sessions = [ClaimSession(a.desk.store, "support", c) for a, c in zip((alice, bob), conns)]
        seen = {a.name: {c.message_id: c for c in await s.copies(int(NOW) - 86400)} for a, s in zip((alice, bob), sessions)}
        assert seen["alice"]["race@t"].modseq == seen["bob"]["race@t"].modseq
        assert await sessions[0].claim(seen["alice"]["race@t"], keys["alice"])
        assert not await sessions[1].claim(seen["bob"]["race@t"], keys["bob"])  # MODIFIED, then alice's claim
        assert claims(inbox_flags(dovecot, mail_user)["race@t"]) == ["td:rules:alice"]
        # a teammate tags the second mail after both looked: the claim retries and wins
        c = client(dovecot, mail_user)
        c.select("INBOX")
        _, found = c.uid("SEARCH", "HEADER", "Message-ID", "race2@t")
        c.uid("STORE", found[0].decode(), "+FLAGS", "(td:tag:vip)")
        c.logout()
        assert await sessions[1].claim(seen["bob"]["race2@t"], keys["bob"])
        assert not await sessions[0].claim(seen["alice"]["race2@t"], keys["alice"])
        flags = inbox_flags(dovecot, mail_user)["race2@t"]
        assert claims(flags) == ["td:rules:bob"] and "td:tag:vip" in flags
    finally:
        for c in conns:
            await c.logout()
    await close(alice, bob)


def test_background_runs_the_rules_file_and_names_a_broken_one(home, tmp_path):
    from tui_desk.desk.background import Background
    account = dataclasses.replace(account_for_none(), name="support")
    rules = tmp_path / "r.toml"
    rules.write_text(RULES, encoding="utf-8")
    config = Config(agent="alice", agent_addresses=("*@helpdesk.test",), accounts=(account,), rules_file=rules)

    async def check() -> None:
        desk = await Desk.open(tmp_path / "b.db", config)
        background = Background(desk)
        await background.load_rules()  # before the first pass: run() and `sync --once` do it
        assert background.rules is not None and desk.rules is not None
        assert all(s.after_pass == background.rules.after_pass for s in background.syncs)
        rules.write_text('[[rule]]\nname = "x"\non = "new"\ndo = ["reply no-such-snippet"]\n', encoding="utf-8")
        desk.rules = None
        broken = Background(desk)
        await broken.load_rules()
        assert broken.rules is None and all(s.after_pass is None for s in broken.syncs)
        assert "rules not run:" in broken.trouble() and "no-such-snippet" in broken.trouble()
        await desk.close()
    asyncio.run(check())


def account_for_none():
    from tui_desk.config import AccountConfig
    return AccountConfig(name="support", address="support@helpdesk.test",
                         imap=ServerConfig("127.0.0.1", 1, "starttls", "support"))
