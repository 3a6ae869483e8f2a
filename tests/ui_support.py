"""What the app tests share: an app over the stand-in desk with the shipped themes, and the text
a Static shows."""

from __future__ import annotations

from textual.widgets import Static

from tui_desk.desk.snippets import bundled_dir
from tui_desk.ui.app import DeskApp

try:
    from tests.ui_fake_desk import FIXED_NOW, FakeDesk
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from ui_fake_desk import FIXED_NOW, FakeDesk

THEME_DIRS = [bundled_dir("themes")]  # the shipped themes, not a user's own


def make_app(n: int = 40, **kw) -> DeskApp:
    kw.setdefault("theme", "tui-desk-dark")
    kw.setdefault("theme_dirs", THEME_DIRS)
    return DeskApp(FakeDesk(n), clock=lambda: FIXED_NOW, **kw)


def plain_text(static: Static) -> str:
    """What a Static shows, as plain text (markup would have been consumed)."""
    return str(static.render())
