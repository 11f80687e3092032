"""Where a pack's numbers come from: inputs and their hashes, contracts, prices, packages, code."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

from . import __version__, prices, project
from .config import Config
from .ingest import Tables
from .sniff import sha256

PACKAGES = ("boardpack", "great-expectations", "pandas", "numpy", "pyarrow", "duckdb", "duckdb-engine", "sqlalchemy",
            "sqlglot", "pyspark", "papermill", "nbconvert", "ipykernel", "weasyprint", "matplotlib", "seaborn",
            "jinja2", "genai-prices", "typer", "rich")


def code_revision(root: Path | None = None) -> str:
    """Which code made the pack. From a git checkout: its commit, with `+dirty` when the work tree has uncommitted
    changes. Otherwise (an installed wheel has no git): the package's version and the SHA-256 of its files, which
    name the code as exactly (README, "A project of your own")."""
    root = root or project.checkout()

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()

    try:
        # a copy of the code inside someone else's repository is not that repository's revision
        if root is not None and Path(git("rev-parse", "--show-toplevel")).resolve() == Path(root).resolve():
            return git("rev-parse", "HEAD") + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.CalledProcessError):
        pass
    return f"boardpack {__version__}, package files SHA-256 {project.package_sha256()}"


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _inputs(tables: Tables) -> list[dict]:
    """Every input file with its hash: the table files, or every file of a raw folder."""
    if tables.files:
        return [{"table": p.parent.name, "file": p.name, "path": str(p.resolve()), "sha256": sha256(p),
                 "bytes": p.stat().st_size, "rows": None} for p in tables.files]
    return [{"table": name, "file": path.name, "path": str(path.resolve()), "sha256": sha256(path),
             "bytes": path.stat().st_size, "rows": int(tables.input_rows.get(name, len(tables[name])))}
            for name, path in tables.sources.items() if path.exists()]  # an optional table left out has none


def collect(tables: Tables, contracts: dict, cfg: Config, parameters: dict) -> dict:
    """Everything the manifest and the appendix say about a run's inputs and code."""
    config_path = Path(cfg.path) if cfg.path else None
    return {
        "parameters": parameters,
        "inputs": _inputs(tables),
        "contracts": {name: {"version": c.version, "file": c.path.name, "sha256": sha256(c.path)}
                      for name, c in contracts.items()},
        "price_catalog": prices.catalog_version(),
        # which charges counted as AI spend: the catalog applies to raw folders (a spend table is AI spend)
        "ai_catalog": (tables.report or {}).get("ai_catalog") or "not used: the spend table is AI spend as given",
        "config": {"path": str(config_path) if config_path else None,
                   "sha256": sha256(config_path) if config_path and config_path.exists() else None,
                   **{k: v for k, v in cfg.as_dict().items() if k != "path"}},
        "code_revision": code_revision(),
        "project": project.describe(),  # where config, notebooks, contracts and templates came from
        "packages": package_versions(),
        "python": platform.python_version(),
    }
