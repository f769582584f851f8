"""GET /api/docs: a readable, self-contained page for every operation and schema in the OpenAPI."""

from __future__ import annotations

import re


def test_the_reference_page_covers_the_whole_openapi_document(client):
    document = client.get("/api/openapi.json").get_json()
    page = client.get("/api/docs")  # public, like the document itself

    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for path, item in document["paths"].items():
        for method in item:
            if method != "parameters":
                assert f"<span class='method'>{method}</span> <code>{path}</code>" in html
    for name in document["components"]["schemas"]:
        assert f"id='schema-{name}'" in html
    assert "<code>custody-suite</code>" in html  # a field's allowed codes
    assert "Not the FHIR ServiceRequest id" in html


def test_the_page_loads_nothing_from_elsewhere(client):
    page = client.get("/api/docs")
    html = page.get_data(as_text=True)
    assert "<script" not in html
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", html)
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]


def test_the_openapi_document_says_which_id_the_assessments_path_takes(client):
    document = client.get("/api/openapi.json").get_json()
    (parameter,) = document["paths"]["/api/referrals/{referral_id}/assessments"]["parameters"]
    assert "POST /api/referrals" in parameter["description"]
