"""Partners as clients: the OAuth client a partner calls us with, named on its Organization.

A partners bundle Organization may carry an identifier of system
https://ld-adapter.github.io/fhir/Id/oauth-client-id: the `client_id` (else `sub`) claim of the
tokens that partner presents. Such a client may call $process-message and nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapter.exchange.partners import Partner, partner_for_service
from adapter.mapping import codes
from adapter.search.query import ReferenceCriterion, SearchQuery, Token, TokenCriterion

if TYPE_CHECKING:
    from adapter.store import Store, UnitOfWork

HOME_AREA_LD = "home-area-ld"
_MANY = 1000  # far more than any organisation has partner services


def client_id_system() -> str:
    """The identifier system of a partner Organization's OAuth client id."""
    return codes.url("identifier.oauth-client-id")


def token_client(claims: dict) -> str | None:
    """The client a token was issued to: its `client_id` claim, else `sub`."""
    client = claims.get("client_id") or claims.get("sub")
    return client if isinstance(client, str) and client else None


def partner_clients(store: Store) -> frozenset[str]:
    """Every client id bound to a stored Organization (read once at start: partners load then)."""
    query = SearchQuery(
        "Organization",
        (TokenCriterion("identifier", (Token(client_id_system(), None),)),),
        count=_MANY,
    )
    with store.unit_of_work(read_only=True) as uow:
        organizations = uow.resources.search("Organization", query).resources
    return frozenset(_client_ids(organizations))


def _client_ids(organizations: list[dict]) -> list[str]:
    system = client_id_system()
    return [
        i["value"]
        for o in organizations
        for i in o.get("identifier") or ()
        if i.get("system") == system and isinstance(i.get("value"), str)
    ]


def partner_for_client(
    uow: UnitOfWork, client_id: str, source_endpoint: str | None = None
) -> Partner | None:
    """The partner whose Organization names this client; None if none.

    Of an organisation's several partner services: the one whose Endpoint address is the
    message's source.endpoint, else its L&D service (home-area-ld: L&D services refer to each
    other), else the first by id.
    """
    query = SearchQuery(
        "Organization", (TokenCriterion("identifier", (Token(client_id_system(), client_id),)),)
    )
    organizations = uow.resources.search("Organization", query).resources
    partners: list[Partner] = []
    for organization in organizations:
        services = uow.resources.search(
            "HealthcareService",
            SearchQuery(
                "HealthcareService",
                (ReferenceCriterion("organization", (("Organization", organization["id"]),)),),
                count=_MANY,
            ),
        ).resources
        for service in sorted(services, key=lambda s: str(s["id"])):
            partner = partner_for_service(uow, service["id"])
            if partner is not None:
                partners.append(partner)
    wanted = (source_endpoint or "").rstrip("/")
    matching = [p for p in partners if str(p.endpoint.get("address", "")).rstrip("/") == wanted]
    ld = [p for p in partners if p.recipient_type == HOME_AREA_LD]
    return next(iter(matching or ld or partners), None)
