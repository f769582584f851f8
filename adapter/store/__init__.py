"""Storage: the only package that imports SQLAlchemy.

store = Store.from_url(settings.database_url); store.migrate()
with store.unit_of_work() as uow:      # one transaction, all or nothing
    uow.resources.create(...); uow.referrals.add(...)
"""

from adapter.search.query import SearchPage, SearchQuery
from adapter.store.answers import ReferralAnswerRecord, ReferralAnswerRepository
from adapter.store.assessments import AssessmentRecord, AssessmentRepository
from adapter.store.inbound import InboundMessageRecord, InboundRepository
from adapter.store.onward_referrals import OnwardReferralRecord, OnwardReferralRepository
from adapter.store.outbox import OutboxRepository
from adapter.store.referrals import ReferralFilters, ReferralRecord, ReferralRepository
from adapter.store.resources import ResourceRepository
from adapter.store.store import Store
from adapter.store.unit_of_work import UnitOfWork

__all__ = [
    "AssessmentRecord",
    "AssessmentRepository",
    "InboundMessageRecord",
    "InboundRepository",
    "OnwardReferralRecord",
    "OnwardReferralRepository",
    "OutboxRepository",
    "ReferralAnswerRecord",
    "ReferralAnswerRepository",
    "ReferralFilters",
    "ReferralRecord",
    "ReferralRepository",
    "ResourceRepository",
    "SearchPage",
    "SearchQuery",
    "Store",
    "UnitOfWork",
]
