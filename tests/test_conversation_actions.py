"""What rules and incidents did, shown in the conversation (README "Rules": each says in the
conversation what it did): quiet lines between the messages in the pane and in `tui-desk show`,
and `tui-desk history` saying a rule's change once, as the rule's line."""

from __future__ import annotations

import datetime as dt


from tests.clock import Clock
from tests.mailfactory import BASE, make_mail
from tui_desk.config import Config
from tui_desk.desk import commands
from tui_desk.desk.history import record_message
from tui_desk.desk.render import conversation_text
from tui_desk.desk.rules.execute import record_rule_line
from tui_desk.desk.service import Desk
from tui_desk.desk.views import ActionLine, MessageView
from tui_desk.mail.parse import parse_message
from tui_desk.store import ingest as store_ingest
from tui_desk.store.queries import thread_message_ids

try:
    from tests.ui_fake_desk import FIXED_NOW, settle
    from tests.ui_support import make_app, plain_text
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_desk import FIXED_NOW, settle
    from ui_support import make_app, plain_text

T0 = int(BASE.timestamp())


async def desk_with_two_mails(tmp_path, clock) -> tuple[Desk, int]:
    desk = await Desk.open(tmp_path / "a.db", Config(agent="alice", agent_addresses=("*@helpdesk.test",)), clock=clock)
    raws = [make_mail("a1@t", sender="ann@c.test", subject="Refund please"),
            make_mail("a2@t", sender="ann@c.test", refs=["a1@t"], minutes=30, body="Any news?\n")]
    result = await store_ingest.ingest(desk.store, [store_ingest.NewMessage(raw=r, parsed=parse_message(r)) for r in raws])
    await desk.refresh(result.conversations)
    cid = next(c for c, ids in (await thread_message_ids(desk.store)).items() if "a1@t" in ids)
    return desk, cid


async def test_a_rules_action_shows_between_the_messages_and_reads_once_in_the_history(tmp_path):
    clock = Clock()
    clock.now = T0 + 60  # a minute after the first mail, as a rule runs on it
    desk, cid = await desk_with_two_mails(tmp_path, clock)
    # as desk.rules.execute does it: the action through the command path, then the rule's line
    await commands.tag(desk, [cid], ["billing"], [])
    await record_rule_line(desk, cid, "refunds to billing", "rule 'refunds to billing' tagged +billing")
    clock.now = T0 + 3600  # after the second mail: the agent's own change is theirs
    await commands.tag(desk, [cid], ["vip"], [])
    await record_rule_line(desk, cid, "x", "rule 'x' held its reply: \x1b[2Jrate limit")  # a teammate's text

    history = [h.text for h in await desk.history(cid)]
    assert history == ["rule 'refunds to billing' tagged +billing", "tagged +vip", "rule 'x' held its reply: rate limit"]

    view = await desk.conversation(cid)
    assert [a.text for a in view.actions] == ["rule 'refunds to billing' tagged +billing",
                                              "rule 'x' held its reply: rate limit"]
    order = [a.text if isinstance(a, ActionLine) else a.blocks[0].text.strip() for a in view.in_time_order()]
    assert order == ["Hi there.", "rule 'refunds to billing' tagged +billing", "Any news?",
                     "rule 'x' held its reply: rate limit"]
    shown = conversation_text(view, dt.datetime.fromtimestamp(T0 + 7200, dt.timezone.utc)).splitlines()
    rule = shown.index("   · Nov 2 09:01  rule 'refunds to billing' tagged +billing")
    assert shown.index("Hi there.") < rule < shown.index("Any news?")
    assert "\x1b" not in "\n".join(shown)
    await desk.close()


async def test_an_agents_change_beside_a_rule_line_of_another_kind_stays_in_the_history(tmp_path):
    clock = Clock()
    clock.now = T0 + 60
    desk, cid = await desk_with_two_mails(tmp_path, clock)
    await commands.assign(desk, [cid], "bob")  # the agent's, a second before a rule says it tagged
    await record_rule_line(desk, cid, "r", "rule 'r' tagged +billing")
    await commands.set_status(desk, [cid], "pending")  # by a rule: its line says so
    await record_rule_line(desk, cid, "p", "rule 'p' set status pending")
    assert [h.text for h in await desk.history(cid)] == [
        "assigned to bob (was nobody)", "rule 'r' tagged +billing", "rule 'p' set status pending"]
    await record_message(desk, cid, "note", {"message_id": "n@t"})  # other kinds are never a rule's
    assert [h.kind for h in await desk.history(cid)][-1] == "note"
    await desk.close()


def test_actions_come_before_the_first_message_dated_after_them_an_undated_one_keeps_its_place():
    from tui_desk.desk.views import ConversationView

    def message(i: int, minute: int | None) -> MessageView:
        return MessageView(i, "Ann <ann@c.test>", "", "", None if minute is None else BASE + dt.timedelta(minutes=minute),
                           False, (), (), ())
    view = ConversationView(1, "s", "Ann", "open", (), (message(1, 0), message(2, None), message(3, 10)),
                            actions=(ActionLine(BASE + dt.timedelta(minutes=5), "a"),
                                     ActionLine(BASE + dt.timedelta(minutes=20), "b")))
    assert [x.text if isinstance(x, ActionLine) else x.id for x in view.in_time_order()] == [1, 2, "a", 3, "b"]


async def test_the_pane_shows_a_rules_line_between_the_messages_at_80x24():
    app = make_app()
    app.desk.action_lines[1] = (ActionLine(FIXED_NOW - dt.timedelta(days=3, hours=1),
                                           "rule 'refunds to billing' tagged +billing"),)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        pane = app.conversation_pane
        thread = [w for w in pane.thread.children]
        [line] = [w for w in thread if w.has_class("thread--action")]
        assert plain_text(line) == "· Nov 17 11:00  rule 'refunds to billing' tagged +billing"
        # read whole in the narrow pane: wrapped under itself, never cut at the border
        shown = [line.render_line(y).text.strip() for y in range(line.size.height)]
        assert line.size.height <= 2 and " ".join(shown).replace("  ", " ") == (
            "· Nov 17 11:00 rule 'refunds to billing' tagged +billing"), shown
        at = thread.index(line)
        dates = [w.message.date for w in thread if hasattr(w, "message")]
        before = [w.message.date for w in thread[:at] if hasattr(w, "message")]
        assert before and len(before) < len(dates)  # between the messages, in time order
        assert max(before) < FIXED_NOW - dt.timedelta(days=3, hours=1) < min(dates[len(before):])
