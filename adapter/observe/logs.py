"""Log lines as JSON objects (or plain text), the same for `serve` and `worker`.

A line holds the time, level, logger and message, plus the named fields a caller passes in
`extra=` (FIELDS): ids, routes, statuses and durations. Only those fields are written, so nothing
else a record carries (arguments, request data) can reach the log.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

# The fields a log call may add (extra={...}); none of them can hold patient data.
FIELDS = (
    "event",
    "method",
    "route",
    "status",
    "status_code",
    "duration_ms",
    "request_id",
    "correlation_id",
    "client_id",
    "message_id",
    "endpoint_id",
    "attempt",
    "worker_id",
)
_TEXT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# Libraries that chatter at INFO: fontTools logs each PDF's font subsetting, down to the names of
# the glyphs printed (a hint of what a document said), some 75 lines a document.
QUIET = ("fontTools",)


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as JSON: time, level, logger, message, then the known fields it has."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:  # the traceback's places, as adapter.api.errors logs them
            line["exception"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """Plain text: time, level, logger, message, then the known fields as name=value."""

    def __init__(self) -> None:
        super().__init__(_TEXT)

    def format(self, record: logging.LogRecord) -> str:
        """The usual line, with the fields after it."""
        fields = " ".join(
            f"{name}={record.__dict__[name]}"
            for name in FIELDS
            if record.__dict__.get(name) is not None and name != "event"
        )
        line = super().format(record)
        return f"{line} {fields}" if fields and record.__dict__.get("event") else line


_FORMATTERS: dict[str, type[logging.Formatter]] = {"json": JsonFormatter, "text": TextFormatter}


def formatter(log_format: str) -> logging.Formatter:
    """The formatter for LD_ADAPTER_LOG_FORMAT."""
    return _FORMATTERS[log_format]()


def configure(log_format: str) -> None:
    """Send INFO and above, from every logger, to stderr in the chosen format.

    As logging.basicConfig: nothing changes if the root logger already has a handler.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def gunicorn_config(log_format: str) -> dict:
    """gunicorn's logconfig_dict: its own lines and ours on stderr, its access log off.

    Requests are logged by the app (adapter.api.observe), which knows the route template and
    never writes the query string.
    """
    chosen = _FORMATTERS[log_format]
    factory = f"{chosen.__module__}.{chosen.__qualname__}"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"adapter": {"()": factory}},
        # gunicorn's own lines may echo a malformed request line: only its allow-list passes.
        "filters": {"gunicorn": {"()": "adapter.observe.gunicorn_log.GunicornLogFilter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "adapter",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {
                "level": "INFO",
                "handlers": [],
                "propagate": True,
                "filters": ["gunicorn"],
            },
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
            **{name: {"level": "WARNING"} for name in QUIET},
        },
    }
