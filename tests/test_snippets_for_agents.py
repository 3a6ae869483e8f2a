"""The snippets an agent may send (auto-only ones refused by `reply --snippet` and `followup`), and
the one rule for which snippets a reply used (desk.snippets.used_snippets)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3

import pytest

from tui_desk.cli import main, prepare_demo
from tui_desk.desk.snippets import bundled_dir, for_agents, load_snippets, used_snippets
from tui_desk.sanitize import sanitize

NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.timezone.utc)
BUNDLED = load_snippets([bundled_dir("snippets")])[0]  # type: ignore[list-item]
BY_NAME = {s.name: s for s in BUNDLED}


def test_for_agents_leaves_the_auto_only_snippets_out():
    names = {s.name for s in for_agents(BUNDLED)}
    assert {"auto-ack", "csat", "incident-ack", "incident-fixed"}.isdisjoint(names)
    assert {s.name for s in BUNDLED} - names == {"auto-ack", "csat", "incident-ack", "incident-fixed"}


def test_each_bundled_snippet_is_found_in_its_own_text_and_no_other_is():
    for snippet in BUNDLED:
        assert used_snippets(BUNDLED, snippet.body) == [snippet.name], snippet.name


def test_a_snippet_edited_or_filled_in_still_counts_a_deleted_one_does_not_and_the_order_is_the_texts():
    more, refund = BY_NAME["more-info"].body, BY_NAME["refund-issued"].body
    edited = more.replace("{{customer_first_name}}", "Ann").replace("get this right", "get this sorted")
    assert used_snippets(BUNDLED, edited) == ["more-info"]
    assert used_snippets(BUNDLED, f"{refund}\n\n{more}") == ["refund-issued", "more-info"]
    first_lines = "\n".join(more.splitlines()[:3])  # the greeting and one sentence of it kept
    assert used_snippets(BUNDLED, first_lines + "\n\nWhich version is it?") == []
    assert used_snippets(BUNDLED, "Hi Ann,\n\nthanks, refunded today.\n") == []


def test_a_snippet_with_controls_counts_as_the_compose_box_shows_it():
    hostile = BY_NAME["more-info"].__class__(name="hostile", title="Hostile", tags=(),
                                             body="Hi,\n\x1b[31mred\x1b[0m and \u202eevil\u202c here, really.")
    assert used_snippets([hostile], sanitize(hostile.body)) == ["hostile"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    db = folder / "demo.sqlite3"
    asyncio.run(prepare_demo(db, NOW))
    config = folder / "config.toml"
    config.write_text('agent = "alice"\n\n[accounts.support]\naddress = "support@helpdesk.test"\n')
    return db, config


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def outbox_count(db) -> int:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT count(*) FROM outbox").fetchone()[0]


@pytest.mark.parametrize("name", ["auto-ack", "csat"])
def test_reply_with_an_auto_only_snippet_is_refused_in_one_line(demo, capsys, name):
    db, config = demo
    conv = json.loads(run(capsys, "--db", db, "queue", "--json")[1])[0]["id"]
    before = outbox_count(db)
    code, out, err = run(capsys, "--db", db, "--config", config, "reply", conv, "--snippet", name,
                         "--send-at", "2099-01-03 09:00")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and f"snippet '{name}' is only for mail the desk sends by itself" in err, err
    assert outbox_count(db) == before


@pytest.mark.parametrize("name", ["auto-ack", "csat"])
def test_a_follow_up_with_an_auto_only_snippet_is_refused_in_one_line(demo, capsys, name):
    db, config = demo
    before = outbox_count(db)
    for extra in (("--dry-run",), ()):
        code, out, err = run(capsys, "--db", db, "--config", config, "followup", "--query", "subject:refund",
                             "--snippet", name, *extra)
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and f"snippet '{name}' is only for mail the desk sends by itself" in err, err
    assert outbox_count(db) == before
