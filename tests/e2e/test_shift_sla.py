"""SLA targets from config.toml in a real terminal: queue rows say the target due first."""

from __future__ import annotations

import json

from e2e.conftest import imported_home

CONFIG = 'agent = "alice"\n[sla]\nfirst_response_minutes = 120\nresolution_minutes = 100000\n'


def test_queue_rows_and_the_header_show_the_sla(tmp_path, terminals):
    home = imported_home(tmp_path, 12, CONFIG)
    rows = json.loads(home.cli("queue", "--json").stdout)
    late = next(r for r in rows if r["sla"]["first_response"]["state"] == "breached")
    assert late["sla"]["first_response"]["due"] is not None
    term = terminals.open_home(home, width=160, height=40)
    term.wait_for(late["customer"][:12])
    term.wait_for("breached ")  # the mail is days old: two hours are long gone
    term.keys("Enter")
    term.wait_for("first response breached")  # the open conversation's header names the target
