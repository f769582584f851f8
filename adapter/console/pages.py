"""The console's pages: overview, messages, a message (masked or revealed), partners, overdue."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from adapter.api.audit import note_entity, note_purpose, note_records
from adapter.api.context import app_services
from adapter.api.http import public, whole_number
from adapter.console import console_blueprint
from adapter.console.json_lines import pretty_lines
from adapter.console.masking import mask
from adapter.console.session import AUDITOR, require_role
from adapter.errors import InvalidInput, Issue
from adapter.exchange.model import (
    CANCELLED,
    DEAD_LETTER,
    DELIVERED,
    QUEUED,
    RETRYING,
    OutboundMessage,
)
from adapter.exchange.outcomes import patient_of_message
from adapter.exchange.redact import sanitised_outcome
from adapter.services import console_view
from adapter.services.audit import Entity
from adapter.services.audit import codes as audit_codes
from adapter.services.onward_overdue import overdue_onward_referrals
from adapter.store import Store
from adapter.store.console import MessageFilters
from adapter.store.observer import observing

STATUSES = (QUEUED, RETRYING, DELIVERED, DEAD_LETTER, CANCELLED)
DIRECTIONS = (console_view.OUTBOUND, console_view.INBOUND)


@console_blueprint.get("")
@public  # a redirect to the overview, which is audited; the console's sign-in check still applies
def root() -> Response:
    """/console as the README names it: the overview (signed out, the sign-in page first)."""
    return redirect(url_for("console.overview"))


@console_blueprint.get("/")
def overview() -> str:
    """Per partner: what waits, what failed, what arrived; inbound accepted and refused."""
    with observing(None):  # partner Endpoints are not what the audit of a page is about
        shown = console_view.overview(_store())
    return render_template("console/overview.html", overview=shown)


@console_blueprint.get("/messages")
def messages() -> tuple[str, int]:
    """Messages, newest first, filtered by partner, status, direction and date; paged."""
    try:
        direction, filters, page = _list_arguments()
    except InvalidInput as error:
        return _list_page([], False, 1, problem=error.issues[0].diagnostics), 400
    rows, more = console_view.message_list(_store(), direction, filters, page)
    return _list_page(rows, more, page), 200


def _list_page(rows: list, more: bool, page: int, problem: str | None = None) -> str:
    return render_template(
        "console/messages.html",
        rows=rows,
        more=more,
        page=page,
        problem=problem,
        statuses=STATUSES,
        directions=DIRECTIONS,
        partners=_partners(),
        args=request.args,
    )


def _list_arguments() -> tuple[str, MessageFilters, int]:
    """The list's query parameters, each checked; InvalidInput names the one that is wrong."""
    args = request.args
    direction = args.get("direction") or console_view.OUTBOUND
    if direction not in DIRECTIONS:
        raise InvalidInput(
            Issue("direction must be outbound or inbound.", expression=("direction",))
        )
    status = args.get("status") or None
    if status is not None and status not in STATUSES:
        raise InvalidInput(
            Issue(f"status must be one of {', '.join(STATUSES)}.", expression=("status",))
        )
    partner = args.get("partner") or None
    if partner is not None and len(partner) > 64:
        raise InvalidInput(Issue("partner is not a partner id.", expression=("partner",)))
    since, until = _day("from"), _day("to")
    issues: list[Issue] = []
    page = whole_number("page", 1, 1, console_view.MAX_PAGES, issues)
    if issues:
        raise InvalidInput(issues)
    end = until + timedelta(days=1) if until else None
    return direction, MessageFilters(partner, status, since, end), page


def _day(name: str) -> datetime | None:
    raw = request.args.get(name) or ""
    if not raw:
        return None
    try:
        return datetime.combine(date.fromisoformat(raw), time(), tzinfo=UTC)
    except ValueError:
        raise InvalidInput(
            Issue(f"{name} must be a date, YYYY-MM-DD.", expression=(name,))
        ) from None


@console_blueprint.get("/messages/<message_id>")
def message(message_id: str) -> str:
    """One message: its attempts, the partner's answer (coded parts) and its content, masked."""
    return _message_page(message_id, revealed=False)


@console_blueprint.post("/messages/<message_id>/reveal")
@require_role(AUDITOR)
def reveal_message(message_id: str) -> str:
    """The same page with the person's details shown: auditors only, and audited."""
    return _message_page(message_id, revealed=True)


def _message_page(message_id: str, revealed: bool) -> str:
    found, attempts = console_view.message_with_attempts(_store(), message_id)
    if revealed:
        _audit_reveal(found)
    body = found.body if revealed else mask(found.body)
    outcome = found.partner_outcome if revealed else sanitised_outcome(found.partner_outcome)
    return render_template(
        "console/message.html",
        message=found,
        attempts=attempts,
        outcome=outcome,
        attempt_outcome=(lambda o: o) if revealed else sanitised_outcome,
        lines=pretty_lines(body),
        revealed=revealed,
        may_reveal=g.console_user.role == AUDITOR,
        partner_names={p.id: p.name for p in _partners()},
    )


def _audit_reveal(found: OutboundMessage) -> None:
    """The audit names whose details were shown, and that this was a reveal, not a view."""
    note_purpose(audit_codes()["purposes"]["console-reveal"])
    patient = patient_of_message(found)
    if patient:
        note_records([{"patient": patient}])
        return
    # A response names the person only by identifier (subject, Task.for): note that instead.
    for system, value in person_identifiers(found.body):
        note_entity(Entity(identifier=(system, value), person=True))


def person_identifiers(bundle: object) -> list[tuple[str, str]]:
    """(system, value) of each identifier a message's resources name their person by."""
    entries = bundle.get("entry") if isinstance(bundle, dict) else None
    found: list[tuple[str, str]] = []
    for entry in entries if isinstance(entries, list) else ():
        resource = entry.get("resource") if isinstance(entry, dict) else None
        for key in ("subject", "for", "patient"):
            person = resource.get(key) if isinstance(resource, dict) else None
            identifier = person.get("identifier") if isinstance(person, dict) else None
            if isinstance(identifier, dict):
                pair = (identifier.get("system"), identifier.get("value"))
                if all(isinstance(part, str) for part in pair) and pair not in found:
                    found.append(pair)  # type: ignore[arg-type]
    return found


@console_blueprint.get("/partners")
def partners() -> str:
    """Each partner's endpoint, transport, auth type (never its secrets) and health."""
    return render_template("console/partners.html", partners=console_view.partners(_store()))


@console_blueprint.get("/overdue")
def overdue() -> str:
    """Onward referrals with no answer past their pathway's wait: to chase."""
    return render_template("console/overdue.html", views=overdue_onward_referrals(_store()))


def _partners() -> list[console_view.PartnerRow]:
    """The partners, for names and filters: unaudited (Endpoints hold nobody's details)."""
    with observing(None):
        return console_view.partners(_store())


def _store() -> Store:
    return app_services().store


@console_blueprint.get("/audit")
@require_role(AUDITOR)
def audit_log() -> str:
    """The audit trail, newest first: auditors only."""
    page = whole_number("page", 1, 1, console_view.MAX_PAGES, [])  # a bad page: the first
    rows, more = console_view.audit_log(_store(), page)
    return render_template("console/audit.html", rows=rows, more=more, page=page)
