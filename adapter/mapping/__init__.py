"""Domain ⇄ FHIR R4: pure functions on plain dicts, one module per resource family."""

from adapter.mapping.bundle import referral_bundle
from adapter.mapping.patient import person_from_patient
from adapter.mapping.referral import ReferralResources, referral_from_fhir, referral_to_fhir

__all__ = [
    "ReferralResources",
    "person_from_patient",
    "referral_bundle",
    "referral_from_fhir",
    "referral_to_fhir",
]
