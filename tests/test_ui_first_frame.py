"""The first frame holds the queue; what the other panes hold comes a frame later (issue 14:
first paint). Keys typed at once after start, before those widgets exist, still do what they
would do typed later."""

from __future__ import annotations

import pytest
from textual import events

try:
    from tests.ui_fake_desk import settle
    from tests.ui_support import make_app, screen_lines
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_desk import settle
    from ui_support import make_app, screen_lines

WIDE = (120, 40)
SMALL = (80, 24)


@pytest.fixture(autouse=True)
def _private_state(tmp_path, monkeypatch):
    """The remembered theme goes to a temporary state dir, never the user's."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
def frames_at_build(monkeypatch) -> list[int]:
    """How many frames the app had painted when the snippet pane's widgets were mounted."""
    from tui_desk.ui.app import DeskApp
    from tui_desk.ui.snippets import SnippetPane

    frames: list[None] = []
    seen: list[int] = []
    display, build = DeskApp._display, SnippetPane.build

    def counted_display(self, screen, renderable) -> None:
        frames.append(None)
        display(self, screen, renderable)

    def recorded_build(self) -> None:
        if not self.children:
            seen.append(len(frames))
        build(self)

    monkeypatch.setattr(DeskApp, "_display", counted_display)
    monkeypatch.setattr(SnippetPane, "build", recorded_build)
    return seen


def type_at_once(app, *keys: str) -> None:
    """Keys as a fast typist's burst reaches the app: all queued before it handles the first.
    Before the app runs: as keys typed right after launch, which Textual's input thread hands
    over while the app builds its screen, ahead of what its start queues."""
    for key in keys:
        name = {"/": "slash", "\t": "tab"}.get(key, key)
        event = events.Key(name, key if len(key) == 1 else None)
        event.set_sender(app)
        app.post_message(event)


async def test_the_snippet_pane_is_filled_a_frame_after_the_queue(frames_at_build):
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        pane = app.snippet_pane
        await settle(pilot)
        assert frames_at_build and frames_at_build[0] >= 1  # the first frame is the queue's
        assert [c.id for c in pane.children] == ["snippet-filter", "snippet-list", "snippet-fills",
                                                  "snippet-preview-scroll"]
        assert len(pane.shown) >= 10 and pane.current is pane.shown[0]


async def test_s_and_a_filter_typed_at_start_reach_the_snippet_filter(frames_at_build):
    """At 80 columns S brings the folded pane over the conversation, its filter focused; the
    keys right behind it are the filter's, "/" too (in a text box it is text, not search)."""
    app = make_app()
    type_at_once(app, "S", *"pass", "/")
    async with app.run_test(size=SMALL) as pilot:
        pane = app.snippet_pane
        await settle(pilot)
        assert frames_at_build == [0]  # the keys came before the first frame, and the pane's widgets
        assert pane.display and not app.conversation_pane.display
        assert app.focused is pane.filter_input and pane.filter_input.value == "pass/"
        assert not app.query_one("#queue-pane").has_class("-searching")
        type_at_once(app, "backspace")
        await settle(pilot)
        assert pane.shown and pane.shown[0].name == "password-reset"
        assert pane.current is pane.shown[0]


async def test_tab_and_a_filter_typed_at_start_reach_the_snippet_filter(frames_at_build):
    app = make_app()
    type_at_once(app, "\t", "\t", *"refund")
    async with app.run_test(size=WIDE) as pilot:
        pane = app.snippet_pane
        await settle(pilot)
        assert frames_at_build == [0]
        assert app.focused is pane.filter_input and pane.filter_input.value == "refund"
        assert pane.shown and pane.shown[0].name.startswith("refund")
        assert pane.current is pane.shown[0]


async def test_f2_typed_at_start_folds_the_snippet_pane_away(frames_at_build):
    app = make_app()
    type_at_once(app, "f2")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert not app.snippet_pane.display and app.focused is app.queue
        type_at_once(app, "f2", *"x")  # and back: its filter takes the keys
        await settle(pilot)
        assert app.snippet_pane.display and app.snippet_pane.filter_input.value == "x"


async def test_the_search_box_is_made_when_first_wanted():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert not app.query("#search")  # hidden until "/": no part of the first frame
        await pilot.press("slash", *"refund")
        await settle(pilot)
        assert app.focused is app.search_input and app.search_input.value == "refund"
        assert app.search_input.region.y < app.queue.region.y  # over the queue


async def test_a_search_typed_at_start_runs():
    app = make_app()
    type_at_once(app, "/", *"refund", "enter")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        desk = app.desk
        expected = await desk.queue_ids("refund")
        assert app.main.query_text == "refund" and app.queue.ids == expected and len(expected) > 1
        assert app.focused is app.queue


async def test_a_search_given_at_start_leaves_the_focus_on_the_queue():
    app = make_app(query="refund")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert app.search_input.value == "refund" and app.main.query_text == "refund"
        assert app.focused is app.queue


async def test_the_footer_comes_after_the_first_frame_in_the_line_kept_for_it(monkeypatch):
    from textual.widgets import Footer

    from tui_desk.ui.app import DeskApp

    frames: list[tuple[bool, int]] = []  # per frame of the main view: footer there, the panes' height
    display = DeskApp._display

    def recorded_display(self, screen, renderable) -> None:
        if screen is self.main:
            frames.append((bool(screen.query(Footer)), screen.query_one("#panes").region.height))
        display(self, screen, renderable)

    monkeypatch.setattr(DeskApp, "_display", recorded_display)
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        footer = app.main.query_one(Footer)
        assert footer.region.y == SMALL[1] - 1 and "/ Search" in screen_lines(app)[-1].text
    assert not frames[0][0] and frames[-1][0]
    assert {height for _, height in frames} == {SMALL[1] - 2}  # above the status line and the footer's


async def test_the_thread_comes_after_the_first_frame_and_a_tab_typed_at_start_reaches_it(monkeypatch):
    from tui_desk.ui.app import DeskApp
    from tui_desk.ui.conversation import ThreadView

    frames: list[bool] = []  # per frame of the main view: the thread there
    display = DeskApp._display

    def recorded_display(self, screen, renderable) -> None:
        if screen is self.main:
            frames.append(bool(screen.query(ThreadView)))
        display(self, screen, renderable)

    monkeypatch.setattr(DeskApp, "_display", recorded_display)
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert not frames[0] and frames[-1]
        assert "Pick a conversation" in str(app.conversation_pane.query_one(".thread--empty").render())
    app = make_app()
    type_at_once(app, "\t", "j")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert app.focused is app.conversation_pane.thread and app.queue.cursor == 0


async def test_an_empty_queue_says_so_in_the_thread_made_after_it():
    app = make_app(query="nothing-matches-this")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert not app.queue.ids
        assert "the queue is empty" in str(app.conversation_pane.query_one(".thread--empty").render())
