"""Text as the full-text index sees it; the same function serves indexing and querying."""

from __future__ import annotations

import re

# unicode61 keeps a run of Han/Kana/Hangul as one token, so "退款" inside a sentence would be
# unfindable. Each such character becomes its own token; a CJK word is then a phrase query.
_CJK = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af])")

MAX_INDEXED_CHARS = 200_000


def fts_text(text: str) -> str:
    return _CJK.sub(r" \1 ", text[:MAX_INDEXED_CHARS])
