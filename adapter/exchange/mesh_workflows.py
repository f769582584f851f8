"""Which handler takes a message from our MESH inbox: by its MESH workflow id.

A handler gets the store, the settings and the MeshInbound; it commits its own effect and returns.
It raises an AdapterError below 500 for a message it refuses as bad (the poller records, audits
and acknowledges it: retrying would not make it good), and anything else for a transient failure
(the database is down): the message then stays in the inbox and is read again at the next poll,
so a handler must drop a message it already took (our FHIR one does, by Mex-LocalID).

Our FHIR messages travel under the workflow ids in mappings/fhir-urls.json `mesh`; other helpers
add theirs to HANDLERS (e.g. GP Connect's GPFED_CONSULT_REPORT_ACK). A workflow no handler takes
is recorded, audited and acknowledged (see adapter.exchange.mesh_inbox).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from adapter.mapping import codes

if TYPE_CHECKING:
    from adapter.exchange.mesh_inbox import MeshInbound
    from adapter.settings import Settings
    from adapter.store import Store

MeshHandler = Callable[["Store", "Settings", "MeshInbound"], None]

# workflow id → handler. Filled by other modules (and tests); the FHIR workflow is found below.
HANDLERS: dict[str, MeshHandler] = {}

# Imported when first asked for, so this table does not pull every use case into every process.
_FHIR_HANDLER = "adapter.services.mesh_receive:receive_fhir_message"
# GP Connect Send Document acknowledgements (workflow id in mappings/gp-send-document.json).
_GP_ACK_HANDLER = "adapter.services.gp_acks:receive_gp_ack"
# MESH's own reports (Mex-MessageType REPORT) on messages we sent, whatever their workflow.
_REPORT_HANDLER = "adapter.services.mesh_reports:receive_mesh_report"


def fhir_workflows() -> frozenset[str]:
    """The workflow ids our FHIR messages travel under (mappings/fhir-urls.json `mesh`)."""
    return frozenset({codes.url("mesh.fhir-message-workflow")})


def handler_for(workflow_id: str | None) -> MeshHandler | None:
    """The handler of a MESH workflow id, or None if no handler takes it."""
    if not workflow_id:
        return None
    if workflow_id in HANDLERS:
        return HANDLERS[workflow_id]
    if workflow_id in fhir_workflows():
        return _imported(_FHIR_HANDLER)
    if workflow_id == gp_ack_workflow():
        return _imported(_GP_ACK_HANDLER)
    return None


def report_handler() -> MeshHandler:
    """The handler of MESH's reports (non-delivery) on messages we sent."""
    return _imported(_REPORT_HANDLER)


def gp_ack_workflow() -> str:
    """The workflow id GP practices acknowledge our Send Document messages under."""
    from adapter.exchange.gp_send_document import value

    return str(value("mesh.ack-workflow"))


def _imported(path: str) -> MeshHandler:
    module_name, _, name = path.partition(":")
    handler: MeshHandler = getattr(importlib.import_module(module_name), name)
    return handler
