"""What the operations console shows: partner health, the overview's counts, messages, attempts.

Read-only use cases over the store; the console's pages render what these return.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from adapter.errors import NotFound
from adapter.exchange.endpoint_auth import AuthConfigError, endpoint_auth
from adapter.exchange.model import DEAD_LETTER, DELIVERED, QUEUED, RETRYING, OutboundMessage
from adapter.search.query import SearchQuery
from adapter.store import Store
from adapter.store.console import Attempt, MessageFilters

PAGE_SIZE = 50
MAX_PAGES = 200  # the list pages by offset; further back, narrow it with the filters
_MANY = 1000  # more Endpoints than any deployment has
OUTBOUND, INBOUND = "outbound", "inbound"


@dataclass(frozen=True)
class PartnerRow:
    """A partner Endpoint: where it is, how we reach it (never its secrets) and its health."""

    id: str
    name: str
    address: str
    transport: str
    auth_type: str
    last_success: datetime | None = None
    last_failure: datetime | None = None
    dead_letters_day: int = 0


@dataclass(frozen=True)
class OverviewRow:
    """One partner's numbers: waiting now, and what attempts ended as in the last hour and day."""

    partner: PartnerRow
    queued: int
    retrying: int
    dead_letter: int
    oldest_waiting: datetime | None
    hour: dict[str, int] = field(default_factory=dict)
    day: dict[str, int] = field(default_factory=dict)

    @property
    def failing(self) -> bool:
        """Something needs a look: dead letters, or retries in the last hour."""
        return bool(self.dead_letter or self.hour.get(RETRYING) or self.retrying)


@dataclass(frozen=True)
class Overview:
    """The console's front page."""

    rows: list[OverviewRow]
    inbound_hour: tuple[int, int]  # accepted, refused
    inbound_day: tuple[int, int]
    at: datetime


def partners(store: Store, now: datetime | None = None) -> list[PartnerRow]:
    """Every Endpoint messages go to, with its health, by name."""
    now = now or datetime.now(UTC)
    with store.unit_of_work(read_only=True) as uow:
        endpoints = uow.resources.search("Endpoint", SearchQuery("Endpoint", count=_MANY))
        ids = [str(endpoint["id"]) for endpoint in endpoints.resources]
        last = uow.console.last_attempts(ids, (DELIVERED, RETRYING, DEAD_LETTER))
        dead = uow.console.attempts_since(now - timedelta(days=1))
    rows = [
        PartnerRow(
            **_describe(endpoint),
            last_success=last.get((endpoint["id"], DELIVERED)),
            last_failure=max(
                (
                    last[key]
                    for key in ((endpoint["id"], RETRYING), (endpoint["id"], DEAD_LETTER))
                    if key in last
                ),
                default=None,
            ),
            dead_letters_day=dead.get((endpoint["id"], DEAD_LETTER), 0),
        )
        for endpoint in endpoints.resources
    ]
    return sorted(rows, key=lambda row: (row.name.lower(), row.id))


def overview(store: Store, now: datetime | None = None) -> Overview:
    """Per partner: waiting, retrying, dead letters, attempts' results by hour and day; inbound."""
    now = now or datetime.now(UTC)
    known = {row.id: row for row in partners(store, now)}
    with store.unit_of_work(read_only=True) as uow:
        waiting = uow.console.waiting_by_endpoint()
        hour = uow.console.attempts_since(now - timedelta(hours=1))
        day = uow.console.attempts_since(now - timedelta(days=1))
        inbound_hour = uow.console.inbound_counts(now - timedelta(hours=1))
        inbound_day = uow.console.inbound_counts(now - timedelta(days=1))
    ids = sorted(set(known) | set(waiting) | {endpoint for endpoint, _ in day})
    rows = [_overview_row(known, waiting, hour, day, endpoint_id) for endpoint_id in ids]
    rows.sort(key=lambda row: (not row.failing, row.partner.name.lower()))
    return Overview(rows, inbound_hour, inbound_day, now)


def _overview_row(
    known: dict[str, PartnerRow],
    waiting: dict[str, dict[str, Any]],
    hour: dict[tuple[str, str], int],
    day: dict[tuple[str, str], int],
    endpoint_id: str,
) -> OverviewRow:
    counts = waiting.get(endpoint_id, {})
    partner = known.get(endpoint_id) or PartnerRow(endpoint_id, endpoint_id, "", "", "")
    return OverviewRow(
        partner,
        queued=counts.get(QUEUED, 0),
        retrying=counts.get(RETRYING, 0),
        dead_letter=counts.get(DEAD_LETTER, 0),
        oldest_waiting=counts.get("oldest_waiting"),
        hour={result: n for (e, result), n in hour.items() if e == endpoint_id},
        day={result: n for (e, result), n in day.items() if e == endpoint_id},
    )


def message_list(
    store: Store, direction: str, filters: MessageFilters, page: int
) -> tuple[list[Any], bool]:
    """One page of messages (no bodies), newest first, and whether there is a next page."""
    page = min(max(page, 1), MAX_PAGES)
    offset = (page - 1) * PAGE_SIZE
    with store.unit_of_work(read_only=True) as uow:
        if direction == INBOUND:
            rows = uow.console.inbound_page(filters, PAGE_SIZE, offset)
        else:
            rows = uow.console.outbound_page(filters, PAGE_SIZE, offset)
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE and page < MAX_PAGES


def message_with_attempts(store: Store, message_id: str) -> tuple[OutboundMessage, list[Attempt]]:
    """An outbound message and each attempt to deliver it; NotFound if there is none."""
    with store.unit_of_work(read_only=True) as uow:
        message = uow.outbox.get(message_id)
        if message is None:
            raise NotFound("There is no message with this id.")
        return message, uow.console.attempts(message_id)


def _describe(endpoint: dict) -> dict[str, str]:
    connection = endpoint.get("connectionType") or {}
    try:
        auth_type = endpoint_auth(endpoint).type
    except AuthConfigError:
        auth_type = "misconfigured"
    return {
        "id": str(endpoint["id"]),
        "name": str(endpoint.get("name") or endpoint["id"]),
        "address": str(endpoint.get("address") or ""),
        "transport": str(connection.get("code") or ""),
        "auth_type": auth_type,
    }


@dataclass(frozen=True)
class AuditRow:
    """One AuditEvent as the audit log page lists it."""

    recorded: str
    interaction: str
    outcome: str
    who: str
    entities: list[str]


def audit_log(store: Store, page: int) -> tuple[list[AuditRow], bool]:
    """A page of the audit trail, newest first, and whether there is an older page."""
    page = min(max(page, 1), MAX_PAGES)
    with store.unit_of_work(read_only=True) as uow:
        events = uow.console.newest_audit_events(PAGE_SIZE, (page - 1) * PAGE_SIZE)
    rows = [_audit_row(event) for event in events[:PAGE_SIZE]]
    return rows, len(events) > PAGE_SIZE and page < MAX_PAGES


def _interaction(event: dict) -> str:
    """The interaction, and why when the event says (a reveal: "read, health compliance")."""
    code = str((event.get("subtype") or [{}])[0].get("code", ""))
    purposes = [
        coding.get("display") or coding.get("code")
        for purpose in event.get("purposeOfEvent", [])
        for coding in purpose.get("coding", [])
    ]
    return ", ".join([code, *(str(p) for p in purposes if p)])


def _audit_row(event: dict) -> AuditRow:
    client: dict = next((a for a in event.get("agent", []) if a.get("requestor")), {})
    who = client.get("who", {})
    entities = [
        what.get("reference") or what.get("identifier", {}).get("value", "")
        for what in (entity.get("what", {}) for entity in event.get("entity", []))
    ]
    return AuditRow(
        recorded=str(event.get("recorded", "")),
        interaction=_interaction(event),
        outcome=str(event.get("outcomeDesc") or event.get("outcome", "")),
        who=str(who.get("identifier", {}).get("value") or who.get("display", "")),
        entities=[str(e) for e in entities if e],
    )
