"""Secrets from their variable or its *_FILE, read once while the settings are checked.

A file that cannot be read, is not UTF-8, or clashes with the variable stops start-up with a
SettingsError naming the variable (never the secret's value).
"""

from __future__ import annotations

from pathlib import Path


def secret_from(value: str, path: Path | None, variable: str) -> str:
    """The secret from `variable`, else from its file (one trailing newline dropped); "" if none."""
    from adapter.settings import SettingsError

    if path is None:
        return value
    raw = read_file(path, f"{variable}_FILE")
    try:
        from_file = raw.decode("utf-8").removesuffix("\n")
    except UnicodeDecodeError:
        raise SettingsError(f"{variable}_FILE: {path} is not UTF-8 text") from None
    # Settings copied with dataclasses.replace hold the value read before: that is no clash.
    if value and value != from_file:
        raise SettingsError(f"set {variable} or {variable}_FILE, not both")
    return from_file


def read_file(path: Path, variable: str) -> bytes:
    """A configured file's bytes; SettingsError naming `variable` if it cannot be read."""
    from adapter.settings import SettingsError

    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise SettingsError(f"{variable}: {path} cannot be read ({exc.strerror})") from None
