"""Keys typed with no pause in a real terminal do what they would do typed slowly."""

from __future__ import annotations

from e2e.conftest import imported_home


def test_a_key_right_after_enter_in_the_search_box_moves_in_the_queue(tmp_path, terminals):
    home = imported_home(tmp_path, 12, 'agent = "alice"\n')
    found = home.cli("search", "status:open").stdout.splitlines()
    assert len(found) >= 2, found  # j must have a row to move to
    term = terminals.open_home(home, width=120, height=30)
    term.wait_for(f"1/{len(found)}")
    term.type("/status:open")
    term.wait_for(f"status:open · {len(found)} conversations")
    term.keys("Enter", "j")  # one write: no pause between Enter and j
    screen = term.wait_for(f"2/{len(found)}", what="the cursor on the second row")
    assert "status:openj" not in screen
