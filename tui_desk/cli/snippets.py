"""`tui-desk snippets stats | suggest`: what happened after each snippet was used, and what the
history suggests (desk.snippet_stats has the definitions; JSON keys in the README)."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from tui_desk.desk.wording import counted
from tui_desk.cli.output import UsageError, add_json, command, print_json, say
from tui_desk.desk.timefmt import format_duration


def add_parser(sub: Any) -> None:
    p = command(sub, "snippets", "snippets that learn: their figures (stats) and suggestions (suggest)")
    snippets = p.add_subparsers(dest="snippets_command", metavar="stats|suggest", required=True)
    s = command(snippets, "stats", "per snippet: uses, solved share, reopen rate, time to close, CSAT")
    s.add_argument("--since", metavar="DATE", help="uses from: YYYY-MM-DD (desk's zone), 7d, 4w, today (default: all)")
    s.add_argument("--until", metavar="DATE", help="uses up to: YYYY-MM-DD (that day included), 1d, now")
    add_json(s)
    g = command(snippets, "suggest", "rule drafts for snippets that solve, snippet drafts for questions, FAQ links")
    g.add_argument("--since", metavar="DATE", help="start: YYYY-MM-DD (desk's zone), 7d, 4w, today (default 30d)")
    g.add_argument("--until", metavar="DATE", help="end: YYYY-MM-DD (that day included), 1d, now (default now)")
    add_json(g)


def _bound(desk: Any, text: str | None, end: bool) -> int | None:
    from tui_desk.desk.when import WhenError, parse_period_bound
    if not text:
        return None
    try:
        return int(parse_period_bound(text, desk.local_now(), end=end).timestamp())
    except WhenError as e:
        raise UsageError(str(e)) from None


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def stats_lines(found: list[Any]) -> list[str]:
    """Most used first (then by name); a snippet never used is listed with dashes."""
    lines = [f"{'snippet':<24}{'uses':>6}{'conv':>6}{'solved':>8}{'reopened':>10}{'closes in':>13}  CSAT"]
    for s in sorted(found, key=lambda s: (-s.uses, s.name)):
        name = s.name if len(s.name) <= 23 else s.name[:22] + "…"
        close = "-" if s.median_close_seconds is None else format_duration(s.median_close_seconds, report=True)
        csat = "-" if s.csat_mean is None else f"{s.csat_mean:.1f} ({s.csat_count}, {_share(s.csat_great_share)} great)"
        lines.append(f"{name:<24}{s.uses:>6}{s.conversations:>6}{_share(s.solved_share):>8}"
                     f"{_share(s.reopen_rate):>10}{close:>13}  {csat}")
    return lines


def suggestion_lines(found: Any) -> list[str]:
    lines: list[str] = []
    lines.append("Automate (rule drafts for rules.toml; check them with `tui-desk rules check`):")
    if not found.automate:
        lines.append("  none: no snippet solves enough of enough conversations ([snippets] automate_share, min_uses)")
    for r in found.automate:
        lines += ["", *r.toml.rstrip("\n").splitlines()]
        lines += [f"# problem: {p}" for p in r.problems]
    lines += ["", "New snippets (frequent questions without a good snippet; drafts from the best real answer):"]
    if not found.new_snippets:
        lines.append("  none")
    for d in found.new_snippets:
        lines += ["", f"# snippets/{d.name}.md  ({counted(d.size, 'conversation')} asked it; from #{d.conv_id})",
                  *d.text.rstrip("\n").splitlines()]
    lines += ["", "Self-service (FAQ links of snippets for frequent questions):"]
    if not found.self_service:
        lines.append("  none")
    for k in found.self_service:
        lines.append(f"  {k.question} ({k.size}): link {k.kb} (::{k.snippet})")
    return lines


async def run_snippets(desk: Any, args: argparse.Namespace) -> int:
    from tui_desk.cli.reports import period
    if args.snippets_command == "stats":
        since, until = _bound(desk, args.since, False), _bound(desk, args.until, True)
        if since is not None and until is not None and until <= since:
            raise UsageError("the period ends before it starts")
        found = await desk.snippet_stats(since, until)
        if args.json:
            zone = desk.local_now().tzinfo
            print_json({"since": _iso(since, zone), "until": _iso(until, zone), "snippets": [s.to_json() for s in found]})
        else:
            for line in stats_lines(found):
                say(line)
        return 0
    from tui_desk.desk.snippet_stats import suggest
    since, until = period(desk, args.since, args.until)
    suggestions = await suggest(desk, since, until)
    if args.json:
        zone = desk.local_now().tzinfo
        print_json({"since": _iso(since, zone), "until": _iso(until, zone), **suggestions.to_json()})
    else:
        for line in suggestion_lines(suggestions):
            say(line)
    return 0


def _iso(t: int | None, zone: dt.tzinfo | None) -> str | None:
    return None if t is None else dt.datetime.fromtimestamp(t, zone).isoformat()
