"""A `Document` as one self-contained HTML page: inline style, no scripts, every text escaped."""

from __future__ import annotations

from html import escape

from adapter.documents.model import Block, Bullets, Document, KeyValues, Paragraph, Section

STYLE = (
    "body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:46em;margin:2em auto;"
    "line-height:1.45;color:#111}header{border-bottom:1px solid #777;margin-bottom:1em}"
    "header p{margin:.1em 0;color:#555}th{text-align:left;padding-right:1em;vertical-align:top}"
    "td,th{border-bottom:1px solid #ddd;padding:.2em .5em .2em 0}table{border-collapse:collapse;"
    "width:100%}.marking{font-size:.85em;color:#555;border-top:1px solid #777;margin-top:2em}"
)


def render_html(document: Document) -> str:
    """The document as an HTML page (UTF-8); nothing from the document is left unescaped."""
    head = document.letterhead
    letterhead = [f"<strong>{escape(head.service_name)}</strong>"]
    letterhead += [
        f"<p>{escape(line)}</p>"
        for line in (head.organisation_name, *head.address, *head.contact)
        if line
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB"><head><meta charset="utf-8">',
        f"<title>{escape(document.title)}</title><style>{STYLE}</style></head><body>",
        f'<p class="marking">{escape(document.marking)}</p>',
        f"<header>{''.join(letterhead)}</header>",
        f"<h1>{escape(document.title)}</h1>",
    ]
    if document.subtitle:
        parts.append(f"<p>{escape(document.subtitle)}</p>")
    parts += [_section(section) for section in document.sections]
    parts.append(f'<footer class="marking">{escape(document.marking)}</footer></body></html>')
    return "\n".join(parts)


def _section(section: Section) -> str:
    """A section as <section><h2>…"""
    blocks = "".join(_block(block) for block in section.blocks)
    return f"<section><h2>{escape(section.heading)}</h2>{blocks}</section>"


def _block(block: Block) -> str:
    """One block as HTML."""
    if isinstance(block, KeyValues):
        rows = "".join(
            f'<tr><th scope="row">{escape(label)}</th><td>{escape(value)}</td></tr>'
            for label, value in block.rows
        )
        return f"<table>{rows}</table>" if rows else ""
    if isinstance(block, Bullets):
        items = "".join(f"<li>{escape(item)}</li>" for item in block.items)
        return f"<ul>{items}</ul>" if items else ""
    if isinstance(block, Paragraph):
        return "".join(f"<p>{escape(p)}</p>" for p in block.text.split("\n\n"))
    raise TypeError(f"unknown block type {type(block).__name__}")
