"""A bulk follow-up to 200 conversations by the real `tui-desk` processes, against the suite's
Dovecot and aiosmtpd sink, with kill -9 twice: once while `tui-desk followup` queues, once while
`tui-desk outbox --send` delivers (the SMTP server has taken a mail the outbox has not marked
sent). The same command again continues; every customer gets exactly one mail, the one the dry
run listed. Customers who asked twice, killed between their replies and their notes: one mail
each still. And `tui-desk reply ID --snippet NAME`. Stop points: tests/followup_crash_child.py."""

from __future__ import annotations

import email
import json
import os
import signal
import subprocess
import sys
import threading
import time
from email import policy
from pathlib import Path

import pytest

from tests.accounts import write_config
from tests.mailfactory import make_mail
from tests.processes import alive, descendants

CHILD = Path(__file__).with_name("followup_crash_child.py")
ROOT = Path(__file__).resolve().parents[1]
CUSTOMERS = 200
SNIPPET = """---
title: Dark mode shipped
---
Hi {{customer_first_name}},

dark mode is out today: Settings, Appearance. Thanks for asking for it (ticket {{ticket_id}}).
"""


class Desk:
    """A store and config driven only through `tui-desk` processes."""

    def __init__(self, tmp_path: Path, dovecot, user: str, sink, customers: int, asks: int = 1):
        """`asks`: the conversations each customer started (one request each)."""
        self.tmp, self.sink = tmp_path, sink
        self.cfg, self.db = tmp_path / "config.toml", tmp_path / "store.sqlite3"
        write_config(self.cfg, dovecot, user, agent="Alice", name="Helpdesk Support", smtp_port=sink.port,
                     settings="[followup]\nper_minute = 100000\n")
        text = self.cfg.read_text()  # no undo window: the test delivers at once
        self.cfg.write_text(text.replace('folders = ["INBOX"]', 'folders = ["INBOX"]\nundo_send_seconds = 0', 1))
        snippets = tmp_path / "xdg" / "tui-desk" / "snippets"
        snippets.mkdir(parents=True)
        (snippets / "feature-shipped.md").write_text(SNIPPET)
        self.env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
        dovecot.load_maildir(user, [make_mail(f"dark{i}@t" if k == 0 else f"dark{i}-{k}@t",
                                              sender=f"Customer{i} Person <c{i}@c.test>",
                                              subject=f"Dark mode please ({i})" if k == 0 else
                                              f"Dark mode please ({i}, ask {k + 1})", body="Any news on dark mode?\n",
                                              minutes=i + k * customers)
                                    for k in range(asks) for i in range(customers)])
        self.cli("sync", "--once")
        self.ids = [row["id"] for row in json.loads(self.cli("search", "subject:dark", "--json"))]
        assert len(self.ids) == customers * asks
        self.cli("tag", *map(str, self.ids), "+wants-dark-mode")

    def args(self, *args) -> list[str]:
        return ["--config", str(self.cfg), "--db", str(self.db), *args]

    def cli(self, *args, ok: tuple[int, ...] = (0,)) -> str:
        done = subprocess.run([sys.executable, "-m", "tui_desk", *self.args(*args)], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode in ok, f"tui-desk {' '.join(args)}: {done.stderr}"
        assert "Traceback" not in done.stderr
        return done.stdout

    def killed_at(self, point: str, n: int, *args) -> None:
        """`tui-desk ARGS` in its own process, SIGKILLed when it reaches the n-th `point`."""
        err = self.tmp / f"child-{point}.err"
        with err.open("w") as stderr:
            proc = subprocess.Popen([sys.executable, str(CHILD), point, str(n), *self.args(*args)], cwd=ROOT,
                                    env=self.env, stdout=subprocess.PIPE, stderr=stderr, text=True)
        watchdog = threading.Timer(500, proc.kill)  # only if the child never gets there
        watchdog.start()
        try:
            line = next((line.strip() for line in proc.stdout if line.strip() == point), "")
        finally:
            watchdog.cancel()
        helpers = descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        assert line == point, f"child never reached {point}: {err.read_text()}"
        assert proc.returncode == -signal.SIGKILL
        deadline = time.time() + 30
        while alive(helpers) and time.time() < deadline:
            time.sleep(0.2)
        assert not alive(helpers), "nothing the killed process started lives on"

    def outbox(self, *args, ok: tuple[int, ...] = (0,)) -> list[dict]:
        return json.loads(self.cli("outbox", "--json", *args, ok=ok))

    def followup(self, *args) -> dict:
        out = self.cli("followup", "--query", "tag:wants-dark-mode", "--snippet", "feature-shipped", "--json",
                       *args)
        return json.loads(out)

    def sent(self) -> list[tuple[tuple[str, ...], str, str, str]]:
        """(recipients, Message-ID, Subject, first line of the text) of each mail the sink got."""
        out = []
        for m in list(self.sink.messages):
            parsed = email.message_from_bytes(m.data, policy=policy.default)
            text = parsed.get_body(("plain",)).get_content()
            first = next(line.strip() for line in text.splitlines() if line.strip())
            out.append((tuple(m.rcpt_tos), parsed["Message-ID"].strip("<>"), parsed["Subject"], first))
        return out


@pytest.fixture
def desk(tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    return Desk(tmp_path, dovecot, mail_user, smtp_sink, CUSTOMERS)


def test_followup_to_200_killed_twice_reaches_each_customer_exactly_once(desk):
    dry = desk.followup("--dry-run")
    assert dry["dry_run"] and [i["state"] for i in dry["items"]] == ["new"] * CUSTOMERS
    assert desk.outbox() == [] and desk.sink.messages == [], "the dry run sends nothing"
    text = desk.cli("followup", "--query", "tag:wants-dark-mode", "--snippet", "feature-shipped", "--dry-run")
    assert len(text.splitlines()) == CUSTOMERS, "one line each"
    assert text.splitlines()[0].startswith(f"#{min(desk.ids)}  c0@c.test  Re: [#{min(desk.ids)}] Dark mode please (0)")

    # killed while queueing: 80 replies are in the outbox
    desk.killed_at("queued", 80, "followup", "--query", "tag:wants-dark-mode", "--snippet", "feature-shipped",
                   "--tag", "+shipped", "--tag=-wants-dark-mode", "--status", "closed")
    assert [i["state"] for i in desk.outbox()] == ["queued"] * 80
    # the same command again: it continues, queues the other 120, then tags and closes them all
    again = desk.followup("--tag", "+shipped", "--tag=-wants-dark-mode", "--status", "closed")
    states = [i["state"] for i in again["items"]]
    assert states.count("queued") == CUSTOMERS - 80 and states.count("already") == 80
    assert len(desk.outbox()) == CUSTOMERS
    assert json.loads(desk.cli("search", "tag:wants-dark-mode", "--json")) == []
    shipped = json.loads(desk.cli("search", "tag:shipped", "status:closed", "--json"))
    assert sorted(r["id"] for r in shipped) == sorted(desk.ids)

    # killed while delivering: the SMTP server took the 120th mail, the outbox still says 'sending'
    desk.killed_at("after-smtp", 120, "outbox", "--send")
    assert len(desk.sink.messages) == 120
    # the same follow-up again (its query now finds none, by id it would find all): nothing queued twice
    assert desk.followup()["items"] == []
    rerun = desk.cli("followup", "--query", "tag:shipped", "--snippet", "feature-shipped", "--json")
    assert {i["state"] for i in json.loads(rerun)["items"]} == {"already"}
    # the restart delivers the rest; the one taken mid-send waits for the agent: not sent, status 1
    left = desk.outbox("--send", ok=(1,))
    assert [i["state"] for i in left] == ["maybe_sent"]

    sent = desk.sent()
    assert sorted(r for rcpts, _, _, _ in sent for r in rcpts) == sorted(f"c{i}@c.test" for i in range(CUSTOMERS)), \
        "every customer exactly one mail"
    assert sorted((rcpts, mid, subject, first) for rcpts, mid, subject, first in sent) == sorted(
        (tuple(i["to"]), i["message_id"], i["subject"], i["first_line"]) for i in dry["items"]), \
        "what the dry run listed is what went"
    assert left[0]["message_id"] in {mid for _, mid, _, _ in sent}, "the one 'maybe sent' did go, once"
    assert desk.outbox("--send") == left and len(desk.sink.messages) == CUSTOMERS, "nothing resent silently"


@pytest.fixture
def asked_twice(tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    return Desk(tmp_path, dovecot, mail_user, smtp_sink, 3, asks=2)


def test_customers_who_asked_twice_killed_between_replies_and_notes_get_one_mail_each(asked_twice):
    desk = asked_twice
    followup = ("followup", "--query", "tag:wants-dark-mode", "--snippet", "feature-shipped", "--tag", "+shipped")
    dry = desk.followup("--dry-run")
    assert (dry["customers"], dry["conversations"]) == (3, 6)
    carriers = sorted(m["conversation"] for m in dry["mails"])
    desk.killed_at("queued", 2, *followup)  # two replies queued, no note yet
    assert len(desk.outbox()) == 2
    desk.killed_at("noted", 1, *followup)  # the third reply queued, one note in
    assert sorted(i["conversation"] for i in desk.outbox()) == carriers
    done = desk.followup("--tag", "+shipped")
    assert sorted(i["state"] for i in done["items"]) == ["already"] * 4 + ["noted"] * 2
    assert done["mails"] == [], "nothing queued twice"
    assert sorted(r["id"] for r in json.loads(desk.cli("search", "tag:shipped", "--json"))) == sorted(desk.ids)
    for conv in desk.ids:
        shown = json.loads(desk.cli("show", str(conv), "--json"))
        assert sum(m["is_note"] for m in shown["messages"]) == (0 if conv in carriers else 1), conv

    desk.outbox("--send")
    sent = desk.sent()
    assert sorted(r for rcpts, _, _, _ in sent for r in rcpts) == [f"c{i}@c.test" for i in range(3)], \
        "every customer exactly one mail"
    assert sorted(mid for _, mid, _, _ in sent) == sorted(
        i["message_id"] for i in dry["items"] if i["conversation"] in carriers), \
        "in the conversation the dry run named"


@pytest.fixture
def small_desk(tmp_path, dovecot, mail_user, smtp_sink):
    smtp_sink.clear()
    return Desk(tmp_path, dovecot, mail_user, smtp_sink, 1)


def test_reply_with_a_snippet_fills_it_and_records_it(small_desk):
    [conv] = small_desk.ids
    done = json.loads(small_desk.cli("reply", str(conv), "--snippet", "feature-shipped", "--json"))
    assert done["state"] == "sent" and done["to"] == ["c0@c.test"]
    [(rcpts, mid, subject, first)] = small_desk.sent()
    assert first == "Hi Customer0," and mid == done["message_id"]
    events = json.loads(small_desk.cli("history", str(conv), "--json"))["events"]
    [reply] = [e for e in events if e["kind"] == "reply"]
    assert [s["name"] for s in reply["data"]["snippets"]] == ["feature-shipped"]
    assert reply["text"] == "replied with feature-shipped"
    wrong = subprocess.run([sys.executable, "-m", "tui_desk", *small_desk.args("reply", str(conv), "--snippet", "nope")],
                           cwd=ROOT, env=small_desk.env, capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 2 and wrong.stderr.strip() == "tui-desk: no snippet 'nope'"
