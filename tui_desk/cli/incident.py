"""`tui-desk incident start|list|resolve`: incident mode (desk.incident) from the command line.

start and resolve are events shared with the team through the History folder; with an account,
the command syncs once at the end (as `tui-desk sync --once`), so the team hears of it at once
and, for resolve, the "fixed" mails are claimed and queued (the outbox sends them after the
undo window: the app, `tui-desk sync` or `tui-desk outbox --send`)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tui_desk.cli.output import UsageError, add_json, command, or_null, print_json, say
from tui_desk.desk.wording import counted
from tui_desk.config import Config
from tui_desk.desk.timefmt import format_stamp


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(sub, "incident", "incident mode: one acknowledgement for a known problem, one mail when fixed")
    inc = p.add_subparsers(dest="incident_command", metavar="start|list|resolve", required=True)
    s = command(inc, "start", 'start one: new matching mail is tagged and told "we know, we\'re on it"')
    s.add_argument("title", help='what broke, as customers read it: "Payments failing"')
    s.add_argument("--match", required=True, help="which new mail belongs to it (the desk's search syntax)")
    s.add_argument("--ack", metavar="SNIPPET", help="the acknowledgement (default: incident-ack)")
    s.add_argument("--fixed", metavar="SNIPPET", help="the mail when resolved (default: incident-fixed)")
    add_json(s)
    ls = command(inc, "list", "incidents, active first")
    add_json(ls)
    r = command(inc, "resolve", "end it for the team and mail every affected conversation (undo window)")
    r.add_argument("name", nargs="?", help="its name or title (default: the one active)")
    r.add_argument("--close", action="store_true", help="close the conversations too")
    r.add_argument("--dry-run", action="store_true", help="list who would get what; nothing is done")
    add_json(r)


def incident_json(i: Any, members: int | None = None) -> dict[str, Any]:
    out = {"name": i.name, "title": i.title, "match": or_null(i.match), "ack": i.ack, "fixed": i.fixed,
           "tag": i.tag, "active": i.active, "started_at": i.started_at, "started_by": i.started_by,
           "resolved_at": i.resolved_at, "resolved_by": i.resolved_by}
    if members is not None:
        out["conversations"] = members
    return out


async def _sync_once(desk: Any, config: Config) -> list[str]:
    """One pass of every account (the rules and the incidents' plan B run after it)."""
    from tui_desk.desk.background import Background
    lines = []
    for s in Background(desk).syncs:
        stats = await s.sync_once()
        lines += [f"error: {line}" for line in stats.error_lines[:20]]
    return lines


async def run_incident(desk: Any, config: Config, args: argparse.Namespace) -> int:
    from tui_desk.desk.incident import fixed as incident_fixed, record as incident
    from tui_desk.desk.commands import CommandError
    from tui_desk.sanitize import sanitize_line
    zone = desk.local_now().tzinfo
    has_server = any(a.imap is not None for a in config.accounts)
    try:
        if args.incident_command == "list":
            known = sorted(await incident.incidents(desk), key=lambda i: (not i.active, -i.started_at))
            counts = {i.round_id: len(await incident.members(desk, i)) for i in known if i.active}
            if args.json:
                print_json({"incidents": [incident_json(i, counts.get(i.round_id)) for i in known]})
            elif not known:
                say("no incidents")
            for i in known if not args.json else ():
                since = format_stamp(i.started_at, zone)
                if i.active:
                    say(sanitize_line(f"{i.name}  active since {since} by {i.started_by}: {i.title} "
                                      f"(match {i.match!r}; {counted(counts[i.round_id], 'conversation')})"))
                else:
                    until = format_stamp(i.resolved_at or 0, zone)
                    say(sanitize_line(f"{i.name}  resolved {until} by {i.resolved_by}: {i.title}"))
            return 0
        if args.incident_command == "start":
            found, started = await incident.start(desk, args.title, args.match, args.ack, args.fixed)
            errors = await _sync_once(desk, config) if has_server else []
            if args.json:
                print_json({"started": started, "incident": incident_json(found)})
            else:
                say(sanitize_line(f"incident '{found.title}' ({found.name}) "
                                  f"{'started' if started else 'is active already'}: new mail matching "
                                  f"{found.match!r} is tagged {incident.TAG} +{found.tag} and gets '{found.ack}'"))
            for line in errors:
                say(line, file=sys.stderr)
            return 1 if errors else 0
        # resolve
        found = incident.pick(await incident.incidents(desk), args.name)
        fixes = await incident_fixed.plan_b(desk, found)
        if args.dry_run:
            if args.json:
                found_mails = incident_fixed.mails(fixes)
                print_json({"incident": incident_json(found), "close": args.close, "customers": len(found_mails),
                       "conversations": sum(1 + len(m.covers) for m in found_mails), "mails": [
                           {"conversation": f.conv_id, "subject": f.subject, "to": list(f.to), "snippet": found.fixed,
                            "held": f.held, "customer": or_null(f.customer), "told_in": f.told_in} for f in fixes]})
            else:
                say(sanitize_line(f"resolving incident '{found.title}' would send '{found.fixed}' to "
                                  f"{incident_fixed.summary(fixes)}, one mail per customer"
                                  + (", and close them" if args.close else "") + ":"))
                for _, line in incident_fixed.fix_lines(fixes):
                    say("  " + line)
                if not fixes:
                    say("  nobody: no conversation is tagged " + found.tag)
            return 0
        resolved = await incident.resolve(desk, found.name, close=args.close)
        if has_server:
            errors = await _sync_once(desk, config)
            said: list[str] = []
        else:
            errors, said = [], await incident_fixed.send_fixes(desk, None)
        if args.json:
            print_json({"incident": incident_json(resolved), "said": said, "errors": errors})
        else:
            say(sanitize_line(f"incident '{resolved.title}' resolved: '{resolved.fixed}' goes to "
                              f"{incident_fixed.summary(fixes)} through the outbox (tui-desk outbox --cancel N "
                              "within the undo window)"))
            for line in said:
                say(sanitize_line(line))
            for line in errors:
                say(line, file=sys.stderr)
        return 1 if errors else 0
    except CommandError as e:
        raise UsageError(str(e)) from None
