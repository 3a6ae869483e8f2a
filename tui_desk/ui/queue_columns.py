"""The queue's columns: how wide each is at a width, and text fitted to cells (cut with an
ellipsis, never half a wide character). ui/queue.py draws the rows with these."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rich.cells import cell_len, get_character_cell_size

TWO_LINE_BELOW = 56  # content cells; narrower than this a row takes two lines
TAGS_FROM = 72  # content cells; a tags column from this width on (one-line layout)
TIGHT_BELOW = 40  # subject cells; narrower than this the state markers take their tight form
ELLIPSIS = "…"
MIN_SUBJECT = 10  # cells the subject keeps at least beside the state markers (@alice z Fri 9:00 ✎draft ⏲)
MIN_CUT_MARKER = 1  # cells a marker cut short shows before its ellipsis ("@…", "✎…"), else it is left out
SELECTED_MARK = "✓"  # East Asian width "neutral": one cell everywhere
# Mail text is sanitized but may keep tabs and newlines; a queue row is one line.
ONE_LINE = str.maketrans({"\t": " ", "\n": " ", "\r": " "})


def fit(text: str, width: int, *, right: bool = False) -> str:
    """``text`` made exactly ``width`` cells wide: cut with an ellipsis, or padded."""
    if width <= 0:
        return ""
    length = cell_len(text)
    if length > width:
        text = head(text, width - 1) + ELLIPSIS
        length = cell_len(text)
    pad = " " * (width - length)
    return pad + text if right else text + pad


def head(text: str, cells: int) -> str:
    """The longest start of ``text`` at most ``cells`` wide; never half a wide character."""
    used = 0
    for i, char in enumerate(text):
        used += get_character_cell_size(char)
        if used > cells:
            return text[:i]
    return text


def subject_floor(width: int) -> int:
    """Cells the subject keeps in a ``width`` cells wide subject column beside the state markers:
    half of it (MIN_SUBJECT at least): at 80 columns the subject still says what it is about."""
    return max(MIN_SUBJECT, width // 2)


def fits(width: int, markers: tuple[str, ...]) -> bool:
    """Whether the state ``markers`` go whole beside the subject's floor in a ``width`` cells
    wide subject column, else their tight form is asked for; always tight in a narrow one
    (TIGHT_BELOW), so the rows of one list say a breach the same way."""
    return width >= TIGHT_BELOW and cell_len(" ".join(markers)) + 1 + subject_floor(width) <= width


def share(width: int, markers: tuple[str, ...]) -> tuple[int, str]:
    """(subject cells, the state as shown) of a ``width`` cells wide subject column holding both.
    The markers are cut from the end before the subject goes under its floor (subject_floor):
    whole while they fit, then the next one cut, if at least MIN_CUT_MARKER cells of it show
    before the ellipsis; a marker that would show as a bare "…" is left out, and its cells
    stay the subject's."""
    room = width - subject_floor(width) - 1
    shown = ""
    for marker in markers:
        marker = marker.translate(ONE_LINE)
        joined = f"{shown} {marker}" if shown else marker
        if cell_len(joined) <= room:
            shown = joined
            continue
        left = room - cell_len(shown) - (1 if shown else 0) - 1  # its cells before the ellipsis
        if left >= MIN_CUT_MARKER:
            shown = (f"{shown} " if shown else "") + head(marker, left) + ELLIPSIS
        break
    return (width - cell_len(shown) - 1, shown) if shown else (width, "")


def lend(text: str, column: int, spare: int) -> int:
    """Cells ``text`` (a name) may take beyond its ``column``: what it needs, from the ``spare``
    cells its row leaves beside it (a short subject), so a name is not cut next to room."""
    return max(0, min(cell_len(text) - column, spare))


@lru_cache(maxsize=8)
def wrapped(text: str, width: int) -> tuple[str, ...]:
    """The empty-state text (it may say how to start, over a few lines) wrapped to ``width``
    at spaces; a word wider than a line (a config file's path) is cut after a "/" (path_pieces)."""
    if width < 8:
        return (text.split("\n")[0],)
    out: list[str] = []
    for para in text.split("\n"):
        line = ""
        for word in para.split():
            pieces = path_pieces(word, width)
            if line and cell_len(line) + 1 + cell_len(pieces[0]) <= width:
                line += " " + pieces[0]
            else:
                if line:
                    out.append(line)
                line = pieces[0]
            for piece in pieces[1:]:
                out.append(line)
                line = piece
        out.append(line)
    return tuple(out)


def path_pieces(word: str, width: int) -> list[str]:
    """``word`` in pieces at most ``width`` cells wide, each cut after its last "/" that fits
    (a path reads as its folders), else where the line ends."""
    pieces = []
    while cell_len(word) > width:
        fits = head(word, width)
        cut = fits.rfind("/") + 1 or len(fits)
        pieces.append(word[:cut])
        word = word[cut:]
    return [*pieces, word]


@dataclass(frozen=True, slots=True)
class Columns:
    lines_per_row: int
    customer: int
    subject: int
    tags: int


def columns_for(width: int) -> Columns:
    """Column widths for ``width`` content cells. Each column is followed by one space."""
    if width < TWO_LINE_BELOW:
        # line 1: marker customer … tags age; line 2: indented subject
        tags = min(max(0, (width - 8) * 2 // 5), 24) if width >= 30 else 0
        customer = max(0, width - 2 - 4 - (tags + 1 if tags else 0))
        return Columns(2, customer, max(0, width - 2), tags)
    customer = min(max(10, width * 22 // 100), 24)
    tags = min(max(8, width * 18 // 100), 26) if width >= TAGS_FROM else 0
    subject = width - 2 - (customer + 1) - 4 - (tags + 1 if tags else 0)
    return Columns(1, customer, max(0, subject), tags)
