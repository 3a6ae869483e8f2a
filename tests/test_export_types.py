"""`tui-desk export`: typed JSON (null for unset, a list of tags, booleans, numbers in the units
the README gives) and one spelling of booleans and unset cells in the CSV."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json

import pytest

from tui_desk.cli import main, prepare_demo

NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.timezone.utc)
TIMES = ("first_customer_at", "unanswered_since", "closed_at")
SECONDS = ("first_response", "first_response_business", "next_response_median", "resolution",
           "resolution_business", "resolution_net", "resolution_net_business")
COUNTS = ("customer_messages", "agent_replies", "next_responses", "replies_to_resolve", "reopens", "csat_score")
BOOLEANS = ("reopened_within_7d", "fcr")
TEXTS = ("source", "customer_domain", "assignee", "first_response_agent", "closed_by", "csat_rating")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    asyncio.run(prepare_demo(db, NOW))
    return db


def run(capsys, *argv) -> str:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_export_json_is_typed(demo_db, capsys):
    rows = json.loads(run(capsys, "--db", demo_db, "export", "--json"))
    assert rows
    for row in rows:
        assert set(row) == {"conv_id", "tags", *TIMES, *SECONDS, *COUNTS, *BOOLEANS, *TEXTS}
        assert isinstance(row["conv_id"], int)
        assert isinstance(row["tags"], list) and all(isinstance(t, str) and t for t in row["tags"]), row
        for key in TIMES:
            assert row[key] is None or dt.datetime.fromisoformat(row[key]).tzinfo is not None, (key, row)
        for key in SECONDS:
            assert row[key] is None or (isinstance(row[key], (int, float)) and not isinstance(row[key], bool)), \
                (key, row)
        for key in COUNTS:
            assert row[key] is None or (isinstance(row[key], int) and not isinstance(row[key], bool)), (key, row)
        for key in BOOLEANS:
            assert row[key] is None or isinstance(row[key], bool), (key, row)
        for key in TEXTS:
            assert row[key] is None or (isinstance(row[key], str) and row[key]), (key, row)
    # the demo has each kind: tags and none, closed and open, FCR known and not
    assert any(r["tags"] for r in rows) and any(r["tags"] == [] for r in rows)
    assert any(r["closed_at"] is None for r in rows) and any(r["closed_at"] for r in rows)
    assert {r["fcr"] for r in rows} == {None, True, False}
    assert any(len(r["tags"]) > 1 for r in rows), "several tags: a list of them, not one string"


def test_export_csv_spells_booleans_one_way_and_unset_as_empty(demo_db, capsys):
    table = list(csv.reader(io.StringIO(run(capsys, "--db", demo_db, "export", "--csv"), newline="")))
    header, rows = table[0], table[1:]
    for key in BOOLEANS:
        assert {row[header.index(key)] for row in rows} == {"true", "false", ""}, key
    assert not any(cell in ("True", "False", "None") for row in rows for cell in row)
