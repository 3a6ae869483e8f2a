"""Saving a customer's attachment at 80x24: the save prompt's grey completion is the file
Enter writes (once it showed the download folder's first file, an existing DEVELOPERS.md,
as if Enter would replace it)."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from e2e.harness import TUI_DESK


def test_the_save_prompt_shows_the_new_file_enter_writes(terminals):
    downloads = Path(tempfile.mkdtemp(prefix="dl", dir="/tmp"))  # short: the whole path fits the prompt
    try:
        (downloads / "AAA-existing.md").write_text("keep me\n")
        term = terminals.open([TUI_DESK, "demo"], {"XDG_DOWNLOAD_DIR": str(downloads)}, width=80, height=24)
        term.wait_for(lambda s: "Queue" in s and re.search(r"(due|breached) \d|⚠\d", s), timeout=90,
                      what="the demo's queue")
        term.keys("/")
        term.type("has:attachment")
        term.keys("Enter")
        term.wait_for(lambda s: re.search(r"has:attachment · \d+", s), timeout=20, what="the search's queue")
        term.keys("Enter")
        term.wait_gone("No conversation open")
        for copy in ("", " (1)"):
            term.keys("s")
            term.wait_for("Attachments ·", what="the attachments popup")
            term.keys("Enter")
            pattern = re.compile(re.escape(f"{downloads}/") + r"(\S[^│]*?)\s*│")
            screen = term.wait_for(lambda s: "Save to" in s and pattern.search(s), what="the prompt's completion")
            shown = pattern.search(screen).group(1)
            assert shown != "AAA-existing.md" and (copy in shown), screen
            term.keys("Enter")
            term.wait_for(lambda s: "saved " in s, what="the saved note")
            assert (downloads / shown).is_file(), (shown, sorted(p.name for p in downloads.iterdir()))
            term.keys("Escape")
            term.wait_gone("Attachments ·")
        assert (downloads / "AAA-existing.md").read_text() == "keep me\n"
        assert len(list(downloads.iterdir())) == 3
    finally:
        shutil.rmtree(downloads, ignore_errors=True)
