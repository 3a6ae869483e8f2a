"""Keys rebound in config.toml work in a real terminal, and a bad [keys] entry is said."""

from __future__ import annotations

import json

from e2e.conftest import imported_home


def test_rebound_keys_in_a_real_terminal(tmp_path, terminals):
    home = imported_home(tmp_path, 12, 'agent = "alice"\n[keys]\ntag = "ctrl+t"\nnote = "j"\n')
    top = json.loads(home.cli("queue", "--json", "--limit", "1").stdout)[0]
    term = terminals.open_home(home, width=100, height=30)
    term.wait_for(top["customer"][:12])  # the name may be cut at 100 columns
    term.wait_for("j would be both note and the fixed key")  # said at start, in one line
    term.keys("C-t")
    term.wait_for(f"Tag #{top['id']}")
    term.keys("Escape")
    term.wait_gone(f"Tag #{top['id']}")
    term.keys("t")  # t is no longer tag: nothing opens
    term.keys("?")
    screen = term.wait_for("Ctrl+t")  # the help lists the key in use
    assert f"Tag #{top['id']}" not in screen


def test_wide_queue_at_80x24_in_a_real_terminal(tmp_path, terminals):
    """`w`: the queue alone across an 80-column terminal, a row a line; Enter opens the row and
    the conversation pane is back."""
    home = imported_home(tmp_path, 20, 'agent = "alice"\n')
    rows = json.loads(home.cli("queue", "--json", "--limit", "3").stdout)
    term = terminals.open_home(home, width=80, height=24)
    term.wait_for("No conversation open")  # the split view: the conversation pane beside the queue
    term.keys("w")
    screen = term.wait_for(lambda s: "No conversation open" not in s, what="the conversation pane gone")
    for row in rows:  # customer and subject on one line
        assert any(row["customer"][:10] in line and row["subject"][:12] in line for line in screen.splitlines()), (
            row, screen)
    term.keys("Enter")
    term.wait_for("Conversation")  # the pane's title, back with the open conversation
    term.wait_for(rows[0]["subject"][:12])
