"""Reports under /api: a justice report for police, CPS, a court, probation or a YOT."""

from __future__ import annotations

from flask import Blueprint, Response, request

from adapter import services
from adapter.api.audit import note_disclosure
from adapter.api.context import app_services
from adapter.api.fhir_format import fhir_response
from adapter.api.http import unknown_parameters
from adapter.api.native_scopes import require_native
from adapter.errors import InvalidInput, Issue, NotAcceptable
from adapter.mapping import codes
from adapter.services.justice_reports import HTML, PDF

reports_blueprint = Blueprint("reports", __name__)

FHIR = "application/fhir+json"
# ?format= values and the media types Accept may name, each to what is produced.
FORMATS = {"pdf": PDF, "html": HTML, "fhir": FHIR}
_ACCEPTED = {"application/pdf": PDF, "text/html": HTML, FHIR: FHIR, "application/json": FHIR}
_PARAMETERS = ("format", "recipient")


@reports_blueprint.get("/referrals/<referral_id>/justice-report")
def justice_report(referral_id: str) -> Response:
    """The report within the person's criminal-justice consent: PDF, HTML or a DocumentReference."""
    require_native("justice_report")
    produce, recipient = _format(), _recipient()
    context = app_services()
    report = services.prepare_justice_report(
        context.store, context.settings, context.directory, referral_id, recipient
    )
    details = {"format": produce, "recipient": recipient or "not named"}
    note_disclosure(report.consent, {**details, "disclosure": report.disclosure})
    rendition = services.render_justice_report(report, HTML if produce == HTML else PDF)
    stored = services.record_justice_report(context.store, report, rendition)
    location = {
        "Content-Location": f"{context.settings.fhir_base_url}/DocumentReference/{stored['id']}"
    }
    if produce == FHIR:
        return fhir_response(stored, 200, location)
    headers = {
        **location,
        "Content-Disposition": f'inline; filename="{rendition.filename}"',
        "Cache-Control": "no-store",  # personal data: no copies in shared caches
    }
    return Response(rendition.body, 200, headers, content_type=rendition.content_type)


def _format() -> str:
    """What to produce: ?format= if given, else the best of Accept; 406 for anything else."""
    unknown = unknown_parameters(_PARAMETERS)
    if unknown:
        raise InvalidInput(unknown)
    asked = request.args.get("format")
    if asked is not None:
        if asked not in FORMATS:
            raise NotAcceptable(
                Issue(
                    f"format must be one of {', '.join(FORMATS)}.",
                    code="not-supported",
                    expression=("format",),
                )
            )
        return FORMATS[asked]
    if not request.headers.get("Accept", "").strip():
        return PDF  # no preference stated: the printable report
    best = request.accept_mimetypes.best_match(list(_ACCEPTED))
    if best is None:
        raise NotAcceptable(
            Issue(
                "A justice report is produced as application/pdf, text/html or "
                "application/fhir+json (a DocumentReference); Accept names none of them.",
                code="not-supported",
                expression=("Accept",),
            )
        )
    return _ACCEPTED[best]


def _recipient() -> str | None:
    """The agency the report is for, a code of ld-justice-agency; 400 naming `recipient`."""
    recipient = request.args.get("recipient")
    if recipient is None or codes.has("ld-justice-agency", recipient):
        return recipient
    raise InvalidInput(
        Issue(
            f"recipient must be one of {', '.join(codes.codes('ld-justice-agency'))}.",
            code="value",
            expression=("recipient",),
        )
    )
