"""Incident mode (issue 16, plan A / plan B) on the real Dovecot and SMTP sink: an incident
started on one client reaches another through the History folder; that client acknowledges
matching new mail with the incident's snippet only (other mail gets the normal rule's reply);
resolving sends the "fixed" mail once per conversation, after the undo window, also when two
clients resolve at once or one runs again; `incident resolve --dry-run` lists who gets what.
Time is an injected clock."""

from __future__ import annotations

import asyncio
import dataclasses
import email
import json
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest

from tests.accounts import inbox_flags, write_config
from tests.clock import Clock
from tests.desk_clients import ACK, Agent, open_agent_client, snippet_home, support_account
from tests.mailfactory import BASE, make_mail, mail
from tui_desk.config import Config, ServerConfig
from tui_desk.desk import per_customer
from tui_desk.desk.incident import fixed as incident_fixed, record as incident
from tui_desk.desk.commands import CommandError
from tui_desk.desk.history import conversation_history
from tui_desk.desk.rules.fire import RulesRunner
from tui_desk.desk.rules.load import checks_for, load_rules
from tui_desk.desk.service import Desk
from tui_desk.store import events as store_events, outbox
from tui_desk.store.queries import conversation_states, thread_message_ids
from tui_desk.sync.delivery import OutboxSender

NOW = BASE.timestamp()  # the incident starts now; the new mail comes in the minutes after
RULES = """
[[rule]]
name = "ack"
on = "new"
do = ["reply auto-ack"]
"""


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    return snippet_home(tmp_path, monkeypatch, {"auto-ack": ACK})


async def open_agent(home: Path, name: str, dovecot, user: str, smtp_sink, clock: Clock) -> Agent:
    config = Config(agent=name, agent_addresses=("*@helpdesk.test",), team=("alice", "bob"),
                    accounts=(support_account(dovecot, user, smtp_sink),))
    path = home / f"{name}-rules.toml"
    path.write_text(RULES, encoding="utf-8")

    def runner(desk: Desk) -> RulesRunner:
        return RulesRunner(desk, load_rules(path, checks_for(config.team, [s.name for s in desk.snippets()],
                                                              config.is_agent_address)))
    return await open_agent_client(home / f"{name}.db", config, dovecot, user, clock, runner)


def mails_to(smtp_sink, address: str) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(m.data, policy=policy.default) for m in smtp_sink.messages
            if address in m.rcpt_tos]


def text_of(m: email.message.EmailMessage) -> str:
    return m.get_body(("plain",)).get_content()


async def conv_of(desk: Desk, message_id: str) -> int:
    return next(c for c, ids in (await thread_message_ids(desk.store)).items() if message_id in ids)


async def tags_of(desk: Desk, message_id: str) -> set[str]:
    cid = await conv_of(desk, message_id)
    return set((await conversation_states(desk.store, [cid]))[cid].tags)


async def lines_of(desk: Desk, message_id: str) -> list[str]:
    return [h.text for h in await conversation_history(desk, await conv_of(desk, message_id)) if h.kind == "rule"]


PAYMENT = {"pay1@t": "ann@c.test", "pay2@t": "bo@d.test"}  # matching the incident
OTHER = {"parcel@t": "cy@e.test"}


async def started_team(home, dovecot, user, smtp_sink, clock) -> tuple[Agent, Agent]:
    """alice starts "Payments failing" and syncs; bob alone then sees the new mail."""
    dovecot.load_maildir(user, [make_mail("seed@t", sender="zed@z.test", minutes=-5 * 24 * 60)])
    alice = await open_agent(home, "alice", dovecot, user, smtp_sink, clock)
    bob = await open_agent(home, "bob", dovecot, user, smtp_sink, clock)
    for a in (alice, bob):
        await a.round()
    found, started = await incident.start(alice.desk, "Payments failing", "subject:payment")
    assert started and found.name == "payments-failing" and found.tag == "incident-payments-failing"
    await alice.round()  # the start event goes to the History folder
    for i, (mid, who) in enumerate(PAYMENT.items()):
        dovecot.deliver(user, make_mail(mid, subject=f"Payment failed at checkout {i}", sender=who, minutes=10 + i))
    for mid, who in OTHER.items():
        dovecot.deliver(user, make_mail(mid, subject="Where is my parcel", sender=who, minutes=20))
    # about payments too, but from an hour before the start: the normal path (the agents answer it)
    dovecot.deliver(user, make_mail("payold@t", subject="Payment question", sender="eve@g.test", minutes=-60))
    dovecot.deliver(user, mail("From: News <news@list.test>\nTo: support@helpdesk.test\nSubject: Payment news\n"
                               "Message-ID: <bulk@t>\nPrecedence: bulk\nDate: Mon, 02 Nov 2026 09:30:00 +0000"))
    await bob.round()  # bob's client is the one that sees the new mail first
    return alice, bob


async def test_an_incident_started_on_one_client_is_acknowledged_by_another(home, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    clock = Clock(NOW)
    alice, bob = await started_team(home, dovecot, mail_user, smtp_sink, clock)
    assert [i.title for i in await incident.active(bob.desk)] == ["Payments failing"]  # through History
    assert bob.runner.claimed == 5 and alice.runner.claimed == 0
    await alice.round()
    for mid, who in PAYMENT.items():
        got = mails_to(smtp_sink, who)
        assert len(got) == 1, who  # plan A only: the rule's acknowledgement is left out
        assert "We know about it" in text_of(got[0]) and "Payments failing" in text_of(got[0]), text_of(got[0])
        assert "we have your mail" not in text_of(got[0])
        assert got[0]["Auto-Submitted"] == "auto-replied" and got[0]["In-Reply-To"] == f"<{mid}>"
        for a in (alice, bob):  # the tags reach the other client through the keywords
            assert await tags_of(a.desk, mid) == {"incident", "incident-payments-failing"}, a.name
        assert await lines_of(alice.desk, mid) == [
            "incident 'Payments failing' tagged +incident +incident-payments-failing",
            "incident 'Payments failing' replied with snippet 'incident-ack'"]
    for mid, who in {**OTHER, "payold@t": "eve@g.test"}.items():  # the normal path
        got = mails_to(smtp_sink, who)
        assert len(got) == 1 and "we have your mail (" in text_of(got[0])
        assert await tags_of(bob.desk, mid) == set()
        assert await lines_of(bob.desk, mid) == ["rule 'ack' replied with snippet 'auto-ack'"]
    # the loop guards hold for plan A too: list mail is tagged, never answered
    assert mails_to(smtp_sink, "news@list.test") == []
    assert await lines_of(bob.desk, "bulk@t") == [
        "incident 'Payments failing' tagged +incident +incident-payments-failing",
        "incident 'Payments failing' held its acknowledgement: Precedence: bulk"]
    await alice.desk.close()
    await bob.desk.close()


async def test_resolve_sends_plan_b_once_per_conversation_when_two_clients_resolve(home, dovecot, mail_user,
                                                                                   smtp_sink):
    smtp_sink.clear()
    clock = Clock(NOW)
    alice, bob = await started_team(home, dovecot, mail_user, smtp_sink, clock)
    await alice.round()
    sent_before = len(smtp_sink.messages)
    # both resolve before hearing of the other: bob first, but alice's client syncs first and
    # sends plan B; bob's then learns that the team's resolution is his (the earlier one) and
    # tries too: the server's claims stop it
    for a in (bob, alice):
        resolved = await incident.resolve(a.desk, "payments failing")
        assert not resolved.active and resolved.resolved_by == a.name
    await alice.sync.sync_once()
    await bob.sync.sync_once()
    assert (await incident.incidents(bob.desk))[0].resolved_by == "bob"
    assert await incident_fixed.pending_fixes(bob.desk, bob.sync.account.name) == []  # it ran
    for a in (alice, bob):
        await a.sender.run_due()
    assert len(smtp_sink.messages) == sent_before  # the undo window: nothing left yet
    assert await outbox.items(bob.desk.store) == []
    queued = await outbox.items(alice.desk.store)
    assert sorted(r for i in queued for r in i.recipients) == sorted(PAYMENT.values())  # one each
    await asyncio.gather(alice.sync.sync_once(), bob.sync.sync_once())  # and at once: nothing more
    assert len(await outbox.items(alice.desk.store)) == 2 and await outbox.items(bob.desk.store) == []
    clock.now += 60
    for _ in range(2):
        for a in (alice, bob):
            await a.round()
    for mid, who in PAYMENT.items():
        got = mails_to(smtp_sink, who)
        assert len(got) == 2, who  # plan A, then plan B once
        fixed = text_of(got[1])
        assert "Payments failing" in fixed and "is fixed" in fixed
        assert got[1]["Auto-Submitted"] == "auto-replied" and got[1]["In-Reply-To"] == f"<{mid}>"
        flags = inbox_flags(dovecot, mail_user)[mid]
        code = incident.round_code((await incident.incidents(alice.desk))[0])  # the round's marks
        assert f"td:incident-done:payments-failing.{code}" in flags
        assert len([f for f in flags if f.startswith(f"td:incident:payments-failing.{code}.")]) == 1, flags
        for a in (alice, bob):
            kinds = [h.kind for h in await conversation_history(a.desk, await conv_of(a.desk, mid))]
            assert "reply" not in kinds and "autoreply" not in kinds  # never an agent's reply; the rule lines say both
            says = await lines_of(a.desk, mid)
            assert any("replied with snippet 'incident-ack'" in line for line in says), says
            assert any("resolved: replied with snippet 'incident-fixed'" in line for line in says), says
    assert len(mails_to(smtp_sink, "cy@e.test")) == 1  # not of the incident: no plan B
    assert mails_to(smtp_sink, "news@list.test") == []
    # the incident is over for the team: a new payment mail takes the normal path
    assert await incident.active(alice.desk) == [] and await incident.active(bob.desk) == []
    dovecot.deliver(mail_user, make_mail("pay3@t", subject="Payment failed again", sender="dee@f.test", minutes=40))
    await bob.round()
    got = mails_to(smtp_sink, "dee@f.test")
    assert len(got) == 1 and "we have your mail" in text_of(got[0])
    # a client that runs the resolution again (its progress lost: a crash) sends nothing more;
    # the team agrees on one resolution (the earliest), whose agent's client does it
    for a in (alice, bob):
        for key, in await a.desk.store.fetchall("SELECT key FROM meta WHERE key LIKE 'incident:%'"):
            async with a.desk.store.transaction():
                await a.desk.store.set_meta(key, "")
    assert {(await incident.incidents(a.desk))[0].resolved_by for a in (alice, bob)} == {"bob"}
    assert [a.name for a in (alice, bob) if await incident_fixed.pending_fixes(a.desk, a.sync.account.name)] == ["bob"]
    clock.now += 60
    before = len(smtp_sink.messages)
    for a in (alice, bob):
        await a.round()
    clock.now += 60
    for a in (alice, bob):
        await a.round()
    assert len(smtp_sink.messages) == before
    await alice.desk.close()
    await bob.desk.close()


async def test_plan_b_waits_the_undo_window_and_can_be_cancelled_and_closes(home, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    clock = Clock(NOW)
    alice, bob = await started_team(home, dovecot, mail_user, smtp_sink, clock)
    await alice.round()
    await incident.resolve(alice.desk, close=True)
    await alice.round()
    items = sorted(await outbox.items(alice.desk.store), key=lambda i: i.send_at)
    assert [i.recipients for i in items] == [["ann@c.test"], ["bo@d.test"]]
    undo = alice.desk.config.accounts[0].undo_send_seconds
    assert [i.send_at - NOW for i in items] == [undo, undo + incident_fixed.SPACING]  # the window, then spaced
    from tui_desk.desk.replies import cancel_send
    await cancel_send(alice.desk, items[0].id)
    clock.now += undo + incident_fixed.SPACING
    await alice.round()
    assert len(mails_to(smtp_sink, "ann@c.test")) == 1  # plan A only: plan B was cancelled
    assert len(mails_to(smtp_sink, "bo@d.test")) == 2
    for mid in PAYMENT:
        cid = await conv_of(alice.desk, mid)
        assert (await conversation_states(alice.desk.store, [cid]))[cid].status == "closed"
    await bob.round()
    for mid in PAYMENT:
        cid = await conv_of(bob.desk, mid)
        assert (await conversation_states(bob.desk.store, [cid]))[cid].status == "closed"
    await alice.desk.close()
    await bob.desk.close()


async def test_cli_lists_incidents_and_resolve_dry_run_says_who_gets_what(home, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    clock = Clock(NOW)
    alice, bob = await started_team(home, dovecot, mail_user, smtp_sink, clock)
    await alice.round()
    await alice.desk.close()
    await bob.desk.close()
    cfg = write_config(home / "config.toml", dovecot, mail_user, agent="alice", smtp_port=smtp_sink.port)
    env = {"XDG_CONFIG_HOME": str(home / "xdg"), "PATH": "/usr/bin:/bin"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tui_desk", "--config", str(cfg), "--db",
                               str(home / "alice.db"), "incident", *args],
                              capture_output=True, text=True, env=env, timeout=60)
    listed = cli("list", "--json")
    assert listed.returncode == 0, listed.stderr
    (one,) = json.loads(listed.stdout)["incidents"]
    assert (one["name"], one["title"], one["match"], one["active"], one["conversations"]) == (
        "payments-failing", "Payments failing", "subject:payment", True, 3)
    dry = cli("resolve", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    said = json.loads(dry.stdout)
    assert (said["customers"], said["conversations"]) == (2, 2)  # the list's conversation is held
    mails = {tuple(m["to"]): m for m in said["mails"]}
    assert set(mails) == {("ann@c.test",), ("bo@d.test",), ("news@list.test",)}
    assert mails[("ann@c.test",)]["snippet"] == "incident-fixed" and mails[("ann@c.test",)]["held"] is None
    assert mails[("news@list.test",)]["held"] == "Precedence: bulk"
    assert (mails[("ann@c.test",)]["customer"], mails[("ann@c.test",)]["told_in"]) == ("ann@c.test", None)
    plain = cli("resolve", "--dry-run")
    assert plain.returncode == 0 and ("would send 'incident-fixed' to 2 customers (2 conversations), one mail per "
                                      "customer:") in plain.stdout, plain.stdout
    assert "ann@c.test  #" in plain.stdout and "news@list.test  held: Precedence: bulk" in plain.stdout
    again = cli("list")  # the dry run changed nothing
    assert "payments-failing  active since" in again.stdout
    missing = cli("resolve", "no-such-thing", "--dry-run")
    assert missing.returncode == 2 and "no active incident 'no-such-thing'" in missing.stderr


def event(eid: str, at: int, agent: str, **data) -> store_events.Event:
    return store_events.Event(eid, at, agent, incident.KIND, incident.ANCHOR, data)


def test_two_starts_of_one_name_make_one_incident_and_a_resolve_ends_it():
    start = dict(action="start", name="payments-failing", title="Payments failing", match="subject:payment")
    events = [event("b", 11, "bob", **{**start, "match": "subject:pay"}), event("a", 10, "alice", **start),
              event("c", 20, "bob", action="resolve", name="payments-failing", close=True),
              event("d", 30, "alice", action="resolve", name="payments-failing"),  # over already: nothing
              event("e", 40, "alice", **start)]  # the name again: a new round
    first, second = incident.fold(events)
    assert (first.match, first.started_by, first.resolved_by, first.close, first.round_id) == (
        "subject:payment", "alice", "bob", True, "a")
    assert second.active and second.round_id == "e" and second.ack == incident.DEFAULT_ACK
    assert incident.fold(reversed(events)) == [first, second]  # the same on every client
    assert incident.name_of("  Payments: failing (EU)!") == "payments-failing-eu"
    with pytest.raises(CommandError, match="several incidents are active"):
        incident.pick([first, second, dataclasses.replace(second, name="other")], None)


async def test_the_desk_service_starts_and_resolves_on_a_desk_without_a_server(home, tmp_path, smtp_sink, dovecot):
    """The app's calls (DeskService) on the real Desk: imported mail, an account that only sends."""
    from tui_desk.config import AccountConfig
    from tui_desk.mail.parse import parse_message
    from tui_desk.store import ingest as store_ingest
    smtp_sink.clear()
    account = AccountConfig(name="support", address="support@helpdesk.test", display_name="Support",
                            smtp=ServerConfig("127.0.0.1", smtp_sink.port, "starttls", "agent1",
                                              ca_file=dovecot.ca_file))
    config = Config(agent="alice", agent_addresses=("*@helpdesk.test",), accounts=(account,))
    clock = Clock(NOW)
    desk = await Desk.open(tmp_path / "alone.db", config, clock=clock)
    raws = [make_mail("a@t", subject="Cannot pay", sender="Ann <ann@c.test>"),
            make_mail("b@t", subject="Hello", sender="Bo <bo@d.test>", minutes=1)]
    result = await store_ingest.ingest(desk.store, [store_ingest.NewMessage(raw=r, parsed=parse_message(r),
                                                                           is_agent=False) for r in raws])
    await desk.refresh(result.conversations)
    first = await conv_of(desk, "a@t")
    said = await desk.start_incident("Payments failing", "subject:pay", [first])
    assert said == ("incident 'Payments failing' started: new mail matching 'subject:pay' gets 'incident-ack'; "
                    "1 conversation joined it")
    assert await desk.start_incident("payments FAILING", "subject:x", []) == (
        "incident 'Payments failing' is active already: new mail matching 'subject:pay' gets 'incident-ack'")
    (view,) = await desk.active_incidents()
    assert (view.name, view.title, view.match, view.conversations) == ("payments-failing", "Payments failing",
                                                                       "subject:pay", 1)
    with pytest.raises(ValueError, match="no snippet 'nope'"):
        await incident.start(desk, "Other", "subject:x", ack="nope")
    said = await desk.resolve_incident("payments-failing")
    assert said.startswith("incident 'Payments failing' resolved: 'incident-fixed' goes to 1 customer "
                           "(1 conversation)")
    assert await desk.active_incidents() == []
    (item,) = await outbox.items(desk.store)
    assert item.recipients == ["ann@c.test"] and item.send_at == NOW + account.undo_send_seconds
    clock.now += account.undo_send_seconds
    sender = OutboxSender(desk.store, config, lambda a, k: "secret", on_change=desk.refresh, clock=clock)
    await sender.run_due()
    (fixed,) = mails_to(smtp_sink, "ann@c.test")
    assert "Payments failing" in text_of(fixed) and fixed["Auto-Submitted"] == "auto-replied"
    assert mails_to(smtp_sink, "bo@d.test") == []
    with pytest.raises(ValueError, match="no incident is active"):
        await incident.resolve(desk)
    await desk.close()


async def test_plan_b_is_not_held_by_the_customers_out_of_office_reply(home, tmp_path):
    """The customer's vacation responder answered the incident's acknowledgement: that mail is
    not the customer's turn, so the loop guards look at the customer's own mail and the "fixed"
    mail still goes (it used to be held: Auto-Submitted: auto-replied)."""
    from tui_desk.mail.parse import parse_message
    from tui_desk.store import ingest as store_ingest
    from tui_desk.config import AccountConfig
    account = AccountConfig(name="support", address="support@helpdesk.test", display_name="Support")
    config = Config(agent="alice", agent_addresses=("*@helpdesk.test",), accounts=(account,))
    desk = await Desk.open(tmp_path / "alone.db", config, clock=Clock(NOW))
    away = make_mail("away@t", subject="Auto: Re: Cannot pay", sender="Ann <ann@c.test>", in_reply_to="a@t",
                     refs=["a@t"], minutes=2).replace(b"Subject:", b"Auto-Submitted: auto-replied\r\nSubject:", 1)
    raws = [make_mail("a@t", subject="Cannot pay", sender="Ann <ann@c.test>"), away]
    result = await store_ingest.ingest(desk.store, [store_ingest.NewMessage(raw=r, parsed=parse_message(r),
                                                                           is_agent=False) for r in raws])
    await desk.refresh(result.conversations)
    conv = await conv_of(desk, "a@t")
    assert await conv_of(desk, "away@t") == conv and parse_message(away).auto_submitted
    found, _ = await incident.start(desk, "Payments failing", "subject:pay", conv_ids=[conv])
    [fix] = await incident_fixed.plan_b(desk, found)
    assert (fix.to, fix.held) == (("ann@c.test",), None)
    await desk.close()


async def test_a_name_used_again_mails_only_its_own_rounds_customers(home, tmp_path):
    """A second "Payments failing" next month: its plan B goes to the conversations that joined
    it, not again to the first round's (their tag stays), also on a desk without a server; its
    marks on the server are its own (per round), short enough for IMAP."""
    from tui_desk.config import AccountConfig
    from tui_desk.mail.parse import parse_message
    from tui_desk.store import ingest as store_ingest
    account = AccountConfig(name="support", address="support@helpdesk.test", display_name="Support")
    config = Config(agent="alice", agent_addresses=("*@helpdesk.test",), accounts=(account,))
    clock = Clock(NOW)
    desk = await Desk.open(tmp_path / "alone.db", config, clock=clock)
    raws = [make_mail("a@t", subject="Cannot pay", sender="Ann <ann@c.test>"),
            make_mail("b@t", subject="Card refused", sender="Bo <bo@d.test>", minutes=30 * 24 * 60)]
    result = await store_ingest.ingest(desk.store, [store_ingest.NewMessage(raw=r, parsed=parse_message(r),
                                                                           is_agent=False) for r in raws])
    await desk.refresh(result.conversations)
    first, second = await conv_of(desk, "a@t"), await conv_of(desk, "b@t")
    one, _ = await incident.start(desk, "Payments failing", "subject:pay", conv_ids=[first])
    await desk.resolve_incident("payments-failing")
    assert [sorted(i.recipients) for i in await outbox.items(desk.store)] == [["ann@c.test"]]

    clock.now += 30 * 24 * 3600  # next month, the same title
    two, started = await incident.start(desk, "Payments failing", "subject:card", conv_ids=[second])
    assert started and two.name == one.name and two.round_id != one.round_id
    assert await incident.members(desk, two) == [second]  # the first round's conversation keeps its tag
    assert [f.conv_id for f in await incident_fixed.plan_b(desk, two)] == [second]
    said = await desk.resolve_incident("payments-failing")
    assert "goes to 1 customer (1 conversation)" in said
    assert sorted(r for i in await outbox.items(desk.store) for r in i.recipients) == ["ann@c.test", "bo@d.test"]

    keys_one, keys_two = incident.claim_keywords(one, "alice"), incident.claim_keywords(two, "alice")
    assert keys_one.done != keys_two.done and keys_one.prefix != keys_two.prefix
    assert keys_two.done.startswith("td:incident-done:payments-failing.") and keys_two.mine.startswith(keys_two.prefix)
    long = dataclasses.replace(two, name="x" * incident.MAX_NAME)
    assert len(incident.claim_keywords(long, "a-very-long-agent-name@example.test").mine) <= 50
    await desk.close()



async def test_plan_b_neither_uses_up_nor_is_stopped_by_the_hourly_cap(home, tmp_path):
    """Plan B is a person's deliberate bulk send (dry run, undo window, 2 s apart): a big
    incident's "fixed" mails all go, and the rules' automatic replies after it still have the
    `[autoreply] max_per_hour` they had."""
    from tui_desk.config import AccountConfig, AutoReplyConfig
    from tui_desk.desk.rules.execute import auto_reply
    from tui_desk.mail.parse import parse_message
    from tui_desk.store import ingest as store_ingest
    account = AccountConfig(name="support", address="support@helpdesk.test", display_name="Support")
    config = Config(agent="alice", agent_addresses=("*@helpdesk.test",), accounts=(account,),
                    autoreply=AutoReplyConfig(max_per_hour=2))
    desk = await Desk.open(tmp_path / "alone.db", config, clock=Clock(NOW))
    raws = [make_mail(f"p{i}@t", subject="Cannot pay", sender=f"C{i} <c{i}@c.test>", minutes=i) for i in range(3)]
    raws.append(make_mail("new@t", subject="Where is my parcel", sender="Dee <dee@f.test>", minutes=5))
    result = await store_ingest.ingest(desk.store, [store_ingest.NewMessage(raw=r, parsed=parse_message(r),
                                                                           is_agent=False) for r in raws])
    await desk.refresh(result.conversations)
    paying = [await conv_of(desk, f"p{i}@t") for i in range(3)]
    await incident.start(desk, "Payments failing", "subject:pay", conv_ids=paying)
    await desk.resolve_incident("payments-failing")
    assert sorted(r for i in await outbox.items(desk.store) for r in i.recipients) == ["c0@c.test", "c1@c.test",
                                                                                        "c2@c.test"]
    other = await conv_of(desk, "new@t")
    queued, held = await auto_reply(desk, other, "auto-ack", "rule.ack.new@helpdesk.test", {"rule": "ack"})
    assert (queued, held) == (True, None)  # the cap of 2 an hour is not used up by 3 "fixed" mails
    await desk.close()


async def notes_of(desk: Desk, conv_id: int) -> list[str]:
    view = await desk.conversation(conv_id)
    assert view is not None
    return [" ".join(b.text for b in m.blocks) for m in view.messages if m.is_note]


MARY = "mary.dubois@m.test"


async def test_one_customer_with_two_conversations_gets_one_ack_and_one_fixed_mail(home, dovecot, mail_user,
                                                                                  smtp_sink):
    """The tryout's #72 and #73 of one customer: plan A once per round (also past the rate
    limits' 3 h), plan B once, in her newest open conversation, the other one noted; two
    clients resolving still send one."""
    smtp_sink.clear()
    clock = Clock(NOW)
    alice, bob = await started_team(home, dovecot, mail_user, smtp_sink, clock)
    dovecot.deliver(mail_user, make_mail("mary1@t", subject="Payment refused", sender=f"Mary <{MARY}>", minutes=30))
    await bob.round()
    clock.now += 4 * 3600  # past the automatic replies' one-per-3-h for her address
    dovecot.deliver(mail_user, make_mail("mary2@t", subject="Payment still refused", sender=f"Mary <{MARY}>",
                                         minutes=4 * 60 + 5))
    await bob.round()
    await alice.round()
    assert len(mails_to(smtp_sink, MARY)) == 1  # one "we know, we're on it" for the round
    first, second = await conv_of(bob.desk, "mary1@t"), await conv_of(bob.desk, "mary2@t")
    assert first != second
    assert await lines_of(bob.desk, "mary2@t") == [
        "incident 'Payments failing' tagged +incident +incident-payments-failing",
        f"incident 'Payments failing' held its acknowledgement: {MARY} had it in #{first}"]

    found = (await incident.active(alice.desk))[0]
    fixes = {f.conv_id: f for f in await incident_fixed.plan_b(bob.desk, found)}
    # the carrier as the follow-up picks it (desk.per_customer): her most recent open one (the
    # acknowledgement's Date is the wall clock's, so which one that is here is not fixed)
    carrier = per_customer.carrier([first, second], await per_customer.conversations(bob.desk, [first, second]))
    other = first if carrier == second else second
    assert (fixes[carrier].told_in, fixes[other].told_in) == (None, carrier)
    assert incident_fixed.summary(list(fixes.values())) == "3 customers (4 conversations)"
    lines = [text for _, text in incident_fixed.fix_lines(list(fixes.values()))]  # the dry run's, the app's
    (mine,) = [text for text in lines if text.startswith(MARY)]
    assert mine.startswith(f"{MARY}  #{carrier}  ") and mine.endswith(f"(also answers #{other}: a note there)")
    carrier_mid = {first: "mary1@t", second: "mary2@t"}[carrier]
    other_mid = {first: "mary1@t", second: "mary2@t"}[other]
    for a in (bob, alice):
        await incident.resolve(a.desk, "payments failing")
    await alice.sync.sync_once()
    await bob.sync.sync_once()
    clock.now += 60
    for _ in range(2):
        for a in (alice, bob):
            await a.round()
    got = mails_to(smtp_sink, MARY)
    assert len(got) == 2, [m["Subject"] for m in got]  # plan A, then plan B once
    assert "is fixed" in text_of(got[1]) and got[1]["In-Reply-To"] == f"<{carrier_mid}>"
    for who in PAYMENT.values():
        assert len(mails_to(smtp_sink, who)) == 2, who  # the others still get theirs
    for a in (alice, bob):
        mine = await conv_of(a.desk, other_mid)
        notes = await notes_of(a.desk, mine)
        assert len(notes) <= 1
    for a in (alice, bob):  # the note is on the desk that sent it and reaches the other through Notes
        await a.round()
    notes = await notes_of(alice.desk, await conv_of(alice.desk, other_mid))
    assert len(notes) == 1 and "mary.dubois" in notes[0] and "one mail per customer" in notes[0], notes
    # a crash: the progress lost, the plan again: nothing more
    for a in (alice, bob):
        for key, in await a.desk.store.fetchall("SELECT key FROM meta WHERE key LIKE 'incident:%'"):
            async with a.desk.store.transaction():
                await a.desk.store.set_meta(key, "")
    clock.now += 60
    for _ in range(2):
        for a in (alice, bob):
            await a.round()
    assert len(mails_to(smtp_sink, MARY)) == 2
    assert len(await notes_of(alice.desk, await conv_of(alice.desk, other_mid))) == 1
    assert await notes_of(alice.desk, await conv_of(alice.desk, carrier_mid)) == []
    await alice.desk.close()
    await bob.desk.close()


async def test_a_cancelled_fixed_mail_leaves_no_draft_and_says_what_to_do(home, dovecot, mail_user, smtp_sink,
                                                                          capsys):
    """Plan B's mail cancelled in the outbox (`c` in O: Desk.cancel_send; `tui-desk outbox
    --cancel N`) went back to the draft: that draft sent by hand and the incident run again
    (its next round sends to the conversations that had no 'fixed' mail) would mail the
    customer twice. It goes nowhere, as a bulk follow-up's does, and the line says how to send it."""
    from tui_desk.cli import main
    smtp_sink.clear()
    clock = Clock(NOW)
    alice, bob = await started_team(home, dovecot, mail_user, smtp_sink, clock)
    await alice.round()
    await incident.resolve(alice.desk)
    await alice.round()
    items = sorted(await outbox.items(alice.desk.store), key=lambda i: i.send_at)
    assert [i.recipients for i in items] == [["ann@c.test"], ["bo@d.test"]]
    said = await alice.desk.cancel_send(items[0].id)  # the app's `c`
    assert said == ("incident 'Payments failing': its 'fixed' mail to ann@c.test cancelled: nothing sent, "
                    "no draft kept; to send it, start the incident again and resolve it (a conversation "
                    "that had its 'fixed' mail gets none)"), said
    assert await alice.desk.draft(items[0].conv_id) is None
    await alice.desk.close()
    config = write_config(home / "alice.toml", dovecot, mail_user, agent="alice", smtp_port=smtp_sink.port)
    argv = ["--config", str(config), "--db", str(home / "alice.db"), "outbox", "--cancel", str(items[1].id)]
    assert await asyncio.to_thread(main, argv) == 0
    out = capsys.readouterr().out
    assert "its 'fixed' mail to bo@d.test cancelled: nothing sent, no draft kept" in out, out
    alice = await open_agent(home, "alice", dovecot, mail_user, smtp_sink, clock)
    assert await alice.desk.draft(items[1].conv_id) is None and await outbox.items(alice.desk.store) == []
    # what the line says sends them: the incident again, resolved
    await incident.start(alice.desk, "Payments failing", "subject:payment")
    clock.now += 60
    await alice.round()
    await incident.resolve(alice.desk)
    await alice.round()
    assert sorted(i.recipients[0] for i in await outbox.items(alice.desk.store)) == ["ann@c.test", "bo@d.test"]
    await alice.desk.close()
    await bob.desk.close()
