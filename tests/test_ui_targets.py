"""Which conversation a key acts on (the focused pane decides), and prompts that preview exactly
what they apply."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from tui_desk.ui.triage import ActionPrompt

try:
    from tests.ui_fake_desk import FakeDesk, settle
    from tests.ui_support import make_app, plain_text
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_desk import FakeDesk, settle
    from ui_support import make_app, plain_text

WIDE = (120, 40)


@pytest.fixture(autouse=True)
def _private_state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def last_notice(app) -> str:
    return list(app._notifications)[-1].message if app._notifications else ""


async def test_the_tag_preview_shows_the_tags_the_desk_applies():
    app = make_app()
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        desk: FakeDesk = app.desk  # type: ignore[assignment]
        await pilot.press("t")
        await settle(pilot)
        app.screen.text_input.value = "+Needs Review +größe -Login"
        await settle(pilot)
        preview = plain_text(app.screen.query_one("#prompt-note", Static))
        assert preview == "adds +needs +review +größe  removes -login"
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, ActionPrompt)
        assert desk.actions[-1] == ("tag", [1], ["needs", "review", "größe"], ["login"])
        assert last_notice(app) == "tagged 1 conversation +needs +review +größe -login  (u undoes)"
        assert preview.removeprefix("adds ").replace("  removes", "") in last_notice(app)
