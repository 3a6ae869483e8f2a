"""The figures' definitions are one text: desk/metrics/definitions.py, which the Reports
screen's `?` shows and README's Reports definitions copy word for word."""

from __future__ import annotations

import re
from pathlib import Path

from tui_desk.desk.metrics.definitions import FIGURES

README = Path(__file__).resolve().parents[1] / "README.md"


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_readme_says_each_figure_in_the_words_the_screen_shows():
    readme = flat(README.read_text(encoding="utf-8"))
    for name, text in FIGURES:
        assert flat(f"- *{name}*: {text}") in readme, name


def test_the_screens_figures_each_have_a_definition():
    names = [name for name, _ in FIGURES]
    assert len(names) == len(set(names))
    for shown in ("First response", "Resolution (net)", "FCR", "Replies to resolve", "Reopened", "Conversations",
                  "Unanswered", "Closed, no reply", "Mail only", "CSAT"):
        assert shown in names, shown
