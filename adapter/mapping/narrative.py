"""Human-readable narrative (`text`) a receiving system can show as is: escaped XHTML tables.

Only elements FHIR allows in a narrative are used (div, h3, p, table, tr, th, td), with no
attributes but the XHTML namespace on the root div; every piece of text goes through html.escape.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from html import escape

from adapter.domain.assessment import AnswerValue, CodedAnswer

XHTML = "http://www.w3.org/1999/xhtml"
Rows = Sequence[tuple[str, str]]


def answer_text(value: AnswerValue) -> str:
    """How an answer reads to a person: the display of a code, Yes/No, ISO dates."""
    if isinstance(value, CodedAnswer):
        return value.display or value.code
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _table(header: tuple[str, str] | None, rows: Rows) -> str:
    parts = ["<table>"]
    if header:
        parts.append(f"<tr><th>{escape(header[0])}</th><th>{escape(header[1])}</th></tr>")
    parts.extend(
        f"<tr><td>{escape(label)}</td><td>{escape(text)}</td></tr>" for label, text in rows
    )
    parts.append("</table>")
    return "".join(parts)


def narrative(
    title: str, summary: Rows, sections: Iterable[tuple[str, Rows]] = (), status: str = "generated"
) -> dict:
    """A Narrative: a heading, a summary table, then a question/answer table per section."""
    parts = [f'<div xmlns="{XHTML}"><h3>{escape(title)}</h3>']
    if summary:
        parts.append(_table(None, summary))
    for heading, rows in sections:
        if rows:
            parts.append(f"<h3>{escape(heading)}</h3>")
            parts.append(_table(("Question", "Answer"), rows))
    parts.append("</div>")
    return {"status": status, "div": "".join(parts)}
