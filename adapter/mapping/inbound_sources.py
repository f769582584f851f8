"""Where in a partner's message each native referral field came from, to name it in errors.

A referral the native checks refuse is refused to a FHIR sender, which never sent our native
field names: each issue is named by the element of its Bundle that fed the field
(mappings/inbound-referral-rules.json native_sources).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from adapter.errors import Issue
from adapter.mapping.message_bundle import MessageBundle

_INDEX = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Sources:
    """The resources of a message that fed a native referral."""

    message: MessageBundle
    request: dict
    patient: dict
    consents: tuple[dict, ...] = ()  # the Consent each native consent came from, in order

    def resource(self, kind: str, native: str) -> dict:
        """The resource of this kind a native path's field came from (else the request)."""
        if kind == "Patient":
            return self.patient
        if kind == "Consent":
            found = re.match(r"consents\[(\d+)\]", native)
            index = int(found.group(1)) if found else 0
            if index < len(self.consents):
                return self.consents[index]
        return self.request


def fhir_expression(native: str, sources: Sources, table: dict[str, str]) -> str:
    """FHIRPath into the sender's Bundle for a native field path (e.g. person.birth_date)."""
    parts = _INDEX.sub("", native).split(".")
    target = "ServiceRequest"
    for length in range(len(parts), 0, -1):
        found = table.get(".".join(parts[:length]))
        if found:
            target = found
            break
    kind, _, element = target.partition(".")
    base = sources.message.path(sources.resource(kind, native))
    return f"{base}.{element}" if element else base


def fhir_diagnostics(text: str, terms: dict[str, str]) -> str:
    """A native check's reason in the sender's terms."""
    for native, theirs in sorted(terms.items(), key=lambda item: -len(item[0])):
        text = re.sub(rf"(?<![\w.]){re.escape(native)}(?![\w])", theirs, text)
    return text


def fhir_issue(issue: Issue, sources: Sources, rules: dict) -> Issue:
    """A native check's issue naming the sender's element, in the sender's terms."""
    table, terms = rules["native_sources"], rules["native_terms"]
    return Issue(
        f"The referral cannot be stored here: {fhir_diagnostics(issue.diagnostics, terms)}",
        code="business-rule",
        # An issue naming no field is about the referral as a whole: the request.
        expression=tuple(fhir_expression(e, sources, table) for e in issue.expression or ("",)),
    )
