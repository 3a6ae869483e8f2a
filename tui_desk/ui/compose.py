"""The compose screen: a Markdown reply to one conversation, with its draft kept as it is typed.

The desk computes the real recipients, subject and headers when the reply is queued; the lines
on top are a preview from the conversation. Placeholders are filled on sending; the Fills line
shows each one's value as the desk would fill it now (DeskService.reply_fills: plain text through
the one sanitizer, shown as text, never markup), or why it has none (unknown, not in the
customer's mail) and that the send waits for it; the desk refuses such a send (its message is
shown, the screen stays).

The body is a BodyArea: whatever fills it (a snippet, a draft, a paste, the external editor's text)
goes through the one sanitizer (tui_desk.sanitize) as it comes in, so escape sequences and bidi
controls never reach the terminal, and what is sent is the text the agent saw: ESC sequences and
other controls gone, a bidi control as the sanitizer's visible marker.

The snippets a reply used are read from its text when it is queued (desk.snippets.used_snippets),
so an undone send, a draft sent later and a direct send record them alike. Typing them (``::name``,
Tab, Ctrl+O) is ui/compose_snippets.py's. Ctrl+D discards the draft: the screen below asks the
desk (DeskService.discard_draft, undoable with u). A teammate replying too is a line of its own,
beside the outbox's, for as long as it holds.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from textual import events, on
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Collapsible, Footer, Input, Static, TextArea
from textual.widgets.text_area import Edit, EditResult

from tui_desk.desk.snippets import for_agents, placeholders
from tui_desk.desk.views import ConversationView, Fill, MessageView, Snippet
from tui_desk.sanitize import sanitize
from tui_desk.ui.compose_snippets import SnippetTyping
from tui_desk.ui.conversation import plain, split_sender
from tui_desk.ui.inputs import InOrderInput, InOrderTextArea, PathSuggester
from tui_desk.ui.registry import COMPOSE_BINDINGS, Group, compose_groups
from tui_desk.ui.text import literal
from tui_desk.ui.typeahead import pass_on_if_unfocused

AUTOSAVE_DELAY = 1.0  # seconds of no typing before the draft is saved
REPLYING_RECHECK = 20.0  # seconds between asks whether a teammate is still replying

Reply = Callable[[int, str, bool, "str | None"], Awaitable[tuple[int, str]]]
Fills = Callable[[str], Awaitable[list[Fill]]]  # a body's placeholders as the desk fills them now
Replying = Callable[[], Awaitable[tuple[str, ...]]]  # the teammates with a reply to it open now


def replying_line(names: tuple[str, ...] | list[str]) -> str | None:
    """"Alice Martin is replying to this conversation too", or None when nobody else is."""
    if not names:
        return None
    return f"{' and '.join(names)} {'is' if len(names) == 1 else 'are'} replying to this conversation too"


@dataclass(frozen=True)
class Queued:
    """What the compose screen hands back once the desk has queued the reply."""
    conv_id: int
    outbox_id: int
    description: str
    later: bool


def replied_message(conv: ConversationView) -> MessageView | None:
    """The message a reply answers: the customer's last (the desk picks the same one)."""
    mail = [m for m in conv.messages if not m.is_note]
    customer = [m for m in mail if not m.from_agent]
    return (customer or mail or [None])[-1]


class RecipientsInput(InOrderInput):
    """The forward's To line. Enter moves on to the body at once, so text typed right after it
    (a paste, a fast typist, keys bunched up over SSH) lands in the body, not on the To line."""

    def on_key(self, event: events.Key) -> None:
        # runs before Input's own handler; preventing the default keeps Input from typing it.
        # Enter moved on: keys queued here belong to the body
        if pass_on_if_unfocused(self, event, nothing_focused_too=True):
            return
        screen = self.screen
        if event.key == "enter" and isinstance(screen, ComposeScreen):
            event.stop()
            event.prevent_default()
            screen.set_focus(screen.body)


class BodyArea(InOrderTextArea):
    """The reply's Markdown, sanitized as it comes in (module docstring): every edit (typing, a
    paste, a snippet) goes through ``edit``, a whole text (a draft, the editor's) through
    ``load_text`` or the constructor. Its keys act in the order typed (InOrderTextArea: a word
    typed right behind Ctrl+A, Backspace is kept, not deleted with the selection).

    Tab never leaves the body (the focus went to the folded quote below, out of sight at 80x24,
    and the next keys with it): right after a ``::na`` token (at the line's start or after a
    space) it completes the snippet's name, elsewhere it indents, as in any editor (a nested
    Markdown list). Shift+Tab goes back to a
    forward's To line. Ctrl+A selects the whole body (Home goes to the line's start)."""

    BINDINGS = [Binding("ctrl+a", "select_all", "Select all", show=False)]

    def __init__(self, text: str = "", **kwargs) -> None:
        super().__init__(sanitize(text), **kwargs)

    def edit(self, edit: Edit) -> EditResult:
        clean = sanitize(edit.text)
        if clean != edit.text:
            edit = Edit(clean, edit.from_location, edit.to_location, edit.maintain_selection_offset)
        return super().edit(edit)

    def load_text(self, text: str) -> None:
        super().load_text(sanitize(text))

    async def _on_key(self, event: events.Key) -> None:
        screen = self.screen
        if event.key in ("tab", "shift+tab") and isinstance(screen, ComposeScreen) and not self.read_only:
            event.stop()
            event.prevent_default()
            if event.key == "shift+tab":
                if screen.forward:
                    screen.set_focus(screen.query_one("#compose-to-input"))
                return
            if not screen.complete_snippet():
                start, end = self.selection
                self._replace_via_keyboard(" " * self._find_columns_to_next_tab_stop(), start, end)
        # any other key: Textual calls InOrderTextArea's and TextArea's _on_key next


class ComposeScreen(SnippetTyping, Screen[Queued | None]):
    """To/Cc/Subject, the Markdown body, what it fills in, the quoted original (folded)."""

    BINDINGS = COMPOSE_BINDINGS  # described once, in ui/registry.py

    DEFAULT_CSS = """
    ComposeScreen {
        & > #compose {
            height: 1fr;
            padding: 0 1;
            border: round $primary;
            border-title-color: $text-primary;
            border-title-style: bold;
            border-subtitle-color: $text-muted;
        }
        & .compose--header { height: auto; color: $text-muted; }
        & #compose-subject { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
        & #compose-body { height: 1fr; min-height: 5; }
        & #compose-fills { height: auto; color: $text-muted; }
        & #compose-attach { height: auto; color: $text-accent; }
        & #compose-to-input { height: 1; border: none; padding: 0; background: $boost; }
        & #compose-note { height: auto; }
        & #compose-outbox, & #compose-replying { height: auto; color: $text-warning; text-style: bold; }
        & #compose-note.-error { color: $text-error; text-style: bold; }
        & #compose-quote { height: auto; max-height: 40%; padding: 0; border: none; }
        & #compose-quote Contents { padding: 0 0 0 1; color: $text-muted; }
    }
    """

    def __init__(
        self,
        conv: ConversationView,
        *,
        reply_all: bool,
        reply: Reply,
        save_draft: Callable[[int, str, bool], Awaitable[None]],
        draft: tuple[str, bool, str | None] | None,
        load_draft: Callable[[int], Awaitable[tuple[str, bool, str | None] | None]] | None = None,
        snippets: list[Snippet],
        known_placeholders: list[str],
        forward: bool = False,
        headers: tuple[str, str, str] | str = ("", "", ""),
        fills: Fills | None = None,
        outbox_line: str | None = None,
        replying: tuple[str, ...] = (),
        still_replying: Replying | None = None,
    ) -> None:
        """``forward``: the To line is typed by the agent and nothing is kept as the
        conversation's (reply) draft. ``headers``: (To, Cc, Subject) as the desk will send the
        reply (Desk.reply_preview), or the desk's reason why there is nobody to reply to.
        ``fills``: the values the placeholders get (Desk.reply_fills for this conversation).
        ``outbox_line``: shown for as long as the screen is open: a reply to the conversation
        already waits in the outbox (a second one would mail the customer twice), or a reply
        came back to the draft with the agent's draft kept below it.
        ``load_draft``: the store's draft of a conversation (DeskService.draft): Esc says the
        draft is kept only when there is one.
        ``replying``: the teammates with a reply to it open (the collision warning), a line
        beside ``outbox_line`` for as long as it is true: ``still_replying`` is asked again every
        REPLYING_RECHECK seconds."""
        self.headers = headers
        self.outbox_line = outbox_line
        self.replying = tuple(replying)
        self.still_replying = still_replying
        super().__init__(id="compose-screen")
        self.forward = forward
        self.attachments: list[str] = []  # paths, as the agent typed them
        if forward:
            draft = None
        self.conv = conv
        self.reply_all = reply_all or bool(draft and draft[1])
        self.reply = reply
        self.save_draft = save_draft
        self.load_draft = load_draft
        self.initial_body = sanitize(draft[0]) if draft else ""  # as the body shows it
        self.draft_error = draft[2] if draft else None
        self.snippets = {s.name: s for s in for_agents(snippets)}
        self.auto_only = {s.name for s in snippets if s.name not in self.snippets}
        self.known = set(known_placeholders)
        self.fills = fills
        self._filled: dict[str, Fill] = {}  # each placeholder's value, asked once: the desk's work
        self._asking: set[str] = set()  # asked, no answer yet (typing on does not ask again)
        self.busy = False
        self.done = False  # queued: nothing more is saved as a draft
        self._holding_keys = False  # the app's type-ahead, from Ctrl+S until the send is done
        self._saved_body = self.initial_body
        self._save_timer: Timer | None = None
        self.result: Queued | None = None
        self.discarded = False  # Ctrl+D: the screen below discards the draft (undoably)

    # --- building -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        conv = self.conv
        nobody = self.headers if isinstance(self.headers, str) else None
        to, cc, subject = ("", "", conv.subject) if nobody is not None else self.headers
        with Vertical(id="compose") as box:
            if self.forward:
                box.border_title = f"Forward · #{conv.id}"
                box.border_subtitle = "the customer's last mail goes attached · Esc closes"
                # back with Shift+Tab: the cursor at the end, to add one more (never all selected, typed over)
                yield RecipientsInput(placeholder="To: name@example.com, …", id="compose-to-input",
                                      select_on_focus=False)
                subject = subject or f"Fwd: {conv.subject}"  # the desk's (open_compose), else a guess
            else:
                box.border_title = ("Reply all" if self.reply_all else "Reply") + f" · #{conv.id}"
                box.border_subtitle = "::name inserts a snippet · Esc keeps the draft · ^D discards it"
                yield Static(
                    Content.assemble(("To: ", "bold"), to or f"({nobody or 'nobody'})"),
                    id="compose-to", classes="compose--header",
                )
                if cc:
                    yield Static(Content.assemble(("Cc: ", "bold"), cc), id="compose-cc", classes="compose--header")
            yield Static(Content.assemble(("Subject: ", "bold"), subject), id="compose-subject",
                         classes="compose--header")
            yield Static(literal(self.outbox_line or ""), id="compose-outbox")
            yield Static(literal(replying_line(self.replying) or ""), id="compose-replying")
            yield BodyArea(self.initial_body, id="compose-body", soft_wrap=True, tab_behavior="focus")
            yield Static("", id="compose-attach")
            yield Static("", id="compose-fills")
            yield Static("", id="compose-note")
            original = replied_message(conv)
            if original is not None:
                name, addr = split_sender(original.sender)
                text = "\n".join(b.text.strip("\n") for b in original.blocks if not b.quoted and b.text.strip())
                quoted = "\n".join(f"> {line}" if line else ">" for line in text.splitlines())
                # a str title is markup: "[/] x wrote" would not even compose
                with Collapsible(title=literal(f"{name or addr} wrote"), collapsed=True, id="compose-quote"):
                    yield Static(plain(quoted), id="compose-quote-text")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        area = self.body
        area.cursor_blink = self.app.is_headless is False
        area.move_cursor(area.document.end)
        # now: keys typed right after "r" belong here (after "f", the recipient comes first)
        self.set_focus(self.query_one("#compose-to-input") if self.forward else area)
        self.query_one("#compose-attach").display = False
        self.query_one("#compose-outbox").display = bool(self.outbox_line)
        self.query_one("#compose-replying").display = bool(self.replying)
        if self.still_replying is not None:
            self.set_interval(REPLYING_RECHECK, self.recheck_replying)
        self._show_fills()
        if self.draft_error:
            self.set_note(f"The server refused the last send: {self.draft_error}", error=True)
        elif self.initial_body:
            self.set_note("Draft restored")

    def palette_groups(self) -> list[Group]:
        """The palette here offers the compose keys (ui/app.py asks the screen on top)."""
        return compose_groups()

    async def recheck_replying(self) -> None:
        """The collision line again: gone once the teammate closed the reply (or it expired)."""
        if self.still_replying is None or self.done:
            return
        try:
            names = tuple(await self.still_replying())
        except Exception:  # noqa: BLE001 - only a warning: the line stays as it was
            return
        if names != self.replying:
            self.replying = names
            line = self.query_one("#compose-replying", Static)
            line.update(literal(replying_line(names) or ""))
            line.display = bool(names)

    @property
    def body(self) -> TextArea:
        return self.query_one("#compose-body", TextArea)

    def set_note(self, text: str, *, error: bool = False) -> None:
        note = self.query_one("#compose-note", Static)
        note.set_class(error, "-error")
        note.update(literal(text))  # desk lines, servers' words, exceptions: sanitized, never markup

    # --- typing ---------------------------------------------------------------------------------

    @on(TextArea.Changed, "#compose-body")
    def _changed(self, event: TextArea.Changed) -> None:
        event.stop()
        if self.done:
            return
        self._expand_snippet()
        self._show_fills()
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(AUTOSAVE_DELAY, self._autosave)

    def _show_fills(self) -> None:
        names = placeholders(self.body.text)
        fills = self.query_one("#compose-fills", Static)
        if not names:
            fills.update(Content("Fills: nothing"))
            return
        missing = [n for n in names if n not in self._filled and n not in self._asking]
        if missing and self.fills is not None:
            self._asking.update(missing)
            self.run_worker(self._ask_fills(missing), group="compose-fills", exit_on_error=False)
        parts: list[str | tuple[str, str]] = ["Fills: "]
        for n, name in enumerate(names):
            parts.append(", " if n else "")
            got = self._filled.get(name)
            if got is not None and got.value is not None:
                # the value as the customer will read it: text, never markup (Content.assemble)
                parts += ["{{" + name + "}}", ' = "', (got.value, "bold"), '"']
            elif got is not None:
                parts += [("{{" + name + "}}", "bold $text-error"), " " + got.why]
            else:  # not asked yet (or the desk could not say): whether the desk fills it at all
                known = name in self.known
                parts += [("{{" + name + "}}", "" if known else "bold $text-error"), " ✓" if known else " unknown"]
        fills.update(Content.assemble(*parts))

    async def _ask_fills(self, names: list[str]) -> None:
        """The desk's values for `names` (a reply's values do not depend on the text around them)."""
        assert self.fills is not None
        try:
            found = await self.fills(" ".join("{{" + n + "}}" for n in names))
        except Exception:  # noqa: BLE001 - only a preview: the line keeps saying known / unknown
            return
        finally:
            self._asking.difference_update(names)
        self._filled.update((f.name, f) for f in found)
        if not self.done:
            self._show_fills()

    # --- the draft --------------------------------------------------------------------------------

    async def _autosave(self) -> None:
        self._save_timer = None
        await self._save()

    async def _save(self) -> bool:
        """Keep the body as the draft; False (and said) when the store refused."""
        body = self.body.text
        if self.done or self.forward or body == self._saved_body:
            return True
        try:
            await self.save_draft(self.conv.id, body, self.reply_all)
        except Exception as exc:  # noqa: BLE001 - said, and the text stays on screen
            self.set_note(f"Could not save the draft: {exc}", error=True)
            return False
        self._saved_body = body
        return True

    @property
    def forward_to(self) -> str:
        return self.query_one("#compose-to-input", Input).value if self.forward else ""

    def action_attach(self) -> None:
        """Ctrl+T: a file to send along; the path completes as it is typed."""
        from tui_desk.ui.triage import ActionPrompt

        async def attach(value: str) -> str:
            path = Path(os.path.expanduser(value.strip()))
            if not path.is_file():
                raise ValueError(f"no such file: {value.strip()}")
            if not os.access(path, os.R_OK):
                raise ValueError(f"cannot read {value.strip()}")
            self.attachments.append(str(path))
            self._show_attachments()
            return f"attached {path.name}"

        prompt = ActionPrompt("Attach a file", apply=attach, placeholder="~/path/to/file",
                              suggester=PathSuggester(), hints=["Tab or → completes the path"])
        self.app.push_screen(prompt, callback=lambda said: self.set_note(said) if said else None)

    def _show_attachments(self) -> None:
        shown = self.query_one("#compose-attach", Static)
        shown.display = bool(self.attachments)
        shown.update(Content.assemble(("Attached: ", "bold"),
                                      ", ".join(Path(p).name for p in self.attachments)))

    async def action_discard(self) -> None:
        """Ctrl+D: throw the draft away and go back. The text is saved first, so the desk's
        discard (done by the screen below, which says "u undoes") can bring back what was shown."""
        if self.busy or self.done:
            return
        if self._save_timer is not None:
            self._save_timer.stop()
            self._save_timer = None
        if not self.forward and not await self._save():
            return
        self.done = True
        self.discarded = not self.forward and bool(self.body.text.strip())
        if self.forward:
            self.notify("Forward discarded", timeout=3)
        self.dismiss(None)

    async def action_close(self) -> None:
        """Esc: save the draft and go back."""
        if self._save_timer is not None:
            self._save_timer.stop()
            self._save_timer = None
        if not await self._save():
            return
        if self.body.text.strip() and not self.forward and await self._draft_there():
            self.notify(f"Draft of #{self.conv.id} kept; r reopens it", timeout=3)
        self.dismiss(None)

    async def _draft_there(self) -> bool:
        """Whether the store holds the conversation's draft: text on screen is not one (a merge
        made elsewhere may have taken it to the conversation it went into)."""
        if self.load_draft is None:
            return True
        try:
            return await self.load_draft(self.conv.id) is not None
        except Exception:  # noqa: BLE001 - not known: nothing is claimed
            return False

    # --- sending --------------------------------------------------------------------------------

    def action_send(self) -> None:
        if self.busy:
            return
        self.busy = True
        # what was on screen at Ctrl+S is what is sent: keys typed after it are not the mail's,
        # they wait (ui/typeahead.py) and reach the queue once the compose screen is gone
        self.app.type_ahead.hold()  # type: ignore[attr-defined]
        self._holding_keys = True
        # Ctrl+S overtakes characters still queued for the body (see NoteScreen.action_save):
        # the body is read once it has taken those, before any key typed after Ctrl+S
        self.body.call_later(self._freeze_and_send)

    def _freeze_and_send(self) -> None:
        self._expand_snippet()  # "::name " typed just before Ctrl+S, as its Changed would
        self.run_worker(self._send_now(self.body.text), group="compose-send")

    async def _send_now(self, text: str) -> None:
        try:
            await self.queue(None, text=text)
            self.dismiss(self.result)
        except ValueError as exc:
            self.set_note(str(exc), error=True)
        except Exception as exc:  # noqa: BLE001 - the store failing is said, never a crash
            self.set_note(f"Could not queue the reply: {exc}", error=True)
        finally:
            self._release_keys()  # sent: to the screen below; refused: back into the body, as typed

    def _release_keys(self) -> None:
        if self._holding_keys:
            self._holding_keys = False
            self.app.type_ahead.release(self.app)  # type: ignore[attr-defined]

    def on_unmount(self) -> None:
        self._release_keys()  # gone before the send could start (never the keyboard held for good)

    async def queue(self, send_at_text: str | None, *, text: str | None = None) -> str:
        """Hand the reply to the desk; raises its ValueError (unknown placeholder, bad time).
        `text`: the body as it was when the agent sent it (default: as it is now)."""
        self.busy = True
        try:
            if self._save_timer is not None:
                self._save_timer.stop()
                self._save_timer = None
            outbox_id, description = await self.reply(
                self.conv.id, self.body.text if text is None else text, self.reply_all, send_at_text
            )
        finally:
            self.busy = False
        self.done = True
        self.result = Queued(self.conv.id, outbox_id, description, send_at_text is not None)
        return description

    def action_send_later(self) -> None:
        from tui_desk.ui.triage import send_later_prompt

        prompt = send_later_prompt("Send later", self.queue, self.app.clock())  # type: ignore[attr-defined]

        def closed(description: str | None) -> None:
            if self.result is not None:
                self.dismiss(self.result)
            else:
                self.set_focus(self.body)

        self.app.push_screen(prompt, callback=closed)

    # --- writing elsewhere ------------------------------------------------------------------------

    def action_edit_externally(self) -> None:
        """Ctrl+E: the body in $VISUAL / $EDITOR; what is saved there comes back."""
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        fd, name = tempfile.mkstemp(prefix=f"tui-desk-reply-{self.conv.id}-", suffix=".md")
        path = Path(name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(self.body.text)
            command = [*shlex.split(editor), str(path)]
            try:
                with self.app.suspend():
                    code = subprocess.call(command)
            except SuspendNotSupported:  # no terminal to hand over (tests, web): run it blind
                code = subprocess.call(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            self.set_note(f"Could not run {editor}: {exc}", error=True)
            return
        finally:
            path.unlink(missing_ok=True)
        if code != 0:
            self.set_note(f"{editor} exited with status {code}; the text is unchanged", error=True)
            return
        area = self.body
        area.load_text(text.rstrip("\n") + ("\n" if text.endswith("\n") else ""))
        area.move_cursor(area.document.end)
        self.set_focus(area)
        self._show_fills()
        self.set_note(f"Back from {Path(shlex.split(editor)[0]).name}")
        self.run_worker(self._save(), group="compose-save")
