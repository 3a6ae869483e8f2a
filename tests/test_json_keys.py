"""Every --json output has the keys the README documents (its "JSON output" table), no more,
no fewer: scripts can rely on the table."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tui_desk.cli import main, prepare_demo

README = Path(__file__).resolve().parents[1] / "README.md"
NOW = __import__("datetime").datetime(2026, 11, 20, 15, 30, tzinfo=__import__("datetime").timezone.utc)
CONFIG = """\
agent = "alice"
agent_addresses = ["*@helpdesk.test"]

[sla]
first_response_minutes = 120
resolution_minutes = 1440

[accounts.support]
address = "support@helpdesk.test"

[accounts.support.smtp]
host = "127.0.0.1"
port = 2525
security = "none"
"""


def documented() -> dict[str, set[str]]:
    """command -> keys, from the README table between the json-keys markers."""
    text = README.read_text()
    table = text.split("<!-- json-keys -->")[1].split("<!-- /json-keys -->")[0]
    out = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or not cells[0].startswith("`"):
            continue
        keys = set(re.findall(r"`([^`]+)`", cells[1]))
        for command in re.findall(r"`([^`]+)`", cells[0]):
            out[command] = keys
    return out


def keys_of(value, prefix: str = "") -> set[str]:
    """Flattened keys: `a`, `a.b` for an object in an object, `a[].b` for objects in a list."""
    if isinstance(value, list):
        return keys_of(value[0], prefix) if value and isinstance(value[0], dict) else set()
    out = set()
    for k, v in value.items():
        out.add(prefix + k)
        if isinstance(v, dict):
            out |= keys_of(v, f"{prefix}{k}.")
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            out |= keys_of(v[0], f"{prefix}{k}[].")
    return out


# keys whose value is text, "" when empty (README's JSON output); any other value not there is null
TEXT_KEYS = {"subject", "text", "first_line", "example_subjects"}


def values_of(value, prefix: str = ""):
    """(flattened key, value) of every value that is not an object or a list."""
    if isinstance(value, list):
        for item in value:
            yield from values_of(item, f"{prefix}[]" if prefix else "[]")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from values_of(v, f"{prefix}.{k}" if prefix else k)
    else:
        yield prefix, value


@pytest.fixture
def store(tmp_path, capsys):
    import asyncio

    db = tmp_path / "desk.sqlite3"
    asyncio.run(prepare_demo(db, NOW))
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    (tmp_path / "rules.toml").write_text('[[rule]]\nname = "all new mail"\non = "new"\ndo = ["tag +seen"]\n')
    (tmp_path / "reply.md").write_text("Thanks!\n")
    return ["--db", str(db), "--config", str(config)], tmp_path


def run_json(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_every_json_output_has_the_documented_keys(store, capsys):
    args, tmp = store
    table = documented()
    first = run_json(capsys, *args, "queue", "--json", "--limit", "1")[0]["id"]
    run_json(capsys, *args, "tag", first, "+incident-payments-failing", "--json")  # of the incident below
    real = {
        "queue": run_json(capsys, *args, "queue", "--json"),
        "search": run_json(capsys, *args, "search", "refund", "--json"),
        "show": run_json(capsys, *args, "show", first, "--json"),
        "threads": run_json(capsys, *args, "threads", "--json"),
        "tag": run_json(capsys, *args, "tag", first, "+json", "--json"),
        "status": run_json(capsys, *args, "status", first, "pending", "--json"),
        "snooze": run_json(capsys, *args, "snooze", first, "3d", "--json"),
        "assign": run_json(capsys, *args, "assign", first, "bob", "--json"),
        "note": run_json(capsys, *args, "note", first, "--body", "Checked", "--json"),
        "history": run_json(capsys, *args, "history", first, "--json"),
        "reply": run_json(capsys, *args, "reply", first, "--body-file", tmp / "reply.md", "--send-at", "2h", "--json"),
        "outbox": run_json(capsys, *args, "outbox", "--json"),
        # a snippet every conversation can be filled for (a skip makes the dry run exit 1)
        "followup": run_json(capsys, *args, "followup", "--query", "refund", "--snippet", "thanks-feedback",
                             "--dry-run", "--json"),
        "fetch": run_json(capsys, *args, "fetch", first, "--json"),
        "rules test": run_json(capsys, *args, "rules", "test", first, "--json"),
        "report": run_json(capsys, *args, "report", "--since", "2026-10-01", "--until", "2026-11-30", "--json"),
        "report heatmap": run_json(capsys, *args, "report", "heatmap", "--since", "2026-10-01", "--until",
                                   "2026-11-30", "--json"),
        "report questions": run_json(capsys, *args, "report", "questions", "--since", "2026-10-01", "--until",
                                     "2026-11-30", "--json"),
        "export": run_json(capsys, *args, "export", "--json"),
        "snippets stats": run_json(capsys, *args, "snippets", "stats", "--json"),
        "snippets suggest": run_json(capsys, *args, "snippets", "suggest", "--since", "2026-10-01", "--until",
                                     "2026-11-30", "--json"),
        "incident start": run_json(capsys, *args, "incident", "start", "Payments failing", "--match",
                                   "subject:payment", "--json"),
        "incident list": run_json(capsys, *args, "incident", "list", "--json"),
        "incident resolve --dry-run": run_json(capsys, *args, "incident", "resolve", "--dry-run", "--json"),
    }
    assert real["incident resolve --dry-run"]["mails"], "the tagged conversation is the incident's"
    assert real["report questions"]["questions"] and real["export"], "the demo has figures to show"
    assert set(real) <= set(table), f"not in the README table: {set(real) - set(table)}"
    for command, output in real.items():
        got = keys_of(output)
        if command == "fetch":  # no header-only mail in the demo: its messages list is empty
            got |= {k for k in table[command] if k.startswith("messages[].")}
        if command == "report heatmap" and not output["staffing"]["over_capacity"]:  # an empty list shows no keys
            got |= {k for k in table[command] if k.startswith("staffing.over_capacity[].")}
        if command == "report":  # no business hours in the demo: business is null, its STATS as calendar's
            assert output["headline"]["first_response"]["business"] is None and output["breakdowns"] == {}
        if command == "snippets suggest":  # a list with nothing in it shows no keys
            got |= {k for k in table[command] if k.split("[]")[0] in output and not output[k.split("[]")[0]]
                    and "[]." in k}
        if command == "history":  # data's fields depend on the kind: the History section lists them
            got = {k for k in got if not k.startswith("events[].data.")}
        assert got == table[command], f"{command}: README lists {sorted(table[command] - got)} that are not " \
                                      f"there, and not {sorted(got - table[command])}"
        # a value that is not there is null and a list is a list (README): "" only for text
        empty = {key for key, value in values_of(output) if value == "" and key.split(".")[-1].rstrip("[]") not in TEXT_KEYS}
        assert not empty, f"{command}: \"\" where null or [] is meant: {sorted(empty)}"


def test_show_json_gives_lists_for_addresses_and_null_for_what_a_mail_lacks(tmp_path, capsys):
    """`to` and `cc` are lists (a name with a comma stays one address), [] when there are none;
    a mail without From has `from` null, an attachment without a name `filename` null: never
    an empty string that a script would take for a value."""
    mail = tmp_path / "m.eml"
    mail.write_bytes(b'To: "Lee, Ann" <ann@customer.test>, bob@customer.test\r\nSubject: No sender\r\n'
                     b"Message-ID: <nosender@customer.test>\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n"
                     b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
                     b"--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
                     b"--B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment\r\n\r\n"
                     b"xyz\r\n--B--\r\n")
    db = str(tmp_path / "d.sqlite3")
    assert main(["--db", db, "import", str(mail)]) == 0, capsys.readouterr()
    capsys.readouterr()
    (conv,) = run_json(capsys, "--db", db, "queue", "--json")
    (message,) = run_json(capsys, "--db", db, "show", conv["id"], "--json")["messages"]
    assert message["to"] == ["Lee, Ann <ann@customer.test>", "bob@customer.test"]
    assert message["cc"] == []
    assert message["from"] is None
    assert [a["filename"] for a in message["attachments"]] == [None]
    assert conv["customer_address"] is None
