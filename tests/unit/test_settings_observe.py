"""Settings for logs, /metrics, readiness and the console's OpenID Connect sign-in."""

from __future__ import annotations

import pytest

from adapter.settings import Settings, SettingsError

OIDC = {
    "LD_ADAPTER_OIDC_ISSUER": "https://login.trust.example",
    "LD_ADAPTER_OIDC_CLIENT_ID": "ld-console",
    "LD_ADAPTER_OIDC_CLIENT_SECRET": "s3cret",
    "LD_ADAPTER_OIDC_ROLES": "ld-ops=operator, ld-audit=auditor, ld-admins=operator",
}


def test_logs_are_json_and_metrics_open_unless_set() -> None:
    settings = Settings.from_env({})
    assert (settings.log_format, settings.metrics_open) == ("json", True)
    assert settings.worker_stale_seconds == 3 * settings.delivery_timeout + 30
    text = Settings.from_env({"LD_ADAPTER_LOG_FORMAT": "text", "LD_ADAPTER_METRICS_OPEN": "no"})
    assert (text.log_format, text.metrics_open) == ("text", False)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LD_ADAPTER_LOG_FORMAT", "xml", "LOG_FORMAT must be json or text"),
        ("LD_ADAPTER_WORKER_STALE_SECONDS", "0", "positive"),
        ("LD_ADAPTER_METRICS_OPEN", "maybe", "true or false"),
    ],
)
def test_bad_observability_values_fail_naming_the_variable(name, value, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({name: value})


def test_oidc_roles_map_claim_values_in_order_and_redirects_follow_the_base_url() -> None:
    settings = Settings.from_env({**OIDC, "LD_ADAPTER_BASE_URL": "https://ld.trust.example"})
    assert settings.oidc_role_map == {
        "ld-ops": "operator",
        "ld-audit": "auditor",
        "ld-admins": "operator",
    }
    assert settings.oidc_redirect_base == "https://ld.trust.example"
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"LD_ADAPTER_OIDC_CLIENT_ID": ""}, "needs LD_ADAPTER_OIDC_CLIENT_ID"),
        ({"LD_ADAPTER_OIDC_CLIENT_SECRET": ""}, "OIDC_CLIENT_SECRET"),
        ({"LD_ADAPTER_OIDC_ROLES": ""}, "OIDC_ROLES must map"),
        ({"LD_ADAPTER_OIDC_ROLES": "ld-ops=admin"}, "'ld-ops=admin' is not"),
        ({"LD_ADAPTER_OIDC_SCOPES": "profile"}, "must include openid"),
        (
            {"LD_ADAPTER_OIDC_ISSUER": "login.trust.example"},
            r"OIDC_ISSUER must be an http\(s\) URL",
        ),
    ],
)
def test_incomplete_oidc_settings_fail_at_start(changes: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({**OIDC, **changes})


def test_production_needs_an_https_issuer() -> None:
    production = {
        **OIDC,
        "LD_ADAPTER_ENVIRONMENT": "production",
        "LD_ADAPTER_CONSOLE_SECRET_KEY": "k" * 32,
        "LD_ADAPTER_OIDC_ISSUER": "http://login.trust.example",
    }
    with pytest.raises(SettingsError, match="OIDC_ISSUER must be an https URL"):
        Settings.from_env(production)


def test_console_and_oidc_secrets_are_read_from_their_files_at_start(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "console-key").write_text("k" * 32 + "\n")
    (tmp_path / "oidc-secret").write_text("s3cret-from-file\n")
    settings = Settings.from_env(
        {
            **OIDC,
            "LD_ADAPTER_OIDC_CLIENT_SECRET": "",
            "LD_ADAPTER_OIDC_CLIENT_SECRET_FILE": str(tmp_path / "oidc-secret"),
            "LD_ADAPTER_CONSOLE_SECRET_KEY_FILE": str(tmp_path / "console-key"),
        }
    )
    assert (settings.console_secret_key, settings.oidc_client_secret) == (
        "k" * 32,
        "s3cret-from-file",
    )
    assert "from-file" not in repr(settings)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "LD_ADAPTER_CONSOLE_SECRET_KEY_FILE: .* cannot be read"),
        ("short\n", "CONSOLE_SECRET_KEY must be at least 32 characters"),
    ],
)
def test_a_console_key_file_missing_or_short_stops_start_up(tmp_path, content, message) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "console-key"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({"LD_ADAPTER_CONSOLE_SECRET_KEY_FILE": str(path)})
