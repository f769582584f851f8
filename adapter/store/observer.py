"""A hook for watching what units of work touch (the audit trail uses it); off unless set.

The observer of the current context (a request, a worker job) sees each resource read or written,
and gets each writing unit of work just before it commits, so what it adds commits with the write.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from adapter.store.unit_of_work import UnitOfWork


class Observer(Protocol):
    """What a unit of work tells its observer."""

    def touched(self, resources: Sequence[dict], written: bool) -> None:
        """Resources were read (written=False) or stored (written=True)."""

    def before_commit(self, uow: UnitOfWork) -> None:
        """A writing unit of work is about to commit; writes here join its transaction."""

    def rolled_back(self) -> None:
        """The unit of work's transaction was rolled back: its writes never happened."""


_current: ContextVar[Observer | None] = ContextVar("ld_adapter_store_observer", default=None)


def current_observer() -> Observer | None:
    """The observer of the current context, if any."""
    return _current.get()


def set_observer(observer: Observer | None) -> None:
    """Observe the units of work of the current context from now on (None: stop)."""
    _current.set(observer)


@contextmanager
def observing(observer: Observer | None) -> Iterator[None]:
    """Observe (or, with None, do not observe) the units of work opened inside the block."""
    token = _current.set(observer)
    try:
        yield
    finally:
        _current.reset(token)
