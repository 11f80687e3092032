"""The environment is described once: pyproject, environment.yml and the lock file agree."""

from __future__ import annotations

import subprocess
import tomllib

import yaml

from .conftest import ROOT


def _pins(lines) -> dict[str, str]:
    out = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            out[name.strip().lower().replace("_", "-")] = version.strip()
    return out


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = _pins(project["dependencies"] + project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert _pins(pip) == declared
    assert any(str(d).startswith("python=3.1") for d in env["dependencies"])


def test_lock_pins_every_declared_dependency_at_the_same_version():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = _pins(project["dependencies"] + project["optional-dependencies"]["test"])
    locked = _pins((ROOT / "requirements.lock").read_text().splitlines())
    for name, version in declared.items():
        assert locked.get(name) == version, name
    # every line of the lock is an exact pin: reproducible packs
    body = [line for line in (ROOT / "requirements.lock").read_text().splitlines() if line and not line.startswith("#")]
    assert all("==" in line for line in body)


def test_make_help_is_the_default_goal():
    out = subprocess.run(["make", "-s"], cwd=ROOT, capture_output=True, text=True).stdout
    for target in ("quarterly-report", "test", "lab", "help"):
        assert target in out


def test_spark_lock_pins_the_spark_extra_and_nothing_of_the_main_lock():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    spark = _pins(project["optional-dependencies"]["spark"])
    locked = _pins((ROOT / "requirements-spark.lock").read_text().splitlines())
    main = _pins((ROOT / "requirements.lock").read_text().splitlines())
    assert spark and all(locked.get(name) == version for name, version in spark.items())
    assert not set(locked) & set(main)
