"""Justice reports: rendering one (PDF, HTML) and making its DocumentReference, one core."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from adapter.directory import directory_resources
from adapter.documents import letterhead_for_service
from adapter.mapping.justice_report import (
    JusticeReport,
    SupportArranged,
    adjustments_for,
    justice_report_reference,
    report_document,
)
from adapter.services.justice_reports import HTML, render_justice_report
from tests.support.pdf_text import pdf_pages

Median = Callable[[Callable[[], object], int], float]


def sample_report() -> JusticeReport:
    """A standard-scope report with the needs, support and adjustments of a busy custody day."""
    return JusticeReport(
        referral_id="r-1",
        patient="Patient/p-1",
        service_request="ServiceRequest/sr-1",
        consent="Consent/c-1",
        disclosure="standard",
        scope_summary="Agreed: the needs that bear on charging, bail and sentencing.",
        consent_recorded_at=datetime(2025, 3, 14, 10, 6, tzinfo=UTC),
        recipient="court",
        letterhead=letterhead_for_service(directory_resources(), "mpft-ld-shropshire-telford"),
        author="Organization/mpft",
        person={
            "resourceType": "Patient",
            "name": [{"family": "Wąsowska-Ŵyn", "given": ["Zoë", "Siobhán"]}],
            "birthDate": "1988-06-02",
            "gender": "female",
            "address": [{"line": ["14 Wrekin View"], "city": "Telford", "postalCode": "TF1 2AB"}],
            "identifier": [
                {
                    "system": "https://ld-adapter.github.io/fhir/Id/custody-record-number",
                    "value": "22TE/4417/25",
                }
            ],
        },
        referred_on=date(2025, 3, 14),
        seen_at="Telford police custody suite",
        needs=("mental-health", "learning-disability", "communication-needs", "alcohol", "drugs"),
        support=(
            SupportArranged("gp", "Example Medical Practice", date(2025, 3, 14), "booked"),
            SupportArranged("crisis-team", "MPFT Crisis Resolution", date(2025, 3, 14)),
            SupportArranged("housing", "Example Advice Centre", date(2025, 3, 15), "seen"),
        ),
        produced_at=datetime(2025, 3, 15, 9, 0, tzinfo=UTC),
    )


def reports_section(median: Median) -> list[str]:
    """Median time to render a justice report as PDF and HTML, and to make its record."""
    report = sample_report()
    pdf = render_justice_report(report, "application/pdf")
    assert len(pdf_pages(pdf.body)) >= 1
    pdf_time = median(lambda: render_justice_report(report, "application/pdf"), 30)
    html_time = median(lambda: render_justice_report(report, HTML), 300)
    document_time = median(lambda: report_document(report), 300)
    record_time = median(lambda: justice_report_reference(report, pdf, "d-1"), 300)
    return [
        "## Justice report rendering (in process, one core)",
        "",
        f"A standard-scope report ({len(report.needs)} needs, {len(report.support)} onward "
        f"referrals, {len(adjustments_for(report.needs))} adjustments; Polish, Welsh and Irish "
        f"letters in the name): {len(pdf.body) // 1024} KiB PDF, {len(pdf_pages(pdf.body))} "
        "page(s). The PDF embeds subsets of DejaVu Sans (regular and bold), parsed once per "
        "process; each document subsets a fresh copy of the fonts' European part (fpdf2 subsets "
        "a font in place). A Windows-1252 document would use the core fonts and embed none.",
        "",
        "| measure | median |",
        "| --- | --- |",
        f"| content → Document model | {document_time * 1e3:.2f} ms |",
        f"| render PDF (fpdf2) | {pdf_time * 1e3:.1f} ms |",
        f"| render HTML | {html_time * 1e3:.2f} ms |",
        f"| DocumentReference with the PDF as base64 | {record_time * 1e3:.2f} ms |",
        "",
    ]


SECTIONS = [reports_section]
