"""`ld-adapter console-link`: a one-time sign-in link to the console, for development."""

from __future__ import annotations

import click

from adapter.settings import Settings, SettingsError


@click.command("console-link")
@click.option(
    "--role",
    type=click.Choice(["operator", "auditor"]),
    default="operator",
    show_default=True,
    help="operator: masked views, replay, cancel; auditor: reveal patient details.",
)
@click.option("--name", default="Developer", show_default=True, help="Who signs in (audited).")
def console_link(role: str, name: str) -> None:
    """Print a one-time link that signs in to the console (refused in production)."""
    from adapter.errors import Forbidden
    from adapter.services.console_links import create_link
    from adapter.store import Store

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    if settings.environment == "production":
        raise click.ClickException(
            "console-link is for development; in production sign in with OpenID Connect."
        )
    settings.home.mkdir(parents=True, exist_ok=True)
    store = Store.from_url(
        settings.database_url, statement_timeout_ms=settings.statement_timeout_ms
    )
    try:
        store.migrate()
        url = create_link(store, settings, role, name.strip() or "Developer")
    except Forbidden as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.dispose()
    click.echo(url)
    click.echo(f"(works once, within {settings.console_link_seconds} seconds)", err=True)
