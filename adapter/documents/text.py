"""Text made safe for the PDF font: every character either has a glyph or is visibly replaced."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_FILES = {"": FONT_DIR / "DejaVuSans.ttf", "B": FONT_DIR / "DejaVuSans-Bold.ttf"}
REPLACEMENT = "\ufffd"  # DejaVu Sans draws it: a visible sign that something was not printable
# Controls and invisible format characters (zero-width joiners in emoji sequences, bidi marks) are
# dropped even where the font maps them: they print nothing and only split words on extraction.
DROPPED_CATEGORIES = frozenset({"Cc", "Cf"})
# Combining marks left over after NFC that the font lacks: dropping keeps the base letter readable.
DROPPED_IF_MISSING = frozenset({"Mn", "Me"})


@lru_cache(maxsize=1)
def covered() -> frozenset[int]:
    """Code points both the regular and the bold font draw."""
    sets = []
    for path in FONT_FILES.values():
        with TTFont(path, lazy=True) as font:
            sets.append(frozenset(font.getBestCmap()))
    return frozenset.intersection(*sets)


def printable(text: str) -> str:
    """`text` in NFC with tabs as spaces, other controls dropped and glyph-less characters as �."""
    glyphs = covered()
    out = []
    for char in unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\t", "    ")):
        category = unicodedata.category(char)
        if char == "\n" or (ord(char) in glyphs and category not in DROPPED_CATEGORIES):
            out.append(char)
        elif category not in DROPPED_CATEGORIES and category not in DROPPED_IF_MISSING:
            out.append(REPLACEMENT)
    return "".join(out)
