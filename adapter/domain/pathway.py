"""Where a referral is on the L&D pathway, and how recording a screen moves it on.

received → screening → assessed → referred-on → closed. A referral only moves forward: amending an
old screen never pulls a referral that has been referred on back to "assessed".
"""

from __future__ import annotations

PATHWAY = ("received", "screening", "assessed", "referred-on", "closed")
# What an assessment's status says about the pathway; kinds that do not move it are left out.
_MOVES_PATHWAY = frozenset({"screening", "assessment"})
_STATUS_TO_STAGE = {"in-progress": "screening", "completed": "assessed", "amended": "assessed"}


def stage_after_assessment(current: str, kind: str, assessment_status: str) -> str:
    """The referral's pathway status once an assessment of this kind and status is recorded."""
    if kind not in _MOVES_PATHWAY:
        return current
    target = _STATUS_TO_STAGE.get(assessment_status)
    return current if target is None else moved_forward(current, target)


def moved_forward(current: str, target: str) -> str:
    """`target` if it is further along the pathway than `current`, else `current` (never back)."""
    if current not in PATHWAY or target not in PATHWAY:
        return current
    return target if PATHWAY.index(target) > PATHWAY.index(current) else current


def amended_status(previous: str, requested: str) -> str:
    """A completed screen sent again as completed is an amendment of it."""
    if requested == "completed" and previous in ("completed", "amended"):
        return "amended"
    return requested
