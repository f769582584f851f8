"""Which handler takes a received message: BaRS's workflow variables → a use case.

A message is routed by its MessageHeader eventCoding and reason (BaRS code systems); the focus
ServiceRequest's message-category-servicerequest codes, when it has any, must include one the route
takes (a BaRS `validation` request is not a referral). Anything else is 400 `invariant`.
Handlers live with their use cases and are imported when first asked for, so this table does not
pull every use case into every process.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from adapter.exchange.inbound_message import MessageCodes
from adapter.services.inbound import Handler

REQUEST, RESPONSE = "servicerequest-request", "servicerequest-response"


@dataclass(frozen=True)
class Route:
    """A handler by its import path, and the focus categories it takes."""

    handler: str  # "module:function"
    categories: frozenset[str] = frozenset({"referral"})


# (event, reason) → route. A cancellation is BaRS's `update` with the ServiceRequest revoked or
# entered-in-error; our own cancellation messages (issue 8) say `delete`: both are taken.
ROUTES: dict[tuple[str, str], Route] = {
    (REQUEST, "new"): Route("adapter.services.inbound_referrals:receive_new_referral"),
    (REQUEST, "update"): Route("adapter.services.inbound_referrals:cancel_referral"),
    (REQUEST, "delete"): Route("adapter.services.inbound_referrals:cancel_referral"),
    (RESPONSE, "new"): Route("adapter.services.inbound_responses:handle_response"),
}

_registered: dict[tuple[str, str], tuple[Handler, frozenset[str]]] = {}


def handler_for(found: MessageCodes) -> Handler | None:
    """The handler of this combination of event, reason and categories; None if there is none."""
    if found.event is None or found.reason is None:
        return None
    key = (found.event, found.reason)
    if key in _registered:
        handler, categories = _registered[key]
    elif key in ROUTES:
        route = ROUTES[key]
        handler, categories = _load(route.handler), route.categories
    else:
        return None
    if found.categories and not categories.intersection(found.categories):
        return None
    return handler


def accepted() -> list[tuple[str, str]]:
    """Every (event, reason) this adapter takes."""
    return sorted(ROUTES)


@contextmanager
def registered(
    event: str, reason: str, handler: Handler, categories: frozenset[str] = frozenset({"referral"})
) -> Iterator[None]:
    """Route (event, reason) to `handler` for the duration of the block (tests; extensions)."""
    key = (event, reason)
    before = _registered.get(key)
    _registered[key] = (handler, categories)
    try:
        yield
    finally:
        if before is None:
            del _registered[key]
        else:
            _registered[key] = before


def _load(path: str) -> Handler:
    module_name, _, name = path.partition(":")
    handler: Handler = getattr(importlib.import_module(module_name), name)
    return handler
