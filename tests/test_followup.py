"""Bulk follow-up (desk.followup) against the suite's Dovecot and aiosmtpd sink: the dry run
lists exactly what is then sent and sends nothing; the [followup] pace on an injected clock; a
second run queues nothing twice; tags and status; the history records the snippet."""

from __future__ import annotations

import asyncio
import dataclasses
import email
from email import policy

import pytest

from tests.accounts import config_for
from tests.clock import Clock
from tests.mailfactory import make_mail
from tui_desk.config import FollowupConfig
from tui_desk.desk import followup
from tui_desk.desk.commands import CommandError
from tui_desk.desk.service import Desk
from tui_desk.desk.views import Snippet
from tui_desk.store import outbox
from tui_desk.sync.delivery import OutboxSender
from tui_desk.sync.imap_sync import AccountSync

SHIPPED = Snippet("feature-shipped", "Feature shipped", (), "Hi {{customer_first_name}},\n\n"
                  "dark mode is out today (ticket {{ticket_id}}).\n\nThanks for asking for it!")
CUSTOMERS = ["Ann Lee <ann@c.test>", "Bob Stone <bob@c.test>", "Cy <cy@d.test>",
             # a hostile name: the dry run shows it through the sanitizer, the mail carries it as text
             "\"Eve \x1b[31mRed\x1b]0;pwned\x07\" <eve@e.test>"]


def first_text_line(raw: bytes) -> str:
    m = email.message_from_bytes(raw, policy=policy.default)
    text = m.get_body(("plain",)).get_content()
    return next(line.strip() for line in text.splitlines() if line.strip())


async def desk_with_requests(tmp_path, dovecot, user, smtp_port, clock, n: int = len(CUSTOMERS), per_minute=30):
    mails = [make_mail(f"dm{i}@t", sender=CUSTOMERS[i % len(CUSTOMERS)].replace("@", f"{i}@", 1) if i >= len(CUSTOMERS)
                       else CUSTOMERS[i], subject=f"Dark mode? ({i})", body="Is dark mode coming?\n", minutes=i)
             for i in range(n)]
    dovecot.load_maildir(user, mails)
    cfg = dataclasses.replace(config_for(dovecot, user, smtp_port), followup=FollowupConfig(per_minute))
    desk = await Desk.open(tmp_path / "s.db", cfg, clock=clock)
    desk._snippets = [SHIPPED]
    sync = AccountSync(desk.store, cfg.accounts[0], dovecot.password_of(user), is_agent=cfg.is_agent_address,
                       on_change=desk.refresh)
    await sync.sync_once()
    ids = await desk.queue_ids("subject:dark")
    assert len(ids) == n
    await desk.tag(ids, ["wants-dark-mode"])
    sender = OutboxSender(desk.store, cfg, lambda a, k: "secret", on_change=desk.refresh, clock=clock)
    return desk, sender


async def test_the_dry_run_sends_nothing_and_lists_exactly_what_goes(tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    clock = Clock()
    desk, sender = await desk_with_requests(tmp_path, dovecot, mail_user, smtp_sink.port, clock, per_minute=600)
    ids = await desk.queue_ids("tag:wants-dark-mode")
    dry = await followup.plan(desk, ids, "feature-shipped")
    assert [i.state for i in dry.items] == ["new"] * len(CUSTOMERS)
    assert await outbox.items(desk.store) == [] and smtp_sink.messages == [], "a dry run sends nothing"
    lines = [i.line() for i in dry.items]
    assert all("\x1b" not in line and "\x07" not in line and "\n" not in line for line in lines)
    assert lines[0] == f"#{min(ids)}  ann@c.test  Re: [#{min(ids)}] Dark mode? (0)  Hi Ann,"
    assert [line.state for line in await desk.followup_preview(ids, "feature-shipped")] == ["new"] * len(CUSTOMERS)

    done = await followup.run(desk, dry)
    assert len(done.queued) == len(CUSTOMERS) and done.skipped == [] and done.already == []
    clock.now += 3600
    report = await sender.run_due()
    assert len(report.sent) == len(CUSTOMERS)
    got = smtp_sink.wait_for(len(CUSTOMERS))
    sent = sorted((tuple(m.rcpt_tos), email.message_from_bytes(m.data, policy=policy.default)["Subject"],
                   first_text_line(m.data)) for m in got)
    assert sent == sorted((i.to, i.subject, i.first_line) for i in dry.items), "the dry run is what went"
    by_mid = {email.message_from_bytes(m.data)["Message-ID"].strip("<>"): m for m in got}
    assert set(by_mid) == {i.message_id for i in dry.items}
    assert all("{{" not in first_text_line(m.data) for m in got)
    await desk.close()


async def test_the_pace_is_the_configured_rate_on_the_outbox_clock(tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    clock = Clock()
    clock.now = float(int(clock.now))
    desk, sender = await desk_with_requests(tmp_path, dovecot, mail_user, smtp_sink.port, clock, per_minute=2)
    ids = await desk.queue_ids("tag:wants-dark-mode")
    start = desk.now()
    done = await followup.run(desk, await followup.plan(desk, ids[:3], "feature-shipped"))
    undo = desk.config.accounts[0].undo_send_seconds
    assert [send_at for _, _, send_at in done.queued] == [start + undo, start + undo + 30, start + undo + 60]
    # a second follow-up (another snippet's round) waits behind the first: the pace is the desk's
    later = await followup.run(desk, await followup.plan(desk, ids[3:], "feature-shipped", followup_id="round-2"))
    assert [send_at for _, _, send_at in later.queued] == [start + undo + 90]

    sent_at: list[float] = []
    for _ in range(12):  # two minutes in 10 s steps, the way the app's outbox runs
        report = await sender.run_due()
        sent_at += [clock.now] * len(report.sent)
        clock.now += 10
    assert len(sent_at) == 4
    assert all(b - a >= 30 for a, b in zip(sent_at, sent_at[1:])), "at most 2 a minute"
    assert len(smtp_sink.wait_for(4)) == 4
    await desk.close()


async def test_a_second_run_queues_nothing_twice_and_tags_and_closes(tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    clock = Clock()
    desk, sender = await desk_with_requests(tmp_path, dovecot, mail_user, smtp_sink.port, clock, per_minute=600)
    ids = await desk.queue_ids("tag:wants-dark-mode")
    first = await followup.run(desk, await followup.plan(desk, ids[:2], "feature-shipped"))
    assert len(first.queued) == 2
    again = await followup.run(desk, await followup.plan(desk, ids, "feature-shipped"), add_tags=["shipped"],
                               remove_tags=["wants-dark-mode"], status="closed")
    assert len(again.queued) == len(ids) - 2 and len(again.already) == 2
    assert {i.conv_id for i, _, _ in again.queued} == set(ids[2:])
    rows = await desk.queue_rows(ids)
    assert all(r.status == "closed" and "shipped" in r.tags and "wants-dark-mode" not in r.tags for r in rows)
    assert await desk.queue_ids("tag:wants-dark-mode") == []
    third = await followup.plan(desk, ids, "feature-shipped")
    assert [i.state for i in third.items] == ["already"] * len(ids)
    assert "already sent" in third.items[0].line()

    clock.now += 3600
    await sender.run_due()
    assert len(smtp_sink.wait_for(len(ids))) == len(ids)
    history = await desk.history(ids[0])  # a reply's event is history once it is sent
    [reply] = [h for h in history if h.kind == "reply"]
    assert reply.data["followup"] == "feature-shipped"
    assert [s["name"] for s in reply.data["snippets"]] == ["feature-shipped"]
    assert reply.text == "replied with feature-shipped"
    # once sent (the outbox row done, the copy in the conversation), still never again
    assert (await followup.run(desk, await followup.plan(desk, ids, "feature-shipped"))).queued == []
    assert len(smtp_sink.messages) == len(ids)
    await desk.close()


async def test_a_conversation_that_cannot_be_filled_is_skipped_and_said(tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    clock = Clock()
    desk, _ = await desk_with_requests(tmp_path, dovecot, mail_user, smtp_sink.port, clock, n=2)
    desk._snippets = [dataclasses.replace(SHIPPED, body="Hi {{customer_first_name}}, order {{order_number}}")]
    ids = await desk.queue_ids("tag:wants-dark-mode")
    the_plan = await followup.plan(desk, ids, "feature-shipped")
    assert [i.state for i in the_plan.items] == ["skipped", "skipped"]
    assert "{{order_number}}" in the_plan.items[0].line()
    done = await followup.run(desk, the_plan, add_tags=["shipped"])
    assert done.queued == [] and len(done.skipped) == 2 and await outbox.items(desk.store) == []
    assert all("shipped" not in r.tags for r in await desk.queue_rows(ids)), "no reply, no tag"
    with pytest.raises(CommandError, match="no snippet 'nope'"):
        await followup.plan(desk, ids, "nope")
    await desk.close()


def test_followup_config_and_rate(tmp_path):
    import argparse

    from tui_desk.cli.followup import rate
    from tui_desk.config import ConfigError, load_config
    cfg = tmp_path / "config.toml"
    cfg.write_text("[followup]\nper_minute = 12\n")
    assert load_config(cfg).followup.per_minute == 12
    assert load_config(tmp_path / "none.toml").followup.per_minute == 30
    for bad, said in (("per_minute = 0", "must be 1 or more"), ('per_minute = "fast"', "a whole number"),
                      ("every = 3", "unknown key 'followup.every'")):
        cfg.write_text(f"[followup]\n{bad}\n")
        with pytest.raises(ConfigError, match=said):
            load_config(cfg)
    assert rate("30/min") == rate("30") == rate("30 / minute") == 30
    for bad in ("0/min", "fast", "30/h"):
        with pytest.raises(argparse.ArgumentTypeError):
            rate(bad)
    # the pace: 60/per_minute apart, after the undo window, behind what already waits
    assert followup.send_times(3, 1000, 10, 120, None) == [1010, 1010, 1011]
    assert followup.send_times(2, 1000, 10, 6, 1100) == [1110, 1120]


async def test_list_and_bulk_senders_are_skipped_with_the_reason_in_the_dry_run_and_the_run(tmp_path, dovecot,
                                                                                           mail_user, smtp_sink):
    """The automatic replies' guards hold for a bulk follow-up too: a mailing list's mail and a
    Precedence: bulk sender are listed as skipped, with the guard's reason, and not sent to."""
    smtp_sink.clear()
    clock = Clock()
    listed = make_mail("list@t", sender="Dev list <dev@lists.test>", subject="Dark mode? (list)",
                       minutes=10).replace(b"Subject:", b"List-Id: <dev.lists.test>\r\nSubject:", 1)
    bulk = make_mail("bulk@t", sender="Digest <digest@news.test>", subject="Dark mode? (bulk)",
                     minutes=11).replace(b"Subject:", b"Precedence: bulk\r\nSubject:", 1)
    dovecot.load_maildir(mail_user, [make_mail("ann@t", sender="Ann Lee <ann@c.test>", subject="Dark mode? (ann)"),
                                     listed, bulk])
    cfg = config_for(dovecot, mail_user, smtp_sink.port)
    desk = await Desk.open(tmp_path / "s.db", cfg, clock=clock)
    desk._snippets = [SHIPPED]
    sync = AccountSync(desk.store, cfg.accounts[0], dovecot.password_of(mail_user), is_agent=cfg.is_agent_address,
                       on_change=desk.refresh)
    await sync.sync_once()
    ids = await desk.queue_ids("subject:dark")
    dry = await followup.plan(desk, ids, "feature-shipped")
    by_state = {i.state: [] for i in dry.items}
    for i in dry.items:
        by_state[i.state].append(i)
    assert [i.to for i in by_state["new"]] == [("ann@c.test",)]
    reasons = sorted(i.problem or "" for i in by_state["skipped"])
    assert reasons == ["a sender automatic replies skip: List-Id: a mailing list",
                       "a sender automatic replies skip: Precedence: bulk"], reasons
    assert all("skipped: a sender automatic replies skip" in i.line() for i in by_state["skipped"])
    preview = await desk.followup_preview(ids, "feature-shipped")
    assert sorted(line.state for line in preview) == ["new", "skipped", "skipped"]
    done = await followup.run(desk, dry)
    assert len(done.queued) == 1 and len(done.skipped) == 2
    assert [r for item in await outbox.items(desk.store) for r in item.recipients] == ["ann@c.test"]
    await desk.close()


async def desk_with_customers(tmp_path, dovecot, user, smtp_port, clock, requests):
    """A desk with one conversation per (sender, subject, minutes) request, tagged wants-dark-mode;
    (desk, outbox sender, {subject: conversation id})."""
    dovecot.load_maildir(user, [make_mail(f"req{i}@t", sender=sender, subject=subject, minutes=minutes,
                                          body="Is dark mode coming?\n")
                                for i, (sender, subject, minutes) in enumerate(requests)])
    cfg = dataclasses.replace(config_for(dovecot, user, smtp_port), followup=FollowupConfig(600))
    desk = await Desk.open(tmp_path / "s.db", cfg, clock=clock)
    desk._snippets = [SHIPPED]
    sync = AccountSync(desk.store, cfg.accounts[0], dovecot.password_of(user), is_agent=cfg.is_agent_address,
                       on_change=desk.refresh)
    await sync.sync_once()
    rows = await desk.queue_rows(await desk.queue_ids("subject:dark"))
    by_subject = {r.subject: r.id for r in rows}
    assert len(by_subject) == len(requests), "one conversation per request"
    await desk.tag(list(by_subject.values()), ["wants-dark-mode"])
    sender = OutboxSender(desk.store, cfg, lambda a, k: "secret", on_change=desk.refresh, clock=clock)
    return desk, sender, by_subject


async def notes_of(desk: Desk, conv_id: int) -> list[str]:
    view = await desk.conversation(conv_id)
    assert view is not None
    return [" ".join(b.text for b in m.blocks) for m in view.messages if m.is_note]


async def test_one_mail_per_customer_in_their_most_recent_open_conversation(tmp_path, dovecot, mail_user, smtp_sink):
    """Ann asked three times (two still open), Cy twice (both closed), Bob once: three customers,
    three mails. Ann's goes in her most recent open conversation, Cy's in his most recent one; the
    others get a note naming the one that carries it, and the same follow-up again mails nobody,
    not even through a conversation of Ann's the first run did not select."""
    smtp_sink.clear()
    clock = Clock()
    ann, bob, cy = "Ann Lee <ann@c.test>", "Bob Stone <bob@c.test>", "Cy <CY@d.test>"
    desk, sender, conv = await desk_with_customers(tmp_path, dovecot, mail_user, smtp_sink.port, clock, [
        (ann, "Dark mode? (ann, first)", 0), (ann, "Dark mode? (ann, second)", 10),
        (ann, "Dark mode? (ann, newest, closed)", 20), (bob, "Dark mode? (bob)", 5),
        (cy, "Dark mode? (cy, older)", 1), ("Cy <cy@d.test>", "Dark mode? (cy, newer)", 2),
        (ann, "Dark mode? (ann, later)", 30)])
    await desk.set_status([conv["Dark mode? (ann, newest, closed)"], conv["Dark mode? (cy, older)"],
                           conv["Dark mode? (cy, newer)"]], "closed")
    later = conv.pop("Dark mode? (ann, later)")  # not in this run
    ids = sorted(conv.values())
    ann_carrier, cy_carrier = conv["Dark mode? (ann, second)"], conv["Dark mode? (cy, newer)"]
    carriers = {ann_carrier, conv["Dark mode? (bob)"], cy_carrier}
    told_in = {conv["Dark mode? (ann, first)"]: ann_carrier, conv["Dark mode? (ann, newest, closed)"]: ann_carrier,
               conv["Dark mode? (cy, older)"]: cy_carrier}

    dry = await followup.plan(desk, ids, "feature-shipped")
    assert {i.conv_id for i in dry.items if i.state == "new"} == carriers
    assert {i.conv_id: i.told_in for i in dry.items if i.state == "covered"} == told_in
    assert {i.conv_id: i.customer for i in dry.items} == {
        **{conv[s]: "ann@c.test" for s in conv if "(ann" in s}, conv["Dark mode? (bob)"]: "bob@c.test",
        **{conv[s]: "cy@d.test" for s in conv if "(cy" in s}}, "the desk's normalized customer address"
    assert dry.summary() == "3 customers (6 conversations)"
    older = next(i for i in dry.items if i.conv_id == conv["Dark mode? (ann, first)"])
    assert older.line() == f"#{older.conv_id}  ann@c.test  gets it in #{ann_carrier} (one mail per customer)"
    preview = await desk.followup_preview(ids, "feature-shipped")
    assert {line.conv_id: line.state for line in preview} == {
        cid: "new" if cid in carriers else "covered" for cid in ids}

    done = await followup.run(desk, dry, add_tags=["shipped"], remove_tags=["wants-dark-mode"])
    assert {i.conv_id for i, _, _ in done.queued} == carriers and done.skipped == []
    assert {i.conv_id for i in done.noted} == set(told_in)
    assert done.line() == ("follow-up 'feature-shipped': queued 3 replies, 3 conversations noted "
                           "(one mail per customer); tagged 6 conversations +shipped -wants-dark-mode")
    items = await outbox.items(desk.store)
    assert sorted(r for item in items for r in item.recipients) == ["ann@c.test", "bob@c.test", "cy@d.test"]
    for cid, carrier in told_in.items():
        [note] = await notes_of(desk, cid)
        assert f"#{carrier}" in note and "feature-shipped" in note, note
    assert [await notes_of(desk, cid) for cid in sorted(carriers)] == [[], [], []]
    rows = await desk.queue_rows(ids)
    assert all("shipped" in r.tags and "wants-dark-mode" not in r.tags for r in rows), "the noted ones too"
    assert {r.id for r in rows if r.status == "closed"} == {conv["Dark mode? (ann, newest, closed)"],
                                                          conv["Dark mode? (cy, older)"], cy_carrier}, \
        "a note changes no status"

    clock.now += 3600
    await sender.run_due()
    got = smtp_sink.wait_for(3)
    assert sorted(r for m in got for r in m.rcpt_tos) == ["ann@c.test", "bob@c.test", "cy@d.test"]

    again = await followup.plan(desk, [*ids, later], "feature-shipped")
    assert {i.conv_id: i.state for i in again.items} == {**{cid: "already" for cid in ids}, later: "covered"}
    assert next(i for i in again.items if i.conv_id == later).told_in == ann_carrier
    rerun = await followup.run(desk, again)
    assert rerun.queued == [] and [i.conv_id for i in rerun.noted] == [later]
    assert len(await notes_of(desk, later)) == 1
    assert (await followup.run(desk, await followup.plan(desk, [*ids, later], "feature-shipped"))).noted == []
    assert len(await notes_of(desk, later)) == 1, "one note, however often it runs"
    clock.now += 3600
    await sender.run_due()
    assert len(smtp_sink.messages) == 3, "nobody twice"
    await desk.close()


async def test_the_carrier_is_a_conversation_the_mail_can_go_in(tmp_path, dovecot, mail_user, smtp_sink):
    """Ann's most recent open conversation came with Precedence: bulk, which the guards skip: her
    mail goes in her other one, and the skipped one is said as before."""
    smtp_sink.clear()
    clock = Clock()
    ann = "Ann Lee <ann@c.test>"
    desk, _, conv = await desk_with_customers(tmp_path, dovecot, mail_user, smtp_sink.port, clock, [
        (ann, "Dark mode? (1)", 0), (ann, "Dark mode? (2)", 1), ("Bob Stone <bob@c.test>", "Dark mode? (3)", 2)])
    bulk = make_mail("bulk@t", sender=ann, subject="Dark mode? (bulk)", minutes=3).replace(
        b"Subject:", b"Precedence: bulk\r\nSubject:", 1)
    dovecot.load_maildir(mail_user, [bulk])
    sync = AccountSync(desk.store, desk.config.accounts[0], dovecot.password_of(mail_user),
                       is_agent=desk.config.is_agent_address, on_change=desk.refresh)
    await sync.sync_once()
    [bulk_id] = await desk.queue_ids('subject:"dark mode? (bulk)"')
    the_plan = await followup.plan(desk, [*conv.values(), bulk_id], "feature-shipped")
    states = {i.conv_id: (i.state, i.told_in) for i in the_plan.items}
    assert states == {conv["Dark mode? (1)"]: ("covered", conv["Dark mode? (2)"]),
                      conv["Dark mode? (2)"]: ("new", None), conv["Dark mode? (3)"]: ("new", None),
                      bulk_id: ("skipped", None)}
    assert the_plan.summary() == "2 customers (3 conversations)"
    await desk.close()


async def test_a_cancelled_follow_up_mail_makes_its_conversations_eligible_again(tmp_path, dovecot, mail_user,
                                                                                smtp_sink):
    """The tryout: the follow-up's mail to Ann cancelled in the outbox (O, c) left her other
    conversation's note saying it "goes to ann in #N" and the next dry run said "already sent",
    though Ann got nothing. The cancel leaves a note beside the first saying so (nothing is lost,
    what it says is true); the next run sends Ann her mail and notes the other conversation again;
    Bob, whose mail was not cancelled, gets nothing twice."""
    smtp_sink.clear()
    clock = Clock()
    ann, bob = "Ann Lee <ann@c.test>", "Bob Stone <bob@c.test>"
    desk, sender, conv = await desk_with_customers(tmp_path, dovecot, mail_user, smtp_sink.port, clock, [
        (ann, "Dark mode? (ann, first)", 0), (ann, "Dark mode? (ann, second)", 10), (bob, "Dark mode? (bob)", 5)])
    ids = sorted(conv.values())
    carrier, covered, bobs = conv["Dark mode? (ann, second)"], conv["Dark mode? (ann, first)"], conv["Dark mode? (bob)"]
    done = await followup.run(desk, await followup.plan(desk, ids, "feature-shipped"))
    assert {i.conv_id for i, _, _ in done.queued} == {carrier, bobs} and [i.conv_id for i in done.noted] == [covered]
    [anns] = [outbox_id for item, outbox_id, _ in done.queued if item.conv_id == carrier]

    await desk.cancel_send(anns)
    notes = await notes_of(desk, covered)
    assert len(notes) == 2 and f"in #{carrier}" in notes[0], notes
    assert "cancelled" in notes[1] and "ann@c.test" in notes[1] and f"#{carrier}" in notes[1], notes
    again = await followup.plan(desk, ids, "feature-shipped")
    assert {i.conv_id: i.state for i in again.items} == {carrier: "new", covered: "covered", bobs: "already"}

    rerun = await followup.run(desk, again)
    assert [i.conv_id for i, _, _ in rerun.queued] == [carrier] and [i.conv_id for i in rerun.noted] == [covered]
    notes = await notes_of(desk, covered)
    assert len(notes) == 3 and f"in #{carrier}" in notes[2] and "cancelled" not in notes[2], notes
    assert {i.conv_id: i.state for i in (await followup.plan(desk, ids, "feature-shipped")).items} == {
        carrier: "already", covered: "already", bobs: "already"}
    clock.now += 3600
    await sender.run_due()
    got = smtp_sink.wait_for(2)
    assert sorted(r for m in got for r in m.rcpt_tos) == ["ann@c.test", "bob@c.test"]
    await desk.close()


async def test_a_cancelled_follow_up_mail_leaves_no_draft_and_says_to_run_it_again(tmp_path, dovecot, mail_user,
                                                                                   smtp_sink):
    """A reply cancelled in the outbox goes back to its draft; a follow-up's mail does not: the
    draft, sent by hand, and the follow-up run again would mail the customer twice. The line says
    the follow-up is what sends it again; a draft the agent had written in the carrier stays as
    it was (the follow-up's text is not put above it)."""
    smtp_sink.clear()
    clock = Clock()
    ann, bob = "Ann Lee <ann@c.test>", "Bob Stone <bob@c.test>"
    desk, _, conv = await desk_with_customers(tmp_path, dovecot, mail_user, smtp_sink.port, clock, [
        (ann, "Dark mode? (ann)", 0), (bob, "Dark mode? (bob)", 5)])
    anns_conv, bobs_conv = conv["Dark mode? (ann)"], conv["Dark mode? (bob)"]
    await desk.save_draft(bobs_conv, "Hi Bob, about the export you asked for:")
    done = await followup.run(desk, await followup.plan(desk, sorted(conv.values()), "feature-shipped"))
    outbox_of = {item.conv_id: outbox_id for item, outbox_id, _ in done.queued}

    said = await desk.cancel_send(outbox_of[anns_conv])
    assert "follow-up mail to ann@c.test cancelled" in said, said
    assert "no draft" in said and "run the follow-up again" in said, said
    assert await desk.draft(anns_conv) is None
    await desk.cancel_send(outbox_of[bobs_conv])
    draft = await desk.draft(bobs_conv)
    assert draft is not None and draft[0] == "Hi Bob, about the export you asked for:", draft
    again = await followup.plan(desk, sorted(conv.values()), "feature-shipped")
    assert {i.conv_id: i.state for i in again.items} == {anns_conv: "new", bobs_conv: "new"}
    await desk.close()


async def test_outbox_cancel_on_the_command_line_is_the_apps_cancel(tmp_path, dovecot, mail_user, smtp_sink, capsys):
    """`tui-desk outbox --cancel N` of a follow-up's mail: no draft, and the notes of the
    customer's other conversations say the mail was cancelled, as O, c in the app does."""
    from tests.accounts import write_config
    from tui_desk.cli import main
    smtp_sink.clear()
    clock = Clock()
    ann = "Ann Lee <ann@c.test>"
    desk, _, conv = await desk_with_customers(tmp_path, dovecot, mail_user, smtp_sink.port, clock, [
        (ann, "Dark mode? (ann, first)", 0), (ann, "Dark mode? (ann, second)", 10)])
    carrier, covered = conv["Dark mode? (ann, second)"], conv["Dark mode? (ann, first)"]
    done = await followup.run(desk, await followup.plan(desk, sorted(conv.values()), "feature-shipped"))
    [(_, anns, _)] = done.queued
    await desk.close()
    config = write_config(tmp_path / "config.toml", dovecot, mail_user, smtp_port=smtp_sink.port)

    argv = ["--config", str(config), "--db", str(tmp_path / "s.db"), "outbox", "--cancel", str(anns)]
    assert await asyncio.to_thread(main, argv) == 0  # the command runs its own event loop
    out = capsys.readouterr().out
    assert "follow-up mail to ann@c.test cancelled" in out and "run the follow-up again" in out, out
    desk = await Desk.open(tmp_path / "s.db", config_for(dovecot, mail_user, smtp_sink.port), clock=clock)
    assert await desk.draft(carrier) is None
    notes = await notes_of(desk, covered)
    assert len(notes) == 2 and "cancelled" in notes[1] and "ann@c.test" in notes[1], notes
    await desk.close()
