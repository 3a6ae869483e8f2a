"""What the app tells the agent on its own: SLA notices (a target went warning or breached since
the last look, desk.sla_watch through DeskService), a teammate's note mentioning the agent
(desk.mentions), work that came to the agent (desk.work_news: a teammate assigned a conversation
to me, a customer wrote in mine), another app on this store (store.app_lock) and one toast for what the outbox sent (a burst joins the toast shown). A mixin
of ui.main_screen.MainScreen, like ui.triage_actions.
"""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import work

from tui_desk.ui.notify import withdraw

if TYPE_CHECKING:
    from tui_desk.ui.app_base import MainViewScreen as _Base
else:
    _Base = object

# SLA targets turn warning or breached as time passes, with nothing to post it: the desk is
# asked this often what changed (desk.sla_watch); more than SLA_NOTICES at once become one line.
# A look can cost ~1 s of the desk's work on a 100k store: the next waits SLA_WATCH_SHARE times as long.
SLA_WATCH_SECONDS = 30.0
SLA_WATCH_SHARE = 10
SLA_NOTICES = 3
# A teammate's note arrives by sync at any moment: the desk is asked this often (a look that
# finds no new message reads one row); more than MENTION_NOTICES at once become one line.
MENTION_WATCH_SECONDS = 2.0
MENTION_NOTICES = 3
WORK_NOTICES = 3  # assignments and customers' replies, asked with the mentions


class Notices(_Base):
    # the sent toast shown now, and what it says was sent (MainScreen.__init__ starts them empty)
    _sent_toast: str
    _sent_burst: list[tuple[str, tuple[str, ...]]]

    def watch_sla(self) -> None:
        """SLA and mention notices from now on: the first look takes note, later ones say what
        changed."""
        self.look_at_sla(again=True)
        shared = self.desk.other_app_line() if self.desk is not None else None
        if shared:  # said at the start on the terminal too (cli.run_tui); here it stays a while
            self.notify(shared, title="Shared store", severity="warning", timeout=60, markup=False)
        self.look_at_mentions()
        self.set_interval(MENTION_WATCH_SECONDS, self.look_at_mentions)

    @work(exclusive=True, group="mention-watch")
    async def look_at_mentions(self) -> None:
        """A notice for each teammate's note mentioning the agent since the last look, and for
        each conversation assigned to the agent or a customer's mail to one of the agent's."""
        desk = self.desk
        if desk is None or not self.alive():
            return
        try:
            alerts = await desk.mention_news()
            work_alerts = await desk.work_news()
        except Exception:  # noqa: BLE001 - the store is closing; the next look will tell
            return
        for alert in work_alerts[:WORK_NOTICES]:
            self.notify(alert.text, title="Assigned to you" if alert.kind == "assigned" else "Customer replied",
                        timeout=20, markup=False)
        if len(work_alerts) > WORK_NOTICES:
            more = len(work_alerts) - WORK_NOTICES
            self.notify(f"{more} more conversation{'s' if more != 1 else ''} assigned to you or answered by "
                        "a customer: the Mine view lists them", title="Your work", timeout=20, markup=False)
        for alert in alerts[:MENTION_NOTICES]:
            self.notify(alert.text, title="Mention", timeout=20, markup=False)
        if len(alerts) > MENTION_NOTICES:
            more = len(alerts) - MENTION_NOTICES
            self.notify(f"{more} more mention{'s' if more != 1 else ''} of you: the Mentions view lists them",
                        title="Mention", timeout=20, markup=False)

    @work(exclusive=True, group="sla-watch")
    async def look_at_sla(self, again: bool = False) -> None:
        """A notice for each target that went warning or breached since the last look;
        ``again``: and the next look, in SLA_WATCH_SECONDS or longer after a costly one."""
        desk = self.desk
        if desk is None or not self.alive():
            return
        began = time.monotonic()
        alerts = []
        try:
            alerts = await desk.sla_news()
        except Exception:  # noqa: BLE001 - the store is closing; the next look will tell
            pass
        finally:  # also when a look asked for meanwhile took this one's place (exclusive)
            if again and self.alive():
                wait = max(SLA_WATCH_SECONDS, SLA_WATCH_SHARE * (time.monotonic() - began))
                self.set_timer(wait, partial(self.look_at_sla, again=True))
        for alert in alerts[:SLA_NOTICES]:
            self.notify(alert.text, title="SLA", severity="error" if alert.state == "breached" else "warning",
                        timeout=20)
        if len(alerts) > SLA_NOTICES:
            more = len(alerts) - SLA_NOTICES
            self.notify(f"SLA: {more} more conversation{'s' if more != 1 else ''} warning or breached: "
                        "the Breaching view lists them", title="SLA", severity="warning", timeout=20)

    def _say_sent(self, report: Any) -> None:
        """One toast saying what went out; while it is up, the next sent mail join it (a bulk
        follow-up goes one every few seconds: "5 follow-up replies sent", not five toasts).

        A Notification posted again under its identity keeps the toast's old text, so the
        shown one is taken back (ui.notify.withdraw) and a new one said."""
        from tui_desk.desk.sent_news import sent_items, sent_line
        items = sent_items(report.sent, report.sent_events, report.sent_to)
        if withdraw(self.app, self._sent_toast, refresh=False):
            items = self._sent_burst + items
        self._sent_burst, self._sent_toast = items, sent_line(items)
        self.notify(self._sent_toast, timeout=4, markup=False)
