"""`ld-adapter serve` and `ld-adapter worker` poll our MESH mailbox (a real mesh-sandbox)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
import requests

from tests.support.inbound import OUR_ODS, referral_message
from tests.support.mesh_partners import (
    MPFT_MAILBOX,
    OUR_MAILBOX,
    drain,
    partners_over_mesh,
    workflow,
)
from tests.support.mesh_sandbox import PASSWORD, MeshSandbox
from tests.support.served import served_adapter


def mesh_env(home: Path, sandbox: MeshSandbox) -> dict[str, str]:
    """LD_ADAPTER_* settings for BSMHFT with MPFT on MESH; the password and key from files."""
    (home / "mesh-password").write_text(PASSWORD + "\n")
    (home / "mesh-key").write_text(sandbox.shared_key)
    return {
        "LD_ADAPTER_ODS_CODE": OUR_ODS,
        "LD_ADAPTER_PARTNERS": str(partners_over_mesh(home)),
        "LD_ADAPTER_MESH_URL": sandbox.url,
        "LD_ADAPTER_MESH_MAILBOX": OUR_MAILBOX,
        "LD_ADAPTER_MESH_PASSWORD_FILE": str(home / "mesh-password"),
        "LD_ADAPTER_MESH_SHARED_KEY_FILE": str(home / "mesh-key"),
        "LD_ADAPTER_MESH_POLL_INTERVAL": "0.2",
        "LD_ADAPTER_WORKERS": "2",  # two pollers on one mailbox: still one referral
    }


def drop_referral(sandbox: MeshSandbox, local_id: str) -> None:
    with sandbox.client(MPFT_MAILBOX) as mpft:
        mpft.send_message(
            OUR_MAILBOX,
            orjson.dumps(referral_message()),
            workflow_id=workflow(),
            local_id=local_id,
            content_type="application/fhir+json",
        )


def wait_for_empty_inbox(sandbox: MeshSandbox, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while sandbox.inbox(OUR_MAILBOX):
        assert time.monotonic() < deadline, "our MESH inbox was not taken"
        time.sleep(0.1)


def test_serve_takes_a_referral_from_our_mailbox_exactly_once(
    tmp_path: Path, mesh_sandbox: MeshSandbox
) -> None:
    drain(mesh_sandbox, OUR_MAILBOX)
    with served_adapter(tmp_path, mesh_env(tmp_path, mesh_sandbox)) as served:
        local_id = str(uuid.uuid4())
        drop_referral(mesh_sandbox, local_id)
        drop_referral(mesh_sandbox, local_id)  # the same message arriving twice
        wait_for_empty_inbox(mesh_sandbox)
        headers = {"Authorization": f"Bearer {served.token()}"}
        listed = requests.get(f"{served.base}/api/referrals", headers=headers, timeout=10)
        assert listed.json()["total"] == 1
        log = served.log.read_text()
    assert "accepted" in log and "duplicate" in log
    assert PASSWORD not in log.replace("password", "")  # no secret logged (the word aside)
    assert mesh_sandbox.shared_key not in log


def test_worker_once_takes_our_mailbox(tmp_path: Path, mesh_sandbox: MeshSandbox) -> None:
    drain(mesh_sandbox, OUR_MAILBOX)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LD_ADAPTER_")},
        "LD_ADAPTER_HOME": str(tmp_path),
        **mesh_env(tmp_path, mesh_sandbox),
    }
    drop_referral(mesh_sandbox, str(uuid.uuid4()))
    ran = subprocess.run(
        [sys.executable, "-m", "adapter.cli", "worker", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    assert "workflow LD_FHIR_MESSAGE: accepted" in ran.stderr
    assert mesh_sandbox.inbox(OUR_MAILBOX) == []
