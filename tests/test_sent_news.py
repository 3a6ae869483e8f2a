"""What the app says when the outbox sent mail (desk.sent_news): what each one was, from its
history event, and a burst folded into one toast while it is up (ui.main_screen)."""

from __future__ import annotations


from tui_desk.desk.sent_news import sent_items, sent_kind, sent_line
from tui_desk.store.events import Event
from tui_desk.sync.delivery import OutboxReport
from tui_desk.ui.bridge import OutboxReported

try:
    from tests.ui_fake_desk import settle
    from tests.ui_support import make_app
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_desk import settle
    from ui_support import make_app


def event(kind: str, **data) -> Event:
    return Event("0" * 32, 0, "alice", kind, "<a@x>", {"message_id": "m@x", **data})


def test_each_sent_mail_is_named_by_its_history_event():
    assert [sent_kind(e) for e in (
        event("reply"), event("reply", followup="f1"), event("forward"), event("autoreply", rule="ack"),
        event("autoreply", rule="incident 'x'", incident="x"), event("survey"), None, event("newer-kind"))] == [
        "reply", "followup", "forward", "autoreply", "incident", "survey", "reply", "reply"]


def test_one_names_its_recipients_several_are_counted_kinds_in_the_order_they_came():
    assert sent_line([("autoreply", ("ann@c.test",))]) == "Automatic reply sent to ann@c.test"
    assert sent_line([("survey", ("ann@c.test", "bob@c.test"))]) == "Satisfaction survey sent to ann@c.test, bob@c.test"
    assert sent_line([("followup", ("a@c.test",))] * 5) == "5 follow-up replies sent"
    assert sent_line([("reply", ("ann@c.test",)), ("incident", ("b@c.test",)), ("incident", ("c@c.test",))]) == (
        "Reply sent to ann@c.test · 2 incident mails sent")
    # addresses come from mail: no terminal escape reaches the toast
    assert "\x1b" not in sent_line([("reply", ("ev\x1b[2Jil@c.test",))])


def test_a_report_gives_each_message_its_kind_and_recipients():
    report = OutboxReport(sent=["m1", "m2"], sent_events={"m1": event("survey"), "m2": None},
                          sent_to={"m1": ["ann@c.test"], "m2": ["bob@c.test"]})
    assert sent_items(report.sent, report.sent_events, report.sent_to) == [
        ("survey", ("ann@c.test",)), ("reply", ("bob@c.test",))]


def followup_sent(n: int) -> OutboxReport:
    m = f"f{n}@helpdesk.test"
    return OutboxReport(sent=[m], sent_events={m: event("reply", followup="f1")}, sent_to={m: [f"c{n}@c.test"]})


async def test_a_burst_of_follow_ups_is_one_toast_that_counts_them():
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        app.main.post_message(OutboxReported(followup_sent(1)))
        await settle(pilot)
        assert [n.message for n in app._notifications] == ["Follow-up reply sent to c1@c.test"]
        for n in (2, 3):  # one a delivery pass, while the toast is up
            app.main.post_message(OutboxReported(followup_sent(n)))
            await settle(pilot)
        assert [n.message for n in app._notifications] == ["3 follow-up replies sent"]
        m = "ack@helpdesk.test"
        app.main.post_message(OutboxReported(OutboxReport(
            sent=[m], sent_events={m: event("autoreply", rule="ack")}, sent_to={m: ["dora@c.test"]})))
        await settle(pilot)
        assert [n.message for n in app._notifications] == [
            "3 follow-up replies sent · Automatic reply sent to dora@c.test"]
        app.clear_notifications()  # the toast went: the next mail is a toast of its own
        app.main.post_message(OutboxReported(followup_sent(4)))
        await settle(pilot)
        assert [n.message for n in app._notifications] == ["Follow-up reply sent to c4@c.test"]
