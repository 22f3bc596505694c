"""Drawing a paper form with fpdf2: the form's grid and labels in red, the data in black ink.

Coordinates are millimetres from the page's top left; text positions are baselines.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fpdf import FPDF

# fpdf2's built-in fonts cover Latin-1 only; anything else is replaced, never an error.
ENCODING = "latin-1"
# The form's drop-out red, a pale tint of it for the shaded halves of item 24, and ink.
RED = (200, 32, 48)
TINT = (252, 228, 230)
INK = (0, 0, 0)
LABEL_PT = 5.2
DATA_PT = 9.5
DATA_FONT = "Courier"
CHAR_MM = 0.6 * DATA_PT * 25.4 / 72  # Courier's advance: 0.6 em

# One item row: a label line above, a data line below.
ROW = 8.5


def latin1(value: str) -> str:
    return value.encode(ENCODING, "replace").decode(ENCODING)


def mdy(value: date | None, *, year_digits: int = 2) -> str:
    if value is None:
        return ""
    year = f"{value.year:04d}"[-year_digits:]
    return f"{value.month:02d} {value.day:02d} {year}"


def money(value: Decimal) -> str:
    """``1234 56``: the form's dollars and cents either side of its divider (no $ or commas)."""
    cents = int((value * 100).to_integral_value())
    return f"{cents // 100} {cents % 100:02d}"


def units(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


class FormCanvas:
    """Drawing helpers: the grid in red, data in black."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf

    # --- the form itself (red) ---------------------------------------------------------

    def box(self, x: float, y: float, w: float, h: float, *, fill: bool = False) -> None:
        pdf = self.pdf
        pdf.set_draw_color(*RED)
        pdf.set_fill_color(*TINT)
        pdf.set_line_width(0.2)
        pdf.rect(x, y, w, h, style="DF" if fill else "D")

    def shade(self, x: float, y: float, w: float, h: float) -> None:
        self.pdf.set_fill_color(*TINT)
        self.pdf.rect(x, y, w, h, style="F")

    def rule(self, x1: float, y1: float, x2: float, y2: float, *, width: float = 0.2) -> None:
        self.pdf.set_draw_color(*RED)
        self.pdf.set_line_width(width)
        self.pdf.line(x1, y1, x2, y2)

    def dotted(self, x1: float, y1: float, x2: float, y2: float) -> None:
        pdf = self.pdf
        pdf.set_draw_color(*RED)
        pdf.set_line_width(0.15)
        pdf.set_dash_pattern(dash=0.4, gap=0.6)
        pdf.line(x1, y1, x2, y2)
        pdf.set_dash_pattern()

    def label(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float = LABEL_PT,
        bold: bool = False,
        right: float | None = None,
    ) -> None:
        """Label text with its baseline at ``y`` (right-aligned at ``right`` when given)."""
        pdf = self.pdf
        pdf.set_font("Helvetica", style="B" if bold else "", size=size)
        pdf.set_text_color(*RED)
        if right is not None:
            x = right - pdf.get_string_width(latin1(text))
        pdf.text(x, y, latin1(text))

    def item(self, x: float, y: float, text: str, *, size: float = LABEL_PT) -> None:
        """An item's heading at the top left of the box that starts at (x, y)."""
        self.label(x + 0.8, y + 2.2, text, size=size)

    def checkbox(self, x: float, y: float, checked: bool, caption: str = "") -> None:
        """A 3 mm box at (x, y) with ``caption`` to its right; X'd in ink when checked."""
        pdf = self.pdf
        pdf.set_draw_color(*RED)
        pdf.set_line_width(0.2)
        pdf.rect(x, y, 3.0, 3.0)
        if caption:
            self.label(x + 3.8, y + 2.5, caption)
        if checked:
            self.data(x + 0.45, y + 2.75, "X")

    # --- the claim (black) -------------------------------------------------------------

    def data(self, x: float, y: float, text: str, *, size: float = DATA_PT) -> None:
        if not text:
            return
        pdf = self.pdf
        pdf.set_font(DATA_FONT, size=size)
        pdf.set_text_color(*INK)
        pdf.text(x, y, latin1(text.upper()))  # capitals, as forms read by OCR want them

    def data_right(self, right: float, y: float, text: str) -> None:
        self.data(right - len(text) * CHAR_MM, y, text)

    def amount(self, y: float, value: Decimal, *, divider: float) -> None:
        """Dollars and cents with the space between them on the form's divider."""
        self.data_right(divider + 2.5 * CHAR_MM, y, money(value))

    def field(self, x: float, y: float, text: str, *, h: float = ROW) -> None:
        """Data on the bottom line of a box that starts at (x, y)."""
        self.data(x + 1.5, y + h - 1.8, text)
