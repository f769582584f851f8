"""The local partners bundle (fixtures/partners/local-partners.json) pointed at a test partner."""

from __future__ import annotations

from pathlib import Path

LOCAL_PARTNERS = (
    Path(__file__).resolve().parents[2] / "fixtures" / "partners" / "local-partners.json"
)
LOCAL_ADDRESS = "http://127.0.0.1:8091/fhir"


def partners_at(base: str, folder: Path) -> Path:
    """A copy of the local partners bundle in `folder` with every Endpoint at `base`."""
    bundle = folder / "partners.json"
    bundle.write_text(LOCAL_PARTNERS.read_text(encoding="utf-8").replace(LOCAL_ADDRESS, base))
    return bundle
