"""The reports part of the native API's OpenAPI document."""

from __future__ import annotations

from apispec import APISpec

from adapter.api.native_scopes import scope_list
from adapter.mapping import codes

_DESCRIPTION = (
    "A short report for police, CPS, a court, probation or a youth offending team: the needs "
    "L&D identified, the support arranged and suggested adjustments, within the person's "
    "share-criminal-justice consent (agreed: all needs that bear on charging, bail and "
    "sentencing; limited: name, date of birth, justice identifiers and the needs that call for "
    "adjustments). Never the NHS number. Each report produced is kept as a DocumentReference "
    "(its id in Content-Location; found by GET /fhir/DocumentReference?patient=...) and audited "
    "with the consent relied on, the format and the recipient. Choose the format with ?format= "
    "or Accept: application/pdf (the default), text/html, application/fhir+json. Needs the "
    "scopes {scopes}."
)


def report_paths(spec: APISpec, security: list[dict[str, list[str]]]) -> None:
    """Add the report operations to `spec`."""
    agencies = list(codes.codes("ld-justice-agency"))
    spec.path(
        path="/api/referrals/{referral_id}/justice-report",
        parameters=[
            {"in": "path", "name": "referral_id", "required": True, "schema": {"type": "string"}}
        ],
        operations={
            "get": {
                "summary": "Produce a justice report (PDF, HTML or DocumentReference)",
                "description": _DESCRIPTION.format(scopes=scope_list("justice_report")),
                "security": security,
                "parameters": [
                    {
                        "in": "query",
                        "name": "format",
                        "schema": {"type": "string", "enum": ["pdf", "html", "fhir"]},
                        "description": "Overrides Accept",
                    },
                    {
                        "in": "query",
                        "name": "recipient",
                        "schema": {"type": "string", "enum": agencies},
                        "description": "The agency it is for (ld-justice-agency), printed on it",
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The report; Content-Location names its DocumentReference",
                        "content": {
                            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                            "text/html": {"schema": {"type": "string"}},
                            "application/fhir+json": {
                                "schema": {
                                    "type": "object",
                                    "description": "DocumentReference (profile "
                                    "ld-justice-report), the PDF as a base64 attachment",
                                }
                            },
                        },
                    },
                    "400": {"description": "Unknown parameter or recipient (OperationOutcome)"},
                    "401": {"description": "No or bad bearer token (OperationOutcome)"},
                    "403": {"description": "The token lacks the scope (OperationOutcome)"},
                    "404": {"description": "No such referral"},
                    "406": {"description": "Neither format nor Accept names a format produced"},
                    "422": {
                        "description": "The share-criminal-justice consent is missing, declined "
                        "or was recorded when the person lacked capacity (the issue names it)"
                    },
                },
            }
        },
    )
