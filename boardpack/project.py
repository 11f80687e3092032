"""Where the project is, and where each of its files comes from: the project's own copy, else the package's.

A project is the analyst's folder (`boardpack init DIR` makes one): config/boardpack.toml, config/recipients.toml,
notebooks/, data_contracts/, templates/, .env, and what the builds write, data/sample/ and reports/. Each of
config/boardpack.toml, notebooks/, data_contracts/ and templates/ is the project's own when the project has it,
else the default the package ships; the project's own wins so that an analyst edits a copy, never the installed
package (README, "A project of your own"). The recipients and .env are only ever the project's. Outputs go into
the project folder only.

The project folder is --project or BOARDPACK_PROJECT when given, else the nearest folder from the working
directory up that holds config/boardpack.toml (so a notebook run in notebooks/ finds its project), else the
working directory itself.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import os
from importlib import resources
from pathlib import Path

ENV = "BOARDPACK_PROJECT"
CONFIG = "config/boardpack.toml"
RECIPIENTS = "config/recipients.toml"
NOTEBOOKS = "notebooks"
CONTRACTS = "data_contracts"
TEMPLATES = "templates"
ENV_EXAMPLE = ".env.example"
# What a project may have of its own, each replacing the package's default as a whole (a folder of contracts is
# one set: a contract deleted from the project must not come back from the package). The recipients and .env
# are the project's alone: the package's example list of people is never mailed.
OVERRIDABLE = (CONFIG, NOTEBOOKS, CONTRACTS, TEMPLATES)
# The wheel carries them here (setup.py copies the checkout's top-level folders in at build time).
BUNDLED = "_defaults"
SKIP = ("__pycache__", "*.pyc", ".ipynb_checkpoints")  # never a project file (setup.py leaves them out too)
_PACKAGE = Path(__file__).resolve().parent


def folder() -> Path:
    """The project folder (see the module's docstring)."""
    named = os.environ.get(ENV)
    if named:
        return Path(named).expanduser().resolve()
    here = Path.cwd()
    return next((p for p in (here, *here.parents) if (p / CONFIG).is_file()), here)


def checkout() -> Path | None:
    """The source tree the code runs from (a clone, or an editable install of one); None for an installed wheel."""
    root = _PACKAGE.parent
    return root if (root / "pyproject.toml").is_file() and (root / TEMPLATES).is_dir() else None


def defaults() -> Path:
    """The package's default files: boardpack/_defaults in an installed wheel; in a checkout, its own top-level
    folders, which are the one copy of each default (the wheel's are copied from them)."""
    bundled = resources.files(__package__) / BUNDLED
    if bundled.is_dir():
        return Path(str(bundled))
    root = checkout()
    if root is None:
        from .exceptions import ConfigError

        raise ConfigError(f"{_PACKAGE}: the package's default files ({BUNDLED}/) are missing: the installation is "
                          f"incomplete. Reinstall boardpack from its wheel (pip install --force-reinstall boardpack).")
    return root


def locate(name: str) -> Path:
    """The project's own `name` (a path under the project, e.g. config/boardpack.toml) when it has it, else the
    package's default."""
    return _located(name)[0]


def _located(name: str) -> tuple[Path, str]:
    own = folder() / name
    if own.exists():  # in a checkout run as its own project, its folders are both: the project's is what was edited
        return own, "project"
    return defaults() / name, "package"


def config_file() -> Path:
    return locate(CONFIG)


def recipients_file() -> Path:
    return folder() / RECIPIENTS


def notebooks_dir() -> Path:
    return locate(NOTEBOOKS)


def contracts_dir() -> Path:
    return locate(CONTRACTS)


def templates_dir() -> Path:
    return locate(TEMPLATES)


def env_file() -> Path:
    """The project's .env: SMTP secrets are the project's alone, never a default of the package."""
    return folder() / ".env"


def reports_dir() -> Path:
    return folder() / "reports"


def sample_dir() -> Path:
    return folder() / "data" / "sample"


@contextlib.contextmanager
def pinned(path: Path | None = None):
    """The project folder fixed in the environment for the duration, so that the notebooks' kernels (which start
    in another folder, and inherit the environment) read the same project as the build that runs them."""
    saved = os.environ.get(ENV)
    os.environ[ENV] = str(Path(path) if path else folder())
    try:
        yield Path(os.environ[ENV])
    finally:
        if saved is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = saved


def tree_sha256(path: Path) -> str:
    """One SHA-256 over a file, or over a folder's files (their relative names and contents, in name order)."""
    path = Path(path)
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file() and not _ignored(p.relative_to(path))):
        digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def _ignored(relative: Path) -> bool:
    return any(fnmatch.fnmatch(part, pattern) for part in relative.parts for pattern in SKIP)


def describe() -> dict:
    """For the manifest: the project folder, and for each file the pack's look and checks come from, its path,
    whether it is the project's own or the package's default, and its SHA-256."""
    out = {"folder": str(folder())}
    for name in OVERRIDABLE:
        path, source = _located(name)
        out[name] = {"path": str(path), "from": source, "sha256": tree_sha256(path) if path.exists() else None}
    return out


def package_sha256() -> str:
    """SHA-256 of the installed package's files (code, SQL, data and bundled defaults): what identifies the code
    of a build when there is no git revision to name it."""
    return tree_sha256(_PACKAGE)


# --- a new project (boardpack init) ------------------------------------------------------------------------
SKELETON = "skeleton"  # boardpack/skeleton/: the files of a project that have no copy among the defaults
SKELETON_FILES = {"Makefile": "Makefile", "gitignore": ".gitignore", "data-README.md": "data/README.md"}


def create(target: Path, force: bool = False, company: str | None = None) -> list[Path]:
    """Make a project folder: the package's default config, notebooks, contracts and templates as the project's own
    copies to edit, a Makefile that calls the installed `boardpack`, .env.example and an empty data/. Refuses a
    folder that is not empty unless `force` (then the files written replace those of the same name). Returns the
    files written."""
    import shutil

    from .exceptions import ConfigError

    target = Path(target)
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{target}: not a folder. How to fix: name a new folder for the project.")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise ConfigError(f"{target}: the folder is not empty, and init would write over what is in it. How to fix: "
                          f"name a new or empty folder, or add --force to replace the project files there.")
    source = defaults()
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name in (CONFIG, RECIPIENTS, ENV_EXAMPLE):
        if (source / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            written.append(Path(shutil.copyfile(source / name, target / name)))
    for name in (NOTEBOOKS, CONTRACTS, TEMPLATES):
        shutil.copytree(source / name, target / name, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(*SKIP))
        written += sorted(p for p in (target / name).rglob("*") if p.is_file())
    skeleton = resources.files(__package__) / SKELETON
    for name, dest in SKELETON_FILES.items():
        (target / dest).parent.mkdir(parents=True, exist_ok=True)
        (target / dest).write_bytes(skeleton.joinpath(name).read_bytes())
        written.append(target / dest)
    if company:
        _rename_company(target / CONFIG, company)
    return written


def _rename_company(path: Path, company: str) -> None:
    """Put the company's name in [company] name of a new project's configuration, leaving its comments as they are."""
    import json
    import re

    from .config import load_config

    text = path.read_text(encoding="utf-8")
    line = f"name = {json.dumps(company, ensure_ascii=False)}"  # a JSON string is a TOML basic string
    header = re.search(r"^\[company\][ \t]*$", text, flags=re.M)
    if header is None:
        text = f"[company]\n{line}\n\n" + text
    else:
        after = re.search(r"^\[", text[header.end():], flags=re.M)
        end = header.end() + after.start() if after else len(text)
        body, found = re.subn(r"^name\s*=.*$", lambda _: line, text[header.end():end], count=1, flags=re.M)
        text = text[:header.end()] + (body if found else f"\n{line}" + body) + text[end:]
    path.write_text(text, encoding="utf-8")
    load_config(path)  # the name as written must read back: a ConfigError here names the file and the fault
