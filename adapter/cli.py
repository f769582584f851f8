"""The `ld-adapter` command: serve, token, map, migrate, reindex, validate, worker, messages."""

from __future__ import annotations

import dataclasses
import os
import sys
import uuid
from pathlib import Path

import click
import orjson

from adapter.cli_console import console_link
from adapter.cli_delivery import messages, worker
from adapter.errors import AdapterError, InvalidInput, Issue
from adapter.json_input import JsonInputError, load_json
from adapter.settings import Settings, SettingsError


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
@click.version_option(package_name="ld-adapter", prog_name="ld-adapter")
def main() -> None:
    """FHIR R4 adapter for NHS Liaison and Diversion services."""


main.add_command(worker)
main.add_command(messages)
main.add_command(console_link)


@main.command()
@click.option(
    "--host", default=None, help="Interface to bind (default LD_ADAPTER_HOST or 127.0.0.1)."
)
@click.option("--port", type=int, default=None, help="Port (default LD_ADAPTER_PORT or 8080).")
@click.option(
    "--workers", type=int, default=None, help="Worker processes (default LD_ADAPTER_WORKERS)."
)
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Run the HTTP service under gunicorn."""
    from adapter.server import run

    settings = _settings()
    overrides: dict[str, object] = {k: v for k, v in (("host", host), ("port", port)) if v}
    if overrides and not os.environ.get("LD_ADAPTER_BASE_URL"):
        overrides["base_url"] = ""  # links follow the address served, as without the flags
        if not os.environ.get("LD_ADAPTER_SOURCE_ENDPOINT"):
            overrides["source_endpoint"] = ""  # so does where partners reply
    settings = dataclasses.replace(settings, **overrides)  # type: ignore[arg-type]
    try:
        run(settings, settings.host, settings.port, workers or settings.workers)
    except SettingsError as exc:  # e.g. a partners bundle that cannot be used
        raise click.ClickException(str(exc)) from None


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema and load the service directory."""
    from adapter.services import prepare_store
    from adapter.store import Store

    settings = _settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    store = Store.from_url(
        settings.database_url, statement_timeout_ms=settings.statement_timeout_ms
    )
    try:
        loaded = prepare_store(store, settings)
    except SettingsError as exc:  # e.g. a partners bundle that cannot be used
        raise click.ClickException(str(exc)) from None
    finally:
        store.dispose()
    click.echo(f"database ready; {len(loaded)} service directory resources loaded")


@main.command()
def reindex() -> None:
    """Rebuild the search indexes of every stored resource (after an upgrade adds parameters)."""
    from adapter.store import Store

    # An operator's one-off command on the whole store: a day, not a request's time budget.
    store = Store.from_url(_settings().database_url, statement_timeout_ms=86_400_000)
    store.migrate()
    with store.unit_of_work() as uow:
        count = uow.resources.reindex()
    store.dispose()
    click.echo(f"{count} resources reindexed")


@main.command()
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    default=("system/*.cruds",),
    show_default=True,
    help="A SMART v2 system scope; repeat for more.",
)
@click.option("--lifetime", type=int, default=3600, show_default=True, help="Seconds until expiry.")
@click.option("--subject", default="ld-adapter-dev", show_default=True)
def token(scopes: tuple[str, ...], lifetime: int, subject: str) -> None:
    """Mint a development bearer token signed with the local HS256 key."""
    from adapter.auth import mint_dev_token, scope_is_well_formed

    bad = [scope for scope in scopes if not scope_is_well_formed(scope)]
    if bad:
        raise click.BadParameter(
            f"{', '.join(bad)}: expected system/<Type or *>.<letters from cruds>",
            param_hint="--scope",
        )
    settings = _settings()
    if lifetime > settings.max_token_lifetime:
        raise click.BadParameter(
            f"at most {settings.max_token_lifetime} seconds (LD_ADAPTER_MAX_TOKEN_LIFETIME): "
            "the service refuses longer-lived tokens",
            param_hint="--lifetime",
        )
    click.echo(mint_dev_token(settings, list(scopes), subject=subject, lifetime=lifetime))


@main.command(name="map")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def map_referral(file: Path) -> None:
    """Print the FHIR Bundle made from a native referral JSON file."""
    from adapter.directory import directory_resources, site_service
    from adapter.domain import ReferralResourceIds
    from adapter.mapping import referral_bundle, referral_to_fhir
    from adapter.native.referral_schema import load_referral

    settings = _settings()
    try:
        try:
            payload = load_json(file.read_bytes())
        except JsonInputError as exc:
            raise InvalidInput(Issue(f"The file {exc}.", code=exc.code)) from None
        referral = load_referral(payload)
    except AdapterError as error:
        sys.stderr.write(
            orjson.dumps(error.operation_outcome(), option=orjson.OPT_INDENT_2).decode()
        )
        sys.stderr.write("\n")
        raise SystemExit(1) from None
    ids = ReferralResourceIds(
        patient=str(uuid.uuid4()),
        service_request=str(uuid.uuid4()),
        encounter=str(uuid.uuid4()),
        consents=[str(uuid.uuid4()) for _ in referral.consents],
        referrer_organization=str(uuid.uuid4()),
    )
    service = site_service(directory_resources(settings.directory_path), referral.site)
    resources = referral_to_fhir(
        referral, ids, performer=service.performer, provider=service.provider
    )
    bundle = referral_bundle(resources, settings.fhir_base_url)
    click.echo(orjson.dumps(bundle, option=orjson.OPT_INDENT_2).decode())


@main.command(name="validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--profile", default=None, help="Also check every file against this profile URL.")
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json", "junit"]),
    default="text",
    show_default=True,
)
@click.option(
    "--min-severity",
    type=click.Choice(["information", "warning", "error"]),
    default="information",
    show_default=True,
    help="Hide issues less severe than this (warning hides information lines).",
)
def validate_files(
    paths: tuple[Path, ...], profile: str | None, output: str, min_severity: str
) -> None:
    """Validate FHIR JSON files (and directories of them) as the adapter checks inbound payloads."""
    from adapter.conformance.report import FORMATS, at_least, check_files, json_files

    if profile is not None:
        _known_profile(profile)
    files = json_files(paths)
    results = (at_least(r, min_severity) for r in check_files(files, profile))
    if len(files) > 20 and sys.stderr.isatty():
        from tqdm import tqdm

        results = tqdm(results, total=len(files), unit="file", file=sys.stderr)
    collected = list(results)
    click.echo(FORMATS[output](collected))
    raise SystemExit(0 if all(r.valid for r in collected) else 1)


def _known_profile(url: str) -> None:
    """Exit 2 (a usage error) when --profile names no StructureDefinition of ours."""
    from adapter.conformance.profiles import profiles

    found = profiles().get(url)
    if found is None or found.is_extension:
        known = sorted(p.url for p in profiles().by_url.values() if not p.is_extension)
        raise click.BadParameter(
            f"{url} is not a profile of this adapter; known: {', '.join(known)}",
            param_hint="--profile",
        )


if __name__ == "__main__":
    main()
