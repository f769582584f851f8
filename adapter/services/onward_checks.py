"""Just before a referral message goes: may it still be sent?

Consent is checked when an onward referral is made, but a message can wait hours for a partner
(or be replayed days later). By then the onward referral may have been cancelled, or the person
may have withdrawn the consent it relied on: then it must never be sent. A partner taken out of
service (inactive service, Endpoint not active) holds messages instead: they wait, and are
dead-lettered (and replayable) if it does not come back within their time to live.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapter.errors import AdapterError
from adapter.exchange.consent_check import check_consent
from adapter.exchange.disclosure import rule_for
from adapter.exchange.model import ONWARD_REFERRAL, OutboundMessage
from adapter.exchange.partners import partner_for_service
from adapter.services.common import bare_id
from adapter.store import UnitOfWork


@dataclass(frozen=True)
class SendCheck:
    """What to do with a message now: send it, withdraw it for good, or hold it for later."""

    withdraw: str | None = None  # never send it; why (no patient data)
    hold: str | None = None  # not now; why

    @property
    def send(self) -> bool:
        """True when nothing stops the message."""
        return self.withdraw is None and self.hold is None


def before_sending(uow: UnitOfWork, message: OutboundMessage) -> SendCheck:
    """Whether a message may go now: only referral messages are checked (cancellations may go)."""
    if message.kind != ONWARD_REFERRAL or not message.onward_referral_id:
        return SendCheck()
    record = uow.onward_referrals.get(message.onward_referral_id)
    if record is None:
        return SendCheck()
    if record.status != "active":
        return SendCheck(withdraw=f"the onward referral was {record.status} before delivery")
    partner = partner_for_service(uow, record.partner_service)
    if partner is None or partner.endpoint.get("id") != message.endpoint_id:
        return SendCheck(hold="the partner service or its Endpoint is not active")
    referral = uow.referrals.get(record.referral_id)
    if referral is None:
        return SendCheck()
    consents = [
        consent
        for reference in referral.resource_ids.get("consents", [])
        if (consent := uow.resources.read("Consent", bare_id(reference) or "")) is not None
    ]
    try:
        check_consent(rule_for(partner.recipient_type), consents, record.native.get("lawful_basis"))
    except AdapterError as refused:
        reason = refused.issues[0].diagnostics if refused.issues else "it is not permitted"
        return SendCheck(withdraw=f"consent no longer permits sending: {reason}")
    return SendCheck()
