"""The outbox shows what the customer gets: Enter on a reply shows the mail as it will be sent
(To, Cc, Subject and the text with its placeholders filled, as queued: never the template), each
row says the conversation, the customer, the subject and what happens next ("sends at 9:14",
"retry 2 at 9:20: …", "held: …"), one line each at 80 columns, in the order the replies go
(held ones last). Over a real Desk on the demo store; the desk's clock is the test's."""

from __future__ import annotations

import datetime as dt

from rich.cells import cell_len
from textual.widgets import OptionList, Static

from tui_desk.desk.timefmt import format_when
from tui_desk.desk.views import OutboxEntry
from tui_desk.ui.outbox import OutboxScreen, state_text

try:
    from tests.clock import Clock
    from tests.ui_support import started, until
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from clock import Clock
    from ui_support import started, until

SIZE = (80, 24)


def local(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts).astimezone()


def clock_words(ts: float) -> str:
    when = local(ts)
    return f"{when.hour}:{when:%M}"


def app_on_a_still_clock(demo):
    """The app over the demo's desk, replies waiting 600 s, on a clock only the test moves."""
    make_app, _ = demo
    clock = Clock()
    return make_app(undo_seconds=600, clock=clock), clock


async def open_outbox(app, pilot) -> OutboxScreen:
    await pilot.press("O")
    await until(pilot, lambda: isinstance(app.screen, OutboxScreen) and bool(app.screen.entries))
    return app.screen


def row_texts(screen: OutboxScreen) -> list[str]:
    options = screen.query_one("#outbox-list", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


def shown_text(screen: OutboxScreen) -> str:
    return str(screen.query_one("#outbox-body", Static).render())


async def test_enter_shows_the_reply_as_the_customer_gets_it_placeholders_filled(demo):
    app, clock = app_on_a_still_clock(demo)
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        conv = await app.desk.conversation(first)
        first_name = conv.customer.split()[0]
        await app.desk.reply(first, "Hi {{customer_first_name}},\n\nyour **refund** for #{{ticket_id}} is on its way.")
        screen = await open_outbox(app, pilot)
        await pilot.press("enter")
        await until(pilot, lambda: screen.query_one("#outbox-text").display and "Subject:" in shown_text(screen))
        text = shown_text(screen)
        assert "{{" not in text and "**" not in text  # the mail as rendered, never the template
        assert f"Hi {first_name}," in text and f"refund for #{first} is on its way." in text
        lines = text.splitlines()
        assert lines[0].startswith("To: ") and conv.customer in lines[0]
        subject = next(line for line in lines if line.startswith("Subject: "))
        assert subject.startswith("Subject: Re: ") and f"[#{first}]" in subject
        await pilot.press("enter")  # Enter again hides it
        await until(pilot, lambda: not screen.query_one("#outbox-text").display)


async def test_rows_say_conversation_customer_subject_and_what_happens_one_line_each_at_80(demo):
    app, clock = app_on_a_still_clock(demo)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        ids = app.queue.ids
        soon, _ = await app.desk.reply(ids[0], "Soon.")
        later, _ = await app.desk.reply(ids[1], "Later.", send_at_text="2h")
        retrying, _ = await app.desk.reply(ids[2], "Retrying.")
        held, _ = await app.desk.reply(ids[3], "Held.")
        now = int(clock.now)
        await app.desk.store.execute(
            "UPDATE outbox SET attempts=2, next_try=?, last_error=? WHERE id=?",
            (now + 900, "451 4.3.0 [b]Try again later[/b]", retrying))
        await app.desk.store.execute(
            "UPDATE outbox SET state='held', last_error=? WHERE id=?",
            ("held: Ann Lee wrote again at 9:12, after you wrote this. Read it, then send anyway, edit or discard",
             held))
        convs = {c: await app.desk.conversation(c) for c in ids[:4]}
        screen = await open_outbox(app, pilot)
        rows = row_texts(screen)
        # in the order they go: due first, then the retry in 15 minutes, the one in 2 hours; held last
        assert [e.id for e in screen.entries] == [soon, retrying, later, held]
        width = screen.query_one("#outbox-list", OptionList).scrollable_content_region.width
        for row, conv_id in zip(rows, [ids[0], ids[2], ids[1], ids[3]]):
            assert "\n" not in row and cell_len(row) <= width, row
            assert row.startswith(f"#{conv_id} ")
            customer = convs[conv_id].customer
            assert customer[:8] in row  # the customer, cut to its column when long
            assert "Re: " in row  # the subject as sent
        assert rows[0].rstrip().endswith(f"sends at {clock_words(now + 600)}")
        assert f"retry 2 at {clock_words(now + 900)}: 451 4.3.0" in rows[1]  # markup as written
        in_2h = format_when(local(now + 7200), local(now))  # "11:14" today, else "Tue 0:14"
        assert rows[2].rstrip().endswith(f"sends at {in_2h}" if " " not in in_2h else f"sends {in_2h}")
        assert "queued" not in rows[2]  # a scheduled reply says when it goes
        assert "held: Ann Lee wrote again" in rows[3]
        assert any(row.rstrip().endswith("…") for row in rows[1:2] + rows[3:])  # the long ones are cut


async def test_a_long_subject_is_cut_with_an_ellipsis_and_the_state_stays(demo):
    app, clock = app_on_a_still_clock(demo)
    async with app.run_test(size=SIZE) as pilot:
        first = await started(app, pilot)
        await app.desk.store.execute("UPDATE messages SET subject=? WHERE conv_id=?",
                                     ("A very long subject about a refund that never came " * 3, first))
        await app.desk.reply(first, "On it.")
        screen = await open_outbox(app, pilot)
        [row] = row_texts(screen)
        assert "… " in row and row.rstrip().endswith(f"sends at {clock_words(int(clock.now) + 600)}")


def entry(**kw) -> OutboxEntry:
    base = dict(id=1, conv_id=12, recipients=("ann@c.test",), state="queued",
                send_at=dt.datetime(2026, 12, 7, 9, 14, tzinfo=dt.UTC), subject="Re: Refund [#12]",
                customer="Ann Lee")
    return OutboxEntry(**{**base, **kw})


def test_what_each_state_says():
    now = dt.datetime(2026, 12, 7, 9, 5, tzinfo=dt.UTC)
    assert state_text(entry(), now)[0] == "sends at 9:14"
    assert state_text(entry(send_at=now), now)[0] == "sends now"
    assert state_text(entry(send_at=dt.datetime(2026, 12, 8, 9, 0, tzinfo=dt.UTC)), now)[0] == "sends Tue 9:00"
    assert state_text(entry(state="sending"), now)[0] == "sending"
    retry = entry(attempts=1, next_try=dt.datetime(2026, 12, 7, 9, 20, tzinfo=dt.UTC), error="451 later")
    assert state_text(retry, now)[0] == "retry 1 at 9:20: 451 later"
    assert state_text(entry(attempts=3, next_try=now, error="451 later"), now)[0] == "retry 3 now: 451 later"
    assert state_text(entry(state="held", error="held: Bob Ng replied at 9:12, after you wrote this"), now)[0] == \
        "held: Bob Ng replied at 9:12, after you wrote this"
    assert state_text(entry(state="held", error="held: no account 'demo' in config"), now)[0] == \
        "held: no account 'demo' in config"
    assert state_text(entry(state="failed", error="550 no such user"), now)[0] == "failed: 550 no such user"
    assert state_text(entry(state="maybe_sent"), now)[0] == "maybe sent"
    assert state_text(entry(error="needs a fix: accounts.demo.smtp.password_command failed", needs_fix=True),
                      now)[0] == \
        "needs a fix: accounts.demo.smtp.password_command failed"


async def test_a_key_pressed_while_the_outbox_reloads_is_kept_and_enter_reads_that_reply():
    """The list reloads every two seconds beside the keys: Down then Enter during a reload read
    the reply moved to, and the reload does not put the highlight back where it was."""
    import asyncio

    from tui_desk.desk.views import OutboxMail

    try:
        from tests.ui_support import make_app
    except ImportError:
        from ui_support import make_app
    now = dt.datetime(2026, 12, 7, 9, 5, tzinfo=dt.UTC)
    entries = [entry(id=1, conv_id=12), entry(id=2, conv_id=13, customer="Bob Ng", subject="Re: Invoice [#13]")]
    gate: asyncio.Event | None = None

    async def load() -> list[OutboxEntry]:
        if gate is not None:
            await gate.wait()
        return entries

    async def read(outbox_id: int) -> OutboxMail:
        return OutboxMail(f"to-{outbox_id}@c.test", "", f"subject {outbox_id}", f"text of {outbox_id}")

    async def cancel(outbox_id: int) -> str:
        return "cancelled"

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: bool(app.queue.ids))
        screen = OutboxScreen(load, cancel, lambda: now, read=read)
        app.push_screen(screen)
        await until(pilot, lambda: app.screen is screen and len(screen.entries) == 2)
        gate = asyncio.Event()
        reloading = asyncio.create_task(screen.reload())  # the two-second reload, waiting on the store
        await pilot.pause(0.05)
        await pilot.press("down", "enter")
        await until(pilot, lambda: "text of 2" in shown_text(screen))
        gate.set()
        await reloading
        await pilot.pause(0.1)
        assert screen.query_one("#outbox-list", OptionList).highlighted == 1
        assert screen.query_one("#outbox-text").display and "text of 2" in shown_text(screen)
