"""A search term with nothing after its colon (`from:`, `tag:`, `to: alice`) used to be read as
the word "from", which nearly every mail holds: the search matched everything. It is bad input
now, said in one line that shows the form: in the grammar, the CLI (exit 2) and the search box."""

from __future__ import annotations

import asyncio

import pytest

from tui_desk.cli import main, prepare_demo
from tui_desk.store.search import KNOWN_FIELDS, RULE_FIELDS, SearchError, parse_query
from tui_desk.ui.app import DeskApp

try:
    from tests.ui_fake_desk import FIXED_NOW, FakeDesk, settle
    from tests.ui_support import THEME_DIRS
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_desk import FIXED_NOW, FakeDesk, settle
    from ui_support import THEME_DIRS


@pytest.mark.parametrize("text", ["from:", "from: alice", 'from:""', "refund from:", "FROM:"])
def test_from_without_a_value_says_so_with_an_example(text):
    with pytest.raises(SearchError) as caught:
        parse_query(text)
    assert str(caught.value) == "from: needs a value, e.g. from:alice@example.com"


def test_every_field_without_a_value_names_itself_and_shows_a_value_that_parses():
    for key in KNOWN_FIELDS:
        with pytest.raises(SearchError) as caught:
            parse_query(f"{key}:", me="alice")
        said = str(caught.value)
        assert said.startswith(f"{key}: needs a value, e.g. {key}:"), said
        example = said.rpartition("e.g. ")[2]
        parse_query(example, me="alice")  # the example given is a term that works
    for key in RULE_FIELDS:
        with pytest.raises(SearchError, match=f"^{key}: needs a value, e.g. {key}:"):
            parse_query(f"{key}: ", rule_keys=True)


def test_words_with_a_colon_that_are_no_field_are_still_words():
    assert parse_query("Re: refund").fts == ['"Re:"', '"refund"']
    assert parse_query("10:30").fts == ['"10:30"']
    assert parse_query("from:ann@x.test").fts == ['sender : "ann@x.test"']


def test_the_cli_says_it_in_one_line_and_exits_2(tmp_path, capsys):
    db = tmp_path / "demo.sqlite3"
    asyncio.run(prepare_demo(db))
    for term, example in (("from:", "from:alice@example.com"), ("tag:", "tag:billing"), ("to:", "to:support@example.com")):
        code = main(["--db", str(db), "search", term])
        out, err = capsys.readouterr()
        assert code == 2 and out == ""
        assert err.startswith(f"tui-desk: {term} needs a value, e.g. {example}") and err.count("\n") == 1, err


async def test_the_search_box_says_it_and_keeps_the_list():
    app = DeskApp(FakeDesk(40), clock=lambda: FIXED_NOW, theme="tui-desk-dark", theme_dirs=THEME_DIRS)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        before = list(app.queue.ids)
        await pilot.press("slash", *"from:", "enter")
        await settle(pilot)
        said = [(n.title, n.message) for n in app._notifications]
        assert ("Search", "from: needs a value, e.g. from:alice@example.com") in said
        assert app.queue.ids == before  # not "everything" instead of the queue
