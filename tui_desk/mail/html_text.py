"""HTML mail bodies rendered to readable plain text (stdlib only).

Paragraphs and blocks become line breaks and blank lines, ``<br>`` a line break, list items
``- item`` (``1. item`` in ordered lists), ``<blockquote>`` lines ``> text``, links
``text <url>`` (only the url when the text already is the url), images their ``[alt]`` text,
table rows one line each with cells joined by `` | ``. ``<head>``, ``<script>``, ``<style>``,
``<title>`` and ``<template>`` are dropped, entities decoded, whitespace collapsed outside
``<pre>``.

The result is not sanitized for the terminal: that is ``tui_desk.sanitize``'s job at display.

CPython 3.11's ``HTMLParser`` re-scans unfinished constructs and goes quadratic on hostile
input (``"<a b" * 20000`` takes ~26 s) and can raise ``AssertionError`` (``"<![<![..."``). So
the markup is first rewritten by a linear scanner (:func:`_normalize`) into tags of the form
``<name>`` / ``<name attr="...">`` / ``</name>`` with every stray ``<`` escaped; the parser
then reads every construct in one pass. Each scan attempt stops at the next ``<``.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

__all__ = ["html_to_text"]

# Possessive quantifiers: a failed attempt never backtracks, and no quoted value may cross a
# "<", so every attempt ends before the next "<".
_TAG = re.compile(
    r"""<(/?)([A-Za-z][^\s/>"'<=]*+)((?:[^>"'<]|"[^"<]*+"|'[^'<]*+')*+)>"""
)
_LOOSE_TAG = re.compile(r"<(/?)([A-Za-z][^\s/>\"'<=]*+)[^<>]*+>")
_ATTR = re.compile(r"""([^\s"'<>/=]++)(?:\s*+=\s*+(?:"([^"]*+)"|'([^']*+)'|([^\s"'>]++)))?""")

# Elements whose content is raw text: dropped with their content, or shown as preformatted.
_RAW_DROP = frozenset({"script", "style", "title", "iframe", "noembed", "noframes"})
_RAW_KEEP = frozenset({"textarea", "xmp"})
_RAW_CLOSE = {
    name: re.compile(rf"</{name}(?=[\s/>])", re.IGNORECASE) for name in _RAW_DROP | _RAW_KEEP
}
# Only these attributes reach the renderer.
_KEPT_ATTRS: dict[str, tuple[str, ...]] = {"a": ("href",), "img": ("alt",), "ol": ("start",)}


def _normalize(doc: str) -> str:
    """Rewrite ``doc`` into markup that HTMLParser reads in a single linear pass."""
    out: list[str] = []
    unclosed_from: dict[str, int] = {}  # raw-text element -> no closing tag at/after here
    i = 0
    n = len(doc)
    while i < n:
        j = doc.find("<", i)
        if j < 0:
            out.append(doc[i:])
            break
        out.append(doc[i:j])
        if doc.startswith("<!--", j):
            end = doc.find("-->", j + 4)
            if end < 0:
                break  # an unclosed comment runs to the end, as in browsers
            i = end + 3
            continue
        if doc.startswith(("<!", "<?"), j) or (
            doc.startswith("</", j) and not doc[j + 2 : j + 3].isalpha()
        ):
            end = doc.find(">", j + 2)  # doctype, CDATA, conditional comments, bogus comments
            if end < 0:
                break
            i = end + 1
            continue
        m = _TAG.match(doc, j)
        attrs_src = ""
        if m:
            attrs_src = m.group(3)
        else:  # unbalanced quotes: keep the tag, drop its attributes
            m = _LOOSE_TAG.match(doc, j)
            if not m:
                out.append("&lt;")
                i = j + 1
                continue
        closing, name = m.group(1) == "/", m.group(2).lower()
        i = m.end()
        if closing:
            out.append(f"</{name}>")
            continue
        if name in _RAW_CLOSE:
            close = None
            if i < unclosed_from.get(name, n + 1):  # else: known to have no closing tag
                close = _RAW_CLOSE[name].search(doc, i)
            if close is None:
                unclosed_from[name] = i
                if name in ("script", "style"):
                    break  # unclosed: browsers show nothing after it either
                continue  # treat a stray <title>/<textarea>... as an ignorable tag
            if name in _RAW_KEEP:
                out.append("<pre>" + doc[i : close.start()].replace("<", "&lt;") + "</pre>")
            end = doc.find(">", close.end())
            if end < 0:
                break
            i = end + 1
            continue
        out.append(_canonical_start(name, attrs_src))
    return "".join(out)


def _canonical_start(name: str, attrs_src: str) -> str:
    wanted = _KEPT_ATTRS.get(name)
    if not wanted or not attrs_src:
        return f"<{name}>"
    parts = [f"<{name}"]
    for am in _ATTR.finditer(attrs_src):
        attr = am.group(1).lower()
        if attr in wanted:
            value = am.group(2) or am.group(3) or am.group(4) or ""
            parts.append(f' {attr}="{value.replace(chr(34), "&quot;")}"')
            wanted = tuple(w for w in wanted if w != attr)  # first occurrence wins
    return "".join(parts) + ">"


_BLANK_BLOCKS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "dl", "figure", "address",
     "fieldset", "form"}
)
_LINE_BLOCKS = frozenset(
    {"div", "tr", "dt", "dd", "section", "article", "header", "footer", "nav", "aside",
     "main", "center", "caption", "figcaption", "details", "summary", "legend", "tbody",
     "thead", "tfoot", "option", "hgroup"}
)
_HEAD_CONTENT = frozenset(
    {"meta", "link", "base", "title", "style", "script", "noscript", "template", "basefont",
     "bgsound"}
)
_WS = re.compile(r"\s+")
_INVISIBLE = re.compile("[\u00ad\u034f\u200b\ufeff]|(?:\u200c\\s*){2,}")


# Deeper nesting is drawn at this depth, so the output stays linear in the input.
_MAX_DEPTH = 8


def _quote_prefix(depth: int) -> str:
    return "> " * min(depth, _MAX_DEPTH)


def _same_target(text: str, href: str) -> bool:
    def norm(s: str) -> str:
        s = s.strip().lower()
        for scheme in ("mailto:", "https://", "http://"):
            if s.startswith(scheme):
                s = s[len(scheme) :]
                break
        return s.rstrip("/")

    return norm(text) == norm(href)


class _Renderer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._line: list[str] = []  # current line; [0] is its prefix once started
        self._line_quote = 0
        self._last_quote = 0
        self._breaks = 0  # line breaks owed before the next text (2 = blank line)
        self._space = False  # a space is owed before the next text on this line
        self._cell_sep = False
        self._row_text = False
        self._quote = 0
        self._pre = 0
        self._pre_start = False
        self._lists: list[str] = []  # "ul" / "ol", innermost last
        self._numbers: list[int] = []  # next item number, per list
        self._marker: str | None = None
        self._links: list[tuple[str, list[str]]] = []
        self._in_head = False
        self._skip = 0

    # -- output ---------------------------------------------------------------------------
    def _flush_line(self) -> None:
        if self._line:
            self.lines.append("".join(self._line).rstrip())
            self._last_quote = self._line_quote
            self._line = []

    def _block(self, breaks: int) -> None:
        self._breaks = max(self._breaks, breaks)
        self._space = False
        self._cell_sep = False

    def _emit(self, text: str) -> None:
        if self._breaks:
            started = bool(self._line) or bool(self.lines)
            self._flush_line()
            if started:
                blank = _quote_prefix(min(self._last_quote, self._quote)).rstrip()
                extra = self._breaks - 1 if self._pre else min(self._breaks - 1, 1)
                self.lines.extend([blank] * extra)
            self._breaks = 0
            self._space = False
            self._cell_sep = False
        if not self._line:
            prefix = _quote_prefix(self._quote)
            if self._marker is not None:
                prefix += "  " * min(len(self._lists) - 1, _MAX_DEPTH) + self._marker
                self._marker = None
            elif self._lists:
                prefix += "  " * min(len(self._lists), _MAX_DEPTH)
            self._line = [prefix]
            self._line_quote = self._quote
            self._space = False
        elif self._cell_sep:
            text = " | " + text
        elif self._space:
            text = " " + text
        self._cell_sep = False
        self._space = False
        self._line.append(text)
        self._row_text = True
        for _, captured in self._links:
            captured.append(text)

    # -- parser callbacks -----------------------------------------------------------------
    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        data = _INVISIBLE.sub(" ", data)
        if self._in_head:
            if not data.strip():
                return
            self._in_head = False  # text implicitly ends <head>, as in browsers
        if self._pre:
            if self._pre_start and data.startswith(("\r\n", "\n")):
                data = data[2:] if data.startswith("\r") else data[1:]  # as browsers do
            self._pre_start = False
            pieces = data.replace("\xa0", " ").replace("\r\n", "\n").split("\n")
            for k, piece in enumerate(pieces):
                if k:
                    self._breaks += 1
                if piece:
                    self._emit(piece.expandtabs(8))
            return
        collapsed = _WS.sub(" ", data)
        core = collapsed.strip()
        if not core:
            if collapsed:
                self._space = True
            return
        if collapsed[0] == " ":
            self._space = True
        self._emit(core)
        self._space = collapsed[-1] == " "

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._in_head and tag not in _HEAD_CONTENT:
            self._in_head = False
        if tag == "head":
            self._in_head = True
        elif tag == "body":
            self._in_head = False
        elif tag == "template":
            self._skip += 1
        if self._skip or self._in_head:
            return
        if tag == "br":
            self._breaks = min(self._breaks + 1, 2) if not self._pre else self._breaks + 1
            self._space = False
            self._cell_sep = False
        elif tag == "p" or tag in _BLANK_BLOCKS:
            self._block(2)
            if tag == "pre":
                self._pre += 1
                self._pre_start = True
        elif tag in _LINE_BLOCKS:
            self._block(1)
            if tag == "tr":
                self._row_text = False
        elif tag == "blockquote":
            self._block(2)
            self._quote += 1
        elif tag in ("ul", "ol", "menu", "dir"):
            self._block(1 if self._lists else 2)
            start = 1
            if tag == "ol":
                try:
                    start = int(dict(attrs).get("start") or 1)
                except ValueError:
                    pass
            self._lists.append("ol" if tag == "ol" else "ul")
            self._numbers.append(start)
        elif tag == "li":
            self._block(1)
            if self._lists and self._lists[-1] == "ol":
                self._marker = f"{self._numbers[-1]}. "
                self._numbers[-1] += 1
            else:
                self._marker = "- "
        elif tag in ("td", "th"):
            if self._row_text and self._line and not self._breaks:
                self._cell_sep = True
        elif tag == "hr":
            self._block(2)
            self._emit("-" * 10)
            self._block(2)
        elif tag == "a":
            self._close_link()
            self._links.append(((dict(attrs).get("href") or "").strip(), []))
        elif tag == "img":
            alt = _WS.sub(" ", dict(attrs).get("alt") or "").strip()
            if alt:
                self._space = True
                self._emit(f"[{alt}]")
                self._space = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self._skip = max(self._skip - 1, 0)
            return
        if tag == "head":
            self._in_head = False
            return
        if self._skip or self._in_head:
            return
        if tag == "p" or tag in _BLANK_BLOCKS:
            self._block(2)
            if tag == "pre":
                self._pre = max(self._pre - 1, 0)
        elif tag in _LINE_BLOCKS:
            self._block(1)
        elif tag == "blockquote":
            self._block(2)
            self._quote = max(self._quote - 1, 0)
        elif tag in ("ul", "ol", "menu", "dir"):
            if self._lists:
                self._lists.pop()
                self._numbers.pop()
            self._block(1 if self._lists else 2)
        elif tag == "li":
            self._block(1)
        elif tag == "a":
            self._close_link()
        elif tag == "br":  # browsers treat </br> as <br>
            self.handle_starttag("br", [])

    def _close_link(self) -> None:
        if not self._links:
            return
        href, captured = self._links.pop()
        low = href.lower()
        if not href or low.startswith(("#", "javascript:", "data:")):
            return
        text = _WS.sub(" ", "".join(captured)).strip()
        if not text:
            self._emit(href)
            self._space = True
        elif not _same_target(text, href):
            self._space = True
            self._emit(f"<{href}>")

    def finish(self) -> str:
        self.close()
        while self._links:
            self._close_link()
        self._flush_line()
        lines = self.lines
        start = 0
        while start < len(lines) and not lines[start].strip(" >"):
            start += 1
        end = len(lines)
        while end > start and not lines[end - 1].strip(" >"):
            end -= 1
        return "\n".join(lines[start:end])


def _crude(doc: str) -> str:
    """Last resort if the renderer fails: drop tags, decode entities, tidy whitespace."""
    text = html.unescape(re.sub(r"<[^<>]*+>", " ", doc))
    lines = (_WS.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def html_to_text(doc: str) -> str:
    """Render an HTML document or fragment as plain text. Never raises; linear time."""
    try:
        renderer = _Renderer()
        renderer.feed(_normalize(doc))
        return renderer.finish()
    except Exception:
        try:
            return _crude(doc)
        except Exception:
            return ""
