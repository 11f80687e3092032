"""The package stands on its own: a wheel installed outside the repository makes a project and renders the sample
pack there; a project's own files win over the package's defaults (README, "A project of your own")."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from boardpack import project, provenance
from boardpack.config import load_config
from boardpack.exceptions import ConfigError

from .conftest import ROOT, run_cli

# What a wheel is built from: the package, its metadata, and the top-level folders of defaults setup.py copies in.
DEFAULTS = ("config", "notebooks", "data_contracts", "templates", ".env.example")
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE", "boardpack", *DEFAULTS)
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "build", "*.egg-info")
MARK = "Prepared by the wheel test's own cover template"


def _files(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under `folder` but bytecode, by relative name."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def _build_wheel(tmp: Path) -> Path:
    """A wheel of the working tree, built offline from a copy (the build writes build/ beside its sources)."""
    assert importlib.util.find_spec("setuptools.command.bdist_wheel") or importlib.util.find_spec("wheel"), (
        "building a wheel offline needs the [test] extra's setuptools (bdist_wheel): make venv, or "
        "pip install -r requirements.lock")
    source = tmp / "src"
    source.mkdir()
    for name in SOURCES:
        (shutil.copytree(ROOT / name, source / name, ignore=SKIP) if (ROOT / name).is_dir()
         else shutil.copy2(ROOT / name, source / name))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "--wheel-dir", str(tmp / "dist"), str(source)],
                          capture_output=True, text=True, timeout=300, cwd=tmp)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return next((tmp / "dist").glob("boardpack-*.whl"))


def _venv(tmp: Path, wheel: Path) -> Path:
    """A fresh venv with the wheel installed; its dependencies are this environment's (a .pth file), so the
    test needs no network, and its own boardpack is the wheel's, not this checkout's."""
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    # a plain path line: the checkout's editable-install finder, a .pth of that folder, is not run
    Path(site, "deps-of-the-test-environment.pth").write_text("\n".join(ours) + "\n")
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                           "--no-index", str(wheel)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return venv


def test_installed_wheel_inits_a_project_and_renders_the_sample_pack(tmp_path):
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    # every default file is in the wheel, once, under boardpack/_defaults/
    for name in DEFAULTS:
        top = ROOT / name
        files = _files(top) if top.is_dir() else {"": None}
        for relative in files:
            if ".ipynb_checkpoints" not in relative:
                assert f"boardpack/_defaults/{name}{'/' + relative if relative else ''}" in names, (name, relative)
    assert {"boardpack/skeleton/Makefile", "boardpack/sql/spend_daily.sql", "boardpack/data/model_tiers.csv"} <= names

    venv = _venv(tmp_path, wheel)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", project.ENV)}
    env |= {"PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", "BOARDPACK_TEST_NO_VIEWS": "1",
            # nbconvert's templates are data files of this environment's share/jupyter, as the packages are
            "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter")}
    elsewhere = tmp_path / "work"
    elsewhere.mkdir()
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import boardpack; print(boardpack.__file__)"],
                           capture_output=True, text=True, check=True, cwd=elsewhere, env=env).stdout.strip()
    assert Path(where).is_relative_to(venv), where
    installed = Path(where).parent
    before = _files(installed)

    boardpack = str(venv / "bin" / "boardpack")
    proc = subprocess.run([boardpack, "init", "acme", "--company", "Acme Holdings"], capture_output=True, text=True,
                          cwd=elsewhere, env=env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    acme = elsewhere / "acme"
    for name in ("config/boardpack.toml", "config/recipients.toml", "notebooks/03-board-pack.ipynb",
                 "data_contracts/spend.json", "templates/pages/cover.html.j2", "Makefile", ".env.example",
                 ".gitignore", "data/README.md"):
        assert (acme / name).is_file(), name
    # the project's own cover template and contracts win; its notebooks, taken away, come from the package
    cover = acme / "templates" / "pages" / "cover.html.j2"
    cover.write_text(cover.read_text() + f"\n<p>{MARK}</p>\n")
    contract = acme / "data_contracts" / "spend.json"
    suite = json.loads(contract.read_text())
    suite["meta"]["description"] += " (Acme's copy)"  # the same checks in other bytes than the package's
    contract.write_text(json.dumps(suite, indent=2))
    shutil.rmtree(acme / "notebooks")

    proc = subprocess.run(["make", "quarterly-report", f"BOARDPACK={boardpack}"], capture_output=True, text=True,
                          cwd=acme, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pdf = acme / "reports" / "2026-Q3" / "board-pack.pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Acme Holdings" in text and "Northwind Group" not in text  # the project's configuration's name
    assert "2.95×" in text  # the sample's value multiple (2.9529..., tests/test_sample_pinned.py)
    assert MARK in " ".join(text.split())
    assert (acme / "data" / "sample" / "spend.csv").is_file()  # the sample was written into the project

    manifest = json.loads((acme / "reports" / "2026-Q3" / "latest" / "manifest.json").read_text())
    assert manifest["code_revision"].startswith("boardpack 0.1.0, package files SHA-256 ")
    origins = {name: entry["from"] for name, entry in manifest["project"].items() if name != "folder"}
    assert origins == {"config/boardpack.toml": "project", "templates": "project", "data_contracts": "project",
                       "notebooks": "package"}
    assert Path(manifest["project"]["notebooks"]["path"]).is_relative_to(installed)
    assert manifest["contracts"]["spend"]["sha256"] == hashlib.sha256(contract.read_bytes()).hexdigest()
    # verified from outside the project: against the contracts of the project it was built in, not the package's
    proc = subprocess.run([boardpack, "verify", str(acme / "reports" / "2026-Q3"), "--no-rebuild"],
                          capture_output=True, text=True, cwd=elsewhere, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _files(installed) == before  # nothing was written into the installed package


def test_init_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    proc = run_cli("init", str(tmp_path))
    assert proc.returncode == 2
    assert f"{tmp_path}: the folder is not empty" in proc.stderr and "--force" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    proc = run_cli("init", str(tmp_path), "--force")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine" and (tmp_path / "Makefile").is_file()


def test_init_copies_the_defaults_and_names_the_company(tmp_path):
    written = project.create(tmp_path / "new", company='Zeta "Z" Oy')
    new = tmp_path / "new"
    assert load_config(new / "config" / "boardpack.toml").company == 'Zeta "Z" Oy'
    for name in ("notebooks", "data_contracts", "templates"):
        assert _files(new / name) == _files(ROOT / name), name  # the package's defaults, as they are
    assert (new / ".env.example").read_bytes() == (ROOT / ".env.example").read_bytes()
    assert not (new / ".env").exists()  # secrets are never a default
    assert new / "Makefile" in written and (new / "data").is_dir()


def test_the_project_folder_is_found_and_its_files_win(tmp_path, monkeypatch):
    monkeypatch.delenv(project.ENV, raising=False)
    own = tmp_path / "proj"
    (own / "config").mkdir(parents=True)
    (own / "config" / "boardpack.toml").write_text('[company]\nname = "Own Co"\n')
    (own / "notebooks").mkdir()
    monkeypatch.chdir(own / "notebooks")  # as a notebook's kernel in JupyterLab: the project is found above
    assert project.folder() == own
    assert project.config_file() == own / "config" / "boardpack.toml"
    assert load_config().company == "Own Co"
    assert project.notebooks_dir() == own / "notebooks"
    # what the project does not have comes from the package (in a checkout: its top-level folders)
    assert project.contracts_dir() == project.defaults() / "data_contracts"
    assert project.templates_dir() == project.defaults() / "templates"
    # who is mailed, and how, is never a default: the package's example people are not the project's
    assert project.recipients_file() == own / "config" / "recipients.toml"
    assert project.env_file() == own / ".env" and project.reports_dir() == own / "reports"
    monkeypatch.setenv(project.ENV, str(tmp_path))  # --project / BOARDPACK_PROJECT wins over the working directory
    assert project.folder() == tmp_path and project.config_file() == project.defaults() / "config" / "boardpack.toml"


def test_an_installed_package_names_its_code_by_version_and_hash(monkeypatch, tmp_path):
    monkeypatch.setattr(project, "checkout", lambda: None)
    revision = provenance.code_revision()
    prefix = "boardpack 0.1.0, package files SHA-256 "
    assert revision.startswith(prefix) and len(revision) == len(prefix) + 64
    assert revision.endswith(project.package_sha256())
    # a change to any file of the package changes the hash
    copy = tmp_path / "pkg"
    shutil.copytree(Path(project.__file__).parent, copy, ignore=SKIP)
    first = project.tree_sha256(copy)
    (copy / "sql" / "spend_daily.sql").write_text((copy / "sql" / "spend_daily.sql").read_text() + "\n")
    assert project.tree_sha256(copy) != first


def test_a_package_without_its_defaults_says_how_to_fix_it(monkeypatch):
    monkeypatch.setattr(project, "checkout", lambda: None)
    monkeypatch.setattr(project, "BUNDLED", "_no_such_folder")
    with pytest.raises(ConfigError, match="default files .* are missing.*Reinstall"):
        project.defaults()


def test_the_project_option_decides_where_outputs_go(tmp_path):
    proc = run_cli("--project", str(tmp_path / "missing"), "sample")
    assert proc.returncode == 2 and "--project" in proc.stderr and "no such folder" in proc.stderr
    proc = run_cli("--project", str(tmp_path), "sample")  # run from the checkout: the output is the project's
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "data" / "sample" / "spend.csv").is_file()
