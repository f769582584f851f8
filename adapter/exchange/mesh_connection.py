"""Our MESH mailbox as a mesh_client.MeshClient, built from settings (never from the store).

`requests` lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE and proxy variables from the environment win
over what a session is told, so the session ignores the environment: the CA bundle is
LD_ADAPTER_MESH_CA_FILE (else the system's), and a client certificate is used when configured.
mesh-client's own retries are off: the outbox's backoff retries sends, the next poll retries reads.
"""

from __future__ import annotations

from mesh_client import MeshClient

from adapter.settings import Settings

APPLICATION = "ld-adapter"


def mesh_client(settings: Settings, password: str | None = None) -> MeshClient:
    """A client for our mailbox (`password` overrides the configured one: tests of a wrong one)."""
    if not settings.mesh_enabled:
        raise ValueError("LD_ADAPTER_MESH_URL is not set")
    cert = None
    if settings.mesh_cert_file is not None and settings.mesh_key_file is not None:
        cert = (str(settings.mesh_cert_file), str(settings.mesh_key_file))
    verify: str | bool | None = str(settings.mesh_ca_file) if settings.mesh_ca_file else None
    client = MeshClient(
        settings.mesh_url,
        settings.mesh_mailbox,
        settings.mesh_password if password is None else password,
        shared_key=settings.mesh_shared_key.encode("utf-8"),
        cert=cert,
        verify=verify,
        max_retries=0,
        timeout=settings.mesh_timeout,
        application_name=APPLICATION,
    )
    # Deliberately: no CA bundle, proxy or .netrc from the environment (see the module docstring).
    client._session.trust_env = False
    return client
