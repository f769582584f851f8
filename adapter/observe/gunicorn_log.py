"""What of gunicorn's own log may be written: its messages about processes, never a request's text.

gunicorn echoes a malformed request line or header into its warning ("Invalid request from
ip=…: Invalid HTTP Version: '…'"), and a crash's "Error handling request" names the URI: both can
carry a query string with a person's name. Only messages on the allow-list below pass as they
are; a refusal is reduced to its kind, a crash to its message without the URI, and anything else
is replaced by a note that a message was withheld.
"""

from __future__ import annotations

import logging
import re

# gunicorn message templates (their `msg`, before arguments) whose arguments are pids, versions,
# addresses, signals or worker names.
SAFE_TEMPLATES = (
    "Starting gunicorn",
    "Listening at:",
    "Using worker:",
    "Booting worker with pid:",
    "Worker exiting",
    "Handling signal:",
    "Shutting down:",
    "Hang up:",
    "graceful stop of workers",
    "Quick shutdown requested",
    "WORKER TIMEOUT",
    "Worker (pid:",
    "Worker with pid",
    "Exception in worker process",
    "Exception during worker exit",
    "Exception in post_request hook",
    "Socket error processing request.",
    "Parent changed, shutting down",
    "Autorestarting worker",
    "Unhandled exception in main loop",
    "Unhandled signal:",
    "Ignoring unknown signal:",
    "Master has been promoted.",
    "USR2 signal ignored.",
    "Reloader is on.",
    "Worker reloading:",
    "Control socket listening",
    "Failed to start control socket:",
    "Retrying in",
    "Connection in use:",
    "Can't connect to",
    "reloading the logger configuration",
    "No keepalived connections",
)
# What a refused request was (gunicorn's exception texts start with these); never its text.
REFUSAL_KINDS = (
    "Invalid HTTP Version",
    "Invalid HTTP request line",
    "Invalid HTTP method",
    "Invalid HTTP header name",
    "Invalid HTTP Header",
    "Invalid chunk",
    "Invalid PROXY line",
    "Invalid scheme",
    "Invalid HTTP/2",
    "Request Line is too large",
    "Request Header Fields Too Large",
    "Proxy request",
    "Unsupported transfer coding",
    "Obsolete folding",
    "Expectation failed",
)
_REFUSAL = "Invalid request from ip="
_CRASH = "Error handling request"
_KIND = re.compile(r"Invalid request from ip=[^:]*: (?P<error>.*)", re.DOTALL)


class GunicornLogFilter(logging.Filter):
    """Rewrite gunicorn's records so that no request text reaches a log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always True (the line is kept), with its message made safe."""
        template = record.msg if isinstance(record.msg, str) else ""
        if template.startswith(_REFUSAL):
            _replace(record, f"invalid request refused: {refusal_kind(template)}")
        elif template.startswith(_CRASH):
            _replace(record, "Error handling request (its request line is not logged)")
        elif not template.startswith(SAFE_TEMPLATES):
            _replace(record, "a gunicorn message withheld (not on the log allow-list)")
        return True


def refusal_kind(message: str) -> str:
    """The kind of a refused request ("Invalid HTTP Version"), or "unrecognised"."""
    found = _KIND.match(message)
    error = found.group("error").lower() if found else ""
    return next((kind for kind in REFUSAL_KINDS if error.startswith(kind.lower())), "unrecognised")


def _replace(record: logging.LogRecord, message: str) -> None:
    record.msg = message
    record.args = ()
