"""The app on a store it must not write: one line in the terminal, and the file as it was."""

from __future__ import annotations

import re

from damaged_store import damage, file_state, imported_store
from e2e.harness import TUI_DESK


def test_the_app_on_a_damaged_store_says_so_in_one_line(tmp_path, terminals):
    db = imported_store(tmp_path)
    damage(db, ["raw_messages"])  # the queue's first page reads fine: the desk's check finds it
    before = file_state(db)
    term = terminals.open([TUI_DESK, "--db", str(db)], {"XDG_CONFIG_HOME": str(tmp_path / "config")},
                          width=60, height=20)  # narrower than the line
    term.wait_for(lambda s: term.exited(), timeout=20, what="the app gone")
    said = re.findall(r"tui-desk: [^\r\n]*", term.raw_output().decode())
    assert len(said) == 1, said
    assert said[0].startswith(f"tui-desk: store {db} is damaged (")
    assert said[0].endswith("it was left untouched")  # not broken at the terminal's width
    assert file_state(db) == before
