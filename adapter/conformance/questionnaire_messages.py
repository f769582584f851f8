"""The QuestionnaireResponse validator's message ids, and Issues built from them."""

from __future__ import annotations

from adapter.errors import Issue

# message_id -> (issue code, severity). Ids are a public contract: never rename one.
MESSAGES: dict[str, tuple[str, str]] = {
    "LD-QR-MALFORMED": ("structure", "error"),
    "LD-QR-NO-QUESTIONNAIRE": ("required", "error"),
    "LD-QR-UNKNOWN-QUESTIONNAIRE": ("not-found", "error"),
    "LD-QR-UNKNOWN-VERSION": ("not-found", "error"),
    "LD-QR-NO-LINKID": ("required", "error"),
    "LD-QR-UNKNOWN-LINKID": ("structure", "error"),
    "LD-QR-WRONG-PLACE": ("structure", "error"),
    "LD-QR-DUPLICATE-ITEM": ("structure", "error"),
    "LD-QR-ANSWER-NO-VALUE": ("required", "error"),
    "LD-QR-ANSWER-TYPE": ("value", "error"),
    "LD-QR-ANSWER-FORMAT": ("value", "error"),
    "LD-QR-ANSWER-NOT-IN-OPTIONS": ("code-invalid", "error"),
    "LD-QR-MULTIPLE-ANSWERS": ("structure", "error"),
    "LD-QR-GROUP-ANSWERED": ("structure", "error"),
    "LD-QR-DISPLAY-ANSWERED": ("structure", "error"),
    "LD-QR-REQUIRED-MISSING": ("required", "error"),
    "LD-QR-DISABLED-ANSWERED": ("business-rule", "error"),
    "LD-QR-CALCULATED-MISMATCH": ("business-rule", "warning"),
    "LD-QR-CALCULATION-FAILED": ("processing", "warning"),
}


def issue(message_id: str, path: str, diagnostics: str) -> Issue:
    """An Issue with the code and severity its message id carries."""
    code, severity = MESSAGES[message_id]
    return Issue(diagnostics, code, severity, (path,), message_id)
