"""What every vector index (in process, or pgvector) checks the same way: a batch's shape, unit
length, and the score a cosine similarity becomes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


def check_batch(ids: Sequence[str], metadata: Sequence[Mapping[str, Any] | None] | None) -> None:
    if isinstance(ids, str):
        raise TypeError("ids must be a sequence of ids, not one string")
    if metadata is not None and len(metadata) != len(ids):
        raise ValueError(f"{len(metadata)} metadata for {len(ids)} ids")


def unit_rows(vectors: ArrayLike, dimensions: int, rows: int | None) -> NDArray[np.float32]:
    """Unit-length float32 rows, checked: `rows` vectors (a 2-D array), or one (1-D) when rows is None."""
    array = np.asarray(vectors, dtype=np.float32)
    if rows == 0 and array.size == 0:
        return np.zeros((0, dimensions), dtype=np.float32)
    shape = (dimensions,) if rows is None else (rows, dimensions)
    if array.shape != shape:
        raise ValueError(f"expected vectors of shape {shape}, got {array.shape}")
    array = array.reshape(-1, dimensions)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    if not np.all(np.isfinite(norms)) or np.any(norms == 0):
        raise ValueError("vectors must be finite and non-zero")
    return np.asarray(array / norms, dtype=np.float32)


def unit_score(cosine: float) -> float:
    """A cosine similarity as a score in [0, 1]."""
    return min(1.0, max(0.0, (cosine + 1.0) / 2.0))
