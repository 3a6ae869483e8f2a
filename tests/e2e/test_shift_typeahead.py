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


def test_a_search_corrected_with_backspace_in_one_burst_finds_what_was_meant(tmp_path, terminals):
    home = imported_home(tmp_path, 12, 'agent = "alice"\n')
    found = home.cli("search", "status:open").stdout.splitlines()
    assert len(found) >= 2, found
    term = terminals.open_home(home, width=80, height=24)
    term.wait_for(f"1/{len(found)}")
    # one write, as a fast typist's keys arrive: the x taken back, "en" typed right behind it
    term.keys("/", *"status:opx", "BSpace", "e", "n", "Enter", "j")
    screen = term.wait_for(f"2/{len(found)}", what="the search's rows, the cursor on the second")
    # the search in its box, the count on the border (at 80 columns the border drops the search
    # when its other parts need the room: narrow80's header parts)
    assert "status:open" in screen and f"{len(found)} conversat" in screen, screen
    assert "opx" not in screen
