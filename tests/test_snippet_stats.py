"""Snippets that learn (issue 17): the figures after each snippet on crafted histories, the
suggestions' thresholds, and `tui-desk snippets stats | suggest`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.reports_history import NOW
from tests.snippet_history import snippet_desk, with_snippets_config
from tui_desk.config import SnippetsConfig
from tui_desk.desk.metrics import StatusChange, Timeline, Turn, conversation_metrics
from tui_desk.desk.metrics.stats import stats
from tui_desk.desk.questions import QuestionGroup, Trend
from tui_desk.desk.report_data import encode, plain
from tui_desk.desk.rules.load import checks_for
from tui_desk.desk.snippet_stats import (CsatVote, SnippetStats, automation_candidates, best_answer, check_rule,
                                         compute, csat_vote, groups_wanting_a_snippet, kb_links, rule_draft,
                                         snippet_text)
from tui_desk.desk.views import Snippet

HOUR = 3600.0


def tl(conv_id: str, turns: list[tuple[float, str, tuple[str, ...]]], status: list[tuple[float, str]] = ()) -> Timeline:
    return Timeline(conv_id, turns=tuple(Turn(at, role, "alice" if role == "agent" else None, snip)
                                         for at, role, snip in turns),
                    status_changes=tuple(StatusChange(at, s, "alice") for at, s in status))


C, A = "customer", "agent"
R = ("refund",)
CRAFTED = [
    # solved: closed 100 s after the snippet, no customer mail after it
    tl("1", [(0, C, ()), (100, A, R)], [(200, "closed")]),
    # closed after it, reopened by the customer, closed again: not solved, reopened
    tl("2", [(0, C, ()), (100, A, R), (300, C, ()), (400, A, ())], [(150, "closed"), (500, "closed")]),
    # answered, still open
    tl("3", [(0, C, ()), (50, A, R)]),
    # another snippet, closed by a status change
    tl("4", [(0, C, ()), (100, A, ("other",))], [(120, "closed")]),
    # used twice: "after it" is after the last use
    tl("5", [(1000, C, ()), (1100, A, R), (1150, C, ()), (1200, A, R)], [(1260, "closed")]),
    # mail only (no history): the snippet names come from events, so none here
    Timeline("6", turns=(Turn(0, C), Turn(10, A)), has_history=False),
]
VOTES = [CsatVote(600, 3, ("refund",)), CsatVote(700, 1, ("refund", "other")), CsatVote(800, 2, ())]


def rows():
    return [conversation_metrics(t) for t in CRAFTED]


def by_name(found: list[SnippetStats]) -> dict[str, SnippetStats]:
    return {s.name: s for s in found}


def test_figures_on_a_crafted_history():
    found = compute(rows(), VOTES, names=["refund", "other", "unused"])
    assert [s.name for s in found] == ["other", "refund", "unused"]
    refund, other, unused = (by_name(found)[n] for n in ("refund", "other", "unused"))
    assert (refund.uses, refund.conversations, refund.solved, refund.closed, refund.reopened) == (5, 4, 2, 3, 1)
    assert refund.solved_share == 0.5
    assert refund.reopen_rate == pytest.approx(1 / 3)
    assert refund.median_close_seconds == 100.0  # 100 (1), 400 (2), 60 (5)
    assert (refund.csat_count, refund.csat_mean, refund.csat_great_share) == (2, 2.0, 0.5)
    assert (other.uses, other.solved_share, other.reopen_rate, other.median_close_seconds) == (1, 1.0, 0.0, 20.0)
    assert (other.csat_count, other.csat_mean, other.csat_great_share) == (1, 1.0, 0.0)
    assert unused == SnippetStats("unused")
    assert (unused.solved_share, unused.reopen_rate) == (None, None)


def test_the_period_counts_uses_in_it_and_looks_after_them_for_the_outcome():
    found = by_name(compute(rows(), VOTES, since=1050, until=1150))
    refund = found["refund"]
    # only conversation 5's first use: the customer wrote after it, so it did not solve it
    assert (refund.uses, refund.conversations, refund.solved, refund.closed) == (1, 1, 0, 1)
    assert refund.median_close_seconds == 160.0
    assert refund.csat_count == 0  # the answers are outside the period
    assert "other" not in found  # used outside the period, and not a known name


def test_the_cached_rows_give_the_same_figures():
    encoded = [encode(m) for m in rows()]
    assert compute(plain(encoded), VOTES) == compute(rows(), VOTES)


def test_a_reopen_by_status_change_counts_and_a_close_before_the_snippet_does_not():
    found = by_name(compute([conversation_metrics(t) for t in [
        tl("1", [(0, C, ()), (100, A, R)], [(200, "closed"), (300, "open"), (400, "closed")]),
        tl("2", [(0, C, ()), (10, A, ())], [(20, "closed"), (30, "open")]),
        tl("3", [(0, C, ()), (40, A, R)], [(50, "closed"), (60, "open")]),
    ]]))["refund"]
    assert (found.conversations, found.solved, found.closed, found.reopened) == (2, 1, 2, 2)
    assert found.median_close_seconds == 300.0


def test_csat_events_are_read_defensively():
    assert csat_vote(5, {"rating": "great", "score": 3, "snippets": [{"name": "a", "hash": "x"}, {"name": "a"}]}) \
        == CsatVote(5.0, 3, ("a",))
    assert csat_vote(5, {"rating": "Okay"}) == CsatVote(5.0, 2, ())
    assert csat_vote(5, {"score": 7, "rating": "bad", "snippets": "nope"}) == CsatVote(5.0, 1, ())
    assert csat_vote(5, {"score": True}) is None
    assert csat_vote(5, {"comment": "no rating"}) is None


def test_the_median_is_the_reports_median():
    found = compute([conversation_metrics(tl(str(i), [(0, C, ()), (10, A, R)], [(10 + d, "closed")]))
                     for i, d in enumerate([50, 10, 40, 20])])
    assert found[0].median_close_seconds == stats([50, 10, 40, 20]).median == 30.0


# --- suggestions --------------------------------------------------------------------------------

def group(label: str, terms: tuple[str, ...], top: tuple[str, int] | None, conv_ids=(1, 2, 3)) -> QuestionGroup:
    return QuestionGroup(label, len(conv_ids), tuple(conv_ids), (label,), Trend(0.0, (len(conv_ids),), "steady"),
                         top, terms)


def test_automation_needs_the_share_and_the_uses():
    config = SnippetsConfig(automate_share=0.8, min_uses=10)
    found = [SnippetStats("a", 12, 10, 8), SnippetStats("b", 12, 10, 7), SnippetStats("c", 9, 9, 9),
             SnippetStats("d", 30, 20, 20)]
    assert [s.name for s in automation_candidates(found, config)] == ["a", "d"]  # b: 70%, c: 9 conversations
    assert [s.name for s in automation_candidates(found, SnippetsConfig(automate_share=0.7, min_uses=9))] == \
        ["a", "b", "c", "d"]


def test_a_rule_draft_loads_and_replies_with_the_snippet(tmp_path):
    s = SnippetStats("refund-issued", 12, 10, 9)
    checks = checks_for(["alice"], ["refund-issued"], None)
    text = rule_draft(s, None, [group("Refund for order", ("refund", "charge", "order"), ("refund-issued", 3))])
    assert 'if = "refund charge"' in text and 'do = ["reply refund-issued"]' in text
    assert "solved 90% of 10 conversations" in text
    assert check_rule(text, tmp_path / "rules.toml", checks) == ()
    from tui_desk.desk.rules.load import parse_rules
    [rule] = parse_rules(text, tmp_path / "rules.toml", checks).rules
    assert (rule.on, [a.text for a in rule.actions]) == ("new", ["reply refund-issued"])
    # no question group: its tags; a snippet the rules do not know: the draft says so
    tagged = Snippet("refund-issued", "Refund", ("billing", "refund"), "Hi")
    assert 'if = "tag:billing tag:refund"' in rule_draft(s, tagged, [])
    problems = check_rule(rule_draft(SnippetStats("gone", 12, 10, 9), None, []), tmp_path / "rules.toml", checks)
    assert problems and "unknown snippet 'gone'" in problems[0]


def test_a_question_wants_a_snippet_when_its_top_one_is_missing_or_poor():
    config = SnippetsConfig(good_share=0.5)
    found = {"good": SnippetStats("good", 10, 10, 5), "poor": SnippetStats("poor", 10, 10, 4)}
    groups = [group("none", ("x",), None), group("good", ("y",), ("good", 3)), group("poor", ("z",), ("poor", 3)),
              group("gone", ("w",), ("deleted", 3))]
    assert [g.label for g in groups_wanting_a_snippet(groups, found, config)] == ["none", "poor", "gone"]


def test_the_best_answer_is_the_reply_whose_conversation_closed_fastest():
    metrics_rows = [conversation_metrics(t) for t in [
        tl("1", [(0, C, ()), (100, A, ())], [(500, "closed")]),  # closed 500 s after the question
        tl("2", [(0, C, ()), (50, A, ()), (60, C, ()), (200, A, ())], [(300, "closed")]),  # 300 s: the best
        tl("3", [(0, C, ()), (20, A, ()), (30, C, ())], [(40, "closed")]),  # the customer wrote after it
        tl("4", [(0, C, ()), (10, A, ())]),  # open
    ]]
    assert best_answer(metrics_rows) == (2, 200.0)
    assert best_answer(metrics_rows[2:]) is None


def test_a_snippet_draft_keeps_the_agents_own_words():
    body = ("Hi Maria,\n\nuse the reset link again, it works now.\n\nBest, Bo\nBo Lin, support\n\n"
            "On Mon, Maria wrote:\n> my password\n")
    text = snippet_text("Cannot reset \x1b[31mpassword", body, ["Maria"], "Bo Lin")
    assert text.startswith("---\ntitle: Cannot reset password\ntags: [suggested]\n---\n")
    assert "Hi {{customer_first_name}}," in text and "it works now." in text
    assert "Best, {{agent_first_name}}\n{{agent_name}}, support" in text
    assert "my password" not in text and "Maria" not in text and "Bo" not in text and "\x1b" not in text


def test_kb_links_for_the_questions_a_snippet_answers():
    snippets = [Snippet("refund-faq", "Refunds", ("billing",), "See the FAQ", kb="https://help.test/refunds"),
                Snippet("password-reset", "Reset", (), "Hi", kb="https://help.test/password"),
                Snippet("no-link", "x", ("refund",), "Hi")]
    groups = [group("Refund for order", ("refund", "order"), None), group("Reset", ("link",), ("password-reset", 3)),
              group("Shipping", ("ship",), None)]
    assert [(k.snippet, k.kb, k.question) for k in kb_links(snippets, groups)] == [
        ("refund-faq", "https://help.test/refunds", "Refund for order"),
        ("password-reset", "https://help.test/password", "Reset")]


# --- a real desk --------------------------------------------------------------------------------

@pytest.fixture
def config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    folder = tmp_path / "config" / "tui-desk" / "snippets"
    folder.mkdir(parents=True)
    (folder / "refund-faq.md").write_text("---\ntitle: Refunds, self-service\ntags: [refund]\n"
                                          "kb: https://help.test/refunds\n---\nSee {{kb}}\n", encoding="utf-8")
    return folder


async def test_the_desk_reads_figures_from_replies_and_csat_events(tmp_path, config_home):
    desk = await snippet_desk(tmp_path / "desk.db")
    try:
        found = by_name(await desk.snippet_stats())
        refund = found["refund-issued"]
        assert (refund.uses, refund.conversations, refund.solved, refund.closed, refund.reopened) == (4, 4, 3, 3, 1)
        assert refund.median_close_seconds == 3600.0
        assert (refund.csat_count, refund.csat_mean, refund.csat_great_share) == (2, 2.0, 0.5)
        password = found["password-reset"]
        assert (password.uses, password.solved_share, password.reopen_rate) == (1, 0.0, None)
        assert set(found) == {s.name for s in desk.snippets()}  # every snippet, used or not
        assert found["refund-faq"] == SnippetStats("refund-faq")
        # a period after the replies: none of them counts
        later = by_name(await desk.snippet_stats(int(NOW.timestamp()) - 3600))
        assert later["refund-issued"].uses == 0
    finally:
        await desk.close()


async def test_suggestions_on_a_real_desk(tmp_path, config_home):
    from tui_desk.desk.snippet_stats import suggest
    desk = await snippet_desk(tmp_path / "desk.db")
    try:
        since, until = int(NOW.timestamp()) - 30 * 86400, int(NOW.timestamp())
        with_snippets_config(desk)  # the defaults: 80% of 10 conversations
        assert (await suggest(desk, since, until)).automate == ()
        with_snippets_config(desk, automate_share=0.75, min_uses=4)
        found = await suggest(desk, since, until)
        [rule] = found.automate
        assert (rule.snippet, rule.conversations, rule.solved_share, rule.problems) == ("refund-issued", 4, 0.75, ())
        assert 'do = ["reply refund-issued"]' in rule.toml
        # the password question: its snippet solved none; password-c's reply closed it
        [draft] = found.new_snippets
        assert draft.question.startswith("Cannot reset my password") and draft.size == 3
        assert "Thank you, this is done." in draft.text and draft.name.startswith("cannot-reset-my-password")
        assert [(k.snippet, k.kb, k.size) for k in found.self_service] == [("refund-faq", "https://help.test/refunds", 4)]
        with_snippets_config(desk, automate_share=0.76, min_uses=4)
        assert (await suggest(desk, since, until)).automate == ()
    finally:
        await desk.close()


# --- the command line ---------------------------------------------------------------------------

STATS_KEYS = {"name", "uses", "conversations", "solved", "solved_share", "closed", "reopened", "reopen_rate",
              "median_close_seconds", "csat"}


def cli(capsys, *argv: object) -> tuple[int, str, str]:
    from tui_desk.cli import main
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def store(tmp_path, config_home) -> Path:
    import asyncio

    from tests.snippet_history import build_store
    path = tmp_path / "desk.db"
    asyncio.run(build_store(path))
    (tmp_path / "config.toml").write_text('agent = "alice"\nagent_addresses = ["*@helpdesk.test"]\n'
                                          '[snippets]\nautomate_share = 0.75\nmin_uses = 4\n', encoding="utf-8")
    return path


def test_snippets_stats_json_and_text(capsys, store):
    config = store.parent / "config.toml"
    code, out, err = cli(capsys, "--db", store, "--config", config, "snippets", "stats", "--json")
    assert code == 0, err
    found = {s["name"]: s for s in json.loads(out)["snippets"]}
    assert all(set(s) == STATS_KEYS for s in found.values())
    refund = found["refund-issued"]
    assert (refund["uses"], refund["solved_share"], refund["median_close_seconds"]) == (4, 0.75, 3600.0)
    assert refund["csat"] == {"count": 2, "mean": 2.0, "great_share": 0.5}
    code, out, err = cli(capsys, "--db", store, "--config", config, "snippets", "stats")
    assert code == 0, err
    lines = out.splitlines()
    first = next(line for line in lines if "refund-issued" in line)
    assert lines.index(first) < next(i for i, line in enumerate(lines) if "password-reset" in line)  # most used first
    assert "75%" in first and "33%" in first and "1 h 00 min" in first and "2.0" in first


def test_snippets_suggest_json_and_text(capsys, store):
    config = store.parent / "config.toml"
    code, out, err = cli(capsys, "--db", store, "--config", config, "snippets", "suggest", "--json",
                         "--since", "2026-10-01", "--until", "2026-11-20")
    assert code == 0, err
    found = json.loads(out)
    assert [r["snippet"] for r in found["automate"]] == ["refund-issued"]
    assert found["automate"][0]["problems"] == []
    assert [d["size"] for d in found["new_snippets"]] == [3]
    assert found["self_service"] == [{"snippet": "refund-faq", "kb": "https://help.test/refunds",
                                      "question": found["self_service"][0]["question"], "size": 4}]
    code, out, err = cli(capsys, "--db", store, "--config", config, "snippets", "suggest",
                         "--since", "2026-10-01", "--until", "2026-11-20")
    assert code == 0, err
    assert "[[rule]]" in out and "reply refund-issued" in out and "Thank you, this is done." in out
    assert "https://help.test/refunds" in out


# --- [snippets] in config.toml ------------------------------------------------------------------

def test_the_snippets_config(tmp_path):
    from tui_desk.config import ConfigError, load_config
    path = tmp_path / "config.toml"
    path.write_text("[snippets]\nautomate_share = 0.9\nmin_uses = 3\ngood_share = 1\n")
    assert load_config(path).snippets == SnippetsConfig(automate_share=0.9, min_uses=3, good_share=1.0)
    path.write_text("")
    assert load_config(path).snippets == SnippetsConfig(automate_share=0.8, min_uses=10, good_share=0.5)
    for bad, said in [("automate_share = 80", "must be a share above 0 and at most 1"),
                      ("automate_share = true", "must be a share"), ("min_uses = 0", "must be 1 or more"),
                      ("min_uses = 2.5", "must be a whole number"), ("automate = 1", "unknown key 'snippets.automate'")]:
        path.write_text(f"[snippets]\n{bad}\n")
        with pytest.raises(ConfigError, match=said):
            load_config(path)
    path.write_text('[snippets.values]\nstatus_page_url = "https://status.shop.example"\n')
    assert load_config(path).snippets.values == (("status_page_url", "https://status.shop.example"),)
    for bad, said in [('agent_name = "Bob"', r"the desk fills \{\{agent_name\}\} itself"),
                      ('"status page" = "x"', "is not a placeholder name"), ("url = 3", "must be a text")]:
        path.write_text(f"[snippets.values]\n{bad}\n")
        with pytest.raises(ConfigError, match=said):
            load_config(path)


# -- a thank-you after the snippet's answer (the tryout's #46: password-reset solved 0% while FCR
# said 100% and the survey "great"): desk.thanks is the one rule, read by FCR and "solved" alike

THANKS = {"en": "Thanks, it worked!\n\nBest,\nLukas", "ru": "Спасибо, всё получилось!",
          "zh": "谢谢，问题解决了！", "more": "Thanks, but it still does not work."}


async def test_a_thank_you_after_the_snippets_answer_leaves_it_solved_as_fcr_does(tmp_path):
    from tests.clock import Clock
    from tests.mailfactory import BASE, make_mail
    from tui_desk.config import Config
    from tui_desk.desk.service import Desk
    from tui_desk.mail.parse import parse_message
    from tui_desk.store import events as store_events, ingest as store_ingest
    from tui_desk.store.events import Event, new_event_id
    from tui_desk.store.queries import thread_message_ids

    config = Config(agent="alice", agent_addresses=("*@helpdesk.test",))
    clock = Clock(BASE.timestamp())
    desk = await Desk.open(tmp_path / "t.db", config, clock=clock)
    mails = []
    for n, (lang, text) in enumerate(THANKS.items()):
        start = n * 600
        mails += [make_mail(f"{lang}@c.test", subject=f"Cannot log in ({lang})", sender=f"C{n} <{lang}@c.test>",
                            minutes=start, body="The reset link does not work.\n"),
                  make_mail(f"{lang}-reply@helpdesk.test", subject=f"Re: Cannot log in ({lang})",
                            sender="Alice <agent1@helpdesk.test>", to=f"{lang}@c.test", in_reply_to=f"{lang}@c.test",
                            refs=[f"{lang}@c.test"], minutes=start + 30, body="Here is a new link.\n"),
                  make_mail(f"{lang}-thanks@c.test", subject=f"Re: Cannot log in ({lang})",
                            sender=f"C{n} <{lang}@c.test>", in_reply_to=f"{lang}-reply@helpdesk.test",
                            refs=[f"{lang}@c.test", f"{lang}-reply@helpdesk.test"], minutes=start + 60,
                            body=text + "\n\nOn Monday Alice wrote:\n> Here is a new link.\n")]
    items = [store_ingest.NewMessage(raw=r, parsed=p, is_agent=config.is_agent_address(p.sender.key))
             for r, p in ((r, parse_message(r)) for r in mails)]
    await desk.refresh((await store_ingest.ingest(desk.store, items)).conversations)
    threads = await thread_message_ids(desk.store)
    ids = {lang: next(c for c, m in threads.items() if f"{lang}@c.test" in m) for lang in THANKS}
    anchors = await store_events.anchors(desk.store, list(ids.values()))
    replies = []
    for n, lang in enumerate(THANKS):
        at = int(BASE.timestamp()) + (n * 600 + 30) * 60
        replies.append(Event(new_event_id(at), at, "alice", "reply", anchors[ids[lang]],
                             {"message_id": f"{lang}-reply@helpdesk.test", "reply_all": False,
                              "snippets": [{"name": "password-reset", "hash": None}]}))
    async with desk.store.transaction():
        await store_events.record(desk.store, replies)
    for n, lang in enumerate(THANKS):  # closed after the customer's mail, with no other reply
        clock.now = BASE.timestamp() + (n * 600 + 90) * 60
        await desk.set_status([ids[lang]], "closed")
    clock.now = BASE.timestamp() + 3 * 86400

    [found] = [s for s in await desk.snippet_stats() if s.name == "password-reset"]
    assert (found.conversations, found.solved, found.closed) == (4, 3, 4)  # all but "still does not work"
    since, until = int(BASE.timestamp()) - 60, int(clock.now)
    report = await desk.report(since, until, ("snippet",), False)
    [group] = [g for g in report.breakdowns["snippet"] if g.key == "password-reset"]
    assert (group.fcr_eligible, group.fcr_resolved) == (4, 4)  # FCR: one reply, no reopen, each
    await desk.close()


def test_a_thank_you_while_closed_reopens_nothing_and_keeps_fcr_and_solved():
    """Closed after the answer, then the customer's thank-you (the queue opens it, the agent
    closes it again): no reopen, FCR kept, solved; any other mail reopens as before."""
    thanked = Timeline("t", turns=(Turn(0, C), Turn(100, A, "alice", R), Turn(300, C, thanks=True)),
                       status_changes=(StatusChange(150, "closed", "alice"), StatusChange(400, "closed", "alice")))
    asked = Timeline("a", turns=(Turn(0, C), Turn(100, A, "alice", R), Turn(300, C)),
                     status_changes=(StatusChange(150, "closed", "alice"), StatusChange(400, "closed", "alice")))
    t, a = conversation_metrics(thanked), conversation_metrics(asked)
    assert (t.reopens, t.fcr, t.closed_at, t.thanks) == ((), True, 150, (300,))
    assert (len(a.reopens), a.fcr, a.closed_at, a.thanks) == (1, False, 400, ())
    found = by_name(compute([t, a], names=["refund"]))["refund"]
    assert (found.conversations, found.solved, found.reopened) == (2, 1, 1)
    from tui_desk.desk.report_data import decode
    assert decode(encode(t)) == t  # the cache keeps the mark
