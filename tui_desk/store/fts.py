"""Text as the full-text index sees it; the same function serves indexing and querying."""

from __future__ import annotations

import re

# unicode61 keeps a run of Han/Kana/Hangul as one token, so "退款" inside a sentence would be
# unfindable. Each such character becomes its own token (" c " for each c); a CJK word is then
# a phrase query.
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")

MAX_INDEXED_CHARS = 200_000


def _spaced(m: re.Match[str]) -> str:
    return " " + "  ".join(m.group()) + " "  # the same as " c " for each character of the run


def fts_text(text: str) -> str:
    text = text[:MAX_INDEXED_CHARS]
    if text.isascii():  # most mail: nothing to space out, and no scan by the regex
        return text
    # one call per run of CJK characters: a template replacement per character was most of
    # this function's time (4x slower on generated mail)
    return _CJK_RUN.sub(_spaced, text)
