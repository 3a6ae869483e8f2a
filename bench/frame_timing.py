"""Key and frame timing shared by the UI benches (bench/ui_bench.py, bench/triage_bench.py), in
their child processes: what the screen hands to the terminal frame by frame, keys sent as Pilot
sends them, and waiting for a frame or for the app to settle.

Imported by the children after their timed imports; only `os` and `time` are imported here up front.
"""

from __future__ import annotations

import os
import time


def record_gc(runs: list[tuple[int, float, float]]) -> None:
    """Every garbage collection from now on goes to runs as (generation, start, end), so a slow
    key can be told apart: a full collection inside its frame."""
    import gc

    start = [0.0]

    def callback(phase: str, info: dict) -> None:
        if phase == "start":
            start[0] = time.perf_counter()
        else:
            runs.append((info["generation"], start[0], time.perf_counter()))

    gc.callbacks.append(callback)


def install_frame_probe(probe) -> None:
    """Patch the screen and the queue so `probe` sees each frame: `timer_start`, when its work
    began (the screen's update timer, or a layout outside it: a mount, a resize, a screen pushed
    or popped), and the queue lines drawn in it (`lines`; of them `rows` loaded, `missing` not)."""
    from textual.screen import Screen

    from tui_desk.ui.queue import QueueView

    original_timer_update = Screen._on_timer_update

    def timer_update(self: Screen) -> None:
        probe.timer_start = time.perf_counter()
        original_timer_update(self)

    Screen._on_timer_update = timer_update  # type: ignore[method-assign]  # timing probe on the live class
    original_refresh_layout = Screen._refresh_layout

    def refresh_layout(self: Screen, *args, **kwargs) -> None:
        if probe.timer_start is None:
            probe.timer_start = time.perf_counter()
        original_refresh_layout(self, *args, **kwargs)

    Screen._refresh_layout = refresh_layout  # type: ignore[method-assign]  # timing probe on the live class
    original_render_line = QueueView.render_line

    def render_line(self: QueueView, y: int):
        strip = original_render_line(self, y)
        probe.lines += 1
        ids = self.ids
        if ids:
            index = (int(self.scroll_y) + y) // max(1, self._lines_per_row)
            if index < len(ids):
                if self.row(ids[index]) is None:
                    probe.missing += 1
                else:
                    probe.rows += 1
        return strip

    QueueView.render_line = render_line  # type: ignore[method-assign]  # timing probe on the live class


def frame_counting_app(on_frame):
    """A DeskApp that encodes each frame it hands to the terminal as the terminal driver does
    (the headless driver skips that work), then calls on_frame(app, screen)."""
    from textual._compositor import CompositorUpdate

    import tui_desk.ui.app as app_module

    class BenchApp(app_module.DeskApp):
        # relative paths are read next to the module of the class that sets them
        CSS_PATH = os.path.join(os.path.dirname(app_module.__file__), app_module.DeskApp.CSS_PATH)

        def _display(self, screen, renderable) -> None:
            super()._display(screen, renderable)
            if renderable is None or self._batch_count:
                return
            if self.is_headless and isinstance(renderable, CompositorUpdate):
                renderable.render_segments(self.console)
            on_frame(self, screen)

    return BenchApp


class FrameProbe:
    """Frames as the screen hands them to the terminal, and what the queue drew in them
    (install_frame_probe counts `lines`, `rows`, `missing`; its
    `timer_start` is when the frame's work began). `frames` holds (start, end, queue lines,
    rows drawn, rows missing, *the fields frame_done was given, *frame_end_fields())."""

    def __init__(self) -> None:
        import asyncio

        self.frames: list[tuple] = []
        self.timer_start: float | None = None
        self.lines = self.rows = self.missing = 0
        self.last_end = 0.0
        self.last_queue_missing = 0
        self.event = asyncio.Event()

    def frame_end_fields(self) -> tuple:
        """More of the frame, measured at its end (after `end`)."""
        return ()

    def drawn(self) -> None:
        """Called for each frame before its counts start again from zero."""

    def frame_done(self, *fields) -> None:
        end = time.perf_counter()
        self.frames.append((self.timer_start, end, self.lines, self.rows, self.missing, *fields,
                            *self.frame_end_fields()))
        if self.lines:
            self.last_queue_missing = self.missing
        self.drawn()
        self.timer_start = None
        self.lines = self.rows = self.missing = 0
        self.last_end = end
        self.event.set()


def send_key(app, key: str, character: str | None = None) -> float:
    """The key through the app's driver, as Pilot sends it; returns when it was sent."""
    from textual import events

    if character is None and len(key) == 1:
        character = key
    event = events.Key(key, character)
    event.set_sender(app)
    t = time.perf_counter()
    app._driver.send_message(event)
    return t


async def wait_for(probe: FrameProbe, predicate, timeout: float, what: str, running_app,
                   poll: float | None = None) -> None:
    """Until predicate() holds, looked at after each frame (and every `poll` seconds, if given);
    an error when `timeout` passes first or the app (running_app(), None before it runs) stops."""
    import asyncio

    deadline = time.perf_counter() + timeout
    while not predicate():
        app = running_app()
        if app and (app._exception is not None or app.return_code is not None):
            raise RuntimeError(f"the app stopped: {app._exception or app.return_code}")
        probe.event.clear()
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise TimeoutError(f"timed out waiting for {what}")
        try:
            await asyncio.wait_for(probe.event.wait(), remaining if poll is None else min(remaining, poll))
        except asyncio.TimeoutError:
            pass


async def settle(probe: FrameProbe, quiet: float, timeout: float, idle=lambda: True) -> None:
    """Until no frame came for `quiet` seconds, the queue drew no row still missing and idle()
    holds; at most `timeout` seconds."""
    import asyncio

    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        await asyncio.sleep(0.005)
        if time.perf_counter() - probe.last_end >= quiet and not probe.last_queue_missing and idle():
            return
