"""The validator page: paste or upload a FHIR resource or Bundle, choose a profile, see its issues.

Each issue is listed with its severity, code, expression and message; the pretty-printed payload
beside it marks the lines the issues point at. Expressions that name no line are listed unplaced.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template, request

from adapter.api.context import current_settings
from adapter.conformance import validate as validate_payload
from adapter.conformance.limits import check_validation_work, most_severe
from adapter.conformance.profiles import profiles
from adapter.console import console_blueprint
from adapter.console.json_lines import Path, first_lines, place, pretty_lines
from adapter.errors import AdapterError, Issue
from adapter.json_input import JsonInputError, load_json


@dataclass(frozen=True)
class PlacedIssue:
    """An issue and the payload line it points at (None: it could not be placed)."""

    issue: Issue
    line: int | None


@console_blueprint.route("/validate", methods=["GET", "POST"])
def validate() -> str:
    """Show the form; on POST, the payload's issues next to the marked payload."""
    chosen = request.form.get("profile", "")
    known = _profile_urls()
    result: dict = {}
    if request.method == "POST":
        result = _check(_payload_text(), chosen if chosen in known else None)
        if chosen and chosen not in known:
            result["problem"] = "Choose a profile from the list."
    return render_template(
        "console/validate.html",
        profiles=known,
        chosen=chosen,
        pasted=request.form.get("payload", ""),
        limit=current_settings().max_body_bytes,
        **result,
    )


def _payload_text() -> str:
    upload = request.files.get("upload")
    if upload is not None and upload.filename:
        return upload.read().decode("utf-8", errors="replace")
    return request.form.get("payload", "")


def _check(text: str, profile: str | None) -> dict:
    settings = current_settings()
    if not text.strip():
        return {"problem": "Paste a FHIR resource or Bundle, or choose a file."}
    try:
        document = load_json(text, settings.max_json_depth)
        check_validation_work(document, settings)
    except JsonInputError as exc:
        return {"problem": f"The payload {exc}."}
    except AdapterError as exc:
        return {"problem": "; ".join(issue.diagnostics for issue in exc.issues)}
    issues = most_severe(validate_payload(document, profile=profile), settings.max_validate_issues)
    lines = pretty_lines(document)
    first = first_lines(lines)  # once: a payload's lines times its issues took seconds
    placed = [PlacedIssue(i, _line_of(i, first)) for i in issues]
    marked = {p.line for p in placed if p.line is not None}
    return {"issues": placed, "lines": lines, "marked": marked, "checked": True}


def _line_of(issue: Issue, first: dict[Path, int]) -> int | None:
    for expression in issue.expression:
        line = place(expression, first)
        if line is not None:
            return line
    return None


def _profile_urls() -> list[str]:
    return sorted(profiles().resource_profile_urls())
