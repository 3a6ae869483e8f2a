"""The demo store's history (demo.history): events of every kind by the three agents, final states
that agree with the events and the mail, the same events on every build, and figures a support
lead would believe (computed with desk.metrics over the store's timelines)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import sqlite3
from collections import Counter

import pytest

from tui_desk.cli import prepare_demo
from tui_desk.demo import DEMO_CONFIG, DEMO_SETTLED_DAYS
from tui_desk.demo.history import DAY_END, DAY_START
from tui_desk.desk.metrics import SnoozeSpan, StatusChange, Timeline, Turn, conversation_metrics, heatmap, report
from tui_desk.desk.snippets import bundled_dir, load_snippets

NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.timezone.utc)
END = int(NOW.replace(minute=0).timestamp())  # the newest mail; the history is before it
SCENE = int(NOW.timestamp())  # set_the_scene's actions, through the desk at the demo's now
AGENTS = {"Alice Martin", "Bob Okafor", "Chen Wei"}


def build(path) -> sqlite3.Connection:
    asyncio.run(prepare_demo(path, NOW))
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    return con


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> sqlite3.Connection:
    return build(tmp_path_factory.mktemp("demo-history") / "demo.sqlite3")


def events_of(con) -> dict[int, list[sqlite3.Row]]:
    out: dict[int, list[sqlite3.Row]] = {}
    for r in con.execute("SELECT e.*, t.conv_id FROM events e JOIN thread_ids t ON t.msgid = e.anchor"
                         " ORDER BY e.at, e.event_id"):
        out.setdefault(r["conv_id"], []).append(r)
    return out


def mail_of(con) -> dict[int, list[sqlite3.Row]]:
    out: dict[int, list[sqlite3.Row]] = {}
    for r in con.execute("SELECT conv_id, message_id, date, is_agent, auto_submitted, sender_name FROM messages"
                         " WHERE is_note = 0 ORDER BY conv_id, date, id"):
        out.setdefault(r["conv_id"], []).append(r)
    return out


def timelines(con) -> list[Timeline]:
    """What a report reads: turns from the mail (a reply event adds the snippets it used), status
    changes from status events, snoozed spans from snooze events up to what ended them."""
    events, mail = events_of(con), mail_of(con)
    domains = {r[0]: r[1].rpartition("@")[2] for r in con.execute("SELECT id, customer_key FROM conversations")}
    out = []
    for conv_id, messages in mail.items():
        evs = [e for e in events.get(conv_id, []) if e["at"] < END]
        snippets = {json.loads(e["data_json"])["message_id"]: tuple(s["name"] for s in json.loads(e["data_json"])["snippets"])
                    for e in evs if e["kind"] == "reply"}
        turns = tuple(Turn(m["date"], "agent", m["sender_name"], snippets.get(m["message_id"], ())) if m["is_agent"]
                      else Turn(m["date"], "auto" if m["auto_submitted"] else "customer") for m in messages)
        customer = [t.at for t in turns if t.role == "customer"]
        changes = tuple(StatusChange(e["at"], json.loads(e["data_json"])["to"], e["agent"]) for e in evs
                        if e["kind"] == "status")
        spans = []
        for i, e in enumerate(evs):
            if e["kind"] != "snooze":
                continue
            data = json.loads(e["data_json"])
            ends = [x["at"] for x in evs[i + 1:] if x["kind"] in ("snooze", "unsnooze")
                    or (x["kind"] == "status" and json.loads(x["data_json"])["to"] in ("closed", "spam"))]
            ends += [t for t in customer if t > e["at"]] + ([data["until"]] if data["until"] else [])
            spans.append(SnoozeSpan(e["at"], min(ends, default=None)))
        out.append(Timeline(str(conv_id), domains.get(conv_id, ""), turns=turns, status_changes=changes, snoozes=tuple(spans),
                            has_history=bool(evs)))
    return out


def test_every_kind_of_event_by_every_agent(demo):
    kinds = Counter(r[0] for r in demo.execute("SELECT kind FROM events"))
    for kind in ("status", "assign", "snooze", "tag", "reply"):
        assert kinds[kind] >= 5, (kind, kinds)
    assert kinds["unsnooze"] >= 2, kinds  # woken by hand to follow up, or by a close
    agents = {r[0] for r in demo.execute("SELECT DISTINCT agent FROM events")}
    assert agents == AGENTS
    moves = Counter((json.loads(r[0])["from"], json.loads(r[0])["to"])
                    for r in demo.execute("SELECT data_json FROM events WHERE kind = 'status'"))
    assert moves[("closed", "open")] >= 2, "an agent reopened a few"
    assert sum(n for (_, to), n in moves.items() if to == "pending") >= 5
    snoozes = [json.loads(r[0]) for r in demo.execute("SELECT data_json FROM events WHERE kind = 'snooze'")]
    assert any(s["reply"] for s in snoozes) and any(s["until"] and not s["reply"] for s in snoozes)
    assigned_to = {json.loads(r[0])["to"] for r in demo.execute("SELECT data_json FROM events WHERE kind = 'assign'")}
    assert assigned_to >= AGENTS


def test_reply_events_are_the_agents_mails_some_with_snippets(demo):
    agent_mail = {r["message_id"]: r for r in demo.execute(
        "SELECT message_id, date, sender_name FROM messages WHERE is_agent = 1 AND is_note = 0")}
    replies = [(r, json.loads(r["data_json"])) for r in demo.execute(
        "SELECT * FROM events WHERE kind = 'reply' AND outbox_id IS NULL")]
    assert len(replies) == len([m for m in agent_mail.values() if m["date"] < END])
    bundled = {s.name: hashlib.sha256(s.body.encode()).hexdigest() for s in load_snippets([bundled_dir("snippets")])[0]}
    used = 0
    for event, data in replies:
        mail = agent_mail[data["message_id"]]
        assert (event["at"], event["agent"]) == (mail["date"], mail["sender_name"])
        for s in data["snippets"]:
            assert s["hash"] == bundled[s["name"]]
            used += 1
    assert len(replies) // 6 <= used <= len(replies) // 2


def test_states_agree_with_the_events_and_the_mail(demo):
    events, mail = events_of(demo), mail_of(demo)
    rows = {r["id"]: r for r in demo.execute("SELECT * FROM conversations")}
    tags = Counter()
    for conv_id, row in rows.items():
        evs = events.get(conv_id, [])
        for e in evs:
            assert e["at"] < END or e["at"] == SCENE
        status = [e for e in evs if e["kind"] == "status"]
        last_customer = max((m["date"] for m in mail[conv_id] if not m["is_agent"] and not m["auto_submitted"]),
                            default=None)
        if status and json.loads(status[-1]["data_json"])["to"] == "closed":
            closed_after_mail = last_customer is None or last_customer < status[-1]["at"]
            assert (row["status"] == "closed") == closed_after_mail, conv_id
        elif row["status"] == "closed":
            raise AssertionError(f"{conv_id} is closed with no close event")
        assign = [e for e in evs if e["kind"] == "assign"]
        assert row["assignee"] == (json.loads(assign[-1]["data_json"])["to"] if assign else None), conv_id
        added = {t for e in evs if e["kind"] == "tag" for t in json.loads(e["data_json"])["add"]}
        assert {r[0] for r in demo.execute("SELECT tag FROM tags WHERE conv_id = ?", (conv_id,))} == added
        tags.update(added)
        # quiet for DEMO_SETTLED_DAYS: closed by the team, after the last mail; the others have
        # the status their mail gives them, as without a history (the queue is what it was)
        if row["last_date"] < END - DEMO_SETTLED_DAYS * 86400:
            assert row["status"] == "closed" and status[-1]["at"] > row["last_date"], conv_id
        else:
            # the customer wrote last: open, though a thank-you waits for nobody (desk.thanks)
            wrote_last = (row["last_customer_date"] or 0) > (row["last_agent_date"] or 0)
            by_mail = "open" if row["waiting_since"] is not None or row["last_agent_date"] is None or wrote_last \
                else "pending"
            assert row["status"] == by_mail, conv_id
    assert len(tags) >= 8
    # the events' own chain holds: each change starts from where the one before left it
    for evs in events.values():
        assignee = None
        for e in (e for e in evs if e["kind"] == "assign"):
            data = json.loads(e["data_json"])
            assert data["from"] == assignee
            assignee = data["to"]


def test_every_build_has_the_same_history(demo, tmp_path):
    again = build(tmp_path / "again.sqlite3")
    query = "SELECT event_id, at, agent, kind, anchor, data_json FROM events WHERE at < ? ORDER BY event_id"
    first = [tuple(r) for r in demo.execute(query, (END,))]
    assert first and first == [tuple(r) for r in again.execute(query, (END,))]
    # what set_the_scene does at the demo's now goes through the desk (random ids): all else equal
    rest = "SELECT at, agent, kind, anchor FROM events WHERE at >= ? ORDER BY at, anchor, kind"
    assert [tuple(r) for r in demo.execute(rest, (END,))] == [tuple(r) for r in again.execute(rest, (END,))]
    states = "SELECT id, status, assignee, snooze_until, snooze_reply, rank FROM conversations ORDER BY id"
    assert [tuple(r) for r in demo.execute(states)] == [tuple(r) for r in again.execute(states)]


def test_the_figures_are_what_a_support_lead_would_believe(demo):
    rows = [conversation_metrics(t) for t in timelines(demo)]
    since = min(r.first_at for r in rows if r.first_at)
    head = report(rows, since, END + 1).to_json()["headline"]
    frt = head["first_response"]["calendar"]
    assert 1800 <= frt["median"] <= 12 * 3600, frt  # hours, not seconds or days
    fcr = head["fcr"]
    assert fcr["eligible"] >= 30 and 0.4 <= fcr["rate"] <= 0.8, fcr
    assert head["closed"] >= 40 and head["reopens"] >= 5 and head["reopened_conversations"] >= 5
    assert head["resolution"]["calendar"]["median"] > head["first_response"]["calendar"]["median"]
    assert head["resolution_net"]["calendar"]["median"] <= head["resolution"]["calendar"]["median"]
    # the load before the last day and a half (half the demo's threads are from its last hours, a
    # live desk): weekday daytime (UTC, the generator's and the team's clock) over nights
    load = heatmap(rows, since, END - DEMO_SETTLED_DAYS * 86400, "UTC").to_json()["mean_load"]
    day = [load[w][h] for w in range(5) for h in range(DAY_START, DAY_END)]
    night = [load[w][h] for w in range(7) for h in (0, 1, 2, 3, 4, 5)]
    assert sum(day) / len(day) > 1.5 * sum(night) / len(night)


def test_the_agents_work_in_working_hours(demo):
    """Triage, snoozes and closes (not replies: their time is the mail's) fall mostly Mon-Fri 8-18
    (before the last day and a half: the threads of the demo's last hours fall when it is built)."""
    at = [r[0] for r in demo.execute("SELECT at FROM events WHERE kind IN ('assign', 'tag', 'status', 'snooze')"
                                     " AND at < ?", (END - DEMO_SETTLED_DAYS * 86400,))]
    inside = [t for t in at if (d := dt.datetime.fromtimestamp(t, dt.timezone.utc)).weekday() < 5
              and DAY_START <= d.hour < DAY_END]
    assert len(at) >= 100 and len(inside) >= 0.7 * len(at), (len(inside), len(at))
    assert DEMO_CONFIG.agent in {r[0] for r in demo.execute("SELECT agent FROM events WHERE at < ?", (END,))}


def test_closed_conversations_got_surveys_and_some_customers_answered(demo):
    """As `[csat] enabled` would have it: a survey after the final close of an answered
    conversation, one per customer; about half answered, a mix that depends on the agent."""
    events = events_of(demo)
    customers = {r["id"]: r["customer_key"] for r in demo.execute("SELECT id, customer_key FROM conversations")}
    status = {r["id"]: r["status"] for r in demo.execute("SELECT id, status FROM conversations")}
    mail = mail_of(demo)
    surveyed, answers, reopened = Counter(), [], 0
    for conv_id, evs in events.items():
        surveys = [e for e in evs if e["kind"] == "survey"]
        if not surveys:
            assert not [e for e in evs if e["kind"] == "csat"], conv_id
            continue
        [survey] = surveys  # one per conversation: its final close
        data = json.loads(survey["data_json"])
        closes = [e for e in evs if e["kind"] == "status" and json.loads(e["data_json"])["to"] == "closed"]
        assert data["close"] == closes[-1]["event_id"], conv_id
        assert closes[-1]["at"] + 20 * 60 <= survey["at"] <= closes[-1]["at"] + 90 * 60 < END
        # still closed when it went: no customer mail between the close and the survey
        wrote = [m["date"] for m in mail[conv_id] if not m["is_agent"] and not m["auto_submitted"]]
        assert not [t for t in wrote if closes[-1]["at"] < t <= survey["at"]], conv_id
        reopened += status[conv_id] != "closed"  # the customer wrote again after it
        assert any(e["kind"] == "reply" for e in evs), "only answered conversations are surveyed"
        assert data["message_id"].startswith("csat.") and data["agent"] in AGENTS and survey["agent"] in AGENTS
        assert data["to"] == [customers[conv_id]]
        surveyed[customers[conv_id]] += 1
        for e in (e for e in evs if e["kind"] == "csat"):
            answer = json.loads(e["data_json"])
            assert survey["at"] < e["at"] < END and answer["survey"] == data["message_id"]
            assert (answer["agent"], answer["snippets"]) == (data["agent"], data["snippets"])
            assert answer["score"] == {"great": 3, "okay": 2, "bad": 1}[answer["rating"]]
            # a bad one with a comment would have opened the conversation again (desk.csat)
            assert not (answer["rating"] == "bad" and answer["comment"]), answer
            answers.append(answer)
    assert max(surveyed.values()) == 1, "one survey per customer ([csat] min_days_between)"
    assert reopened <= len(surveyed) // 4, "most surveyed conversations stay closed"
    assert len(surveyed) >= 20 and 0.25 * len(surveyed) <= len(answers) <= 0.7 * len(surveyed)
    ratings = Counter(a["rating"] for a in answers)
    assert len(ratings) >= 2 and ratings["great"] >= ratings["bad"], ratings
    assert {a["agent"] for a in answers} == AGENTS
    assert any(a["snippets"] for a in answers) and any(a["comment"] for a in answers)


async def test_the_demo_desk_shows_csat_and_sla(demo, tmp_path):
    """What `tui-desk demo` opens: CSAT in the report and the snippets' figures, and [sla]
    targets that give the queue due and breached rows and the Breaching view."""
    import shutil

    from tui_desk.demo import demo_config
    from tui_desk.desk.service import Desk
    path = tmp_path / "demo.sqlite3"
    shutil.copy(demo.execute("PRAGMA database_list").fetchone()[2], path)
    desk = await Desk.open(path, demo_config(1), clock=lambda: NOW.timestamp())
    try:
        report = await desk.report(END - 30 * 86400, SCENE, by=("agent",))
        assert report.csat.headline.count >= 5 and len(report.csat.breakdowns["agent"]) == 3
        stats = {s.name: s for s in await desk.snippet_stats()}
        assert any(s.csat_count for s in stats.values())
        assert ("Breaching", "sla:soon") in desk.views()
        from tui_desk.desk.sla import slas_of
        queue = await desk.queue_ids()
        states = Counter(t.state for s in (await slas_of(desk, queue)).values() for t in s.targets)
        assert states["breached"] >= 3 and states["ok"] + states["warning"] >= 3, states
        assert await desk.view_ids("sla:soon")
        # the agents' picker leaves out the survey's own snippet (its links are the desk's to fill)
        assert any(s.name == "csat" and s.auto for s in desk.snippets())
    finally:
        await desk.close()


def test_the_demo_config_has_csat_and_the_acknowledgement():
    """A new user tries both from the demo: `[csat] enabled` and `[autoreply] acknowledge` (the
    acknowledgement rule with the measured wait), in the app's config and in the kept config.toml."""
    from tui_desk.demo import demo_config, demo_config_toml
    for config in (DEMO_CONFIG, demo_config(2525)):
        assert config.csat.enabled and config.autoreply.acknowledge
        assert config.autoreply.snippet == "auto-ack"
    toml = demo_config_toml(2525)
    assert "\n[csat]\nenabled = true\n" in toml and "\n[autoreply]\nacknowledge = true\n" in toml


def test_the_newest_mail_nobody_answered_got_the_acknowledgement_with_its_measured_wait(demo):
    """The acknowledgement rule ([autoreply] acknowledge) ran on the newest conversation nobody
    had answered, as the app runs it: the auto-ack snippet queued through the outbox
    (Auto-Submitted), the `autoreply` event (history once sent) with the wait measured from the
    demo's own first responses, and the rule's line."""
    from tui_desk.desk.expected_wait import explain
    autoreplies = demo.execute("SELECT e.*, t.conv_id FROM events e JOIN thread_ids t ON t.msgid = e.anchor"
                               " WHERE e.kind = 'autoreply'").fetchall()
    [ack] = autoreplies
    data = json.loads(ack["data_json"])
    assert data["rule"] == "acknowledgement" and [s["name"] for s in data["snippets"]] == ["auto-ack"]
    wait = data["expected_wait"]
    assert wait["default"] is False and wait["samples"] >= 5 and wait["p75_seconds"] > 0, wait
    assert explain(wait).startswith(f"expected wait '{wait['words']}' (p75 ")
    [item] = demo.execute("SELECT * FROM outbox WHERE id = ?", (ack["outbox_id"],)).fetchall()
    raw = bytes(item["raw"]).decode("utf-8", "replace")
    # what the customer reads: the text part (the Markdown escapes the words' "," and ":")
    import email
    import email.policy
    plain = email.message_from_bytes(bytes(item["raw"]), policy=email.policy.default).get_body(("plain",))
    sent = " ".join(plain.get_content().split())  # type: ignore[union-attr]
    assert "Auto-Submitted: auto-replied" in raw and f"will answer {wait['words']}." in sent
    assert item["send_at"] == SCENE  # at once: nobody is there to undo it
    conv_id = ack["conv_id"]
    mail = mail_of(demo)[conv_id]
    assert not any(m["is_agent"] for m in mail), "nobody had answered it"
    newest_unanswered = max((c for c, ms in mail_of(demo).items() if not any(m["is_agent"] for m in ms)),
                            key=lambda c: max(m["date"] for m in mail_of(demo)[c]))
    assert conv_id == newest_unanswered
    lines = [json.loads(e["data_json"]) for e in events_of(demo)[conv_id] if e["kind"] == "rule"]
    assert lines == [{"rule": "acknowledgement", "says": "rule 'acknowledgement' replied with snippet 'auto-ack'"}]


async def test_the_demo_has_one_response_target(demo, tmp_path):
    """The demo's priority target and its SLA targets are one: a row marked `!` says "over the
    4h target" and is a breached row of the Breaching view, and every breached row that is not
    snoozed (a snoozed row has no marker) is marked."""
    import shutil

    from tui_desk.demo import DEMO_TARGET_MINUTES, demo_config
    from tui_desk.desk.service import Desk
    assert DEMO_TARGET_MINUTES == 4 * 60  # README: "a response target of 4 hours"
    config = demo_config(1)
    assert config.priority.response_target_minutes == DEMO_TARGET_MINUTES
    assert config.sla.first_response_minutes == config.sla.next_response_minutes == DEMO_TARGET_MINUTES
    path = tmp_path / "demo.sqlite3"
    shutil.copy(demo.execute("PRAGMA database_list").fetchone()[2], path)
    desk = await Desk.open(path, config, clock=lambda: NOW.timestamp())
    try:
        queue = await desk.queue_ids()  # snoozed conversations are not in it
        rows = await desk.queue_rows(queue)
        breached = set(await desk.view_ids("sla:breached")) & set(queue)
        breaching = set(await desk.view_ids("sla:soon"))
        overdue = {r.id for r in rows if r.marker == "!"}
        snoozed = {r.id for r in rows if r.snoozed_until_reply or r.snoozed_until}  # no marker while snoozed
        assert len(overdue) >= 3 and overdue == breached - snoozed and overdue <= breaching
        assert len(overdue) < len(rows), "not every row is overdue"
        targets = [x for r in rows for x in r.reasons if "target" in x]
        assert len(targets) >= len(rows) // 2 and all(x.endswith(" 4h target") for x in targets), targets
        assert all(any(x.endswith("over the 4h target") for x in r.reasons) for r in rows if r.id in overdue)
    finally:
        await desk.close()


def test_the_scene_at_build_time_is_the_teams_not_the_current_agents(demo):
    """set_the_scene's assignments, tags, snoozes, queued reply and notes are the team's, as the
    past is: an assignment by the agent who took it, the rest by the conversation's agent or the
    lead (demo.SCENE_LEAD), so `history` on a fresh demo never says the agent starting it did them.
    Five assignments at most: one to the agent who holds it already records nothing."""
    from tui_desk.demo import SCENE_LEAD
    scene = [r for r in demo.execute("SELECT agent, kind, data_json, anchor FROM events WHERE at >= ?", (END,))
             if r["kind"] not in ("autoreply", "rule")]  # the acknowledgement rule's, not a person's
    kinds = Counter(r["kind"] for r in scene)
    assert 3 <= kinds["assign"] <= 5
    assert (kinds["snooze"], kinds["reply"], kinds["note"], set(kinds)) == (2, 1, 2, {"assign", "tag", "snooze", "reply", "note"})
    asked = demo.execute("SELECT count(*) FROM conversations c WHERE subject LIKE '%dark mode%' AND EXISTS (SELECT 1"
                         " FROM messages m WHERE m.conv_id = c.id AND NOT m.is_agent AND NOT m.auto_submitted)").fetchone()[0]
    assert kinds["tag"] == asked >= 5  # the customers who asked for dark mode, one tag each
    assignee = {r["msgid"]: r["assignee"] for r in demo.execute(
        "SELECT t.msgid, c.assignee FROM thread_ids t JOIN conversations c ON c.id = t.conv_id")}
    for r in scene:
        if r["kind"] == "assign":
            assert r["agent"] == json.loads(r["data_json"])["to"], tuple(r)  # the agent who took it
        else:
            assert r["agent"] == (assignee[r["anchor"]] or SCENE_LEAD), tuple(r)
    assert SCENE_LEAD != DEMO_CONFIG.agent
    by_alice = [r for r in scene if r["agent"] == DEMO_CONFIG.agent]
    # her own conversations' (the mail decides how many she holds), never most of the scene
    assert {r["kind"] for r in by_alice} <= {"assign", "tag", "snooze"} and len(by_alice) < len(scene) / 2
