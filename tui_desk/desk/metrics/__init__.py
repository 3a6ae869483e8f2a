"""Desk metrics (issue 15): pure functions over conversation timelines - no store, no IO.

    rows = [conversation_metrics(timeline, clock) for timeline in ...]   # once per conversation, cache
    report(rows, since, until, zone="Europe/Berlin", by=("agent",), business_hours=True).to_json()
    headline_report(rows_or_plain_tuples, since, until, zone=...)   # no breakdowns: one pass, no row kept
    heatmap(rows, since, until, zone); staffing(rows, since, until, zone)

Modules: timeline (input types, merge, per-conversation `ConvMetrics`), stats (count/median/p90/
mean), aggregate (the report over a period, breakdowns, JSON/CSV), load (heatmap, busiest hours,
staffing hint).

Definitions (the README copies them)
- Roles of a turn: customer | agent | note | auto | forward | survey. Only `agent` answers; a
  note, an auto-reply, a survey answer or a forward never does. A customer's own auto-reply
  (out-of-office) is role `auto`: it does not start a wait and is not customer load.
- First response time (FRT): the first agent reply after the first customer message, minus that
  message.
- Next response time: a customer message after the last agent reply starts a wait (several
  customer messages in a row are one wait, from the first); the next agent reply ends it. One
  value per wait after the first (the first is the FRT).
- Closed: the close that left the conversation closed (a later reopen makes it not closed; a
  repeated close while closed does not move it). Resolution = that close - the first customer
  message; resolution_net = the same minus the time snoozed or pending (their union, so an
  overlap counts once). Pending runs from a change to pending until the next status change or
  the next customer message.
- Reopen: a status change from closed to open or pending, or a customer message while closed
  that does more than thank (desk.thanks marks the turn: "thanks, it worked" reopens nothing,
  so FCR and a snippet's "solved" (asked_again) read a thank-you the same way).
- Replies to resolve: agent replies up to the close, per closed conversation an agent answered
  (as Zendesk's replies per solved ticket); a close with no agent reply is `closed_without_reply`.
- Unanswered: conversations with no agent reply that are not closed now (customers still
  waiting: Help Scout's and Zendesk's unanswered / unreplied are open tickets).
- FCR: of closed conversations with >= 1 agent reply, those closed after exactly one agent reply
  and with no reopen within 7 days (604800 s) of the close it undid. A close less than 7 days
  before the data ends may still be reopened: its FCR is provisional.
- Business time: a duration a..b is clock.elapsed(b) - clock.elapsed(a) (desk.business_time),
  computed into the cached row; rows are valid for the business-hours config they were made with.
- Mail only (no history events): FRT, next response, replies and load are known; closed,
  resolution, FCR and reopens are not (None, source "mail"; `mail_only_conversations` counts them).
- Statistics: see stats (median of an even count = mean of the two middle values; p90 nearest rank).
- Which conversations count in a period and the breakdown keys: see aggregate's docstring.

JSON keys of `Report.to_json()` (durations in seconds, times ISO 8601 in the report's zone):

| key | meaning |
|---|---|
| `since`, `until`, `zone`, `business_hours` | the period [since, until), the desk zone, business stats given |
| `headline` | a GROUP over the whole period |
| `breakdowns` | {by: [GROUP, ...]} for each requested `by` (agent, tag, snippet, domain, day, week), sorted by key, null last |
| GROUP `key` | the group's key (null: none / the headline) |
| GROUP `conversations`, `mail_only_conversations`, `unanswered` | first customer message in the period: all / without history / no agent reply yet and not closed now |
| GROUP `customer_messages`, `agent_replies` | sent in the period |
| GROUP `first_response`, `next_response`, `resolution`, `resolution_net` | {`calendar`: STATS, `business`: STATS or null} |
| GROUP `closed`, `closed_without_reply` | conversations closed in the period / of those, closed with no agent reply |
| GROUP `replies_to_resolve` | STATS over conversations closed in the period with an agent reply |
| GROUP `fcr` | {`eligible`, `resolved`, `rate`} (rate null when eligible is 0) |
| GROUP `reopens`, `reopened_conversations` | reopens in the period / distinct conversations |
| STATS | {`count`, `median`, `p90`, `mean`} (null when count is 0) |
| `csat` | the survey answers of the period (desk.metrics.csat; desk.reports fills it, NO_CSAT otherwise) |

`heatmap(...).to_json()`: `zone`, `messages` [7][24] (weekday 0 = Monday), `hours` [7][24]
(occurrences of that local hour in the period), `mean_load` [7][24] (messages / hours, 0 when
the hour did not occur). `staffing(...).to_json()`: `replies`, `reply_hours`, `reply_rate`,
`busiest` and `over_capacity` as lists of CELL {`weekday`, `hour`, `messages`, `hours`,
`mean_load`, `excess`}. CSV: `Report.csv_rows(by)` (the GROUP keys flattened with "_", e.g.
`first_response_calendar_median`), `Heatmap.csv_rows()`, `export_rows(rows)` (one row per
conversation, columns `EXPORT_HEADER`).
"""

from tui_desk.desk.metrics.load import Cell, Heatmap, LocalTime, Staffing, heatmap, staffing
from tui_desk.desk.metrics.aggregate import (BREAKDOWNS, EXPORT_HEADER, Durations, Group, Report, export_rows,
                                          gc_paused, headline_report, report)
from tui_desk.desk.metrics.stats import Stats, stats
from tui_desk.desk.metrics.timeline import (METRICS_VERSION, REOPEN_WINDOW, ConvMetrics, Reopen, Reply,
                                            SnoozeSpan, StatusChange, Timeline, Turn, conversation_metrics,
                                            merge_timelines)

__all__ = ["BREAKDOWNS", "Cell", "ConvMetrics", "Durations", "EXPORT_HEADER", "Group", "Heatmap", "LocalTime",
           "METRICS_VERSION", "REOPEN_WINDOW", "Reopen", "Reply", "Report", "SnoozeSpan", "Staffing", "Stats",
           "StatusChange", "Timeline", "Turn", "conversation_metrics", "export_rows", "gc_paused", "headline_report", "heatmap",
           "merge_timelines", "report", "staffing", "stats"]
