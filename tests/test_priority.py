"""Priority on crafted histories: waiting time decides, loud is flagged but not ranked up."""

from __future__ import annotations

import dataclasses

from tests.mailfactory import BASE, make_mail, with_date
from tui_desk.config import Config, PriorityConfig
from tui_desk.desk.service import Desk
from tui_desk.mail.parse import parse_message
from tui_desk.store import ingest as store_ingest
from tui_desk.store.queries import set_status

T0 = int(BASE.timestamp())
AGENTS = Config(agent_addresses=("*@helpdesk.test",))


async def open_desk(tmp_path, config=AGENTS, now_minutes=600):
    return await Desk.open(tmp_path / "p.db", config, clock=lambda: T0 + now_minutes * 60)


async def add(desk, *raws):
    items = [store_ingest.NewMessage(raw=r, parsed=(p := parse_message(r)),
                                     is_agent=desk.config.is_agent_address(p.sender.key)) for r in raws]
    result = await store_ingest.ingest(desk.store, items)
    await desk.refresh(result.conversations)


async def queue(desk):
    return await desk.queue_rows(await desk.queue_ids())


async def test_longest_waiting_first_not_fifo_of_threads(tmp_path):
    desk = await open_desk(tmp_path)
    # quiet customer wrote first (t=0); a thread started earlier but answered is not waiting
    await add(desk,
              make_mail("old@t", sender="old@c.test", minutes=-100),
              make_mail("ans@t", sender="agent1@helpdesk.test", refs=["old@t"], minutes=-90),
              make_mail("quiet@t", sender="quiet@c.test", minutes=0),
              make_mail("later@t", sender="later@c.test", minutes=30))
    rows = await queue(desk)
    assert [r.customer_addr for r in rows] == ["quiet@c.test", "later@c.test"]
    assert rows[0].marker == "!" and "over the 2h target" in rows[0].reasons[0]
    pending = await desk.queue_rows(await desk.queue_ids("status:pending"))
    assert [r.customer_addr for r in pending] == ["old@c.test"]
    await desk.close()


async def test_loud_customer_does_not_push_down_the_quiet_one(tmp_path):
    desk = await open_desk(tmp_path)
    await add(desk,
              make_mail("q@t", sender="quiet@c.test", minutes=0),
              # loud: three replies in one thread within 5 minutes, starting later
              make_mail("l1@t", sender="loud@c.test", subject="URGENT!!! help", minutes=5),
              make_mail("l2@t", sender="loud@c.test", subject="Re: URGENT!!! help", refs=["l1@t"], minutes=7),
              make_mail("l3@t", sender="loud@c.test", subject="Re: URGENT!!! help", refs=["l2@t"], minutes=9))
    rows = await queue(desk)
    loud = next(r for r in rows if r.customer_addr == "loud@c.test")
    assert "loud" in loud.flags and "urgent-word" in loud.flags
    assert any("counted once" in why for why in loud.reasons)
    # the urgent word is worth a capped 30 minutes: loud started 5 minutes later, so it ranks
    # first, but no more than 30 minutes ahead; three mails add nothing
    assert rows[0].customer_addr == "loud@c.test"
    assert round((rows[0].score - rows[1].score) * 120) == 30 - 5
    await desk.close()


async def test_three_separate_mails_from_one_customer_count_once(tmp_path):
    desk = await open_desk(tmp_path)
    await add(desk,
              make_mail("s1@t", sender="burst@c.test", subject="help", minutes=0),
              make_mail("q@t", sender="quiet@c.test", minutes=2),
              make_mail("s2@t", sender="burst@c.test", subject="hello??", minutes=3),
              make_mail("s3@t", sender="burst@c.test", subject="anyone", minutes=4))
    rows = await queue(desk)
    order = [r.customer_addr for r in rows]
    # the burst's follow-ups sit right behind its first mail, to be answered together: the quiet
    # customer (after burst's first mail, which did come first) waits behind them, by at most
    # the loud window
    assert order == ["burst@c.test", "burst@c.test", "burst@c.test", "quiet@c.test"]
    assert all("loud" in r.flags for r in rows[:3])
    await desk.close()


async def test_a_conversation_kept_next_to_the_customers_first_says_so(tmp_path):
    desk = await open_desk(tmp_path)
    await add(desk,
              make_mail("s1@t", sender="two@c.test", subject="help", minutes=0),
              make_mail("q@t", sender="quiet@c.test", minutes=2),
              make_mail("s2@t", sender="two@c.test", subject="hello??", minutes=3))
    rows = await queue(desk)
    assert [r.customer_addr for r in rows] == ["two@c.test", "two@c.test", "quiet@c.test"]
    first, second, quiet = rows
    assert "loud" not in second.flags  # two mails: not loud, yet ranked up all the same
    assert f"same customer as #{first.id}: kept next to it" in second.reasons
    # the reasons explain the score: the waiting they show is 7 minutes, the rank is #1's
    assert second.score > quiet.score
    assert not any("kept next to" in why for why in first.reasons + quiet.reasons)
    await desk.close()


async def test_urgent_boost_is_capped_and_configurable(tmp_path):
    cfg = dataclasses.replace(AGENTS, priority=PriorityConfig(urgent_boost_minutes=10))
    desk = await open_desk(tmp_path, cfg)
    await add(desk,
              make_mail("a@t", sender="a@c.test", minutes=0),
              make_mail("b@t", sender="b@c.test", subject="URGENT URGENT ASAP СРОЧНО!!!", minutes=11))
    rows = await queue(desk)
    assert [r.customer_addr for r in rows] == ["a@c.test", "b@c.test"]
    await desk.close()


async def test_vip_and_tag_weights(tmp_path):
    cfg = dataclasses.replace(AGENTS, priority=PriorityConfig(vip=("bigcorp.test",), vip_boost_minutes=60))
    desk = await open_desk(tmp_path, cfg)
    await add(desk,
              make_mail("a@t", sender="a@c.test", minutes=0),
              make_mail("v@t", sender="ceo@bigcorp.test", minutes=45))
    rows = await queue(desk)
    assert rows[0].customer_addr == "ceo@bigcorp.test" and "vip" in rows[0].flags
    await desk.close()


async def test_customer_reply_reopens_a_closed_conversation(tmp_path):
    desk = await open_desk(tmp_path)
    await add(desk, make_mail("c1@t", sender="c@c.test", minutes=0),
              make_mail("c2@t", sender="agent1@helpdesk.test", refs=["c1@t"], minutes=10))
    [conv] = await desk.queue_ids("status:pending")
    await set_status(desk.store, [conv], "closed", T0 + 20 * 60)
    await desk.refresh([conv])
    assert await desk.queue_ids() == []
    await add(desk, make_mail("c3@t", sender="c@c.test", refs=["c1@t", "c2@t"], minutes=30))
    assert await desk.queue_ids() == [conv]
    await desk.close()


async def test_business_hours_across_a_weekend_and_a_holiday(tmp_path):
    import datetime as dt
    from zoneinfo import ZoneInfo
    berlin = ZoneInfo("Europe/Berlin")
    fri_1630 = dt.datetime(2026, 11, 27, 16, 30, tzinfo=berlin)
    mon_0900 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=berlin)
    now = dt.datetime(2026, 11, 30, 9, 30, tzinfo=berlin)
    cfg = dataclasses.replace(AGENTS, priority=PriorityConfig(
        business_hours=(dt.time(9), dt.time(17)), timezone="Europe/Berlin"))
    desk = await Desk.open(tmp_path / "b.db", cfg, clock=lambda: now.timestamp())

    def at(when):
        return (when - BASE).total_seconds() / 60
    await add(desk, make_mail("fri@t", sender="fri@c.test", minutes=at(fri_1630)),
              make_mail("mon@t", sender="mon@c.test", minutes=at(mon_0900)))
    rows = await queue(desk)
    assert [r.customer_addr for r in rows] == ["fri@c.test", "mon@c.test"]
    # Friday 16:30-17:00 plus Monday 9:00-9:30: one business hour, not 65 hours
    assert rows[0].reasons[0].startswith("waiting 1h of 2h target")
    assert rows[1].reasons[0].startswith("waiting 30m of 2h target")
    await desk.close()
    # with Monday a holiday, Friday's customer has waited 30 minutes and Monday's nothing yet
    holiday = dataclasses.replace(cfg, priority=dataclasses.replace(cfg.priority, holidays=(mon_0900.date(),)))
    desk = await Desk.open(tmp_path / "b.db", holiday, clock=lambda: now.timestamp())
    await desk.refresh_all()
    rows = await queue(desk)
    assert rows[0].reasons[0].startswith("waiting 30m") and rows[1].reasons[0].startswith("waiting 0m")
    await desk.close()


def test_business_clock_counts_only_working_time():
    import datetime as dt
    from tui_desk.desk.business_time import BusinessClock
    clock = BusinessClock((dt.time(9), dt.time(17)), zone="UTC", holidays=(dt.date(2026, 12, 25),))
    def t(*a):
        return dt.datetime(*a, tzinfo=dt.timezone.utc).timestamp()

    assert clock.elapsed(t(2026, 12, 24, 17)) - clock.elapsed(t(2026, 12, 24, 9)) == 8 * 3600
    # Thu 24th 16:00 -> Mon 28th 10:00 over Christmas Friday and a weekend: 1h + 1h
    assert clock.elapsed(t(2026, 12, 28, 10)) - clock.elapsed(t(2026, 12, 24, 16)) == 2 * 3600
    always = BusinessClock()
    assert always.elapsed(t(2026, 12, 28, 10)) - always.elapsed(t(2026, 12, 24, 16)) == 90 * 3600


async def test_whole_store_recomputation_matches_per_conversation_refresh(tmp_path):
    """refresh_all (one pass) and rerank_all (ranks from stored summaries, on a settings change)
    give exactly the rows that refreshing every conversation one by one gives."""
    from tui_desk.desk import commands
    raws = []
    for i in range(60):
        customer = f"c{i % 17}@c{i % 5}.test"  # some customers write several separate mails
        raws.append(make_mail(f"m{i}@t", sender=customer, subject="URGENT refund" if i % 7 == 0 else f"q {i}",
                              minutes=i * 3))
        if i % 4 == 0:
            raws.append(make_mail(f"a{i}@t", sender="agent1@helpdesk.test", refs=[f"m{i}@t"], minutes=i * 3 + 20))
        if i % 9 == 0:
            raws.append(make_mail(f"r{i}@t", sender=customer, refs=[f"m{i}@t"], minutes=i * 3 + 2))
    desk = await open_desk(tmp_path)
    await add(desk, *raws)
    ids = await desk.queue_ids()
    await commands.tag(desk, ids[:10], ["billing"])
    await commands.set_status(desk, ids[10:14], "closed")

    columns = "id, status, rank, burst, waiting_since, message_count, last_date, snooze_until"

    async def rows(d):
        return [tuple(r) for r in await d.store.fetchall(f"SELECT {columns} FROM conversations ORDER BY id")]

    async def one_by_one(d):
        for cid in [r[0] for r in await d.store.fetchall("SELECT id FROM conversations")]:
            await d.refresh([cid])
        return await rows(d)

    expected = await one_by_one(desk)
    await desk.store.execute("UPDATE conversations SET rank=0, burst=0")
    await desk.refresh_all()
    assert await rows(desk) == expected
    await desk.close()

    changed = dataclasses.replace(AGENTS, priority=PriorityConfig(tag_weights={"billing": 45}, vip=("c3@c3.test",),
                                                                  urgent_boost_minutes=10))
    desk = await open_desk(tmp_path, changed)  # settings changed, loud window not: ranks only
    reranked = await rows(desk)
    assert reranked != expected
    assert reranked == await one_by_one(desk)
    await desk.close()


async def test_changing_who_is_an_agent_reclassifies_stored_mail(tmp_path):
    """A colleague's address added to agent_addresses later: their earlier mail becomes agent
    replies (the conversation now waits on the customer), and back when removed. The account's
    own address always counts as the desk's."""
    from tui_desk.config import AccountConfig
    desk = await open_desk(tmp_path, Config(agent_addresses=("nobody@x.test",)))
    await add(desk, make_mail("c1@t", sender="ann@c.test", minutes=0),
              make_mail("r1@t", sender="bob@helpdesk.test", refs=["c1@t"], minutes=10),
              make_mail("c2@t", sender="cy@c.test", minutes=5),
              make_mail("r2@t", sender="support@helpdesk.test", refs=["c2@t"], minutes=12))
    assert len(await desk.queue_ids()) == 2  # nobody is an agent yet: both wait
    await desk.close()
    account = AccountConfig(name="support", address="Support@helpdesk.test")
    desk = await open_desk(tmp_path, Config(accounts=(account,)))
    [(row)] = await queue(desk)
    assert row.customer_addr == "ann@c.test"  # the account's own reply answered cy
    await desk.close()
    desk = await open_desk(tmp_path, Config(agent_addresses=("bob@helpdesk.test",), accounts=(account,)))
    assert await desk.queue_ids() == []
    await desk.close()
    desk = await open_desk(tmp_path, Config(accounts=(account,)))  # bob left the team
    assert [r.customer_addr for r in await queue(desk)] == ["ann@c.test"]
    await desk.close()
    desk = await open_desk(tmp_path, Config())  # a config that names no agent changes nothing
    assert [r.customer_addr for r in await queue(desk)] == ["ann@c.test"]
    await desk.close()


async def test_nobody_waits_on_a_closed_spam_or_pending_conversation(tmp_path):
    desk = await open_desk(tmp_path)  # ten hours after the customers wrote, unanswered
    await add(desk, make_mail("a@t", sender="a@c.test", minutes=0), make_mail("b@t", sender="b@c.test", minutes=1),
              make_mail("c@t", sender="c@c.test", minutes=2), make_mail("d@t", sender="d@c.test", minutes=3))
    ids = {r.customer_addr: r.id for r in await queue(desk)}
    for addr, status in (("a@c.test", "closed"), ("b@c.test", "spam"), ("c@c.test", "pending")):
        await set_status(desk.store, [ids[addr]], status, T0 + 20 * 60)
    await desk.refresh(list(ids.values()))
    rows = {r.customer_addr: r for r in await desk.queue_rows(list(ids.values()))}
    assert rows["d@c.test"].marker == "!" and "over the 2h target" in rows["d@c.test"].reasons[0]
    for addr, said in (("a@c.test", "closed"), ("b@c.test", "spam"), ("c@c.test", "waiting on the customer")):
        row = rows[addr]
        assert row.marker == " " and row.score == 0, (addr, row)
        assert not any("waiting" in r and "target" in r for r in row.reasons), (addr, row.reasons)
        assert said in row.reasons[0], (addr, row.reasons)
        assert (await desk.conversation(row.id)).reasons == row.reasons  # `show` says the same
    await desk.close()


async def test_a_date_not_to_be_believed_ranks_by_when_the_mail_arrived(tmp_path):
    desk = await open_desk(tmp_path)  # now: ten hours after T0
    arrived = T0 + 60 * 60  # the server got the odd ones an hour after the honest one was written
    honest = make_mail("honest@t", sender="honest@c.test", minutes=0)
    odd = {
        "1900@c.test": ("Mon, 1 Jan 1900 00:00:00 +0000", "Date header said 1900-01-01"),
        "none@c.test": (None, "no Date header"),
        "junk@c.test": ("someday soon", "the Date header is unreadable"),
        "9999@c.test": ("Fri, 31 Dec 9999 23:59:59 +0000", "Date header said 9999-12-31"),
        "0001@c.test": ("Mon, 1 Jan 0001 00:00:00 +0000", "Date header said 0001-01-01"),  # not 2001
    }
    items = [store_ingest.NewMessage(raw=honest, parsed=parse_message(honest), arrived=arrived + 60)]
    for addr, (date, _) in odd.items():
        raw = with_date(make_mail(f"{addr}.msg", sender=addr, minutes=0), date)
        items.append(store_ingest.NewMessage(raw=raw, parsed=parse_message(raw), arrived=arrived))
    await desk.refresh((await store_ingest.ingest(desk.store, items)).conversations)
    rows = await queue(desk)
    assert rows[0].customer_addr == "honest@c.test" and rows[0].reasons[0].startswith("waiting 10h")
    assert not any("date corrected" in r for r in rows[0].reasons)
    for row in rows[1:]:
        assert row.reasons[0].startswith("waiting 9h"), row.reasons  # not 46359d, 0m or nobody waiting
        said = odd[row.customer_addr][1]
        note = f"date corrected: {said}; using the server's arrival time"
        assert note in row.reasons, row.reasons
        view = await desk.conversation(row.id)
        assert note in view.messages[0].defects and note in view.reasons  # `show` and `p`
        assert int(view.messages[0].date.timestamp()) == arrived
    assert len(rows) == 1 + len(odd)
    # with nothing known of the arrival, the time the mail was stored is used (never no date)
    raw = with_date(make_mail("late@t", sender="late@c.test"), None)
    await add(desk, raw)
    row = await desk.store.fetchone("SELECT date, added_at, defects_json FROM messages WHERE message_id='late@t'")
    assert row[0] == row[1] and "using the time it was stored" in row[2]
    await desk.close()
