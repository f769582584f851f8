"""The PDF layer: what goes into a Document comes back out of the PDF, in any script and length."""

from __future__ import annotations

import io
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from pypdf import PdfReader

from adapter.directory import directory_resources
from adapter.documents import (
    Bullets,
    Document,
    KeyValues,
    Letterhead,
    Paragraph,
    Section,
    letterhead_for_service,
    render_html,
    render_pdf,
)
from adapter.documents.text import REPLACEMENT, printable
from tests.support.pdf_text import pdf_pages, pdf_text

HEAD = Letterhead(
    service_name="Liaison and Diversion - Shropshire and Telford & Wrekin",
    organisation_name="Midlands Partnership University NHS Foundation Trust",
    contact=("Phone: 01743 210080",),
    address=("Shrewsbury", "SY1 1AA"),
)


def _document(*sections: Section, title: str = "Report for the court") -> Document:
    return Document(
        letterhead=HEAD, title=title, subtitle="For: Telford Magistrates", sections=sections
    )


def test_every_part_of_a_document_comes_back_as_text() -> None:
    document = _document(
        Section(
            "About the person",
            (KeyValues((("Name", "Sam Smith"), ("Date of birth", "1 May 1990"))),),
        ),
        Section("Needs found", (Bullets(("Learning disability", "Alcohol misuse")),)),
        Section("Notes", (Paragraph("Seen in custody on 3 March."),)),
    )
    text = pdf_text(render_pdf(document))
    for expected in (
        "Liaison and Diversion - Shropshire and Telford & Wrekin",
        "Midlands Partnership University NHS Foundation Trust",
        "Phone: 01743 210080",
        "SY1 1AA",
        "Report for the court",
        "For: Telford Magistrates",
        "About the person",
        "Date of birth",
        "1 May 1990",
        "• Learning disability",
        "• Alcohol misuse",
        "Seen in custody on 3 March.",
        "OFFICIAL-SENSITIVE",
        "Page 1 of 1",
    ):
        assert expected in text


@pytest.mark.parametrize(
    "name",
    [
        "Zoë Wąsowska-Żółć",  # Polish
        "Gwenllïan Ŵyn ap Rhŷs",  # Welsh circumflexes
        "Siobhán Ó Súilleabháin",  # Irish
        "Ιωάννης Παπαδόπουλος",  # Greek
        "Алексей Смирнов",  # Cyrillic
        "Sam 😀",  # an emoji DejaVu Sans draws
    ],
)
def test_names_in_other_scripts_print_as_written(name: str) -> None:
    document = _document(Section("Person", (KeyValues((("Name", name),)),)))
    assert name in pdf_text(render_pdf(document))


def test_characters_the_font_lacks_are_replaced_visibly_not_dropped_or_fatal() -> None:
    name = "Li 李 🦄 Wei"  # CJK and a newer emoji are outside DejaVu Sans
    text = pdf_text(render_pdf(_document(Section("Person", (Paragraph(name),)))))
    assert f"Li {REPLACEMENT} {REPLACEMENT} Wei" in text


def test_combining_marks_and_invisible_controls_do_not_break_the_text() -> None:
    written = "Ge\u0301rard w\u0302 \u200bA\x00B\x07 👩\u200d👩\u200d👧 end\ud800"
    # 👩 and a lone surrogate have no glyph: one visible mark each; joiners and controls vanish
    assert printable(written) == f"Gérard ŵ AB {REPLACEMENT * 3} end{REPLACEMENT}"
    text = pdf_text(render_pdf(_document(Section("Notes", (Paragraph(written),)))))
    assert "Gérard ŵ AB" in text
    assert "end" in text


def test_long_text_wraps_and_runs_over_numbered_pages_with_the_marking_on_each() -> None:
    words = " ".join(f"word{n}" for n in range(2500))
    unbroken = "x" * 400  # no space to break at: must still wrap, not run off the page
    pages = pdf_pages(
        render_pdf(_document(Section("Notes", (Paragraph(words), Bullets((unbroken,))))))
    )
    assert len(pages) > 2
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert "OFFICIAL-SENSITIVE" in page
    assert re.findall(r"word\d+", "\n".join(pages)) == words.split()  # none lost, in order
    assert "".join(pages).count("x") == len(unbroken)  # wrapped onto lines, no letter cut off
    assert "Report for the court" in pages[1]  # later pages say what they belong to


def test_the_letterhead_comes_from_the_service_directory() -> None:
    head = letterhead_for_service(directory_resources(), "bsmhft-cjld")
    assert head.service_name == "Criminal Justice Liaison and Diversion Team"
    assert head.organisation_name == "Birmingham and Solihull Mental Health NHS Foundation Trust"
    assert head.contact[0] == "Phone: 0121 301 4409"
    text = pdf_text(render_pdf(Document(letterhead=head, title="Report")))
    assert "Phone: 0121 301 4409" in text


def test_an_organisation_address_and_email_reach_the_letterhead() -> None:
    resources = [
        {
            "resourceType": "HealthcareService",
            "id": "ld",
            "name": "L&D team",
            "providedBy": {"reference": "Organization/trust"},
            "telecom": [{"system": "email", "value": "ld.team@nhs.net", "rank": 1}],
        },
        {
            "resourceType": "Organization",
            "id": "trust",
            "name": "A Trust",
            "address": [
                {
                    "use": "work",
                    "line": ["1 High Street"],
                    "city": "Stafford",
                    "postalCode": "ST16 1AA",
                }
            ],
        },
    ]
    head = letterhead_for_service(resources, "ld")
    assert head.contact == ("Email: ld.team@nhs.net",)
    assert head.address == ("1 High Street", "Stafford", "ST16 1AA")


def test_a_service_missing_from_the_directory_is_an_error() -> None:
    with pytest.raises(ValueError, match="HealthcareService/nowhere"):
        letterhead_for_service(directory_resources(), "nowhere")


def test_html_escapes_every_text_it_is_given() -> None:
    hostile = '<script>alert("x")</script> & <b onmouseover=x>'
    document = Document(
        letterhead=Letterhead(service_name=hostile, contact=(hostile,)),
        title=hostile,
        subtitle=hostile,
        sections=(
            Section(
                hostile, (KeyValues(((hostile, hostile),)), Bullets((hostile,)), Paragraph(hostile))
            ),
        ),
        marking=hostile,
    )
    page = render_html(document)
    assert "<script>" not in page
    assert "<b onmouseover" not in page
    assert page.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp;") == 12


def _embedded_fonts(data: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(data))
    return {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }


@pytest.mark.parametrize(
    ("name", "fonts"),
    [
        # Windows-1252 text (typographic quotes and dashes too) needs no font file at all
        ("Seán O’Brien – café £5", {"/Helvetica", "/Helvetica-Bold"}),
        # European letters: DejaVu Sans (subsetting its European part is the fast way to it)
        ("Wąsowska-Ŵyn, Παπαδόπουλος", {"/MPDFAA+DejaVuSansBook", "/MPDFAA+DejaVuSansBold"}),
        # anything else DejaVu draws (Armenian, symbols, emoji) comes from the whole font
        ("Արամ ⚖ Sam 😀", {"/MPDFAA+DejaVuSansBook", "/MPDFAA+DejaVuSansBold"}),
    ],
)
def test_each_font_path_prints_the_text_and_embeds_only_what_it_needs(
    name: str, fonts: set[str]
) -> None:
    data = render_pdf(_document(Section("Person", (KeyValues((("Name", name),)),))))
    assert _embedded_fonts(data) == fonts
    text = pdf_text(data)
    assert name in text
    assert "Page 1 of 1" in text


def test_documents_rendered_at_once_in_threads_each_keep_their_own_text() -> None:
    names = [f"Zoë Wąsowska {n} ⚖" if n % 2 else f"Sam Smith {n}" for n in range(8)]
    documents = [_document(Section("Person", (Paragraph(name),))) for name in names]
    with ThreadPoolExecutor(max_workers=4) as pool:
        texts = list(pool.map(lambda document: pdf_text(render_pdf(document)), documents))
    for name, text in zip(names, texts, strict=True):
        assert name in text
        assert not any(other in text for other in names if other != name)
