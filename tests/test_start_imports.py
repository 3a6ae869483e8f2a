"""What `tui-desk` imports before its first frame (issue 14, first paint): what the queue's first
page needs, not what a key or a command brings later. Each module here was once on the start
path and cost the first paint its import."""

from __future__ import annotations

import subprocess
import sys

# as cli.main and cli.run_tui import on the way to the app (bench/ui_bench.py's child does the same)
START = ("import tui_desk.cli\nfrom tui_desk.cli.parser import parse_args\n"
         "from tui_desk.desk.first_page import FirstPageReader\nimport tui_desk.ui.app\n")
LATER = (
    "tui_desk.store.search", "tui_desk.store.fts",  # the search parser: a search, a saved view (desk.markers)
    "tui_desk.cli.commands", "tui_desk.cli.reports", "csv", "shlex", "email.utils",  # the commands
    "tui_desk.desk.service",  # the desk: opened on a thread once the first page is on screen
    "textual.widgets._markdown", "markdown_it",  # the snippet preview
)


def test_the_start_leaves_for_later_what_the_first_page_does_not_need():
    code = START + f"import sys\nprint(sorted(m for m in {LATER!r} if m in sys.modules))\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout
