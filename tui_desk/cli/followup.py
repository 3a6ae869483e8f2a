"""`tui-desk followup --query Q --snippet NAME [--dry-run] [--json]`: one reply from the snippet
to each customer of the conversations the search finds, through the outbox (desk.followup)."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys

from tui_desk.cli.output import UsageError, add_json, command, or_null, print_json, say
from tui_desk.desk.wording import counted
from tui_desk.config import Config
from tui_desk.desk.timefmt import format_clock


def rate(text: str) -> int:
    """--rate 30/min, or 30: follow-up mails a minute."""
    found = re.fullmatch(r"\s*(\d+)\s*(?:/\s*min(?:ute)?)?\s*", text)
    if not found or int(found[1]) < 1:
        raise argparse.ArgumentTypeError(f"wants mails a minute like 30/min, not {text!r}")
    return int(found[1])


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(sub, "followup", "reply with a snippet to every customer of the conversations a search "
                                 "finds, one mail each, through the outbox, never twice to one")
    p.add_argument("--query", required=True, help="the search, e.g. 'tag:wants-dark-mode'")
    p.add_argument("--snippet", required=True, metavar="NAME", help="the snippet each conversation gets, filled for it")
    p.add_argument("--dry-run", action="store_true", help="list who gets what; send nothing, change nothing")
    p.add_argument("--tag", action="append", default=[], metavar="+TAG|-TAG",
                   help="tag the conversations that get it or its note (--tag +shipped, --tag=-wants-dark-mode)")
    p.add_argument("--status", choices=("open", "pending", "closed"), help="then set their status")
    p.add_argument("--rate", type=rate, metavar="N/min", help="mails a minute (default: [followup] per_minute)")
    p.add_argument("--id", dest="followup_id", metavar="ID",
                   help="name a new round (default: the snippet's name; the same id never mails one "
                        "customer twice, so a second follow-up with the same snippet needs a new id)")
    add_json(p)


def _tags(words: list[str]) -> tuple[list[str], list[str]]:
    bad = [w for w in words if w[:1] not in "+-" or len(w) < 2]
    if bad:
        raise UsageError(f"tags are written +tag or -tag, not {bad[0]!r}")
    return [w[1:] for w in words if w[0] == "+"], [w[1:] for w in words if w[0] == "-"]


def _iso(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat()


async def run_followup(desk, config: Config, args) -> int:
    from tui_desk.desk import followup
    from tui_desk.desk.commands import CommandError
    add, remove = _tags(args.tag)
    try:
        ids = await desk.queue_ids(args.query)
        plan = await followup.plan(desk, ids, args.snippet, args.followup_id)
        outcome = None if args.dry_run else await followup.run(
            desk, plan, add_tags=add, remove_tags=remove, status=args.status, per_minute=args.rate)
    except CommandError as e:
        raise UsageError(str(e)) from None
    queued = {item.conv_id: (outbox_id, send_at) for item, outbox_id, send_at in outcome.queued} if outcome else {}
    skipped = {i.conv_id: i.problem for i in outcome.skipped} if outcome else {}
    noted = {i.conv_id for i in outcome.noted} if outcome else set()
    if args.json:
        items = []
        for i in plan.items:
            state = ("queued" if i.conv_id in queued else "noted" if i.conv_id in noted else
                     "skipped" if i.conv_id in skipped else i.state if outcome is None else "already")
            outbox_id, send_at = queued.get(i.conv_id, (None, None))
            items.append({"conversation": i.conv_id, "state": state, "message_id": i.message_id, "to": list(i.to),
                          "subject": i.subject, "first_line": i.first_line,
                          "problem": skipped.get(i.conv_id, i.problem), "outbox_id": outbox_id,
                          "send_at": None if send_at is None else _iso(send_at), "customer": or_null(i.customer),
                          "told_in": i.told_in})
        # the mails: one per customer, in the conversation that carries it, and those it answers
        carriers = plan.new if outcome is None else [item for item, _, _ in outcome.queued]
        covering = plan.covered if outcome is None else outcome.noted
        mails = [{"customer": or_null(c.customer), "conversation": c.conv_id,
                  "covers": [i.conv_id for i in covering if i.told_in == c.conv_id]} for c in carriers]
        print_json({"followup": plan.followup_id, "snippet": plan.snippet.name, "dry_run": args.dry_run,
                    "customers": len(mails), "conversations": len(mails) + sum(len(m["covers"]) for m in mails),
                    "mails": mails, "items": items, "done": outcome.line() if outcome else None})
    elif outcome is None:
        for i in plan.items:
            say(i.line())
        n, skips = len(plan.new), sum(1 for i in plan.items if i.state == "skipped")
        say(f"dry run: {plan.summary()}: {counted(n, 'reply', 'replies')} would be queued, one per customer"
            f"{f', {skips} skipped' if skips else ''}; "
            "nothing sent", file=sys.stderr)
    else:
        for i in outcome.skipped:
            say(i.line(), file=sys.stderr)
        say(outcome.line())
        if outcome.queued:
            first, last = outcome.queued[0][2], outcome.queued[-1][2]
            zone = desk.local_now().tzinfo  # the desk's zone, as every time shown
            say(f"due {format_clock(first, zone)} to {format_clock(last, zone)}; "
                "the app or `tui-desk sync` sends them (`tui-desk outbox --send` sends what is due)")
    already = [i for i in plan.items if i.state == "already"] if outcome is None else outcome.already
    if already and not args.json:
        n = len(already)
        say(f"{counted(n, 'conversation')} had follow-up '{plan.followup_id}' already: "
            "a second one to them needs a new --id ROUND", file=sys.stderr)
    # the dry run says what the real run would: a conversation it has to skip is status 1 in both
    skipping = outcome.skipped if outcome is not None else [i for i in plan.items if i.state == "skipped"]
    if skipping and args.json:  # (the text says each skip in its line)
        n = len(skipping)
        say(f"tui-desk: followup: {counted(n, 'conversation')} skipped (items[].problem says why)",
            file=sys.stderr)
    return 1 if skipping else 0
