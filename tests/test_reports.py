"""Reports from the store (issue 15): timelines built from mail + history events, the metrics
cache, `tui-desk report` / `report heatmap` / `report questions` / `export`, and two stores on
one Dovecot mailbox agreeing.

Crafted histories with known figures: mail is ingested (customers' mail, agents' replies as the
Sent copy), actions go through the command path with an injected clock, a reply's history is its
reply event (as the outbox would record it once sent)."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json

from tests.mailfactory import BASE, make_mail
from tests.clock import Clock
from tests.accounts import account_for
from tests.report_mail import (CONFIG_TOML, HOUR, MIN, P_SINCE, P_UNTIL, SINCE, T0, UNTIL, UTC_DESK, at,
                               auto_replied, conv_of, customer, ingest)
from tui_desk.cli import main as cli_main
from tui_desk.config import Config, PriorityConfig
from tui_desk.desk import commands
from tui_desk.desk.metrics import EXPORT_HEADER
from tui_desk.desk.service import Desk
from tui_desk.desk.when import When
from tui_desk.store import events as store_events
from tui_desk.store.events import Event, new_event_id
from tui_desk.sync.imap_sync import AccountSync



async def reply(desk: Desk, msgid: str, minutes: float, refs: list[str], agent: str | None = "alice",
                snippets: tuple[str, ...] = (), sender: str = "Support <support@helpdesk.test>") -> None:
    """An agent's reply: its Sent copy, and (agent given) the reply event the outbox records
    when it is sent."""
    await ingest(desk, make_mail(msgid, sender=sender, to="customer@x.test", minutes=minutes, refs=refs,
                                 in_reply_to=refs[-1], subject="Re: Hello"))
    if agent is None:
        return
    conv = await conv_of(desk, msgid)
    anchor = (await store_events.anchors(desk.store, [conv]))[conv]
    data = {"message_id": msgid, "reply_all": False, "snippets": [{"name": s, "hash": None} for s in snippets]}
    async with desk.store.transaction():
        await store_events.record(desk.store, [Event(new_event_id(at(minutes)), at(minutes), agent, "reply",
                                                     anchor, data)])


async def act(desk: Desk, clock: Clock, minutes: float, action, *args) -> None:
    clock.now = at(minutes)
    await action(desk, *args)


async def set_status(desk: Desk, clock: Clock, minutes: float, msgid: str, status: str) -> None:
    await act(desk, clock, minutes, commands.set_status, [await conv_of(desk, msgid)], status)


async def crafted(desk: Desk, clock: Clock) -> None:
    """Five conversations with known figures (minutes from Monday 2026-11-02 09:00 UTC):
    A: asked 0, auto-reply 5, note 10, alice answers 60 with snippet refund, closed 120.
    B: asked 30, bob answers 150, asked again 180, bob answers 210, snoozed 240 for 2 h, closed 480.
    C: mail only: asked 60, dan answers 100 (no history).
    D: asked 1440, alice answers 1500, closed 1560, customer writes again 4320 (reopens, within 7
       days; a mail that only thanks would not: tests/test_snippet_stats.py), closed 4330.
    E: asked 2000, alice answers 2060, closed 2120, customer again 13640 (after 8 days), closed 13650."""
    await customer(desk, "a1@t", 0, "Ann <ann@a.test>", subject="Refund for order #1")
    await ingest(desk, auto_replied(make_mail("a-auto@t", sender="Desk <support@helpdesk.test>", minutes=5,
                                              refs=["a1@t"], in_reply_to="a1@t", to="ann@a.test")))
    clock.now = at(10)
    await desk.add_note(await conv_of(desk, "a1@t"), "checking the refund")
    await reply(desk, "a2@t", 60, ["a1@t"], snippets=("refund",))
    await commands.tag(desk, [await conv_of(desk, "a1@t")], ["billing", "vip"])
    await set_status(desk, clock, 120, "a1@t", "closed")

    await customer(desk, "b1@t", 30, "Bob <bob@b.test>", subject="App crashes")
    await reply(desk, "b2@t", 150, ["b1@t"], agent="bob")
    await customer(desk, "b3@t", 180, "Bob <bob@b.test>", refs=["b1@t", "b2@t"])
    await reply(desk, "b4@t", 210, ["b1@t", "b2@t", "b3@t"], agent="bob")
    clock.now = at(240)
    await commands.snooze(desk, [await conv_of(desk, "b1@t")], When(BASE.replace(hour=15)))  # 240 + 2 h
    await set_status(desk, clock, 480, "b1@t", "closed")

    await customer(desk, "c1@t", 60, "Cy <cy@c.test>", subject="Pricing")
    await reply(desk, "c2@t", 100, ["c1@t"], agent=None, sender="Dan <dan@helpdesk.test>")

    await customer(desk, "d1@t", 1440, "Di <di@d.test>", subject="Login")
    await reply(desk, "d2@t", 1500, ["d1@t"])
    await set_status(desk, clock, 1560, "d1@t", "closed")
    await customer(desk, "d3@t", 4320, "Di <di@d.test>", refs=["d1@t", "d2@t"], body="It fails again.\n")
    await set_status(desk, clock, 4330, "d1@t", "closed")

    await customer(desk, "e1@t", 2000, "Ed <ed@e.test>", subject="Export")
    await reply(desk, "e2@t", 2060, ["e1@t"])
    await set_status(desk, clock, 2120, "e1@t", "closed")
    await customer(desk, "e3@t", 13640, "Ed <ed@e.test>", refs=["e1@t", "e2@t"], body="One more thing\n")
    await set_status(desk, clock, 13650, "e1@t", "closed")


async def open_desk(tmp_path, config: Config = UTC_DESK, name: str = "r.db") -> tuple[Desk, Clock]:
    clock = Clock()
    clock.now = T0
    return await Desk.open(tmp_path / name, config, clock=clock), clock


def run_cli(capsys, *argv) -> str:
    code = cli_main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


async def cli(capsys, *argv) -> str:
    return await asyncio.to_thread(run_cli, capsys, *argv)


def cli_args(tmp_path, db: str = "r.db", toml: str = CONFIG_TOML) -> list[str]:
    config = tmp_path / f"{db}.toml"
    config.write_text(toml)
    return ["--db", str(tmp_path / db), "--config", str(config)]


async def test_a_crafted_history_gives_its_known_figures_through_report_json(tmp_path, capsys):
    desk, clock = await open_desk(tmp_path)
    await crafted(desk, clock)
    args = cli_args(tmp_path)
    got = json.loads(await cli(capsys, *args, "report", "--since", SINCE, "--until", UNTIL, "--json",
                               "--by", "agent,snippet", "--by", "domain"))
    assert got["since"] == "2026-11-01T00:00:00+00:00" and got["until"] == "2026-12-01T00:00:00+00:00"
    h = got["headline"]
    assert (h["conversations"], h["mail_only_conversations"], h["unanswered"]) == (5, 1, 0)
    # the auto-reply and the note are no customer message and no answer
    assert (h["customer_messages"], h["agent_replies"]) == (8, 6)
    assert h["first_response"]["calendar"] == {"count": 5, "median": 3600, "p90": 7200, "mean": 4080.0}
    assert h["next_response"]["calendar"] == {"count": 1, "median": 1800, "p90": 1800, "mean": 1800.0}
    assert (h["closed"], h["closed_without_reply"]) == (4, 0)
    # A 2 h, B 7 h 30, D 48 h 10 (its last close), E 8 d 2 h 10
    assert h["resolution"]["calendar"] == {"count": 4, "median": (27000 + 173400) / 2, "p90": 699000,
                                           "mean": (7200 + 27000 + 173400 + 699000) / 4}
    # B was snoozed 2 h of its 7 h 30
    assert h["resolution_net"]["calendar"] == {"count": 4, "median": (19800 + 173400) / 2, "p90": 699000,
                                               "mean": (7200 + 19800 + 173400 + 699000) / 4}
    assert h["replies_to_resolve"] == {"count": 4, "median": 1, "p90": 2, "mean": 1.25}
    # A: one reply; B: two; D: reopened within 7 days; E: reopened after 8 days, still FCR
    assert h["fcr"] == {"eligible": 4, "resolved": 2, "rate": 0.5}
    assert (h["reopens"], h["reopened_conversations"]) == (2, 2)

    agents = {g["key"]: g for g in got["breakdowns"]["agent"]}
    assert {k: g["first_response"]["calendar"]["count"] for k, g in agents.items() if g["first_response"]["calendar"]["count"]} \
        == {"alice": 3, "bob": 1, "dan@helpdesk.test": 1}, "a reply's agent is its event's, else the sender's"
    assert agents["bob"]["agent_replies"] == 2 and agents["bob"]["next_response"]["calendar"]["median"] == 1800
    assert agents["alice"]["closed"] == 4
    snippets = {g["key"]: g for g in got["breakdowns"]["snippet"]}
    assert snippets["refund"]["agent_replies"] == 1 and snippets["refund"]["first_response"]["calendar"]["median"] == 3600
    assert {g["key"] for g in got["breakdowns"]["domain"]} == {"a.test", "b.test", "c.test", "d.test", "e.test"}

    text = await cli(capsys, *args, "report", "--since", SINCE, "--until", UNTIL, "--by", "agent")
    assert all(len(line) <= 80 for line in text.splitlines()), text
    assert "1 h 00 min" in text and "FCR 50% (2 of 4)" in text and "dan@helpdesk.test" in text
    assert "Closed 4 (0 without a reply), FCR 50% (2 of 4)" in text
    await desk.close()


async def test_csv_reads_back_with_the_csv_module(tmp_path, capsys):
    desk, clock = await open_desk(tmp_path)
    await crafted(desk, clock)
    args = cli_args(tmp_path)
    raw = await cli(capsys, *args, "export", "--csv")
    assert raw.count("\r\n") == 6, "a header and five rows, each ended by CRLF"
    rows = list(csv.reader(io.StringIO(raw, newline="")))
    assert rows[0] == [*EXPORT_HEADER, "csat_rating", "csat_score"]  # no survey answers here: empty cells
    assert all(r[-2:] == ["", ""] for r in rows[1:])
    by_domain = {r[2]: dict(zip(rows[0], r)) for r in rows[1:]}
    a = by_domain["a.test"]
    assert a["tags"] == "billing, vip", "a cell with a comma, quoted and read back whole"
    assert (a["source"], a["first_response"], a["first_response_agent"], a["closed_by"], a["fcr"]) == \
        ("history", "3600", "alice", "alice", "true")  # every CSV spells booleans true/false
    assert (by_domain["c.test"]["source"], by_domain["c.test"]["closed_at"]) == ("mail", "")
    assert by_domain["b.test"]["resolution_net"] == "19800"
    # a search narrows it; JSON has the same columns as keys
    found = json.loads(await cli(capsys, *args, "export", "--query", "tag:vip", "--json"))
    assert [r["customer_domain"] for r in found] == ["a.test"] and set(found[0]) == {*EXPORT_HEADER, "csat_rating", "csat_score"}

    report = list(csv.reader(io.StringIO(await cli(capsys, *args, "report", "--since", SINCE, "--until", UNTIL,
                                                   "--csv", "--by", "agent"), newline="")))
    header = report[0]
    assert header[:2] == ["by", "key"] and "first_response_calendar_median" in header
    rows = {(r[0], r[1]): dict(zip(header, r)) for r in report[1:]}
    assert rows[("", "all")]["first_response_calendar_median"] == "3600"
    assert rows[("agent", "bob")]["agent_replies"] == "2"
    await desk.close()


async def test_a_new_event_or_mail_changes_the_figure_and_only_changed_conversations_are_recomputed(tmp_path):
    from tui_desk.desk import reports
    desk, clock = await open_desk(tmp_path)
    await crafted(desk, clock)
    first = await desk.report(P_SINCE, P_UNTIL)
    assert first.headline.closed == 4
    assert await reports.update_cache(desk) == 0, "nothing changed: nothing computed"
    # a status event (command path)
    await set_status(desk, clock, 200, "c1@t", "closed")
    assert await reports.update_cache(desk) == 1
    # ... and from another connection (another process: the CLI, a teammate's sync): our desk sees it
    await customer(desk, "f1@t", 3000, "Fay <fay@f.test>")
    assert (await desk.report(P_SINCE, P_UNTIL)).headline.conversations == 6
    second = await Desk.open(tmp_path / "r.db", UTC_DESK, clock=clock)
    await set_status(second, clock, 3100, "f1@t", "closed")
    await second.close()
    again = await desk.report(P_SINCE, P_UNTIL)
    # C had history now (its close): closed 4 + C + F
    assert again.headline.closed == 6
    # new mail: an answer to F (mail only) moves the FRT figures
    before = again.headline.first_response.calendar.count
    await reply(desk, "f2@t", 3030, ["f1@t"])
    after = await desk.report(P_SINCE, P_UNTIL)
    assert after.headline.first_response.calendar.count == before + 1
    assert await reports.update_cache(desk) == 0
    await desk.close()


async def test_business_time_across_a_weekend_and_a_holiday_and_a_config_change_recomputes(tmp_path, capsys):
    hours = PriorityConfig(timezone="UTC", business_hours=(BASE.time().replace(hour=9), BASE.time().replace(hour=17)))
    config = dataclasses.replace(UTC_DESK, priority=hours)
    desk, clock = await open_desk(tmp_path, config)
    # Friday 16:00, answered Monday 10:00: 66 h on the calendar, 2 business hours
    await customer(desk, "w1@t", 4 * 1440 + 420, "Wu <wu@w.test>")
    await reply(desk, "w2@t", 7 * 1440 + 60, ["w1@t"])
    report = await desk.report(P_SINCE, P_UNTIL, business_hours=True)
    assert report.headline.first_response.calendar.median == 66 * HOUR
    assert report.headline.first_response.business.median == 2 * HOUR
    await desk.close()
    # the Monday becomes a holiday: the cache is recomputed, 1 business hour
    holiday = dataclasses.replace(config, priority=dataclasses.replace(hours, holidays=(BASE.date().replace(day=9),)))
    desk = await Desk.open(tmp_path / "r.db", holiday, clock=clock)
    report = await desk.report(P_SINCE, P_UNTIL, business_hours=True)
    assert report.headline.first_response.business.median == HOUR
    await desk.close()
    toml = CONFIG_TOML + 'business_hours = "09:00-17:00"\nholidays = [2026-11-09]\n'
    got = json.loads(await cli(capsys, *cli_args(tmp_path, toml=toml), "report", "--since", SINCE, "--until", UNTIL,
                               "--business-hours", "--json"))
    assert got["business_hours"] is True and got["headline"]["first_response"]["business"]["median"] == HOUR
    # without business hours configured, --business-hours says so
    code = await asyncio.to_thread(cli_main, [*cli_args(tmp_path), "report", "--business-hours"])
    assert code == 2 and "business_hours" in capsys.readouterr().err


async def test_merged_conversations_count_once_with_all_their_mail_and_events(tmp_path):
    desk, clock = await open_desk(tmp_path)
    await customer(desk, "m1@t", 0, "Mia <mia@m.test>", subject="Parcel lost")
    await customer(desk, "m2@t", 30, "Mia <mia@m.test>", subject="Where is my parcel")
    await reply(desk, "m3@t", 60, ["m2@t"])
    await set_status(desk, clock, 90, "m2@t", "closed")
    before = await desk.report(P_SINCE, P_UNTIL)
    assert before.headline.conversations == 2 and before.headline.first_response.calendar.median == 1800
    keep, other = await conv_of(desk, "m1@t"), await conv_of(desk, "m2@t")
    clock.now = at(100)
    await desk.merge(keep, [other])
    after = await desk.report(P_SINCE, P_UNTIL)
    h = after.headline
    assert (h.conversations, h.customer_messages, h.agent_replies, h.closed) == (1, 2, 1, 1)
    assert h.first_response.calendar.median == HOUR, "waiting since the first mail of either"
    assert h.resolution.calendar.median == 90 * MIN
    header, rows = await desk.export(None)
    assert [r[0] for r in rows] == [keep]
    await desk.close()


async def test_heatmap_and_questions_from_the_cli(tmp_path, capsys):
    desk, clock = await open_desk(tmp_path)
    for i in range(4):  # four customers ask the same, Mondays 09:xx and Tuesday 10:xx
        await customer(desk, f"q{i}@t", i * 1440 // 2 + i, f"C{i} <c{i}@q.test>", subject=f"Refund for order #{100 + i}",
                       body="Where is my refund? I returned the parcel.\n")
        await reply(desk, f"q{i}r@t", i * 1440 // 2 + i + 30, [f"q{i}@t"], snippets=("refund-policy",))
    args = cli_args(tmp_path)
    heat = json.loads(await cli(capsys, *args, "report", "heatmap", "--since", SINCE, "--until", UNTIL, "--json"))
    assert heat["heatmap"]["messages"][0][9] == 1 and heat["heatmap"]["messages"][0][21] == 1
    assert sum(map(sum, heat["heatmap"]["messages"])) == 4 and heat["staffing"]["replies"] == 4
    text = await cli(capsys, *args, "report", "heatmap", "--since", SINCE, "--until", UNTIL)
    assert "Mon" in text and "Legend" in text and all(len(line) <= 80 for line in text.splitlines())
    rows = list(csv.reader(io.StringIO(await cli(capsys, *args, "report", "heatmap", "--csv", "--since", SINCE,
                                                 "--until", UNTIL), newline="")))
    assert rows[0] == ["weekday", "hour", "messages", "hours", "mean_load"] and len(rows) == 1 + 7 * 24
    got = json.loads(await cli(capsys, *args, "report", "questions", "--since", SINCE, "--until", UNTIL, "--json"))
    [group] = got["questions"]
    assert group["size"] == 4 and group["top_snippet"] == {"name": "refund-policy", "count": 4}
    text = await cli(capsys, *args, "report", "questions", "--since", SINCE, "--until", UNTIL)
    assert "Refund for order" in text and "refund-policy" in text
    await desk.close()


def test_period_bounds_read_dates_in_the_desks_zone_and_relative_spans():
    import datetime as dt
    from zoneinfo import ZoneInfo

    from tui_desk.desk.when import WhenError, parse_period_bound
    now = dt.datetime(2026, 11, 20, 15, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert parse_period_bound("2026-11-01", now) == dt.datetime(2026, 11, 1, tzinfo=ZoneInfo("Europe/Berlin"))
    assert parse_period_bound("2026-11-01", now, end=True) == dt.datetime(2026, 11, 2, tzinfo=ZoneInfo("Europe/Berlin"))
    assert parse_period_bound("7d", now) == now - dt.timedelta(days=7)
    assert parse_period_bound("4w", now) == now - dt.timedelta(weeks=4)
    assert parse_period_bound("today", now).hour == 0 and parse_period_bound("now", now) == now
    try:
        parse_period_bound("someday", now)
    except WhenError as e:
        assert "7d" in str(e)
    else:
        raise AssertionError("no error for 'someday'")


# --- two agents' stores on one Dovecot mailbox ---------------------------------------------

async def team_store(tmp_path, dovecot, user, name: str, folders=None) -> tuple[Desk, AccountSync]:
    account = account_for(dovecot, user, folders=folders) if folders else account_for(dovecot, user)
    config = dataclasses.replace(UTC_DESK, agent=name, accounts=(account,))
    desk = await Desk.open(tmp_path / f"{name}.db", config, clock=Clock())
    sync = AccountSync(desk.store, account, dovecot.password_of(user), is_agent=config.is_agent_address,
                       on_change=desk.refresh)
    await sync.sync_once()
    return desk, sync


async def test_two_stores_on_one_mailbox_and_a_rebuilt_one_give_the_same_report(tmp_path, dovecot, mail_user, capsys):
    sent = "Support <support@helpdesk.test>"
    dovecot.load_maildir(mail_user, [
        make_mail("t1@t", sender="Ann <ann@a.test>", subject="Refund"),
        make_mail("t2@t", sender=sent, minutes=45, refs=["t1@t"], in_reply_to="t1@t", to="ann@a.test"),
        make_mail("t3@t", sender="Bo <bo@b.test>", minutes=60, subject="Crash"),
        make_mail("t4@t", sender=sent, minutes=200, refs=["t3@t"], in_reply_to="t3@t", to="bo@b.test"),
        make_mail("t5@t", sender="Bo <bo@b.test>", minutes=1500, refs=["t3@t", "t4@t"], in_reply_to="t4@t"),
        make_mail("t6@t", sender="Cy <cy@c.test>", minutes=90, subject="Pricing"),  # mail only
    ])
    alice, alice_sync = await team_store(tmp_path, dovecot, mail_user, "alice")
    bob, bob_sync = await team_store(tmp_path, dovecot, mail_user, "bob")
    for desk, msgid, minutes in ((alice, "t2@t", 45), (bob, "t4@t", 200)):
        conv = await conv_of(desk, msgid)
        anchor = (await store_events.anchors(desk.store, [conv]))[conv]
        async with desk.store.transaction():
            await store_events.record(desk.store, [Event(new_event_id(at(minutes)), at(minutes), desk.agent, "reply",
                                                         anchor, {"message_id": msgid, "snippets": [{"name": "hi"}]})])
    await set_status(alice, alice.clock, 50, "t1@t", "closed")
    await act(alice, alice.clock, 55, commands.tag, [await conv_of(alice, "t1@t")], ["billing"])
    await set_status(bob, bob.clock, 300, "t3@t", "closed")  # reopened by t5
    await act(bob, bob.clock, 1600, commands.assign, [await conv_of(bob, "t3@t")], "bob")
    await alice_sync.sync_once()
    await bob_sync.sync_once()
    await alice_sync.sync_once()
    fresh, _ = await team_store(tmp_path, dovecot, mail_user, "carol", folders=("INBOX", "History"))
    reports = []
    for name in ("alice", "bob", "carol"):
        out = await cli(capsys, *cli_args(tmp_path, f"{name}.db"), "report", "--since", SINCE, "--until", UNTIL,
                        "--json", "--by", "agent,tag,snippet,domain,day,week")
        reports.append(json.loads(out))
    assert reports[0] == reports[1] == reports[2]
    h = reports[0]["headline"]
    assert (h["conversations"], h["mail_only_conversations"], h["closed"], h["reopens"]) == (3, 1, 1, 1)
    assert h["first_response"]["calendar"]["count"] == 2 and h["first_response"]["calendar"]["median"] == (2700 + 8400) / 2
    assert {g["key"] for g in reports[0]["breakdowns"]["agent"]} >= {"alice", "bob"}
    for d in (alice, bob, fresh):
        await d.close()


async def test_an_undone_close_is_no_reopen_in_the_figures_nor_in_the_history(tmp_path):
    """The tryout: c then u within the undo window counted a reopen (report --json reopens 1) and
    the history said "reopened (was closed)". An undo takes the close back: no reopen, no close,
    no resolution or FCR from it; the history says "closed, undone" once. A later close is the
    conversation's one close, resolved at first contact; a reopen by hand is still a reopen."""
    desk, clock = await open_desk(tmp_path)
    await customer(desk, "u1@t", 0, "Una <una@u.test>", subject="Parcel")
    await reply(desk, "u2@t", 60, ["u1@t"])
    conv = await conv_of(desk, "u1@t")
    await set_status(desk, clock, 90, "u1@t", "closed")
    clock.now = at(90.1)
    assert await desk.undo() == f"closed 1 conversation (#{conv} Parcel)"
    h = (await desk.report(P_SINCE, P_UNTIL)).headline
    assert (h.closed, h.reopens, h.reopened_conversations, h.fcr_eligible) == (0, 0, 0, 0)
    assert [line.text for line in await desk.history(conv) if line.kind == "status"] == ["closed, undone"]

    await set_status(desk, clock, 120, "u1@t", "closed")
    h = (await desk.report(P_SINCE, P_UNTIL)).headline
    assert (h.closed, h.reopens, h.fcr_eligible, h.fcr_resolved) == (1, 0, 1, 1)
    assert h.resolution.calendar.median == 120 * MIN
    await set_status(desk, clock, 150, "u1@t", "open")  # by hand, not an undo: a reopen
    h = (await desk.report(P_SINCE, P_UNTIL)).headline
    assert (h.closed, h.reopens, h.reopened_conversations) == (0, 1, 1)
    assert [line.text for line in await desk.history(conv) if line.kind == "status"] == [
        "closed, undone", "closed (was pending)", "reopened (was closed)"]
    await desk.close()
