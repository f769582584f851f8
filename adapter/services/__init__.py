"""Use cases: what the adapter does, independent of HTTP. Each runs in one unit of work."""

from adapter.services.referrals import (
    get_referral,
    list_referrals,
    next_seen_from,
    receive_referral,
    update_referral,
)
from adapter.services.startup import load_service_directory

__all__ = [
    "get_referral",
    "list_referrals",
    "load_service_directory",
    "next_seen_from",
    "receive_referral",
    "update_referral",
]
