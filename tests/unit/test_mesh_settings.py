"""LD_ADAPTER_MESH_*: a mailbox needs its secrets and readable files; secrets never shown."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from adapter.settings import Settings, SettingsError

BASE = {
    "LD_ADAPTER_MESH_URL": "https://mesh.example.nhs.uk",
    "LD_ADAPTER_MESH_MAILBOX": "X26ABC1",
    "LD_ADAPTER_MESH_PASSWORD": "pw-from-env",
    "LD_ADAPTER_MESH_SHARED_KEY": "key-from-env",
}


def settings(tmp_path: Path, **changes: str) -> Settings:
    env = {"LD_ADAPTER_HOME": str(tmp_path), **BASE, **changes}
    return Settings.from_env({k: v for k, v in env.items() if v})


def test_without_a_url_mesh_is_off(tmp_path: Path) -> None:
    assert not Settings(home=tmp_path).mesh_enabled


def test_secrets_come_from_files_and_never_appear_in_repr(tmp_path: Path) -> None:
    (tmp_path / "password").write_text("pw-from-file\n")
    (tmp_path / "key").write_text("key-from-file")
    loaded = settings(
        tmp_path,
        LD_ADAPTER_MESH_PASSWORD="",
        LD_ADAPTER_MESH_SHARED_KEY="",
        LD_ADAPTER_MESH_PASSWORD_FILE=str(tmp_path / "password"),
        LD_ADAPTER_MESH_SHARED_KEY_FILE=str(tmp_path / "key"),
    )
    assert (loaded.mesh_password, loaded.mesh_shared_key) == ("pw-from-file", "key-from-file")
    assert "from-file" not in repr(loaded)
    assert replace(loaded, mesh_timeout=5).mesh_password == "pw-from-file"  # copies keep it


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        (
            {"LD_ADAPTER_MESH_PASSWORD": ""},
            "LD_ADAPTER_MESH_PASSWORD (or LD_ADAPTER_MESH_PASSWORD_FILE)",
        ),
        ({"LD_ADAPTER_MESH_SHARED_KEY": ""}, "LD_ADAPTER_MESH_SHARED_KEY (or"),
        ({"LD_ADAPTER_MESH_MAILBOX": ""}, "LD_ADAPTER_MESH_MAILBOX"),
        ({"LD_ADAPTER_MESH_URL": "mesh.example.nhs.uk"}, "LD_ADAPTER_MESH_URL must be an http(s)"),
        (
            {"LD_ADAPTER_MESH_PASSWORD_FILE": "/nowhere/password"},
            "/nowhere/password cannot be read",
        ),
        (
            {"LD_ADAPTER_MESH_CA_FILE": "/nowhere/ca.pem"},
            "LD_ADAPTER_MESH_CA_FILE: /nowhere/ca.pem",
        ),
        (
            {"LD_ADAPTER_MESH_CERT_FILE": "/nowhere/c.pem"},
            "_CERT_FILE and LD_ADAPTER_MESH_KEY_FILE",
        ),
        ({"LD_ADAPTER_MESH_POLL_INTERVAL": "0"}, "LD_ADAPTER_MESH_POLL_INTERVAL"),
    ],
)
def test_a_bad_mesh_configuration_stops_start_up(tmp_path: Path, changes: dict, named: str) -> None:
    with pytest.raises(SettingsError) as refused:
        settings(tmp_path, **changes)
    assert named in str(refused.value)
    assert "pw-from-env" not in str(refused.value) and "key-from-env" not in str(refused.value)


def test_a_password_in_both_the_variable_and_a_different_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "password").write_text("another")
    with pytest.raises(SettingsError, match="not both"):
        settings(tmp_path, LD_ADAPTER_MESH_PASSWORD_FILE=str(tmp_path / "password"))
