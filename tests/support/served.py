"""A real `ld-adapter serve` on 127.0.0.1 for e2e tests and benchmarks, stopped after use."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests


@dataclass(frozen=True)
class Served:
    """A running server: its base URL, the environment its CLI shares, its log file and pid."""

    base: str
    env: dict[str, str]
    log: Path
    pid: int

    def token(self, *scopes: str) -> str:
        """A development token minted by the CLI with the server's own key."""
        return cli_token(self.env, *scopes)


def cli_token(env: dict[str, str], *scopes: str) -> str:
    """A development token from `ld-adapter token` run with a server's environment."""
    command = [sys.executable, "-m", "adapter.cli", "token"]
    for scope in scopes:
        command += ["--scope", scope]
    minted = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return minted.stdout.strip()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served_adapter(
    home: Path,
    settings: dict[str, str] | None = None,
    ready_within: float = 60.0,
    preexec_fn: Callable[[], None] | None = None,
    port: int | None = None,
) -> Iterator[Served]:
    """Serve the adapter from `home` with extra LD_ADAPTER_* settings until the block ends.

    `port`: when another process must know the address before this one starts (two adapters
    that are each other's partners); else a free one.
    """
    port = port or free_port()
    env = {
        **os.environ,
        "LD_ADAPTER_HOME": str(home),
        "LD_ADAPTER_HOST": "127.0.0.1",
        "LD_ADAPTER_PORT": str(port),
        "LD_ADAPTER_BASE_URL": f"http://127.0.0.1:{port}",
        **(settings or {}),
    }
    log_path = Path(home) / "server.log"
    with log_path.open("wb") as log:  # a file, not a pipe: a full pipe would stall the server
        server = subprocess.Popen(
            [sys.executable, "-m", "adapter.cli", "serve"],
            env=env,
            stdout=log,
            stderr=log,
            preexec_fn=preexec_fn,
        )
        served = Served(f"http://127.0.0.1:{port}", env, log_path, server.pid)
        try:
            _wait_until_ready(served, server, ready_within)
            yield served
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=5)


def _wait_until_ready(served: Served, server: subprocess.Popen, within: float) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            if requests.get(f"{served.base}/readyz", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or a worker still booting
            pass
        assert server.poll() is None, served.log.read_text()
        assert time.monotonic() < deadline, f"the server did not become ready in {within:.0f} s"
        time.sleep(0.1)
