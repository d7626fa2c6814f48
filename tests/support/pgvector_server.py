"""A throw-away PostgreSQL with pgvector, from the `pgserver` wheel (PostgreSQL 16 with `vector.so` bundled).

The machine's own PostgreSQL has no pgvector (and Debian has no package for it), so tests that need the extension
start the bundled server: `initdb` in a temp dir, `pg_ctl start` listening on 127.0.0.1 and a free port only
(its Unix socket in the temp dir too), trust auth, fsync off. PostgreSQL refuses to run as root, so as root the
binaries run as the `postgres` system user (`runuser`), which owns the temp dir. Stopped and removed afterwards.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.processes import free_port
from tests.support.services import require_service

SYSTEM_USER = os.environ.get("AIGW_TEST_PGSERVER_USER", "postgres")


def pginstall() -> Path:
    """The bundled PostgreSQL installation; `require_service` when the `pgserver` package is not installed."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        require_service("PostgreSQL with pgvector", "the pgserver package is not installed: pip install pgserver")
    return Path(spec.origin).parent / "pginstall"


@contextmanager
def pgvector_server() -> Iterator[str]:
    """A running PostgreSQL 16 with the pgvector extension available; yields `postgresql://postgres@127.0.0.1:<port>/postgres`."""
    bindir = pginstall() / "bin"
    as_user: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            pytest.fail(f"running as root: PostgreSQL must run as another user, and {SYSTEM_USER!r} does not exist")
        as_user = ["runuser", "-u", SYSTEM_USER, "--"]
    root = Path(tempfile.mkdtemp(prefix="aigw-pgvector-"))
    data = root / "data"
    log = root / "server.log"
    if owner is not None:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    root.chmod(0o700)

    def run(*args: str, timeout: float = 60) -> None:
        done = subprocess.run([*as_user, *args], capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            server_log = log.read_text(errors="replace")[-4000:] if log.exists() else ""
            raise RuntimeError(
                f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n{server_log}"
            )

    started = False
    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        for attempt in range(3):  # the free port may be taken between choosing and binding it
            port = free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            try:
                run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "30", "-o", options, "start")
            except RuntimeError:
                if attempt == 2:
                    raise
                continue
            started = True
            break
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        try:
            if started:
                run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "-t", "15", "stop")
        except (RuntimeError, subprocess.TimeoutExpired):
            pid_file = data / "postmaster.pid"  # the postmaster's own id: kill it, nothing else
            if pid_file.exists():
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
        finally:
            shutil.rmtree(root, ignore_errors=True)
