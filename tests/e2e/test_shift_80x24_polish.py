"""A new user's tryout of `tui-desk demo` at 80x24, as over SSH: a search that fails keeps the
typing in the search box (the `S` after `from:` went to the queue and opened the snippets); a
notice on a full screen takes rows of its own above the footer, the Reports' lines above it,
never drawn over them; a queue row shows no state marker as a bare "…"."""

from __future__ import annotations

import re

from e2e.harness import TUI_DESK

NO_HOURS = "No business hours are configured"


def test_a_failed_search_and_a_notice_on_the_reports_at_80x24(terminals):
    term = terminals.open([TUI_DESK, "demo"], width=80, height=24)
    screen = term.wait_for(lambda s: "Queue" in s and re.search(r"(⚠|due )\d", s), timeout=90,
                           what="the demo's queue with SLA targets")
    # the split queue's subject lines: a marker is whole, cut with some of it, or left out
    assert not re.search(r" …\s*│", screen), screen

    term.keys("/")
    term.type("from:")
    term.keys("Enter")
    term.wait_for("from: needs a value", what="the search's error")
    term.type("S")  # into the box: the conversation pane stays, no snippets
    screen = term.wait_for("from:S", what="the S in the search box")
    assert "Conversation" in screen.splitlines()[0], screen
    term.keys("BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace")
    term.wait_for("Search…", what="the search box emptied (its placeholder)")
    term.keys("Escape")
    term.wait_gone("Search…")  # closed (a key sent before that would read as Alt+key)

    term.keys("D")
    term.wait_for(lambda s: "Frequent questions:" in s and "reading…" not in s, timeout=30,
                  what="the Reports screen, read")
    term.keys("b")  # the demo has no business hours: a notice says so
    lines = term.wait_for(NO_HOURS, what="the notice").splitlines()
    assert lines[-1].lstrip().startswith("[") and "Back" in lines[-1], lines  # the footer, last
    top = len(lines) - 1  # the notices' rows, right above the footer (the search's may still be up)
    while "▌" in lines[top - 1]:
        top -= 1
    assert any(NO_HOURS in line for line in lines[top:-1]), lines
    for line in lines[top:-1]:  # a notice's rows hold the notice alone: nothing of the Reports beside it
        assert not line.split("▌")[0].strip(), lines
    assert lines[top - 1].strip(), lines  # the Reports' lines above them
