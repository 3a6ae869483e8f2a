"""The Reports screen (issue 15): headline numbers, weekly trends, the load heatmap, the staffing
hint, customer satisfaction (when the period has survey answers) and the frequent questions, for
a period switched by keys.

Imported when the screen opens (MainScreen.action_reports), never at start: it and its widgets
(Sparkline, OptionList) are no part of the queue's first paint.

Everything comes from the DeskService (report / load / questions), awaited in one exclusive
worker: the screen paints at once and fills in as the figures arrive; a new period or a change
to the store (StoreChanged, forwarded by the main screen, at most one reload per REFRESH_DELAY)
starts it again. Text from mail (question labels, snippet names) is shown through ui.text.literal,
never as markup. The heatmap's colours come from the theme: a ramp from the background to
$primary, each cell's digit drawn in whichever of the theme's text or background colours reads
best on it (WCAG contrast >= 4.5, else black or white), so every cell is readable in every theme.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.color import Color
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, OptionList, Sparkline, Static
from textual.widgets.option_list import Option

from tui_desk.desk.metrics import Heatmap, LocalTime, Report, Staffing
from tui_desk.desk.metrics.definitions import FIGURES
from tui_desk.desk.timefmt import MONTHS, WEEKDAYS, format_duration
from tui_desk.ui import registry
from tui_desk.ui.help import hanging
from tui_desk.ui.sparkline import GapSparkline
from tui_desk.ui.text import literal

if TYPE_CHECKING:
    from tui_desk.desk.metrics import Durations, Group
    from tui_desk.desk.metrics.csat import Csat, CsatGroup
    from tui_desk.desk.questions import QuestionGroup
    from tui_desk.ui.app_base import DeskAppBase

DEFAULT_PERIOD = 1  # index in registry.REPORTS_PERIODS: 30 days
REFRESH_DELAY = 2.0  # seconds: store changes in a burst (a sync) reload the figures once
FULL_HEIGHT = 24  # terminal rows the whole screen needs (80x24): shorter ones show no heatmap
# columns the trends need beside the headline (80): narrower, their labels would wrap into as many
# rows as the questions have (60x20), the sparklines a dozen cells wide
TRENDS_WIDTH = 80
LEVELS = 9  # heatmap cells show 1..9: their load against the busiest hour's
NOTHING = "–"
TREND_ARROWS = {"rising": "↑", "falling": "↓", "steady": "→", "new": "+"}  # "": no trend to tell
FIGURES_TITLE = "What the figures mean"  # `?`'s section after the keys


# --- what the figures say, as text ------------------------------------------------------------

def duration(seconds: float | None) -> str:
    return NOTHING if seconds is None else format_duration(seconds)


def percent(rate: float | None) -> str:
    return NOTHING if rate is None else f"{round(rate * 100)}%"


def number(value: float | None) -> str:
    if value is None:
        return NOTHING
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def day_text(when: dt.datetime, now: dt.datetime) -> str:
    """"Nov 20", with the year when it is not this one."""
    text = f"{MONTHS[when.month - 1]} {when.day}"
    return text if when.year == now.year else f"{text} {when.year}"


def headline_content(report: Report, business: bool) -> Content:
    """Five to seven lines: median and p90 of first response and net resolution, then FCR, replies
    to resolve, reopened, conversations, unanswered (open, never answered), closes without a
    reply (when there are), and how many are known from mail only (no history: mail tells their
    first response, not their close). The labels are those of desk.metrics.definitions."""
    g = report.headline

    def times(d: Durations) -> tuple[str, str]:
        s = d.business if business and d.business is not None else d.calendar
        return duration(s.median), duration(s.p90)

    frt, net = times(g.first_response), times(g.resolution_net)
    muted = "$text-muted"
    label = "bold"
    parts: list[Any] = [  # "business time" in the labels' column: the 45 cells hold it at 80 columns
        (f"{'business time' if business else '':17}{'median':>8}{'p90':>8}", muted), "\n",
        (f"{'First response':17}", label), f"{frt[0]:>8}{frt[1]:>8}", "\n",
        (f"{'Resolution (net)':17}", label), f"{net[0]:>8}{net[1]:>8}", "\n",
        ("FCR ", label), percent(g.fcr_rate), ("  Replies to resolve ", label), number(g.replies_to_resolve.median),
        ("  Reopened ", label), str(g.reopened_conversations), "\n",
        ("Conversations ", label), str(g.conversations), ("  Unanswered ", label), str(g.unanswered),
    ]
    if g.closed_without_reply:  # not waiting, and not resolved by anybody's answer either
        parts += ["\n", ("Closed, no reply ", label), str(g.closed_without_reply)]
    if g.mail_only_conversations:  # no history: their closes, FCR and reopens are unknown
        parts += ["\n", ("Mail only ", "bold $text-warning"), (str(g.mail_only_conversations), "bold $text-warning"),
                  (" (no history: closes unknown)", "$text-muted")]
    c = report.csat.headline
    if c.count:  # survey answers given in the period (desk.metrics.csat)
        parts += ["\n", ("CSAT ", label), csat_figures(c)]
    return Content.assemble(*parts)


def csat_figures(g: CsatGroup) -> str:
    """"12 · 75% great · mean 2.6": answers, the share rated great, the mean (great 3 … bad 1)."""
    return f"{g.count} · {percent(g.share('great'))} great · mean {number(g.score_mean)}"


def csat_breakdown(csat: Csat, by: str = "agent") -> Content | None:
    """One line: the answers per group of `by` (agent: the one the survey named), most answers
    first: "Bob Okafor 2.8 (5, 80% great)", as the snippet picker says it; None without answers.
    Names come from teammates' history: shown literally."""
    groups = sorted(csat.breakdowns.get(by, ()), key=lambda g: (-g.count, g.key is None, g.key or ""))
    if not csat.headline.count or not groups:
        return None
    parts: list[Any] = [(f"CSAT by {by} ", "bold")]
    for n, g in enumerate(groups):
        parts += [(" · " if n else "", "$text-muted"), literal("(none)" if g.key is None else g.key),
                  (f" {number(g.score_mean)}", "bold"),
                  (f" ({g.count}, {percent(g.share('great'))} great)", "$text-muted")]
    return Content.assemble(*parts)


def trend_keys(since: float, until: float, zone: str, by: str) -> list[str]:
    """Every day ("2026-11-20") or ISO week ("2026-W47") of [since, until) in the zone, in order,
    as the report's `day` / `week` breakdown names them: a week without mail is still a week."""
    local = LocalTime(zone)
    index = 4 if by == "day" else 5
    keys: list[str] = []
    t = since
    while t < until:
        key = local(t)[index]
        if not keys or keys[-1] != key:
            keys.append(key)
        t += 3600 * 6
    last = local(until - 1)[index]
    if until > since and keys[-1] != last:
        keys.append(last)
    return keys


def trend_series(report: Report, by: str, business: bool) -> tuple[list[str], list[float | None], list[int]]:
    """(keys, FRT median per key, new conversations per key) from the report's breakdown."""
    groups: dict[str | None, Group] = {g.key: g for g in report.breakdowns.get(by, ())}
    keys = trend_keys(report.since, report.until, report.zone, by)
    medians: list[float | None] = []
    volume: list[int] = []
    for key in keys:
        g = groups.get(key)
        if g is None:
            medians.append(None)
            volume.append(0)
            continue
        d = g.first_response
        s = d.business if business and d.business is not None else d.calendar
        medians.append(s.median)
        volume.append(g.conversations)
    return keys, medians, volume


def staffing_text(staffing: Staffing) -> str:
    """The busiest hours against the team's measured reply rate, one line."""
    if not staffing.busiest:
        return "Busiest hours: no customer mail in this period"
    busiest = ", ".join(f"{WEEKDAYS[c.weekday]} {c.hour:02d}:00 {c.mean_load:.1f}/h" for c in staffing.busiest[:2])
    if not staffing.replies:
        return f"Busiest {busiest} · no replies in this period"
    over = len(staffing.over_capacity)
    hint = f"{over} hour{'s' if over != 1 else ''} of the week above: staff them" if over else "no hour above"
    return f"Busiest {busiest} · team answers {staffing.reply_rate:.1f}/h · {hint}"


def question_prompt(group: QuestionGroup, width: int | None = None) -> Content:
    """One row of the frequent questions: size, label (from mail: literal), trend, top snippet.
    ``width``: a row wider goes on under its label (ui.help.hanging), never cut."""
    arrow = TREND_ARROWS.get(group.trend.direction, "")
    size = Content.styled(f"{group.size:>4} ", "bold")
    trend = f"  {arrow} {group.trend.direction}" if group.trend.direction else ""
    parts: list[Any] = [literal(group.label), (trend, "$text-muted")]
    if group.top_snippet:
        parts += [("  answered with ::", "$text-muted"), literal(group.top_snippet[0])]
    others = list(group.example_subjects[1:])  # the first is the label's wording (desk.questions)
    if others:
        parts += [("  also: ", "$text-muted"), literal(" · ".join(others))]
    body = Content.assemble(*parts)
    return size + body if width is None else Content("\n").join(hanging(size, body, width))


# --- the heatmap's colours from the theme ------------------------------------------------------

def _luminance(c: Color) -> float:
    def channel(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b)


def contrast(a: Color, b: Color) -> float:
    """WCAG 2 contrast ratio of two opaque colours."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def heat_colours(variables: dict[str, str]) -> list[tuple[Color, Color]]:
    """(digit colour, cell colour) for levels 1..LEVELS, from the theme's CSS variables: cells
    from a tint of $primary over the background to $primary itself; the digit in the theme's
    foreground or background, whichever reads best, else black or white."""
    background = Color.parse(variables["background"])
    primary = Color.parse(variables["primary"])
    inks = [Color.parse(variables.get("foreground", "#ffffff")), background]
    out = []
    for level in range(1, LEVELS + 1):
        cell = background.blend(primary, 0.2 + 0.8 * (level - 1) / (LEVELS - 1))
        ink = max(inks, key=lambda c: contrast(c, cell))
        if contrast(ink, cell) < 4.5:
            ink = max((Color(0, 0, 0), Color(255, 255, 255)), key=lambda c: contrast(c, cell))
        out.append((ink, cell))
    return out


def heat_level(load: float, busiest: float) -> int:
    """0 for no mail, else 1..LEVELS: the cell's share of the busiest cell's load."""
    if load <= 0 or busiest <= 0:
        return 0
    return max(1, min(LEVELS, math.ceil(LEVELS * load / busiest)))


class LoadHeatmap(Static):
    """Customer messages by weekday x hour: a digit 1-9 on a colour ramp from the theme, with
    the hours on top and a legend on the right when there is room. Painted again when the
    theme or the width changes."""

    DEFAULT_CSS = """
    LoadHeatmap { height: 8; padding: 0 1; text-wrap: nowrap; }
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.heat: Heatmap | None = None

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.paint())

    def on_resize(self) -> None:
        self.paint()

    def show(self, heat: Heatmap | None) -> None:
        self.heat = heat
        self.paint()

    def paint(self) -> None:
        self.update(self.heat_content())

    def cell_width(self) -> int:
        width = self.content_size.width
        return 3 if width >= 4 + 72 + 30 else 2 if width >= 4 + 48 else 1

    def heat_content(self) -> Content:
        heat = self.heat
        if heat is None:
            return Content("")
        cw = self.cell_width()
        colours = heat_colours(self.app.theme_variables)
        busiest = max((heat.mean_load(d, h) for d in range(7) for h in range(24)), default=0.0)
        legend = [("Customer messages", "bold"), ("by weekday and hour", ""), (f"({heat.zone})", "$text-muted"),
                  ("", ""), ("· none, 1 … 9 busiest", "$text-muted"),
                  (f"9 = {busiest:.1f} messages/h" if busiest else "no customer mail", "$text-muted")]
        step = 3 if cw > 1 else 6
        hours = "".join(f"{h:<{cw * step}}" if h % step == 0 else "" for h in range(0, 24, step))
        lines: list[Content] = [Content.assemble(("    " + hours, "$text-muted"))]
        room = self.content_size.width - 4 - 24 * cw >= 20
        for d in range(7):
            parts: list[Any] = [(f"{WEEKDAYS[d]} ", "bold")]
            for h in range(24):
                level = heat_level(heat.mean_load(d, h), busiest)
                if level == 0:
                    parts.append(("·".center(cw) if cw > 1 else "·", "$text-muted"))
                else:
                    ink, cell = colours[level - 1]
                    parts.append((str(level).center(cw), f"{ink.hex} on {cell.hex}"))
            if room and d < len(legend) and legend[d][0]:
                parts += ["  ", legend[d]]
            lines.append(Content.assemble(*parts))
        return Content("\n").join(lines)


class TrendLabel(Static):
    """A trend's label: its parts ("FRT median/week", "1h … 3h", "last 2h") on one line, or
    on as many as the column needs (80 columns), a part never split across two."""

    DEFAULT_CSS = "TrendLabel { height: auto; }"

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.parts: list[Content] = []

    def show(self, *parts: Content) -> None:
        self.parts = list(parts)
        self.refresh(layout=True)

    def lines(self, width: int) -> list[Content]:
        lines: list[Content] = []
        for part in self.parts:
            if lines and lines[-1].cell_length + 2 + part.cell_length <= width:
                lines[-1] = lines[-1] + Content("  ") + part
            else:
                lines.append(part)
        # a part wider than the column on its own (60 columns) wraps by its words
        return [piece for line in lines for piece in line.wrap(max(1, width))] or [Content("")]

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return len(self.lines(width))

    def render(self) -> Content:
        return Content("\n").join(self.lines(self.content_size.width))


class QuestionList(OptionList):
    """The frequent questions; Enter opens one as a search (OptionList.OptionSelected). A row
    wider than the list goes on under its label; the rows are wrapped again when the width changes."""

    BINDINGS = [Binding("j", "cursor_down", "Down", show=False), Binding("k", "cursor_up", "Up", show=False)]

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.groups: list[QuestionGroup] = []
        self._width = 0
        self.moved = False  # by a key: from then on the cursor's question is kept in view

    def show(self, groups: Sequence[QuestionGroup]) -> None:
        self.groups = list(groups)
        self._width = self.scrollable_content_region.width
        highlighted = self.highlighted
        self.clear_options()
        self.add_options([Option(question_prompt(g, self._width or None)) for g in self.groups])
        if self.groups:
            self.highlighted = min(highlighted or 0, len(self.groups) - 1)

    def on_resize(self) -> None:
        if self.groups and self.scrollable_content_region.width != self._width:
            self.show(self.groups)

    def action_cursor_up(self) -> None:
        self.moved = True
        super().action_cursor_up()

    def action_cursor_down(self) -> None:
        self.moved = True
        super().action_cursor_down()

    def watch_highlighted(self, highlighted: int | None) -> None:
        super().watch_highlighted(highlighted)
        # at 80x24 the screen scrolls too (its lines wrap): the screen opens at its top (the
        # headline), and once the cursor moves the question under it is kept in view whole
        # (back on the first one too: a question with examples takes two or three rows)
        body = self.screen.query("#reports-body")
        if highlighted == 0 and body and not self.moved:
            body.first().scroll_home(animate=False)
        elif highlighted is not None and self.parent is not None:
            self.parent.scroll_visible(animate=False)


class ReportsScreen(Screen[None]):
    """Reports over a period ending now: 7, 30, 90 or 365 days."""

    BINDINGS = [*registry.REPORTS_BINDINGS, *registry.PERIOD_BINDINGS]

    DEFAULT_CSS = """
    ReportsScreen {
        layout: vertical;
        #reports-title { height: 1; padding: 0 1; background: $panel; text-wrap: nowrap; text-overflow: ellipsis; }
        /* the lines below wrap rather than cut (80x24): the body scrolls when they need more rows */
        #reports-body { height: 1fr; scrollbar-size-vertical: 1; }
        #reports-top { height: auto; min-height: 6; }
        #reports-headline { width: 45; height: auto; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
        #reports-trends { width: 1fr; height: auto; padding: 0 1 0 0; }
        .trend-label { height: auto; color: $text-muted; }
        Sparkline, GapSparkline { height: 1; margin-bottom: 1; }
        #trend-volume { margin-bottom: 0; }
        Sparkline > .sparkline--max-color { color: $accent; }
        Sparkline > .sparkline--min-color { color: $primary; }
        #reports-staffing { height: auto; padding: 0 1; }
        #reports-csat { height: auto; padding: 0 1; display: none; }
        /* the rest of the screen, and at least a few questions' rows: else the body scrolls */
        #reports-questions-box { height: 1fr; min-height: 6; }
        #reports-questions-title { height: auto; padding: 0 1; color: $text-accent; text-style: bold; }
        #reports-questions { height: 1fr; border: none; padding: 0; background: $background;
                             scrollbar-gutter: stable; }
        #reports-questions:focus { border: none; }
    }
    """

    app: DeskAppBase

    def __init__(self, period: int = DEFAULT_PERIOD, business: bool = False) -> None:
        super().__init__()
        self.period = period
        self.business = business
        self.report: Report | None = None
        self.heat: Heatmap | None = None
        self.staffing: Staffing | None = None
        self.groups: list[QuestionGroup] = []
        self.reading = False
        self._loads = 0  # the load() running now; one cancelled by a newer load says nothing
        self._refresh_timer: Timer | None = None

    # --- building ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="reports-title")
        with VerticalScroll(id="reports-body", can_focus=False):
            with Horizontal(id="reports-top"):
                yield Static(Content("Reading the store…"), id="reports-headline")
                with Vertical(id="reports-trends"):
                    yield TrendLabel(id="trend-frt-label", classes="trend-label")
                    yield GapSparkline(id="trend-frt")
                    yield TrendLabel(id="trend-volume-label", classes="trend-label")
                    yield Sparkline([], id="trend-volume")
            yield LoadHeatmap(id="reports-heatmap")
            yield Static(id="reports-staffing")
            yield Static(id="reports-csat")
            with Vertical(id="reports-questions-box"):
                yield Static(Content("Frequent questions"), id="reports-questions-title")
                yield QuestionList(id="reports-questions")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.show_title()
        self.query_one(QuestionList).focus()
        self.fit(self.app.size.width, self.app.size.height)
        self.load()

    def on_resize(self, event: events.Resize) -> None:
        self.fit(event.size.width, event.size.height)

    def fit(self, width: int, height: int) -> None:
        """Under FULL_HEIGHT rows (60x20) the heatmap's eight give way to the frequent questions,
        which would get none; the staffing line still names the busiest hours. Under
        TRENDS_WIDTH columns the trends do (the headline has the period's figures)."""
        self.query_one(LoadHeatmap).display = height >= FULL_HEIGHT
        self.query_one("#reports-trends").display = width >= TRENDS_WIDTH

    def help_groups(self) -> list[registry.Group]:
        """`?` on this screen: its own keys (DeskApp.help_sections), then what each figure means
        (desk.metrics.definitions: README's words), each wrapped under itself (ui.help.hanging)."""
        return [*registry.reports_groups(), registry.Group(FIGURES_TITLE, [], extra=list(FIGURES))]

    def palette_groups(self) -> list[registry.Group]:
        """The palette offers the screen's keys (DeskApp._palette_commands), no definitions."""
        return registry.reports_groups()

    # --- the period -------------------------------------------------------------------------

    @property
    def days(self) -> int:
        return registry.REPORTS_PERIODS[self.period][0]

    def bounds(self) -> tuple[int, int]:
        """[since, until) in POSIX seconds: the period ending now (the app's clock)."""
        until = int(self.app.clock().timestamp())
        return until - self.days * 86400, until

    def trend_by(self) -> str:
        return "day" if self.days <= 7 else "week"

    def show_title(self) -> None:
        since, until = self.bounds()
        now = self.app.clock()
        start = dt.datetime.fromtimestamp(since, now.tzinfo)
        name = registry.REPORTS_PERIODS[self.period][1]
        parts: list[Any] = [("Reports", "bold"), f" · last {name} · {day_text(start, now)} – {day_text(now, now)}",
                            (" · business time" if self.business else " · calendar time", "$text-muted")]
        if self.reading:
            parts.append(("  reading…", "$text-muted"))
        self.query_one("#reports-title", Static).update(Content.assemble(*parts))

    def action_period(self, step: int) -> None:
        """[ and ]: a shorter or longer period."""
        self.action_set_period(max(0, min(len(registry.REPORTS_PERIODS) - 1, self.period + step)))

    def action_set_period(self, index: int) -> None:
        """1-4: 7, 30, 90 or 365 days."""
        if index == self.period or not 0 <= index < len(registry.REPORTS_PERIODS):
            return
        self.period = index
        self.load()

    def action_business_hours(self) -> None:
        """b: durations in business time, or in calendar time again."""
        desk = self.app.desk
        if not self.business and (desk is None or not desk.business_hours_configured()):
            self.notify("No business hours are configured: [priority] business_hours in config.toml",
                        severity="warning", timeout=5)
            return
        self.business = not self.business
        self.load()

    def action_refresh(self) -> None:
        """r: read the store again now."""
        self.load()

    def action_back(self) -> None:
        """Esc: back to the queue."""
        self.app.pop_screen()

    # --- reading ----------------------------------------------------------------------------

    def store_changed(self) -> None:
        """The store changed (MainScreen forwards StoreChanged): reload once things are quiet,
        at most once per REFRESH_DELAY however many changes arrive."""
        if self._refresh_timer is None:
            self._refresh_timer = self.set_timer(REFRESH_DELAY, self._refresh_due)

    def _refresh_due(self) -> None:
        self._refresh_timer = None
        self.load()

    @work(exclusive=True, group="reports")
    async def load(self) -> None:
        """The figures for the period, each part shown as soon as it is read."""
        self._loads += 1
        mine = self._loads
        self.reading = True
        self.show_title()
        try:
            desk = await self.app.desk_opened()
            since, until = self.bounds()
            by = self.trend_by()
            # by agent too: the CSAT line's groups (the report's own agent groups cost one pass more)
            report = await desk.report(since, until, by=(by, "agent"), business_hours=self.business)
            self.show_report(report, by)
            heat, staffing = await desk.load(since, until)
            self.show_load(heat, staffing)
            self.show_questions(await desk.questions(since, until))
        except Exception as exc:  # noqa: BLE001 - said on the screen, the app goes on
            self.query_one("#reports-headline", Static).update(literal(f"Could not read the reports: {exc}"))
            self.notify(f"Reports: {exc}", severity="error", timeout=10)
        finally:
            if mine == self._loads:
                self.reading = False
                with contextlib.suppress(NoMatches):  # the screen was left meanwhile
                    self.show_title()

    def show_report(self, report: Report, by: str) -> None:
        self.report = report
        headline = headline_content(report, self.business)
        self.query_one("#reports-headline", Static).update(headline)
        by_agent = csat_breakdown(report.csat)
        line = self.query_one("#reports-csat", Static)
        line.display = by_agent is not None
        line.update(by_agent or "")
        keys, medians, volume = trend_series(report, by, self.business)
        per = "day" if by == "day" else "week"
        known = [m for m in medians if m is not None]
        frt = f"{duration(min(known))} … {duration(max(known))}" if known else "no replies"
        self.query_one("#trend-frt-label", TrendLabel).show(
            Content.assemble(f"FRT median/{per} ", (frt, "bold")),
            Content(f"last {duration(medians[-1] if medians else None)}"))
        # a week without replies has no median: a gap, not the lowest bar (the best week's look)
        self.query_one("#trend-frt", GapSparkline).data = list(medians)
        self.query_one("#trend-volume-label", TrendLabel).show(
            Content.assemble(f"Conversations/{per} ", (f"{min(volume, default=0)} … {max(volume, default=0)}", "bold")),
            Content(f"last {volume[-1] if volume else 0}"))
        self.query_one("#trend-volume", Sparkline).data = [float(v) for v in volume]

    def show_load(self, heat: Heatmap, staffing: Staffing) -> None:
        self.heat, self.staffing = heat, staffing
        self.query_one(LoadHeatmap).show(heat)
        self.query_one("#reports-staffing", Static).update(literal(staffing_text(staffing)))

    def show_questions(self, groups: Sequence[QuestionGroup]) -> None:
        self.groups = list(groups)
        self.query_one(QuestionList).show(self.groups)
        title = (f"Frequent questions: {len(self.groups)} · Enter opens one in the queue" if self.groups
                 else "Frequent questions: none asked three times or more in this period")
        self.query_one("#reports-questions-title", Static).update(Content(title))

    @on(OptionList.OptionSelected, "#reports-questions")
    def _question_opened(self, event: OptionList.OptionSelected) -> None:
        """Enter on a question: its conversations as a search in the queue."""
        group = self.groups[event.option_index]
        query = "id:" + ",".join(str(c) for c in group.conv_ids)
        self.app.pop_screen()
        self.app.main.show_search(query)
