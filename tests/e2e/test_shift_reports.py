"""A lead's look at the week in a real terminal (80x24): D opens the Reports screen on the
imported realistic mail, the headline and the heatmap are there, the period switches, a
frequent question opens as a search in the queue, Esc goes back. And a new user's first look at
`tui-desk demo`: SLA markers on the queue's rows, CSAT on the Reports screen and beside the
snippets, the survey's own snippet not in the picker."""

from __future__ import annotations

import json
import re

from e2e.conftest import imported_home
from e2e.harness import TUI_DESK

CONFIG = 'agent = "alice"\nagent_addresses = ["*@helpdesk.test"]\n[priority]\ntimezone = "UTC"\n'


def test_reports_shift_in_a_real_terminal(tmp_path, terminals):
    home = imported_home(tmp_path, 150, CONFIG)
    top = json.loads(home.cli("queue", "--json", "--limit", "1").stdout)[0]
    term = terminals.open_home(home, width=80, height=24)
    term.wait_for(top["customer"][:12])

    term.keys("D")
    screen = term.wait_for(lambda s: "Frequent questions:" in s and "reading…" not in s, timeout=20,
                           what="the Reports screen, read")
    assert "last 30 days" in screen and "calendar time" in screen
    assert re.search(r"First response\s+\S+", screen) and "Resolution (net)" in screen
    conversations = int(re.search(r"Conversations (\d+)", screen).group(1))
    assert conversations > 0
    # the heatmap: a row per weekday, and at least one busy hour drawn as a level
    rows = [line for line in screen.splitlines() if re.match(r"\s*(Mon|Tue|Wed|Thu|Fri|Sat|Sun) ", line)]
    assert len(rows) == 7 and any(re.search(r"[1-9]", r[5:52]) for r in rows), screen
    assert "Busiest" in screen
    escaped = term.screen(escapes=True)
    assert "48;2;" in escaped  # the cells are drawn in colour (truecolor backgrounds)

    term.keys("1")
    screen = term.wait_for(lambda s: "last 7 days" in s and "reading…" not in s, what="the 7-day period")
    assert int(re.search(r"Conversations (\d+)", screen).group(1)) <= conversations
    term.keys("3")
    screen = term.wait_for(lambda s: "last 90 days" in s and "reading…" not in s, what="the 90-day period")

    group = re.search(r"Frequent questions: (\d+)", screen)
    assert group and int(group.group(1)) > 0, screen
    size = int(re.search(r"^\s+(\d+) ", screen.split("Frequent questions:")[1].split("\n", 1)[1], re.M).group(1))
    term.keys("Enter")  # the first (biggest) question
    screen = term.wait_for(lambda s: "id:" in s and f"1/{size} " in s, what="the question as a search")
    assert "Reports ·" not in screen

    term.keys("Escape")  # the search clears: the whole queue again
    term.wait_gone("id:")
    term.keys("D")
    term.wait_for("Frequent questions:")
    term.keys("Escape")
    term.wait_gone("Frequent questions:")
    # back on the queue, the cursor where it was (the question's conversation, maybe far down)
    term.wait_for(lambda s: re.search(r"\d+ conversations", s) is not None and "Reports ·" not in s,
                  what="the queue again")


def test_the_demo_shows_sla_and_csat_in_a_real_terminal(terminals):
    term = terminals.open([TUI_DESK, "demo"], width=80, height=24)
    screen = term.wait_for(lambda s: re.search(r"(due|breached) \d|⚠\d", s) and "Queue" in s, timeout=90,
                           what="the demo's queue with SLA markers")
    # the queue is 30 cells wide at 80 columns: a row with a marker keeps a readable subject
    queue = [line.split("│")[1] for line in screen.splitlines() if line.startswith("│")]
    marked = [row for row in queue if re.search(r"(due|breached) \d|⚠\d", row)]
    assert marked and all(re.match(r"\s+\S.{8,}", row) for row in marked), screen

    term.keys("D")
    by_agent_said = re.compile(r"CSAT by agent .*(Alice Martin|Bob Okafor|Chen Wei) \d(\.\d)? \(\d+, \d+% great\)")
    # the demo's start-up notice ("Automatic reply sent to …") may cover the line's end a while
    # (notices sit above the footer, where the first question's row is at 80x24: wait them out)
    screen = term.wait_for(lambda s: "Frequent questions:" in s and "reading…" not in s and by_agent_said.search(s)
                           and "Automatic reply sent" not in s,
                           timeout=30, what="the Reports screen, read, CSAT by agent and the questions uncovered")
    assert re.search(r"CSAT \d+ · \d+% great · mean \d", screen), screen
    by_agent = next(line for line in screen.splitlines() if "CSAT by agent" in line)
    assert re.search(r"(Alice Martin|Bob Okafor|Chen Wei) \d(\.\d)? \(\d+, \d+% great\)", by_agent), by_agent
    questions = screen.split("Frequent questions:")[1].splitlines()
    assert re.match(r"\s+\d+ \S", questions[1]), "the questions keep rows below their title"
    # the demo's closes nobody answered are no "Unanswered" (open, never answered): said apart
    assert re.search(r"Unanswered \d+", screen) and re.search(r"Closed, no reply \d+", screen), screen

    # `?`: the keys, then what each figure means, wrapped inside the 80 columns
    term.keys("?")
    screen = term.wait_for("Esc closes", what="the keys")
    def defined(s: str) -> bool:
        return "Unanswered" in s and "customers waiting" in s
    titled = "What the figures mean" in screen
    for _ in range(60):  # down a line at a time (a burst of keys scrolls less): the definitions follow the keys
        if defined(screen):
            break
        term.keys("j")
        screen = term.wait_for(lambda s, before=screen: s != before, what="the help scrolled a line")
        titled = titled or "What the figures mean" in screen
    assert defined(screen), screen
    assert titled, "the definitions come under their title"
    assert all(len(line) <= 80 for line in screen.splitlines())
    said = " ".join(" ".join(line.split("│")[1].split()) for line in screen.splitlines() if line.count("│") >= 2)
    assert "the ones still open that no agent has answered" in said, screen
    term.keys("Escape")
    term.wait_for(lambda s: "Esc closes" not in s and "Frequent questions:" in s, what="the help closed")
    term.keys("Escape")
    term.wait_gone("Frequent questions:")
    term.keys("S")
    screen = term.wait_for(lambda s: "Filter snippets" in s and "Account locked" in s and "%" in s, timeout=20,
                           what="the snippet picker with its figures")
    assert "Automatic acknowledgement" not in screen  # by name, it would come second
    term.keys("C-o", "C-o", "C-o")  # sorted by CSAT: those with answers first, their mean beside them
    term.wait_for(lambda s: "(by CSAT)" in s and re.search(r"★\d\.\d \S", s), what="snippets by CSAT")
    term.type("survey")  # the survey's own snippet is the desk's to send, not an agent's to pick
    term.wait_for("No snippet matches.", what="no survey snippet in the picker")


def test_a_newcomer_keeps_the_demo_for_the_cli_and_reads_reports_at_60x20(tmp_path, terminals):
    """`tui-desk demo --keep DIR` at 60x20: the Reports screen has its frequent questions (no
    trends beside the headline: too narrow) and a clean footer; on quit the terminal shows the exports, and README's CLI line works with them."""
    import os
    import subprocess

    kept = tmp_path / "tui-desk-demo"
    term = terminals.open([TUI_DESK, "demo", "--keep", str(kept)], width=60, height=20)
    term.wait_for(lambda s: "Queue" in s and ("breache" in s or "⚠" in s), timeout=90, what="the demo's queue")
    term.keys("D")
    # (the start-up notice sits above the footer for a while, over the questions: wait it out)
    screen = term.wait_for(lambda s: "Frequent questions:" in s and "reading…" not in s
                           and "Automatic reply sent" not in s, timeout=30, what="the Reports screen, read")
    lines = screen.splitlines()
    questions = screen.split("Frequent questions:")[1].splitlines()[1:-1]  # above the footer
    # questions begin on screen, whole: a long one goes on under its label (the demo's take
    # three lines each at 60 columns, with the subjects they gather), none ends cut
    assert len([q for q in questions if re.match(r"\s+\d+ \S", q)]) >= 2, screen
    assert not [line for line in lines[:-1] if line.rstrip().endswith("…")], screen
    footer = lines[-1].rstrip()
    assert footer.endswith("▏^p palette") and "▇" not in footer, footer
    term.keys("Escape")
    term.wait_gone("Frequent questions:")
    term.keys("q")
    screen = term.wait_for(lambda s: "opens it again." in "".join(s.splitlines()), timeout=20,
                           what="the app gone, the exports said")
    said = "".join(screen.splitlines())  # 60 columns wrap the paths
    exports = re.search(r"export TUI_DESK_DB=(\S+) TUI_DESK_CONFIG=(\S+?\.toml)", said)
    assert exports and exports.groups() == (str(kept / "desk.sqlite3"), str(kept / "config.toml")), said
    env = {**os.environ, "TUI_DESK_DB": exports.group(1), "TUI_DESK_CONFIG": exports.group(2)}
    breaching = subprocess.run([TUI_DESK, "queue", "--view", "Breaching"], capture_output=True, text=True,
                               env=env, timeout=60)
    assert breaching.returncode == 0 and "breached" in breaching.stdout, breaching.stderr
