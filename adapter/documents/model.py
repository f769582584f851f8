"""The document model both renderers share: plain frozen dataclasses, text only."""

from __future__ import annotations

from dataclasses import dataclass

# Health and criminal-offence data about a named person: the Government Security Classification's
# OFFICIAL-SENSITIVE handling caveat is what NHS and justice partners expect to see on each page.
DEFAULT_MARKING = "OFFICIAL-SENSITIVE: personal data. Do not share beyond the named recipient."


@dataclass(frozen=True)
class Letterhead:
    """Who the document is from: the service, its organisation and how to reach them."""

    service_name: str
    organisation_name: str | None = None
    contact: tuple[str, ...] = ()  # "Phone: 01743 210080", "Email: ...", one line each
    address: tuple[str, ...] = ()  # address lines


@dataclass(frozen=True)
class KeyValues:
    """Label and value rows, e.g. ("Date of birth", "1 May 1990")."""

    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of running text; it wraps and may run over pages."""

    text: str


@dataclass(frozen=True)
class Bullets:
    """A bulleted list; each item wraps under its own bullet."""

    items: tuple[str, ...]


Block = KeyValues | Paragraph | Bullets


@dataclass(frozen=True)
class Section:
    """A heading and its blocks, in order."""

    heading: str
    blocks: tuple[Block, ...] = ()


@dataclass(frozen=True)
class Document:
    """A whole document: letterhead, title, optional subtitle, sections and the footer marking."""

    letterhead: Letterhead
    title: str
    sections: tuple[Section, ...] = ()
    subtitle: str | None = None
    marking: str = DEFAULT_MARKING
