"""Log formatting keeps to its named fields; readiness sees a stopped in-process delivery loop."""

from __future__ import annotations

import logging
import logging.config
import threading
from collections.abc import Iterator

import orjson
import pytest

from adapter.documents import Document, Letterhead, render_pdf
from adapter.observe import heartbeat
from adapter.observe.gunicorn_log import GunicornLogFilter
from adapter.observe.logs import JsonFormatter, TextFormatter, configure, gunicorn_config


def _record(**extra: object) -> logging.LogRecord:
    record = logging.LogRecord("adapter.access", logging.INFO, __file__, 1, "GET %s", ("/x",), None)
    record.__dict__.update(extra)
    return record


def test_a_json_line_holds_only_the_named_fields() -> None:
    record = _record(route="/api/referrals/<record_id>", status=200, body={"name": "Jane Smith"})
    line = orjson.loads(JsonFormatter().format(record))
    assert line["message"] == "GET /x"
    assert (line["level"], line["logger"]) == ("INFO", "adapter.access")
    assert (line["route"], line["status"]) == ("/api/referrals/<record_id>", 200)
    assert "body" not in line and "Jane" not in JsonFormatter().format(record)


def test_a_text_line_lists_the_fields_of_an_event() -> None:
    record = _record(event="request", route="/healthz", status=200, query="name=Jane")
    line = TextFormatter().format(record)
    assert line.endswith("GET /x route=/healthz status=200")


def test_the_loop_is_seen_stopped_once_its_thread_ends() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    heartbeat.register_loop(thread)
    try:
        assert heartbeat.loop_alive() is True
        stop.set()
        thread.join()
        assert heartbeat.loop_alive() is False
    finally:
        heartbeat._LOOP.clear()
    assert heartbeat.loop_alive() is None


def test_the_first_mapped_value_the_claim_holds_gives_the_role() -> None:
    from adapter.console.oidc import role_for

    mapping = {"ld-ops": "operator", "ld-audit": "auditor"}
    assert role_for(["staff", "ld-audit", "ld-ops"], mapping) == "operator"
    assert role_for("ld-audit", mapping) == "auditor"
    assert role_for(["staff"], mapping) is None
    assert role_for(None, mapping) is None


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Put the root logger and fontTools' back as they were after a test configures logging."""
    root, font_tools = logging.getLogger(), logging.getLogger("fontTools")
    handlers, level, font_level = root.handlers[:], root.level, font_tools.level
    root.handlers = []
    yield
    root.handlers, root.level = handlers, level
    font_tools.setLevel(font_level)


@pytest.mark.parametrize("process", ["serve", "worker"])
def test_rendering_a_pdf_logs_nothing_of_its_text(process: str, root_logging: None) -> None:
    if process == "serve":
        logging.config.dictConfig(gunicorn_config("json"))
    else:
        configure("json")
        logging.getLogger().setLevel(logging.INFO)  # as configure leaves a fresh process
    kept = _Kept()
    logging.getLogger().addHandler(kept)
    # a letter outside Windows-1252 takes the font-subsetting path, which fontTools logs at INFO
    render_pdf(Document(Letterhead("L&D"), title="Łukasz Wróblewski"))
    assert [r.getMessage() for r in kept.records if r.name.startswith("fontTools")] == []


@pytest.mark.parametrize(
    "claimed", [5, True, 1.5, {"ld-ops": True}, {"roles": ["ld-ops"]}, [["ld-ops"]], [5, "x"]]
)
def test_a_role_claim_of_another_json_type_gives_no_role(claimed: object) -> None:
    from adapter.console.oidc import role_for

    assert role_for(claimed, {"ld-ops": "operator", "5": "auditor"}) is None


def _gunicorn_line(msg: str, *args: object) -> str:
    record = logging.LogRecord("gunicorn.error", logging.WARNING, __file__, 1, msg, args, None)
    assert GunicornLogFilter().filter(record)
    return orjson.loads(JsonFormatter().format(record))["message"]  # type: ignore[no-any-return]


def test_gunicorn_lines_never_carry_request_text() -> None:
    refused = "Invalid request from ip=10.0.0.1: Invalid HTTP method: 'JANE-SMITH'"
    assert _gunicorn_line(refused) == "invalid request refused: Invalid HTTP method"
    odd = "Invalid request from ip=10.0.0.1: Jane Smith was here"
    assert _gunicorn_line(odd) == "invalid request refused: unrecognised"
    crash = _gunicorn_line("Error handling request %s %s", "GET", "/fhir/Patient?name=Jane")
    assert "Jane" not in crash and crash.startswith("Error handling request")
    assert "Jane" not in _gunicorn_line("Something new: %s", "Jane Smith")
    assert _gunicorn_line("Booting worker with pid: %s", 42) == "Booting worker with pid: 42"


@pytest.mark.parametrize(
    ("aud", "accepted"),
    [("ld", True), (["ld", "other"], True), ("someone-else", False), (["a", "b"], False)],
)
def test_an_id_token_must_name_our_client_in_its_audience(aud: object, accepted: bool) -> None:
    import time

    from authlib.oidc.core import CodeIDToken
    from joserfc.errors import JoseError

    from adapter.console.oidc import id_token_claims_options

    now = int(time.time())
    claims = {"iss": "https://idp", "sub": "u1", "aud": aud, "azp": "ld", "nonce": "n"}
    claims |= {"iat": now, "exp": now + 60}
    options = id_token_claims_options("https://idp", "ld")
    token = CodeIDToken(claims, {"alg": "RS256"}, options, {"nonce": "n", "client_id": "ld"})
    if accepted:
        token.validate()
    else:
        with pytest.raises(JoseError):
            token.validate()
