"""Run by tests/test_left_open.py as its own pytest (by path: not collected with the suite): a test
that fails with a desk open, then one that finds it closed (tests/conftest.py closed it)."""

from __future__ import annotations

from tui_desk.desk.service import Desk
from tui_desk.store.db import open_stores


async def test_fails_with_a_desk_open(tmp_path):
    desk = await Desk.open(tmp_path / "s.db")
    assert await desk.store.fetchone("SELECT 1") is None, "fails on purpose, the desk still open"


def test_the_next_test_finds_it_closed():
    assert open_stores() == []
