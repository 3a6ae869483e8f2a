"""The core never imports Textual: only tui_desk.ui may."""

import subprocess
import sys
from pathlib import Path

CORE = ["tui_desk.mail.parse", "tui_desk.mail.threading", "tui_desk.mail.sources", "tui_desk.store",
        "tui_desk.sync.imap_sync", "tui_desk.sync.delivery", "tui_desk.sync.parse_pool",
        "tui_desk.store.ingest", "tui_desk.store.queries", "tui_desk.store.search", "tui_desk.desk.service",
        "tui_desk.desk.importer", "tui_desk.desk.priority", "tui_desk.desk.render", "tui_desk.desk.snippets",
        "tui_desk.desk.themes", "tui_desk.sanitize", "tui_desk.config", "tui_desk.cli", "tui_desk.demo"]


def test_core_imports_leave_textual_out():
    code = ("import sys\n" + "".join(f"import {m}\n" for m in CORE)
            + "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
              "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_no_textual_import_statement_outside_ui():
    root = Path(__file__).resolve().parents[1] / "tui_desk"
    offenders = []
    for path in root.rglob("*.py"):
        if "ui" in path.relative_to(root).parts[:1]:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith(("import textual", "from textual")):
                offenders.append(f"{path}: {stripped}")
    assert offenders == []


LONG_FILE = 600  # lines (DEVELOPERS.md: no god files)
REASON = "Why this file is long:"


def test_no_long_file_without_a_written_reason():
    """A module past ~600 lines is split along its ideas, or says at its top why it is one."""
    root = Path(__file__).resolve().parents[1] / "tui_desk"
    long = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > LONG_FILE and REASON not in "\n".join(text.splitlines()[:40]):
            long.append(f"{path.relative_to(root.parent)}: {text.count(chr(10))} lines")
    assert long == [], f"split these, or write '{REASON} …' in their first 40 lines:\n" + "\n".join(long)
