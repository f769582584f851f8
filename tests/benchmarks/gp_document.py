"""GP Connect Send Document: the contact summary PDF, and the whole ITK3 message around it."""

from __future__ import annotations

from collections.abc import Callable

from adapter.documents import render_pdf
from adapter.documents.contact_summary import contact_summary_document
from adapter.exchange.gp_send_document import identity_of, send_document_message
from adapter.exchange.stu3_check import ensure_stu3
from tests.unit.test_contact_summary import _gp, _summary_inputs
from tests.unit.test_gp_send_document import PATIENT, _report

Median = Callable[[Callable[[], object], int], float]


def gp_document_section(median: Median) -> list[str]:
    """Median ms: render the summary PDF; build the ITK3 message; check it with the STU3 models."""
    summary = _summary_inputs(_gp())
    document = contact_summary_document(summary)
    pdf = render_pdf(document)
    identity = identity_of(PATIENT)
    message = send_document_message(_report(), identity, pdf)
    timings = {
        "contact summary PDF (fpdf2, 1 page)": median(lambda: render_pdf(document), 50),
        "ITK3 message around it": median(
            lambda: send_document_message(_report(), identity, pdf), 50
        ),
        "STU3 model check of the message": median(lambda: ensure_stu3(message), 50),
    }
    rows = [f"| {name} | {seconds * 1000:.2f} |" for name, seconds in timings.items()]
    return [
        "## GP Connect Send Document",
        "",
        f"A one-page contact summary ({len(pdf) // 1024} KiB PDF); medians in milliseconds.",
        "",
        "| step | median ms |",
        "| --- | ---: |",
        *rows,
        "",
    ]


SECTIONS = [gp_document_section]
