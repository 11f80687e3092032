"""Where a pack's numbers come from: inputs and their hashes, contracts, prices, packages, code."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

from . import __version__, prices
from .config import ROOT, Config
from .ingest import Tables
from .sniff import sha256

PACKAGES = ("boardpack", "great-expectations", "pandas", "numpy", "pyarrow", "duckdb", "duckdb-engine", "sqlalchemy",
            "sqlglot", "pyspark", "papermill", "nbconvert", "ipykernel", "weasyprint", "matplotlib", "seaborn",
            "jinja2", "genai-prices", "typer", "rich")


def code_revision(root: Path = ROOT) -> str:
    """The git commit of the code, with `+dirty` when the work tree has uncommitted changes."""
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return f"unknown (boardpack {__version__}, not a git checkout)"


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
        "packages": package_versions(),
        "python": platform.python_version(),
    }
