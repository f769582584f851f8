"""Small pieces the use cases share: ids, site checks, and lists of child resources."""

from __future__ import annotations

import uuid

from adapter.conformance import has_errors, validate
from adapter.directory import SiteService, site_service
from adapter.errors import InvalidInput, Issue, Unprocessable
from adapter.store import UnitOfWork


def new_id() -> str:
    """A fresh resource or record id."""
    return str(uuid.uuid4())


def bare_id(reference: str | None) -> str | None:
    """`abc` from `Patient/abc`."""
    return reference.split("/", 1)[1] if reference else None


def reuse_ids(old_ids: list[str], count: int) -> list[str]:
    """Ids for `count` child resources: the old ones in order, then fresh ones."""
    return [old_ids[i] if i < len(old_ids) else new_id() for i in range(count)]


def refuse_change(field: str, stored: object, sent: object, why: str) -> None:
    """InvalidInput naming `field` when an update tries to change what must stay the same."""
    if stored != sent:
        raise InvalidInput(
            Issue(f"{field} cannot change; {why}.", code="business-rule", expression=(field,))
        )


def service_for_site(uow: UnitOfWork, site: str, directory: list[dict], field: str) -> SiteService:
    """The L&D service at a stored site; InvalidInput naming `field` if none serves it."""
    if uow.resources.read("Location", site) is None:
        raise InvalidInput(
            Issue(
                f"{field} must be the id of a custody suite or court in the service directory "
                "(GET /fhir/Location lists them).",
                code="value",
                expression=(field,),
            )
        )
    service = site_service(directory, site)
    if service.performer is None:
        raise InvalidInput(
            Issue(
                f"{field} names a place no L&D service in the directory covers.",
                code="value",
                expression=(field,),
            )
        )
    return service


def save_children(
    uow: UnitOfWork,
    resource_type: str,
    old_ids: list[str],
    resources: list[dict],
    withdrawn_status: str,
) -> None:
    """Create or update child resources (consents, flags); mark the ones no longer sent withdrawn.

    Withdrawn ones are kept with a status saying so, never deleted: partners may have read them.
    """
    for resource in resources:
        if resource["id"] in old_ids:
            uow.resources.update(resource)
        else:
            uow.resources.create(resource)
    kept = {resource["id"] for resource in resources}
    for dropped in old_ids:
        if dropped in kept:
            continue
        stored = uow.resources.read(resource_type, dropped)
        if stored is not None and stored.get("status") != withdrawn_status:
            uow.resources.update({**stored, "status": withdrawn_status})


def ensure_conformant(resources: list[dict]) -> None:
    """Run the validator every inbound payload meets over what we are about to store.

    The native schemas already reject bad input; this catches what they cannot see, so no
    resource that fails our own profiles is ever stored or sent on.
    """
    issues = [issue for resource in resources for issue in validate(resource)]
    if has_errors(issues):
        raise Unprocessable([i for i in issues if i.severity in ("error", "fatal")])
