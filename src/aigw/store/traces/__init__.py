"""Persisted traces and the dashboard's rollups.

- `writer.TraceWriter`: takes finished traces on the request path (one append), and in the
  background counts them into per-minute rollups, samples them and writes them in batches;
- `queries`: trace search with keyset paging, and every trace of a request id;
- `dashboard.summary`: time series per provider and model from every replica's rollups;
- `retention.RetentionJob`: deletes expired rows in small batches;
- `settings.TraceSettings`: `AI_TRACE_*`.
"""

from aigw.store.traces.dashboard import InvalidWindow, summary
from aigw.store.traces.queries import InvalidCursor, TracePage, TraceQuery, audit_reveal, get, search
from aigw.store.traces.retention import RetentionJob, delete_expired
from aigw.store.traces.settings import TraceSettings
from aigw.store.traces.writer import TraceWriter

__all__ = [
    "InvalidCursor",
    "InvalidWindow",
    "RetentionJob",
    "TracePage",
    "TraceQuery",
    "TraceSettings",
    "TraceWriter",
    "audit_reveal",
    "delete_expired",
    "get",
    "search",
    "summary",
]
