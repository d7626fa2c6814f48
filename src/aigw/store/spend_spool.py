"""The spend spool: JSON lines on disk for the records the database could not take yet.

- `append` writes a batch and fsyncs it: a record the writer took off memory survives a crash.
  A record that has no JSON form (an integer past 64 bits from a provider's usage) is returned
  instead, for the writer to reject: it must not stop the records after it.
- `claim` renames the spool files to write now (this process's and those of processes that have
  stopped) to a name unique to the claim, so that no two processes write the same file; a claim
  whose write failed is retried next time. A crash after the database commit and before `done`
  replays the file, which the ledger's unique `spend_id` makes harmless.
- `read` sets a torn line (a crash mid-write) aside in `<spool>.corrupt` instead of blocking.
- `reject` keeps the records the database refused for their data (a poisoned row) in
  `spend-rejected.jsonl`, with the error's type, for an operator to look at; it is never replayed.

Every method does blocking file I/O: the writer calls them in a worker thread.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from aigw.store.spend_record import Spend

log = logging.getLogger("aigw.spend")
REJECTED_NAME = "spend-rejected.jsonl"


class SpendSpool:
    def __init__(self, path: Path, glob: str | None = None) -> None:
        self.path = path
        self.glob = glob  # other processes' spool files in the same folder, e.g. "spend-spool-*.jsonl"
        self.rejected_path = path.parent / REJECTED_NAME

    def append(self, batch: Sequence[Spend]) -> list[tuple[Spend, str]]:
        """Write `batch`; returns the records that could not be written, with the error's type."""
        lines: list[bytes] = []
        unwritable: list[tuple[Spend, str]] = []
        for spend in batch:
            try:
                lines.append(spend.to_json() + b"\n")
            except (TypeError, ValueError) as exc:
                unwritable.append((spend, type(exc).__name__))
        if lines:
            _append_synced(self.path, b"".join(lines))
        return unwritable

    def reject(self, refused: Sequence[tuple[Spend, str]]) -> None:
        """Set records aside for good, each with the type of the error that refused it."""
        lines = (orjson.dumps({"error": error, "record": _as_json(spend)}) + b"\n" for spend, error in refused)
        _append_synced(self.rejected_path, b"".join(lines))

    def done(self, claimed: Path) -> None:
        claimed.unlink()

    def read(self, path: Path) -> list[Spend]:
        """The records of a spool file; a torn line is set aside, not a blocker."""
        records: list[Spend] = []
        torn: list[bytes] = []
        for line in path.read_bytes().splitlines():
            if not line.strip():
                continue
            try:
                records.append(Spend.from_json(line))
            except (ValueError, TypeError, KeyError):
                torn.append(line)
        if torn:
            aside = path.with_name(path.name.split(".replaying-")[0] + ".corrupt")
            _append_synced(aside, b"".join(line + b"\n" for line in torn))
            log.warning("torn lines in a spend spool set aside", extra={"lines": len(torn)})
        return records

    def claim(self) -> list[Path]:
        """Spool files to write now: this writer's own and those left by processes that have stopped
        (workers sharing the state folder), each claimed by an atomic rename."""
        folder = self.path.parent
        if not folder.is_dir():
            return []
        mine = f".replaying-{os.getpid()}-"
        candidates = [self.path, *(sorted(folder.glob(self.glob)) if self.glob else [])]
        candidates += sorted(p for p in folder.glob("*.replaying-*") if not _alive(_claimer(p.name)))
        claimed = sorted(folder.glob(f"*{mine}*"), key=_claim_order)  # claims whose insert failed before
        for path in dict.fromkeys(candidates):
            if path != self.path and ".replaying-" not in path.name and _alive(_pid_of(path.stem.rsplit("-", 1)[-1])):
                continue  # a running process's spool: it writes it itself
            # A unique name per claim, so that a claim never replaces an older one still unwritten.
            target = path.with_name(f"{path.name.split('.replaying-')[0]}{mine}{time.time_ns()}")
            try:
                os.rename(path, target)
            except FileNotFoundError:
                continue  # absent, or claimed by another process first
            claimed.append(target)
        return claimed


def _as_json(spend: Spend) -> dict[str, Any]:
    """The record as JSON values; a field without a JSON form is kept as its text."""
    try:
        row: dict[str, Any] = orjson.loads(spend.to_json())
    except (TypeError, ValueError):
        row = {name: str(getattr(spend, name)) for name in spend.__dataclass_fields__}
    return row


def _append_synced(path: Path, data: bytes) -> None:
    """Append `data` in one write and fsync it (and the folder, when the file is new)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    with path.open("ab") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    if new:
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _claimer(name: str) -> int | None:
    """The process that claimed a spool file named `….replaying-<pid>-<ns>`."""
    return _pid_of(name.split(".replaying-", 1)[1].split("-", 1)[0]) if ".replaying-" in name else None


def _claim_order(path: Path) -> int:
    tail = path.name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _pid_of(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _alive(pid: int | None) -> bool:
    """Whether process `pid` runs (ours counts as running). None: no owner, so not alive."""
    if pid is None:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
