"""A new user's tryout of `tui-desk demo` at 80x24, as over SSH: the split queue's rows keep a
useful part of their subject beside the SLA ("Where is my or… ⚠1d4h @Chen", not "Where is …
breached 1d 4h …"), and the conversation header says whose it is whole ("@Alice", not "@A…")."""

from __future__ import annotations

import re

from rich.cells import cell_len

from e2e.harness import TUI_DESK


def queue_lines(screen: str) -> list[str]:
    """The queue pane's lines, between its borders (the conversation pane on their right)."""
    out = []
    for line in screen.split("╰")[0].splitlines()[1:]:
        parts = line.split("│")
        if len(parts) >= 3:
            out.append(parts[1])
    return out


def test_the_split_queue_and_the_header_read_at_80x24(terminals):
    term = terminals.open([TUI_DESK, "demo"], width=80, height=24)
    screen = term.wait_for(lambda s: "Queue" in s and re.search(r"(⚠|due )\d", s), timeout=90,
                           what="the demo's queue with SLA targets")
    rows = queue_lines(screen)
    subject_lines = [line for line in rows if line.startswith("  ")]  # a narrow row's second line
    assert subject_lines and not [line for line in rows if "breached" in line], rows
    width = cell_len(rows[0])  # cells: a CJK subject's characters are two wide
    for line in subject_lines:
        if "⚠" in line:  # a breach: the subject keeps half its line or is whole
            subject = line.split(" ⚠")[0].strip()
            assert cell_len(subject) >= (width - 2) // 2 - 1 or not subject.endswith("…"), rows

    # the first row with an owner beside a breach: open it, the header names the owner whole
    at = next(n for n, line in enumerate(rows) if line.startswith("  ") and re.search(r"⚠\S+ @\w+ ", line + " "))
    owner = re.search(r"@(\w+)", rows[at]).group(1)
    term.keys(*["j"] * ((at - 1) // 2), "Enter")
    header = term.wait_for(lambda s: re.search(r"open · .*@\w", s), timeout=15, what="the conversation header")
    line = next(line for line in header.splitlines() if "open · " in line)
    meta = line.split("│")[-2] if line.count("│") >= 3 else line
    assert re.search(rf"@{owner}\b(?!…)", meta), meta
