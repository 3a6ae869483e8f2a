"""An agent's Markdown (an internal note) as styled text for the conversation pane: the
structure read by markdown-it-py, the text put on screen literally, @mentions stood out.
Mail is never shown through this (ui.conversation shows mail as plain text)."""

from __future__ import annotations

import re

from textual.content import Content

MENTION = re.compile(r"(?<![\w@.])@[\w][\w.-]*\w|(?<![\w@.])@\w")


_markdown_parser = None


def _markdown():
    """markdown-it-py as the replies' HTML is made (mail.compose): CommonMark, raw HTML left as
    text. Imported at the first note shown, not at start."""
    global _markdown_parser
    if _markdown_parser is None:
        from markdown_it import MarkdownIt
        _markdown_parser = MarkdownIt("commonmark", {"html": False})
    return _markdown_parser


INLINE_STYLES = {"strong": "bold", "em": "italic", "link": "underline", "heading": "bold"}


def markdown_content(text: str) -> Content:
    """An agent's Markdown (an internal note) as styled text, @mentions stood out.

    markdown-it-py reads the structure; the text itself goes on screen literally (a "[bold]"
    stays as typed). Paragraphs keep a blank line between them, list items get "• " or "1. ",
    a link shows its address after its text. Mail is never shown through this."""
    parts: list[str | tuple[str, str]] = []
    styles: list[str] = []
    lists: list[list[int] | None] = []  # per open list: [next number] when ordered
    links: list[str] = []
    item_start = False

    def block() -> None:
        if parts:
            parts.append("\n" if lists else "\n\n")

    for token in _markdown().parse(text):
        kind = token.type
        if kind in ("paragraph_open", "heading_open"):
            if not item_start:
                block()
            item_start = False
            if kind == "heading_open":
                styles.append(INLINE_STYLES["heading"])
        elif kind == "heading_close":
            styles.pop()
        elif kind in ("bullet_list_open", "ordered_list_open"):
            if not lists:
                block()  # a nested list starts on its first item's line
            item_start = False
            lists.append([int(token.attrGet("start") or 1)] if kind == "ordered_list_open" else None)
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open":
            if parts and not _ends_line(parts[-1]):
                parts.append("\n")
            number = lists[-1] if lists else None
            mark = "• " if number is None else f"{number[0]}. "
            if number is not None:
                number[0] += 1
            parts.append("  " * (len(lists) - 1) + mark)
            item_start = True
        elif kind in ("fence", "code_block"):
            block()
            parts.append((token.content.rstrip("\n"), "$text-muted"))
        elif kind == "hr":
            block()
            parts.append(("───", "$text-muted"))
        elif kind == "inline":
            for child in token.children or ():
                inline = child.type
                if inline in ("text", "html_inline"):
                    parts.append((child.content, " ".join(styles)) if styles else child.content)
                elif inline in ("softbreak", "hardbreak"):
                    parts.append("\n")
                elif inline == "code_inline":
                    parts.append((child.content, " ".join([*styles, "bold $text-accent"])))
                elif inline in ("strong_open", "em_open"):
                    styles.append(INLINE_STYLES[inline[:-5]])
                elif inline in ("strong_close", "em_close"):
                    styles.pop()
                elif inline == "link_open":
                    links.append(str(child.attrGet("href") or ""))
                    styles.append(INLINE_STYLES["link"])
                elif inline == "link_close":
                    styles.pop()
                    href = links.pop()
                    if href:
                        parts.append((f" ({href})", "$text-muted"))
                elif inline == "image":
                    parts.append(child.content or str(child.attrGet("src") or ""))
    return _mentions(Content.assemble(*parts).expand_tabs(4))


def _ends_line(part: str | tuple[str, str]) -> bool:
    return (part if isinstance(part, str) else part[0]).endswith("\n")


def _mentions(content: Content) -> Content:
    for match in MENTION.finditer(content.plain):
        content = content.stylize("bold $text-accent", match.start(), match.end())
    return content
