"""CSAT figures (issue 17) on a crafted history: `csat` events on conversations with tags and
customers, read into `tui-desk report --json` under `csat` with the report's breakdowns; the
answer mail itself is no customer turn in the other figures."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json

from tests.clock import Clock
from tests.mailfactory import make_mail
from tests.report_mail import CONFIG_TOML, P_SINCE, P_UNTIL, SINCE, UNTIL, UTC_DESK, at, conv_of, customer, ingest
from tui_desk.cli import main as cli_main
from tui_desk.desk import commands
from tui_desk.desk.metrics.csat import CsatAnswer, csat_report
from tui_desk.desk.service import Desk
from tui_desk.store import events as store_events
from tui_desk.store.events import Event, event_id


def csat_event(conv_anchor: str, minutes: float, rating: str, agent: str | None, snippets: list[str], n: int) -> Event:
    score = {"great": 3, "okay": 2, "bad": 1}[rating]
    return Event(event_id(at(minutes) * 1000, hashlib.sha256(f"a{n}".encode()).hexdigest()[:20]), at(minutes),
                 "alice", "csat", conv_anchor,
                 {"rating": rating, "score": score, "comment": "", "agent": agent,
                  "snippets": [{"name": s, "hash": "0" * 64} for s in snippets], "survey": f"csat.{n}@helpdesk.test"})


async def crafted(tmp_path) -> Desk:
    desk = await Desk.open(tmp_path / "desk.db", UTC_DESK, clock=Clock())
    await customer(desk, "a@t", 0, "Ann <ann@shop.test>")
    await customer(desk, "b@t", 10, "Bo <bo@shop.test>")
    await customer(desk, "c@t", 20, "Cy <cy@other.test>")
    a, b, c = [await conv_of(desk, m) for m in ("a@t", "b@t", "c@t")]
    await commands.tag(desk, [a, b], ["billing"])
    events = [csat_event("a@t", 60, "great", "alice", ["refund-issued"], 1),
              csat_event("b@t", 70, "bad", "bob", ["refund-issued", "more-info"], 2),
              csat_event("c@t", 60 * 24 + 5, "okay", "alice", [], 3),
              csat_event("c@t", -60 * 24 * 40, "bad", "alice", [], 4)]  # before the period
    async with desk.store.transaction():
        await store_events.record(desk.store, events)
    return desk


async def test_csat_in_the_report_with_its_breakdowns(tmp_path):
    desk = await crafted(tmp_path)
    plain = (await desk.report(P_SINCE, P_UNTIL)).to_json()["csat"]
    assert {k: plain[k] for k in ("count", "great", "okay", "bad", "score_mean")} == {
        "count": 3, "great": 1, "okay": 1, "bad": 1, "score_mean": 2.0}
    assert plain["share"] == {"great": 0.3333, "okay": 0.3333, "bad": 0.3333} and plain["breakdowns"] == {}
    report = (await desk.report(P_SINCE, P_UNTIL, by=("agent", "tag", "snippet", "domain", "day"))).to_json()
    groups = report["csat"]["breakdowns"]
    assert [(g["key"], g["count"], g["score_mean"]) for g in groups["agent"]] == [("alice", 2, 2.5), ("bob", 1, 1.0)]
    assert [(g["key"], g["count"], g["great"], g["bad"]) for g in groups["tag"]] == [("billing", 2, 1, 1), (None, 1, 0, 0)]
    assert [(g["key"], g["count"]) for g in groups["snippet"]] == [("more-info", 1), ("refund-issued", 2), (None, 1)]
    assert [(g["key"], g["count"]) for g in groups["domain"]] == [("other.test", 1), ("shop.test", 2)]
    assert [(g["key"], g["count"]) for g in groups["day"]] == [("2026-11-02", 2), ("2026-11-03", 1)]
    assert groups["day"][1]["share"] == {"great": 0.0, "okay": 1.0, "bad": 0.0}
    await desk.close()


async def test_report_json_and_text_carry_csat(tmp_path, capsys):
    desk = await crafted(tmp_path)
    await desk.close()
    cfg = tmp_path / "config.toml"
    cfg.write_text(CONFIG_TOML, encoding="utf-8")
    base = ["--config", str(cfg), "--db", str(tmp_path / "desk.db"), "report", "--since", SINCE, "--until", UNTIL]
    assert await asyncio.to_thread(cli_main, base + ["--json", "--by", "agent"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["csat"]["count"] == 3 and [g["key"] for g in out["csat"]["breakdowns"]["agent"]] == ["alice", "bob"]
    assert await asyncio.to_thread(cli_main, base + ["--by", "agent"]) == 0
    text = capsys.readouterr().out
    assert "All answers              3  great  33%  okay  33%  bad  33%  mean 2.00" in text
    assert "CSAT by agent:" in text and "bob                      1  great   0%  okay   0%  bad 100%  mean 1.00" in text


async def test_report_csv_and_export_carry_csat_columns(tmp_path, capsys):
    import csv
    import io
    desk = await crafted(tmp_path)
    await desk.close()
    cfg = tmp_path / "config.toml"
    cfg.write_text(CONFIG_TOML, encoding="utf-8")
    base = ["--config", str(cfg), "--db", str(tmp_path / "desk.db")]
    assert await asyncio.to_thread(cli_main, base + ["report", "--since", SINCE, "--until", UNTIL, "--csv",
                                                     "--by", "agent,tag"]) == 0
    table = list(csv.reader(io.StringIO(capsys.readouterr().out, newline="")))
    header = table[0]
    assert header[-8:] == ["csat_count", "csat_great", "csat_okay", "csat_bad", "csat_share_great",
                           "csat_share_okay", "csat_share_bad", "csat_score_mean"]
    rows = {(r[0], r[1]): dict(zip(header, r)) for r in table[1:]}
    assert len(rows) == len(table) - 1, "one row per group"
    head = rows[("", "all")]
    assert [head[k] for k in header[-8:]] == ["3", "1", "1", "1", "0.3333", "0.3333", "0.3333", "2.0"]
    # alice and bob are named by surveys only (nobody replied in the period): rows of their own;
    # the report's own (none) group (unassigned conversations, empty key) has no answers
    assert {k for (b, k) in rows if b == "agent"} == {"alice", "bob", ""}
    none = rows[("agent", "")]
    assert (none["conversations"], none["csat_count"], none["csat_score_mean"]) == ("3", "0", "")
    alice = rows[("agent", "alice")]
    assert (alice["csat_count"], alice["csat_score_mean"], alice["conversations"]) == ("2", "2.5", "")
    # a tag's row carries both the report's figures and the answers of its conversations
    billing = rows[("tag", "billing")]
    assert (billing["conversations"], billing["csat_count"], billing["csat_bad"]) == ("2", "2", "1")
    assert await asyncio.to_thread(cli_main, base + ["export", "--csv"]) == 0
    exported = list(csv.reader(io.StringIO(capsys.readouterr().out, newline="")))
    assert exported[0][-2:] == ["csat_rating", "csat_score"]
    by_domain = sorted((r[2], r[-2], r[-1]) for r in exported[1:])
    # each conversation's newest answer (c's from 40 days ago is older than its okay)
    assert by_domain == [("other.test", "okay", "2"), ("shop.test", "bad", "1"), ("shop.test", "great", "3")]


async def test_an_answer_mail_is_no_customer_turn(tmp_path):
    desk = await Desk.open(tmp_path / "desk.db", UTC_DESK, clock=Clock())
    await customer(desk, "q@t", 0, "Ann <ann@shop.test>")
    conv = await conv_of(desk, "q@t")
    before = (await desk.report(P_SINCE, P_UNTIL)).to_json()["headline"]
    await ingest(desk, make_mail("ans@t", sender="Ann <ann@shop.test>", minutes=90, refs=["q@t"],
                                 to="support+csat-abcdefghijklmnop-great@helpdesk.test", subject="Re: Hello"))
    assert await conv_of(desk, "ans@t") == conv
    after = (await desk.report(P_SINCE, P_UNTIL)).to_json()["headline"]
    assert after["customer_messages"] == before["customer_messages"] == 1
    assert after["first_response"] == before["first_response"]
    await desk.close()


def test_no_answers_no_figures():
    empty = csat_report([], 0, 10).to_json()
    assert empty == {"key": None, "count": 0, "great": 0, "okay": 0, "bad": 0,
                     "share": {"great": None, "okay": None, "bad": None}, "score_mean": None, "breakdowns": {}}
    one = csat_report([CsatAnswer(5, "okay", 2), CsatAnswer(10, "great", 3)], 0, 10).to_json()
    assert one["count"] == 1 and one["score_mean"] == 2.0  # until is not in the period


def test_csat_by_agent_is_one_group_per_agent_whatever_the_case_of_the_name():
    answers = [CsatAnswer(at(60), "great", 3, "Chen Wei", (), (), None),
               CsatAnswer(at(61), "bad", 1, "chen wei", (), (), None),
               CsatAnswer(at(62), "okay", 2, "bob okafor", (), (), None)]
    got = csat_report(answers, P_SINCE, P_UNTIL, by=("agent",)).breakdowns["agent"]
    assert [(g.key, g.count) for g in got] == [("bob okafor", 1), ("Chen Wei", 2)]
    got = csat_report(answers, P_SINCE, P_UNTIL, by=("agent",), agents=("Bob Okafor",)).breakdowns["agent"]
    assert [(g.key, g.count) for g in got] == [("Bob Okafor", 1), ("Chen Wei", 2)]


async def test_the_desks_report_groups_agents_with_the_teams_spelling(tmp_path):
    desk = await Desk.open(tmp_path / "desk.db", dataclasses.replace(UTC_DESK, team=("Bob Okafor",)), clock=Clock())
    await customer(desk, "a@t", 0, "Ann <ann@shop.test>")
    async with desk.store.transaction():
        await store_events.record(desk.store, [csat_event("a@t", 60, "great", "bob okafor", [], 1),
                                               csat_event("a@t", 70, "okay", "Bob Okafor", [], 2)])
    report = (await desk.report(P_SINCE, P_UNTIL, by=("agent",))).to_json()
    assert [(g["key"], g["count"]) for g in report["csat"]["breakdowns"]["agent"]] == [("Bob Okafor", 2)]
    await desk.close()
