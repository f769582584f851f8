"""The FHIR.js harness never lets CI skip its checks silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import fhirjs


def test_missing_install_fails_the_test_with_the_command_to_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(fhirjs, "HARNESS_DIR", tmp_path)
    assert fhirjs.fhirjs_available() is False
    with pytest.raises(pytest.fail.Exception, match=r"npm ci --prefix tests/fhirjs"):
        fhirjs.open_fhirjs()
