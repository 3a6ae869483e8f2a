"""The desk's history (issue 15): events recorded with the change, shared through the server's
History folder, read back once by every store."""

from __future__ import annotations

import dataclasses
import hashlib
import imaplib
import json
import logging
import signal
import subprocess
import sys
import textwrap

from tests.mailfactory import BASE, make_mail
from tests.accounts import account_for, live, replying_desk, sync_cmd, write_config
from tests.clock import Clock
from tui_desk.config import Config
from tui_desk.desk import commands
from tui_desk.desk.replies import cancel_send
from tui_desk.desk.service import Desk
from tui_desk.desk.views import Snippet
from tui_desk.desk.when import When
from tui_desk.mail.history_format import HISTORY_FOLDER, WireEvent, build_batch, read_batch
from tui_desk.mail.parse import parse_message
from tui_desk.store import events as store_events
from tui_desk.store import ingest as store_ingest
from tui_desk.store.queries import thread_message_ids
from tui_desk.sync.imap_sync import AccountSync

T0 = int(BASE.timestamp())
AGENTS = Config(agent="alice", agent_addresses=("*@helpdesk.test",))


async def local_desk(tmp_path, clock) -> Desk:
    desk = await Desk.open(tmp_path / "h.db", AGENTS, clock=clock)
    raws = [make_mail("h1@t", sender="ann@c.test"), make_mail("h2@t", sender="ann@c.test", refs=["h1@t"], minutes=5)]
    items = [store_ingest.NewMessage(raw=r, parsed=parse_message(r)) for r in raws]
    result = await store_ingest.ingest(desk.store, items)
    await desk.refresh(result.conversations)
    return desk


async def conv_of(desk, message_id) -> int:
    return next(c for c, ids in (await thread_message_ids(desk.store)).items() if message_id in ids)


def kinds_and_data(events) -> list[tuple[str, dict]]:
    return [(e.kind, e.data) for e in events]


async def test_every_action_records_one_event_with_the_desks_clock_and_undo_records_the_reverse(tmp_path):
    clock = Clock()
    clock.now = T0 + 3600
    desk = await local_desk(tmp_path, clock)
    cid = await conv_of(desk, "h1@t")
    await commands.tag(desk, [cid], ["bug"], [])
    clock.now += 60
    await commands.assign(desk, [cid], "bob")
    clock.now += 60
    until = T0 + 86400 * 3
    await commands.snooze(desk, [cid], When(BASE.fromtimestamp(until, BASE.tzinfo)))
    await commands.unsnooze(desk, [cid])
    await commands.set_status(desk, [cid], "closed")
    clock.now += 60
    await desk.add_note(cid, "called the customer")
    events = await store_events.of_conversation(desk.store, cid)
    note_id = events[-1].data["message_id"]
    assert kinds_and_data(events) == [
        ("tag", {"add": ["bug"], "remove": []}),
        ("assign", {"from": None, "to": "bob"}),
        ("snooze", {"until": until, "reply": False}),
        ("unsnooze", {}),
        ("status", {"from": "open", "to": "closed"}),
        ("note", {"message_id": note_id}),
    ]
    assert note_id.endswith("@notes.tui-desk.invalid")
    assert [e.at for e in events] == [T0 + 3600, T0 + 3660, *[T0 + 3720] * 3, T0 + 3780]
    assert {e.agent for e in events} == {"alice"}
    assert {e.anchor for e in events} == {"h1@t"}, "the conversation's first mail anchors its events"

    clock.now += 60
    assert await commands.undo(desk) == "closed 1 conversation (#1 Hello)"  # undo names what it undid
    last = (await store_events.of_conversation(desk.store, cid))[-1]
    assert (last.kind, last.data, last.at) == ("status", {"from": "closed", "to": "open", "undo": True}, T0 + 3840)
    assert len(await store_events.of_conversation(desk.store, cid)) == 7, "undo adds; nothing is erased"
    await commands.tag(desk, [cid], ["bug"], [])  # no change, no event
    assert len(await store_events.of_conversation(desk.store, cid)) == 7
    lines = [h.text for h in await desk.history(cid)]
    assert lines == ["tagged +bug", "assigned to bob (was nobody)",
                     f"snoozed until {BASE.fromtimestamp(until, desk.local_now().tzinfo):%Y-%m-%d %H:%M}",
                     "woke it", "closed, undone", "added a note"]  # an undo is no reopen: read once
    await desk.close()


async def test_reply_is_history_when_sent_with_its_snippets_and_an_undone_one_is_not(
        tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    clock = Clock()
    desk, sync, sender, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port, clock)
    refund = Snippet("refund", "Refund", (), "Your refund is on its way, {{customer_first_name}}.")
    desk._snippets = [refund]
    await desk.reply(conv, "Sorry! Refund sent.", snippets=["refund", "gone"])
    assert await store_events.of_conversation(desk.store, conv) == [], "queued is not sent"
    assert await store_events.unshared(desk.store, 10) == [], "nor pushed"
    clock.now += 11
    await sender.run_due()
    [reply] = await store_events.of_conversation(desk.store, conv)
    assert reply.kind == "reply" and reply.at == int(clock.now)
    assert reply.data["snippets"] == [{"name": "refund", "hash": hashlib.sha256(refund.body.encode()).hexdigest()},
                                      {"name": "gone", "hash": None}]
    assert reply.data["reply_all"] is False and reply.data["message_id"].endswith("@helpdesk.test")

    outbox_id, _ = await desk.reply(conv, "Oops, wrong text.")
    await cancel_send(desk, outbox_id)
    await desk.forward(conv, "boss@vendor.test", "FYI")
    clock.now += 11
    await sender.run_due()
    kinds = [(e.kind, e.data.get("to")) for e in await store_events.of_conversation(desk.store, conv)]
    assert kinds == [("reply", None), ("forward", ["boss@vendor.test"])]
    await desk.close()


async def two_agents(tmp_path, dovecot, user):
    dovecot.load_maildir(user, [make_mail(f"m{i}@t", sender=f"c{i}@c.test", minutes=i) for i in range(3)])
    out = []
    for name in ("alice", "bob"):
        account = account_for(dovecot, user)
        config = dataclasses.replace(AGENTS, agent=name, accounts=(account,))
        desk = await Desk.open(tmp_path / f"{name}.db", config)
        sync = AccountSync(desk.store, account, dovecot.password_of(user), is_agent=config.is_agent_address,
                           on_change=desk.refresh)
        await sync.sync_once()
        out.append((desk, sync))
    return out


async def every_event(desk) -> set[tuple]:
    return {(e.event.event_id, e.event.at, e.event.agent, e.event.kind, e.event.anchor,
             json.dumps(e.event.data, sort_keys=True)) for e in await store_events.in_period(desk.store)}


def history_folder(dovecot, user) -> list[bytes]:
    c = imaplib.IMAP4("127.0.0.1", dovecot.imap_port, timeout=30)
    c.login(user, dovecot.password_of(user))
    typ, _ = c.select(HISTORY_FOLDER, readonly=True)
    out = []
    if typ == "OK":
        _, data = c.uid("FETCH", "1:*", "(BODY.PEEK[])")
        out = [item[1] for item in data if isinstance(item, tuple)]
    c.logout()
    return out


async def test_two_stores_end_with_the_same_events_and_a_rebuilt_store_gets_them_all(
        tmp_path, dovecot, mail_user):
    (alice, alice_sync), (bob, bob_sync) = await two_agents(tmp_path, dovecot, mail_user)
    a0, a1 = await conv_of(alice, "m0@t"), await conv_of(alice, "m1@t")
    await commands.tag(alice, [a0, a1], ["billing"])
    await commands.set_status(alice, [a0], "closed")
    b1 = await conv_of(bob, "m1@t")
    await commands.assign(bob, [b1], "bob")
    await bob.add_note(b1, "on it")
    await alice_sync.sync_once()
    await bob_sync.sync_once()
    await alice_sync.sync_once()
    mine = await every_event(alice)
    assert len(mine) == 5 and mine == await every_event(bob)
    assert {e.agent for e in await store_events.of_conversation(alice.store, a1)} == {"alice", "bob"}
    assert await store_events.unshared(alice.store, 10) == await store_events.unshared(bob.store, 10) == []

    # the same mail and history from the server alone (even told to read History as mail)
    account = account_for(dovecot, mail_user, folders=("INBOX", HISTORY_FOLDER))
    fresh = await Desk.open(tmp_path / "fresh.db", dataclasses.replace(AGENTS, agent="carol", accounts=(account,)))
    await AccountSync(fresh.store, account, dovecot.password_of(mail_user), is_agent=AGENTS.is_agent_address,
                      on_change=fresh.refresh).sync_once()
    assert await every_event(fresh) == mine
    fresh_conv = await conv_of(fresh, "m1@t")
    assert [h.text for h in await fresh.history(fresh_conv)] == [h.text for h in await alice.history(a1)]
    # history mail is not conversation mail
    assert not [m for ids in (await thread_message_ids(fresh.store)).values() for m in ids if "history" in m]
    assert len(await fresh.queue_ids()) == 2 and await fresh.queue_ids("history") == []
    for d in (alice, bob, fresh):
        await d.close()


async def test_five_hundred_changes_travel_in_one_append(tmp_path, dovecot, mail_user):
    (alice, alice_sync), (bob, bob_sync) = await two_agents(tmp_path, dovecot, mail_user)
    cid = await conv_of(alice, "m2@t")
    for i in range(250):
        await commands.tag(alice, [cid], [f"t{i}"])
        await commands.tag(alice, [cid], [], [f"t{i}"])
    await alice_sync.sync_once()
    assert alice_sync.history.stats.appends == 1 and alice_sync.history.stats.pushed == 500
    assert len(history_folder(dovecot, mail_user)) == 1
    assert await alice.store.get_meta("history:support:uid") == "1", "its own batch is not read back (APPENDUID)"
    await bob_sync.sync_once()
    assert len(await store_events.of_conversation(bob.store, await conv_of(bob, "m2@t"))) == 500
    for d in (alice, bob):
        await d.close()


async def test_a_garbage_history_mail_is_skipped_with_a_line_and_the_sync_goes_on(
        tmp_path, dovecot, mail_user, caplog):
    (alice, alice_sync), (bob, bob_sync) = await two_agents(tmp_path, dovecot, mail_user)
    c = imaplib.IMAP4("127.0.0.1", dovecot.imap_port, timeout=30)
    c.login(mail_user, dovecot.password_of(mail_user))
    c.create(HISTORY_FOLDER)
    c.append(HISTORY_FOLDER, None, None, b"Subject: junk\r\nMessage-ID: <j@t>\r\n\r\nnot json at all\r\n")
    good = WireEvent("ab" * 16, T0, "mallory", "tag", "m0@t", {"add": ["x"], "remove": []})
    _, raw = build_batch("mallory", "x@t", [good], T0)
    c.append(HISTORY_FOLDER, None, None, raw + b"{broken line\n")
    c.logout()
    await commands.tag(alice, [await conv_of(alice, "m1@t")], ["vip"])
    with caplog.at_level(logging.WARNING):
        await alice_sync.sync_once()
        await bob_sync.sync_once()
    assert "History UID 1 skipped: the first line is not a JSON header" in caplog.text
    assert "History UID 2: line 3: Expecting property name" in caplog.text
    assert [(e.event.agent, e.event.kind) for e in await store_events.in_period(bob.store)] == \
        [("mallory", "tag"), ("alice", "tag")], "the readable events of the batch, and the sync went on"
    for d in (alice, bob):
        await d.close()


def test_a_batch_reads_back_and_a_bad_line_is_named():
    events = [WireEvent(f"{i:032x}", T0 + i, "Jörg" if i else "zed", "note", "a@b", {"message_id": "n@x"})
              for i in range(3)]
    _, raw = build_batch("Jörg", "desk@x.test", events, T0)
    assert b"\nSubject: [history] " in raw and b" 3 events" in raw and len(raw) < 2000
    assert read_batch(raw) == (events, [])
    broken = raw.replace(b'{"agent":"zed",', b'{"agent":7,', 1)
    assert broken != raw
    got, skipped = read_batch(broken)
    assert got == events[1:] and skipped == ["line 2: agent is missing or not a string"]


CRASH = """
import asyncio, os, signal, sys
from tui_desk.sync import history_sync
from tui_desk.cli import main

async def killed(*args, **kw):
    os.kill(os.getpid(), signal.SIGKILL)  # after the APPEND, before "mark shared" commits
history_sync.store_events.mark_shared = killed
sys.exit(main(sys.argv[1:]))
"""


def test_killed_between_append_and_mark_shared_duplicates_nothing(tmp_path, dovecot, mail_user):
    dovecot.load_maildir(mail_user, [make_mail("k1@t", sender="ann@c.test")])
    cfg, db = tmp_path / "config.toml", tmp_path / "store.sqlite3"
    write_config(cfg, dovecot, mail_user, agent="alice")
    assert subprocess.run(sync_cmd(cfg, db), capture_output=True, timeout=120).returncode == 0
    cli = [sys.executable, "-m", "tui_desk", "--config", str(cfg), "--db", str(db)]
    conv = json.loads(subprocess.run(cli + ["queue", "--json"], capture_output=True, text=True).stdout)[0]["id"]
    for args in (["tag", str(conv), "+bug"], ["status", str(conv), "closed"]):
        assert subprocess.run(cli + args, capture_output=True).returncode == 0
    script = tmp_path / "crash.py"
    script.write_text(textwrap.dedent(CRASH))
    killed = subprocess.run([sys.executable, str(script), *sync_cmd(cfg, db)[3:]], capture_output=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL
    assert len(history_folder(dovecot, mail_user)) == 1, "the batch reached the server"
    assert subprocess.run(sync_cmd(cfg, db), capture_output=True, timeout=120).returncode == 0
    assert len(history_folder(dovecot, mail_user)) == 1, "found there, not appended again"
    shown = json.loads(subprocess.run(cli + ["history", str(conv), "--json"], capture_output=True, text=True).stdout)
    assert [e["kind"] for e in shown["events"]] == ["tag", "status"]
    import sqlite3
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*), sum(shared) FROM events").fetchone() == (2, 2)
    con.close()


async def test_a_live_agent_gets_a_teammates_events_without_a_key(tmp_path, dovecot, mail_user):
    import asyncio
    (alice, alice_sync), (bob, bob_sync) = await two_agents(tmp_path, dovecot, mail_user)
    arrived = asyncio.Event()

    async def on_new(n: int) -> None:
        arrived.set()
    bob_sync.history.on_new = on_new
    stop, task = await live(bob_sync, 5.0)
    await commands.set_status(alice, [await conv_of(alice, "m0@t")], "pending")
    await alice_sync.sync_once()
    await asyncio.wait_for(arrived.wait(), 5.0)  # NOTIFY, not the 60 s poll
    stop.set()
    await asyncio.wait_for(task, 10)
    [event] = await store_events.of_conversation(bob.store, await conv_of(bob, "m0@t"))
    assert (event.agent, event.kind, event.data) == ("alice", "status", {"from": "open", "to": "pending"})
    for d in (alice, bob):
        await d.close()


async def test_events_follow_their_mail_into_a_merged_conversation(tmp_path):
    clock = Clock()
    desk = await local_desk(tmp_path, clock)
    raw = make_mail("other@t", sender="ann@c.test", subject="Another thing", minutes=30)
    result = await store_ingest.ingest(desk.store, [store_ingest.NewMessage(raw=raw, parsed=parse_message(raw))])
    await desk.refresh(result.conversations)
    keep, other = await conv_of(desk, "h1@t"), await conv_of(desk, "other@t")
    await commands.tag(desk, [other], ["billing"])
    await commands.tag(desk, [keep], ["bug"])
    await desk.merge(keep, [other])
    # the merge's own events come last: the tag the kept one gained, the merge (desk.merge)
    assert [(e.kind, e.data.get("add")) for e in await store_events.of_conversation(desk.store, keep)] == [
        ("tag", ["billing"]), ("tag", ["bug"]), ("tag", ["billing"]), ("merge", None)]
    assert [h.text for h in await desk.history(other)] == [
        "tagged +billing", "tagged +bug", "tagged +billing", 'merged "Another thing" (ann@c.test) into this one'], \
        "a merged-away number shows the conversation it went into"
    await desk.close()


async def test_a_teammates_history_is_not_lost_when_a_local_change_comes_in_the_same_moment(tmp_path, dovecot,
                                                                                          mail_user):
    """The live sync waits for the server (IDLE, NOTIFY) and for local changes at once. When
    both come together, NOTIFY's word that History changed must still make the next pass read
    every folder (it was dropped: a teammate's incident stayed unread until the 60 s poll)."""
    import asyncio
    (alice, alice_sync), (bob, bob_sync) = await two_agents(tmp_path, dovecot, mail_user)
    conn = await bob_sync.connect()
    try:
        await conn.select("INBOX")
        assert await conn.notify_set()
        await commands.set_status(alice, [await conv_of(alice, "m0@t")], "pending")
        await alice_sync.sync_once()  # History gets alice's event: NOTIFY tells bob's connection
        deadline = asyncio.get_running_loop().time() + 10
        heard = []
        while not any(u.kind == "STATUS" for u in heard):  # the word is in
            assert asyncio.get_running_loop().time() < deadline, "no STATUS update from NOTIFY"
            await conn.noop()
            heard += conn.pending_updates()
        for update in heard:  # back where the wait finds them
            conn._updates().put(update)
        bob_sync._news.set()  # and a local change at the same moment
        assert await bob_sync._wait_for_news(conn, asyncio.Event(), 5.0) is True
    finally:
        await conn.logout()
    for d in (alice, bob):
        await d.close()


def test_a_rules_line_says_the_automatic_reply_it_sent_once_even_when_sent_later_or_again():
    """The `autoreply` event is recorded when the reply goes (after the undo window, or a retry
    later); a rule that fires twice pairs each line with its own reply; a reply of another rule or
    snippet stays its own line."""
    from tui_desk.desk.history import rules_replies
    from tui_desk.store.events import Event

    def line(i: str, at: int, rule: str = "ack", snippet: str = "auto-ack") -> Event:
        return Event(i, at, "alice", "rule", "<a@t>", {"rule": rule, "says": f"rule '{rule}' replied with snippet '{snippet}'"})

    def reply(i: str, at: int, rule: str = "ack", snippet: str = "auto-ack") -> Event:
        return Event(i, at, "alice", "autoreply", "<a@t>", {"rule": rule, "snippets": [{"name": snippet}]})
    events = [line("l1", 100), reply("r1", 160),  # sent after a 60 s undo window
              line("l2", 1000), reply("r2", 1000),
              line("l3", 2000, rule="notice", snippet="closed"), reply("r3", 2001, rule="other", snippet="closed"),
              reply("r4", 2002, snippet="other")]
    assert {k: v.event_id for k, v in rules_replies(events).items()} == {"l1": "r1", "l2": "r2"}
    # a line whose reply never went (held, cancelled) does not take the next firing's
    assert {k: v.event_id for k, v in rules_replies([line("l1", 100), line("l2", 1000), reply("r2", 1001)]).items()} == {
        "l2": "r2"}


def test_a_rules_note_reads_once_as_the_rules_line():
    """README (Rules): the change a rule made reads once, as its line: its note too, not "added a
    note" beside "rule 'breached' added a note"; an agent's own note later stays its line."""
    from tui_desk.desk.history import rules_own
    from tui_desk.store.events import Event
    events = [Event("n1", 100, "Alice Martin", "note", "<a@t>", {"message_id": "rule.x@helpdesk.test"}),
              Event("l1", 100, "Alice Martin", "rule", "<a@t>", {"rule": "breached",
                                                                 "says": "rule 'breached' added a note"}),
              Event("n2", 900, "Alice Martin", "note", "<a@t>", {"message_id": "mine@helpdesk.test"})]
    assert rules_own(events) == {"n1"}


async def test_history_and_show_give_one_event_the_same_time_in_the_desks_zone(tmp_path, capsys):
    """`[priority] timezone` is the desk's zone for every time shown: `history` and the quiet
    line `show` prints for a rule's action name the same clock time (show used to print UTC)."""
    import asyncio
    import datetime as dt
    import re
    from zoneinfo import ZoneInfo
    from tui_desk.cli import main as cli_main
    from tui_desk.desk.timefmt import MONTHS
    clock = Clock()  # the CLI runs on the real clock: the event is now, in the CLI's year
    desk = await local_desk(tmp_path, clock)
    cid = await conv_of(desk, "h1@t")
    at = int(clock.now)
    async with desk.store.transaction():
        await store_events.record(desk.store, [store_events.Event(
            store_events.new_event_id(at), at, "alice", "rule", "h1@t", {"rule": "hold", "says": "held its reply"})])
    await desk.close()
    toml = tmp_path / "berlin.toml"
    toml.write_text('agent = "alice"\nagent_addresses = ["*@helpdesk.test"]\n[priority]\ntimezone = "Europe/Berlin"\n')
    berlin = dt.datetime.fromtimestamp(at, ZoneInfo("Europe/Berlin"))
    assert berlin.utcoffset() != dt.timedelta(0)

    def cli(*argv: str) -> str:
        assert cli_main(["--db", str(tmp_path / "h.db"), "--config", str(toml), *argv]) == 0
        return capsys.readouterr().out
    history = await asyncio.to_thread(cli, "history", str(cid))
    show = await asyncio.to_thread(cli, "show", str(cid))
    assert f"{berlin:%Y-%m-%d %H:%M} alice held its reply" in history
    [shown] = re.findall(r"· (\w+ \d+ \d\d:\d\d)  held its reply", show)
    assert shown == f"{MONTHS[berlin.month - 1]} {berlin.day} {berlin:%H:%M}"
