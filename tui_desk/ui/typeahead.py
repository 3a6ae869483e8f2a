"""Type-ahead: keys typed faster than the screen answers still do what they would have done
typed slowly. One place for the two ways a key is kept for later:

- held: while the desk works (a triage action reloading the list, a reply being opened, a
  prompt applying), keys wait and are typed again once it is done: "c j c" closes the
  next-but-one conversation, "tbug⏎c" tags then closes the next.
- passed on: a key queued to a text box that has already lost the focus (Enter or "/" moved it
  while a burst was arriving) goes back to the app, as if just typed, to reach the widget that
  has the focus now.
- behind Enter in a text box: Enter does not move the focus itself. Input's binding runs once
  the key has bubbled up to the app and posts Submitted, whose handler moves the focus; the
  keys right behind Enter ("/payment⏎j" typed at once) are queued to the box before either,
  and the box still has the focus when they reach it. So the box takes Enter on arrival
  (submit_holding): the keys behind it wait until every handler of its Submitted has run, then
  are typed again and reach the widget focused by then.

Keys are typed again through the app, not straight to a widget: the queue's keys and the
triage keys are priority bindings, which the app checks before it forwards a key.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from typing import Any

from textual import events
from textual.actions import SkipAction
from textual.message import Message
from textual.message_pump import MessagePump
from textual.widgets import Input


def retype(key: events.Key, target: MessagePump) -> None:
    """``key`` again, as if just typed, to ``target`` (the app, or a prompt's text box)."""
    target.post_message(events.Key(key.key, key.character))


def pass_on_if_unfocused(widget: Any, event: events.Key, *, nothing_focused_too: bool = False) -> bool:
    """In a text box's key handler: a key that arrived after the focus moved on is handed back
    to the app (True: the box must not type it). Run it in a public ``on_key``: a subclass's
    handler runs before Input's own, and preventing the default keeps Input from typing it.
    ``nothing_focused_too``: also when the screen has no focus at all."""
    focused = widget.screen.focused
    if focused is widget or (focused is None and not nothing_focused_too):
        return False
    event.stop()
    event.prevent_default()
    retype(event, widget.app)
    return True


class KeyHold:
    """Keys wait while something is busy, and are typed again, in order, when it is done."""

    def __init__(self) -> None:
        self._idle = asyncio.Event()
        self._idle.set()
        self._held: list[events.Key] = []
        self._forwarded = 0  # how many of _held reached a widget before the hold began

    @property
    def busy(self) -> bool:
        return not self._idle.is_set()

    def hold(self) -> None:
        """From now on keys wait (call it before the work starts: the next key may be queued)."""
        self._idle.clear()

    async def idle(self) -> None:
        """Until nothing holds the keys."""
        await self._idle.wait()

    def take(self, event: events.Key) -> bool:
        """True when the key is held (the caller must not handle it now). Keys the app forwards
        to a widget have passed here already."""
        if not self.busy or event.is_forwarded:
            return False
        self._held.append(events.Key(event.key, event.character))
        return True

    def keep(self, event: events.Key) -> None:
        """Hold this key whatever the state (a prompt's box while it applies)."""
        self._held.append(events.Key(event.key, event.character))

    def keep_forwarded(self, event: events.Key) -> None:
        """Hold a key the app forwarded to a widget before the hold began, reaching it only
        now: it was typed before the keys the app has held since, so it goes before them."""
        self._held.insert(self._forwarded, events.Key(event.key, event.character))
        self._forwarded += 1

    def release(self, target: MessagePump) -> None:
        """Done: the held keys are typed again to ``target``."""
        self._idle.set()
        held, self._held = self._held, []
        self._forwarded = 0
        for key in held:
            retype(key, target)


class SubmitHandled(Message):
    """Posted by a text box right behind its Submitted, so it bubbles the same way behind it:
    when it reaches the app, every handler of that Submitted has run (the app releases the
    keys typed behind Enter: release_if_held)."""

    def __init__(self, box: Input) -> None:
        super().__init__()
        self.box = box


def release_if_held(box: Any) -> None:
    """The keys held since Enter in ``box`` are typed again (once: by its SubmitHandled, or
    when the box goes away before that reached the app)."""
    if getattr(box, "holding_keys", False):
        box.holding_keys = False
        box.app.type_ahead.release(box.app)


async def submit_holding(box: Input, event: events.Key) -> bool:
    """In a text box's ``on_key``: Enter submits now, and the keys behind it wait for the
    Submitted's handlers (True: the box must not handle the key itself). A key reaching the
    box while keys are held waits with them, in the order typed."""
    type_ahead = box.app.type_ahead
    if event.key == "enter":
        type_ahead.hold()
        box.holding_keys = True  # type: ignore[attr-defined]
        await box.action_submit()
        box.post_message(SubmitHandled(box))
    elif type_ahead.busy:
        type_ahead.keep_forwarded(event)
    else:
        return False
    event.stop()
    event.prevent_default()
    return True


def desk_key(action: Callable[..., Any]) -> Callable[..., Any]:
    """For the main view's letter keys (priority bindings, so they act before the keys behind
    them are read): typed into a box they are just text: the action skips itself and the key
    goes on. Typed while the first page shows and the desk still opens, an async action waits
    for the desk (the keys behind it wait too, as type-ahead); a plain one has nothing to act
    on yet and skips. A desk that cannot open (the app's start says why) skips."""

    def skip(screen: Any) -> None:
        if isinstance(screen.focused, Input) or screen.desk is None:
            raise SkipAction()

    if inspect.iscoroutinefunction(action):
        @functools.wraps(action)
        async def run_async(screen: Any, *args: Any, **kwargs: Any) -> Any:
            if screen.desk is None and not isinstance(screen.focused, Input):
                await screen.opened_desk()
            skip(screen)
            return await action(screen, *args, **kwargs)
        return run_async

    @functools.wraps(action)
    def run(screen: Any, *args: Any, **kwargs: Any) -> Any:
        skip(screen)
        return action(screen, *args, **kwargs)
    return run
