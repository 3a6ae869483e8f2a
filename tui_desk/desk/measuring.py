"""The measuring part of the Desk: history, reports, snippet figures, SLA order and notices,
incidents. Thin: each method hands the desk to the module that does the work (desk.service.Desk
mixes this in, as it does desk.followup.FollowupDesk; DeskService names the methods)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from tui_desk.desk import metrics
    from tui_desk.desk.history import HistoryLine
    from tui_desk.desk.questions import QuestionGroup
    from tui_desk.desk.service import Desk
    from tui_desk.desk.snippet_stats import SnippetStats
    from tui_desk.desk.views import IncidentView, SlaAlert


class MeasuringDesk:
    def _as_desk(self) -> Desk:
        return cast("Desk", self)  # only ever mixed into Desk

    async def sla_order(self, ids: list[int]) -> list[int]:
        from tui_desk.desk.sla import sla_order, slas_of
        return sla_order(ids, await slas_of(self._as_desk(), ids))

    def sla_configured(self) -> bool:
        return self._as_desk().config.sla.configured()

    async def sla_news(self) -> list[SlaAlert]:
        from tui_desk.desk.sla_watch import SlaWatch, desk_sla_news
        desk = self._as_desk()
        if desk._sla_watch is None:
            desk._sla_watch = SlaWatch()
        return await desk_sla_news(desk, desk._sla_watch)

    async def active_incidents(self) -> list[IncidentView]:
        from tui_desk.desk import incident
        return await incident.views(self._as_desk())

    async def start_incident(self, title: str, match: str, ids: list[int]) -> str:
        from tui_desk.desk import incident
        return await incident.start_line(self._as_desk(), title, match, ids)

    async def resolve_incident(self, name: str) -> str:
        from tui_desk.desk import incident
        return await incident.resolve_line(self._as_desk(), name)

    async def history(self, conv_id: int) -> list[HistoryLine] | None:
        """The conversation's history (desk.history.HistoryLine), oldest first; None when there
        is no such conversation (one merged into another gives that one's)."""
        from tui_desk.desk.history import conversation_history
        from tui_desk.store.ingest import resolve_conversation
        found = await resolve_conversation(self._as_desk().store, conv_id)
        return None if found is None else await conversation_history(self._as_desk(), found)

    # Reports (issue 15; desk.reports): from the per-conversation metrics cached in the store
    async def report(self, since: int, until: int, by: tuple[str, ...] = (),
                     business_hours: bool = False) -> metrics.Report:
        from tui_desk.desk import reports
        return await reports.report(self._as_desk(), since, until, by, business_hours)

    async def load(self, since: int, until: int) -> tuple[metrics.Heatmap, metrics.Staffing]:
        from tui_desk.desk import reports
        return await reports.load(self._as_desk(), since, until)

    async def questions(self, since: int, until: int) -> list[QuestionGroup]:
        from tui_desk.desk import reports
        return await reports.questions(self._as_desk(), since, until)

    async def export(self, query: str | None) -> tuple[list[str], list[list[object]]]:
        from tui_desk.desk import reports
        return await reports.export(self._as_desk(), query)

    async def snippet_stats(self, since: int | None = None, until: int | None = None) -> list[SnippetStats]:
        from tui_desk.desk import snippet_stats
        return await snippet_stats.snippet_stats(self._as_desk(), since, until)

    def business_hours_configured(self) -> bool:
        return self._as_desk().config.priority.business_hours is not None
