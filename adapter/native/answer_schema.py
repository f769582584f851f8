"""The native decision and outcome on a received referral ⇄ `AnswerRequest`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from marshmallow import ValidationError, post_load, validates_schema

from adapter.errors import InvalidInput, Issue
from adapter.mapping import codes
from adapter.native.fields import Code, NativeSchema, Text, doc
from adapter.native.issues import issues_from_messages

OUTCOME = "ld-referral-outcome"
REJECTED_REASON = "dos-rejected-reasons-bars"


@dataclass(frozen=True)
class AnswerRequest:
    """A decision (accepted / rejected with a reason) or an outcome (seen, completed, …)."""

    kind: str  # decision | outcome
    code: str  # a code of ld-referral-outcome of that kind
    recorded_by: str
    reason: str | None = None  # dos-rejected-reasons-bars, only with rejected


def _of_kind(kind: str) -> list[str]:
    return [c for c in codes.codes(OUTCOME) if codes.prop(OUTCOME, c, "kind") == kind]


class _AnswerSchema(NativeSchema):
    recorded_by = Text(100, required=True, metadata=doc("The practitioner recording it"))

    def _check(self, code: str, kind: str, field: str) -> None:
        if code not in _of_kind(kind):
            raise ValidationError(
                f"Expected a code from {codes.system(OUTCOME)}: {', '.join(_of_kind(kind))}.",
                field,
            )


class DecisionSchema(_AnswerSchema):
    """POST /api/referrals/{id}/decision."""

    decision = Code(OUTCOME, required=True, metadata=doc("accepted or rejected"))
    reason = Code(
        REJECTED_REASON,
        allow_none=True,
        metadata=doc("With rejected only: a BaRS rejected reason (dos-rejected-reasons-bars)"),
    )

    @validates_schema
    def _rules(self, data: dict, **_: Any) -> None:
        self._check(data.get("decision", "accepted"), "decision", "decision")
        if data.get("decision") == "rejected" and not data.get("reason"):
            raise ValidationError("A rejection needs a reason.", "reason")
        if data.get("decision") == "accepted" and data.get("reason"):
            raise ValidationError("Only a rejection has a reason.", "reason")

    @post_load
    def _make(self, data: dict, **_: Any) -> AnswerRequest:
        return AnswerRequest("decision", data["decision"], data["recorded_by"], data.get("reason"))


class OutcomeSchema(_AnswerSchema):
    """POST /api/referrals/{id}/outcome."""

    outcome = Code(OUTCOME, required=True, metadata=doc("booked, seen, did-not-attend, completed"))

    @validates_schema
    def _rules(self, data: dict, **_: Any) -> None:
        self._check(data.get("outcome", "seen"), "outcome", "outcome")

    @post_load
    def _make(self, data: dict, **_: Any) -> AnswerRequest:
        return AnswerRequest("outcome", data["outcome"], data["recorded_by"])


_SCHEMAS = {"decision": DecisionSchema(), "outcome": OutcomeSchema()}


def load_answer(kind: str, payload: object) -> AnswerRequest:
    """Check a native decision or outcome payload; InvalidInput lists every problem."""
    if not isinstance(payload, dict):
        raise InvalidInput(Issue(f"Expected the {kind} as a JSON object.", code="invalid"))
    try:
        return cast(AnswerRequest, _SCHEMAS[kind].load(payload))
    except ValidationError as error:
        raise InvalidInput(issues_from_messages(error.messages)) from None
