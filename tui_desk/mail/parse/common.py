"""The parser's limits, small text helpers and the defect list every part of it writes to."""

from __future__ import annotations

import re

from tui_desk.sanitize import strip_controls


HEADER_LIMIT = 16 * 1024
#: References is read with a regex, never by the stdlib parser; it keeps its head and tail.
REFERENCES_LIMIT = 64 * 1024
#: Longest body text kept (characters), and longest HTML converted to text.
TEXT_LIMIT = 1_000_000
HTML_LIMIT = 2_000_000
#: MIME parts looked at, and nesting depth followed, per message.
MAX_PARTS = 1000
MAX_DELIMITER_LINES = 5000
MAX_DEPTH = 40
MAX_DEFECTS = 60
_TEXT_BYTES_LIMIT = 4 * max(TEXT_LIMIT, HTML_LIMIT)  # up to 4 bytes per character

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SYNTHETIC_DOMAIN = "tui-desk.invalid"


# --------------------------------------------------------------------------------------
# Small text helpers


_SURROGATES = re.compile("[\ud800-\udfff]")
_WS = re.compile(r"\s+")
_FOLD = re.compile(r"\r\n|\r|\n")


def _clean(text: str) -> str:
    """No lone surrogates (cannot be encoded) and no NUL (truncates C strings)."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if text.isascii():  # (no surrogate then: saves the regex pass)
        return text
    return _SURROGATES.sub("\ufffd", text)


def _one_line(text: str) -> str:
    return _WS.sub(" ", _clean(text)).strip()


def _kb(n: int) -> str:
    return f"{max(1, round(n / 1024))} KB"


class _Defects:
    """Ordered, de-duplicated, capped list of human-readable problems."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._seen: set[str] = set()
        self.dropped = 0

    def add(self, text: str) -> None:
        # our words, quoting the mail's (the stdlib's defects quote a header line): no control
        # character of the mail's rides along (tests/test_fuzz.py)
        text = _one_line(strip_controls(text))
        if len(text) > 300:
            text = text[:297] + "..."
        if text in self._seen:
            return
        if len(self.items) >= MAX_DEFECTS:
            self.dropped += 1
            return
        self._seen.add(text)
        self.items.append(text)

    def add_stdlib(self, defect: object, where: str = "") -> None:
        name = type(defect).__name__
        detail = ""
        try:
            detail = str(defect).strip()
        except Exception:
            pass
        text = f"{name}: {detail}" if detail and detail != name else name
        self.add(f"{text} ({where})" if where else text)

    def result(self) -> list[str]:
        if self.dropped:
            return [*self.items, f"... and {self.dropped} more problems"]
        return list(self.items)
