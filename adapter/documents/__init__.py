"""Readable documents (PDF and HTML) for people: a small model and its renderers; no Flask.

Build a `Document` (letterhead, title, sections of key-value rows, paragraphs and bullet lists)
and render it with `render_pdf` (A4, DejaVu Sans, page numbers, a protective-marking footer) or
`render_html` (a self-contained page, everything escaped). `letterhead_for_service` takes the
service's name and contact details from the service directory.
"""

from adapter.documents.html import render_html
from adapter.documents.letterhead import letterhead_for_service
from adapter.documents.model import (
    DEFAULT_MARKING,
    Bullets,
    Document,
    KeyValues,
    Letterhead,
    Paragraph,
    Section,
)
from adapter.documents.pdf import render_pdf

__all__ = [
    "DEFAULT_MARKING",
    "Bullets",
    "Document",
    "KeyValues",
    "Letterhead",
    "Paragraph",
    "Section",
    "letterhead_for_service",
    "render_html",
    "render_pdf",
]
