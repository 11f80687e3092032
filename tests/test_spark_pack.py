"""The whole pack on Spark: `boardpack build --engine spark` and the README's spark-submit recipe, each a build
in a process of its own (with its own Spark), so they sit apart from tests/test_engine.py, whose tests share the
session's Spark: `make test` gives each module to one worker, and these two builds run beside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def _numbers(obj, path=""):
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _numbers(value, f"{path}.{key}")
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _numbers(value, f"{path}[{i}]")
    else:
        yield path, obj


@pytest.mark.spark
def test_spark_pack_has_the_duckdb_numbers_to_the_cent(sample_pack, sample_data, tmp_path):
    """`boardpack build --engine spark` on the sample: the same metrics.json as the DuckDB pack."""
    pytest.importorskip("pyspark")
    from .conftest import run_cli

    duck_dir, _ = sample_pack
    proc = run_cli("build", "--engine", "spark", "--data", str(sample_data), "--reports", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "on spark" in proc.stdout
    spark_dir = tmp_path / "2026-Q3"
    duck, spark = (json.loads((d / "metrics.json").read_text()) for d in (duck_dir, spark_dir))
    a, b = dict(_numbers(duck)), dict(_numbers(spark))
    assert a.keys() == b.keys() and len(a) > 100
    for key, x in a.items():
        y = b[key]
        if isinstance(x, float) or isinstance(y, float):
            assert round(x, 2) == round(y, 2) and x == pytest.approx(y, rel=1e-9, abs=1e-9), key
        else:
            assert x == y, key
    manifest = json.loads((spark_dir / "manifest.json").read_text())
    assert manifest["parameters"]["engine"] == "spark" and manifest["resolved"]["engine"] == "spark"
    validation = json.loads((spark_dir / "validation.json").read_text())
    assert validation["engine"]["name"] == "spark" and validation["status"] == "FINAL"
    assert validation["engine"]["pyspark_imported"] is True  # and a DuckDB build never loads it (test_end_to_end)
    # the spend table was checked on Spark: its checks carry counts, not CSV line numbers
    assert {c["row_label"] for c in validation["checks"] if c["table"] == "spend"} == {"row"}


@pytest.mark.spark
def test_spark_submit_builds_the_pack_on_the_submitted_master(sample_data, tmp_path):
    """The README's spark-submit recipe: the kernel's session gets spark-submit's master and settings."""
    pytest.importorskip("pyspark")
    import os
    import subprocess
    import sys

    from .conftest import ROOT

    venv = Path(sys.executable).parent
    # as the README says: the driver's Python is the one boardpack is installed in
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PATH": f"{venv}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run([str(venv / "spark-submit"), "--master", "local[1]", "--conf", "spark.sql.shuffle.partitions=3",
                           "--conf", "spark.ui.enabled=false", str(ROOT / "boardpack" / "spark_submit.py"),
                           "--data", str(sample_data), "--reports", str(tmp_path)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    engine = json.loads((tmp_path / "2026-Q3" / "validation.json").read_text())["engine"]
    assert engine["name"] == "spark" and engine["master"] == "local[1]"
    assert engine["conf"]["spark.sql.shuffle.partitions"] == "3"
