"""Bounds on the work one `$validate` may ask for, checked before the validator runs."""

from __future__ import annotations

from adapter.conformance.report import SEVERITY_RANK
from adapter.errors import Issue, PayloadTooLarge
from adapter.settings import PREFIX, Settings


def check_validation_work(document: object, settings: Settings) -> None:
    """Refuse with 413 a body with too many JSON values or a Bundle with too many entries."""
    limit = settings.max_json_nodes
    counted = 0
    stack: list[object] = [document]
    while stack:
        node = stack.pop()
        counted += 1
        if counted > limit:
            raise _too_costly(
                f"The body holds more than {limit:,} JSON values; $validate checks at most "
                f"{limit:,} ({PREFIX}MAX_JSON_NODES).",
                (),
            )
        if isinstance(node, dict):
            _check_bundle(node, settings.max_bundle_entries)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _check_bundle(node: dict, limit: int) -> None:
    entries = node.get("entry")
    if node.get("resourceType") == "Bundle" and isinstance(entries, list) and len(entries) > limit:
        raise _too_costly(
            f"The Bundle has {len(entries):,} entries; $validate checks Bundles of at most "
            f"{limit:,} entries ({PREFIX}MAX_BUNDLE_ENTRIES).",
            ("Bundle.entry",),
        )


def _too_costly(diagnostics: str, expression: tuple[str, ...]) -> PayloadTooLarge:
    return PayloadTooLarge(
        Issue(
            diagnostics,
            code="too-costly",
            expression=expression,
            message_id="LD-VALIDATE-TOO-COSTLY",
        )
    )


def most_severe(issues: list[Issue], limit: int) -> list[Issue]:
    """At most `limit` issues, the most severe first, and a note of how many were left out."""
    if len(issues) <= limit:
        return issues
    ranked = sorted(issues, key=lambda i: -SEVERITY_RANK.get(i.severity, -1))
    left_out = ranked[limit:]
    errors = sum(1 for i in left_out if i.severity in ("fatal", "error"))
    note = Issue(
        f"{len(left_out):,} more issues ({errors:,} of them errors) were found and not listed; "
        f"$validate lists at most {limit:,} ({PREFIX}MAX_VALIDATE_ISSUES).",
        code="too-costly",
        severity="information",
        message_id="LD-VALIDATE-ISSUES-TRUNCATED",
    )
    return [*ranked[:limit], note]
