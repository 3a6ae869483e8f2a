"""A reply the SMTP server could not take yet goes by itself when its next try is due: the app's
outbox worker (desk.background) tries it again on its own, nobody presses s. Real Dovecot and
aiosmtpd (refusing the first message with a 451, then taking mail); the desk's clock moves only
when the test moves it."""

from __future__ import annotations

import asyncio
import dataclasses
import time

from tests.accounts import replying_desk
from tests.clock import Clock
from tui_desk.desk.background import Background
from tui_desk.desk.replies import queue_reply
from tui_desk.store import outbox


async def wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_the_worker_sends_a_due_retry_by_itself(tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    smtp_sink.refuse_next(1)
    clock = Clock()
    desk, _, _, conv = await replying_desk(tmp_path, dovecot, mail_user, smtp_sink.port, clock)
    cfg = desk.config
    account = dataclasses.replace(cfg.accounts[0], imap=dataclasses.replace(
        cfg.accounts[0].imap, password_command=f"echo {dovecot.password_of(mail_user)}"),
        smtp=dataclasses.replace(cfg.accounts[0].smtp, password_command="echo secret"))
    desk.config = dataclasses.replace(cfg, accounts=(account,))
    background = Background(desk)
    stop = asyncio.Event()
    task = asyncio.create_task(background.run(stop))
    try:
        q = await queue_reply(desk, conv, "Your refund is on its way.", send_at=int(clock.now))

        async def tried_once() -> bool:
            item = await outbox.get(desk.store, q.outbox_id)
            return item is not None and item.attempts == 1

        await wait_until(tried_once)
        item = await outbox.get(desk.store, q.outbox_id)
        assert item.state == "queued" and "451" in (item.last_error or "")
        assert smtp_sink.refused == 1 and smtp_sink.messages == []
        assert item.next_try == int(clock.now) + 15
        passes = background.delivery_passes
        await wait_until(lambda: asyncio.sleep(0, background.delivery_passes >= passes + 2))
        assert smtp_sink.messages == []  # not due yet: the worker waits out the backoff

        clock.now += 16  # the next try is due; nobody touches the outbox

        async def gone_out() -> bool:
            return bool(smtp_sink.messages)

        await wait_until(gone_out)
        assert len(smtp_sink.messages) == 1 and smtp_sink.refused == 1
        assert b"Your refund is on its way." in smtp_sink.messages[0].data
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
    await desk.close()
