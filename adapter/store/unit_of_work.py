"""One transaction's view of the store: resources, referrals and assessments."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from adapter.search.definitions import SearchRegistry
from adapter.store.assessments import AssessmentRepository
from adapter.store.observer import Observer
from adapter.store.referrals import ReferralRepository
from adapter.store.resources import ResourceRepository


class UnitOfWork:
    """The repositories of one transaction (Store.unit_of_work commits or rolls it back)."""

    def __init__(
        self, connection: Connection, registry: SearchRegistry, observer: Observer | None = None
    ) -> None:
        self.resources = ResourceRepository(connection, registry, observer)
        self.referrals = ReferralRepository(connection)
        self.assessments = AssessmentRepository(connection)
