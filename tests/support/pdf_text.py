"""Read a PDF's text back, page by page, with pypdf (what a person's viewer would show)."""

from __future__ import annotations

import io

from pypdf import PdfReader


def pdf_pages(data: bytes) -> list[str]:
    """The extracted text of each page."""
    assert data.startswith(b"%PDF-"), "not a PDF"
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def pdf_text(data: bytes) -> str:
    """The extracted text of the whole document."""
    return "\n".join(pdf_pages(data))
