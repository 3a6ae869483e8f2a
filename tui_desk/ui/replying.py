"""The main view's reply keys (r R f n s O, and u while a send waits): the compose screen
with the draft, notes, attachments and the outbox.

A mixin of ui.main_screen.MainScreen: it uses the screen's panes and its targets.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import work

from tui_desk.ui.notify import Failed, run_and_notify, withdraw
from tui_desk.ui.outbox import waiting_line
from tui_desk.ui.typeahead import desk_key

if TYPE_CHECKING:
    from tui_desk.desk.views import ConversationView
    from tui_desk.ui.compose import Queued
    from tui_desk.ui.app_base import MainViewScreen as _Base
else:
    _Base = object


class ReplyActions(_Base):
    """Replying to the open conversation when its pane has the focus, else the cursor's row
    (the rule: ui.triage_actions.TriageActions.targets)."""

    @desk_key
    async def action_forward(self) -> None:
        """f: forward, from the open conversation (when focused) or the current row."""
        await self.action_reply(forward=True)

    @desk_key
    async def action_reply(self, reply_all: bool = False, forward: bool = False) -> None:
        """r / R: the compose screen for the open conversation (when focused) or the current row."""
        await self.app.type_ahead.idle()
        conv_id = self.one_target()
        if conv_id is None:
            self.notify("No conversation to reply to", severity="warning", timeout=3)
            return
        await self.open_compose(conv_id, reply_all, forward=forward)

    @desk_key
    async def action_attachments(self) -> None:
        """s: the attachments of the open conversation (when focused) or the current row."""
        desk = self.desk
        assert desk is not None
        target = self.one_target()
        conv = self.conversation_pane.conversation
        if target is not None and (conv is None or conv.id != target):
            conv = await desk.conversation(target)
        if conv is None:
            self.notify("No conversation to act on", severity="warning", timeout=3)
            return
        from tui_desk.desk.attachments import default_save_dir
        from tui_desk.ui.attachments import AttachmentsScreen
        await self.app.push_screen(AttachmentsScreen(conv, desk.save_attachment, desk.open_attachment,
                                                     str(default_save_dir())))

    @desk_key
    async def action_note(self) -> None:
        """n: an internal note on the open conversation (when focused) or the current row."""
        await self.app.type_ahead.idle()
        desk = self.desk
        assert desk is not None
        conv_id = self.one_target()
        if conv_id is None:
            self.notify("No conversation to add a note to", severity="warning", timeout=3)
            return
        try:
            agents = await desk.known_agents()
        except Exception:  # noqa: BLE001 - mentions are a help, not a need
            agents = []

        def added(said: str | None) -> None:
            if said:
                self.notify(said, timeout=4, markup=False)
                self.open_conversation(conv_id)

        from tui_desk.ui.note import NoteScreen
        await self.app.push_screen(NoteScreen(f"Note on {self.naming([conv_id])}",
                                              lambda body: desk.add_note(conv_id, body), agents), callback=added)

    async def open_compose(self, conv_id: int, reply_all: bool = False, forward: bool = False,
                           said: str | None = None) -> None:
        """Load the conversation and its draft, then the compose screen. Keys typed meanwhile
        wait (ui/typeahead.py) and then land in the body. ``said``: how the draft came back (an
        undone or cancelled send), kept on screen. A reply to the conversation still in the
        outbox is said there too, as long as the screen is open."""
        desk = self.desk
        assert desk is not None
        type_ahead = self.app.type_ahead
        type_ahead.hold()
        try:
            async def load() -> tuple:
                return (await desk.conversation(conv_id), await desk.draft(conv_id),
                        await asyncio.to_thread(desk.snippets))
            try:
                conv, draft, snippets = await run_and_notify(self, load(), value_error=None,
                                                             prefix=f"Could not open a reply to #{conv_id}: ")
            except Failed:
                return
            if conv is None:
                self.notify(f"Conversation #{conv_id} no longer exists", severity="warning")
                return
            try:  # the team will not see it; writing still works
                seen_upto = await run_and_notify(self, desk.reply_started(conv_id), severity="warning",
                                                 prefix="Could not tell the team you are replying: ",
                                                 value_error=None)
            except Failed:
                seen_upto = None
            headers: tuple[str, str, str] | str = ("", "", "")
            if forward:
                try:
                    headers = ("", "", await desk.forward_preview(conv_id))
                except Exception:  # noqa: BLE001 - only a preview; the desk decides on sending
                    headers = ("", "", "")
            else:
                try:
                    headers = await desk.reply_preview(conv_id, reply_all or bool(draft and draft[1]))
                except ValueError as exc:  # nobody to reply to: said on the To line
                    headers = str(exc)
                except Exception:  # noqa: BLE001 - only a preview; the desk decides on sending
                    headers = "could not work out the recipients"

            async def reply(conv_id: int, body: str, reply_all: bool = False,
                            send_at_text: str | None = None) -> tuple[int, str]:
                if screen.forward:
                    return await desk.forward(conv_id, screen.forward_to, body, send_at_text, seen_upto=seen_upto,
                                              attachments=screen.attachments, snippets=screen.snippets_used)
                return await desk.reply(conv_id, body, reply_all, send_at_text, seen_upto=seen_upto,
                                        attachments=screen.attachments, snippets=screen.snippets_used)

            from tui_desk.ui.compose import ComposeScreen
            screen = ComposeScreen(
                conv,
                reply_all=reply_all,
                reply=reply,
                save_draft=desk.save_draft,
                draft=draft,
                load_draft=desk.draft,
                snippets=snippets,
                known_placeholders=desk.reply_placeholders(),
                forward=forward,
                headers=headers,
                fills=lambda body: desk.reply_fills(conv_id, body),
                outbox_line=None if forward else (said or await self._waiting_reply(conv)),
                replying=conv.replying,  # the collision warning: a line there while it holds
                still_replying=lambda: desk.others_replying(conv_id),
            )

            def closed(queued: Queued | None) -> None:
                self.run_worker(desk.reply_ended(conv_id), group="replying", exit_on_error=False)
                if screen.discarded:  # Ctrl+D: the desk's discard, said with "u undoes", the ✎draft gone
                    self.later_action()  # u undoes the discard, after a send in its window
                    self.start_action(desk.discard_draft(conv_id), clears_selection=False)
                self._reply_queued(queued)

            await self.app.push_screen(screen, callback=closed)
        finally:
            type_ahead.release(self.app)

    async def _waiting_reply(self, conv: ConversationView) -> str | None:
        """The line saying a reply to ``conv`` still waits in the outbox (ui.outbox.waiting_line)."""
        assert self.desk is not None
        try:
            entries = await self.desk.outbox()
        except Exception:  # noqa: BLE001 - a warning only; the reply can be written all the same
            return None
        pending = self.pending_send.outbox_id if self.pending_send is not None else None
        return waiting_line(conv, entries, pending, self.clock())

    def _reply_queued(self, queued: Queued | None) -> None:
        if queued is None:
            return
        assert self.desk is not None
        self.pending_send = queued
        self.pending_until = self.clock().timestamp() + max(self.desk.undo_send_seconds(), default=0)
        self.last_action = queued.description
        self.notify(_undo_notice(queued), timeout=10 if not queued.later else 5, markup=False)

    # u and a send. Gmail's Undo on the send toast always means the send, so while the undo
    # window runs, u takes the newest send back first, whatever was done to the queue since
    # (Ctrl+S c u: the reply comes back, the close stays, the next u undoes it). A later send
    # takes the place of an older one (O cancels that). Once the window is over, the next
    # action takes u back; without one, u says what became of the reply ("has gone (sent 9:14)").

    def send_first(self) -> int | None:
        """The conversation whose reply u takes back before the action just done, if any."""
        pending = self.pending_send
        return pending.conv_id if pending is not None and self.clock().timestamp() < self.pending_until else None

    def later_action(self) -> None:
        """An action after the send's undo window takes u from it."""
        if self.pending_send is not None and self.clock().timestamp() >= self.pending_until:
            self.pending_send = None

    def replies_went(self, outbox_ids: list[int]) -> None:
        """The outbox sent these: the pending send's "u to undo" toast is no longer true."""
        pending = self.pending_send
        if pending is not None and pending.outbox_id in outbox_ids:
            withdraw(self.app, _undo_notice(pending))

    @desk_key
    def action_outbox(self) -> None:
        """O: the outbox."""
        desk = self.desk
        assert desk is not None

        def no_longer_pending(outbox_id: int) -> None:
            if self.pending_send is not None and self.pending_send.outbox_id == outbox_id:
                withdraw(self.app, _undo_notice(self.pending_send))  # no longer true
                self.pending_send = None

        cancelled: list[str] = []  # what the desk said: the compose screen keeps it on screen

        async def cancel(outbox_id: int) -> str:
            said = await desk.cancel_send(outbox_id)
            no_longer_pending(outbox_id)
            cancelled.append(said)
            return said

        async def send_now(outbox_id: int) -> str:
            said = await desk.send_now(outbox_id)
            no_longer_pending(outbox_id)
            return said

        async def back_to_draft(conv_id: int | None) -> None:
            if conv_id is not None and self.is_current:
                await self.open_compose(conv_id, said=cancelled[-1] if cancelled else None)

        async def has_draft(conv_id: int) -> bool:  # a follow-up's cancelled mail leaves none
            return await desk.draft(conv_id) is not None

        from tui_desk.ui.outbox import OutboxScreen
        self.app.push_screen(OutboxScreen(desk.outbox, cancel, self.clock, desk.send_anyway, desk.discard_send,
                                          send_now, has_draft=has_draft), callback=back_to_draft)

    @work(group="cancel-send")
    async def cancel_send(self, queued: Queued) -> None:
        """u after a send: take it back from the outbox; the text returns to the draft. When it
        cannot, the desk says why ("the reply to #13 has gone (sent 9:14)"), and that is all."""
        assert self.desk is not None
        try:
            said = await run_and_notify(self, self.desk.cancel_send(queued.outbox_id), severity="error",
                                        title="Could not undo the send", value_error="warning")
        except Failed:
            withdraw(self.app, _undo_notice(queued))
            return
        self.app.clear_notifications()  # "Sending in 10 s", "u takes back the reply first": no longer true
        self.notify(said, timeout=4, markup=False)
        if self.is_current:
            await self.open_compose(queued.conv_id, said=said)


def _undo_notice(queued: Queued) -> str:
    """The toast a queued reply is said with."""
    return f"{queued.description} — u to undo"
