"""The app's incident words (desk.incident), for DeskService through desk.measuring: the active
incidents for its header, the line starting or resolving one says, and the preview its resolve
confirm shows (who resolving would mail: plan B, one line per customer).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tui_desk.desk.incident.fixed import fix_lines, mails, plan_b, send_fixes, summary
from tui_desk.desk.incident.record import active, members, pick, resolve, start

if TYPE_CHECKING:
    from tui_desk.desk.core import DeskCore as Desk  # the core its work needs (desk.core)
    from tui_desk.desk.views import IncidentPlanView, IncidentView


async def views(desk: Desk) -> list[IncidentView]:
    from tui_desk.desk.views import IncidentView
    from tui_desk.sanitize import sanitize_line
    return [IncidentView(i.name, sanitize_line(i.title), sanitize_line(i.match), len(await members(desk, i)))
            for i in await active(desk)]


async def start_line(desk: Desk, title: str, match: str, ids: Sequence[int]) -> str:
    from tui_desk.sanitize import sanitize_line
    found, started = await start(desk, title, match, conv_ids=ids)
    joined = f"; {len(ids)} conversation{'s' if len(ids) != 1 else ''} joined it" if ids else ""
    what = "started" if started else "is active already"
    mail = f": new mail matching {found.match!r} gets '{found.ack}'" if found.match else ""
    return sanitize_line(f"{found.label} {what}{mail}{joined}")


async def resolve_line(desk: Desk, name: str) -> str:
    """Resolved; plan B goes with the next sync pass (at once: the record wakes the live sync),
    or now on a desk without a server."""
    from tui_desk.sanitize import sanitize_line
    found = await resolve(desk, name)
    fixes = await plan_b(desk, found)
    if not any(a.imap is not None for a in desk.config.accounts):
        await send_fixes(desk, None)
    return sanitize_line(f"{found.label} resolved: '{found.fixed}' goes to {summary(fixes)} "
                         "through the outbox (O cancels in the undo window)")


async def resolve_preview(desk: Desk, name: str) -> IncidentPlanView:
    """Who resolving would mail: one line per customer (the app's confirm)."""
    from tui_desk.desk.views import FollowupLine, IncidentPlanView
    found = pick(await active(desk), name)
    fixes = await plan_b(desk, found)
    found_mails = mails(fixes)
    return IncidentPlanView(found.name, found.fixed, len(found_mails), sum(1 + len(m.covers) for m in found_mails),
                            tuple(FollowupLine(0, state, text) for state, text in fix_lines(fixes)))
