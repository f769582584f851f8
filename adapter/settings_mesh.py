"""The MESH settings' checks: a mailbox needs its password, shared key and readable files.

Apart from adapter/settings.py to keep it short; run by Settings.__post_init__, so a bad MESH
configuration stops start-up with a message naming the variable (never a secret's value).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from adapter.settings_secrets import read_file, secret_from

if TYPE_CHECKING:
    from adapter.settings import Settings

PREFIX = "LD_ADAPTER_MESH_"


def check_mesh(settings: Settings) -> dict[str, str]:
    """The secrets read from their *_FILE settings; SettingsError for what is missing or bad."""
    from adapter.settings import SettingsError

    if not settings.mesh_url:
        return {}
    if not settings.mesh_url.startswith(("https://", "http://")):
        raise SettingsError(f"{PREFIX}URL must be an http(s) URL")
    if not settings.mesh_mailbox or not settings.mesh_mailbox.isalnum():
        raise SettingsError(f"{PREFIX}MAILBOX must be our MESH mailbox id (letters and digits)")
    if (settings.mesh_cert_file is None) != (settings.mesh_key_file is None):
        raise SettingsError(f"{PREFIX}CERT_FILE and {PREFIX}KEY_FILE go together")
    for name in ("cert_file", "key_file", "ca_file"):
        path = getattr(settings, f"mesh_{name}")
        if path is not None:
            read_file(path, f"{PREFIX}{name.upper()}")
    return {
        "mesh_password": _secret(settings.mesh_password, settings.mesh_password_file, "PASSWORD"),
        "mesh_shared_key": _secret(
            settings.mesh_shared_key, settings.mesh_shared_key_file, "SHARED_KEY"
        ),
    }


def _secret(value: str, path: Path | None, name: str) -> str:
    """The secret from its variable, else from its file; SettingsError if neither gives one."""
    from adapter.settings import SettingsError

    value = secret_from(value, path, f"{PREFIX}{name}")
    if not value:
        raise SettingsError(
            f"{PREFIX}URL is set: {PREFIX}{name} (or {PREFIX}{name}_FILE) is needed"
        )
    return value
