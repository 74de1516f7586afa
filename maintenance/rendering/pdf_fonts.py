"""PDFs in Unicode: fpdf2's core fonts know Latin-1 only ("≈" printed as "?"), so every PDF
embeds DejaVu Sans, the TrueType font matplotlib ships (already a dependency)."""

from __future__ import annotations

import logging
from importlib.util import find_spec
from pathlib import Path

from fpdf import FPDF

__all__ = ["FONT", "unicode_pdf"]

FONT = "DejaVu"
# fpdf2 subsets the embedded font with fontTools, which logs some 75 INFO lines per PDF
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)


def _font_folder() -> Path:
    """matplotlib's bundled TrueType fonts, found without importing matplotlib."""
    spec = find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib is not installed: its DejaVu fonts are needed for PDFs")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


def unicode_pdf(title: str) -> FPDF:
    """An A4 document in millimetres, 12 mm margins, with DejaVu Sans as ``FONT`` (regular
    and bold) embedded, so any text prints as written."""
    pdf = FPDF(format="A4", unit="mm")
    folder = _font_folder()
    pdf.add_font(FONT, "", folder / "DejaVuSans.ttf")
    pdf.add_font(FONT, "B", folder / "DejaVuSans-Bold.ttf")
    pdf.set_margins(12, 12, 12)
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_title(title)
    pdf.set_creator("pdm-platform")
    return pdf
