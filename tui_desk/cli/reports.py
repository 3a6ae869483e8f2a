"""`tui-desk report [heatmap|questions]` and `tui-desk export`: the desk's reports for people
(80 columns, durations by desk.timefmt, every line through the sanitizer), scripts (--json,
keys in the README) and spreadsheets (--csv: UTF-8, a header row, RFC 4180 quoting, CRLF)."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from typing import Any, Iterable

from tui_desk.desk.wording import counted
from tui_desk.cli.output import UsageError, add_json, command, print_json, say
from tui_desk.desk.timefmt import WEEKDAYS, format_duration, format_stamp

DEFAULT_DAYS = 30
RAMP = " .:-=+*#%@"  # the heatmap's cells, least to most messages per hour


def add_parsers(sub: Any) -> None:
    """The report and export commands, on the parser's subparsers."""
    p = command(sub, "report", "figures of the period: response times, resolution, FCR; heatmap; questions")
    p.add_argument("view", nargs="?", choices=("heatmap", "questions"),
                   help="heatmap: customer messages by weekday and hour; questions: frequent questions")
    p.add_argument("--since", metavar="DATE", help="start: YYYY-MM-DD (desk's zone), 7d, 4w, today (default 30d)")
    p.add_argument("--until", metavar="DATE", help="end: YYYY-MM-DD (that day included), 1d, now (default now)")
    p.add_argument("--by", action="append", default=[], metavar="agent|tag|snippet|domain|day|week",
                   help="a breakdown (repeat or comma-separate for several)")
    p.add_argument("--business-hours", action="store_true", help="durations in business time too")
    _formats(p)
    p = command(sub, "export", "one row per conversation with its metrics (CSV for spreadsheets)")
    p.add_argument("--query", metavar="Q", help="only the conversations this search finds (default: all)")
    _formats(p)


def _formats(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    add_json(g)
    g.add_argument("--csv", action="store_true", help="print CSV for spreadsheets (UTF-8, a header row, CRLF)")


def period(desk: Any, since_text: str | None, until_text: str | None) -> tuple[int, int]:
    from tui_desk.desk.when import WhenError, parse_period_bound
    now = desk.local_now()
    try:
        since = parse_period_bound(since_text, now) if since_text else now - dt.timedelta(days=DEFAULT_DAYS)
        until = parse_period_bound(until_text, now, end=True) if until_text else now
    except WhenError as e:
        raise UsageError(str(e)) from None
    if until <= since:
        raise UsageError(f"the period ends ({format_stamp(until)}) before it starts ({format_stamp(since)})")
    return int(since.timestamp()), int(until.timestamp())


def breakdowns(values: list[str]) -> tuple[str, ...]:
    from tui_desk.desk.metrics import BREAKDOWNS
    out: list[str] = []
    for v in values:
        for b in v.split(","):
            b = b.strip().lower()
            if b not in BREAKDOWNS:
                raise UsageError(f"--by is one of {', '.join(BREAKDOWNS)}, not {b!r}")
            if b not in out:
                out.append(b)
    return tuple(out)


def csv_cell(c: Any) -> Any:
    """One spelling in every CSV: unset is an empty cell, booleans `true`/`false` (as in JSON)."""
    from tui_desk.sanitize import sanitize_line
    if isinstance(c, str):
        return sanitize_line(c)
    if isinstance(c, bool):
        return "true" if c else "false"
    return "" if c is None else c


def write_csv(rows: Iterable[list[Any]]) -> None:
    """RFC 4180 (csv module, QUOTE_MINIMAL, CRLF), UTF-8; text cells through the sanitizer
    (names and tags come from mail and teammates, and a CSV gets printed to terminals too)."""
    out = csv.writer(sys.stdout, lineterminator="\r\n")
    for row in rows:
        out.writerow([csv_cell(c) for c in row])


def export_json(header: list[str], rows: list[list[Any]]) -> list[dict[str, Any]]:
    """desk.export's table as typed JSON: its empty cells are null, `tags` (joined by ", ",
    which no tag holds: a tag has no space) a list."""
    tags_at = header.index("tags")
    return [{**{key: None if value == "" else value for key, value in zip(header, row)},
             "tags": row[tags_at].split(", ") if row[tags_at] else []} for row in rows]


async def run_report(desk: Any, args: argparse.Namespace) -> int:
    since, until = period(desk, args.since, args.until)
    zone = desk.local_now().tzinfo
    if args.view == "heatmap":
        heat, staffing = await desk.load(since, until)
        if args.json:
            print_json({"since": _iso(since, zone), "until": _iso(until, zone), "zone": heat.zone,
                        "heatmap": heat.to_json(), "staffing": staffing.to_json()})
        elif args.csv:
            write_csv(heat.csv_rows())
        else:
            for line in heatmap_lines(heat, staffing, since, until, zone):
                say(line)
        return 0
    if args.view == "questions":
        if args.csv:
            raise UsageError("report questions: --json or text (groups do not fit a table)")
        groups = await desk.questions(since, until)
        if args.json:
            print_json({"since": _iso(since, zone), "until": _iso(until, zone),
                        "questions": [g.to_json() for g in groups]})
        else:
            for line in question_lines(groups, since, until, zone):
                say(line)
        return 0
    by = breakdowns(args.by)
    if args.business_hours and desk.config.priority.business_hours is None:
        raise UsageError("--business-hours: no business hours configured ([priority] business_hours)")
    report = await desk.report(since, until, by, args.business_hours)
    if args.json:
        print_json(report.to_json())
    elif args.csv:
        write_csv(report_csv(report, by))
    else:
        for line in report_lines(report, by, zone):
            say(line)
    return 0


async def run_export(desk: Any, args: argparse.Namespace) -> int:
    from tui_desk.store.search import SearchError
    try:
        header, rows = await desk.export(args.query)
    except SearchError as e:
        raise UsageError(str(e)) from None
    if args.json:
        print_json(export_json(header, rows))
    elif args.csv:
        write_csv([header, *rows])
    else:
        for line in export_lines(header, rows):
            say(line)
    return 0


def _iso(t: int, zone: dt.tzinfo | None) -> str:
    return dt.datetime.fromtimestamp(t, zone).isoformat()


def _dur(v: float | None) -> str:
    return "-" if v is None else format_duration(v, report=True)


def report_csv(report: Any, by: tuple[str, ...]) -> list[list[Any]]:
    """One table: the headline (by empty, key "all"), then each breakdown's groups; the survey
    answers' columns (desk.metrics.csat CSV_HEADER) on every row, each group's by its key. A key
    with answers but none of the other figures (an agent named by a survey who replied to
    nothing in the period) gets a row of its own with only those."""
    from tui_desk.desk.metrics.csat import CSV_HEADER, csv_cells
    head = report.csv_rows()
    key_at = head[0].index("key")
    out: list[list[Any]] = [["by", *head[0], *CSV_HEADER], ["", *head[1], *csv_cells(report.csat.headline)]]
    for b in by:
        answers = {g.key: g for g in report.csat.breakdowns.get(b, ())}
        rows = {row[key_at]: row for row in report.csv_rows(b)[1:]}
        for key in answers.keys() - rows.keys():
            rows[key] = [key if i == key_at else None for i in range(len(head[0]))]
        for key in sorted(rows, key=lambda k: (k is None, str(k or ""))):
            out.append([b, *rows[key], *csv_cells(answers.get(key))])
    return out


def _stats_line(label: str, s: Any, duration: bool = True) -> str:
    if not s.count:
        return f"{label:<24}{0:>6}"
    cells = [_dur(s.median), _dur(s.p90), _dur(s.mean)] if duration else \
        [f"{s.median:g}", f"{s.p90:g}", f"{s.mean:.2f}"]
    return f"{label:<24}{s.count:>6}" + "".join(f"{c:>15}" for c in cells)


def _period_line(what: str, since: int, until: int, zone: dt.tzinfo | None) -> str:
    return f"{what} {format_stamp(since, zone)} .. {format_stamp(until, zone)} ({getattr(zone, 'key', zone)})"


def report_lines(report: Any, by: tuple[str, ...], zone: dt.tzinfo | None) -> list[str]:
    h = report.headline
    time_kind = "calendar and business time" if report.business_hours else "calendar time"
    lines = [_period_line("Report", int(report.since), int(report.until), zone) + f", {time_kind}", ""]
    lines.append(f"Conversations {h.conversations} (mail only {h.mail_only_conversations}, "
                 f"unanswered {h.unanswered})")
    lines.append(f"Customer messages {h.customer_messages}, agent replies {h.agent_replies}")
    rate = "-" if h.fcr_rate is None else f"{h.fcr_rate * 100:.0f}%"
    lines.append(f"Closed {h.closed} ({h.closed_without_reply} without a reply), "
                 f"FCR {rate} ({h.fcr_resolved} of {h.fcr_eligible})")
    lines.append(f"Reopens {h.reopens} ({counted(h.reopened_conversations, 'conversation')})")
    lines += ["", f"{'':<24}{'count':>6}{'median':>15}{'p90':>15}{'mean':>15}"]
    for label, d in (("First response", h.first_response), ("Next response", h.next_response),
                     ("Resolution", h.resolution), ("Resolution (net)", h.resolution_net)):
        lines.append(_stats_line(label, d.calendar))
        if d.business is not None:
            lines.append(_stats_line("  in business time", d.business))
    lines.append(_stats_line("Replies to resolve", h.replies_to_resolve, duration=False))
    for b in by:
        lines += ["", f"By {b}:",
                  f"{b:<20}{'conv':>6}{'replies':>8}{'FRT median':>14}{'resolved in':>14}{'closed':>7}{'FCR':>6}"]
        for g in report.breakdowns[b]:
            key = "(none)" if g.key is None else str(g.key)
            key = key if len(key) <= 19 else key[:18] + "…"
            fcr = "-" if g.fcr_rate is None else f"{g.fcr_rate * 100:.0f}%"
            lines.append(f"{key:<20}{g.conversations:>6}{g.agent_replies:>8}"
                         f"{_dur(g.first_response.calendar.median):>14}{_dur(g.resolution.calendar.median):>14}"
                         f"{g.closed:>7}{fcr:>6}")
    return lines + csat_lines(report.csat, by)


def csat_lines(csat: Any, by: tuple[str, ...]) -> list[str]:
    """The survey answers of the period (none: no lines, the report reads as before)."""
    if not csat.headline.count:
        return []

    def line(label: str, g: Any) -> str:
        shares = "  ".join(f"{r} {g.share(r) * 100:3.0f}%" for r in ("great", "okay", "bad"))
        return f"{label:<20}{g.count:>6}  {shares}  mean {g.score_mean:.2f}"
    lines = ["", f"{'CSAT':<20}{'count':>6}", line("All answers", csat.headline)]
    for b in by:
        lines += ["", f"CSAT by {b}:"]
        for g in csat.breakdowns.get(b, ()):
            key = "(none)" if g.key is None else str(g.key)
            lines.append(line(key if len(key) <= 19 else key[:18] + "…", g))
    return lines


def heatmap_lines(heat: Any, staffing: Any, since: int, until: int, zone: dt.tzinfo | None) -> list[str]:
    loads = [heat.mean_load(d, h) for d in range(7) for h in range(24)]
    top = max(loads) if loads else 0.0
    steps = len(RAMP) - 1

    def char(load: float) -> str:
        if load <= 0 or top <= 0:
            return RAMP[0]
        return RAMP[max(1, min(steps, int(load / top * steps + 0.999999)))]
    lines = [_period_line("Customer messages per hour", since, until, zone), ""]
    lines.append("     " + "".join(f"{h:<3d}" if h % 3 == 0 else "   " for h in range(24)).rstrip())
    for d in range(7):
        lines.append(f"{WEEKDAYS[d]:<4} " + "".join(char(heat.mean_load(d, h)) * 2 + " " for h in range(24)).rstrip())
    bounds = [top * i / steps for i in range(steps + 1)]
    legend = "  ".join(f"{RAMP[i]}{RAMP[i]} <={bounds[i]:.1f}" for i in range(1, steps + 1))
    lines += ["", "Legend (messages per hour, mean over the period): '  ' none", _wrap(legend, 78)]
    lines.append("")
    lines.append(f"Team reply rate: {staffing.reply_rate:.1f} replies per hour with replies "
                 f"({counted(staffing.replies, 'reply', 'replies')} in {counted(staffing.reply_hours, 'hour')})")
    if staffing.busiest:
        lines.append(_wrap("Busiest: " + ", ".join(f"{WEEKDAYS[c.weekday]} {c.hour:02d}:00 ({c.mean_load:.1f}/h)"
                                                   for c in staffing.busiest), 78))
    over = sorted(staffing.over_capacity, key=lambda c: -(c.excess or 0.0))
    if over:
        shown = ", ".join(f"{WEEKDAYS[c.weekday]} {c.hour:02d}:00 (+{c.excess:.1f})" for c in over[:6])
        more = f" and {len(over) - 6} more" if len(over) > 6 else ""
        lines.append(_wrap(f"Over the reply rate (staff these hours): {shown}{more}", 78))
    return lines


def _wrap(text: str, width: int) -> str:
    import textwrap
    return "\n".join(textwrap.wrap(text, width, subsequent_indent="  "))


def question_lines(groups: list[Any], since: int, until: int, zone: dt.tzinfo | None) -> list[str]:
    lines = [_period_line("Frequent questions", since, until, zone), ""]
    if not groups:
        return lines + ["No question was asked three times or more."]
    for g in groups:
        said = [g.trend.direction, f"answered with {g.top_snippet[0]} ({g.top_snippet[1]})" if g.top_snippet else ""]
        label = g.label if len(g.label) <= 50 else g.label[:49] + "…"
        lines.append(f"{g.size:>5}  {label}" + (f"  [{'; '.join(s for s in said if s)}]" if any(said) else ""))
        for s in g.example_subjects:
            lines.append(f"       {s if len(s) <= 70 else s[:69] + '…'}")
    return lines


def export_lines(header: list[str], rows: list[list[Any]]) -> list[str]:
    col = {name: i for i, name in enumerate(header)}
    lines = [f"{'conv':>7} {'source':<8}{'replies':>8}{'first response':>16}{'resolution':>15}  closed by"]

    def num(r: list[Any], name: str) -> float | None:
        v = r[col[name]]
        return None if v == "" or v is None else float(v)
    for r in rows:
        lines.append(f"{r[col['conv_id']]:>7} {r[col['source']]:<8}{r[col['agent_replies']]:>8}"
                     f"{_dur(num(r, 'first_response')):>16}{_dur(num(r, 'resolution')):>15}  {r[col['closed_by']] or '-'}")
    return lines
