"""Settings come from LD_ADAPTER_* variables and fail fast on bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapter.settings import Settings, SettingsError


def test_defaults_put_database_and_key_under_home():
    settings = Settings.from_env({"LD_ADAPTER_HOME": "/tmp/ld-home"})
    assert settings.database_url == "sqlite:////tmp/ld-home/ld-adapter.db"
    assert settings.jwt_signing_key_file == Path("/tmp/ld-home/dev-signing-key")
    assert settings.fhir_base_url == "http://127.0.0.1:8080/fhir"


def test_base_url_follows_host_and_port_unless_set():
    moved = Settings.from_env({"LD_ADAPTER_PORT": "9090"})
    assert moved.fhir_base_url == "http://127.0.0.1:9090/fhir"
    proxied = {"LD_ADAPTER_PORT": "9090", "LD_ADAPTER_BASE_URL": "https://ld.example.nhs.uk"}
    assert Settings.from_env(proxied).fhir_base_url == "https://ld.example.nhs.uk/fhir"


def test_database_url_selects_postgresql():
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    assert Settings.from_env({"LD_ADAPTER_DATABASE_URL": url}).database_url == url


def test_base_url_loses_trailing_slash():
    settings = Settings.from_env({"LD_ADAPTER_BASE_URL": "https://ld.example.nhs.uk/"})
    assert settings.fhir_base_url == "https://ld.example.nhs.uk/fhir"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LD_ADAPTER_PORT", "eighty", "LD_ADAPTER_PORT"),
        ("LD_ADAPTER_PORT", "-1", "positive"),
        ("LD_ADAPTER_JWT_ALGORITHM", "none", "HS256 or RS256"),
        ("LD_ADAPTER_JWT_ALGORITHM", "RS256", "JWKS"),
        ("LD_ADAPTER_BASE_URL", "ftp://x", "http"),
        ("LD_ADAPTER_MAX_BODY_BYTES", "10", "at least"),
        ("LD_ADAPTER_LOAD_DIRECTORY", "maybe", "true or false"),
        ("LD_ADAPTER_THREADS", "0", "positive"),
        ("LD_ADAPTER_REQUEST_TIMEOUT", "soon", "LD_ADAPTER_REQUEST_TIMEOUT"),
        ("LD_ADAPTER_MAX_BUNDLE_ENTRIES", "-5", "positive"),
        ("LD_ADAPTER_DELIVERY_TIMEOUT", "0", "positive"),
        ("LD_ADAPTER_DELIVERY_TIMEOUT", "nan", "positive"),
        ("LD_ADAPTER_SOURCE_ENDPOINT", "mesh:X26ABC1", "http"),
        ("LD_ADAPTER_ODS_CODE", "R R E", "ODS code"),
    ],
)
def test_bad_values_fail_fast(name, value, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({name: value})


def test_partner_settings_default_to_this_trust_and_its_fhir_base():
    settings = Settings.from_env({"LD_ADAPTER_BASE_URL": "https://ld.example.nhs.uk"})
    assert settings.partners_path is None
    assert settings.ods_code == "RRE"
    assert settings.source_endpoint == "https://ld.example.nhs.uk/fhir"
    assert settings.delivery_timeout == 10


def test_partner_settings_are_read_from_the_environment():
    settings = Settings.from_env(
        {
            "LD_ADAPTER_PARTNERS": "/etc/ld/partners.json",
            "LD_ADAPTER_ODS_CODE": "RXT",
            "LD_ADAPTER_SOURCE_ENDPOINT": "https://ld.example.nhs.uk/bars",
            "LD_ADAPTER_DELIVERY_TIMEOUT": "2.5",
        }
    )
    assert settings.partners_path == Path("/etc/ld/partners.json")
    assert (settings.ods_code, settings.source_endpoint) == (
        "RXT",
        "https://ld.example.nhs.uk/bars",
    )
    assert settings.delivery_timeout == 2.5


def test_delivery_lease_defaults_well_past_the_http_timeout():
    assert Settings.from_env({}).delivery_lease_seconds == 70
    assert Settings.from_env({"LD_ADAPTER_DELIVERY_TIMEOUT": "5"}).delivery_lease_seconds == 50
    short = {"LD_ADAPTER_DELIVERY_LEASE_SECONDS": "2.5", "LD_ADAPTER_DELIVERY_TIMEOUT": "1"}
    assert Settings.from_env(short).delivery_lease_seconds == 2.5


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"LD_ADAPTER_DELIVERY_LEASE_SECONDS": "5"}, "longer than LD_ADAPTER_DELIVERY_TIMEOUT"),
        ({"LD_ADAPTER_DELIVERY_BACKOFF_BASE": "0"}, "positive"),
        ({"LD_ADAPTER_DELIVERY_POLL_INTERVAL": "nan"}, "positive"),
        ({"LD_ADAPTER_DELIVERY_IN_PROCESS": "maybe"}, "true or false"),
    ],
)
def test_bad_delivery_settings_fail_at_start(environ: dict, message: str):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(environ)
