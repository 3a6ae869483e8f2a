"""Text from mail (or built from it) as Textual Content: literal, never markup.

A ``str`` given to a border title, a Static, an Option or a Collapsible title is read as
Rich/Textual markup: ``[/nope]`` in a subject raises MarkupError, ``[URGENT]`` disappears,
``[link=…]`` becomes a live OSC 8 hyperlink. Every such place takes :func:`literal` instead.
"""

from __future__ import annotations

from textual.content import Content

from tui_desk.sanitize import sanitize


def literal(text: str | Content) -> Content:
    """``text`` shown as written: no markup, and through the one sanitizer (a second pass on
    text the desk already sanitized costs one regex search). Content is kept as it is: it was
    built from plain parts already."""
    return text if isinstance(text, Content) else Content(sanitize(text))
