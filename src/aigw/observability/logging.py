"""Structured JSON logs, written off the event loop, scrubbed of secrets and personal data.

Lines are formatted where they are logged and written in batches by a background thread, so a
slow stderr never blocks a request.
"""

from __future__ import annotations

import atexit
import collections
import functools
import logging
import sys
import threading
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


MAX_QUEUED_LINES = 10_000  # ~3 MB of typical lines; a second of writer stall at 10,000 requests/s
MAX_ACCESS_FIELD = 256  # characters of one access-log value (a path, a model name)

_HEAD = frozenset({"ts", "level", "logger", "msg"})  # written by the formatter; extras cannot replace them


class JsonFormatter(logging.Formatter):
    """One JSON object per line; every string value passes the redactor."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {"msg": record.getMessage()}
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                fields[f"extra_{key}" if key in _HEAD else key] = value
        if record.exc_info and record.exc_info[0] is not None:
            fields["exc_type"] = record.exc_info[0].__name__
            fields["exc"] = self.formatException(record.exc_info)
        head = {"ts": _timestamp(record.created), "level": record.levelname.lower(), "logger": record.name}
        return orjson.dumps({**head, **scrub(fields, self.redactor)}).decode()


def scrub(value: Any, redactor: Redactor) -> Any:
    """`value` with every string in it redacted; anything not plain JSON becomes its (redacted) text."""
    if isinstance(value, str):
        return redactor(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {str(k): scrub(v, redactor) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub(v, redactor) for v in value]
    return redactor(str(value))


class BufferedHandler(logging.Handler):
    """Formats on the caller's thread (microseconds) and queues the line; a writer thread wakes
    every `interval` seconds and writes everything queued in one call. One wake-up per interval,
    not per record: waking a thread per line costs far more than the line.

    The queue holds at most `max_lines`: when the writer cannot keep up (a stalled stderr, a flood
    of requests), further lines are dropped and counted, and the next write says how many."""

    def __init__(self, stream: IO[str], interval: float = 0.1, max_lines: int = MAX_QUEUED_LINES) -> None:
        super().__init__()
        self.stream = stream
        self.interval = interval
        self.max_lines = max_lines
        self._lines: collections.deque[str] = collections.deque()
        self._dropped = 0
        self._dropped_lock = threading.Lock()  # taken only when dropping, never on the way in
        self._stop = threading.Event()
        self._writer: threading.Thread | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.write_line(self.format(record))
        except Exception:
            self.handleError(record)

    def write_line(self, line: str) -> None:
        if len(self._lines) < self.max_lines:
            self._lines.append(line)
        else:
            with self._dropped_lock:
                self._dropped += 1

    def start(self) -> None:
        if self._writer is None:
            self._stop.clear()
            self._writer = threading.Thread(target=self._run, name="aigw-log-writer", daemon=True)
            self._writer.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()
        self.flush()

    def flush(self) -> None:
        lines = []
        while self._lines:
            lines.append(self._lines.popleft())
        with self._dropped_lock:
            dropped, self._dropped = self._dropped, 0
        if dropped:
            lines.append(_dropped_line(dropped, self.max_lines))
        if lines:
            try:
                self.stream.write("\n".join(lines) + "\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass  # stderr gone (shutdown, closed pipe): nothing left to tell

    def close(self) -> None:
        self._stop.set()
        if self._writer is not None:
            self._writer.join(timeout=5)
            self._writer = None
        self.flush()
        super().close()


def _dropped_line(dropped: int, bound: int) -> str:
    return orjson.dumps(
        {
            "ts": _timestamp(time.time()),
            "level": "warning",
            "logger": "aigw.logging",
            "msg": f"{dropped} log lines dropped: more than {bound} were waiting to be written",
            "dropped_lines": dropped,
        }
    ).decode()


def _timestamp(now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


class AccessLog:
    """The per-request log line, written without the stdlib logging machinery (a LogRecord costs
    more than the whole line): fields are scrubbed, serialized and queued for the writer.
    Every string value (path, model, ids: all chosen by the caller) is cut to `field_limit`
    characters before it is scrubbed, so a 100 KiB path costs what a short one does."""

    def __init__(
        self, handler: BufferedHandler, redactor: LogRedactor, enabled: bool = True, field_limit: int = MAX_ACCESS_FIELD
    ) -> None:
        self._handler = handler
        self._clipped = redactor.clipped
        self._nested = functools.partial(redactor.clipped, limit=field_limit)
        self.field_limit = field_limit
        self.enabled = enabled

    def write(self, fields: dict[str, Any]) -> None:
        if not self.enabled:
            return
        line: dict[str, Any] = {
            "ts": _timestamp(time.time()),
            "level": "info",
            "logger": ACCESS_LOGGER,
            "msg": "request",
        }
        for key, value in fields.items():
            if key in line:
                continue
            if isinstance(value, str):
                line[key] = self._clipped(value, self.field_limit)
            elif value is None or isinstance(value, bool | int | float):
                line[key] = value
            else:
                line[key] = scrub(value, self._nested)
        self._handler.write_line(orjson.dumps(line).decode())


class LogSystem:
    """Owns the writer; `configure_logging` installs it on the root logger."""

    def __init__(self, level: str, stream: IO[str] | None = None, redactor: LogRedactor | None = None) -> None:
        self.redactor = redactor or LogRedactor()
        self.output = BufferedHandler(stream or sys.stderr)
        self.output.setFormatter(JsonFormatter(self.redactor))
        self.level = level
        self.access = AccessLog(self.output, self.redactor, enabled=logging.getLevelName(level) <= logging.INFO)

    def install(self) -> None:
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        root.addHandler(self.output)
        root.setLevel(self.level)
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "aiohttp"):
            lg = logging.getLogger(name)
            lg.handlers.clear()
            lg.propagate = True
        logging.getLogger("uvicorn.access").disabled = True  # our access log replaces it
        self.output.start()
        atexit.register(self.stop)

    def stop(self) -> None:
        """Write what is queued and stop the writer thread (idempotent)."""
        self.output.close()


def configure_logging(
    level: str = "INFO", stream: IO[str] | None = None, secrets: tuple[str | None, ...] = ()
) -> LogSystem:
    system = LogSystem(level, stream, LogRedactor(s for s in secrets if s))
    system.install()
    return system
