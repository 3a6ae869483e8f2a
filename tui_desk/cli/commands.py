"""The commands of `tui-desk`, thin over the desk: import, triage, reply, outbox, sync, fetch, demo."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import shlex
import sys
import tempfile
from pathlib import Path

from tui_desk.cli.output import (UsageError, message_json, or_null, print_json, print_rows, say, sla_json,
                                 state_json)
from tui_desk.desk.wording import counted
from tui_desk.config import Config, ConfigError, default_config_path, default_db_path
from tui_desk.desk.timefmt import format_day_time

# These make the store (and its folder) when missing; every other command wants one to exist.
CREATES_STORE = ("import", "sync", "demo")
# These only read: they skip the whole-file check writers make first (Store.open says why).
READS_ONLY = ("queue", "show", "search", "threads", "history",
              # mostly read: they write only when the metrics cache is out of date, and such a
              # write waits for the check then (a warm report must not pay a whole-file read)
              "report", "export", "snippets")


async def _open_desk(args, config: Config):
    from tui_desk.desk.service import Desk
    desk = await Desk.open(args.db or default_db_path(), config, check=False)
    if args.command not in READS_ONLY:
        # beside the command's own work (reading mail, the server): the first write waits for it
        desk.store.start_check()
    return desk


async def _view_ids(desk, name: str) -> list[int]:
    views = desk.views()
    query = next((q for n, q in views if n.casefold() == name.strip().casefold()), False)
    if query is False:
        raise UsageError(f"no view {name!r} (views: {', '.join(n for n, _ in views)})")
    return await desk.view_ids(query)


async def run_command(args, config: Config) -> int:
    desk = await _open_desk(args, config)
    try:
        now = desk.local_now()  # every time shown in the desk's zone ([priority] timezone)
        if args.command == "queue":
            ids = await _view_ids(desk, args.view) if args.view else await desk.queue_ids()
            if args.sort == "sla":
                ids = await desk.sla_order(ids)
            if args.limit is not None:
                ids = ids[: args.limit]
            if not ids and not args.json:  # as `outbox` says "Outbox is empty."; --json: []
                say(f"No conversations in {args.view}." if args.view else "No conversations.")
            else:
                print_rows(await desk.queue_rows(ids), args.json, now)
        elif args.command == "search":
            ids = await desk.queue_ids(" ".join(args.query))
            if args.limit is not None:
                ids = ids[: args.limit]
            if not ids and not args.json:  # as queue says "No conversations."; --json: []
                say("No conversations match.")
            else:
                print_rows(await desk.queue_rows(ids), args.json, now)
        elif args.command == "show":
            view = await desk.conversation(args.id)
            if view is None:
                raise UsageError(f"no conversation {args.id}")
            if args.json:
                print_json({"id": view.id, "subject": view.subject, "customer": view.customer,
                            "status": view.status, "tags": list(view.tags), **state_json(view),
                            "reasons": list(view.reasons), "sla": sla_json(view),
                            "messages": [message_json(m) for m in view.messages]})
            else:
                from tui_desk.desk.render import conversation_text  # with the mail parser: 30 ms other commands skip
                sys.stdout.write(conversation_text(view, now))
        elif args.command == "history":
            _history(await desk.history(args.id), args)
        elif args.command == "report":
            from tui_desk.cli.reports import run_report
            return await run_report(desk, args)
        elif args.command == "export":
            from tui_desk.cli.reports import run_export
            return await run_export(desk, args)
        elif args.command == "snippets":
            from tui_desk.cli.snippets import run_snippets
            return await run_snippets(desk, args)
        elif args.command == "threads":
            threads = await desk.threads()
            print_json([{"id": cid, "messages": ids} for cid, ids in sorted(threads.items())], indent=None)
        elif args.command == "import":
            return await _import(desk, args.paths)
        elif args.command in ("tag", "status", "snooze", "assign", "merge", "split"):
            await _triage(desk, args)
        elif args.command == "note":
            from tui_desk.desk.commands import CommandError
            try:
                done = await desk.add_note(args.id, sys.stdin.read() if args.body == "-" else args.body)
            except CommandError as e:
                raise UsageError(str(e)) from None
            if args.json:
                print_json({"done": done}, indent=None, ascii_only=True)
            else:
                say(done)
        elif args.command == "reply":
            return await _reply(desk, config, args)
        elif args.command == "followup":
            from tui_desk.cli.followup import run_followup
            return await run_followup(desk, config, args)
        elif args.command == "outbox":
            return await _outbox(desk, config, args)
        elif args.command == "sync":
            return await _sync(desk, config, args.account, args.once)
        elif args.command == "fetch":
            return await _fetch(desk, config, args)
        elif args.command == "incident":
            from tui_desk.cli.incident import run_incident
            return await run_incident(desk, config, args)
    finally:
        await desk.close()
    return 0


def _history(lines: list | None, args) -> None:
    from tui_desk.desk.history import line_text
    if lines is None:
        raise UsageError(f"no conversation {args.id}")
    if args.json:
        print_json({"conversation": args.id, "events": [
            {"id": h.event_id, "at": h.at.isoformat(), "agent": h.agent, "kind": h.kind, "text": h.text,
             "data": h.data} for h in lines]})
    elif not lines:  # (the json says it with "events": [])
        say(f"No history: nobody has acted on conversation {args.id} yet.")
    else:
        for h in lines:
            say(line_text(h))


async def _import(desk, paths: list[Path]) -> int:
    """The mail of the paths stored; a line on stderr for each file that is not mail (nothing
    stored for it; desk.importer says what is not), and then exit status 1."""
    from tui_desk.desk.importer import import_paths
    from tui_desk.store.queries import counts
    tty = sys.stderr.isatty()

    def progress(n: int) -> None:
        if tty:
            sys.stderr.write(f"\rimporting… {counted(n, 'message')} read")
            sys.stderr.flush()

    summary = await import_paths(desk, paths, progress)
    if tty:
        sys.stderr.write("\r\x1b[K")
    for line in summary.refused:
        say(f"not mail: {line}", file=sys.stderr)
    for line in summary.error_lines[:20]:
        say(f"error: {line}", file=sys.stderr)
    _, convs = await counts(desk.store)
    say(summary.line(convs))
    return 1 if summary.refused else 0


def _ids_and_rest(items: list[str], what: str) -> tuple[list[int], list[str]]:
    ids, rest = [], []
    for item in items:
        if item.isdigit() and not rest:
            ids.append(int(item))
        else:
            rest.append(item)
    if not ids:
        raise UsageError(f"give at least one conversation id before the {what}")
    if not rest:
        raise UsageError(f"give the {what} after the ids")
    return ids, rest


async def _agent_named(desk, name: str, new: bool) -> str:
    """The known agent `name` names (desk.agent_names.resolve, as the app's assign prompt); a name
    that names none is refused (exit 2, one line naming the agents) unless --new says it is new."""
    from tui_desk.desk.agent_names import not_an_agent, resolve
    agents = await desk.known_agents()
    agent = resolve(name, agents)
    if agent is not None or new:
        return agent or name
    known = f"the agents: {', '.join(agents)}" if agents else "no agents are known yet"
    raise UsageError(f"{not_an_agent(name, agents)} ({known}); --new assigns it anyway")


async def _triage(desk, args) -> None:
    """The same actions as the TUI's keys, through the same Desk methods."""
    from tui_desk.desk.commands import CommandError
    from tui_desk.desk.when import WhenError
    cmd = args.command
    if cmd == "tag" and "--json" in args.items:
        args.items = [i for i in args.items if i != "--json"]
        args.json = True
    try:
        if cmd == "tag":
            ids, words = _ids_and_rest(args.items, "+tag/-tag words")
            bad = [w for w in words if w[:1] not in "+-" or len(w) < 2]
            if bad:
                raise UsageError(f"tags are written +tag or -tag, not {bad[0]!r}")
            done = await desk.tag(ids, [w[1:] for w in words if w[0] == "+"], [w[1:] for w in words if w[0] == "-"])
        elif cmd == "status":
            ids, words = _ids_and_rest(args.items, "status")
            done = await desk.set_status(ids, " ".join(words).lower())
        elif cmd == "snooze":
            ids, words = _ids_and_rest(args.items, "time")
            done = await desk.snooze(ids, " ".join(words))
        elif cmd == "merge":
            if len(args.items) < 2:
                raise UsageError("merge KEEP OTHER [OTHER...]: at least two conversations")
            ids = args.items[:1]
            from tui_desk.desk.merge import DifferentCustomers
            try:
                done = await desk.merge(args.items[0], args.items[1:], args.different_customers)
            except DifferentCustomers as e:
                raise UsageError(f"{e}: --different-customers merges them anyway") from None
        elif cmd == "split":
            message = int(args.message) if args.message.isdigit() else args.message.strip("<>")
            done = await desk.split(message)
            ids = []
        else:
            ids, words = _ids_and_rest(args.items, "agent name")
            name = " ".join(words)
            done = await desk.assign(ids, None if name.lower() in ("nobody", "none", "-")
                                     else await _agent_named(desk, name, args.new_agent))
    except (CommandError, WhenError) as e:
        raise UsageError(str(e)) from None
    if args.json:
        from tui_desk.store.queries import conversation_states
        states = await conversation_states(desk.store, sorted(set(ids)))
        print_json({"done": done, "conversations": [
            {"id": cid, "status": s.status, "assignee": s.assignee,
             "snoozed_until": dt.datetime.fromtimestamp(s.snooze_until, dt.timezone.utc).isoformat()
             if s.snooze_until else None,
             "snoozed_until_reply": s.snooze_reply, "tags": list(s.tags)} for cid, s in sorted(states.items())]})
    else:
        say(done)


def outbox_sender(desk, config: Config):
    """The outbox, with the collision check's re-sync done by a one-off sync of the account."""
    from tui_desk.sync.delivery import OutboxSender
    from tui_desk.sync.imap_sync import AccountSync
    from tui_desk.secrets import password_lookup
    passwords = password_lookup(config)

    async def recheck(name: str) -> None:
        account = config.account(name)
        if account.imap is not None:
            await AccountSync(desk.store, account, passwords(name, "imap") or "", is_agent=config.is_agent_address,
                              on_change=desk.refresh).sync_once()
    return OutboxSender(desk.store, config, passwords, on_change=desk.refresh, recheck=recheck,
                        clock_text=desk.clock_text)


async def _reply(desk, config: Config, args) -> int:
    from tui_desk.desk.commands import CommandError
    from tui_desk.desk.replies import queue_reply
    from tui_desk.desk.when import WhenError, parse_send_at
    snippets = None
    if args.snippet is not None:
        from tui_desk.desk.followup import find_snippet
        try:
            snippet = find_snippet(desk, args.snippet)
        except CommandError as e:
            raise UsageError(str(e)) from None
        body, snippets = snippet.body, [snippet.name]
    else:
        body = sys.stdin.read() if str(args.body_file) == "-" else _read_text(args.body_file)
    try:
        send_at = None
        if args.send_at:
            # the app's send-later words, in the desk's zone with its DST rules ([priority] timezone)
            send_at = int(parse_send_at(args.send_at, desk.local_now()).timestamp())
        queued = await queue_reply(desk, args.id, body, reply_all=args.all,
                                   send_at=send_at if send_at is not None else desk.now(),
                                   account=config.account(args.account), attachments=args.attach,
                                   snippets=snippets, clears_draft=False)  # the app's draft is not this reply
    except (CommandError, WhenError) as e:
        raise UsageError(str(e)) from None
    report = await outbox_sender(desk, config).run_due() if send_at is None else None
    state = "queued" if report is None else (
        "sent" if queued.message_id in report.sent else
        "retrying" if queued.message_id in report.retrying else
        "failed" if queued.message_id in report.failed else
        "held" if queued.message_id in report.held else
        "maybe_sent" if queued.message_id in report.maybe_sent else
        "needs_fix" if queued.message_id in report.needs_fix else "queued")
    if args.json:
        print_json({"outbox_id": queued.outbox_id, "message_id": queued.message_id, "to": queued.recipients,
                    "state": state, "send_at": dt.datetime.fromtimestamp(queued.send_at, dt.timezone.utc).isoformat()},
                   indent=None, ascii_only=True)
    else:
        # "#N" is a conversation everywhere else: name the conversation, the outbox id apart
        say(f"reply to #{args.id} ({', '.join(queued.recipients)}): {state}, outbox #{queued.outbox_id}")
    if state in ("sent", "queued"):  # queued: for its --send-at time
        return 0
    await _say_unsent(desk, [queued.outbox_id])
    return 1


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from None


async def _outbox(desk, config: Config, args) -> int:
    from tui_desk.desk.commands import CommandError
    from tui_desk.sanitize import sanitize_line
    from tui_desk.store import outbox
    try:
        if args.cancel is not None:  # the app's cancel: a follow-up's notes are told (desk.followup)
            say(await desk.cancel_send(args.cancel))
            return 0
        said = sys.stderr if args.json else sys.stdout  # --json: stdout holds the JSON alone
        if args.resend is not None:
            say(await desk.send_anyway(args.resend), file=said)
        if args.discard is not None:
            say(await desk.discard_send(args.discard), file=said)
        if args.send_now is not None:
            say(await desk.send_now(args.send_now), file=said)
    except CommandError as e:
        raise UsageError(str(e)) from None
    status = 0
    if args.send or args.resend is not None or args.send_now is not None:
        # what was asked to go: the one named, or (--send) every due one; one not sent is status 1
        named = {n: await outbox.get(desk.store, n) for n in (args.resend, args.send_now) if n is not None}
        report = await outbox_sender(desk, config).run_due()
        unsent = [n for n, item in named.items() if item is not None and item.message_id not in report.sent]
        if args.send:
            unsent += [n for n in await _outbox_ids(desk, _not_sent(report)) if n not in unsent]
        if unsent:
            await _say_unsent(desk, unsent)
            status = 1
    items = await outbox.items(desk.store)
    if args.json:
        print_json([{"id": i.id, "conversation": i.conv_id, "message_id": i.message_id, "to": i.recipients,
                     "state": i.state, "send_at": dt.datetime.fromtimestamp(i.send_at, dt.timezone.utc).isoformat(),
                     "attempts": i.attempts, "error": i.last_error,
                     "next_try": dt.datetime.fromtimestamp(i.next_try, dt.timezone.utc).isoformat() if i.next_try
                     else None} for i in items], ascii_only=True)
    elif not items:
        print("Outbox is empty.")
    else:
        have = {a.name for a in config.accounts}
        for i in items:
            when = format_day_time(dt.datetime.fromtimestamp(i.send_at, dt.timezone.utc), desk.local_now())
            err = f"  ({sanitize_line(i.last_error)})" if i.last_error else ""  # a server's words
            rcpts = sanitize_line(", ".join(i.recipients))
            state = i.state
            if i.state == "queued" and i.attempts:  # the server could not take it yet: when it tries again
                state = "retrying"
                next_try = (format_day_time(dt.datetime.fromtimestamp(i.next_try, dt.timezone.utc), desk.local_now())
                            if i.next_try else "now")
                when = (f"{i.attempts} {'try' if i.attempts == 1 else 'tries'} failed, next try {next_try}"
                        f" (`tui-desk outbox --send-now {i.id}` tries now)")
            say(f"{i.id:>5}  {state:<10} #{i.conv_id}  {rcpts}  {when}{err}")
            if i.state == "held" and i.account not in have:  # held by the outbox: no such account
                say(f"       add [accounts.{sanitize_line(i.account)}] back to {config.path or default_config_path()}, "
                    f"then `tui-desk outbox --resend {i.id}`; or drop it: `tui-desk outbox --discard {i.id}`")
    return status


# What an outbox message that did not go is now, and what comes next, by its state after the attempt
_UNSENT = {"queued": ("still queued", "tried again later (the app, `tui-desk sync` or `tui-desk outbox --send`)"),
           "held": ("held", "`tui-desk outbox --resend N` sends it anyway, --discard N drops it"),
           "failed": ("failed", "its text is back in the draft"),
           "maybe_sent": ("maybe sent", "`tui-desk outbox --resend N` or --discard N")}  # (its error says when)


def _not_sent(report) -> list[str]:
    """The Message-IDs an outbox pass was to send and did not."""
    return [*report.retrying, *report.failed, *report.held, *report.maybe_sent, *report.needs_fix]


async def _outbox_ids(desk, message_ids: list[str]) -> list[int]:
    """The outbox numbers of these messages (those still in the outbox), in their order."""
    from tui_desk.store import outbox
    by_message = {i.message_id: i.id for i in await outbox.items(desk.store)}
    return [by_message[m] for m in message_ids if m in by_message]


async def _say_unsent(desk, outbox_ids: list[int]) -> None:
    """One line on stderr for what the outbox was asked to send and did not: the first
    message's state, the server's (or password tool's) words, what comes next; how many more."""
    from tui_desk.sanitize import sanitize_line
    from tui_desk.store import outbox
    item = await outbox.get(desk.store, outbox_ids[0])
    if item is None:  # gone meanwhile (another process took and finished it)
        what = "not sent by this command"
    else:
        from tui_desk.sync.delivery import NEEDS_A_FIX
        state, then = _UNSENT.get(item.state, (item.state, ""))
        error = item.last_error
        if item.state == "queued" and error and error.startswith(NEEDS_A_FIX):  # its account's SMTP secret
            state, then, error = "needs a fix", "fix it, then `tui-desk outbox --send`", error[len(NEEDS_A_FIX):]
        err = f" ({sanitize_line(error)})" if error else ""
        then = f": {then.replace(' N', f' {item.id}')}" if then else ""
        what = f"to {sanitize_line(', '.join(item.recipients))} not sent: {state}{err}{then}"
    more = f"; {len(outbox_ids) - 1} more not sent (tui-desk outbox)" if len(outbox_ids) > 1 else ""
    say(f"tui-desk: outbox #{outbox_ids[0]} {what}{more}", file=sys.stderr)


async def _sync(desk, config: Config, account_name: str | None, once: bool) -> int:
    from tui_desk.desk.background import Background
    if account_name:
        config = dataclasses.replace(config, accounts=(config.account(account_name),))
    elif not config.accounts:
        config.account(None)  # raises the "no accounts configured" error
    for account in config.accounts:
        if account.imap is None:
            raise ConfigError(f"{config.path}: account '{account.name}' has no [accounts.{account.name}.imap]")
    desk.config = config
    tty = sys.stderr.isatty()

    def progress(phase: str, done: int, total: int) -> None:
        if tty:
            sys.stderr.write(f"\r\x1b[K{phase}: {done}/{total}")
            sys.stderr.flush()

    def outbox_news(report) -> None:
        for mid in report.failed + report.maybe_sent:
            say(f"outbox: {mid} needs attention (tui-desk outbox)", file=sys.stderr)

    background = Background(desk, progress=progress, on_outbox=outbox_news)
    await background.load_rules()
    if once:
        from tui_desk.mail.imap import ImapError
        from tui_desk.secrets import SecretError
        from tui_desk.sync.live import FolderMissing
        # a rules file with errors (said on stderr by Background): the mail is stored all the
        # same, nothing is routed or acknowledged, and the exit status says so (cron notices)
        status = 1 if background.rules_problem else 0
        for s in background.syncs:
            try:
                stats = await s.sync_once()
            except FolderMissing:  # no retry finds it: said below as the live sync says it
                status = 1
                continue
            except (ImapError, SecretError, ConfigError) as e:  # not done: 1, in one line (as the
                status = 1  # live sync: what no retry fixes is said below, with the key and the file)
                if not s.needs_fix:
                    say(f"tui-desk: sync: {s.account.name}: {e}", file=sys.stderr)
                continue
            finally:
                if tty:
                    sys.stderr.write("\r\x1b[K")
            for line in stats.error_lines[:20]:
                say(f"error: {line}", file=sys.stderr)
            say(f"{s.account.name}: {stats.line()}")
            status = status or (1 if stats.errors else 0)
        if background.rules is not None:
            # what the rules queued (acknowledgements, forwards) goes out before the command ends:
            # the outbox's own delivery, as `outbox --send` does it
            report = await outbox_sender(desk, config).run_due()
            if report.sent:
                say(f"outbox: {len(report.sent)} sent")
            unsent = await _outbox_ids(desk, _not_sent(report))
            if unsent:  # asked to go before the command ends, and did not: said, status 1
                await _say_unsent(desk, unsent)
                status = 1
        for line in background.fixes_needed():
            say(f"tui-desk: sync: {line}", file=sys.stderr)
        return status
    print(f"following {', '.join(s.account.name for s in background.syncs)}; Ctrl-C to stop", file=sys.stderr)
    stop = asyncio.Event()
    # a problem no retry fixes (a missing password_command, a refused password) stops it: said once
    background.on_news = lambda: stop.set() if background.fixes_needed() else None
    await background.run(stop)
    fixes = background.fixes_needed()
    for line in fixes:
        say(f"tui-desk: sync: {line}", file=sys.stderr)
    return 1 if fixes else 0


async def _fetch(desk, config: Config, args) -> int:
    """Over-limit mail of one conversation, downloaded whole: a line per message; failures
    also give one line on stderr and exit status 1."""
    from tui_desk.sync.fetch_whole import fetch_over_limit
    from tui_desk.sanitize import sanitize_line
    from tui_desk.secrets import password_lookup
    outcomes = await fetch_over_limit(desk.store, config, args.id, password_lookup(config), on_change=desk.refresh)
    if outcomes is None:
        raise UsageError(f"no conversation {args.id}")
    failed = [o for o in outcomes if not o.fetched]
    if args.json:
        print_json({"conversation": args.id, "messages": [
            {"message_id": o.message_id, "conversation": o.conv_id, "fetched": o.fetched, "size": o.size,
             "attachments": o.attachments, "parse_error": or_null(o.parse_error), "error": or_null(o.error)}
            for o in outcomes]})
    elif not outcomes:
        print(f"conversation {args.id}: no header-only mail to fetch")
    for o in outcomes if not args.json else ():
        mid = sanitize_line(o.message_id)
        if o.fetched:
            note = f" (stored with a parse error: {sanitize_line(o.parse_error)})" if o.parse_error else ""
            print(f"{mid}: fetched {o.size / 1048576:.1f} MB, {counted(o.attachments, 'attachment')}{note}")
        else:
            print(f"{mid}: not fetched: {sanitize_line(o.error or '')}")
    if failed:
        print(f"tui-desk: fetch: {len(failed)} of {counted(len(outcomes), 'message')} not fetched; "
              f"first: {sanitize_line(failed[0].message_id)}: {sanitize_line(failed[0].error or '')}",
              file=sys.stderr)
        return 1
    return 0


async def prepare_demo(db: Path, now: dt.datetime | None = None) -> None:
    from tui_desk.demo import (DEMO_CONFIG, demo_end, generate_demo_messages, give_the_past, set_the_scene,
                               write_demo_mbox)
    from tui_desk.desk.importer import import_paths
    from tui_desk.desk.service import Desk
    end = demo_end(now)
    with tempfile.TemporaryDirectory(prefix="tui-desk-demo-") as tmp:
        msgs = generate_demo_messages(end)
        mbox = write_demo_mbox(Path(tmp) / "demo.mbox", end, msgs)
        now = now or dt.datetime.now(dt.timezone.utc)
        desk = await Desk.open(db, DEMO_CONFIG, clock=now.timestamp)  # the demo's now, for a fixed `now` too
        try:
            await import_paths(desk, [mbox])
            await give_the_past(desk, end, msgs)
            await set_the_scene(desk, end)
        finally:
            await desk.close()


DEMO_KEPT_STORE = "desk.sqlite3"
DEMO_KEPT_CONFIG = "config.toml"


async def keep_demo(folder: Path, smtp_port: int, now: dt.datetime | None = None) -> tuple[Path, Path]:
    """`tui-desk demo --keep DIR`: the demo store in DIR (built on the first start, kept after, with
    what was done in it) and its config beside it, for the demo's SMTP server on `smtp_port`.
    A folder with another store or config in it is not touched: it may be a real desk."""
    from tui_desk.demo import DEMO_CONFIG_HEADER, demo_config_toml
    db, config = folder / DEMO_KEPT_STORE, folder / DEMO_KEPT_CONFIG
    try:
        folder.mkdir(parents=True, exist_ok=True)
        ours = config.is_file() and config.read_text(encoding="utf-8").startswith(DEMO_CONFIG_HEADER)
        if (config.exists() or db.exists()) and not ours:
            raise UsageError(f"{folder}: has a store or config.toml not made by `tui-desk demo --keep`; "
                             "give the demo a folder of its own")
        if not db.exists():
            print(f"building the demo mailbox in {folder}…", file=sys.stderr)
            await prepare_demo(db, now)
        config.write_text(demo_config_toml(smtp_port), encoding="utf-8")
    except OSError as e:
        raise UsageError(f"{folder}: cannot keep the demo there: {e.strerror or e}") from None
    return db, config


def kept_demo_hint(db: Path, config: Path) -> str:
    """What `tui-desk demo --keep` prints on quit: how the CLI reaches the kept demo (README's
    "The demo from the command line")."""
    return (f"The demo's store and config are kept in {db.parent}; for the CLI on them:\n"
            f"  export TUI_DESK_DB={shlex.quote(str(db))} TUI_DESK_CONFIG={shlex.quote(str(config))}\n"
            "  tui-desk queue --view Breaching\n"
            f"`tui-desk demo --keep {shlex.quote(str(db.parent))}` opens it again.")

