"""Rules that tell the truth (s17 tryout): an `assign` names agents as the app and the CLI do
(desk.agent_names.resolve, the store's agents counting), a rules file with a mistake says so in
`rules test` and in `sync --once`'s exit status, and `rules test --on sla-...` says when the
conversation is not in that state. Real stores; the SLA with a clock the test moves."""

from __future__ import annotations

import asyncio
import email.utils
import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.accounts import sync_cmd, write_config
from tests.clock import Clock
from tests.mailfactory import BASE, mail, make_mail
from tui_desk.cli import main
from tui_desk.config import Config, SlaConfig
from tui_desk.desk.rules import RulesError, parse_rules
from tui_desk.desk.rules.actions import ActionChecks
from tui_desk.desk.rules.timed import not_in_state
from tui_desk.desk.service import Desk
from tui_desk.mail.parse import parse_message
from tui_desk.store import ingest

ROUTE = '[[rule]]\nname = "refunds"\non = "new"\ndo = ["assign alice"]\n'


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_an_assign_names_an_agent_as_the_app_and_the_cli_do():
    checks = ActionChecks(agents=["Alice Martin", "Bob Okafor", "Anna Lee"])
    rules = parse_rules('[[rule]]\nname = "r"\non = "new"\ndo = ["assign alice", "assign BOB OKAFOR"]\n',
                        Path("r.toml"), checks)
    assert [a.value for a in rules.rules[0].actions] == ["Alice Martin", "Bob Okafor"]
    with pytest.raises(RulesError) as e:  # "a" could be two of them: said, not guessed
        parse_rules('[[rule]]\nname = "r"\non = "new"\ndo = ["assign a"]\n', Path("r.toml"), checks)
    assert e.value.errors == ["r.toml:4: rule 'r': 'assign a': a could be Alice Martin, Anna Lee "
                              "(agents: Alice Martin, Anna Lee, Bob Okafor)"]
    with pytest.raises(RulesError) as e:
        parse_rules('[[rule]]\nname = "r"\non = "new"\ndo = ["assign carol"]\n', Path("r.toml"), checks)
    assert e.value.errors == ["r.toml:4: rule 'r': 'assign carol': unknown agent 'carol' "
                              "(agents: Alice Martin, Anna Lee, Bob Okafor)"]


def _config(tmp_path: Path, rules: str, extra: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text('agent = "Alice Martin"\nagent_addresses = ["*@helpdesk.test"]\n' + extra, encoding="utf-8")
    (tmp_path / "rules.toml").write_text(rules, encoding="utf-8")
    return config


async def _store(db: Path, config: Config, clock: Clock | None = None) -> int:
    """A store with one customer conversation, assigned to Bob Okafor (a teammate this config
    does not name): the desk knows him, as `tui-desk assign 1 bob` does."""
    desk = await Desk.open(db, config, clock=clock or time.time)
    try:
        raw = make_mail("refund@t", sender="ann@c.test", subject="Refund please")
        await ingest.ingest(desk.store, [ingest.NewMessage(raw=raw, parsed=parse_message(raw), is_agent=False)])
        await desk.refresh_all()
        conv = (await desk.store.fetchone("SELECT conv_id FROM messages WHERE message_id='refund@t'"))[0]
        await desk.assign([conv], "Bob Okafor")
        return conv
    finally:
        await desk.close()


def test_rules_know_the_agents_the_desk_knows(tmp_path, capsys):
    """README's own example with agent = "Alice Martin": `assign alice` is her; `assign bob` is
    the teammate the store knows, as the CLI's assign takes him."""
    config = _config(tmp_path, ROUTE + '\n[[rule]]\nname = "bob too"\non = "new"\ndo = ["tag +b", "assign bob"]\n')
    db = tmp_path / "d.db"
    conv = asyncio.run(_store(db, Config(agent="Alice Martin", agent_addresses=("*@helpdesk.test",))))
    assert run(capsys, "--config", config, "--db", db, "rules", "check") == (
        0, f"{tmp_path / 'rules.toml'}: 2 rules OK\n", "")
    code, out, _ = run(capsys, "--config", config, "--db", db, "rules", "test", conv)
    assert code == 0
    assert out.splitlines() == ["rule 'refunds' assigned Alice Martin", "rule 'bob too' tagged +b",
                                "rule 'bob too' assigned Bob Okafor"]


def test_rules_test_with_a_bad_rule_names_it_and_says_none_runs(tmp_path, capsys):
    config = _config(tmp_path, ROUTE.replace("assign alice", "assign zed"))
    db = tmp_path / "d.db"
    conv = asyncio.run(_store(db, Config(agent="Alice Martin", agent_addresses=("*@helpdesk.test",))))
    code, out, _ = run(capsys, "--config", config, "--db", db, "rules", "test", conv)
    assert code == 1
    assert out.splitlines() == [
        f"{tmp_path / 'rules.toml'}:4: rule 'refunds': 'assign zed': unknown agent 'zed' (agents: Alice Martin, "
        "Bob Okafor)",
        "rules test: the desk runs no rule until this is fixed (tui-desk rules check)"]


async def test_an_sla_event_tested_on_a_conversation_not_in_that_state_says_so(tmp_path):
    """`rules test ID --on sla-breach` plans the event as if; the line before says it is not so."""
    t0 = BASE.timestamp()
    clock = Clock(t0 + 19 * 60)  # the mail came at t0: 19 minutes of its 4 hours are gone
    config = Config(agent="Alice Martin", agent_addresses=("*@helpdesk.test",),
                    sla=SlaConfig(first_response_minutes=240, warn_minutes=30))
    db = tmp_path / "d.db"
    conv = await _store(db, config, clock)
    desk = await Desk.open(db, config, clock=clock)
    try:
        assert await not_in_state(desk, conv, "sla-breach") == "is not breached: first response due 3h 41m"
        assert await not_in_state(desk, conv, "sla-warning") == "is not in warning: first response due 3h 41m"
        assert await not_in_state(desk, conv, "new") is None
        clock.now = t0 + 5 * 3600  # an hour past its target
        assert await not_in_state(desk, conv, "sla-breach") is None
        assert await not_in_state(desk, conv, "sla-warning") == "is not in warning: first response breached 1h"
    finally:
        await desk.close()
    plain = Config(agent="Alice Martin", agent_addresses=("*@helpdesk.test",))
    desk = await Desk.open(db, plain, clock=clock)
    try:
        assert await not_in_state(desk, conv, "sla-breach") == "is not breached: no [sla] targets are set"
    finally:
        await desk.close()


def test_rules_test_on_an_sla_event_says_the_state_first(tmp_path, capsys):
    config = _config(tmp_path, '[[rule]]\nname = "breached"\non = "sla-breach"\ndo = ["tag +late"]\n',
                     extra="[sla]\nfirst_response_minutes = 240\n")
    db = tmp_path / "d.db"
    conv = asyncio.run(_store(db, Config(agent="Alice Martin", agent_addresses=("*@helpdesk.test",))))
    code, out, _ = run(capsys, "--config", config, "--db", db, "rules", "test", conv, "--on", "sla-breach")
    assert code == 0
    # the mail is dated BASE, long before this test runs: breached, so nothing to say first
    assert out.splitlines() == ["rule 'breached' tagged +late"]
    code, out, _ = run(capsys, "--config", config, "--db", db, "rules", "test", conv, "--on", "sla-warning")
    first, *rest = out.splitlines()
    assert first.startswith(f"(#{conv} is not in warning: first response breached ") and first.endswith(
        "; shown as if it were)"), first
    assert rest == [f"no rule fires on conversation {conv} on sla-warning"]
    code, out, _ = run(capsys, "--config", config, "--db", db, "rules", "test", conv, "--on", "sla-warning", "--json")
    assert json.loads(out)["as_if"].startswith("is not in warning: first response breached ")


def test_sync_once_with_a_broken_rules_file_stores_the_mail_and_exits_1(tmp_path, dovecot, mail_user, monkeypatch):
    """README (Exit status): `sync --once` with errors is 1. A rules file that cannot be read
    runs no rule: the mail is stored, the line on stderr names the mistake, and cron notices."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    now = email.utils.formatdate(time.time() - 60)
    dovecot.load_maildir(mail_user, [mail(f"From: Ann Lee <ann@c.test>\nTo: support@helpdesk.test\n"
                                          f"Subject: Help\nMessage-ID: <broken-rules@t>\nDate: {now}", "Hello?\n")])
    cfg = write_config(tmp_path / "config.toml", dovecot, mail_user)
    (tmp_path / "rules.toml").write_text('[[rule]\nname = "x"\n', encoding="utf-8")
    done = subprocess.run(sync_cmd(cfg, tmp_path / "s.db"), capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "synced: 1 new" in done.stdout, done.stdout
    [line] = [ln for ln in done.stderr.splitlines() if "rules not run" in ln]
    assert f"{tmp_path / 'rules.toml'}:1: not valid TOML" in line, done.stderr
