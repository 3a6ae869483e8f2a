"""A new user's first look at `tui-desk demo` at 80x24, as over SSH: `?` help and the Reports
screen read whole. Every key's description is on the help screen in full (a long one wraps
under itself), and no line of the Reports screen ends cut: the staffing line keeps its hint,
CSAT by agent its last agent, every frequent question its words."""

from __future__ import annotations

import re

from e2e.harness import TUI_DESK
from tui_desk.ui import registry

BLOCKS = str.maketrans("", "", "▁▂▃▄▅▆▇█")  # a scrollbar's thumb, drawn in the box


def words(text: str) -> str:
    return " ".join(text.translate(BLOCKS).split())


def help_box(screen: str) -> list[str]:
    """The help box's lines: the widest part between two borders (the queue shows behind it)."""
    lines = []
    for line in screen.splitlines():
        parts = line.split("│")
        if len(parts) >= 3 and "╭" not in line and "╰" not in line:
            lines.append(max(parts[1:-1], key=len).translate(BLOCKS).rstrip())
    return lines


def read_through(term, cut, key: str = "j", limit: int = 300) -> list[str]:
    """Every line a person reads scrolling with `key` until the screen stops changing, each once."""
    seen = cut(term.screen())
    shown = seen
    for _ in range(limit):
        term.keys(key)
        before = shown
        try:
            term.wait_for(lambda s: cut(s) != before, timeout=1.5, what="the box scrolled")
        except AssertionError:
            return seen  # the end: a key more changes nothing
        shown = cut(term.screen())
        for start in range(len(shown)):  # add what follows the lines already read
            tail = shown[: len(shown) - start]
            if seen[len(seen) - len(tail):] == tail:
                seen = seen + shown[len(tail):]
                break
    raise AssertionError("the box never reached its end")


def _wait_changed(term, before: str, timeout: float = 2.0) -> None:
    import time
    deadline = time.monotonic() + timeout
    while term.screen(escapes=True) == before:
        assert time.monotonic() < deadline, "the cursor did not move"
        time.sleep(0.05)


def test_help_and_reports_read_whole_at_80x24(terminals):
    term = terminals.open([TUI_DESK, "demo"], width=80, height=24)
    term.wait_for(lambda s: "Queue" in s and re.search(r"(due|breached) \d|⚠\d", s), timeout=90,
                  what="the demo's queue")

    term.keys("?")
    term.wait_for("Esc closes", what="the help screen")
    read = read_through(term, help_box)
    text = words("\n".join(read))
    described = [b.tooltip or b.description for b in registry.REBINDABLE + registry.REPORTS_BINDINGS]
    missing = [d for d in described if words(d) not in text]
    assert not missing, (missing, text)
    # the longest wraps under itself: its second line starts in the descriptions' column
    first = next(n for n, line in enumerate(read) if "Bulk follow-up:" in line)
    column = re.match(r"\s+F\s+", read[first]).end()
    assert read[first + 1][:column].strip() == "" and read[first + 1][column] != " ", read[first:first + 3]
    term.keys("Escape")
    term.wait_gone("Esc closes")

    term.keys("D")
    screen = term.wait_for(lambda s: "Frequent questions:" in s and "reading…" not in s, timeout=30,
                           what="the Reports screen, read")
    lines = [line.rstrip() for line in screen.splitlines()]
    assert not [line for line in lines if line.endswith("…")], screen
    at = next(n for n, line in enumerate(lines) if line.startswith(" Busiest "))
    staffing = words(" ".join(lines[at:next(n for n in range(at + 1, len(lines)) if re.match(r" (CSAT|Frequent)", lines[n]))]))
    assert "team answers" in staffing and re.search(r"(staff them|no hour above)$", staffing), staffing
    agents = next(n for n, line in enumerate(lines) if line.startswith(" CSAT by agent "))
    assert words(" ".join(lines[agents:agents + 3])).split(" Frequent questions")[0].endswith("great)"), screen

    count = int(re.search(r"Frequent questions: (\d+)", screen).group(1))
    rows: list[str] = []
    for n in range(count):  # the cursor down every question: each row whole, none cut
        if n:
            before = term.screen(escapes=True)  # the cursor is a colour: plain text may not change
            term.keys("Down")
            _wait_changed(term, before)
        shown = [line.rstrip() for line in term.screen().splitlines()[:-1]]  # above the footer
        assert not [line for line in shown if line.endswith("…")], "\n".join(shown)
        rows += [line for line in shown if re.match(r"\s+\d+ \S", line)]
    assert len({row for row in rows}) >= count, rows  # every question was on screen
