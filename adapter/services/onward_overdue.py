"""Onward referrals across all referrals: every one (newest first), or those overdue an answer.

An active onward referral is overdue when its partner has sent no response at all within its
pathway's wait (`overdue_after_days` in mappings/onward-referral-rules.json), so the team chases it.
A GP practice's ITK3 infrastructure ack (its system took the document) is no answer; filing is.
"""

from __future__ import annotations

from datetime import UTC, datetime

from adapter.mapping.onward_referral import overdue_after, shortest_overdue_wait
from adapter.services.onward_view import OnwardReferralView
from adapter.store import Store


def overdue_onward_referrals(store: Store, now: datetime | None = None) -> list[OnwardReferralView]:
    """Active onward referrals with no response past their pathway's wait, longest overdue first."""
    now = now or datetime.now(UTC)
    with store.unit_of_work(read_only=True) as uow:
        candidates = uow.onward_referrals.active_created_before(now - shortest_overdue_wait())
        views = []
        for record in candidates:
            due = record.created_at + overdue_after(record.pathway)
            if due <= now:
                messages = uow.outbox.for_onward_referral(record.id)
                views.append(OnwardReferralView(record, messages, overdue_since=due))
    return sorted(views, key=lambda view: (view.overdue_since, view.record.id))


def all_onward_referrals(
    store: Store, limit: int, offset: int
) -> tuple[list[OnwardReferralView], int]:
    """A page of every onward referral, newest first, and how many there are."""
    with store.unit_of_work(read_only=True) as uow:
        records, total = uow.onward_referrals.newest(limit, offset)
        views = [OnwardReferralView(r, uow.outbox.for_onward_referral(r.id)) for r in records]
    return views, total
