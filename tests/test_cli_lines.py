"""The command line's lines for people: counts with the right plural ("1 message", "2 messages")."""

from __future__ import annotations

import pytest

from tui_desk.cli import main
from tui_desk.sync.stats import SyncStats


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_import_counts_one_as_one(tmp_path, capsys):
    mail = tmp_path / "one.eml"
    mail.write_text("From: Ann <ann@c.test>\nSubject: Hello\nMessage-ID: <one@c.test>\n\nHi\n")
    code, out, err = run(capsys, "--db", tmp_path / "d.sqlite3", "import", mail)
    assert code == 0, err
    assert out == "imported 1 message (0 already known), 1 conversation touched, 1 in the store, 0 errors\n"
    second = tmp_path / "two.eml"
    second.write_text("From: Bo <bo@c.test>\nSubject: Other\nMessage-ID: <two@c.test>\n\nHi\n")
    code, out, err = run(capsys, "--db", tmp_path / "d.sqlite3", "import", mail, second)
    assert out == "imported 1 message (1 already known), 1 conversation touched, 2 in the store, 0 errors\n"


@pytest.mark.parametrize(("n", "line"), [
    (1, "synced: 1 new, 1 changed, 1 expunged, 1 body, 1 change pushed, 1 error"),
    (2, "synced: 2 new, 2 changed, 2 expunged, 2 bodies, 2 changes pushed, 2 errors"),
])
def test_sync_line_counts_one_as_one(n, line):
    assert SyncStats(new=n, changed=n, expunged=n, bodies=n, errors=n, pushed=n).line() == line


def test_counted():
    from tui_desk.desk.wording import counted
    assert [counted(n, "reply", "replies") for n in (0, 1, 2)] == ["0 replies", "1 reply", "2 replies"]
    assert counted(1, "hour") == "1 hour" and counted(3, "hour") == "3 hours"


def test_heatmap_staffing_line_counts_one_as_one():
    from types import SimpleNamespace
    from tui_desk.cli.reports import heatmap_lines

    class Heat:
        zone = "UTC"

        def mean_load(self, d, h):
            return 1.0 if (d, h) == (0, 9) else 0.0
    staffing = SimpleNamespace(reply_rate=1.0, replies=1, reply_hours=1, busiest=[], over_capacity=[])
    lines = heatmap_lines(Heat(), staffing, 0, 3600, None)
    assert any("(1 reply in 1 hour)" in line for line in lines), lines
