"""API tests whose partners are all one real test partner: the app's settings, and delivery."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from adapter.exchange.worker import DeliveryWorker
from adapter.settings import Settings
from tests.support.partners import partners_at


def partner_app_settings(home: Path, partner_base: str, database_url: str) -> Settings:
    """An app on `database_url` whose partners all live at `partner_base`; tests deliver."""
    return Settings(
        home=home,
        base_url="http://testserver",
        database_url=database_url,
        partners_path=partners_at(partner_base, home),
        delivery_in_process=False,
        delivery_backoff_base=0.01,
        delivery_backoff_max=0.01,
    )


def deliver(app: Flask) -> int:
    """Run one pass of a delivery worker, as `ld-adapter worker` would; how many it claimed."""
    context = app.extensions["ld_adapter"]
    return DeliveryWorker(context.store, context.settings).run_once()
