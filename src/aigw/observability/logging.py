"""Structured JSON logs, written off the event loop, scrubbed of secrets and personal data.

Records are handed to a queue in the request's thread (cheap) and formatted and written by a
background thread, so a slow stderr never blocks a request.
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import sys
import time
from typing import IO, Any

import orjson

from aigw.observability.redact import LogRedactor, Redactor

ACCESS_LOGGER = "aigw.access"
_RESERVED = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line; every string value passes the redactor."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                line[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            line["exc_type"] = record.exc_info[0].__name__
            line["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(self._scrub(line), default=str).decode()

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redactor(value)
        if isinstance(value, dict):
            return {k: v if k == "ts" else self._scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._scrub(v) for v in value]
        return value


class _Handoff(logging.handlers.QueueHandler):
    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record  # formatting happens on the listener thread


class LogSystem:
    """Owns the queue listener; `configure_logging` installs it on the root logger."""

    def __init__(self, level: str, stream: IO[str] | None = None, redactor: LogRedactor | None = None) -> None:
        self.redactor = redactor or LogRedactor()
        self._queue: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        self.output = logging.StreamHandler(stream or sys.stderr)
        self.output.setFormatter(JsonFormatter(self.redactor))
        self._listener = logging.handlers.QueueListener(self._queue, self.output)
        self._handoff = _Handoff(self._queue)
        self.level = level

    def install(self) -> None:
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        root.addHandler(self._handoff)
        root.setLevel(self.level)
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "aiohttp"):
            lg = logging.getLogger(name)
            lg.handlers.clear()
            lg.propagate = True
        logging.getLogger("uvicorn.access").disabled = True  # our access log replaces it
        self._listener.start()
        atexit.register(self.stop)

    def stop(self) -> None:
        """Flush what is queued and stop the writer thread (idempotent)."""
        if self._listener._thread is not None:
            self._listener.stop()


def configure_logging(
    level: str = "INFO", stream: IO[str] | None = None, secrets: tuple[str | None, ...] = ()
) -> LogSystem:
    system = LogSystem(level, stream, LogRedactor(s for s in secrets if s))
    system.install()
    return system
