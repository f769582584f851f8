"""A referral's pathway status only moves forward, whoever moves it (screens, answers, onward)."""

from __future__ import annotations

import pytest

from adapter.domain.pathway import moved_forward


@pytest.mark.parametrize(
    ("current", "target", "expected"),
    [
        ("received", "screening", "screening"),
        ("assessed", "referred-on", "referred-on"),
        ("referred-on", "screening", "referred-on"),  # an accept after referring on: no step back
        ("closed", "referred-on", "closed"),  # a closed referral is not reopened
        ("screening", "screening", "screening"),
        ("legacy-status", "closed", "legacy-status"),  # a status not on the pathway is left alone
    ],
)
def test_the_pathway_status_never_moves_back(current: str, target: str, expected: str) -> None:
    assert moved_forward(current, target) == expected
