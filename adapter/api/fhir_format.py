"""FHIR wire format: content negotiation, resource responses with ETags, and Bundles."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

import orjson
from flask import Response, request
from werkzeug.http import http_date

from adapter.errors import Issue, NotAcceptable

MEDIA_TYPE = "application/fhir+json; charset=utf-8"
_FORMATS = ("json", "application/json", "application/fhir+json", "application/json+fhir")
_ACCEPTED = ("application/fhir+json", "application/json", "application/json+fhir")


def negotiate() -> None:
    """Raise NotAcceptable unless the client takes FHIR JSON (via `_format` or Accept)."""
    requested = request.args.get("_format")
    if requested is not None:
        if requested.split(";")[0].strip().lower() not in _FORMATS:
            raise NotAcceptable(
                Issue(
                    "Only JSON is supported: _format may be json, application/json or "
                    "application/fhir+json.",
                    code="not-supported",
                    expression=("_format",),
                )
            )
        return
    accept = request.headers.get("Accept", "").strip()
    if accept and not _accepts_json(accept):
        raise NotAcceptable(
            Issue(
                "Only application/fhir+json (or application/json) is produced.",
                code="not-supported",
                expression=("Accept",),
            )
        )


def _accepts_json(header: str) -> bool:
    """True if any media range in an Accept header covers FHIR JSON with a non-zero quality."""
    for media_range in header.split(","):
        media_type, *parameters = (part.strip().lower() for part in media_range.split(";"))
        if media_type not in (*_ACCEPTED, "*/*", "application/*"):
            continue
        quality = next((p[2:] for p in parameters if p.startswith("q=")), "1")
        try:
            if float(quality) > 0:
                return True
        except ValueError:
            continue
    return False


def fhir_response(body: dict, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A FHIR JSON response."""
    return Response(orjson.dumps(body), status=status, headers=headers, content_type=MEDIA_TYPE)


def resource_response(resource: dict) -> Response:
    """A resource with ETag and Last-Modified; 304 when If-None-Match names this version."""
    version = resource.get("meta", {}).get("versionId", "")
    headers = {"ETag": f'W/"{version}"'}
    last_updated = resource.get("meta", {}).get("lastUpdated")
    if last_updated:
        headers["Last-Modified"] = http_date(datetime.fromisoformat(last_updated))
    if _matches_if_none_match(version):
        return Response(status=304, headers=headers)
    return fhir_response(resource, headers=headers)


def _matches_if_none_match(version: str) -> bool:
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = [tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")]
    return "*" in tags or version in tags


def entry(base_url: str, resource: dict, mode: str | None = None) -> dict:
    """A Bundle entry with its fullUrl (and search mode, for searchsets)."""
    item: dict = {"fullUrl": f"{base_url}/{resource['resourceType']}/{resource['id']}"}
    item["resource"] = resource
    if mode:
        item["search"] = {"mode": mode}
    return item


def history_bundle(base_url: str, versions: list[dict]) -> dict:
    """A history Bundle of one resource's versions, newest first."""
    latest = versions[0]
    entries = []
    for resource in versions:
        item = entry(base_url, resource)
        relative = f"{resource['resourceType']}/{resource['id']}"
        first = resource["meta"]["versionId"] == "1"
        item["request"] = {"method": "POST" if first else "PUT", "url": relative}
        item["response"] = {
            "status": "201 Created" if first else "200 OK",
            "etag": f'W/"{resource["meta"]["versionId"]}"',
            "lastModified": resource["meta"]["lastUpdated"],
        }
        entries.append(item)
    return {
        "resourceType": "Bundle",
        "type": "history",
        "total": len(entries),
        "link": [
            {
                "relation": "self",
                "url": f"{base_url}/{latest['resourceType']}/{latest['id']}/_history",
            }
        ],
        "entry": entries,
    }


def page_links(
    url: str, used: tuple[tuple[str, str], ...], count: int, offset: int, total: int
) -> list[dict]:
    """self, first, previous, next and last links of an offset-paged search."""

    def link(relation: str, page_offset: int) -> dict:
        params = [*used, ("_count", str(count))]
        if page_offset:
            params.append(("_offset", str(page_offset)))
        return {"relation": relation, "url": f"{url}?{urlencode(params)}"}

    links = [link("self", offset), link("first", 0)]
    if count and offset > 0:
        links.append(link("previous", max(0, offset - count)))
    if count and offset + count < total:
        links.append(link("next", offset + count))
    if count and total:
        links.append(link("last", (total - 1) // count * count))
    return links
