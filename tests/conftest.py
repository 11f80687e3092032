"""Shared fixtures: the CLI as a user runs it, and one sample pack built once per test session."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
# Role views cost about 15 s a build: only the builds that look at them make them (boardpack/build.py).
os.environ["BOARDPACK_TEST_NO_VIEWS"] = "1"


def with_views() -> dict:
    """The environment of a build that makes the role views."""
    return {k: v for k, v in os.environ.items() if k != "BOARDPACK_TEST_NO_VIEWS"}


def run_cli(*args: str, timeout: int = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `boardpack ...` in a fresh process, as `make` does."""
    return subprocess.run([sys.executable, "-m", "boardpack.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=env)


def tree_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file of the pack a reader of `folder` sees: a quarter's `latest` version, if it has one."""
    if (folder / "latest").exists():
        folder = (folder / "latest").resolve()
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test: prices come from installed package data."""
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def once(tmp_path_factory, worker_id: str, name: str, make) -> dict:
    """`make(folder)`'s result (JSON), made once for the whole test session: `make test` runs pytest-xdist workers,
    each with its own session fixtures, so the first worker to ask makes it under a lock in the run's shared temp
    folder and the others read it (pytest-xdist's documented recipe for a session fixture made once)."""
    if worker_id == "master":  # not distributed
        return make(tmp_path_factory.mktemp(name))
    root = tmp_path_factory.getbasetemp().parent
    folder, done = root / name, root / f"{name}.json"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            done.write_text(json.dumps(make(folder)))
    return json.loads(done.read_text())


@pytest.fixture(scope="session")
def sample_data(tmp_path_factory, worker_id) -> Path:
    """A copy of the bundled sample that no test changes (a test that corrupts data copies it first), so no test
    can change the real one; one for the session."""
    def make(folder: Path) -> dict:
        shutil.copytree(SAMPLE, folder / "sample")
        return {"path": str(folder / "sample")}

    return Path(once(tmp_path_factory, worker_id, "sample-data", make)["path"])


@pytest.fixture(scope="session")
def sample_pack(tmp_path_factory, worker_id, sample_data) -> tuple[Path, subprocess.CompletedProcess]:
    """The sample pack built once for the session through the CLI: (its quarter folder, the finished process).
    Read it, or copy it to change it: other tests read it at the same time."""
    def make(folder: Path) -> dict:
        proc = run_cli("build", "--data", str(sample_data), "--reports", str(folder / "reports"), env=with_views())
        return {"quarter": str(folder / "reports" / "2026-Q3"), "args": proc.args, "returncode": proc.returncode,
                "stdout": proc.stdout, "stderr": proc.stderr}

    built = once(tmp_path_factory, worker_id, "sample-pack", make)
    proc = subprocess.CompletedProcess(built["args"], built["returncode"], built["stdout"], built["stderr"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return Path(built["quarter"]), proc


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for every Spark test (about 9 s to start, then 0.3 s a test); skipped
    when the [spark] extra is not installed."""
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[1]").appName("boardpack-tests")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "1").config("spark.sql.session.timeZone", "UTC")
               .getOrCreate())
    session.sparkContext.setLogLevel("OFF")
    yield session
    session.stop()
