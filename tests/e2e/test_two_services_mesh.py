"""Two L&D services that reach each other only through MESH (a real mesh-sandbox), both ways.

Birmingham (mailbox X26ABC1) refers a person on to West Mercia (X26ABC2): the onward referral goes
from Birmingham's outbox through MESH and West Mercia's inbox poll makes it a referral there; West
Mercia's acceptance comes back the same way and Birmingham's onward referral shows it.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_two_services import (
    _birmingham_referral,
    _received,
    _refer_on,
    _services,
    _session,
    _wait,
)
from tests.support.mesh_partners import drain, mesh_endpoint
from tests.support.mesh_sandbox import PASSWORD, MeshSandbox
from tests.support.served import served_adapter
from tests.support.two_services import Service, settings_for

MAILBOXES = {"bsmhft": "X26ABC1", "mpft": "X26ABC2"}


def over_mesh(us: Service, them: Service, sandbox: MeshSandbox) -> dict[str, str]:
    """`us`'s settings with `them` reached at its MESH mailbox, and our own mailbox."""
    settings = settings_for(us, them)
    path = Path(settings["LD_ADAPTER_PARTNERS"])
    bundle = json.loads(path.read_text())
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Endpoint":
            entry["resource"] = mesh_endpoint(entry["resource"], MAILBOXES[them.name])
    path.write_text(json.dumps(bundle))
    return {
        **settings,
        "LD_ADAPTER_MESH_URL": sandbox.url,
        "LD_ADAPTER_MESH_MAILBOX": MAILBOXES[us.name],
        "LD_ADAPTER_MESH_PASSWORD": PASSWORD,
        "LD_ADAPTER_MESH_SHARED_KEY": sandbox.shared_key,
        "LD_ADAPTER_MESH_POLL_INTERVAL": "0.2",
    }


def test_two_services_pass_a_person_between_them_over_mesh(
    tmp_path: Path, mesh_sandbox: MeshSandbox
) -> None:
    drain(mesh_sandbox, *MAILBOXES.values())
    birmingham, west_mercia = _services(tmp_path)
    settings_b = over_mesh(birmingham, west_mercia, mesh_sandbox)
    settings_w = over_mesh(west_mercia, birmingham, mesh_sandbox)
    with (
        served_adapter(birmingham.home, settings_b, port=birmingham.port) as b,
        served_adapter(west_mercia.home, settings_w, port=west_mercia.port) as w,
    ):
        at_b, at_w = _session(b), _session(w)
        referral = _birmingham_referral(at_b, b.base, "BHM-CUST-2026-0101")
        onward = _refer_on(at_b, b.base, referral["id"], west_mercia.home_area_service)
        onward_url = f"{b.base}/api/onward-referrals/{onward['id']}"
        _wait(lambda: at_b.get(onward_url, timeout=10).json()["delivery"]["status"] == "delivered")
        received = _wait(lambda: _received(at_w, w.base))[0]  # type: ignore[index]
        assert received["referral"]["person"]["nhs_number"] == "9990012342"
        assert received["referral"]["source"] == "E5"

        accepted = at_w.post(
            f"{w.base}/api/referrals/{received['id']}/decision",
            json={"decision": "accepted", "recorded_by": "Jo Price"},
            timeout=10,
        )
        assert accepted.status_code in (200, 201), accepted.text
        _wait(lambda: at_b.get(onward_url, timeout=10).json().get("outcome"))
        record = at_b.get(onward_url, timeout=10).json()
        assert [o["status"] for o in record["outcomes"]] == ["accepted"]
        assert len(_received(at_w, w.base)) == 1  # exactly once
    assert mesh_sandbox.inbox(MAILBOXES["bsmhft"]) == mesh_sandbox.inbox(MAILBOXES["mpft"]) == []
