"""Reading a JSON body: what refusing repeated keys costs on top of orjson, on a 1 MiB body."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import orjson

from adapter.json_input import json_depth, load_json

ROOT = Path(__file__).resolve().parents[2]
Median = Callable[[Callable[[], object], int], float]
MIB = 1 << 20


def one_mib_bundle() -> bytes:
    """A compact Bundle of the repository's FHIR fixtures, repeated up to 1 MiB."""
    resources = []
    for path in sorted((ROOT / "fixtures").rglob("*.json")):
        try:
            document = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError:
            continue  # the fixtures of broken JSON
        if isinstance(document, dict) and "resourceType" in document:
            resources.append(document)
    entries: list[dict] = []
    size = 0
    while size < MIB:
        resource = resources[len(entries) % len(resources)]
        entries.append({"resource": resource})
        size += len(orjson.dumps(resource)) + 16
    return orjson.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})


def _refuse_repeats(pairs: list[tuple[str, object]]) -> dict:
    if len({key for key, _ in pairs}) != len(pairs):
        raise ValueError("repeated key")
    return dict(pairs)


def json_section(median: Median) -> list[str]:
    """orjson alone, the reader before (orjson + depth walk), object_pairs_hook, and load_json."""
    compact = one_mib_bundle()
    pretty = orjson.dumps(orjson.loads(compact), option=orjson.OPT_INDENT_2)
    rows = []
    for name, body in (("compact", compact), ("indented", pretty)):
        base = median(lambda b=body: orjson.loads(b), 30)  # type: ignore[misc]
        timings = {
            "orjson.loads": base,
            "orjson + depth walk": median(
                lambda b=body: json_depth(orjson.loads(b)),
                30,  # type: ignore[misc]
            ),
            "json.loads + object_pairs_hook": median(
                lambda b=body: json.loads(b, object_pairs_hook=_refuse_repeats),
                30,  # type: ignore[misc]
            ),
            "load_json (validator, files)": median(lambda b=body: load_json(b), 30),  # type: ignore[misc]
            "load_json, depth ≤ 64 (request bodies)": median(
                lambda b=body: load_json(b, 64),
                30,  # type: ignore[misc]
            ),
        }
        for label, seconds in timings.items():
            rows.append(
                f"| {name} {len(body) / MIB:.2f} MiB | {label} | {seconds * 1e3:.1f} ms "
                f"| {seconds / base:.1f}× |"
            )
    return [
        "## JSON bodies: refusing repeated keys, one core",
        "",
        "A Bundle of the repository's FHIR fixtures up to 1 MiB, compact and indented.",
        "",
        "| body | reader | median | × orjson |",
        "| --- | --- | --- | --- |",
        *rows,
        "",
    ]


SECTIONS = [json_section]
