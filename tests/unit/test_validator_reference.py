"""The validator over real NHS examples: no false errors, and every known flaw found."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import orjson
import pytest

from adapter.conformance import validate_resource
from adapter.conformance.model_check import model_issues

REFERENCE = Path("/work/shared/reference")
ROOT = Path(__file__).resolve().parents[2]
EXPECTED = json.loads(
    (ROOT / "fixtures" / "validation" / "reference-examples.expected.json").read_text()
)["files"]
EXAMPLES = sorted(
    p.relative_to(REFERENCE).as_posix()
    for p in [*REFERENCE.glob("ukcore/*.json"), *REFERENCE.glob("bars/*.json")]
)
FIXTURES = sorted(
    p for p in (ROOT / "fixtures" / "validation").glob("*/*.json") if ".expected" not in p.name
)


def _is_resource(path: Path) -> bool:
    """Whether the model can be asked at all: JSON, an object, a resourceType."""
    try:
        payload = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        return False
    return isinstance(payload, dict) and isinstance(payload.get("resourceType"), str)


MODEL_CHECKABLE = [p for p in [*(REFERENCE / n for n in EXAMPLES), *FIXTURES] if _is_resource(p)]

pytestmark = pytest.mark.skipif(not REFERENCE.is_dir(), reason="NHS reference examples not here")


@pytest.mark.parametrize("name", EXAMPLES)
def test_nhs_example_reports_exactly_its_known_flaws(name: str) -> None:
    found = Counter(
        (i.severity, i.code, i.expression[0], i.message_id)
        for i in validate_resource((REFERENCE / name).read_bytes())
    )
    expected = Counter(
        (i["severity"], i["code"], i["expression"], i["message_id"]) for i in EXPECTED.get(name, [])
    )
    assert found == expected


def test_every_expected_flaw_names_an_example_that_exists() -> None:
    assert set(EXPECTED) <= set(EXAMPLES)


def test_basedon_as_object_is_found_in_a_bars_style_message() -> None:
    bundle = orjson.loads((REFERENCE / "bars" / "ValidationRequest-POST.json").read_bytes())
    request = bundle["entry"][1]["resource"]
    request["basedOn"] = request["basedOn"][0]
    issues = validate_resource(bundle)
    assert [(i.code, i.expression) for i in issues if i.severity == "error"] == [
        ("structure", ("Bundle.entry[1].resource.basedOn",))
    ]


@pytest.mark.parametrize("path", MODEL_CHECKABLE, ids=lambda p: p.name)
def test_walker_finds_every_problem_the_r4b_model_finds(path: Path) -> None:
    payload = orjson.loads(path.read_bytes())
    issues = [i for i in validate_resource(payload) if i.severity == "error"]
    ours = {e.replace("._", ".") for i in issues for e in i.expression}
    # A resource whose type R4 lacks is rejected whole; what R4B thinks of its insides is moot.
    rejected = [
        i.expression[0].removesuffix("resourceType")
        for i in issues
        if i.message_id == "LD-STRUCT-UNKNOWN-RESOURCE-TYPE"
    ]
    for problem in model_issues(payload):
        where = problem.expression[0]
        if any(where.startswith(prefix.removesuffix(".")) for prefix in rejected):
            continue
        assert any(e == where or e.startswith(where) or where.startswith(e) for e in ours), where
