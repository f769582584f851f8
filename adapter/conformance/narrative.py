"""Narrative XHTML (Narrative.div) as R4 requires it: well formed, a <div>, basic HTML only.

R4's invariants txt-1 and txt-2, which neither fhir.resources nor FHIR.js check: a receiving GP
system shows this text as is, so a stray `&` or a <script> must not get through.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

XHTML = "{http://www.w3.org/1999/xhtml}"
# The elements R4 allows in a narrative (no head, body, script, form, frame, object, link, base).
ALLOWED_ELEMENTS = frozenset(
    [
        "a",
        "abbr",
        "acronym",
        "b",
        "big",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "col",
        "colgroup",
        "dd",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "li",
        "ol",
        "p",
        "pre",
        "q",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "tt",
        "ul",
        "var",
    ]
)


def xhtml_problem(text: str) -> str | None:
    """What is wrong with a narrative div, or None when R4 accepts it."""
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return "the narrative is not well-formed XHTML (an unescaped & or <, or an unclosed tag?)"
    if root.tag != f"{XHTML}div":
        return "the narrative must be a single <div> in the XHTML namespace"
    for element in root.iter():
        namespace, _, name = element.tag.rpartition("}")
        if namespace != XHTML[:-1] or name not in ALLOWED_ELEMENTS:
            return "the narrative uses an element R4 does not allow (only basic HTML formatting)"
        if any(_forbidden(attribute) for attribute in element.attrib):
            return "the narrative uses an event or script attribute, which R4 does not allow"
    if not "".join(root.itertext()).strip() and root.find(f".//{XHTML}img") is None:
        return "the narrative has no text (txt-2)"
    return None


def _forbidden(attribute: str) -> bool:
    local = attribute.rpartition("}")[2].lower()
    return local.startswith("on")
