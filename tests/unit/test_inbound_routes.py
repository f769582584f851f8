"""The routes of received messages name handlers that exist once their use cases are merged."""

from __future__ import annotations

import importlib.util

import pytest

from adapter.exchange.inbound_message import MessageCodes
from adapter.services.inbound import Handled
from adapter.services.inbound_handlers import ROUTES, accepted, handler_for, registered

MODULES = {route.handler.partition(":")[0] for route in ROUTES.values()}


@pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in MODULES),
    reason="a handler module is not merged yet",
)
def test_every_route_imports() -> None:
    assert accepted() == sorted(ROUTES)


def test_a_route_takes_only_its_categories_and_no_route_none() -> None:
    def handler(*_: object) -> Handled:
        return Handled(200)

    with registered("servicerequest-request", "new", handler):
        assert handler_for(MessageCodes("servicerequest-request", "new", ())) is handler
        assert handler_for(MessageCodes("servicerequest-request", "new", ("referral",))) is handler
        assert handler_for(MessageCodes("servicerequest-request", "new", ("validation",))) is None
    assert handler_for(MessageCodes("servicerequest-request", None, ())) is None
    assert handler_for(MessageCodes("booking-request", "new", ())) is None
