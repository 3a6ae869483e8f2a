"""Every CLI command, in-process, on the real demo store; JSON shapes and one-line errors."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import sqlite3

import pytest

import damaged_store
from damaged_store import a_few_mails, damage, file_state
from tui_desk.cli import main, prepare_demo
from tui_desk.demo import demo_end, write_demo_mbox

NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.timezone.utc)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    asyncio.run(prepare_demo(db, NOW))
    return db


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_demo_mailbox_has_what_the_issue_asks(demo_db):
    con = sqlite3.connect(demo_db)
    n_msgs = con.execute("SELECT count(*) FROM messages").fetchone()[0]
    n_convs = con.execute("SELECT count(*) FROM conversations").fetchone()[0]
    assert n_msgs >= 300 and n_convs >= 100
    bodies = "\n".join(r[0] for r in con.execute("SELECT subject || ' ' || body FROM messages"))
    assert re.search(r"[а-яА-Я]{4}", bodies), "Russian"
    assert re.search(r"[\u4e00-\u9fff]{2}", bodies), "Chinese"
    assert con.execute("SELECT count(*) FROM messages WHERE body_from_html=1").fetchone()[0] > 0
    assert con.execute("SELECT count(*) FROM messages WHERE attachments_json != '[]'").fetchone()[0] > 0
    assert con.execute("SELECT max(message_count) FROM conversations").fetchone()[0] >= 8
    assert con.execute("SELECT count(*) FROM messages WHERE is_agent=1").fetchone()[0] > 50
    assert con.execute("SELECT count(*) FROM messages WHERE subject LIKE '%URGENT!!!%'").fetchone()[0] >= 1
    # a customer who writes three times within five minutes
    assert con.execute("SELECT count(*) FROM conversations WHERE burst >= 3").fetchone()[0] >= 1
    con.close()


def test_queue_json_in_priority_order(demo_db, capsys):
    rows = run_json(capsys, "--db", demo_db, "queue")
    assert rows, "the demo has open conversations"
    for r in rows:
        assert set(r) >= {"id", "subject", "customer", "status", "tags", "message_count", "last_message", "priority"}
        assert r["status"] == "open"
        assert r["priority"]["reasons"], "every row says why it is where it is"
    scores = [r["priority"]["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    limited = run_json(capsys, "--db", demo_db, "queue", "--limit", "3")
    assert [r["id"] for r in limited] == [r["id"] for r in rows[:3]]


def test_loud_customer_is_flagged_but_not_ranked_per_mail(demo_db, capsys):
    rows = run_json(capsys, "--db", demo_db, "queue")
    loud = [r for r in rows if "loud" in r["priority"]["flags"]]
    urgent = [r for r in rows if "urgent-word" in r["priority"]["flags"]]
    assert loud or urgent
    for r in loud:
        assert any("counted once" in why for why in r["priority"]["reasons"])


def test_show_json_and_plain(demo_db, capsys):
    [first] = run_json(capsys, "--db", demo_db, "queue", "--limit", "1")
    conv = run_json(capsys, "--db", demo_db, "show", first["id"])
    assert conv["id"] == first["id"] and conv["messages"]
    dates = [m["date"] for m in conv["messages"] if m["date"]]
    assert dates == sorted(dates), "newest last"
    code, out, _ = run(capsys, "--db", demo_db, "show", first["id"])
    assert code == 0 and out.startswith(f"#{first['id']} ")
    assert not CONTROL.search(out)


def test_show_every_conversation_prints_no_control_sequence(demo_db, capsys):
    threads = run_json(capsys, "--db", demo_db, "threads")
    for t in threads[:400]:
        code, out, _ = run(capsys, "--db", demo_db, "show", t["id"])
        assert code == 0 and not CONTROL.search(out), t["id"]


def test_search_terms(demo_db, capsys):
    hits = run_json(capsys, "--db", demo_db, "search", "refund")
    assert hits
    for form in ("refunds", "refunded", "REFUNDING"):  # word forms find the word (the stemmed index)
        assert [h["id"] for h in run_json(capsys, "--db", demo_db, "search", form)] == [h["id"] for h in hits], form
    dates = [h["last_message"] for h in hits]
    assert dates == sorted(dates, reverse=True), "newest first"
    assert run_json(capsys, "--db", demo_db, "search", "status:pending")
    assert all(h["status"] == "pending" for h in run_json(capsys, "--db", demo_db, "search", "status:pending"))
    agent_mail = run_json(capsys, "--db", demo_db, "search", "from:agent1@helpdesk.test")
    assert agent_mail
    phrase = run_json(capsys, "--db", demo_db, "search", 'subject:"where is my order"')
    assert phrase and all("where is my order" in h["subject"].lower() for h in phrase)
    none = run_json(capsys, "--db", demo_db, "search", "after:2030-01-01")
    assert none == []
    every = run_json(capsys, "--db", demo_db, "search", "after:2000-01-01")
    assert len(every) >= 100


def test_search_chinese_word_inside_a_sentence(demo_db, capsys):
    con = sqlite3.connect(demo_db)
    body = next(r[0] for r in con.execute("SELECT body FROM messages") if re.search(r"[\u4e00-\u9fff]{6}", r[0]))
    con.close()
    word = re.search(r"[\u4e00-\u9fff]{6}", body).group(0)[2:4]
    assert run_json(capsys, "--db", demo_db, "search", word)


def test_threads_json_lists_every_message_once(demo_db, capsys):
    threads = run_json(capsys, "--db", demo_db, "threads")
    ids = [m for t in threads for m in t["messages"]]
    assert len(ids) == len(set(ids))
    con = sqlite3.connect(demo_db)
    assert len(ids) == con.execute("SELECT count(*) FROM messages").fetchone()[0]
    con.close()
    assert not any(i.startswith("<") for i in ids)


def test_import_is_idempotent(tmp_path, capsys):
    mbox = write_demo_mbox(tmp_path / "demo.mbox", demo_end(NOW))
    db = tmp_path / "d.sqlite3"
    code, out, _ = run(capsys, "--db", db, "import", mbox)
    assert code == 0 and re.match(r"imported (\d+) messages", out)
    first = int(re.match(r"imported (\d+)", out).group(1))
    assert first >= 300
    code, out, _ = run(capsys, "--db", db, "import", mbox)
    assert code == 0 and out.startswith(f"imported 0 messages ({first} already known)")


def test_an_empty_file_imports_no_message(tmp_path, capsys):
    """An empty mbox (or a file of blank lines) holds no mail: nothing is stored, no phantom
    conversation without sender or subject appears in the queue; each is said to be no mail
    (tests/test_import_not_mail.py), so the exit status is 1."""
    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "empty.mbox").write_bytes(b"")
    (folder / "blank.eml").write_bytes(b"\n\r\n  \n")
    db = tmp_path / "e.sqlite3"
    code, out, err = run(capsys, "--db", db, "import", folder / "blank.eml")
    assert code == 1 and out.startswith("imported 0 messages"), (out, err)
    assert err == f"not mail: {folder / 'blank.eml'}: blank lines alone\n"
    code, out, err = run(capsys, "--db", db, "import", folder / "empty.mbox", folder)
    assert code == 1 and out.startswith("imported 0 messages"), (out, err)
    assert err.count(f"not mail: {folder / 'empty.mbox'}: an empty file\n") == 2  # given, and in the folder
    assert run_json(capsys, "--db", db, "queue") == []


@pytest.mark.parametrize("argv, needle", [
    (["show", "999999"], "no conversation 999999"),
    (["search", "colour:red"], "unknown search field 'colour:'"),
    (["search", "before:someday"], "before: wants a date like 2026-11-25, today, yesterday, 7d or 2w"),
    (["import", "/nonexistent/mail"], "/nonexistent/mail: no such file"),
])
def test_bad_input_gives_one_clear_line(demo_db, capsys, argv, needle):
    code, out, err = run(capsys, "--db", demo_db, *argv)
    assert code == 2 and out == ""
    assert needle in err and err.count("\n") == 1


def test_bad_store_path_and_bad_config(tmp_path, capsys):
    code, _, err = run(capsys, "--db", tmp_path, "queue")
    assert code == 2 and "is a directory" in err
    cfg = tmp_path / "config.toml"
    cfg.write_text('agent_addresses = "support@x.test"\n')
    code, _, err = run(capsys, "--config", cfg, "--db", tmp_path / "x.db", "queue")
    assert code == 2 and str(cfg) in err and "'agent_addresses'" in err and err.count("\n") == 1


def test_note_shows_as_internal_and_history_lists_the_customers_other_conversations(tmp_path, capsys):
    db = tmp_path / "n.sqlite3"
    asyncio.run(prepare_demo(db, NOW))
    rows = run_json(capsys, "--db", db, "queue")
    returning = next(r for r in rows if any("returning customer" in why for why in r["priority"]["reasons"]))
    code, out, err = run(capsys, "--db", db, "note", returning["id"], "--body", "Refund approved by **Ops**")
    assert code == 0 and "note added" in out, err
    code, out, _ = run(capsys, "--db", db, "show", returning["id"])
    assert "── internal note: " in out and "Refund approved by **Ops**" in out
    assert "other conversations of this customer:" in out
    after = {r["id"]: r for r in run_json(capsys, "--db", db, "queue")}
    assert after[returning["id"]]["status"] == "open", "a note is not a reply"


def test_show_of_hostile_real_mail_prints_no_control_sequence(tmp_path, capsys):
    """Real spam/phishing and broken mail from the corpora, plus mail that carries terminal
    escape sequences in every field: imported, then shown, without one control character."""
    from pathlib import Path
    from tests.mailfactory import make_mail
    corpus = Path(__file__).parent / "corpus"
    mails = tmp_path / "mails"
    mails.mkdir()
    for folder in ("mail-parser", "flanker"):
        for f in (corpus / folder).rglob("*"):
            # (mail_outlook_1 is an Outlook .msg, binary: not mail, refused by import)
            if f.is_file() and f.suffix not in (".md", ".txt") and f.name not in ("LICENSE", "NOTICE", "mail_outlook_1"):
                (mails / f"{folder}-{f.name}").write_bytes(f.read_bytes())
    evil = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x1b[0m \u202eevil\u202c \x9b31m \x1bP1$r\x1b\\ \x08"
    (mails / "evil.eml").write_bytes(make_mail("evil@t", subject=f"Hi {evil}", sender=f'"Eve {evil}" <eve@x.test>',
                                               body=f"Body {evil}\rcover\n> quoted {evil}\n"))
    db = tmp_path / "h.sqlite3"
    code, out, err = run(capsys, "--db", db, "import", mails)
    assert code == 0, err
    assert re.search(r"imported (\d+)", out) and int(re.search(r"imported (\d+)", out).group(1)) >= 20
    threads = run_json(capsys, "--db", db, "threads")
    for t in threads:
        code, out, _ = run(capsys, "--db", db, "show", t["id"])
        assert code == 0 and not CONTROL.search(out), t["messages"]
    code, out, _ = run(capsys, "--db", db, "search", "evil")
    assert code == 0 and "\x1b" not in out and "\u202e" not in out


def test_triage_commands_for_scripts(tmp_path, capsys):
    db = tmp_path / "t.sqlite3"
    asyncio.run(prepare_demo(db, NOW))
    a, b = (r["id"] for r in run_json(capsys, "--db", db, "queue", "--limit", "2"))
    out = run_json(capsys, "--db", db, "tag", a, b, "+bug", "+billing")
    assert out["done"] == "tagged 2 conversations +bug +billing"
    assert [set(c["tags"]) >= {"bug", "billing"} for c in out["conversations"]] == [True, True]
    out = run_json(capsys, "--db", db, "tag", a, "-billing")
    assert "billing" not in out["conversations"][0]["tags"]
    out = run_json(capsys, "--db", db, "assign", a, "Alice Martin")
    assert out["conversations"][0]["assignee"] == "Alice Martin"
    out = run_json(capsys, "--db", db, "snooze", a, "until reply")
    assert out["conversations"][0]["snoozed_until_reply"] is True
    assert a not in [r["id"] for r in run_json(capsys, "--db", db, "queue")]
    out = run_json(capsys, "--db", db, "status", b, "pending")
    assert out["conversations"][0]["status"] == "pending"
    code, _, err = run(capsys, "--db", db, "status", b, "done")
    assert code == 2 and "status is one of" in err and err.count("\n") == 1
    code, _, err = run(capsys, "--db", db, "tag", b, "bug")
    assert code == 2 and "+tag or -tag" in err


def test_merge_and_split_from_the_command_line(tmp_path, capsys):
    db = tmp_path / "m.sqlite3"
    asyncio.run(prepare_demo(db, NOW))
    a, b = (r["id"] for r in run_json(capsys, "--db", db, "queue", "--limit", "2"))

    def threads() -> dict[int, list[str]]:
        return {t["id"]: t["messages"] for t in run_json(capsys, "--db", db, "threads")}
    before = threads()
    # two customers' conversations: refused in one line naming both, nothing merged
    code, _, err = run(capsys, "--db", db, "merge", a, b)
    assert code == 2 and err.count("\n") == 1, err
    assert re.fullmatch(rf"tui-desk: #{a} \(\S+@\S+\) and #{b} \(\S+@\S+\) are different customers: "
                        r"--different-customers merges them anyway\n", err), err
    assert threads() == before
    out = run_json(capsys, "--db", db, "merge", a, b, "--different-customers")
    assert "merged" in out["done"] and [c["id"] for c in out["conversations"]] == [a]
    merged = threads()
    assert b not in merged and set(merged[a]) == set(before[a]) | set(before[b])
    moved = before[b][-1]
    code, out, _ = run(capsys, "--db", db, "split", f"<{moved}>")
    assert code == 0 and "split" in out
    after = threads()
    assert [moved] in after.values() and moved not in after[a]
    code, _, err = run(capsys, "--db", db, "merge", str(a))
    assert code == 2 and "at least two" in err
    code, _, err = run(capsys, "--db", db, "split", "nope@nowhere")
    assert code == 2 and "no message" in err and err.count("\n") == 1


def test_assignee_snooze_draft_and_scheduled_reply_are_shown(tmp_path, capsys):
    """queue/search --json, show --json and the plain forms say who has a conversation, until
    when it sleeps, and whether a draft or a send-later reply waits in it."""
    from tui_desk.demo import demo_config
    from tui_desk.desk.service import Desk
    db = tmp_path / "s.sqlite3"
    asyncio.run(prepare_demo(db, NOW))
    a, b, c = [r["id"] for r in run_json(capsys, "--db", db, "queue")  # the demo's own scene aside
               if r["assignee"] is None and not r["draft"] and r["scheduled_reply_at"] is None][:3]
    assert run(capsys, "--db", db, "assign", a, "dora", "--new")[0] == 0
    assert run(capsys, "--db", db, "snooze", b, "2099-01-02")[0] == 0

    async def draft_and_schedule() -> None:
        desk = await Desk.open(db, demo_config(1))  # nothing is sent: the reply waits till 2099
        try:
            await desk.save_draft(a, "Half-written answer")
            await desk.reply(c, "Will follow up", send_at_text="2099-01-03 09:00")
        finally:
            await desk.close()
    asyncio.run(draft_and_schedule())

    rows = {r["id"]: r for r in run_json(capsys, "--db", db, "queue")}
    assert rows[a]["assignee"] == "dora" and rows[a]["draft"] is True and rows[a]["scheduled_reply_at"] is None
    assert rows[c]["assignee"] is None and rows[c]["draft"] is False
    assert rows[c]["scheduled_reply_at"].startswith("2099-01-03")
    [snoozed] = [r for r in run_json(capsys, "--db", db, "search", "is:snoozed") if r["id"] == b]
    assert snoozed["snoozed_until"].startswith("2099-01-0") and snoozed["snoozed_until_reply"] is False

    shown = run_json(capsys, "--db", db, "show", a)
    assert shown["assignee"] == "dora" and shown["draft"] is True and shown["snoozed_until"] is None
    assert run_json(capsys, "--db", db, "show", c)["scheduled_reply_at"].startswith("2099-01-03")

    code, out, _ = run(capsys, "--db", db, "queue")
    line_a = next(ln for ln in out.splitlines() if re.match(rf"\S?\s+{a}\s", ln))
    assert "@dora" in line_a and "✎draft" in line_a
    line_c = next(ln for ln in out.splitlines() if re.match(rf"\S?\s+{c}\s", ln))
    assert "⏲" in line_c
    code, out, _ = run(capsys, "--db", db, "show", a)
    assert "assigned: dora" in out and "draft" in out
    code, out, _ = run(capsys, "--db", db, "show", b)
    assert "snoozed until 2099-01-0" in out


def test_reply_says_which_conversation_it_answers_and_its_outbox_number_apart(tmp_path, capsys):
    """'#N' is a conversation in every other line the desk prints; the reply's outbox item has
    its own number (for outbox --cancel N), said as such."""
    db = tmp_path / "s.sqlite3"
    asyncio.run(prepare_demo(db, NOW))
    config = tmp_path / "config.toml"
    config.write_text('agent = "alice"\n\n[accounts.support]\naddress = "support@helpdesk.test"\n')
    body = tmp_path / "body.md"
    body.write_text("Will follow up\n")
    row = run_json(capsys, "--db", db, "queue")[0]
    for _ in range(2):  # the outbox's numbers run apart from the conversation's
        code, out, err = run(capsys, "--db", db, "--config", config, "reply", row["id"], "--body-file", body,
                             "--send-at", "2099-01-03 09:00")
        assert code == 0, err
    [second] = [item for item in run_json(capsys, "--db", db, "outbox")][-1:]
    assert second["conversation"] == row["id"] and second["id"] != row["id"]
    assert out == f"reply to #{row['id']} ({row['customer_address']}): queued, outbox #{second['id']}\n"


def test_a_reply_from_the_command_line_leaves_the_apps_draft_as_it_is(tmp_path, capsys):
    """The draft an agent half wrote in the app is not the reply a script sends: it stays (it
    was deleted, with nothing kept, when `reply` queued)."""
    from tui_desk.demo import demo_config
    from tui_desk.desk.service import Desk
    db = tmp_path / "s.sqlite3"
    asyncio.run(prepare_demo(db, NOW))
    config = tmp_path / "config.toml"
    config.write_text('agent = "alice"\n\n[accounts.support]\naddress = "support@helpdesk.test"\n')
    conv = next(r["id"] for r in run_json(capsys, "--db", db, "queue") if not r["draft"])

    async def draft() -> str | None:
        desk = await Desk.open(db, demo_config(1))
        try:
            found = await desk.draft(conv)
            return found[0] if found else None
        finally:
            await desk.close()

    async def write_draft() -> None:
        desk = await Desk.open(db, demo_config(1))
        try:
            await desk.save_draft(conv, "Half-written answer, careful words")
        finally:
            await desk.close()
    asyncio.run(write_draft())
    body = tmp_path / "body.md"
    body.write_text("Will follow up\n")
    code, _, err = run(capsys, "--db", db, "--config", config, "reply", conv, "--body-file", body,
                       "--send-at", "2099-01-03 09:00")
    assert code == 0, err
    assert asyncio.run(draft()) == "Half-written answer, careful words"
    assert run_json(capsys, "--db", db, "show", conv)["draft"] is True


def test_a_follow_up_dry_run_that_would_skip_exits_1_like_the_real_run(tmp_path, capsys):
    """README (Bulk follow-up): a conversation the snippet cannot be filled for is skipped, said,
    and the status is 1; the dry run, which scripts run first to check, says so the same way."""
    db = tmp_path / "s.sqlite3"
    asyncio.run(prepare_demo(db, NOW))
    config = tmp_path / "config.toml"
    config.write_text('agent = "alice"\n\n[accounts.support]\naddress = "support@helpdesk.test"\n')
    common = ("--db", db, "--config", config, "followup", "--query", "subject:refund", "--dry-run")
    code, out, err = run(capsys, *common, "--snippet", "outage-investigating")  # {{status_page_url}}: nothing fills it
    assert code == 1 and "skipped: fill these before sending: {{status_page_url}}" in out
    assert re.fullmatch(r"dry run: 0 customers \(0 conversations\): 0 replies would be queued, one per customer, "
                        r"[1-9]\d* skipped; nothing sent\n", err), err
    code, out, err = run(capsys, *common, "--snippet", "thanks-feedback")
    assert code == 0 and "skipped" not in out and "would be queued" in err


def test_a_second_follow_up_with_the_same_snippet_says_it_needs_a_new_id(tmp_path, capsys):
    """README (Bulk follow-up): the same snippet again to the same conversations sends nothing
    and says why: a second round needs its own --id; with one it goes."""
    db = tmp_path / "s.sqlite3"
    asyncio.run(prepare_demo(db, NOW))
    config = tmp_path / "config.toml"
    config.write_text('agent = "alice"\n\n[accounts.support]\naddress = "support@helpdesk.test"\n')
    common = ("--db", db, "--config", config, "followup", "--query", "subject:refund", "--snippet", "thanks-feedback")
    code, out, err = run(capsys, *common)
    assert code == 0 and "queued" in out and "--id" not in err, (out, err)
    queued = int(out.split("queued ")[1].split()[0])
    assert queued > 0
    # one reply per customer; their other conversations got a note, and have it too
    noted = int(found[1]) if (found := re.search(r"(\d+) conversations? noted", out)) else 0
    had = queued + noted
    for extra in (("--dry-run",), ()):
        code, out, err = run(capsys, *common, *extra)
        assert code == 0 and "already sent" in out, (extra, out)
        assert (f"{had} conversation{'s' if had != 1 else ''} had follow-up 'thanks-feedback' already: "
                "a second one to them needs a new --id ROUND\n") in err, (extra, err)
    code, out, err = run(capsys, *common, "--id", "thanks-2")
    assert code == 0 and f"queued {queued} repl" in out and "--id" not in err, (out, err)


def test_a_follow_up_mails_each_customer_once_and_says_which_conversation_carries_it(tmp_path, capsys):
    """README (Bulk follow-up): the demo's dark-mode requests include customers who asked more than
    once; the dry run counts customers and conversations, --json names the conversation that
    carries each customer's one mail (their most recent open one) and those it answers, and the
    run queues one reply per customer and notes the others."""
    db = tmp_path / "s.sqlite3"
    asyncio.run(prepare_demo(db, NOW))
    config = tmp_path / "config.toml"
    config.write_text('agent = "alice"\n\n[accounts.support]\naddress = "support@helpdesk.test"\n')
    common = ("--db", db, "--config", config, "followup", "--query", "tag:wants-dark-mode", "--snippet",
              "feature-shipped")
    dry = run_json(capsys, *common, "--dry-run")
    items = {i["conversation"]: i for i in dry["items"]}
    by_customer: dict[str, list[int]] = {}
    for i in dry["items"]:
        by_customer.setdefault(i["customer"], []).append(i["conversation"])
    assert {i["state"] for i in dry["items"]} == {"new", "covered"}
    assert sorted(m["customer"] for m in dry["mails"]) == sorted(by_customer), "one mail per customer"
    assert dry["customers"] == len(by_customer) < len(items) == dry["conversations"], "someone asked twice"
    rows = {r["id"]: r for r in run_json(capsys, "--db", db, "search", "tag:wants-dark-mode")}
    for mail in dry["mails"]:
        mine = by_customer[mail["customer"]]
        assert items[mail["conversation"]]["state"] == "new" and items[mail["conversation"]]["told_in"] is None
        assert sorted(mail["covers"]) == sorted(c for c in mine if c != mail["conversation"])
        assert all(items[c]["state"] == "covered" and items[c]["told_in"] == mail["conversation"]
                   for c in mail["covers"])
        open_ones = [c for c in mine if rows[c]["status"] == "open"] or mine
        newest = max(open_ones, key=lambda c: (rows[c]["last_message"], c))
        assert mail["conversation"] == newest, "the customer's most recent open conversation carries it"
    code, out, err = run(capsys, *common, "--dry-run")
    assert code == 0 and err == (f"dry run: {dry['customers']} customers ({dry['conversations']} conversations): "
                                 f"{dry['customers']} replies would be queued, one per customer; nothing sent\n")
    covered = next(c for m in dry["mails"] for c in m["covers"])
    assert f"#{covered}  {items[covered]['customer']}  gets it in #{items[covered]['told_in']} " \
           "(one mail per customer)\n" in out

    done = run_json(capsys, *common, "--tag", "+shipped")
    assert {i["conversation"]: i["state"] for i in done["items"]} == {
        c: "queued" if i["state"] == "new" else "noted" for c, i in items.items()}
    assert done["mails"] == dry["mails"] and done["customers"] == dry["customers"]
    queued = run_json(capsys, "--db", db, "outbox")
    followups = [q for q in queued if q["message_id"].startswith("followup.")]
    assert sorted(q["conversation"] for q in followups) == sorted(m["conversation"] for m in dry["mails"])
    again = run_json(capsys, *common)
    assert {i["state"] for i in again["items"]} == {"already"} and again["mails"] == []
    assert len([q for q in run_json(capsys, "--db", db, "outbox") if q["message_id"].startswith("followup.")]) \
        == dry["customers"], "nobody twice"


def test_the_teams_own_placeholders_fill_every_reply(tmp_path, capsys):
    """README (Snippets): [snippets.values] holds the team's own placeholders, such as the status
    page the bundled outage snippets link to; with it they can be sent, and the text has it."""
    db = tmp_path / "s.sqlite3"
    asyncio.run(prepare_demo(db, NOW))
    config = tmp_path / "config.toml"
    config.write_text('agent = "alice"\n\n[snippets.values]\nstatus_page_url = "https://status.shop.example"\n\n'
                      '[accounts.support]\naddress = "support@helpdesk.test"\n')
    code, out, err = run(capsys, "--db", db, "--config", config, "followup", "--query", "subject:refund",
                         "--dry-run", "--snippet", "outage-investigating")
    assert code == 0 and "skipped" not in out and "would be queued" in err, (out, err)
    row = run_json(capsys, "--db", db, "queue")[0]

    async def reply_as_queued() -> str:
        from tui_desk.config import load_config
        from tui_desk.desk.replies import reply_text
        from tui_desk.desk.service import Desk
        desk = await Desk.open(db, load_config(config))
        try:
            snippet = next(s for s in desk.snippets() if s.name == "outage-investigating")
            return (await reply_text(desk, row["id"], snippet.body))[2]
        finally:
            await desk.close()
    text = asyncio.run(reply_as_queued())
    assert "our status page, which we update at least every 30 minutes: https://status.shop.example" in text
    assert "{{" not in text


@pytest.mark.parametrize("argv", [["queue"], ["show", "1"], ["outbox"], ["assign", "1", "bob"]])
def test_a_store_in_a_missing_folder_is_not_made_up(tmp_path, capsys, argv):
    db = tmp_path / "no" / "such" / "desk.sqlite3"
    code, out, err = run(capsys, "--db", db, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"{db.parent}: no such folder" in err
    assert not (tmp_path / "no").exists()


def test_import_makes_the_store_and_its_folder(tmp_path, capsys):
    mbox = write_demo_mbox(tmp_path / "demo.mbox", demo_end(NOW))
    db = tmp_path / "new" / "desk.sqlite3"
    code, out, err = run(capsys, "--db", db, "import", mbox)
    assert code == 0 and db.exists(), err


@pytest.mark.parametrize("argv, needle", [
    (["queue", "--limit", "-1"], "--limit"),
    (["search", "refund", "--limit", "-5"], "--limit"),
    (["queue", "--limit", "x"], "--limit"),
    (["queue", "--bogus"], "--bogus"),
    (["frobnicate"], "frobnicate"),
    (["show"], "id"),
])
def test_argument_errors_are_one_line_exit_2(demo_db, capsys, argv, needle):
    with pytest.raises(SystemExit) as exit_info:
        main(["--db", str(demo_db), *argv])
    out, err = capsys.readouterr()
    assert exit_info.value.code == 2 and out == ""
    assert err.startswith("tui-desk") and needle in err and err.count("\n") == 1, err
    assert "usage:" not in err


def test_assign_to_nobody_says_unassigned_and_an_empty_outbox_says_so(tmp_path, capsys):
    db = tmp_path / "u.sqlite3"
    assert run(capsys, "--db", db, "import", write_demo_mbox(tmp_path / "demo.mbox", demo_end(NOW)))[0] == 0
    [first] = run_json(capsys, "--db", db, "queue", "--limit", "1")
    assert run(capsys, "--db", db, "assign", first["id"], "bob", "--new")[0] == 0
    code, out, _ = run(capsys, "--db", db, "assign", first["id"], "nobody")
    assert code == 0 and out == "unassigned 1 conversation\n"
    code, out, _ = run(capsys, "--db", db, "outbox")
    assert code == 0 and out == "Outbox is empty.\n"
    assert run_json(capsys, "--db", db, "outbox") == []


def test_an_empty_queue_says_so(tmp_path, capsys):
    from tui_desk.desk.service import Desk

    async def make_store():
        await (await Desk.open(db)).close()
    db = tmp_path / "e.sqlite3"
    asyncio.run(make_store())
    assert run(capsys, "--db", db, "queue") == (0, "No conversations.\n", "")
    assert run(capsys, "--db", db, "queue", "--view", "Pending") == (0, "No conversations in Pending.\n", "")
    assert run(capsys, "--db", db, "search", "nothing-matches-this") == (0, "No conversations match.\n", "")
    assert run_json(capsys, "--db", db, "search", "nothing-matches-this") == []
    assert run_json(capsys, "--db", db, "queue") == []


def test_the_app_with_no_account_and_no_mail_says_how_to_start(tmp_path, capsys, monkeypatch):
    import tui_desk.cli as cli
    started = []
    monkeypatch.setattr(cli, "run_tui", lambda db, config: started.append(db) or 0)
    cfg = tmp_path / "config.toml"
    cfg.write_text('agent = "alice"\n')
    code, out, err = run(capsys, "--config", cfg, "--db", tmp_path / "empty.sqlite3")
    assert code == 0 and started and out == ""
    assert str(cfg) in err and "[accounts.NAME]" in err and "README: Accounts" in err and "tui-desk demo" in err
    # the store made by that start is asked on a plain read-only connection now: the same words
    assert (tmp_path / "empty.sqlite3").exists()
    with monkeypatch.context() as m:
        m.setattr(cli, "_setup_hint", lambda db, config: pytest.fail("opened as a Store"))
        assert run(capsys, "--config", cfg, "--db", tmp_path / "empty.sqlite3") == (0, "", err)
    # a store with mail (imported, no account needed) needs no hint
    db = tmp_path / "full.sqlite3"
    asyncio.run(prepare_demo(db, NOW))
    code, out, err = run(capsys, "--config", cfg, "--db", db)
    assert code == 0 and err == ""


def test_team_in_the_config_is_a_list_of_names(tmp_path, capsys):
    from tui_desk.config import load_config
    cfg = tmp_path / "config.toml"
    cfg.write_text('team = ["bob", "  Carol   Diaz ", "bob"]\n')
    assert load_config(cfg).team == ("bob", "Carol Diaz")
    cfg.write_text('team = "bob"\n')
    code, _, err = run(capsys, "--config", cfg, "--db", tmp_path / "x.db", "queue")
    assert code == 2 and str(cfg) in err and "'team'" in err and err.count("\n") == 1


# Each demo subject (any language, any URGENT/emoji dress) and words its first mail must use.
DEMO_SUBJECT_WORDS = [
    (r"refund|退款|返金|возврат", r"refund|money back|вернуть|退款|返金"),
    (r"where is my order|never arrived|still no answer about order|где мой заказ|在哪里",
     r"arrive|tracking|package|не пришёл|收到"),
    (r"damaged|повреждённым", r"crack|crushed|damaged|поврежд"),
    (r"charged twice|списали деньги дважды", r"charged twice|дважды"),
    (r"cannot log in|не могу войти|无法登录|ログインできません", r"log in|войти|登录|ログイン"),
    (r"password reset", r"reset link"),
    (r"invoice .* is wrong|发票有误", r"invoice|发票"),
    (r"cancel my subscription|отмените подписку|取消订阅", r"cancel|отменить|取消"),
    (r"change shipping address", r"address"),
    (r"app crashes", r"crash"),
    (r"api returns 500", r"500"),
    (r"export", r"export|csv"),
    (r"discount code", r"discount code"),
    (r"pricing plans", r"plan"),
    (r"dark mode", r"dark mode"),
    (r"exchange", r"exchange"),
    (r"change my email", r"email address"),
    (r"delete my account", r"delete"),
    (r"checkout is down", r"checkout"),
    (r"one more question", r"question"),
    (r"^undelivered mail returned", r"could not\s+be delivered"),  # a bounce, on its own
]


def test_every_demo_conversation_is_about_its_subject(demo_db):
    con = sqlite3.connect(demo_db)
    rows = con.execute(
        "SELECT c.id, c.subject, (SELECT json_array(m.subject, m.body) FROM messages m WHERE m.conv_id = c.id"
        " AND m.is_agent = 0 AND m.is_note = 0 ORDER BY m.date, m.id LIMIT 1) FROM conversations c").fetchall()
    con.close()
    assert len(rows) >= 100
    # a reply that lost its threading headers starts a conversation of its own: "Any update?"
    # is all it says (the generator does that on purpose, as real mail clients do)
    originals = [(cid, subject, json.loads(first)[1]) for cid, subject, first in rows
                 if not re.match(r"(re|aw|ответ|回复)\s*[:：]", json.loads(first)[0], re.I)]
    assert len(originals) >= len(rows) * 9 // 10
    for conv_id, subject, body in originals:
        topics = [(s, b) for s, b in DEMO_SUBJECT_WORDS if re.search(s, subject, re.I)]
        assert topics, f"#{conv_id} {subject!r}: no entry in the table"
        want = topics[0][1]
        assert re.search(want, body or "", re.I), f"#{conv_id} {subject!r}: {body!r} does not say {want!r}"


def test_the_demo_desk_looks_live_ages_spread_and_every_marker_in_use(demo_db):
    """At the demo's now: some customers waiting minutes, some hours, a few past the target;
    some conversations pending, closed, snoozed, assigned, with a draft or a send-later reply."""
    con = sqlite3.connect(demo_db)
    now = NOW.timestamp()
    waits = [(now - w) / 60 for (w,) in con.execute(
        "SELECT waiting_since FROM conversations WHERE status = 'open' AND snooze_until IS NULL"
        " AND snooze_reply = 0 AND waiting_since IS NOT NULL")]
    target = 120
    assert sum(w < 60 for w in waits) >= 3, sorted(waits)  # minutes old
    assert sum(60 <= w < target for w in waits) >= 2, sorted(waits)  # an hour or so
    assert sum(w >= target for w in waits) >= 3, sorted(waits)  # a few over the target
    assert sum(w >= target for w in waits) <= len(waits) * 2 // 3, sorted(waits)  # not all of them

    def count(sql: str) -> int:
        return con.execute(sql).fetchone()[0]
    assert count("SELECT count(*) FROM conversations WHERE status = 'pending'") >= 3
    assert count("SELECT count(*) FROM conversations WHERE status = 'closed'") >= 10
    assert count("SELECT count(*) FROM conversations WHERE snooze_until > strftime('%s', '2026-11-20')") >= 1
    assert count("SELECT count(*) FROM conversations WHERE snooze_reply = 1") >= 1
    assert count("SELECT count(DISTINCT assignee) FROM conversations WHERE assignee IS NOT NULL") >= 3
    assert count("SELECT count(*) FROM drafts") >= 1
    assert count("SELECT count(*) FROM outbox WHERE state = 'queued' AND send_at > created_at + 60") >= 1
    con.close()


# ---- a store that is damaged, read-only or in a bad place: one line, exit 2, file untouched ----

def imported_store(tmp_path, capsys):
    db = damaged_store.imported_store(tmp_path)
    capsys.readouterr()
    return db


# everything a reading command reads, but not the meta table opening the desk reads
READ_TABLES = ["conversations", "conversations_queue", "conversations_last", "messages", "messages_conv",
               "thread_ids", "thread_ids_conv", "messages_fts_data", "messages_fts_idx", "tags", "raw_messages"]


@pytest.mark.parametrize("argv", [["queue"], ["search", "refund"], ["show", "1"], ["threads", "--json"]])
def test_a_damaged_store_is_one_line_for_reading_commands(tmp_path, capsys, argv):
    db = imported_store(tmp_path, capsys)
    damage(db, READ_TABLES)
    before = file_state(db)
    code, out, err = run(capsys, "--db", db, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith(f"tui-desk: store {db} is damaged (") and err.endswith("it was left untouched\n")
    assert file_state(db) == before


@pytest.mark.parametrize("argv", [["import", "more"], ["tag", "1", "+bug"], ["status", "1", "closed"],
                                  ["note", "1", "--body", "checked"], ["merge", "1", "2"]])
def test_a_damaged_store_is_never_written(tmp_path, capsys, argv):
    """Damage no command reads on its way (the raw mail) still stops every writing command
    before it writes: PRAGMA quick_check at the open."""
    db = imported_store(tmp_path, capsys)
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "new.eml").write_bytes((tmp_path / "mail" / "0.eml").read_bytes().replace(
        b"m0@customer.test", b"new@customer.test"))
    damage(db, ["raw_messages"])
    before = file_state(db)
    code, out, err = run(capsys, "--db", db, *[tmp_path / a if a == "more" else a for a in argv])
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith(f"tui-desk: store {db} is damaged (") and err.endswith("it was left untouched\n")
    assert file_state(db) == before


class Immutable:
    """chmod alone does not stop root: as root the files are also made immutable (chattr +i,
    which root's writes obey too). `works`: whether the place really is read-only now."""

    def __init__(self, *paths):
        import os
        import shutil
        import subprocess
        self.paths = paths
        self.chattr = os.geteuid() == 0 and shutil.which("chattr") is not None
        if self.chattr:
            self.chattr = subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True).returncode == 0
        self.works = os.geteuid() != 0 or self.chattr

    def undo(self):
        import subprocess
        if self.chattr:
            subprocess.run(["chattr", "-i", *map(str, self.paths)], check=True)


@pytest.mark.parametrize("argv", [["queue"], ["show", "1"], ["tag", "1", "+bug"], ["import", "mail"]])
def test_a_read_only_store_is_said_to_be_read_only(tmp_path, capsys, argv):
    db = imported_store(tmp_path, capsys)
    db.chmod(0o444)
    db.parent.chmod(0o555)
    place = Immutable(db, db.parent)
    try:
        if not place.works:
            pytest.fail("running as root without chattr: cannot make a read-only store "
                        "(tests/test_store.py checks the classification with SQLite's own error)")
        before = file_state(db)
        code, out, err = run(capsys, "--db", db, *[tmp_path / a if a == "mail" else a for a in argv])
        assert code == 2 and out == "" and err.count("\n") == 1, err
        assert err.startswith(f"tui-desk: store {db} is read-only: ") and "damaged" not in err
        assert file_state(db) == before
    finally:
        place.undo()
        db.parent.chmod(0o755)
        db.chmod(0o644)


@pytest.mark.parametrize("argv", [["queue"], ["import", "MAIL"], ["tag", "1", "+bug"], []])
def test_a_file_where_the_store_folder_should_be_is_one_line(tmp_path, capsys, monkeypatch, argv):
    import tui_desk.cli as cli
    monkeypatch.setattr(cli, "run_tui", lambda db, config: pytest.fail("the app started"))
    a_few_mails(tmp_path / "mail")
    (tmp_path / "data").write_text("a file, not a folder\n")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # the default place, under a file
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no config
    monkeypatch.delenv("TUI_DESK_DB", raising=False)
    code, out, err = run(capsys, *[tmp_path / "mail" if a == "MAIL" else a for a in argv])
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert f"{tmp_path / 'data'} is a file, not a folder" in err
    # and named with --db
    code, out, err = run(capsys, "--db", tmp_path / "data" / "desk.sqlite3",
                         *[tmp_path / "mail" if a == "MAIL" else a for a in argv])
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert f"{tmp_path / 'data'} is a file, not a folder" in err
    assert (tmp_path / "data").read_text() == "a file, not a folder\n"


@pytest.mark.parametrize("argv", [["queue"], ["import", "MAIL"], []])
def test_a_store_folder_without_permission_is_one_line(tmp_path, capsys, monkeypatch, argv):
    import tui_desk.cli as cli
    monkeypatch.setattr(cli, "run_tui", lambda db, config: pytest.fail("the app started"))
    a_few_mails(tmp_path / "mail")
    closed = tmp_path / "closed"
    closed.mkdir()
    closed.chmod(0o000)
    place = Immutable(closed)
    try:
        if not place.works:
            pytest.fail("running as root without chattr: cannot make a folder closed to root")
        monkeypatch.setenv("XDG_DATA_HOME", str(closed))
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no config
        monkeypatch.delenv("TUI_DESK_DB", raising=False)
        code, out, err = run(capsys, *[tmp_path / "mail" if a == "MAIL" else a for a in argv])
        assert code == 2 and out == "" and err.count("\n") == 1, err
        assert err.startswith("tui-desk: ") and str(closed) in err
        assert "no permission" in err or "read-only" in err
    finally:
        place.undo()
        closed.chmod(0o755)
    assert list(closed.iterdir()) == []


def test_import_puts_a_date_not_to_be_believed_at_the_arrival_time(tmp_path, capsys):
    import os

    from tests.mailfactory import BASE, make_mail, with_date

    old = with_date(make_mail("old@t", sender="old@c.test"), "Mon, 1 Jan 1900 00:00:00 +0000")
    (tmp_path / "in.mbox").write_bytes(b"From old@c.test Mon Nov  2 10:00:00 2026\n" + old + b"\n")
    eml = tmp_path / "mail" / "nodate.eml"
    eml.parent.mkdir()
    eml.write_bytes(with_date(make_mail("nodate@t", sender="nodate@c.test"), None))
    os.utime(eml, (BASE.timestamp() + 7200, BASE.timestamp() + 7200))
    db = tmp_path / "d.sqlite3"
    assert run(capsys, "--db", db, "import", tmp_path / "in.mbox", eml.parent)[0] == 0
    rows = {r["customer_address"]: r for r in run_json(capsys, "--db", db, "queue")}
    expect = {"old@c.test": ("Date header said 1900-01-01; using the mbox From_ line date", "2026-11-02 10:00"),
              "nodate@c.test": ("no Date header; using the file's modification time", "2026-11-02 11:00")}
    assert set(rows) == set(expect)
    for customer, (said, when) in expect.items():
        note = f"date corrected: {said}"
        assert note in rows[customer]["priority"]["reasons"]
        assert rows[customer]["priority"]["reasons"][0].startswith("waiting ")
        shown = run(capsys, "--db", db, "show", rows[customer]["id"])[1]
        assert f"   ! {note}" in shown and "priority: " in shown and note in shown.split("priority: ")[1]
        assert run_json(capsys, "--db", db, "show", rows[customer]["id"])["messages"][0]["date"].startswith(
            when.replace(" ", "T"))


def test_import_keeps_a_second_mail_with_a_known_message_id_and_says_so(tmp_path, capsys):
    from tests.mailfactory import make_mail

    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "1.eml").write_bytes(make_mail("same@t", body="the first\n"))
    (folder / "2.eml").write_bytes(make_mail("same@t", subject="Other", body="another mail\n"))
    (folder / "3.eml").write_bytes(make_mail("same@t", body="the first\n").replace(b"\n", b"\r\n"))
    db = tmp_path / "d.sqlite3"
    code, out, _ = run(capsys, "--db", db, "import", folder)
    assert code == 0 and out.startswith("imported 2 messages (1 already known)"), out
    assert out.rstrip().endswith(", 1 kept beside another mail with the same Message-ID"), out
    code, out, _ = run(capsys, "--db", db, "import", folder)
    assert code == 0 and out.startswith("imported 0 messages (3 already known)") and "kept beside" not in out
    [conv] = run_json(capsys, "--db", db, "queue")
    shown = run(capsys, "--db", db, "show", conv["id"])[1]
    assert "the first" in shown and "another mail" in shown
    assert "! another message has the same Message-ID <same@t>: this one is kept as <same@t#dup-" in shown


def test_reply_send_at_is_read_in_the_desks_zone_with_the_apps_send_later_words(tmp_path, capsys):
    """`--send-at` reads a time as the app's send-later prompt does: in [priority] timezone (not
    the machine's offset of today), and a snooze word is not a time to send at."""
    db = tmp_path / "s.sqlite3"
    asyncio.run(prepare_demo(db, NOW))
    config = tmp_path / "config.toml"
    config.write_text('agent = "alice"\n\n[priority]\ntimezone = "America/New_York"\n\n'
                      '[accounts.support]\naddress = "support@helpdesk.test"\n')
    body = tmp_path / "body.md"
    body.write_text("Will follow up\n")
    row = run_json(capsys, "--db", db, "queue")[0]
    code, _, err = run(capsys, "--db", db, "--config", config, "reply", row["id"], "--body-file", body,
                       "--send-at", "2099-07-03 09:00")  # EDT, UTC-4
    assert code == 0, err
    item = run_json(capsys, "--db", db, "outbox")[-1]  # the demo's outbox holds its own replies
    assert item["conversation"] == row["id"] and item["send_at"] == "2099-07-03T13:00:00+00:00"
    code, _, err = run(capsys, "--db", db, "--config", config, "reply", row["id"], "--body-file", body,
                       "--send-at", "until reply")
    assert code == 2 and "a reply needs a time" in err


def test_search_help_names_every_field_the_grammar_knows(capsys):
    from tui_desk.store.search import KNOWN_FIELDS
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    said = " ".join(out.split())  # argparse wraps the line
    assert all(f"{field}:" in said for field in KNOWN_FIELDS), said
