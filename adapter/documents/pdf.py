"""A `Document` as an A4 PDF (fpdf2, pure Python): letterhead, sections, page numbers, marking."""

from __future__ import annotations

from fpdf import FPDF, FontFace
from fpdf.enums import Align, XPos, YPos

from adapter.documents.fonts import (
    CORE_ENCODING,
    CORE_FAMILY,
    UNICODE_FAMILY,
    add_unicode_fonts,
    fits_core_fonts,
)
from adapter.documents.model import Block, Bullets, Document, KeyValues, Paragraph, Section
from adapter.documents.text import printable

BULLET = "\u2022"
MARGIN = 18  # mm
LINE = 5.2  # mm, body line height at 10 pt
BULLET_INDENT = 6  # mm
LABEL_SHARE = 0.32  # of the text width, for key-value labels
GREY = (90, 90, 90)


def render_pdf(document: Document) -> bytes:
    """The document as PDF bytes."""
    pdf = _Pdf(document)
    pdf.add_page()
    pdf.title_block()
    for section in document.sections:
        pdf.section(section)
    return bytes(pdf.output())


class _Pdf(FPDF):
    """fpdf2 with our letterhead as header and the marking and page number as footer."""

    def __init__(self, document: Document) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.document = document
        # The core fonts need nothing embedded, so a document they can draw renders several times
        # faster; anything else gets DejaVu Sans, which draws nearly every script people write in.
        texts = [printable(text) for text in _texts(document)]
        if fits_core_fonts(texts):
            self.family = CORE_FAMILY
            self.core_fonts_encoding = CORE_ENCODING
        else:
            self.family = UNICODE_FAMILY
            add_unicode_fonts(self, texts)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=22)
        self.set_title(printable(document.title))
        self.set_author(printable(document.letterhead.service_name))
        self.set_creator("ld-adapter")
        self.set_lang("en-GB")

    def header(self) -> None:
        """The full letterhead on page 1; the service name and title on later pages."""
        head = self.document.letterhead
        self.set_text_color(0)
        self.set_font(self.family, "B", 13 if self.page_no() == 1 else 9)
        self._line(head.service_name)
        self.set_font(self.family, "", 9)
        self.set_text_color(*GREY)
        if self.page_no() == 1:
            for line in (head.organisation_name, *head.address, *head.contact):
                if line:
                    self._line(line, height=4.4)
        else:
            self._line(self.document.title, height=4.4)
        self.set_draw_color(*GREY)
        self.line(MARGIN, self.get_y() + 1.5, self.w - MARGIN, self.get_y() + 1.5)
        self.set_text_color(0)
        self.ln(5)

    def footer(self) -> None:
        """The protective marking and 'Page n of N' on every page."""
        self.set_y(-16)
        self.set_font(self.family, "", 8)
        self.set_text_color(*GREY)
        page = f"Page {self.page_no()} of {{nb}}"
        page_width = self.get_string_width(f"Page {self.page_no()} of 999") + 2
        self.multi_cell(
            self.epw - page_width,
            4,
            printable(self.document.marking),
            align=Align.L,
            new_x=XPos.RIGHT,
            new_y=YPos.TOP,
        )
        self.cell(page_width, 4, page, align=Align.R)

    def title_block(self) -> None:
        """The document's title and subtitle."""
        self.set_font(self.family, "B", 16)
        self._line(self.document.title, height=8)
        if self.document.subtitle:
            self.set_font(self.family, "", 10)
            self._line(self.document.subtitle)
        self.ln(3)

    def section(self, section: Section) -> None:
        """A heading (kept with what follows) and its blocks."""
        if self.will_page_break(18):
            self.add_page()
        self.ln(2)
        self.set_font(self.family, "B", 12)
        self._line(section.heading, height=7)
        self.set_font(self.family, "", 10)
        for block in section.blocks:
            self._block(block)
            self.ln(1.5)

    def _block(self, block: Block) -> None:
        """One block in body type."""
        if isinstance(block, KeyValues):
            self._key_values(block)
        elif isinstance(block, Bullets):
            for item in block.items:
                self.set_x(MARGIN)
                self.cell(BULLET_INDENT, LINE, BULLET)
                self.multi_cell(
                    self.epw - BULLET_INDENT,
                    LINE,
                    printable(item),
                    align=Align.L,
                    new_x=XPos.LMARGIN,
                    new_y=YPos.NEXT,
                )
        elif isinstance(block, Paragraph):
            self._line(block.text)

    def _key_values(self, block: KeyValues) -> None:
        """Label and value columns; long values wrap within their column."""
        if not block.rows:
            return
        widths = (self.epw * LABEL_SHARE, self.epw * (1 - LABEL_SHARE))
        with self.table(
            col_widths=widths,
            width=self.epw,
            first_row_as_headings=False,
            borders_layout="HORIZONTAL_LINES",
            line_height=LINE,
            text_align="LEFT",
            padding=(1, 1, 1, 0),
        ) as table:
            for label, value in block.rows:
                row = table.row()
                row.cell(printable(label), style=FontFace(emphasis="BOLD"))
                row.cell(printable(value))

    def _line(self, text: str, height: float = LINE) -> None:
        """Wrapped left-aligned text across the full width, then a new line."""
        self.set_x(MARGIN)
        self.multi_cell(
            self.epw, height, printable(text), align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )


def _texts(document: Document) -> list[str]:
    """Every string the document prints, including the fixed ones."""
    head = document.letterhead
    texts = [document.title, document.subtitle or "", document.marking, BULLET, "Page of"]
    texts += [head.service_name, head.organisation_name or "", *head.address, *head.contact]
    for section in document.sections:
        texts.append(section.heading)
        for block in section.blocks:
            if isinstance(block, KeyValues):
                texts += [text for row in block.rows for text in row]
            elif isinstance(block, Bullets):
                texts += block.items
            elif isinstance(block, Paragraph):
                texts.append(block.text)
    return texts
