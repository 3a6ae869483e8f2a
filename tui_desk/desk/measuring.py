"""The measuring part of the Desk: history, reports, snippet figures, SLA order and notices,
incidents. Thin: each method hands the desk to the module that does the work (desk.service.Desk
is made of this, desk.followup.FollowupDesk and desk.core.DeskCore; DeskService names the
methods)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_desk.desk.core import DeskCore

if TYPE_CHECKING:
    from tui_desk.desk import metrics
    from tui_desk.desk.history import HistoryLine
    from tui_desk.desk.questions import QuestionGroup
    from tui_desk.desk.sla_watch import SlaWatch
    from tui_desk.desk.snippet_stats import SnippetStats
    from tui_desk.desk.views import IncidentPlanView, IncidentView, SlaAlert


class MeasuringDesk(DeskCore):
    _sla_watch: SlaWatch | None = None  # sla_news' memory (desk.sla_watch)

    async def sla_order(self, ids: list[int]) -> list[int]:
        from tui_desk.desk.sla import sla_order, slas_of
        return sla_order(ids, await slas_of(self, ids))

    def sla_configured(self) -> bool:
        return self.config.sla.configured()

    async def sla_news(self) -> list[SlaAlert]:
        from tui_desk.desk.sla_watch import SlaWatch, desk_sla_news
        if self._sla_watch is None:
            self._sla_watch = SlaWatch()
        return await desk_sla_news(self, self._sla_watch)

    async def active_incidents(self) -> list[IncidentView]:
        from tui_desk.desk.incident import for_app
        return await for_app.views(self)

    async def start_incident(self, title: str, match: str, ids: list[int]) -> str:
        from tui_desk.desk.incident import for_app
        return await for_app.start_line(self, title, match, ids)

    async def incident_preview(self, name: str) -> IncidentPlanView:
        from tui_desk.desk.incident import for_app
        return await for_app.resolve_preview(self, name)

    async def resolve_incident(self, name: str) -> str:
        from tui_desk.desk.incident import for_app
        return await for_app.resolve_line(self, name)

    async def history(self, conv_id: int) -> list[HistoryLine] | None:
        """The conversation's history (desk.history.HistoryLine), oldest first; None when there
        is no such conversation (one merged into another gives that one's)."""
        from tui_desk.desk.history import conversation_history
        from tui_desk.store.ingest import resolve_conversation
        found = await resolve_conversation(self.store, conv_id)
        return None if found is None else await conversation_history(self, found)

    # Reports (issue 15; desk.reports): from the per-conversation metrics cached in the store
    async def report(self, since: int, until: int, by: tuple[str, ...] = (),
                     business_hours: bool = False) -> metrics.Report:
        from tui_desk.desk import reports
        return await reports.report(self, since, until, by, business_hours)

    async def load(self, since: int, until: int) -> tuple[metrics.Heatmap, metrics.Staffing]:
        from tui_desk.desk import reports
        return await reports.load(self, since, until)

    async def questions(self, since: int, until: int) -> list[QuestionGroup]:
        from tui_desk.desk import reports
        return await reports.questions(self, since, until)

    async def export(self, query: str | None) -> tuple[list[str], list[list[object]]]:
        from tui_desk.desk import reports
        return await reports.export(self, query)

    async def snippet_stats(self, since: int | None = None, until: int | None = None) -> list[SnippetStats]:
        from tui_desk.desk import snippet_stats
        return await snippet_stats.snippet_stats(self, since, until)

    def business_hours_configured(self) -> bool:
        return self.config.priority.business_hours is not None
