"""The audit trail: AuditEvents after IHE BALP, holding references only, never patient details.

No Flask here: the API's request hook and a worker without HTTP build and write events the same way.
A write is audited inside its own transaction (AuditScope.before_commit); a read, a search and any
failure are audited by AuditScope.finish in a transaction of their own, before the answer goes out.
Callers without HTTP wrap their use cases in `audited(...)`, or `record` an `audit_event` in a unit
of work of their own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from http import HTTPStatus

from adapter.errors import AdapterError
from adapter.mapping.codes import mappings_dir
from adapter.services.common import new_id
from adapter.store import Store, UnitOfWork
from adapter.store.observer import observing

# Resource types whose patient is in their `subject` or `patient` element (BALP patient entity).
_PATIENT_ELEMENTS = ("subject", "patient")


@cache
def codes() -> dict:
    """The codes from mappings/audit-event.json (read once)."""
    document: dict = json.loads((mappings_dir() / "audit-event.json").read_text(encoding="utf-8"))
    return document


@dataclass(frozen=True)
class Requestor:
    """Who asked: the token's client (None before authentication) and its network address."""

    client_id: str | None
    address: str | None = None
    issuer: str | None = None
    token_id: str | None = None


@dataclass(frozen=True)
class Entity:
    """One thing an interaction touched: a resource reference or a native record's identifier."""

    reference: str | None = None
    identifier: tuple[str, str] | None = None  # (system, value) of a native record
    # (type, value) pairs saying how it was used, e.g. ("format", "application/pdf"); no content
    detail: tuple[tuple[str, str], ...] = ()
    person: bool = False  # the identifier is a person's (an NHS number), not a record's

    @property
    def is_patient(self) -> bool:
        """True for a reference to a Patient, or a person named by their identifier."""
        return self.person or bool(self.reference and self.reference.startswith("Patient/"))


def _success() -> str:
    """The outcome code of a success."""
    return str(codes()["outcomes"]["success"])


def outcome_code(status: int) -> str:
    """The AuditEvent outcome (0 success, 4 minor, 8 serious failure) for an HTTP status."""
    outcomes = codes()["outcomes"]
    if status < 400:
        return _success()
    return str(outcomes["client-error"] if status < 500 else outcomes["server-error"])


def patient_of(resource: dict) -> str | None:
    """`Patient/id` of the patient a resource is about, if it names one by literal reference."""
    if resource.get("resourceType") == "Patient":
        return f"Patient/{resource.get('id')}"
    for element in _PATIENT_ELEMENTS:
        value = resource.get(element)
        reference = value.get("reference") if isinstance(value, dict) else None
        if isinstance(reference, str) and reference.startswith("Patient/"):
            return reference.split("/_history/", 1)[0]
    return None


def entities_of(resources: Iterable[dict], versioned: bool = True) -> list[Entity]:
    """An entity per resource (versioned references) and one per patient they are about."""
    found: dict[Entity, None] = {}
    for resource in resources:
        reference = f"{resource['resourceType']}/{resource['id']}"
        version = resource.get("meta", {}).get("versionId")
        if versioned and version and resource["resourceType"] != "Patient":
            reference = f"{reference}/_history/{version}"
        patient = patient_of(resource)
        found.setdefault(Entity(patient if resource["resourceType"] == "Patient" else reference))
        if patient:
            found.setdefault(Entity(patient))
    return list(found)


def audit_event(
    interaction: str,
    outcome: str,
    requestor: Requestor,
    server_url: str,
    entities: Sequence[Entity],
    status: int | None = None,
    purposes: Sequence[dict] = (),
) -> dict:
    """A BALP RESTful AuditEvent: type rest, subtype the interaction, client and server agents.

    A failure's status (e.g. 403) goes in outcomeDesc with its standard phrase, never a message.
    `purposes` (codings) say why, e.g. the lawful basis of sharing without consent.
    """
    table = codes()
    event: dict = {
        "resourceType": "AuditEvent",
        "id": new_id(),
        "type": table["type"],
        "subtype": [{"system": table["subtypeSystem"], "code": interaction}],
        "action": table["actions"][interaction],
        "recorded": datetime.now(UTC).isoformat(),
        "outcome": outcome,
        "agent": [_client_agent(requestor), _server_agent(server_url)],
        "source": {
            "observer": {"identifier": {"value": server_url}, "display": "ld-adapter"},
            "type": [table["sourceType"]],
        },
    }
    if status is not None and outcome != _success():
        event["outcomeDesc"] = f"{status} {_phrase(status)}".strip()
    if purposes:
        event["purposeOfEvent"] = [{"coding": [dict(coding)]} for coding in purposes]
    if entities:
        event["entity"] = [_entity(e) for e in dict.fromkeys(entities)]
    return event


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def record(uow: UnitOfWork, event: dict) -> dict:
    """Store an AuditEvent in the unit of work's transaction (it commits or rolls back with it).

    Its id is fresh, so it needs no savepoint against a taken id: one statement on PostgreSQL.
    """
    return uow.resources.create_many([event])[0]


@contextmanager
def audited(
    store: Store,
    interaction: str,
    requestor: Requestor,
    server_url: str,
    targets: Sequence[Entity] = (),
) -> Iterator[AuditScope]:
    """Audit the use cases run inside the block, for callers without HTTP (the exchange worker).

    Writes are audited in their own transactions as they commit; anything else, and a failure
    (outcome 4 for an AdapterError below 500, else 8), when the block ends.
    """
    scope = AuditScope(interaction, lambda: requestor, server_url, targets)
    try:
        with observing(scope):
            yield scope
    except Exception as error:
        status = error.status if isinstance(error, AdapterError) else 500
        scope.finish(store, status)
        raise
    scope.finish(store, 200)


class AuditScope:
    """The audit of one interaction: watches the units of work it runs (a store Observer)."""

    def __init__(
        self,
        interaction: str,
        requestor: Callable[[], Requestor],
        server_url: str,
        targets: Sequence[Entity] = (),
    ) -> None:
        self.interaction = interaction
        self._requestor = requestor
        self._server_url = server_url
        self._targets = list(targets)
        self._read: list[Entity] = []
        self._written: list[Entity] = []
        self._noted: list[Entity] = []
        self.purposes: list[dict] = []  # why, when the interaction must say (a lawful basis)
        self._recording = False
        self.recorded = False

    def note(self, references: Iterable[str | None]) -> None:
        """Resources the interaction showed that the store did not see it read (native records)."""
        self._noted.extend(Entity(r) for r in references if r)

    def note_entity(self, entity: Entity) -> None:
        """An entity the event must name, with its details (e.g. the consent a report relied on)."""
        self._noted.append(entity)

    def touched(self, resources: Sequence[dict], written: bool) -> None:
        """Store Observer: keep references to what was read or written."""
        if self._recording:
            return
        versioned = self.interaction != "history-instance"
        (self._written if written else self._read).extend(entities_of(resources, versioned))

    def before_commit(self, uow: UnitOfWork) -> None:
        """Store Observer: a write is about to commit; audit its success in that transaction."""
        if not self._written:
            return
        entities = [*self._targets, *self._written, *self._noted]
        event = audit_event(
            self.interaction,
            _success(),
            self._requestor(),
            self._server_url,
            entities,
            purposes=self.purposes,
        )
        self._recording = True  # the unit of work reports the AuditEvent itself as written
        try:
            record(uow, event)
        finally:
            self._recording = False
        self._written = []
        self.recorded = True

    def rolled_back(self) -> None:
        """Store Observer: the writes of a rolled-back transaction never happened."""
        self._written = []

    def finish(self, store: Store, status: int) -> None:
        """Audit what the interaction did (its status: 200, 404…), unless already audited."""
        outcome = outcome_code(status)
        succeeded = outcome == _success()
        if self.recorded and succeeded:
            return
        entities = [*self._targets]
        if succeeded:
            entities += [*self._read, *self._noted]
        with observing(None), store.unit_of_work() as uow:
            entities += _patients_of_noted(uow, self._noted) if succeeded else []
            requestor = self._requestor()
            event = audit_event(
                self.interaction,
                outcome,
                requestor,
                self._server_url,
                entities,
                status,
                self.purposes,
            )
            record(uow, event)


def _patients_of_noted(uow: UnitOfWork, noted: list[Entity]) -> list[Entity]:
    """The patients of noted resources, when none of them is a Patient already."""
    if not noted or any(e.is_patient for e in noted):
        return []
    for entity in noted:
        assert entity.reference is not None
        resource_type, _, resource_id = entity.reference.partition("/")
        found = uow.resources.read(resource_type, resource_id.split("/", 1)[0])
        patient = patient_of(found) if found else None
        if patient:
            return [Entity(patient)]
    return []


def _client_agent(requestor: Requestor) -> dict:
    agent: dict = {"type": {"coding": [codes()["agents"]["client"]]}, "requestor": True}
    if requestor.client_id:
        identifier = {"value": requestor.client_id}
        if requestor.issuer:
            identifier = {"system": requestor.issuer, **identifier}
        agent["who"] = {"identifier": identifier}
    else:
        agent["who"] = {"display": "unauthenticated client"}
    if requestor.token_id:
        agent["policy"] = [requestor.token_id]
    if requestor.address:
        agent["network"] = {"address": requestor.address, "type": codes()["networkTypes"]["ip"]}
    return agent


def _server_agent(server_url: str) -> dict:
    return {
        "type": {"coding": [codes()["agents"]["server"]]},
        "who": {"identifier": {"value": server_url}, "display": "ld-adapter"},
        "requestor": False,
        "network": {"address": server_url, "type": codes()["networkTypes"]["uri"]},
    }


def _entity(entity: Entity) -> dict:
    kind = codes()["entities"]["patient" if entity.is_patient else "data"]
    if entity.reference:
        what: dict = {"reference": entity.reference}
    else:
        assert entity.identifier is not None
        system, value = entity.identifier
        what = {"identifier": {"system": system, "value": value}}
    found = {"what": what, "type": kind["type"], "role": kind["role"]}
    if entity.detail:
        found["detail"] = [{"type": name, "valueString": value} for name, value in entity.detail]
    return found
