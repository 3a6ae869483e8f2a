"""An agent's look at which snippets work, in a real terminal (120x40): the picker shows each
snippet's figures from the desk's history (tests/snippet_history.py: refund-issued used 4 times,
solved 75%, CSAT 2.0; password-reset once, solved none), Ctrl+O sorts by uses, and the
command line says the same."""

from __future__ import annotations

import asyncio
import json

from e2e.harness import AgentHome
from tests.snippet_history import build_store

CONFIG = 'agent = "alice"\nagent_addresses = ["*@helpdesk.test"]\n[priority]\ntimezone = "UTC"\n'


def row_of(screen: str, title: str) -> int:
    return next(i for i, line in enumerate(screen.splitlines()) if title in line)


def test_the_picker_shows_what_each_snippet_did(tmp_path, terminals):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    home = AgentHome(tmp_path, "alice", config, tmp_path / "desk.sqlite3", tmp_path / "alice.log")
    asyncio.run(build_store(home.db))
    term = terminals.open_home(home, width=120, height=40)

    # the figures come with the snippets (a pass over the report cache); the top of the list by
    # name: never used
    screen = term.wait_for(" 0×    –      Bug fixed", timeout=20, what="the figures beside the snippets")
    assert "Refund iss" not in screen  # far down the list by name
    term.keys("Tab", "Tab")
    term.keys("C-o")
    screen = term.wait_for("(by uses)", what="the picker sorted by uses")
    assert " 4×  75% ★2.0 Refund iss" in screen, screen  # the title cut at the pane's edge
    assert " 1×   0%      Password re" in screen
    assert row_of(screen, "Refund iss") < row_of(screen, "Password re") < row_of(screen, "Account loc")
    term.wait_for("Used 4× in 4 conv", what="the highlighted snippet's figures in words")

    found = {s["name"]: s for s in json.loads(home.cli("snippets", "stats", "--json").stdout)["snippets"]}
    assert (found["refund-issued"]["uses"], found["refund-issued"]["solved_share"]) == (4, 0.75)
