"""`make eval` leaves the working tree clean (its report goes to a git-ignored folder unless asked
`--write-docs`), and the package metadata uses the SPDX license string setuptools wants (the TOML
table form warns on every install)."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def evaluate_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("evaluate_script", ROOT / "scripts" / "evaluate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_default_report_path_is_git_ignored() -> None:
    evaluate = evaluate_script()
    relative = Path(evaluate.OUTPUT).relative_to(ROOT)
    ignored = subprocess.run(["git", "check-ignore", "-q", str(relative)], cwd=ROOT, check=False)
    assert ignored.returncode == 0, f"{relative} would show up in git status after make eval"
    assert Path(evaluate.PUBLISHED).relative_to(ROOT) == Path("docs/evaluation.md")


def test_eval_writes_the_default_path_and_docs_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    evaluate = evaluate_script()
    default, published = tmp_path / "bench-results" / "evaluation.md", tmp_path / "docs" / "evaluation.md"
    monkeypatch.setattr(evaluate, "OUTPUT", default)
    monkeypatch.setattr(evaluate, "PUBLISHED", published)
    catalog, queries = tmp_path / "items.jsonl", tmp_path / "queries.jsonl"
    items = [("s1", "grey fabric sofa"), ("s2", "oak dining table"), ("s3", "red kettle")]
    catalog.write_text("".join(json.dumps({"id": i, "text": t, "metadata": {}}) + "\n" for i, t in items))
    queries.write_text(json.dumps({"query": "sofa", "kind": "synonym", "relevant": ["s1"]}) + "\n")
    args = ["--catalog", str(catalog), "--queries", str(queries), "--no-local"]
    assert evaluate.main(args) == 0
    assert default.exists() and not published.exists()
    assert evaluate.main([*args, "--write-docs"]) == 0
    assert published.exists()


def test_license_is_an_spdx_expression_and_the_backend_understands_it() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "Apache-2.0"
    assert not any(c.startswith("License ::") for c in project["project"].get("classifiers", []))
    (setuptools,) = [r for r in project["build-system"]["requires"] if r.startswith("setuptools")]
    minimum = re.search(r">=\s*(\d+)", setuptools)
    assert minimum is not None and int(minimum.group(1)) >= 77, "PEP 639 license strings need setuptools 77"
