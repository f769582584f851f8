"""Which fonts a PDF uses, and DejaVu Sans parsed once per process rather than once per document."""

from __future__ import annotations

import copy
import io
from functools import cache

from fontTools import subset
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

from adapter.documents.text import FONT_FILES

UNICODE_FAMILY = "DejaVuSans"
CORE_FAMILY = "helvetica"
# The PDF core fonts are drawn in WinAnsiEncoding, which is Windows code page 1252: Latin-1's
# letters plus typographic quotes, dashes and the bullet. Text wholly within it needs no font file.
CORE_ENCODING = "windows-1252"
# Tables fpdf2 drops when it subsets a font for embedding (fpdf/output.py): dropping them once when
# the font is first read saves each document the time fontTools spends decompiling the layout
# tables (GSUB, GPOS) before discarding them. The embedded subsets are the same.
UNEMBEDDED_TABLES = ("FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta")
# Latin (with its extensions), Greek, Cyrillic, punctuation, currency signs and the replacement
# character: the European names and text a document is likely to hold. A copy of the font with
# just these is a sixth of its size, and fpdf2 subsets it for each document that much faster.
EUROPEAN = frozenset(range(0x20, 0x530)) | frozenset(range(0x2000, 0x20D0)) | {0xFFFD}


def fits_core_fonts(texts: list[str]) -> bool:
    """Whether every character of `texts` is drawn by the PDF core fonts (no font to embed)."""
    try:
        for text in texts:
            text.encode(CORE_ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def add_unicode_fonts(pdf: FPDF, texts: list[str]) -> None:
    """Give `pdf` DejaVu Sans regular and bold (its European part if that draws all of `texts`)."""
    european = all(ord(char) in EUROPEAN for text in texts for char in text)
    for style in FONT_FILES:
        parsed = _parsed(style, european)
        font = _fresh_copy(parsed, _font_bytes(style, european), len(pdf.fonts) + 1, style)
        pdf.fonts[font.fontkey] = font


@cache
def _parsed(style: str, european: bool) -> TTFFont:
    """The font as fpdf2 parses it (widths, glyph ids, descriptor): read-only once cached."""
    key = f"{UNICODE_FAMILY.lower()}{style}"
    data = io.BytesIO(_font_bytes(style, european))
    return TTFFont(FPDF(), data, key, style)  # type: ignore[arg-type]


@cache
def _font_bytes(style: str, european: bool) -> bytes:
    """The font file without the tables fpdf2 never embeds (and only European glyphs if asked)."""
    with TTFont(FONT_FILES[style], recalcTimestamp=False) as font:
        if european:
            options = subset.Options(glyph_names=True, notdef_outline=True, recommended_glyphs=True)
            options.drop_tables += list(UNEMBEDDED_TABLES)
            subsetter = subset.Subsetter(options)
            subsetter.populate(unicodes=EUROPEAN)
            subsetter.subset(font)
        for tag in UNEMBEDDED_TABLES:
            if tag in font:
                del font[tag]
        out = io.BytesIO()
        font.save(out)
    return out.getvalue()


def _fresh_copy(parsed: TTFFont, data: bytes, index: int, style: str) -> TTFFont:
    """A copy sharing the read-only tables, with its own copy of everything a render mutates.

    fpdf2 records the glyphs a document uses in `subset`, missing ones in `missing_glyphs`,
    widths looked up through a defaultdict in `cw`, object ids in `desc`, and at output subsets
    `ttfont` in place: so each document gets new ones of those, and threads never share them.
    """
    font = copy.copy(parsed)
    font.i = index
    font.fontkey = f"{UNICODE_FAMILY.lower()}{style}"
    font.ttfont = TTFont(io.BytesIO(data), recalcTimestamp=False, lazy=True)
    font.cw = copy.copy(parsed.cw)
    font.desc = copy.copy(parsed.desc)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font.subset = SubsetMap(font)
    return font
