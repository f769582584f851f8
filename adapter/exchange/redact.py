"""What of a partner's OperationOutcome may be shown without the message body: codes only.

A partner's diagnostics (and details.text) are free text that may name the person, so views that
do not need the read scopes of the message's contents show the coded parts alone.
"""

from __future__ import annotations

_CODING = ("system", "version", "code", "display")  # the elements of a coding kept, all coded


def sanitised_outcome(outcome: object) -> dict | None:
    """A partner's OperationOutcome with only each issue's severity, code, details.coding and
    expression: coded, so free of the free text (diagnostics, details.text) that may name the
    person. None if there is none."""
    if not isinstance(outcome, dict):
        return None
    issues = outcome.get("issue")
    kept = (
        [_sanitised_issue(i) for i in issues if isinstance(i, dict)]
        if isinstance(issues, list)
        else []
    )
    return {"resourceType": "OperationOutcome", "issue": kept}


def _sanitised_issue(issue: dict) -> dict:
    kept = {name: issue[name] for name in ("severity", "code") if isinstance(issue.get(name), str)}
    details = issue.get("details")
    codings = details.get("coding") if isinstance(details, dict) else None
    if isinstance(codings, list):
        coded = [
            {k: c[k] for k in _CODING if isinstance(c.get(k), str)}
            for c in codings
            if isinstance(c, dict)
        ]
        kept["details"] = {"coding": coded}
    expression = issue.get("expression")
    if isinstance(expression, list):
        kept["expression"] = [e for e in expression if isinstance(e, str)]
    return kept
