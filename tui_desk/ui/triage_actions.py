"""The main view's triage keys (t z a c o ! M u, and p v 1-9 h I): ask what is needed (the
prompts of ui/triage.py and ui/popups.py), do it through the desk, say what was done, reload the list.

A mixin of ui.main_screen.MainScreen: it uses the screen's panes and its list loading.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from textual import work
from textual.actions import SkipAction
from textual.content import Content

from tui_desk.desk.timefmt import format_datetime_short
from tui_desk.desk.views import QueueRow
from tui_desk.ui.notify import Failed, run_and_notify
from tui_desk.ui.queue import fit
from tui_desk.ui.typeahead import desk_key

if TYPE_CHECKING:
    from tui_desk.ui.app_base import MainViewScreen as _Base
else:
    _Base = object

RELOAD_FRESH_FOR = 1.0  # seconds a reload fetched before a prompt closed stays good to show


class TriageActions(_Base):
    """Triage on what the focused pane shows: in the conversation pane the open conversation;
    elsewhere the selected rows, else the row under the cursor (``targets``)."""

    @desk_key
    async def action_triage(self, kind: str, status: str = "") -> None:
        """t z a c o ! u: ask what is needed, then do it through the desk.

        A priority binding, so it runs before the keys behind it are read: a prompt is up and
        focused for them (so "tbug⏎" typed at once tags "bug"); and while the desk works and
        the list reloads, keys wait (ui/typeahead.py), so "c c c" closes three conversations.
        """
        await self.app.type_ahead.idle()
        desk = self.desk
        assert desk is not None
        if kind == "undo":
            if self.pending_send is not None:
                pending, self.pending_send = self.pending_send, None
                self.cancel_send(pending)
                return
            self.start_action(self._undo(), clears_selection=False, undoable=False, to_returned=True)
            return
        self.later_action()  # u undoes this action, after a send in its undo window
        targets = self.targets()
        if not targets:
            self.notify("No conversation to act on", severity="warning", timeout=3)
            return
        what = self.naming(targets)
        clears = self.from_selection()  # acting on the open conversation leaves the selection be
        if kind == "status":
            if len(targets) == 1 and status != "spam":
                self.start_action(desk.set_status(targets, status), clears_selection=clears)
                return
            verb = {"closed": "Close", "open": "Reopen", "spam": "Mark"}.get(status, f"Set {status}:")
            question = f"{verb} {what} as spam?" if status == "spam" else f"{verb} {what}?"
            detail = "Spam leaves the queue and every view; u undoes it." if status == "spam" else ""

            def answered(yes: bool | None) -> None:
                if yes:
                    self.start_action(desk.set_status(targets, status), clears_selection=clears)

            from tui_desk.ui.popups import ConfirmScreen
            confirm = ConfirmScreen(question, detail, danger=status == "spam")
            await self.app.push_screen(confirm, callback=answered)
            return
        prepared = self._with_reload_prepared
        from tui_desk.ui.triage import assign_prompt, snooze_prompt, tag_prompt
        if kind == "tag":
            current = sorted({t for i in targets if (row := self.queue.row(i)) for t in row.tags})
            prompt = tag_prompt(
                f"Tag {what}", lambda add, remove: prepared(desk.tag(targets, add, remove)), desk.known_tags,
                current,
            )
        elif kind == "snooze":
            prompt = snooze_prompt(f"Snooze {what}", lambda text: prepared(desk.snooze(targets, text)),
                                   self.clock())
        elif kind == "assign":
            prompt = assign_prompt(
                f"Assign {what}", lambda agent: prepared(desk.assign(targets, agent)), self._me(),
                desk.known_agents,
            )
        else:
            raise ValueError(f"unknown triage action {kind!r}")

        def done(description: str | None) -> None:
            if description is not None:
                self.start_action(self._said(description), clears_selection=clears)

        await self.app.push_screen(prompt, callback=done)

    @desk_key
    async def action_history(self) -> None:
        """h: the customer history of the conversation keys act on (``one_target``); Enter opens
        one (and finds it in the queue)."""
        await self.app.type_ahead.idle()
        desk = self.desk
        assert desk is not None
        target = self.one_target()
        if target is None:
            self.notify("No conversation to act on", severity="warning", timeout=3)
            return
        conv = self.conversation_pane.conversation
        if conv is None or conv.id != target:
            try:
                conv = await run_and_notify(self, desk.conversation(target), value_error=None,
                                            prefix=f"Could not load #{target}: ")
            except Failed:
                return
        if conv is None:
            self.notify(f"Conversation #{target} no longer exists", severity="warning", timeout=3)
            return
        if not conv.history:
            self.notify(f"The customer of #{conv.id} has no other conversations", timeout=3)
            return
        now = self.clock()

        async def jump(conv_id: int) -> str:
            if conv_id in self.queue.ids:
                self.queue.move_to(self.queue.ids.index(conv_id))
            self.open_conversation(conv_id)
            return f"#{conv_id}"

        digits = max(len(str(h.id)) for h in conv.history)  # "#88  pending" over "#106 pending"
        choices = [(Content.assemble((f"#{h.id:<{digits}} ", "bold"), (f"{h.status:<8}", "$text-muted"),
                                     f"{format_datetime_short(h.last_date, now) if h.last_date else '':<13}",
                                     fit(h.subject, 40), ("" if h.same_person else "  (same company)", "$text-muted")),
                    h.id) for h in conv.history]
        from tui_desk.ui.triage import ActionPrompt
        title = f"Other conversations of {fit(conv.customer, 30).rstrip()} (#{conv.id})"
        await self.app.push_screen(ActionPrompt(title, apply=jump, choices=choices,
                                                placeholder="↑↓ pick, Enter opens",
                                                empty_error="Pick one with ↑↓, or Esc"))

    @desk_key
    async def action_merge(self) -> None:
        """M: the selected conversations become one: the open conversation when its pane has the
        focus, else the cursor's row when it is selected, else the first selected. Different
        customers' are asked first, naming them (a reply would go to one of them)."""
        await self.app.type_ahead.idle()
        selected = self.queue.selected_ids
        current = self.one_target()
        reading = self.reading() is not None
        keep = current if current in selected or reading else selected[0] if selected else None
        others = [i for i in selected if i != keep]
        if keep is None or not others:
            self.notify("Select the conversations to merge with space first (two or more)", severity="warning",
                        timeout=4)
            return
        desk = self.desk
        assert desk is not None
        try:  # one customer's conversations merge at once (u undoes); different customers' are asked
            mixed = await run_and_notify(self, desk.merge_differs(keep, others), title="Could not merge")
        except Failed:
            return
        if mixed is None:
            self.start_action(desk.merge(keep, others))
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.start_action(desk.merge(keep, others, different_customers=True))

        from tui_desk.ui.popups import ConfirmScreen
        await self.app.push_screen(ConfirmScreen(f"{mixed}: merge anyway?",
                                                 f"Their mail, tags and replies join {self.naming([keep])}; "
                                                 "u undoes.", danger=True),
                                   callback=answered)

    @desk_key
    async def action_incident(self) -> None:
        """I: start an incident: new mail matching the search gets its acknowledgement, the
        selected conversations join it now (desk.incident). With one active: resolve it, asked
        first (it mails every affected customer)."""
        await self.app.type_ahead.idle()
        desk = self.desk
        assert desk is not None
        try:
            active = await run_and_notify(self, desk.active_incidents(), title="Could not read the incidents")
        except Failed:
            return
        if active:
            found = active[0]
            try:
                plan = await run_and_notify(self, desk.incident_preview(found.name),
                                            title="Could not list who resolving mails")
            except Failed:
                return

            def answered(answer: str | None) -> None:
                if answer is not None:
                    self.start_action(self._incident_changed(desk.resolve_incident(found.name)),
                                      clears_selection=False, undoable=False)

            from tui_desk.ui.followup import IncidentResolveConfirm
            await self.app.push_screen(IncidentResolveConfirm(found.title, plan), callback=answered)
            return
        match, ids = self.query_text.strip(), list(self.queue.selected_ids)
        if not match and not ids:
            self.notify("Search (/) for the incident's mail first, or select its conversations", severity="warning",
                        timeout=5)
            return
        from tui_desk.ui.triage import ActionPrompt
        joining = f"{len(ids)} selected" if ids else ""
        title = "Start an incident: " + " · ".join(p for p in (f"new mail matching {match}" if match else "",
                                                              joining) if p)
        # without a search its match is empty: nothing new will ever join it (a hint wraps, a title is cut);
        # without a selection the conversations found now stay out (README: the selection joins now)
        hints: tuple[str, ...] = ()
        if not match:
            hints = ("No search: only the selected conversations, new mail will not join "
                     "(Esc, then / to search for its mail first)",)
        elif not ids:
            found = len(self.queue.ids)
            hints = (f"Nothing selected: the {found} conversation{'s' if found != 1 else ''} found now will not join "
                     "(no 'fixed' mail for them); Esc, then * selects them all, space one by one",)

        async def start(text: str) -> str:
            return await self._incident_changed(desk.start_incident(text, match, ids))

        def done(description: str | None) -> None:
            if description is not None:
                self.start_action(self._said(description), undoable=False)

        await self.app.push_screen(ActionPrompt(title, apply=start, placeholder="What broke, as customers read it",
                                                hints=hints),
                                   callback=done)

    async def _incident_changed(self, action: Awaitable[str]) -> str:
        description = await action
        self.refresh_incident()
        return description

    # --- saved views and reasons ------------------------------------------------------------

    def action_switch_view(self, index: int) -> None:
        """1-9: the saved view with that number."""
        if self.desk is None:
            raise SkipAction()
        if not 0 <= index < len(self.views):
            self.notify(f"No view {index + 1}: there are {len(self.views)} (v lists them)", timeout=3)
            return
        self.view_index = index
        self._show_view_title()
        self.load_queue(self.query_text, keep=self.queue.current_id)

    def action_pick_view(self) -> None:
        """v: the list of saved views."""
        if self.desk is None:
            raise SkipAction()

        def picked(index: int | None) -> None:
            if index is not None:
                self.action_switch_view(index)

        from tui_desk.ui.popups import ViewPicker
        self.app.push_screen(ViewPicker(self.views, self.view_index), callback=picked)

    def action_reasons(self) -> None:
        """p: every reason of the current conversation, in a popup."""
        if self.desk is None:
            raise SkipAction()
        self.show_reasons()

    @work(exclusive=True, group="reasons")
    async def show_reasons(self) -> None:
        assert self.desk is not None
        conv_id = self.one_target()
        if conv_id is None:
            return
        row: QueueRow | None = self.queue.row(conv_id)
        if row is None:
            try:
                rows = await run_and_notify(self, self.desk.queue_rows([conv_id]),
                                            prefix=f"Could not load #{conv_id}: ", value_error=None)
            except Failed:
                return
            row = rows[0] if rows else None
        if row is None:
            self.notify(f"Conversation #{conv_id} no longer exists", severity="warning")
            return
        from tui_desk.ui.popups import ReasonsScreen
        await self.app.push_screen(ReasonsScreen(row, self.clock()))

    # --- doing it ---------------------------------------------------------------------------

    def start_action(
        self,
        action: Awaitable[str | None],
        *,
        clears_selection: bool = True,
        undoable: bool = True,
        to_returned: bool = False,
    ) -> None:
        self.app.type_ahead.hold()  # now, not when the worker starts: the next key waits for it
        self.run_worker(self._finish_action(action, clears_selection, undoable, to_returned), group="triage")

    async def _finish_action(
        self, action: Awaitable[str | None], clears_selection: bool, undoable: bool, to_returned: bool
    ) -> None:
        """Await the desk, say what it did, reload the list; then the open conversation."""
        try:
            try:
                description = await run_and_notify(self, action, title="Could not do that")
            except Failed:
                return
            if description is None:
                return
            if clears_selection:
                self.queue.clear_selection()
            self.last_action = description
            if undoable:
                first = self.send_first()
                description += f"  (u takes back the reply to #{first} first)" if first is not None else "  (u undoes)"
            self.notify(description, timeout=4, markup=False)
            await self._reload_list(to_returned=to_returned)
        finally:
            self.app.type_ahead.release(self.app)
        await self._reload_conversation()

    @staticmethod
    async def _said(description: str) -> str:
        return description  # a prompt has already made the desk call

    async def _undo(self) -> str | None:
        assert self.desk is not None
        undone = await self.desk.undo()
        if undone is None:
            self.notify("Nothing to undo", timeout=3)
            return None
        return f"undid: {undone}"

    # The one rule of every conversation key (triage, reply, note, history, reasons,
    # attachments, merge, follow-up): the focused pane decides. In the conversation pane, the
    # conversation it shows, whatever the queue's cursor or selection; anywhere else, the queue:
    # its selected rows, else the row under the cursor (keys that take one: the cursor's row).
    # The pane does not follow the cursor, so after a row leaves the queue (a reply makes it
    # pending) the queue's keys act on the row now under the cursor, not on what is still shown.

    def reading(self) -> int | None:
        """The open conversation while its pane has the focus, else None."""
        conv = self.conversation_pane.conversation
        return conv.id if conv is not None and self.focus_within(self.conversation_pane) else None

    def from_selection(self) -> bool:
        """Whether ``targets`` are the queue's selected rows."""
        return self.reading() is None and bool(self.queue.selected)

    def targets(self) -> list[int]:
        """The open conversation when its pane has the focus; else the selected rows; else the
        row under the cursor."""
        one = self.reading()
        if one is not None:
            return [one]
        selected = self.queue.selected_ids
        if selected:
            return selected
        one = self.queue.current_id
        return [] if one is None else [one]

    def one_target(self) -> int | None:
        """The open conversation when its pane has the focus, else the row under the cursor."""
        one = self.reading()
        return one if one is not None else self.queue.current_id

    def naming(self, ids: list[int]) -> str:
        """"#12 Charged twice for…" for one, "12 conversations" for more."""
        if len(ids) != 1:
            return f"{len(ids)} conversations"
        row = self.queue.row(ids[0])
        conv = self.conversation_pane.conversation
        subject = row.subject if row else conv.subject if conv is not None and conv.id == ids[0] else ""
        subject = " ".join(subject.split())
        return f"#{ids[0]} {fit(subject, 36).rstrip()}" if subject else f"#{ids[0]}"

    def _me(self) -> str | None:
        """The agent at this desk, for "assign to me"."""
        assert self.desk is not None
        me = self.desk.agent
        return me if me.strip() else None

    async def _prepare_reload(self, to_returned: bool = False) -> tuple[list[int], int | None, list]:
        """(ids, the row to keep the cursor on, the rows that will be on screen): everything
        the reload needs, fetched before the list changes, so it changes in one frame."""
        assert self.desk is not None
        ids = await self.list_ids(self.query_text)
        queue = self.queue
        keep = queue.current_id
        if to_returned:
            before = set(queue.ids)
            keep = next((i for i in ids if i not in before), keep)
        window = queue.window_after(ids, keep, queue.cursor)
        return ids, keep, await self.desk.queue_rows(window) if window else []

    async def _with_reload_prepared(self, action: Awaitable[str]) -> str:
        """A prompt's desk call, then the reload's fetching, both before the prompt closes: the
        prompt's removal and the new list reach the screen in one frame."""
        description = await action
        try:
            self._prepared_reload = (time.monotonic(), await self._prepare_reload())
        except Exception:  # noqa: BLE001 - _reload_list tries again and says why
            self._prepared_reload = None
        return description

    async def _reload_list(self, *, to_returned: bool = False) -> None:
        """The list again for the current view and search; the cursor on the same row, or on
        the one that took its place. ``to_returned`` (undo): on a row that came back, if any."""
        prepared, self._prepared_reload = self._prepared_reload, None
        if prepared is not None and time.monotonic() - prepared[0] < RELOAD_FRESH_FOR and not to_returned:
            prepared = prepared[1]
        else:
            try:
                prepared = await run_and_notify(self, self._prepare_reload(to_returned),
                                                prefix="Could not reload the queue: ", value_error=None)
            except Failed:
                return
        ids, keep, rows = prepared
        queue = self.queue
        queue.set_ids(
            ids,
            keep=keep,
            at=queue.cursor,
            empty_text=self.empty_text(self.query_text),
            keep_scroll=True,
            rows=rows,
        )
        self.update_queue_subtitle()

    async def _reload_conversation(self) -> None:
        """The open conversation's header with its new status and tags."""
        assert self.desk is not None
        pane = self.conversation_pane
        conv = pane.conversation
        if conv is None:
            return
        try:
            fresh = await self.desk.conversation(conv.id)
        except Exception:  # noqa: BLE001 - the header stays as it was; the queue is right
            return
        if fresh is not None and pane.conversation is not None and pane.conversation.id == conv.id:
            await pane.show(fresh, keep_place=True)
