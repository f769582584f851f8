"""Plain data and rules of the L&D world; nothing here does I/O."""

from adapter.domain.nhs_number import is_valid_nhs_number
from adapter.domain.onward_referral import OnwardReferral, OnwardReferralIds
from adapter.domain.referral import (
    Address,
    ConsentDecision,
    LocalIdentifier,
    Person,
    Referral,
    ReferralResourceIds,
    Referrer,
    YouthDetails,
)

__all__ = [
    "Address",
    "ConsentDecision",
    "LocalIdentifier",
    "OnwardReferral",
    "OnwardReferralIds",
    "Person",
    "Referral",
    "ReferralResourceIds",
    "Referrer",
    "YouthDetails",
    "is_valid_nhs_number",
]
