"""Use cases: what the adapter does, independent of HTTP. Each runs in one unit of work."""

from adapter.services.assessments import (
    amend_assessment,
    assessment_history,
    get_assessment,
    record_assessment,
    referral_assessments,
)
from adapter.services.referrals import (
    get_referral,
    list_referrals,
    next_seen_from,
    receive_referral,
    update_referral,
)
from adapter.services.startup import (
    load_conformance_package,
    load_service_directory,
    prepare_store,
)

__all__ = [
    "amend_assessment",
    "assessment_history",
    "get_assessment",
    "get_referral",
    "list_referrals",
    "load_conformance_package",
    "load_service_directory",
    "next_seen_from",
    "prepare_store",
    "receive_referral",
    "record_assessment",
    "referral_assessments",
    "update_referral",
]
