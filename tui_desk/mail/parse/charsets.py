"""Charsets: declared labels mapped to codecs Python has, guessing chains for the vague or
wrong ones, and RFC 2047 words pointed at codecs that exist."""

from __future__ import annotations

import codecs
import functools
import re
from collections.abc import Iterable

from tui_desk.mail.parse.stdlib_tree import _is_text_encoding


# --------------------------------------------------------------------------------------
# Charsets


# Labels that are wrong in practice, or better read with a superset codec.
_CHARSET_ALIASES: dict[str, tuple[str, ...]] = {
    "gb2312": ("gb18030",),
    "gb_2312-80": ("gb18030",),
    "csgb2312": ("gb18030",),
    "euc-cn": ("gb18030",),
    "x-euc-cn": ("gb18030",),
    "cn-gb": ("gb18030",),
    "chinese": ("gb18030",),
    "gbk": ("gb18030",),
    "x-gbk": ("gb18030",),
    "cp936": ("gb18030",),
    "big5": ("big5hkscs", "cp950"),
    "x-big5": ("big5hkscs", "cp950"),
    "shift_jis": ("cp932", "shift_jis"),
    "shift-jis": ("cp932", "shift_jis"),
    "sjis": ("cp932", "shift_jis"),
    "x-sjis": ("cp932", "shift_jis"),
    "windows-31j": ("cp932",),
    "iso-2022-jp": ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2"),
    "euc-kr": ("cp949", "euc_kr"),
    "ks_c_5601-1987": ("cp949",),
    "ks_c_5601": ("cp949",),
    "iso-8859-1": ("cp1252", "latin-1"),
    "iso8859-1": ("cp1252", "latin-1"),
    "latin1": ("cp1252", "latin-1"),
    "latin-1": ("cp1252", "latin-1"),
    "l1": ("cp1252", "latin-1"),
    "iso-8859-8-i": ("iso-8859-8",),
    "iso-8859-6-i": ("iso-8859-6",),
    "windows-874": ("cp874",),
    "tis-620": ("cp874", "tis-620"),
    "unicode-1-1-utf-7": ("utf-7",),
    "utf8mb4": ("utf-8",),
    "x-utf-8": ("utf-8",),
}
# Labels that promise nothing: treated like a missing charset (guessing chain).
_VAGUE_CHARSETS = frozenset(
    {"", "us-ascii", "ascii", "ansi_x3.4-1968", "us", "unknown", "unknown-8bit", "x-unknown",
     "default", "none", "x-user-defined", "charset", "8bit", "7bit"}
)
_GUESS_CHAIN = ("utf-8", "cp1252", "latin-1")


# Codecs Python calls text encodings that no mail is written in, and that decode slowly
# (punycode is quadratic: 400 kB in 17 s), strangely (escapes) or not at all (undefined):
# such a label is treated as unknown.
_REFUSED_CODECS = frozenset({"idna", "punycode", "undefined", "raw-unicode-escape", "unicode-escape",
                             "raw_unicode_escape", "unicode_escape", "mbcs", "oem", "palmos"})


def _codec_exists(name: str) -> bool:
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return False
    return _is_text_encoding(info) and info.name not in _REFUSED_CODECS


@functools.lru_cache(maxsize=512)
def _codecs_for(charset: str | None) -> tuple[str, ...]:
    """Codecs to try for a declared charset, best first; () when the label is vague/unknown."""
    label = (charset or "").strip().strip("\"'").lower()
    if label in _VAGUE_CHARSETS:
        return ()
    if label in _CHARSET_ALIASES:
        return _CHARSET_ALIASES[label]
    return (label,) if _codec_exists(label) else ()


def _decode_bytes(data: bytes, charset: str | None, hints: Iterable[str] = ()) -> tuple[str, str]:
    """Decode text that claims ``charset``; returns (text, note) where note explains a guess."""
    declared = _codecs_for(charset)
    for codec in declared:
        try:
            return data.decode(codec), ""
        except (UnicodeDecodeError, LookupError):
            continue
    if declared:
        try:
            return (
                data.decode(declared[0], errors="replace"),
                f"text is not valid {charset}: undecodable bytes replaced",
            )
        except LookupError:
            pass
    tried = set(declared)
    chain = ["utf-8", *(c for h in hints for c in _codecs_for(h)), "cp1252", "latin-1"]
    for codec in chain:
        if codec in tried:
            continue
        tried.add(codec)
        try:
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            if codec == "utf-8" and (mostly := _mostly_utf8(data)) is not None:
                return mostly, "text is not valid utf-8: undecodable bytes replaced"
            continue
        label = (charset or "").strip().lower()
        if label and label not in _VAGUE_CHARSETS:
            return text, f"unknown charset {charset!r}: read as {codec}"
        if codec != "utf-8" and not data.isascii():
            return text, f"8-bit text without a usable charset: read as {codec}"
        return text, ""
    return data.decode("latin-1"), ""  # unreachable: latin-1 decodes anything


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 with a few broken bytes (a name cut mid-character) reads best as UTF-8."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = len(text) - len(text.encode("ascii", "ignore")) - bad
    return text if good and good >= 2 * bad else None


_ENCODED_WORD_CHARSET = re.compile(r"=\?([^?*\s]+)((?:\*[^?\s]*)?)\?([bBqQ])\?")


def _fix_encoded_word_charsets(value: str) -> str:
    """Point RFC 2047 words at codecs Python has (gb2312 -> gb18030, unknown -> utf-8)."""
    if "=?" not in value:
        return value

    def repl(m: re.Match[str]) -> str:
        label = m.group(1).lower()
        if label in _CHARSET_ALIASES:
            codec = _CHARSET_ALIASES[label][0]
        elif label in _VAGUE_CHARSETS or not _codec_exists(label):
            codec = "utf-8"
        else:
            return m.group(0)
        return f"=?{codec}{m.group(2)}?{m.group(3)}?"

    return _ENCODED_WORD_CHARSET.sub(repl, value)
