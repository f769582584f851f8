"""GET /api/docs: the OpenAPI document as a readable HTML page, rendered here with no scripts.

The machines this runs on may have no internet, so the page needs nothing from elsewhere: plain
HTML with inline styles, every value escaped, and a Content-Security-Policy that forbids scripts.
"""

from __future__ import annotations

from html import escape

from flask import Blueprint, Response

from adapter.api.http import public
from adapter.api.openapi import openapi_document

docs_blueprint = Blueprint("api_docs", __name__)

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.4}table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}"
    "td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}"
    "code{background:#f4f4f4;padding:0 .2rem}.method{font-weight:bold;text-transform:uppercase}"
    "h3{margin-top:2rem;border-top:1px solid #ddd;padding-top:1rem}"
)
_METHODS = ("get", "post", "put", "patch", "delete")


@docs_blueprint.get("/docs")
@public
def api_docs() -> Response:
    """The native API reference as HTML (public, like /api/openapi.json)."""
    response = Response(render(openapi_document()), content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


def render(document: dict) -> str:
    """The whole page for an OpenAPI 3 document."""
    info = document.get("info", {})
    title = escape(f"{info.get('title', 'API')} {info.get('version', '')}".strip())
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>",
        f"<style>{_STYLE}</style></head><body><h1>{title}</h1>",
        f"<p>{escape(info.get('description', ''))}</p>",
        "<p>Machine-readable: <a href='/api/openapi.json'>/api/openapi.json</a>. Every "
        "operation needs <code>Authorization: Bearer &lt;JWT&gt;</code> with the scope named.</p>",
        "<h2>Operations</h2><ul>",
    ]
    operations = [
        (path, method, item[method])
        for path, item in document.get("paths", {}).items()
        for method in _METHODS
        if method in item
    ]
    for path, method, operation in operations:
        parts.append(
            f"<li><a href='#{_anchor(method, path)}'><span class='method'>{method}</span> "
            f"<code>{escape(path)}</code></a> — {escape(operation.get('summary', ''))}</li>"
        )
    parts.append("</ul>")
    paths = document.get("paths", {})
    parts.extend(_operation(path, method, op, paths[path]) for path, method, op in operations)
    parts.append("<h2>Schemas</h2>")
    schemas = document.get("components", {}).get("schemas", {})
    parts.extend(_schema(name, schema) for name, schema in schemas.items())
    parts.append("</body></html>")
    return "".join(parts)


def _anchor(method: str, path: str) -> str:
    return escape(f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""))


def _operation(path: str, method: str, operation: dict, item: dict) -> str:
    parts = [
        f"<h3 id='{_anchor(method, path)}'><span class='method'>{method}</span> "
        f"<code>{escape(path)}</code></h3><p>{escape(operation.get('summary', ''))}</p>"
    ]
    parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
    if parameters:
        parts.append("<table><tr><th>Parameter</th><th>In</th><th>Required</th><th>Meaning</th>")
        for parameter in parameters:
            parts.append(
                f"<tr><td><code>{escape(parameter['name'])}</code></td>"
                f"<td>{escape(parameter['in'])}</td><td>{_yes(parameter.get('required'))}</td>"
                f"<td>{escape(parameter.get('description', ''))}</td></tr>"
            )
        parts.append("</table>")
    body = operation.get("requestBody", {}).get("content", {})
    for media_type, content in body.items():
        parts.append(f"<p>Body ({escape(media_type)}): {_type(content.get('schema', {}))}</p>")
    parts.append("<table><tr><th>Status</th><th>Meaning</th></tr>")
    for status, response in sorted(operation.get("responses", {}).items()):
        contents: list[dict] = list(response.get("content", {}).values())
        schema = contents[0].get("schema") if contents else None
        shape = f" — {_type(schema)}" if schema else ""
        parts.append(
            f"<tr><td>{escape(status)}</td>"
            f"<td>{escape(response.get('description', ''))}{shape}</td></tr>"
        )
    parts.append("</table>")
    return "".join(parts)


def _schema(name: str, schema: dict) -> str:
    required = set(schema.get("required", []))
    parts = [
        f"<h3 id='schema-{escape(name)}'>{escape(name)}</h3>",
        "<table><tr><th>Field</th><th>Type</th><th>Required</th><th>Meaning and limits</th></tr>",
    ]
    for field, spec in schema.get("properties", {}).items():
        parts.append(
            f"<tr><td><code>{escape(field)}</code></td><td>{_type(spec)}</td>"
            f"<td>{_yes(field in required)}</td><td>{_limits(spec)}</td></tr>"
        )
    parts.append("</table>")
    return "".join(parts)


def _type(spec: dict) -> str:
    """A field's type, with links to the schemas it refers to."""
    if "$ref" in spec:
        name = escape(spec["$ref"].rsplit("/", 1)[-1])
        return f"<a href='#schema-{name}'>{name}</a>"
    for combined in ("allOf", "anyOf", "oneOf"):
        if combined in spec:
            return " or ".join(_type(s) for s in spec[combined] if s.get("type") != "object")
    if spec.get("type") == "array":
        return f"list of {_type(spec.get('items', {}))}"
    kind = escape(str(spec.get("type", "any")))
    return f"{kind} ({escape(spec['format'])})" if "format" in spec else kind


def _limits(spec: dict) -> str:
    notes = [escape(spec.get("description", ""))]
    items = spec.get("items", {})
    codes = spec.get("enum") or items.get("enum")
    if codes:
        notes.append("one of " + ", ".join(f"<code>{escape(str(c))}</code>" for c in codes))
    longest = spec.get("maxLength") or items.get("maxLength")
    if longest:
        notes.append(f"at most {longest} characters")
    if "default" in spec:
        notes.append(f"default <code>{escape(str(spec['default']))}</code>")
    if spec.get("nullable"):
        notes.append("may be null")
    return "; ".join(note for note in notes if note)


def _yes(flag: object) -> str:
    return "yes" if flag else ""
