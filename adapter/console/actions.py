"""The console's actions on a message: replay a dead letter, cancel one still waiting.

Each asks for confirmation first (a GET page with the button), then acts on POST; operators only.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from adapter.api.context import app_services
from adapter.console import console_blueprint
from adapter.console.session import OPERATOR, require_role
from adapter.services.console_view import message_with_attempts
from adapter.services.messages import cancel_message as cancel
from adapter.services.messages import replay_message as replay

_ACTIONS = {
    "replay": "Replay this dead-lettered message: it is queued again and sent with its request id.",
    "cancel": "Cancel this waiting message: it will not be sent.",
}


@console_blueprint.get("/messages/<message_id>/<any(replay, cancel):action>")
@require_role(OPERATOR)
def confirm(message_id: str, action: str) -> str:
    """Ask before acting."""
    found, _attempts = message_with_attempts(app_services().store, message_id)
    return render_template(
        "console/confirm.html", message=found, action=action, explanation=_ACTIONS[action]
    )


@console_blueprint.post("/messages/<message_id>/replay")
@require_role(OPERATOR)
def replay_message(message_id: str) -> Response:
    """Queue a dead letter again."""
    services = app_services()
    replay(services.store, services.settings, message_id)
    flash("The message is queued again.")
    return redirect(url_for("console.message", message_id=message_id))


@console_blueprint.post("/messages/<message_id>/cancel")
@require_role(OPERATOR)
def cancel_message(message_id: str) -> Response:
    """Cancel a waiting message (an onward referral's: the referral is cancelled)."""
    services = app_services()
    cancel(services.store, services.settings, services.directory, message_id)
    flash("The message is cancelled.")
    return redirect(url_for("console.message", message_id=message_id))
