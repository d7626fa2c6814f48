"""What importing an entry point costs: seconds, RSS and which heavy packages it pulls in.

Usage: .venv/bin/python scripts/perf/imports.py [module ...]   (default: aigw.api.app)
Each module is imported in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = [
    "numpy",
    "rapidfuzz",
    "jsonschema",
    "re2",
    "argon2",
    "authlib",
    "alembic",
    "botocore",
    "spacy",
    "yaml",
    "jinja2",
    "sqlalchemy",
    "sqlalchemy.orm",
    "redis",
    "prometheus_client",
    "phonenumbers",
    "tiktoken",
    "aiohttp",
    "fastapi",
    "pydantic",
    "uvicorn",
]
PROBE = """
import sys, time, json, importlib
t = time.perf_counter()
importlib.import_module(sys.argv[1])
seconds = time.perf_counter() - t
rss = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS'))
heavy = [m for m in sys.argv[2:] if m in sys.modules]
aigw = sum(1 for m in sys.modules if m.startswith('aigw'))
print(json.dumps({'module': sys.argv[1], 'seconds': round(seconds, 2), 'rss_mib': round(rss / 1024, 1),
                  'modules': len(sys.modules), 'aigw_modules': aigw, 'heavy': heavy}))
"""


def main() -> int:
    for module in sys.argv[1:] or ["aigw.api.app"]:
        out = subprocess.run([sys.executable, "-c", PROBE, module, *HEAVY], capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise SystemExit(f"importing {module} failed: {out.stderr.strip()[-400:]}")
        print(json.dumps(json.loads(out.stdout)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
