"""Generated resources: for the listed invariants, our compiled verdict is fhirpathpy's."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import fhirpathpy
from fhirpathpy.models import models
from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapter.conformance.invariants import base_invariants

# Same precision, UTC: fhirpathpy 2.2 ignores time-zone offsets and answers false, not empty,
# for different precisions (2020-01 <= 2020); the FHIRPath rules are tested below instead.
DATES = ["2020-01-01T10:00:00Z", "2020-01-01T09:30:00Z", "2020-01-02T00:00:00Z"]
CODING = st.sampled_from(
    [
        {"system": "http://loinc.org", "code": "8867-4"},
        {"system": "http://loinc.org", "code": "8480-6"},
        {"code": "8867-4"},
    ]
)
CODE = st.builds(lambda c: {"coding": [c]}, CODING)
QUANTITY = st.fixed_dictionaries(
    {"value": st.integers(0, 3)},
    optional={"code": st.just("mg"), "system": st.just("http://unitsofmeasure.org")},
)


def _some(**fields: st.SearchStrategy) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({}, optional=fields)


PERIOD = _some(start=st.sampled_from(DATES), end=st.sampled_from(DATES))
CONTAINED = st.lists(
    st.fixed_dictionaries(
        {"resourceType": st.just("Organization"), "id": st.sampled_from(["a", "b"])},
        optional={
            "meta": _some(
                versionId=st.just("1"), security=st.lists(CODING, min_size=1, max_size=1)
            ),
            "contained": st.just([{"resourceType": "Organization", "id": "c"}]),
        },
    ),
    min_size=1,
    max_size=2,
)
QUESTION_ITEM = st.fixed_dictionaries(
    {
        "linkId": st.sampled_from(["1", "2"]),
        "type": st.sampled_from(["group", "display", "string"]),
    },
    optional={"item": st.just([{"linkId": "3", "type": "string"}])},
)
RESOURCES = st.one_of(
    st.fixed_dictionaries(
        {"resourceType": st.just("Patient")},
        optional={
            "contact": st.lists(
                _some(
                    name=st.just({"family": "Lee"}),
                    telecom=st.just([{"value": "1"}]),
                    organization=st.just({"display": "x"}),
                    gender=st.just("male"),
                    period=PERIOD,
                ),
                min_size=1,
                max_size=2,
            ),
            "telecom": st.lists(
                _some(system=st.just("phone"), value=st.just("1")), min_size=1, max_size=2
            ),
            "contained": CONTAINED,
        },
    ),
    st.fixed_dictionaries(
        {"resourceType": st.just("Observation"), "status": st.just("final"), "code": CODE},
        optional={
            "valueQuantity": QUANTITY,
            "valueRange": _some(low=QUANTITY, high=QUANTITY),
            "dataAbsentReason": st.just({"text": "x"}),
            "component": st.lists(st.fixed_dictionaries({"code": CODE}), min_size=1, max_size=2),
        },
    ),
    st.fixed_dictionaries(
        {"resourceType": st.just("ServiceRequest")},
        optional={"orderDetail": st.just([{"text": "x"}]), "code": CODE},
    ),
    st.fixed_dictionaries(
        {"resourceType": st.just("Questionnaire")},
        optional={"item": st.lists(QUESTION_ITEM, min_size=1, max_size=3)},
    ),
    st.fixed_dictionaries(
        {"resourceType": st.just("QuestionnaireResponse")},
        optional={
            "item": st.lists(
                _some(
                    answer=st.just([{"valueString": "a"}]),
                    item=st.just([{"linkId": "2"}]),
                ).map(lambda d: {"linkId": "1", **d}),
                min_size=1,
                max_size=2,
            )
        },
    ),
)
# key -> FHIRPath from the resource to the items it constrains
PATHS = {
    "pat-1": "Patient.contact",
    "per-1": "Patient.contact.period",
    "cpt-2": "Patient.telecom",
    "obs-6": "Observation",
    "obs-7": "Observation",
    "qty-3": "Observation.value",
    "prr-1": "ServiceRequest",
    "que-1": "Questionnaire.item",
    "que-2": "Questionnaire",
    "qrs-1": "QuestionnaireResponse.item",
    "dom-2": "Patient",
    "dom-4": "Patient",
    "dom-5": "Patient",
}
MODEL = models["r4"]


def _invariants() -> dict[str, Any]:
    data = base_invariants()
    rows = [row for rows in data.paths.values() for row in rows] + data.domain_rows
    return {i.key: i for i in data.compile_rows([r for r in rows if r[0] in PATHS], eager=True)}


INVARIANTS = _invariants()
FHIRPATHPY = {
    key: fhirpathpy.compile(
        f"{path}.select(({INVARIANTS[key].expression.replace('hasValue()', 'exists()')}).not())",
        MODEL,
    )
    for key, path in PATHS.items()
}
ITEMS = {key: fhirpathpy.compile(path, MODEL) for key, path in PATHS.items()}


def _absent(names: frozenset[str], item: Any) -> bool:
    """None of the elements is in the object, choice variants (valueQuantity for value) included."""
    return isinstance(item, dict) and not any(
        key == name or (key.startswith(name) and key[len(name) : len(name) + 1].isupper())
        for key in item
        for name in names
    )


@settings(max_examples=300, deadline=None)
@given(RESOURCES)
@example(
    {
        "resourceType": "Patient",
        "contact": [{"period": {"start": "2020-01-02T00:00:00Z", "end": "2020-01-01T10:00:00Z"}}],
    }
)
def test_compiled_verdicts_match_fhirpathpy(resource: dict) -> None:
    env = {"resource": resource, "rootResource": resource}
    for key, inv in INVARIANTS.items():
        if resource["resourceType"] != PATHS[key].split(".")[0]:
            continue
        items = [getattr(node, "data", node) for node in ITEMS[key](resource, env)]
        ours = any(inv.check(item, env) is False for item in items)
        skipped = [i for i in items if any(_absent(names, i) for names in inv.passes_without)]
        assert not any(inv.check(item, env) is False for item in skipped), key
        with contextlib.redirect_stdout(io.StringIO()):  # trace() prints
            theirs = any(r is True for r in FHIRPATHPY[key](resource, env))
        assert ours == theirs, key


def test_per_1_compares_instants_across_time_zones() -> None:
    """10:00+01:00 is 09:00Z, before 09:30Z: fhirpathpy 2.2 says otherwise, FHIRPath says this."""
    check = INVARIANTS["per-1"].check
    earlier_first = {"start": "2020-01-01T10:00:00+01:00", "end": "2020-01-01T09:30:00Z"}
    later_first = {"start": "2020-01-01T10:00:00-01:00", "end": "2020-01-01T10:30:00Z"}
    assert check(earlier_first, {}) is True
    assert check(later_first, {}) is False


def test_per_1_says_nothing_when_the_precisions_differ() -> None:
    """2020-01 vs 2020: equal as far as both go, so unknown (empty), not broken (FHIRPath §6.2)."""
    check = INVARIANTS["per-1"].check
    assert check({"start": "2020-01", "end": "2020"}, {}) is None
    assert check({"start": "2021-01", "end": "2020"}, {}) is False
