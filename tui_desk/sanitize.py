"""The one sanitizer for text that came from mail and is about to reach a terminal.

Everything a message controls (subject, names, body, file names, defects quoting headers)
passes through :func:`sanitize` (or :func:`sanitize_line` for one-line fields) right before
it is drawn or printed. Mail is decoded first (``mail/parse/``) and sanitized last, so
charsets that legitimately use ESC bytes (ISO-2022-JP) are already readable text here.

What is removed, and why:

* Every ESC-introduced sequence: CSI (``ESC [ ... final``), OSC (``ESC ] ... BEL/ST``),
  DCS/SOS/PM/APC (``ESC P|X|^|_ ... ST``) and the short ``ESC`` + intermediates + final
  forms. They recolour, retitle or move the cursor, or plant hyperlinks (OSC 8).
* Their 8-bit forms (CSI U+009B with its parameters, OSC U+009D, DCS U+0090, ...) and every
  other C1 control U+0080-U+009F.
* Every C0 control except ``\\n`` and ``\\t``, and DEL. ``\\r\\n`` becomes ``\\n``; a lone
  ``\\r`` is dropped, so ``"safe\\rEVIL"`` shows as ``"safeEVIL"`` instead of letting the
  second half overwrite the first. Backspace overwrites go the same way.
* Lone surrogates (left by undecodable header bytes) become U+FFFD: they cannot be encoded
  for the terminal at all.

Bidi, one rule for every bidi formatting character (:data:`_BIDI`): the embedding/override/
isolate controls U+202A-U+202E and U+2066-U+2069 can reorder what is shown (a file name
``invoice\\u202egnp.exe`` displays as ``invoiceexe.png``), so each one is replaced by
:data:`BIDI_MARKER`, a visible one-column character, so the reader sees that something was
there. The implicit marks U+200E/U+200F (LRM/RLM) and U+061C (ALM) are dropped: they are
invisible and zero-width, so a terminal without bidi draws nothing for them (dropping changes
nothing a reader sees), while one with bidi lets them move the digits and punctuation around
them (the reordering the marker is there for); a marker for each would litter real
right-to-left mail, where they are common. U+2028/U+2029 (line/paragraph separator) become
``\\n``.

Emoji sequences (:func:`cell_safe`, applied by :func:`sanitize_line` and to every text the
desk shows): terminals disagree on how wide an emoji *sequence* is. Rich counts ``❤️``
(U+2764 U+FE0F), ``1️⃣``, ``👩‍💻`` and ``👍🏽`` as one two-cell grapheme each; tmux 3.3 draws
``❤️`` in one cell and ``👍🏽`` in four, other terminals differently again, and every such
disagreement shifts the rest of the row and leaves stale glyphs behind. So the parts that
only select a presentation or join pictures are dropped: variation selectors U+FE0E/U+FE0F,
the zero width joiner U+200D, skin-tone modifiers U+1F3FB-U+1F3FF, the combining keycap
U+20E3 and tag characters U+E0020-U+E007F. What is left are single characters whose width
everyone agrees on (``❤`` 1 cell, ``👩💻`` 2 + 2, ``1``, ``👍`` 2); flags (two regional
indicators) are kept: two cells in Rich and in terminals.

All functions are a few regex passes: linear in the input, no backtracking blow-ups.
"""

from __future__ import annotations

import re

__all__ = ["BIDI_MARKER", "CONTROL", "ESCAPE_SEQUENCE", "UNSAFE", "cell_safe", "sanitize", "sanitize_line", "strip_controls"]

#: Shown in place of a bidi embedding/override/isolate control (see the module docstring).
BIDI_MARKER = "\ufffd"

# Strings (OSC, DCS, SOS, PM, APC) end at ST (ESC \ or U+009C); OSC also at BEL. Their bodies
# exclude ESC and every C1 character, so each attempt stops at the next possible introducer
# and the whole scan stays linear. An unterminated string is not matched: its introducer is
# removed below and the rest shows as plain text rather than being hidden.
_ESCAPE_SEQUENCE = re.compile(
    r"""
      (?:\x1b\]|\x9d) [^\x07\x1b\x80-\x9f]* (?:\x07|\x1b\\|\x9c)       # OSC
    | (?:\x1b[PX^_]|[\x90\x98\x9e\x9f]) [^\x1b\x80-\x9f]* (?:\x1b\\|\x9c)  # DCS SOS PM APC
    | (?:\x1b\[|\x9b) [\x30-\x3f]* [\x20-\x2f]* [\x40-\x7e]             # CSI
    | \x1b [\x20-\x2f]* [\x30-\x7e]                                     # nF / Fp / Fe / Fs
    """,
    re.VERBOSE,
)

#: One whole escape sequence as :func:`sanitize` removes it (the address reader keeps one
#: together, so the ";" of an OSC is not taken for a separator).
ESCAPE_SEQUENCE = _ESCAPE_SEQUENCE

#: Every bidi formatting character, and what it becomes (see the module docstring).
_BIDI = {
    **{c: BIDI_MARKER for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))},  # embed/override/isolate
    **{c: "" for c in (0x200E, 0x200F, 0x061C)},  # the implicit marks LRM, RLM, ALM
}

# Whatever is left of C0 (minus \n \t), DEL, C1, lone surrogates, bidi characters, LS/PS.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff" + "".join(map(chr, _BIDI)) + "\u2028\u2029]"
)

#: Every character :func:`sanitize` removes or replaces: what must never reach a terminal as
#: it is. (``cli.TerminalJSON`` writes these as JSON escapes instead.)
UNSAFE = _UNSAFE

_REPLACEMENTS = {
    **{c: "" for c in range(0x00, 0x20) if c not in (0x09, 0x0A)},
    0x7F: "",
    **{c: "" for c in range(0x80, 0xA0)},
    **_BIDI,
    0x2028: "\n",
    0x2029: "\n",
}

_SURROGATE = re.compile("[\ud800-\udfff]")
#: A control character :func:`strip_controls` removes: C0 but ``\\t \\n \\r``, DEL, C1.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\n\t]+")


def sanitize(text: str) -> str:
    """Return ``text`` safe to draw in a terminal (see the module docstring for the rules)."""
    if not _UNSAFE.search(text):
        return text  # the common case: nothing to do
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = text.replace("\r\n", "\n")
    text = _SURROGATE.sub("\ufffd", text)
    return text.translate(_REPLACEMENTS)


def strip_controls(text: str) -> str:
    """``text`` without its escape sequences and control characters (C0 but ``\\t \\n
    \\r``, DEL, C1), removed as :func:`sanitize` removes them; everything else is kept. For
    text from mail that is data rather than display (a sender's name, which is stored and
    written into the reply's To), where no control can mean anything."""
    if not CONTROL.search(text):
        return text
    return CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))


# presentation selectors, joiners, skin tones, keycap, tags: see the module docstring
_EMOJI_GLUE = re.compile("[\ufe0e\ufe0f\u200d\u20e3\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]")


def cell_safe(text: str) -> str:
    """``text`` without the emoji glue terminals disagree about (see the module docstring):
    its width in cells is then the same for Rich and for the terminal."""
    return _EMOJI_GLUE.sub("", text)


def sanitize_line(text: str) -> str:
    """Like :func:`sanitize`, for one-line fields: line breaks and tabs become one space, and
    emoji sequences become characters of agreed width (:func:`cell_safe`), as these fields are
    laid out in columns."""
    return _LINE_BREAKS.sub(" ", cell_safe(sanitize(text))).strip()
