"""Background work beside the app: a failing task is shown, logged and restarted."""

from __future__ import annotations

import asyncio
import logging

from tui_desk.config import Config
from tui_desk.desk.background import Background
from tui_desk.desk.service import Desk
from tui_desk.sync.delivery import OutboxReport


async def test_a_task_that_fails_is_shown_logged_and_started_again(tmp_path, caplog):
    desk = await Desk.open(tmp_path / "desk.sqlite3", Config())
    news = asyncio.Event()
    background = Background(desk, on_news=news.set, restart_after=0.01)
    calls = 0
    restarted = asyncio.Event()

    async def run_due() -> OutboxReport:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("disk on fire \x1b]52;c;aGk=\x07")
        restarted.set()
        return OutboxReport()

    background.sender.run_due = run_due
    stop = asyncio.Event()
    with caplog.at_level(logging.ERROR, logger="tui_desk.desk.background"):
        task = asyncio.create_task(background.run(stop))
        await asyncio.wait_for(news.wait(), 5)
        trouble = background.trouble()
        assert trouble.startswith("outbox (retrying")
        assert "RuntimeError: disk on fire" in trouble
        assert "\x1b" not in trouble  # what an exception says is not ours: sanitized
        await asyncio.wait_for(restarted.wait(), 5)
    assert background.trouble() == ""  # working again: nothing to say
    assert any("outbox failed" in r.getMessage() and r.exc_info for r in caplog.records)
    stop.set()
    await asyncio.wait_for(task, 5)
    await desk.close()


async def test_trouble_says_what_is_wrong_first_and_the_config_file_last(tmp_path):
    """At 80 columns the line is cut after some 60 cells: the key and the reason go first."""
    config = tmp_path / "config.toml"
    desk = await Desk.open(tmp_path / "desk.sqlite3", Config(path=config))
    background = Background(desk)
    background.problems["sync support"] = (
        f"{config}: accounts.support.imap.password_command did not finish within 60 s", None)
    assert background.trouble() == ("sync support (retrying): accounts.support.imap.password_command did not "
                                    f"finish within 60 s (in {config})")
    background.problems["sync support"] = ("login failed: AUTHENTICATIONFAILED (check password_command)", None)
    assert background.trouble() == "sync support (retrying): login failed: AUTHENTICATIONFAILED (check password_command)"
    await desk.close()
