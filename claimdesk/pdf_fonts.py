"""Fonts for the PDFs claimdesk draws (fpdf2), so names print as people write them.

fpdf2's core fonts (Helvetica) cover Latin-1 only: "Nuñez" prints, "Łukasz",
"Þórsson"'s neighbours in Latin Extended and "王小明" would not. Text that fits
Latin-1 keeps Helvetica (small, fast, the same bytes as before); anything else
gets a Unicode TrueType family found at run time among Debian's font packages
(fonts-dejavu-core: DejaVu Sans), and for the characters that family lacks
(CJK, say) a fallback font (fonts-droid-fallback: Droid Sans Fallback). With
neither installed the text is drawn in Helvetica with "?" for what Latin-1
cannot hold, and a warning says which package to install.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF

log = logging.getLogger(__name__)

FONT_ROOTS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
# style → file, under a font root; the first family whose regular face exists is used.
_FAMILIES: tuple[dict[str, str], ...] = (
    {
        "": "truetype/dejavu/DejaVuSans.ttf",
        "B": "truetype/dejavu/DejaVuSans-Bold.ttf",
        "I": "truetype/dejavu/DejaVuSans-Oblique.ttf",
        "BI": "truetype/dejavu/DejaVuSans-BoldOblique.ttf",
    },
    {
        "": "truetype/noto/NotoSans-Regular.ttf",
        "B": "truetype/noto/NotoSans-Bold.ttf",
        "I": "truetype/noto/NotoSans-Italic.ttf",
        "BI": "truetype/noto/NotoSans-BoldItalic.ttf",
    },
    {
        "": "truetype/liberation/LiberationSans-Regular.ttf",
        "B": "truetype/liberation/LiberationSans-Bold.ttf",
        "I": "truetype/liberation/LiberationSans-Italic.ttf",
        "BI": "truetype/liberation/LiberationSans-BoldItalic.ttf",
    },
)
_FALLBACKS = ("truetype/droid/DroidSansFallbackFull.ttf",)
CORE = "Helvetica"
UNICODE = "claimdesk-sans"
_FALLBACK = "claimdesk-fallback"
INSTALL_HINT = "apt-get install fonts-dejavu-core fonts-droid-fallback"


@dataclass(frozen=True)
class PdfFont:
    """The family to ``set_font`` with, and how to pass text to it."""

    family: str
    unicode: bool

    def text(self, value: str) -> str:
        """``value`` as this font can draw it: as given, or Latin-1 with "?" for the rest."""
        return value if self.unicode else value.encode("latin-1", "replace").decode("latin-1")


def _find(relative: str) -> Path | None:
    for root in FONT_ROOTS:
        path = root / relative
        if path.is_file():
            return path
    return None


@lru_cache(maxsize=1)
def unicode_family() -> dict[str, Path] | None:
    """style → font file of the first Unicode family installed; None when there is none."""
    for family in _FAMILIES:
        regular = _find(family[""])
        if regular is None:
            continue
        # A style the package does not ship is drawn with the regular face.
        return {style: _find(name) or regular for style, name in family.items()}
    return None


@lru_cache(maxsize=1)
def fallback_font() -> Path | None:
    return next((path for name in _FALLBACKS if (path := _find(name)) is not None), None)


@lru_cache(maxsize=4)
def _covered(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTFont  # fpdf2's own dependency

    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap())


def _fits_latin1(texts: Iterable[str]) -> bool:
    try:
        for value in texts:
            value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def prepare_fonts(
    pdf: FPDF, texts: Iterable[str], *, styles: tuple[str, ...] = ("", "B", "I", "BI")
) -> PdfFont:
    """Register on ``pdf`` what ``texts`` need in ``styles``; the font to draw them with.

    Each face costs a parse of its file (about a tenth of a second): name only the
    styles the document uses.
    """
    values = list(texts)
    if _fits_latin1(values):
        return PdfFont(CORE, unicode=False)
    family = unicode_family()
    if family is None:
        log.warning("no Unicode font found under %s; install one: %s", FONT_ROOTS, INSTALL_HINT)
        return PdfFont(CORE, unicode=False)
    for style in styles:
        pdf.add_font(UNICODE, style=style, fname=str(family[style]))
    wanted = {ord(c) for value in values for c in value if not c.isspace()}
    fallback = fallback_font()
    if wanted - _covered(family[""]):
        if fallback is None:
            log.warning("some characters have no glyph; for CJK install fonts-droid-fallback")
        else:
            pdf.add_font(_FALLBACK, fname=str(fallback))
            pdf.set_fallback_fonts([_FALLBACK], exact_match=False)
    return PdfFont(UNICODE, unicode=True)
