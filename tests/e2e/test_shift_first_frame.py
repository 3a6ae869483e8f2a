"""Keys typed right after launch, before the app's first frame: the snippet pane's widgets come
a frame after the queue's (issue 14, first paint), and the keys still reach them."""

from __future__ import annotations

from e2e.conftest import imported_home


def test_snippet_keys_typed_right_after_launch_reach_the_picker(tmp_path, terminals):
    home = imported_home(tmp_path, 12, 'agent = "alice"\n')
    term = terminals.open_home(home, width=80, height=24)
    term.wait_reading_keys()
    # one write: S brings the folded pane over the conversation and focuses its filter; in the
    # filter "/" is text, not the search
    term.keys("S", "p", "a", "s", "s", "/")
    screen = term.wait_for("No snippet matches.", what="the filter 'pass/' matching nothing")
    assert "pass/" in screen and "Search…" not in screen, screen
    term.keys("BSpace")
    screen = term.wait_for("::password-reset", what="the filter 'pass' on the password snippet")
    assert "Password reset" in screen and "No conversation open" not in screen, screen
