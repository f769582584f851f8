"""One settings object, read from LD_ADAPTER_* environment variables; bad values fail at start."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from adapter.settings_secrets import secret_from

PREFIX = "LD_ADAPTER_"
REPO_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A configuration value is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    """Everything the adapter is configured with."""

    home: Path = Path("var")
    database_url: str = ""
    base_url: str = ""  # unset: http://<host>:<port>, so changing the port moves links with it
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 2
    # Serving: threads per worker, seconds a client may take to send a whole request, seconds a
    # worker may go silent before gunicorn restarts it, seconds an idle keep-alive connection lives.
    threads: int = 4
    request_timeout: int = 10
    worker_timeout: int = 30
    keepalive: int = 5
    # Connections one worker holds at once (each may buffer up to a request body); more wait.
    max_connections: int = 256
    # Work one $validate may ask for: entries in any Bundle, JSON values in the body, issues listed.
    max_bundle_entries: int = 1000
    max_json_nodes: int = 100_000
    max_validate_issues: int = 1000
    max_body_bytes: int = 1_048_576
    max_json_depth: int = 64
    jwt_algorithm: str = "HS256"
    jwt_signing_key_file: Path | None = None
    jwks_file: Path | None = None
    jwks_url: str | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    max_token_lifetime: int = 3600
    max_search_values: int = 100
    max_search_parameters: int = 30
    max_search_total_values: int = 300
    directory_path: Path = field(
        default_factory=lambda: REPO_ROOT / "mappings" / "service-directory"
    )
    load_directory: bool = True
    # Below gunicorn's 30 s worker timeout, so a slow query is a 503, never a killed worker.
    statement_timeout_ms: int = 10_000
    audit: bool = True  # write an AuditEvent per interaction; off only to measure its cost
    # Onward referrals: the partners bundle (unset: no partners), this instance's ODS code and the
    # endpoint partners reply to (MessageHeader.source.endpoint; unset: the FHIR base).
    partners_path: Path | None = None
    ods_code: str = "RRE"
    source_endpoint: str = ""
    # Referrals received from partners ($process-message) are placed at this Location of the
    # service directory; unset: the first Location of our trust's first L&D service.
    inbound_site: str = ""
    # Delivery to partners (adapter.exchange.worker). Seconds unless said otherwise.
    delivery_timeout: float = 10.0  # seconds a partner has to answer one delivery
    delivery_lease_seconds: float = 0.0  # 0: 4 × delivery_timeout + 30, well past any attempt
    delivery_backoff_base: float = 2.0  # retry n waits up to base × 2^n (full jitter) …
    delivery_backoff_max: float = 900.0  # … but never more than this (unless Retry-After says)
    delivery_ttl: int = 259_200  # 72 h from queueing; then a message is dead-lettered
    delivery_poll_interval: float = 1.0  # an idle worker looks for due messages this often
    delivery_batch: int = 20  # messages one worker claims at a time
    delivery_in_process: bool = True  # each `serve` process runs a delivery loop of its own
    # MESH (adapter.exchange.mesh_*): unset URL, no MESH. Secrets from the variable or its *_FILE;
    # kept out of repr so a logged Settings never shows them.
    mesh_url: str = ""
    mesh_mailbox: str = ""
    mesh_password: str = field(default="", repr=False)
    mesh_password_file: Path | None = None
    mesh_shared_key: str = field(default="", repr=False)
    mesh_shared_key_file: Path | None = None
    mesh_cert_file: Path | None = None  # client certificate (PEM) for mutual TLS
    mesh_key_file: Path | None = None  # its private key (PEM)
    mesh_ca_file: Path | None = None  # CA bundle the MESH server's certificate is checked against
    mesh_timeout: float = 30.0  # seconds MESH has to answer one request
    mesh_poll: bool = True  # the delivery loop also polls our MESH inbox
    mesh_poll_interval: float = 30.0  # seconds between inbox polls
    # Observability: log lines as JSON or text; /metrics open on the listen address or behind
    # any valid bearer token of a client not bound to a partner; seconds after which a heartbeat
    # is stale (/readyz: this process's loop; "workers" and ld_adapter_delivery_stalled: any
    # worker, while a message has been due that long) (0: 3 × delivery_timeout + 30).
    log_format: str = "json"
    metrics_open: bool = True
    worker_stale_seconds: float = 0.0
    # "development" or "production": production refuses development conveniences (console-link,
    # a console secret key generated into the home directory).
    environment: str = "development"
    # The console's cookie sessions: signed with this key (from the environment or a file; in
    # development generated under the home directory), ending this many seconds after sign-in.
    console_secret_key: str = field(default="", repr=False)
    console_secret_key_file: Path | None = None
    console_session_seconds: int = 28_800
    console_link_seconds: int = 600  # a one-time sign-in link works once, within this time
    # Console sign-in with OpenID Connect (authorization code + PKCE) at the trust's provider:
    # its issuer URL (discovery), this client, the claim holding a user's groups or roles and
    # which of its values make an operator or an auditor ("group=role,..."; the first that
    # matches wins), and the base the provider redirects back to (unset: the base URL).
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = field(default="", repr=False)
    oidc_client_secret_file: Path | None = None
    oidc_scopes: str = "openid profile"
    oidc_role_claim: str = "roles"
    oidc_roles: str = ""
    oidc_redirect_base: str = ""

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(
                self, "database_url", f"sqlite:///{self.home.resolve()}/ld-adapter.db"
            )
        if self.jwt_signing_key_file is None:
            object.__setattr__(self, "jwt_signing_key_file", self.home / "dev-signing-key")
        if self.jwt_algorithm not in ("HS256", "RS256"):
            raise SettingsError(f"{PREFIX}JWT_ALGORITHM must be HS256 or RS256")
        if self.jwt_algorithm == "RS256" and not (self.jwks_file or self.jwks_url):
            raise SettingsError(f"RS256 needs {PREFIX}JWKS_FILE or {PREFIX}JWKS_URL")
        if self.max_body_bytes < 1024:
            raise SettingsError(f"{PREFIX}MAX_BODY_BYTES must be at least 1024")
        if not self.base_url:
            object.__setattr__(self, "base_url", f"http://{self.host}:{self.port}")
        if not self.base_url.startswith(("http://", "https://")):
            raise SettingsError(f"{PREFIX}BASE_URL must be an http(s) URL")
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        if not self.source_endpoint:
            object.__setattr__(self, "source_endpoint", self.fhir_base_url)
        if not self.source_endpoint.startswith(("http://", "https://")):
            raise SettingsError(f"{PREFIX}SOURCE_ENDPOINT must be an http(s) URL")
        if not self.ods_code.isalnum():
            raise SettingsError(f"{PREFIX}ODS_CODE must be letters and digits (an ODS code)")
        if not self.delivery_lease_seconds:
            lease = 4.0 * self.delivery_timeout + 30
            object.__setattr__(self, "delivery_lease_seconds", lease)
        if self.log_format not in ("json", "text"):
            raise SettingsError(f"{PREFIX}LOG_FORMAT must be json or text")
        if not self.worker_stale_seconds:
            stale = 3.0 * self.delivery_timeout + 30
            object.__setattr__(self, "worker_stale_seconds", stale)
        self._check_console()
        self._check_oidc()
        if self.delivery_lease_seconds <= self.delivery_timeout:
            # A lease ending mid-attempt would let a second worker send the message again.
            raise SettingsError(
                f"{PREFIX}DELIVERY_LEASE_SECONDS must be longer than {PREFIX}DELIVERY_TIMEOUT"
            )
        from adapter.settings_mesh import check_mesh

        for name, value in check_mesh(self).items():
            object.__setattr__(self, name, value)

    @property
    def mesh_enabled(self) -> bool:
        """True when a MESH mailbox is configured."""
        return bool(self.mesh_url)

    def _check_console(self) -> None:
        if self.environment not in ("development", "production"):
            raise SettingsError(f"{PREFIX}ENVIRONMENT must be development or production")
        key = secret_from(
            self.console_secret_key, self.console_secret_key_file, f"{PREFIX}CONSOLE_SECRET_KEY"
        )
        object.__setattr__(self, "console_secret_key", key)
        if self.environment == "production" and not key:
            raise SettingsError(
                f"production needs {PREFIX}CONSOLE_SECRET_KEY or {PREFIX}CONSOLE_SECRET_KEY_FILE"
            )
        if self.console_secret_key and len(self.console_secret_key) < 32:
            raise SettingsError(f"{PREFIX}CONSOLE_SECRET_KEY must be at least 32 characters")

    def _check_oidc(self) -> None:
        if not self.oidc_issuer:
            return
        production = self.environment == "production"
        if not self.oidc_issuer.startswith(
            ("https://",) if production else ("http://", "https://")
        ):
            kind = "https" if production else "http(s)"
            raise SettingsError(f"{PREFIX}OIDC_ISSUER must be an {kind} URL")
        if not self.oidc_client_id:
            raise SettingsError(f"{PREFIX}OIDC_ISSUER needs {PREFIX}OIDC_CLIENT_ID")
        secret = secret_from(
            self.oidc_client_secret, self.oidc_client_secret_file, f"{PREFIX}OIDC_CLIENT_SECRET"
        )
        object.__setattr__(self, "oidc_client_secret", secret)
        if not secret:
            raise SettingsError(
                f"{PREFIX}OIDC_ISSUER needs {PREFIX}OIDC_CLIENT_SECRET or _OIDC_CLIENT_SECRET_FILE"
            )
        if "openid" not in self.oidc_scopes.split():
            raise SettingsError(f"{PREFIX}OIDC_SCOPES must include openid")
        if not self.oidc_role_map:
            raise SettingsError(
                f"{PREFIX}OIDC_ROLES must map claim values to roles, e.g. "
                "ld-operators=operator,ld-auditors=auditor"
            )
        if not self.oidc_redirect_base:
            object.__setattr__(self, "oidc_redirect_base", self.base_url)

    @property
    def oidc_role_map(self) -> dict[str, str]:
        """OIDC_ROLES as {claim value: operator or auditor}, in the order given."""
        mapping: dict[str, str] = {}
        for pair in filter(None, (p.strip() for p in self.oidc_roles.split(","))):
            value, _, role = (part.strip() for part in pair.partition("="))
            if not value or role not in ("operator", "auditor"):
                raise SettingsError(
                    f"{PREFIX}OIDC_ROLES: '{pair}' is not <claim value>=operator or =auditor"
                )
            mapping.setdefault(value, role)
        return mapping

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS: true unless the adapter is served on a plain http base URL."""
        return self.base_url.startswith("https://")

    @property
    def fhir_base_url(self) -> str:
        """The FHIR base, used in fullUrls and links."""
        return f"{self.base_url}/fhir"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read LD_ADAPTER_* variables; unset ones keep their defaults."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name, convert in _CONVERTERS.items():
            variable = PREFIX + _ENV_NAMES.get(name, name.upper())
            raw = env.get(variable)
            if raw is None or raw == "":
                continue
            try:
                values[name] = convert(raw)
            except ValueError as exc:
                raise SettingsError(f"{variable}: {exc}") from None
        return cls(**values)  # type: ignore[arg-type]


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be a positive whole number")
    return value


def _positive_number(raw: str) -> float:
    value = float(raw)
    if not value > 0 or value == float("inf"):
        raise ValueError("must be a positive number")
    return value


def _boolean(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


# Variables not named after their field: LD_ADAPTER_PARTNERS reads as the issue writes it.
_ENV_NAMES = {"partners_path": "PARTNERS"}

_CONVERTERS: dict[str, Callable[[str], object]] = {
    "home": Path,
    "database_url": str,
    "base_url": str,
    "host": str,
    "port": _positive_int,
    "workers": _positive_int,
    "threads": _positive_int,
    "request_timeout": _positive_int,
    "worker_timeout": _positive_int,
    "keepalive": _positive_int,
    "max_connections": _positive_int,
    "max_bundle_entries": _positive_int,
    "max_json_nodes": _positive_int,
    "max_validate_issues": _positive_int,
    "max_body_bytes": _positive_int,
    "max_json_depth": _positive_int,
    "jwt_algorithm": str,
    "jwt_signing_key_file": Path,
    "jwks_file": Path,
    "jwks_url": str,
    "jwt_audience": str,
    "jwt_issuer": str,
    "max_token_lifetime": _positive_int,
    "max_search_values": _positive_int,
    "max_search_parameters": _positive_int,
    "max_search_total_values": _positive_int,
    "directory_path": Path,
    "load_directory": _boolean,
    "statement_timeout_ms": _positive_int,
    "audit": _boolean,
    "partners_path": Path,
    "ods_code": str,
    "source_endpoint": str,
    "inbound_site": str,
    "delivery_timeout": _positive_number,
    "delivery_lease_seconds": _positive_number,
    "delivery_backoff_base": _positive_number,
    "delivery_backoff_max": _positive_number,
    "delivery_ttl": _positive_int,
    "delivery_poll_interval": _positive_number,
    "delivery_batch": _positive_int,
    "delivery_in_process": _boolean,
    "mesh_url": str,
    "mesh_mailbox": str,
    "mesh_password": str,
    "mesh_password_file": Path,
    "mesh_shared_key": str,
    "mesh_shared_key_file": Path,
    "mesh_cert_file": Path,
    "mesh_key_file": Path,
    "mesh_ca_file": Path,
    "mesh_timeout": _positive_number,
    "mesh_poll": _boolean,
    "mesh_poll_interval": _positive_number,
    "log_format": str,
    "metrics_open": _boolean,
    "worker_stale_seconds": _positive_number,
    "environment": str,
    "console_secret_key": str,
    "console_secret_key_file": Path,
    "console_session_seconds": _positive_int,
    "console_link_seconds": _positive_int,
    "oidc_issuer": str,
    "oidc_client_id": str,
    "oidc_client_secret": str,
    "oidc_client_secret_file": Path,
    "oidc_scopes": str,
    "oidc_role_claim": str,
    "oidc_roles": str,
    "oidc_redirect_base": str,
}
