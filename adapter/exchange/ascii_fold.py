"""Text in ASCII for MESH envelope headers: HTTP sends them as Latin-1, MESH routes by ASCII."""

from __future__ import annotations

import unicodedata

UNKNOWN = "?"
# Letters with no Unicode decomposition to an ASCII letter and a diacritic: their usual spelling.
_LETTERS = str.maketrans(
    {
        "Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h",
        "ı": "i", "ß": "ss", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Þ": "Th", "þ": "th",
        "Ð": "D", "ð": "d", "\u2018": "'", "\u2019": "'", "\u2013": "-", "\u2014": "-",
    }
)  # fmt: skip


def ascii_fold(text: str) -> str:
    """`text` with accents dropped and ł as l, Ø as O...; a letter with no ASCII form as '?'."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    return "".join(
        char if char.isascii() else "" if unicodedata.combining(char) else UNKNOWN
        for char in decomposed
    )


def folds_fully(text: str) -> bool:
    """Whether every letter of `text` has an ASCII form (Polish, Welsh, Irish: yes; Greek: no)."""
    return UNKNOWN not in ascii_fold(text.replace(UNKNOWN, ""))
