"""JsonFormatter, BufferedHandler and AccessLog: JSON lines, scrubbed, all written on flush."""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from aigw.observability.logging import (
    ACCESS_LOGGER,
    MAX_ACCESS_FIELD,
    AccessLog,
    BufferedHandler,
    JsonFormatter,
    LogSystem,
)
from aigw.observability.redact import MAX_LOG_VALUE, LogRedactor

SECRET = "sk-live-0123456789abcdef"
EMAIL = "alice@example.com"
TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, s: str) -> int:
        self.writes += 1
        return super().write(s)


@pytest.fixture
def redactor() -> LogRedactor:
    return LogRedactor(["registered-secret-value"])


@pytest.fixture
def stream() -> CountingStream:
    return CountingStream()


@pytest.fixture
def handler(stream: CountingStream, redactor: LogRedactor) -> Iterator[BufferedHandler]:
    h = BufferedHandler(stream, interval=0.01)
    h.setFormatter(JsonFormatter(redactor))
    yield h
    h.close()


@pytest.fixture
def logger(handler: BufferedHandler) -> Iterator[logging.Logger]:
    lg = logging.getLogger("aigw.tests.unit.logging")
    lg.handlers = [handler]
    lg.propagate = False
    lg.setLevel(logging.DEBUG)
    yield lg
    lg.handlers = []
    lg.propagate = True


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    text = stream.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_records_become_json_lines_with_scrubbed_strings(
    logger: logging.Logger, handler: BufferedHandler, stream: CountingStream
) -> None:
    logger.info("user %s logged in with %s", EMAIL, SECRET)
    logger.warning(
        "upstream slow",
        extra={"provider": "openai", "attempt": 2, "latency": 12.5, "caller": "bob@example.org",
               "ctx": {"auth": "Bearer abc.def", "phones": ["+44 20 7946 0958"], "ok": True}},
    )  # fmt: skip
    assert stream.getvalue() == ""  # queued, not yet written
    handler.flush()
    first, second = lines(stream)
    assert first["msg"] == "user [EMAIL] logged in with [API_KEY]"
    assert (first["level"], first["logger"]) == ("info", "aigw.tests.unit.logging")
    assert TS.match(first["ts"])
    assert second["level"] == "warning"
    assert second["provider"] == "openai"
    assert second["attempt"] == 2 and second["latency"] == 12.5
    assert second["caller"] == "[EMAIL]"
    assert second["ctx"] == {"auth": "[BEARER]", "phones": ["[NUMBER]"], "ok": True}
    raw = stream.getvalue()
    for leak in (EMAIL, SECRET, "bob@example.org", "7946", "abc.def"):
        assert leak not in raw


def test_exception_text_is_scrubbed(logger: logging.Logger, handler: BufferedHandler, stream: io.StringIO) -> None:
    try:
        raise RuntimeError("could not log in as registered-secret-value / carol@example.net")
    except RuntimeError:
        logger.exception("login failed")
    handler.flush()
    (line,) = lines(stream)
    assert line["level"] == "error"
    assert line["exc_type"] == "RuntimeError"
    assert "Traceback" in line["exc"]
    assert "[SECRET]" in line["exc"] and "[EMAIL]" in line["exc"]
    assert "registered-secret-value" not in stream.getvalue()
    assert "carol@example.net" not in stream.getvalue()


def test_private_fields_and_logging_internals_are_not_copied(
    logger: logging.Logger, handler: BufferedHandler, stream: io.StringIO
) -> None:
    logger.info("hello", extra={"_private": "x", "request_id": "r1"})
    handler.flush()
    (line,) = lines(stream)
    assert set(line) == {"ts", "level", "logger", "msg", "request_id"}


def test_flush_writes_everything_queued_in_one_call(
    logger: logging.Logger, handler: BufferedHandler, stream: CountingStream
) -> None:
    for i in range(250):
        logger.info("line %d", i)
    handler.write_line('{"raw":true}')
    handler.flush()
    assert stream.writes == 1
    parsed = lines(stream)
    assert len(parsed) == 251
    assert [p["msg"] for p in parsed[:250]] == [f"line {i}" for i in range(250)]
    assert parsed[-1] == {"raw": True}
    handler.flush()  # nothing queued: nothing written
    assert stream.writes == 1


def test_close_writes_what_is_left(stream: CountingStream, redactor: LogRedactor) -> None:
    h = BufferedHandler(stream, interval=60.0)
    h.setFormatter(JsonFormatter(redactor))
    h.start()
    h.handle(logging.LogRecord("x", logging.INFO, __file__, 1, "bye %s", (EMAIL,), None))
    h.close()
    assert [p["msg"] for p in lines(stream)] == ["bye [EMAIL]"]


def test_writer_thread_writes_without_an_explicit_flush(stream: CountingStream, handler: BufferedHandler) -> None:
    handler.start()
    handler.write_line('{"n":1}')
    deadline = time.monotonic() + 5
    while not stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert lines(stream) == [{"n": 1}]


def test_flush_to_a_closed_stream_does_not_raise() -> None:
    dead = io.StringIO()
    dead.close()
    h = BufferedHandler(dead)
    h.write_line("{}")
    h.flush()
    h.close()


def test_access_log_scrubs_string_fields(handler: BufferedHandler, stream: io.StringIO, redactor: LogRedactor) -> None:
    access = AccessLog(handler, redactor)
    access.write(
        {"request_id": "abc123", "path": f"/v1/chat?user={EMAIL}", "status": 200, "latency_ms": 12.345,
         "provider": None, "stream": False, "model": "gpt-4o-mini", "note": "key registered-secret-value"}
    )  # fmt: skip
    handler.flush()
    (line,) = lines(stream)
    assert TS.match(line["ts"])
    assert (line["level"], line["logger"], line["msg"]) == ("info", ACCESS_LOGGER, "request")
    assert line["path"] == "/v1/chat?user=[EMAIL]"
    assert line["note"] == "key [SECRET]"
    assert line["status"] == 200 and line["latency_ms"] == 12.345
    assert line["provider"] is None and line["stream"] is False
    assert line["model"] == "gpt-4o-mini"
    assert line["request_id"] == "abc123"


def test_disabled_access_log_writes_nothing(handler: BufferedHandler, stream: io.StringIO) -> None:
    AccessLog(handler, LogRedactor(), enabled=False).write({"path": "/v1/models"})
    handler.flush()
    assert stream.getvalue() == ""


@pytest.mark.parametrize(("level", "enabled"), [("DEBUG", True), ("INFO", True), ("WARNING", False), ("ERROR", False)])
def test_log_system_access_log_follows_level(level: str, enabled: bool) -> None:
    system = LogSystem(level, io.StringIO())
    try:
        assert system.access.enabled is enabled
        assert isinstance(system.output.formatter, JsonFormatter)
    finally:
        system.stop()


def test_non_string_extra_values_are_scrubbed(
    logger: logging.Logger, handler: BufferedHandler, stream: io.StringIO
) -> None:
    logger.warning("upstream failed", extra={"error": ValueError(f"no such user {EMAIL}")})
    handler.flush()
    assert EMAIL not in stream.getvalue()


def test_fields_named_ts_are_scrubbed_and_cannot_replace_the_timestamp(
    logger: logging.Logger, handler: BufferedHandler, stream: io.StringIO
) -> None:
    logger.info("nested", extra={"ctx": {"ts": EMAIL}})
    logger.info("top", extra={"ts": "bob@example.org", "level": "debug"})
    handler.flush()
    nested, top = lines(stream)
    assert nested["ctx"] == {"ts": "[EMAIL]"}
    assert TS.match(top["ts"]) and top["level"] == "info"
    raw = stream.getvalue()
    assert EMAIL not in raw and "bob@example.org" not in raw


def test_access_log_scrubs_nested_fields(handler: BufferedHandler, stream: io.StringIO) -> None:
    AccessLog(handler, LogRedactor()).write({"tags": [EMAIL], "client": {"key": SECRET}})
    handler.flush()
    raw = stream.getvalue()
    assert EMAIL not in raw and SECRET not in raw


def test_queue_past_its_bound_drops_lines_and_says_how_many(stream: CountingStream) -> None:
    h = BufferedHandler(stream, max_lines=5)
    for i in range(12):
        h.write_line(f'{{"n":{i}}}')
    h.flush()
    *kept, note = lines(stream)
    assert kept == [{"n": i} for i in range(5)]
    assert note["level"] == "warning" and note["logger"] == "aigw.logging"
    assert note["dropped_lines"] == 7 and note["msg"].startswith("7 log lines dropped")
    assert TS.match(note["ts"])
    h.write_line('{"n":12}')
    h.flush()
    assert lines(stream)[-1] == {"n": 12}  # nothing dropped since: no second note
    assert len(lines(stream)) == 7
    h.close()


def test_records_past_the_bound_are_dropped_too(stream: CountingStream, redactor: LogRedactor) -> None:
    h = BufferedHandler(stream, max_lines=3)
    h.setFormatter(JsonFormatter(redactor))
    for i in range(10):
        h.handle(logging.LogRecord("x", logging.INFO, __file__, 1, "line %d", (i,), None))
    h.flush()
    parsed = lines(stream)
    assert [p["msg"] for p in parsed[:3]] == ["line 0", "line 1", "line 2"]
    assert parsed[3]["dropped_lines"] == 7
    h.close()


def test_access_log_cuts_a_long_path_before_scrubbing_it(handler: BufferedHandler, stream: io.StringIO) -> None:
    access = AccessLog(handler, LogRedactor())
    path = "/v1/" + "a" * 100_000  # unbounded, the e-mail pattern spent 15 s on this
    started = time.thread_time()  # CPU time: a busy machine does not make this test fail
    access.write({"path": path, "model": "m\r\n" * 50_000, "status": 404})
    assert time.thread_time() - started < 0.05
    handler.flush()
    (line,) = lines(stream)
    assert line["path"].startswith("/v1/aaaa") and line["path"].endswith("more chars]")
    assert len(line["path"]) <= MAX_ACCESS_FIELD + 32
    assert len(line["model"]) <= MAX_ACCESS_FIELD + 32
    assert line["status"] == 404


def test_access_log_never_keeps_half_an_email_at_the_cut(handler: BufferedHandler, stream: io.StringIO) -> None:
    access = AccessLog(handler, LogRedactor())
    for start in range(MAX_ACCESS_FIELD - 30, MAX_ACCESS_FIELD + 1):
        access.write({"path": "/v1/x?" + "q" * start + f"&user={EMAIL}&" + "z" * 300})
    handler.flush()
    assert "alice" not in stream.getvalue()


def test_long_log_messages_are_cut(logger: logging.Logger, handler: BufferedHandler, stream: io.StringIO) -> None:
    logger.warning("upstream said: %s", "a" * 200_000, extra={"detail": "b" * 200_000})
    handler.flush()
    (line,) = lines(stream)
    assert len(line["msg"]) < 2 * MAX_LOG_VALUE and len(line["detail"]) < 2 * MAX_LOG_VALUE
    assert line["msg"].endswith("more chars]")
