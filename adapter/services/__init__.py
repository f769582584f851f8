"""Use cases: what the adapter does, independent of HTTP. Each runs in one unit of work."""

from adapter.services.assessments import (
    amend_assessment,
    assessment_history,
    get_assessment,
    record_assessment,
    referral_assessments,
)
from adapter.services.justice_reports import (
    prepare_justice_report,
    record_justice_report,
    render_justice_report,
)
from adapter.services.onward_overdue import all_onward_referrals, overdue_onward_referrals
from adapter.services.onward_referrals import (
    cancel_onward_referral,
    get_onward_referral,
    onward_referrals_of,
    refer_onward,
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
    "all_onward_referrals",
    "amend_assessment",
    "assessment_history",
    "cancel_onward_referral",
    "get_assessment",
    "get_onward_referral",
    "get_referral",
    "list_referrals",
    "load_conformance_package",
    "load_service_directory",
    "next_seen_from",
    "onward_referrals_of",
    "overdue_onward_referrals",
    "prepare_justice_report",
    "prepare_store",
    "receive_referral",
    "record_assessment",
    "record_justice_report",
    "refer_onward",
    "referral_assessments",
    "render_justice_report",
    "update_referral",
]
