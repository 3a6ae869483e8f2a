"""A one-line sparkline with gaps: a period without a value (a week nobody was answered has no
first-response median) is left blank. Textual's Sparkline has no gap and drew it as its lowest
bar, the look of the best week."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

BARS = "▁▂▃▄▅▆▇█"


def bars(values: list[float | None], width: int) -> str:
    """`values` across `width` cells (each cell the value of its share of the periods), lowest
    to highest known value as ▁ to █; a period without a value is a space."""
    if not values or width <= 0:
        return ""
    known = [v for v in values if v is not None]
    low, high = (min(known), max(known)) if known else (0.0, 0.0)
    cells = []
    for x in range(width):
        value = values[x * len(values) // width]
        if value is None:
            cells.append(" ")
        elif high == low:
            cells.append(BARS[len(BARS) // 2])
        else:
            cells.append(BARS[round((value - low) / (high - low) * (len(BARS) - 1))])
    return "".join(cells)


class GapSparkline(Widget):
    DEFAULT_CSS = "GapSparkline { height: 1; color: $primary; }"

    data: reactive[list[float | None]] = reactive(list, always_update=True)

    def render(self) -> Content:
        return Content(bars(list(self.data), self.size.width))
