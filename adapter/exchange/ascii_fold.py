"""Names as MESH envelopes carry them: ASCII, with diacritics folded (Łukasz → Lukasz).

MESH headers (Mex-To, Mex-Subject) are ASCII HTTP headers. The document inside keeps the name
as written; only the envelope is folded. NFKD splits a letter from its accents; the few Latin
letters that are not composed of a base letter and an accent are spelt out as is usual.
"""

from __future__ import annotations

import unicodedata

# Latin letters NFKD leaves whole: their usual ASCII spellings.
_SPELT = str.maketrans(
    {
        "Ł": "L",
        "ł": "l",
        "Ø": "O",
        "ø": "o",
        "Đ": "D",
        "đ": "d",
        "Ħ": "H",
        "ħ": "h",
        "ß": "ss",
        "Æ": "AE",
        "æ": "ae",
        "Œ": "OE",
        "œ": "oe",
        "Þ": "Th",
        "þ": "th",
        "ı": "i",
    }
)


def ascii_fold(text: str) -> str:
    """`text` in ASCII: accents dropped, special Latin letters spelt out, anything else left out."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPELT))
    return decomposed.encode("ascii", "ignore").decode("ascii")
