"""NHS England's mesh-sandbox on 127.0.0.1 for tests: a real MESH server, restartable.

    with MeshSandbox() as sandbox:
        sender = sandbox.client("X26ABC2")
        sender.send_message("X26ABC1", b"{}", workflow_id="LD_FHIR_MESSAGE")
        sandbox.restart()                   # the same port and mailboxes, a new process

It runs from its own virtual environment (.venv-mesh, made by `make setup`: the sandbox pins its
own FastAPI) with AUTH_MODE=full, STORE_MODE=file in a temporary directory and SHARED_KEY set,
so a client with another key or password is refused as MESH would refuse it. Mailboxes X26ABC1,
X26ABC2 and X26ABC3 (password "password") come with the package.
`MeshSandbox(tls=make_pki(dir))` serves HTTPS and requires a client certificate, as MESH does.
Starting takes 0.5–7 s: share one sandbox per module (the `mesh_sandbox` fixture in conftest.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import requests
from mesh_client import MeshClient

from tests.support.auth_partner import Pki
from tests.support.served import free_port

REPO = Path(__file__).resolve().parents[2]
SANDBOX_PYTHON = REPO / ".venv-mesh" / "bin" / "python"
SHARED_KEY = "LdAdapterTestKey"  # neither mesh-client's nor the sandbox's default: both must be set
PASSWORD = "password"
MAILBOXES = ("X26ABC1", "X26ABC2", "X26ABC3")
READY_WITHIN = 60.0


class MeshSandbox:
    """One mesh-sandbox process; `restart()` keeps its port and stored messages."""

    def __init__(
        self,
        port: int | None = None,
        tls: Pki | None = None,
        extra_mailboxes: tuple[str, ...] = (),
    ) -> None:
        """extra_mailboxes: more mailbox ids (password "password"), e.g. a GPPROVIDER_… address
        standing for the registered practice's mailbox, as the sandbox does no registered-GP
        routing (its ids are upper case: it upper-cases Mex-To)."""
        self.port = port or free_port()
        self.tls = tls  # HTTPS, requiring a client certificate signed by the test CA
        self.extra_mailboxes = tuple(m.upper() for m in extra_mailboxes)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.shared_key = SHARED_KEY
        self._dir = Path(tempfile.mkdtemp(prefix="mesh-sandbox-"))
        self._process: subprocess.Popen[bytes] | None = None
        self._log = self._dir / "sandbox.log"

    def __enter__(self) -> MeshSandbox:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def start(self) -> None:
        """Start the sandbox and wait until it answers."""
        if not SANDBOX_PYTHON.exists():
            raise RuntimeError(f"{SANDBOX_PYTHON} is missing: run `make setup`")
        for mailbox in self.extra_mailboxes:  # the file store adds a mailbox per directory
            (self._dir / "mailboxes" / mailbox / "in").mkdir(parents=True, exist_ok=True)
        env = {
            **{k: v for k, v in os.environ.items() if not k.endswith("_CA_BUNDLE")},
            "AUTH_MODE": "full",
            "STORE_MODE": "file",
            "MAILBOXES_DATA_DIR": str(self._dir / "mailboxes"),
            "SHARED_KEY": self.shared_key,
        }
        command = [str(SANDBOX_PYTHON), "-m", "uvicorn", "mesh_sandbox.api:app"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        command += ["--log-level", "warning"]
        if self.tls is not None:
            command += ["--ssl-keyfile", str(self.tls.server_key)]
            command += ["--ssl-certfile", str(self.tls.server_cert)]
            command += ["--ssl-ca-certs", str(self.tls.ca), "--ssl-cert-reqs", "2"]  # required
        with self._log.open("ab") as log:  # a file, not a pipe: a full pipe would stall it
            self._process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        self._wait_ready()

    def stop(self) -> None:
        """Stop the sandbox (clients then see connection refused)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self) -> None:
        """Stop and start again on the same port with the same stored messages."""
        self.stop()
        self.start()

    def client(
        self, mailbox: str, password: str = PASSWORD, shared_key: str | None = None
    ) -> MeshClient:
        """A mesh_client.MeshClient for one sandbox mailbox (no retries: tests see every answer)."""
        key = (shared_key or self.shared_key).encode()
        tls: dict = {}
        if self.tls is not None:
            tls = {"verify": str(self.tls.ca), "cert": self._client_cert()}
        client = MeshClient(
            self.url, mailbox, password, shared_key=key, max_retries=0, timeout=10, **tls
        )
        client._session.trust_env = False  # no CA bundle or proxy from the environment
        return client

    def inbox(self, mailbox: str) -> list[str]:
        """The message ids waiting in a mailbox's inbox."""
        with self.client(mailbox) as client:
            return list(client.list_messages())

    def log(self) -> str:
        """What the sandbox printed (for assertion messages)."""
        return self._log.read_text(errors="replace") if self._log.exists() else ""

    def _client_cert(self) -> tuple[str, str]:
        assert self.tls is not None
        return (str(self.tls.client_cert), str(self.tls.client_key))

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_WITHIN
        session = requests.Session()
        session.trust_env = False
        if self.tls is not None:
            session.verify, session.cert = str(self.tls.ca), self._client_cert()
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"mesh-sandbox exited:\n{self.log()[-2000:]}")
            try:
                if session.get(f"{self.url}/health", timeout=1).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"mesh-sandbox not ready within {READY_WITHIN:g} s:\n{self.log()[-2000:]}"
        )
