"""The snippet picker's figures (issue 17) over the stand-in desk's canned ones
(tests/ui_fake_desk.py SNIPPET_FIGURES), driven with Pilot: numbers beside each title, the
highlighted one's in words, and Ctrl+O sorting by uses, solved share and CSAT."""

from __future__ import annotations

from textual.widgets import Input, OptionList, Static

try:
    from tests.ui_fake_desk import settle
    from tests.ui_support import make_app, plain_text
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_desk import settle
    from ui_support import make_app, plain_text

WIDE = (120, 40)


def labels(pane) -> dict[str, str]:  # noqa: ANN001 - the SnippetPane
    options = pane.query_one("#snippet-list", OptionList)
    return {options.get_option_at_index(i).id: str(options.get_option_at_index(i).prompt)
            for i in range(options.option_count)}


async def test_the_picker_shows_and_sorts_by_the_figures():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        pane = app.snippet_pane
        assert pane.stats["password-reset"].uses == 12
        shown = labels(pane)
        assert shown["password-reset"].startswith(" 12×  90% ★2.8 "), shown["password-reset"]
        assert shown["refund-issued"].startswith("  5×  50%      ")  # no CSAT answer: the column stays empty
        assert shown["bug-fixed"].startswith("  0×    –      ")
        best_match = [s.name for s in pane.shown]
        assert best_match == sorted(best_match)  # no filter: the snippets' own order

        await pilot.press("tab", "tab", "ctrl+o")
        await settle(pilot)
        assert pane.sort == "uses"
        assert [s.name for s in pane.shown][:2] == ["password-reset", "refund-issued"]
        assert pane.query_one("#snippet-filter", Input).placeholder == "Filter snippets… (by uses)"
        fills = plain_text(pane.query_one("#snippet-fills", Static))
        assert fills.endswith("Used 12× in 10 conv · solved 90% · reopened 10% · closes in 30m · "
                              "CSAT 2.8 (4, 75% great)"), fills

        await pilot.press("ctrl+o")  # solved share: 90% before 50%, never used last
        await settle(pilot)
        assert pane.sort == "solved" and [s.name for s in pane.shown][:2] == ["password-reset", "refund-issued"]
        await pilot.press("ctrl+o")  # CSAT: the one with answers first, then by uses
        await settle(pilot)
        assert pane.sort == "CSAT" and [s.name for s in pane.shown][:2] == ["password-reset", "refund-issued"]

        await pilot.press(*"refund")  # the sort holds inside a filter
        await settle(pilot)
        assert [s.name for s in pane.shown][0] == "refund-issued"
        assert plain_text(pane.query_one("#snippet-fills", Static)).endswith(
            "Used 5× in 4 conv · solved 50% · reopened 33% · closes in 1h")
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert pane.sort == "best match"
        assert pane.query_one("#snippet-filter", Input).placeholder == "Filter snippets…"


async def test_the_picker_leaves_out_the_snippets_for_automatic_mail():
    """The survey, the acknowledgement and incident mail (`auto: true`): their placeholders are
    filled only when the desk sends them, so an agent never gets them in the picker."""
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        pane = app.snippet_pane
        shown = set(labels(pane))
        assert "password-reset" in shown and "refund-issued" in shown
        assert not shown & {"csat", "auto-ack", "incident-ack", "incident-fixed"}, shown
        await pilot.press("tab", "tab", *"survey")  # not even when searched for
        await settle(pilot)
        assert "csat" not in labels(pane)
        assert plain_text(pane.query_one("#snippet-fills", Static)).startswith("No snippet matches.")


async def test_a_desk_whose_figures_fail_still_lists_the_snippets():
    app = make_app()

    async def broken(since=None, until=None):  # noqa: ANN001, ANN202 - stands in for the desk's method
        raise RuntimeError("store is busy")
    app.desk.snippet_stats = broken
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        pane = app.snippet_pane
        assert pane.stats == {} and len(pane.shown) >= 10
        assert labels(pane)["refund-issued"] == pane.shown[[s.name for s in pane.shown].index("refund-issued")].title


async def test_a_folded_pane_reads_the_figures_when_it_is_first_shown():
    app = make_app()
    asked: list[tuple] = []
    real = app.desk.snippet_stats

    async def counting(since=None, until=None):  # noqa: ANN001, ANN202 - wraps the stand-in's method
        asked.append((since, until))
        return await real(since, until)
    app.desk.snippet_stats = counting
    async with app.run_test(size=(80, 24)) as pilot:  # under 100 columns the pane is folded away
        await settle(pilot)
        pane = app.snippet_pane
        assert not pane.display and asked == [] and pane.stats == {}
        await pilot.press("S")
        await settle(pilot)
        assert pane.display and asked == [(None, None)]
        assert pane.stats["refund-issued"].uses == 5
        await pilot.press("f2")
        await settle(pilot)
        assert not pane.display
        await pilot.press("f2")
        await settle(pilot)
        assert pane.display and asked == [(None, None)]  # once
