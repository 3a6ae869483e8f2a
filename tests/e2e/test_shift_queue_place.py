"""The queue keeps the agent's place in a real terminal: the tryout's `tui-desk demo` at 80x24,
a reply sent from the 7th row; once it goes out (the demo's 10 s undo window) and the
conversation leaves the queue as pending, the cursor is on the row that was below it."""

from __future__ import annotations

import re

from e2e.harness import TUI_DESK

PLACE = re.compile(r"(\d+)/(\d+)\s+#(\d+)")  # the status line: "7/51  #115  score …"


def place(screen: str) -> tuple[int, int, int]:
    """(row, rows, conversation id) from the status line; zeros while it is not on screen."""
    found = PLACE.findall(screen)
    return tuple(int(n) for n in found[-1]) if found else (0, 0, 0)  # type: ignore[return-value]


def test_a_sent_reply_leaves_the_cursor_on_the_next_row(tmp_path, terminals):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    term = terminals.open([TUI_DESK, "demo"], {"TMPDIR": str(tmp)}, width=80, height=24)
    term.wait_for(lambda s: place(s)[0] == 1, timeout=60, what="the status line")
    term.keys(*["j"] * 7)
    _, total, below = place(term.wait_for(lambda s: place(s)[0] == 8, what="row 8"))
    term.keys("k")
    _, _, replied = place(term.wait_for(lambda s: place(s)[0] == 7, what="row 7"))
    term.keys("r")
    term.wait_for("Esc keeps the draft", timeout=10)  # the compose screen
    term.type("Thanks, it is refunded.")
    term.keys("C-s")
    term.wait_for("u to", timeout=10)  # "Sending to … in 10 s — u to undo"
    # sent after the undo window; the conversation is pending then and leaves the queue
    screen = term.wait_for(lambda s: place(s)[1] == total - 1, timeout=40, what="the queue one row shorter")
    assert place(screen) == (7, total - 1, below), (replied, below, screen)
    term.keys("q")
    term.wait_exited(30)
