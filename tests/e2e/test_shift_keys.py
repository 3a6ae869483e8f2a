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
