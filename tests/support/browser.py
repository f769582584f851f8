"""Debian's chromium driven through chromium-driver (selenium), headless, for the console's tests.

`make browsers` installs them. Where they are missing the tests skip saying so, except in CI
(CI=true), where a missing browser is a failure: CI must run them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = ("chromium", "chromium-browser")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _binaries() -> tuple[str | None, str | None]:
    browser = next((found for name in CHROMIUM if (found := shutil.which(name))), None)
    return browser, shutil.which("chromedriver")


@contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator:  # type: ignore[type-arg]
    """A headless chromium window; skips (fails in CI) when chromium or its driver is missing."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = _binaries()
    if browser is None or driver_path is None:
        missing = "chromium" if browser is None else "chromium-driver"
        reason = f"{missing} is not installed here: `make browsers` installs it (apt-get)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    options.add_argument(f"--window-size={width},{height}")
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver, name: str, folder: Path) -> Path:  # type: ignore[no-untyped-def]
    """Save the whole page as `name`.png in `folder`, and in docs/screenshots when asked to
    (LD_ADAPTER_UPDATE_SCREENSHOTS=1, as `make screenshots` sets)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(900, min(int(height) + 40, 2400)))
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    if os.environ.get("LD_ADAPTER_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, SCREENSHOTS / f"{name}.png")
    return path
