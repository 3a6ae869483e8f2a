"""SLA targets from config.toml in a real terminal: queue rows say the target due first."""

from __future__ import annotations

import json

from e2e.conftest import home_with_mail, imported_home

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


SLA = "[sla]\nfirst_response_minutes = 120\nresolution_minutes = 100000\n"
KINDS = ("first_response", "next_response", "resolution")


def _next_due(row: dict) -> str | None:
    """The due time of the row's running target due first (ISO, UTC: they sort as text)."""
    dues = [row["sla"][k]["due"] for k in KINDS if row["sla"][k]["state"] in ("ok", "warning", "breached")]
    return min(dues, default=None)


def test_L_orders_the_synced_queue_by_sla_and_the_breaching_view_lists_the_late(dovecot, tmp_path, terminals):
    _, home = home_with_mail(dovecot, tmp_path, 40, extra=SLA)
    term = terminals.open_home(home, width=80, height=24)
    term.wait_for("idle", timeout=60)
    by_priority = json.loads(home.cli("queue", "--json").stdout)
    by_sla = json.loads(home.cli("queue", "--sort", "sla", "--json").stdout)
    breaching = json.loads(home.cli("queue", "--view", "breaching", "--json").stdout)
    assert sorted(r["id"] for r in by_sla) == sorted(r["id"] for r in by_priority)
    running = [r for r in by_sla if _next_due(r)]
    assert running and by_sla[:len(running)] == running  # the rows with a running target come first
    assert [_next_due(r) for r in running] == sorted(_next_due(r) for r in running)  # due first on top
    assert [r["id"] for r in by_sla[len(running):]] == [r["id"] for r in by_priority if not _next_due(r)]
    assert breaching and all(any(r["sla"][k]["state"] in ("warning", "breached") for k in KINDS) for r in breaching)
    unknown = home.cli("queue", "--view", "Late", check=False)
    assert unknown.returncode == 2 and "no view 'Late' (views: Queue, Mine" in unknown.stderr

    def first_row(screen: str) -> str:
        lines = screen.splitlines()
        title = next(i for i, line in enumerate(lines) if "╭" in line)
        return lines[title + 1]

    term.wait_for(lambda s: by_priority[0]["customer"][:10] in first_row(s))
    term.keys("L")  # by SLA: the title says so, the target due first is on top
    term.wait_for(lambda s: "by SLA" in s and by_sla[0]["customer"][:10] in first_row(s))
    term.keys("L")
    term.wait_for(lambda s: "by SLA" not in s and by_priority[0]["customer"][:10] in first_row(s))
    term.keys("8")  # the saved view Breaching: as many as `queue --view breaching` lists
    # (80 columns with a sync: the count alone, "4 · support: idle")
    term.wait_for(lambda s: "Breaching" in s and f" {len(breaching)} · " in s
                  and breaching[0]["customer"][:10] in first_row(s))
    assert not term.exited()
