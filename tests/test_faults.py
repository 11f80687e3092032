"""Faults: a build killed with SIGKILL at any stage leaves the published pack byte-for-byte as it was (or, once
`latest` is swapped, exactly the new one); the next build works and cleans what the dead one left.

The kill comes from BOARDPACK_TEST_KILL_AT=<stage> (see boardpack/build.py). Stages before publishing are
killed in a real CLI build; the publish stages in a process that runs a build's last step alone (`publish_killed`:
a finished staging folder, published), which needs no rebuild to reach them; a killed run is followed by a run killed at `start`, just after its cleanup, which
is the cheapest proof that the next build removes the leftovers. One full rebuild shows the next build works.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from boardpack import publish as pub

from .conftest import ROOT, run_cli, tree_hashes

QUARTER = "2026-Q3"
KILLED = -signal.SIGKILL


def env(kill_at: str | None = None) -> dict:
    clean = {k: v for k, v in os.environ.items() if k != pub.KILL_AT}
    return clean | ({pub.KILL_AT: kill_at} if kill_at else {})


def build(reports: Path, data: Path, kill_at: str | None = None) -> subprocess.CompletedProcess:
    return run_cli("build", "--quarter", QUARTER, "--data", str(data), "--reports", str(reports), env=env(kill_at))


@pytest.fixture(scope="module")
def baseline(sample_pack, tmp_path_factory) -> Path:
    """A copy of the session's sample reports folder (links kept as links) that no test changes."""
    reports = tmp_path_factory.mktemp("baseline") / "reports"
    shutil.copytree(sample_pack[0].parent, reports, symlinks=True)
    return reports


@pytest.fixture
def reports(baseline, tmp_path) -> Path:
    target = tmp_path / "reports"
    shutil.copytree(baseline, target, symlinks=True)
    return target


def seen(quarter: Path) -> tuple:
    """What a reader gets: where `latest` points, the pack's files, and board-pack.pdf through its stable name."""
    return os.readlink(quarter / "latest"), tree_hashes(quarter), (quarter / "board-pack.pdf").read_bytes()


def complete(version: Path) -> bool:
    """Every output the version's manifest lists is there with its recorded SHA-256."""
    manifest = json.loads((version / "manifest.json").read_text())
    return manifest["version"] == version.name and all(
        hashlib.sha256((version / name).read_bytes()).hexdigest() == entry["sha256"]
        for name, entry in manifest["outputs"].items())


def leftovers(reports: Path) -> list[Path]:
    return [*reports.glob(".staging-*"), *reports.glob(".replaced-*"), *reports.glob("*/.tmp-*")]


# A build's last step on its own: a staging folder made as a build makes it (owned by the process), holding a
# finished pack (a copy of the current one), published by `boardpack.publish.publish` as `build` calls it.
STAGED_PUBLISH = """
import shutil, sys
from pathlib import Path
from boardpack import publish
reports, quarter = Path(sys.argv[1]), Path(sys.argv[2])
staging = publish.new_staging(reports)
shutil.copytree((quarter / "latest").resolve(), staging, dirs_exist_ok=True)
publish.publish(staging, quarter)
"""


def publish_killed(reports: Path, kill_at: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", STAGED_PUBLISH, str(reports), str(reports / QUARTER)],
                          capture_output=True, text=True, cwd=ROOT, env=env(kill_at), timeout=120)


@pytest.mark.parametrize("stage", ["validate", "metrics", "board-pack", "render", "publish:before-move",
                                   "publish:swapped"])
def test_a_build_killed_at_a_stage_leaves_a_whole_pack_and_the_next_run_cleans_up(stage, reports, sample_data):
    quarter = reports / QUARTER
    before = seen(quarter)
    proc = publish_killed(reports, stage) if stage.startswith("publish:") else build(reports, sample_data, stage)
    assert proc.returncode == KILLED, proc.stdout + proc.stderr
    if stage == "publish:swapped":  # the new pack, whole: every reader after the swap gets all of it
        assert os.readlink(quarter / "latest") == "v2" and complete(quarter / "v2")
        assert (quarter / "board-pack.pdf").read_bytes() == (quarter / "v2" / "board-pack.pdf").read_bytes()
        assert tree_hashes(quarter / "v1") == before[1]
    else:
        assert seen(quarter) == before
        assert leftovers(reports), "the kill should have left a staging folder to clean"
    left = leftovers(reports)
    after = seen(quarter)
    nxt = build(reports, sample_data, kill_at="start")  # stops right after its own cleanup and lock
    assert nxt.returncode == KILLED, nxt.stdout + nxt.stderr
    assert not [p for p in left if p.exists()]
    assert seen(quarter) == after


def test_after_a_kill_between_move_and_swap_the_next_build_publishes_and_a_concurrent_one_is_refused(
        reports, sample_data):
    quarter = reports / QUARTER
    v1 = tree_hashes(quarter / "v1")
    before = seen(quarter)
    proc = publish_killed(reports, "publish:moved")
    assert proc.returncode == KILLED, proc.stdout + proc.stderr
    assert seen(quarter) == before and complete(quarter / "v2")  # moved in, never made current

    first = subprocess.Popen([sys.executable, "-m", "boardpack.cli", "build", "--quarter", QUARTER, "--data",
                              str(sample_data), "--reports", str(reports)], cwd=ROOT, env=env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while f'"pid": {first.pid}' not in _read(quarter / ".build.lock"):
            assert time.monotonic() < deadline and first.poll() is None, "the first build never took its lock"
            time.sleep(0.05)
        second = build(reports, sample_data)
        out, err = first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            first.kill()
    assert second.returncode == 75, second.stdout + second.stderr
    for fragment in (f"pid {first.pid}", socket.gethostname(), f"build --quarter {QUARTER}", "How to fix"):
        assert fragment in second.stderr, second.stderr
    assert "Traceback" not in second.stderr
    assert first.returncode == 0, out + err
    assert out.strip().splitlines()[-1].startswith(f"Board pack: {quarter / 'board-pack.pdf'}")
    assert "(v3" in out.strip().splitlines()[-1]
    assert os.readlink(quarter / "latest") == "v3" and complete(quarter / "v3")
    assert tree_hashes(quarter / "v1") == v1 and complete(quarter / "v2")
    assert leftovers(reports) == [] and not (quarter / ".build.lock").exists()


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def test_a_data_folder_that_is_a_symlink_loop_is_refused_and_leaves_no_staging(reports, tmp_path):
    loop = tmp_path / "data"
    os.symlink(tmp_path / "other", loop)
    os.symlink(loop, tmp_path / "other")
    before = seen(reports / QUARTER)
    proc = build(reports, loop)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert str(loop) in proc.stderr and "How to fix" in proc.stderr and "Traceback" not in proc.stderr
    assert leftovers(reports) == [] and seen(reports / QUARTER) == before


# ------------------------------------------------------------------ the old layout, migrated under kills

def old_layout(reports: Path) -> tuple[Path, dict]:
    """The sample pack as the code before versions published it, with a send log; and its files' hashes."""
    quarter = reports / QUARTER
    pack = (quarter / "latest").resolve()
    old = reports / "old"
    shutil.copytree(pack, old)
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest["version"]
    (old / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (old / "send-log.jsonl").write_text('{"recipient": "chair@example.com"}\n')
    staging = reports / ".staging-next"
    shutil.copytree(pack, staging)
    shutil.rmtree(quarter)
    os.rename(old, quarter)
    return staging, {k: v for k, v in tree_hashes(quarter).items() if k != "send-log.jsonl"}


def publish_process(staging: Path, quarter: Path, kill_at: str | None = None) -> subprocess.CompletedProcess:
    code = "import sys; from pathlib import Path; from boardpack.build import publish; " \
           "publish(Path(sys.argv[1]), Path(sys.argv[2]))"
    return subprocess.run([sys.executable, "-c", code, str(staging), str(quarter)], capture_output=True,
                          text=True, cwd=ROOT, env=env(kill_at), timeout=120)


def without_manifest(hashes: dict) -> dict:
    return {k: v for k, v in hashes.items() if k != "manifest.json"}


@pytest.mark.parametrize("stage", ["migrate:v1", "migrate:gap"])
def test_a_migration_killed_loses_nothing_and_the_next_publish_finishes_it(stage, reports):
    staging, old = old_layout(reports)
    quarter = reports / QUARTER
    pdf = (quarter / "board-pack.pdf").read_bytes()
    proc = publish_process(staging, quarter, kill_at=stage)
    assert proc.returncode == KILLED, proc.stdout + proc.stderr
    assert (quarter / "board-pack.pdf").read_bytes() == pdf  # never without a readable pack
    assert without_manifest(tree_hashes(quarter / "v1")) == without_manifest(old)
    if stage == "migrate:gap":  # the documented instant: one folder of the old layout is between two renames
        assert [p.name for p in quarter.iterdir() if p.name.startswith(".tmp-old-")]
    proc = publish_process(staging, quarter)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert without_manifest(tree_hashes(quarter / "v1")) == without_manifest(old)
    assert os.readlink(quarter / "latest") == "v2" and complete(quarter / "v2") and complete(quarter / "v1")
    for name in (quarter / "v2").iterdir():
        assert (quarter / name.name).resolve() == name
    assert (quarter / ".send" / "send-log.jsonl").read_text() == '{"recipient": "chair@example.com"}\n'
    assert leftovers(reports) == []


def test_make_clean_removes_leftovers_and_keeps_packs(reports, tmp_path):
    quarter = reports / QUARTER
    (reports / ".staging-dead" / "notebooks").mkdir(parents=True)
    (reports / f".replaced-{QUARTER}-4242" / "notebooks").mkdir(parents=True)
    os.symlink("v1", quarter / ".tmp-latest-4242-ab")
    (quarter / ".tmp-old-notebooks-4242-cd").mkdir()
    only = reports / ".replaced-2025-Q4-4242"  # killed between the two renames: the quarter's only pack
    only.mkdir()
    (only / "board-pack.pdf").write_text("the only 2025-Q4 pack")
    before = seen(quarter)
    work = tmp_path / "work"
    (work / ".pytest_cache").mkdir(parents=True)
    dry = subprocess.run(["make", "-n", "-C", str(work), "-f", str(ROOT / "Makefile"), "clean",
                          "VENV=/nonexistent", f"REPORTS={reports}"], capture_output=True, text=True)
    assert dry.returncode == 0 and ".venv" not in dry.stdout and "/nonexistent" in dry.stdout, dry.stdout
    proc = subprocess.run(["make", "-C", str(work), "-f", str(ROOT / "Makefile"), "clean", "VENV=/nonexistent",
                           f"REPORTS={reports}"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert leftovers(reports) == [] and seen(quarter) == before and not (work / ".pytest_cache").exists()
    assert (reports / "2025-Q4" / "board-pack.pdf").read_text() == "the only 2025-Q4 pack"
    assert (ROOT / ".venv" / "bin" / "python").exists()
