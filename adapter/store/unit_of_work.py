"""One transaction's view of the store: records, resources and the outbox."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.engine import Connection

from adapter.search.definitions import SearchRegistry
from adapter.store.answers import ReferralAnswerRepository
from adapter.store.assessments import AssessmentRepository
from adapter.store.console import ConsoleRepository
from adapter.store.inbound import InboundRepository
from adapter.store.locks import lock_keys
from adapter.store.monitoring import MonitoringRepository
from adapter.store.observer import Observer
from adapter.store.onward_referrals import OnwardReferralRepository
from adapter.store.outbox import OutboxRepository
from adapter.store.referrals import ReferralRepository
from adapter.store.resources import ResourceRepository


class UnitOfWork:
    """The repositories of one transaction (Store.unit_of_work commits or rolls it back)."""

    def __init__(
        self, connection: Connection, registry: SearchRegistry, observer: Observer | None = None
    ) -> None:
        self._connection = connection
        self.resources = ResourceRepository(connection, registry, observer)
        self.referrals = ReferralRepository(connection)
        self.assessments = AssessmentRepository(connection)
        self.onward_referrals = OnwardReferralRepository(connection)
        self.outbox = OutboxRepository(connection)
        self.inbound = InboundRepository(connection)
        self.answers = ReferralAnswerRepository(connection)
        self.monitoring = MonitoringRepository(connection)
        self.console = ConsoleRepository(connection)

    def lock_keys(self, keys: Iterable[str]) -> None:
        """Serialise on these keys until this transaction ends (see store.locks.lock_keys)."""
        lock_keys(self._connection, keys)
