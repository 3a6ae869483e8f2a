"""The one terminal sanitizer: real escape sequences in, nothing a terminal obeys out."""

from __future__ import annotations

import random
import re
import unicodedata

import pytest

from tui_desk.mail.parse import parse_message
from tui_desk.sanitize import BIDI_MARKER, UNSAFE, sanitize, sanitize_line

# Everything the output may never contain: C0 but \n \t, DEL, C1, ESC, lone surrogates,
# bidi embeddings/overrides/isolates and implicit marks, line/paragraph separators.
FORBIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u2028\u2029]"
)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred\x1b[0m", "red"),  # SGR colour
        ("\x1b[1;38;5;196mbold\x1b[m", "bold"),
        ("\x1b[2J\x1b[Hcleared", "cleared"),  # clear screen, cursor home
        ("\x1b[?1049hbuffer", "buffer"),  # private-mode CSI
        ("\x1b]0;title\x07after", "after"),  # OSC window title, BEL-terminated
        ("\x1b]2;title\x1b\\after", "after"),  # OSC, ST-terminated
        ("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"),  # OSC 8 hyperlink
        ("\x1b]52;c;ZXZpbA==\x07paste", "paste"),  # OSC 52 clipboard write
        ("\x1bPq#0;2;0;0;0#0~~@@\x1b\\after", "after"),  # DCS (sixel)
        ("\x1bX sos \x1b\\a", "a"),
        ("\x1b^ pm \x1b\\b", "b"),
        ("\x1b_ apc \x1b\\c", "c"),
        ("\x9b31mC1 red\x9b0m", "C1 red"),  # 8-bit CSI with its parameters
        ("\x9d0;title\x9cafter", "after"),  # 8-bit OSC ... 8-bit ST
        ("\x90dcs\x9cafter", "after"),
        ("\x1b(Bcharset", "charset"),  # nF: designate G0
        ("\x1b#8align", "align"),
        ("\x1b7save\x1b8", "save"),  # DECSC / DECRC
        ("\x1bccreset", "creset"),  # RIS consumes its final "c" only
        ("bell\x07", "bell"),
        ("nul\x00byte", "nulbyte"),
        ("del\x7fete", "delete"),
        ("back\x08\x08\x08\x08EVIL", "backEVIL"),
        ("\x85next line", "next line"),
        ("form\x0cfeed\x0bvt", "formfeedvt"),
    ],
)
def test_removes_control_sequences(raw: str, shown: str) -> None:
    assert sanitize(raw) == shown


def test_unterminated_strings_do_not_hide_the_rest() -> None:
    out = sanitize("\x1b]0;title without end, then the real text")
    assert "\x1b" not in out
    assert "the real text" in out
    assert "real text" in sanitize("\x1bPnever ended real text")


def test_carriage_return_overwrite_trick_shows_both_parts() -> None:
    out = sanitize("safe\rEVIL")
    assert "safe" in out and "EVIL" in out
    assert "\r" not in out
    assert sanitize("line one\r\nline two\r\n") == "line one\nline two\n"


def test_keeps_newlines_tabs_and_ordinary_unicode() -> None:
    text = "Hello\tworld\n日本語のテキスト — ünïcødé 👍🏽 e\u0301 Привет"
    assert sanitize(text) == text


def test_bidi_controls_become_a_visible_marker() -> None:
    out = sanitize("invoice\u202egnp.exe")
    assert out == f"invoice{BIDI_MARKER}gnp.exe"
    for control in [*map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))]:
        assert sanitize(f"a{control}b") == f"a{BIDI_MARKER}b"


def test_implicit_direction_marks_are_dropped() -> None:
    """LRM, RLM, ALM are invisible and zero-width: a terminal without bidi draws nothing for
    them (dropping them changes nothing a reader sees), one with bidi lets them move the
    digits and punctuation around them (the reordering the marker stands for), and a marker
    for each would litter real right-to-left mail, where they are common."""
    assert sanitize("שלום\u200e (ok) \u200fmark \u061c") == "שלום (ok) mark "
    assert sanitize_line("[#7] Refund\u200f 2024") == "[#7] Refund 2024"


def test_one_rule_for_every_bidi_control() -> None:
    """Every character Unicode gives a bidi control class (embeddings, overrides, isolates and
    their pops) becomes the marker; every implicit mark (a zero-width character whose class
    is a strong direction) is dropped; nothing of either is left."""
    controls = {"LRE", "RLE", "PDF", "LRO", "RLO", "LRI", "RLI", "FSI", "PDI"}
    found = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF
             and unicodedata.bidirectional(chr(c)) in controls]
    assert len(found) == 9
    for control in found:
        assert sanitize(f"a{control}b") == f"a{BIDI_MARKER}b", hex(ord(control))
        assert UNSAFE.search(control)
    for mark in ("\u200e", "\u200f", "\u061c"):
        assert unicodedata.category(mark) == "Cf" and unicodedata.bidirectional(mark) in ("L", "R", "AL")
        assert sanitize(f"a{mark}b") == "ab" and UNSAFE.search(mark), hex(ord(mark))


def test_lone_surrogates_are_replaced() -> None:
    out = sanitize("raw byte \udce9 here")
    assert out == "raw byte \ufffd here"
    out.encode("utf-8")  # must not raise


def test_line_and_paragraph_separators_become_newlines() -> None:
    assert sanitize("a\u2028b\u2029c") == "a\nb\nc"


def test_sanitize_line_flattens_to_one_line() -> None:
    assert sanitize_line("  Re:\tyour\r\n  order\n\n#42  ") == "Re: your   order #42"
    assert sanitize_line("\x1b[31mSubject\x1b[0m\nInjected: header") == "Subject Injected: header"
    assert "\n" not in sanitize_line("a\u2028b")


def test_output_is_idempotent() -> None:
    sample = "\x1b\x1b[31mx\x9b\x1b]0;t\x07\u202e\r\n\x00y"
    once = sanitize(sample)
    assert sanitize(once) == once
    assert not FORBIDDEN.search(once)


def test_random_strings_never_leak_control_characters() -> None:
    rng = random.Random(20240611)
    # Biased towards the dangerous ranges so that sequences actually form.
    alphabet = (
        [chr(c) for c in range(0x00, 0x20)]
        + ["\x1b"] * 8
        + list("[]P^_X\\;0123456789m?#(Bc7")
        + [chr(c) for c in range(0x7F, 0xA0)]
        + [chr(c) for c in (0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069)]
        + ["\u2028", "\u2029", "\ud800", "\udcff", "\u200e", "\u200f"]
        + list("abc xyz日本語")
    )
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        out = sanitize(text)
        assert not FORBIDDEN.search(out), (text, out)
        line = sanitize_line(text)
        assert not FORBIDDEN.search(line) and "\n" not in line and "\t" not in line


def test_big_hostile_input_completes() -> None:
    # No timing assertion: a quadratic scan would blow the suite's timeout instead.
    for chunk in ("\x1b]", "\x1bP", "\x1b[", "\x9b", "\x9d", "\x1b]8;;", "\r", "\u202e"):
        out = sanitize(chunk * 200_000 + "\ntail")  # a final byte right after would be eaten
        assert out.endswith("tail")
        assert not FORBIDDEN.search(out)


def test_iso_2022_jp_mail_is_decoded_first_then_sanitized() -> None:
    # ISO-2022-JP legitimately contains ESC bytes: the parser decodes them away, the
    # sanitizer then has nothing to strip from the Japanese text.
    body = "日本語のテキスト".encode("iso-2022-jp")
    assert b"\x1b" in body
    raw = (
        b"From: a@example.com\r\nSubject: =?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=\r\n"
        b"Content-Type: text/plain; charset=ISO-2022-JP\r\n"
        b"Content-Transfer-Encoding: 7bit\r\n\r\n" + body + b"\r\n"
    )
    msg = parse_message(raw)
    shown = sanitize(msg.text)
    assert "日本語のテキスト" in shown
    assert "\x1b" not in shown
    assert sanitize_line(msg.subject) == "日本語"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("❤️ thanks", "❤ thanks"),  # U+2764 U+FE0F: Rich counted 2 cells, tmux drew 1
        ("☺️ ok", "☺ ok"),
        ("\u2764\ufe0e text style", "\u2764 text style"),
        ("press 1️⃣ then #️⃣", "press 1 then #"),  # keycaps
        ("👩‍💻 dev", "👩💻 dev"),  # ZWJ sequence: two pictures, two cells each
        ("🏳️‍🌈 flag", "🏳🌈 flag"),
        ("👍🏽 ok", "👍 ok"),  # skin tone: Rich 2 cells, tmux 4
        ("🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f uk", "🏴 uk"),  # tag sequence
        ("🇫🇷 🙏 日本", "🇫🇷 🙏 日本"),  # flags and single wide characters are kept
    ],
)
def test_one_line_fields_keep_emoji_at_a_width_everyone_agrees_on(raw: str, shown: str) -> None:
    from rich.cells import cell_len, get_character_cell_size

    line = sanitize_line(raw)
    assert line == shown
    # every grapheme's width is the sum of its characters' widths: no sequence to disagree on
    assert cell_len(line) == sum(get_character_cell_size(c) for c in line)
