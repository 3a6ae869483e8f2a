"""The bundled demo: a realistic support mailbox, generated deterministically, imported for real."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tui_desk.config import AccountConfig, AutoReplyConfig, Config, CsatConfig, PriorityConfig, ServerConfig, SlaConfig
from tui_desk.demo import mailbox as generator

DEMO_MESSAGES = 420
DEMO_SEED = 7
DEMO_DAYS = 10
DEMO_SETTLED_DAYS = 1.5  # conversations quiet for longer were closed by the demo's agents
DEMO_RECENT = 0.5  # share of threads whose last mail is from the last few hours

# One response target, 4 hours, said once: the priority's (a row's `!` and "over the 4h target")
# and the service level's, so a row marked `!` is a breached row of the Breaching view and
# unanswered rows say "due 2h 10m" / "breached 7h". First and next response (a customer who wrote
# again after an answer waits as long as a new one). Around the clock: the demo has no business
# hours (they would change its priority order). No resolution target: it would put "due Wed 15:00"
# on every open row, and in the queue's 30 cells at 80 columns the subject would shrink to its
# 10-cell minimum on all of them.
DEMO_TARGET_MINUTES = 4 * 60
DEMO_PRIORITY = PriorityConfig(response_target_minutes=DEMO_TARGET_MINUTES)
DEMO_SLA = SlaConfig(first_response_minutes=DEMO_TARGET_MINUTES, next_response_minutes=DEMO_TARGET_MINUTES)
# CSAT and the acknowledgement, to be tried: the history has surveys and answers (demo.history),
# and the acknowledgement rule has answered the newest mail with the wait it measured (set_the_scene)
DEMO_CSAT = CsatConfig(enabled=True)
DEMO_AUTOREPLY = AutoReplyConfig(acknowledge=True)
DEMO_CONFIG = Config(agent="Alice Martin", agent_addresses=("*@helpdesk.test",), priority=DEMO_PRIORITY,
                     sla=DEMO_SLA, csat=DEMO_CSAT, autoreply=DEMO_AUTOREPLY)


class DemoMailSink:
    """The demo's outgoing mail server: aiosmtpd on loopback, keeping what it receives, so the
    whole reply flow (undo, send later, the reply landing in the thread) works with no account."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller
        self.received: list[bytes] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                sink.received.append(envelope.original_content or envelope.content)
                return "250 OK: delivered to the demo sink"
        with socket.socket() as probe:  # a free loopback port
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> int:
        self._controller.start()
        return self.port

    def stop(self) -> None:
        self._controller.stop()


@contextlib.contextmanager
def demo_folder() -> Iterator[Path]:
    """The demo's temp dir (its store): removed on leaving, and also when the terminal goes
    (SIGHUP: a closed window, tmux kill-session) or the process is told to end (SIGTERM),
    which would otherwise end it with no clean-up at all."""
    with tempfile.TemporaryDirectory(prefix="tui-desk-demo-", ignore_cleanup_errors=True) as tmp:
        def remove_and_end(signum: int, _frame: object) -> None:
            shutil.rmtree(tmp, ignore_errors=True)  # first: whatever the ending below meets
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)  # ended by the signal, as without this handler

        signals = (signal.SIGHUP, signal.SIGTERM)
        before = {s: signal.signal(s, remove_and_end) for s in signals}
        try:
            yield Path(tmp)
        finally:
            for s, handler in before.items():
                signal.signal(s, handler)


def demo_config(smtp_port: int) -> Config:
    account = AccountConfig(name="demo", address="support@helpdesk.test", display_name="Helpdesk Support",
                            smtp=ServerConfig("127.0.0.1", smtp_port, "none", ""), save_sent=False)
    return Config(agent=DEMO_CONFIG.agent, agent_addresses=DEMO_CONFIG.agent_addresses, accounts=(account,),
                  priority=DEMO_CONFIG.priority, sla=DEMO_CONFIG.sla, csat=DEMO_CONFIG.csat,
                  autoreply=DEMO_CONFIG.autoreply)


DEMO_CONFIG_HEADER = "# tui-desk demo --keep"  # the first line: a folder --keep may write in again


def demo_config_toml(smtp_port: int) -> str:
    """demo_config(smtp_port) as config.toml: what `tui-desk demo --keep DIR` leaves beside its
    store, so the CLI works on the demo (tests/test_demo_cli.py reads it back as demo_config)."""
    account = demo_config(smtp_port).accounts[0]
    assert account.smtp is not None
    patterns = ", ".join(f'"{p}"' for p in DEMO_CONFIG.agent_addresses)
    return f"""{DEMO_CONFIG_HEADER}: the demo's config (written again at each start: the port is the
# demo's own SMTP server, up while the app runs). The CLI reads it with
#   export TUI_DESK_DB=<this folder>/desk.sqlite3 TUI_DESK_CONFIG=<this folder>/config.toml
agent = "{DEMO_CONFIG.agent}"
agent_addresses = [{patterns}]

[priority]
response_target_minutes = {DEMO_CONFIG.priority.response_target_minutes}

[sla]
first_response_minutes = {DEMO_SLA.first_response_minutes}
next_response_minutes = {DEMO_SLA.next_response_minutes}

[autoreply]
acknowledge = {str(DEMO_AUTOREPLY.acknowledge).lower()}
snippet = "{DEMO_AUTOREPLY.snippet}"

[csat]
enabled = {str(DEMO_CSAT.enabled).lower()}

[accounts.{account.name}]
address = "{account.address}"
name = "{account.display_name}"
save_sent = {str(account.save_sent).lower()}

[accounts.{account.name}.smtp]
host = "{account.smtp.host}"
port = {account.smtp.port}
security = "{account.smtp.security}"
"""


def demo_end(now: dt.datetime | None = None) -> dt.datetime:
    """Newest demo mail: the current hour, so ages look like a live desk (fixed `now` → same bytes)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return now.astimezone(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)


def generate_demo_messages(end: dt.datetime) -> list:
    settled = (end - dt.timedelta(days=DEMO_SETTLED_DAYS)).timestamp()  # answered before they were closed
    return generator.Generator(DEMO_MESSAGES, DEMO_SEED, end, DEMO_DAYS, recent=DEMO_RECENT,
                               answered_before=settled).generate()


def write_demo_mbox(path: Path, end: dt.datetime, msgs: list | None = None) -> Path:
    """The demo mail (`msgs`, or generated for `end`) as an mbox at `path`."""
    generator.write_mbox(msgs if msgs is not None else generate_demo_messages(end), str(path))
    return path


async def give_the_past(desk, end: dt.datetime, msgs: list) -> None:
    """The history of the weeks the mail covers, as the three agents made it (demo.history):
    replies, triage, snoozes, pending, closes and reopens. A live desk has closed its old
    tickets: those quiet for DEMO_SETTLED_DAYS end closed, or every row would say "waiting 9d"."""
    from tui_desk.demo.history import give_history
    agents = tuple(name for name, _ in generator.AGENTS)
    await give_history(desk, end, msgs, DEMO_SEED, DEMO_SETTLED_DAYS, agents)


async def _customer_wrote(desk, conv_id: int) -> bool:
    """A customer asked in it: the generated mail has auto-replies whose thread broke (as real
    mail does), conversations with no customer to follow up."""
    view = await desk.conversation(conv_id)
    return view is not None and any(not m.from_agent and not m.is_note and not m.auto_submitted
                                    for m in view.messages)


# Who did the scene's triage where no agent holds the conversation: a teammate, not the agent
# the demo starts as (DEMO_CONFIG.agent), who did none of it while the store was built.
SCENE_LEAD = "Chen Wei"


@contextlib.contextmanager
def _by(desk, agent: str) -> Iterator[None]:
    """The desk's actions in this block are `agent`'s (their events, their {{agent_name}})."""
    import dataclasses
    before = desk.config
    desk.config = dataclasses.replace(before, agent=agent)
    try:
        yield
    finally:
        desk.config = before


async def _owner(desk, conv_id: int) -> str:
    [row] = await desk.queue_rows([conv_id])
    return row.assignee or SCENE_LEAD


async def _teammates_conversation(desk, candidates: list[int], taken: set[int], default: int) -> int:
    """The first conversation among `candidates` not taken and not held by the agent the demo
    starts as: the reply waiting for tomorrow is a teammate's (she wrote none yet: the quit
    question would count it as hers)."""
    for cid in candidates:
        if cid not in taken and await _owner(desk, cid) != DEMO_CONFIG.agent:
            return cid
    return default


async def set_the_scene(desk, end: dt.datetime) -> None:
    """A desk at work: some conversations assigned, a draft half-written, a reply waiting to be
    sent tomorrow, two snoozed; so every queue marker can be seen. `desk` runs on the demo's clock.
    The team did it, as the past (demo.history): an assignment is the agent's who took it, the
    rest the conversation's agent's or SCENE_LEAD's; the draft is the agent's the demo starts as."""
    from tui_desk.desk.replies import queue_reply
    from tui_desk.desk.when import parse_when
    queue = await desk.queue_ids()
    pick = {name: queue[i] for name, i in (("mine", 1), ("draft", 2), ("bob", 3), ("later", 4), ("snooze", 5),
                                           ("chen", 6), ("reply", 8), ("bob2", 10)) if i < len(queue)}
    for name, agent in (("mine", DEMO_CONFIG.agent), ("draft", DEMO_CONFIG.agent), ("bob", "Bob Okafor"),
                        ("chen", "Chen Wei"), ("bob2", "Bob Okafor")):
        if name in pick:
            with _by(desk, agent):
                await desk.assign([pick[name]], agent)
    if "later" in pick and await _owner(desk, pick["later"]) == DEMO_CONFIG.agent:
        pick["later"] = await _teammates_conversation(desk, queue[5:], set(pick.values()), default=pick["later"])
    if "draft" in pick:
        await desk.save_draft(pick["draft"], "Hi {{customer_first_name}},\n\nthanks for your patience. I checked ")
    now = dt.datetime.fromtimestamp(desk.now()).astimezone()
    if "later" in pick:
        with _by(desk, await _owner(desk, pick["later"])):
            await queue_reply(desk, pick["later"], "Hi {{customer_first_name}},\n\nI will check on this first "
                              "thing tomorrow and write again.\n\n{{agent_name}}",
                              send_at=int(parse_when("tomorrow 9:00", now).at.timestamp()),
                              account=demo_config(0).accounts[0])
    for name, when in (("snooze", "tomorrow 9:00"), ("reply", "until reply")):
        if name in pick:
            with _by(desk, await _owner(desk, pick[name])):
                await desk.snooze([pick[name]], when)
    await acknowledge_newest(desk)
    # the customers who asked for dark mode, tagged for the day it ships: `F` (bulk follow-up)
    # on `tag:wants-dark-mode` with the feature-shipped snippet
    wanting = [cid for cid in await desk.view_ids('subject:"dark mode"') if await _customer_wrote(desk, cid)]
    for cid in wanting:
        with _by(desk, await _owner(desk, cid)):
            await desk.tag([cid], ["wants-dark-mode"])
    # last: reading a conversation (desk.conversation, above) is opening it, which sees its mentions
    await mention_the_agent(desk, [pick[name] for name in ("bob", "chen") if name in pick])


# Teammates' notes to the agent the demo starts as, on conversations they hold: her Mentions view
# and the rows' `@` (unseen: she has opened nothing yet). Said for any topic the mail is about.
MENTION_NOTES = (
    "@{me} this customer wrote to you before: did we promise them anything? I would like to "
    "answer in the same words.",
    "@{me} can you take this one? I am out this afternoon, and it should not wait until tomorrow.",
)


async def mention_the_agent(desk, conv_ids: list[int]) -> None:
    """One teammate's note mentioning DEMO_CONFIG.agent on each of `conv_ids` (MENTION_NOTES), by
    the conversation's owner."""
    from tui_desk.store.search import mention_name
    for conv_id, text in zip(conv_ids, MENTION_NOTES):
        with _by(desk, await _owner(desk, conv_id)):
            await desk.add_note(conv_id, text.format(me=mention_name(DEMO_CONFIG.agent)))


ACK_CANDIDATES = 5  # the newest unanswered conversations tried for the demo's acknowledgement


async def acknowledge_newest(desk) -> None:
    """[autoreply] acknowledge, once: the acknowledgement rule on the newest conversation nobody has
    answered, as the app's rules run it on new mail (desk.rules: plan, execute): the auto-ack
    snippet with the wait measured from the demo's first responses, queued to go at once (the
    demo's SMTP sink takes it when the app starts; its `autoreply` event is history then), and the
    rule's line. The demo's store is built without an account: the rule sends from the demo's."""
    import dataclasses

    from tui_desk.desk.rules.acknowledge import acknowledgement_rule
    from tui_desk.desk.rules.engine import plan
    from tui_desk.desk.rules.execute import execute
    from tui_desk.desk.rules.facts import gather_many
    from tui_desk.desk.rules.model import Event
    from tui_desk.store import queries
    unanswered: list[tuple[int, int, str]] = []  # (date, conversation, its first mail)
    for conv_id, facts in (await queries.message_facts(desk.store, None)).items():
        mail = [f for f in facts if f.date is not None]
        if mail and not any(f.is_agent or f.auto_submitted for f in mail):
            unanswered.append((mail[-1].date, conv_id, mail[0].message_id))
    before = desk.config
    desk.config = dataclasses.replace(before, accounts=demo_config(0).accounts)
    try:
        rule = acknowledgement_rule(desk.config)
        # newest first; a mail the loop guards hold (a no-reply sender) is passed over, not said
        for _, conv_id, message_id in sorted(unanswered, reverse=True)[:ACK_CANDIDATES]:
            event = Event("new", conv_id, desk.now(), message_id)
            [conv] = await gather_many(desk, [rule], [event])
            planned = plan([rule], event, conv) if conv is not None else []
            if planned and all(p.held is None for p in planned):
                await execute(desk, event, planned, key=f"{message_id}\n{event.kind}")
                return
    finally:
        desk.config = before
