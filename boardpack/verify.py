"""Verify a published pack: its files against its manifest, its inputs against their hashes, its numbers against
a rebuild (README, "Verify a pack").

1. integrity: every file the manifest lists under `outputs` has its SHA-256 and size, a file it does not list is
   named, and manifest.json matches manifest.sha256 (`seal`).
2. inputs: every input, the configuration and every data contract has the SHA-256 the manifest records. Another
   code revision, package, price catalog or Python is a warning: different code can still reproduce.
3. reproduce: validate and compute run again in-process, in a temporary folder, with the build's own parameters;
   metrics.json, ledger.json and tables/*.parquet must come out byte for byte. The HTML and PDF are not rendered
   again: their bytes depend also on the packs published before (the restatement page), which a rebuild in a
   temporary folder does not have; their hashes are checked by 1.

The manifest records where the build read its inputs (absolute paths: a record of that machine, which lets
verify run with no flags there); `data` re-roots them under another folder, by their place in the build's data
folder. The rebuilt files hold no path, so they do not depend on where the inputs or the checkout are.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import project
from .exceptions import BoardpackError, NotAPack
from .publish import LATEST, current, version_of
from .sniff import sha256

MANIFEST, SEAL = "manifest.json", "manifest.sha256"
RECORDS = ("quarter", "parameters", "inputs", "contracts", "config", "outputs")  # what the checks read of a manifest
# the one line publish adds to a written manifest (publish._stamp): the version, right after the quarter
_VERSION_LINE = re.compile(rb'^  "version": "(v[1-9][0-9]*)",\n', re.MULTILINE)
REBUILT = ("metrics.json", "ledger.json")  # besides tables/*.parquet; path-free, so comparable wherever the inputs are
SHOWN = 5  # differing keys named per JSON file


@dataclass(frozen=True)
class Finding:
    file: str
    rule: str
    warning: bool = False

    def __str__(self) -> str:
        return f"{self.file}: {self.rule}"


@dataclass
class Check:
    name: str
    summary: str = ""
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return any(not f.warning for f in self.findings)


@dataclass
class Verification:
    pack: Path
    manifest: dict | None
    checks: list[Check]

    @property
    def failures(self) -> list[Finding]:
        return [f for c in self.checks for f in c.findings if not f.warning]

    @property
    def warnings(self) -> list[Finding]:
        return [f for c in self.checks for f in c.findings if f.warning]

    @property
    def ok(self) -> bool:
        return not self.failures


def pack_folder(path: str | Path) -> Path:
    """The version folder to verify: `path` itself, or a quarter folder's current version (its `latest`)."""
    path = Path(path)
    if (path / LATEST).is_symlink() or (path / LATEST).is_dir():
        path = current(path.parent, path.name) or (path / LATEST).resolve()
    if (path / MANIFEST).is_file():
        return path
    raise NotAPack(f"{path}: not a pack: no {MANIFEST} and no {LATEST}.\n  How to fix: give a version folder "
                   f"(reports/2026-Q3/v2) or a quarter folder (reports/2026-Q3, whose {LATEST} is verified).")


def seal(manifest: Path) -> Path:
    """Write manifest.sha256 beside a manifest just written: the SHA-256 of its bytes. Publish then adds one line,
    the version; the check hashes the manifest without that line and compares the version with the folder's name."""
    path = manifest.with_name(SEAL)
    path.write_text(sha256(manifest) + "\n", encoding="utf-8")
    return path


def manifest_problem(data: bytes, sealed: str, folder_version: str | None) -> str | None:
    """Why manifest.json (`data`) does not match its seal, or None; a changed version line is caught by
    `folder_version` (None: the folder is not named as a version, so that line cannot be checked)."""
    stamped = list(_VERSION_LINE.finditer(data))
    line = stamped[0] if len(stamped) == 1 else None
    unstamped = data[:line.start()] + data[line.end():] if line else data
    if hashlib.sha256(unstamped).hexdigest() != sealed.strip():
        return (f"does not match {SEAL}: one of the two was changed after the build (rule: a manifest is never "
                f"changed once written, but for the version line publish adds)")
    version = line.group(1).decode() if line else None
    if folder_version and version != folder_version:
        return (f"it records version {version or 'none'}, but its folder is {folder_version} "
                f"(rule: a version is never renamed)")
    return None


# ------------------------------------------------------------------------------------------------ integrity

def check_integrity(folder: Path, manifest: dict | None, data: bytes) -> Check:
    """Every listed output with its hash and size; files not listed; the manifest against its seal."""
    check = Check("integrity")
    add = check.findings.append
    seal_file = folder / SEAL
    if not seal_file.is_file():
        add(Finding(SEAL, f"missing, so {MANIFEST} cannot be checked (rule: a build writes it beside the manifest; "
                          f"a pack built before verify existed has none)"))
    else:
        problem = manifest_problem(data, seal_file.read_text(encoding="utf-8"), version_of(folder))
        if problem:
            add(Finding(MANIFEST, problem))
        elif not version_of(folder) and _VERSION_LINE.search(data):
            add(Finding(MANIFEST, f"its version line is not checked: the folder {folder.name} is not named as a "
                                  f"version (vN)", warning=True))
    if manifest is None:
        add(Finding(MANIFEST, f"not valid JSON or lacks {', '.join(RECORDS)} (rule: the manifest is never changed "
                              f"after its build)"))
        check.summary = f"{MANIFEST} cannot be read: nothing else can be checked"
        return check
    outputs = manifest.get("outputs") or {}
    for name, entry in sorted(outputs.items()):
        path = folder / name
        if not path.is_file():
            add(Finding(name, "missing (rule: every file the manifest lists is in the pack)"))
            continue
        size = path.stat().st_size
        if size != entry["bytes"]:
            change = f"{size:,} bytes, the manifest says {entry['bytes']:,}"
        elif (digest := sha256(path)) != entry["sha256"]:
            change = f"SHA-256 {digest[:12]}…, the manifest says {entry['sha256'][:12]}…"
        else:
            continue
        add(Finding(name, f"changed since the build: {change} (rule: a published file is never changed)"))
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and name not in outputs and name not in (MANIFEST, SEAL):
            add(Finding(name, "not in the manifest (rule: a pack holds only what its build wrote)"))
    bad = len({f.file for f in check.findings if not f.warning})
    check.summary = (f"{len(outputs)} files and {MANIFEST} as built" if not bad
                     else f"{bad} file(s) differ from the manifest, of {len(outputs)} listed")
    return check


# ------------------------------------------------------------------------------------------------ inputs

def locate_inputs(manifest: dict, data: Path | None) -> list[tuple[dict, Path]]:
    """Each input with the path to read it at: the recorded one, or the same place under `data`."""
    recorded = Path(manifest["parameters"]["data_dir"])
    located = []
    for entry in manifest["inputs"]:
        path = Path(entry["path"])
        if data is not None:
            try:
                path = Path(data) / path.relative_to(recorded)
            except ValueError:  # read through a link out of the data folder: its name is all there is
                path = Path(data) / entry["file"]
        located.append((entry, path))
    return located


def check_inputs(manifest: dict, data: Path | None, config: Path | None, pack: Path) -> tuple[Check, list[Path]]:
    """Inputs, configuration and contracts against their recorded hashes; returns the check and the inputs found
    (changed or not: a rebuild from changed inputs says which outputs they change)."""
    check = Check("inputs")
    contracts_dir = project.contracts_dir()
    add = check.findings.append
    recorded = manifest["parameters"]["data_dir"]
    found = []
    for entry, path in locate_inputs(manifest, data):
        if path.is_file():
            found.append(path)
        else:
            where = (f"--data {data} does not hold it (the build read it from {entry['path']})" if data is not None
                     else "the path the build read it from")
            add(Finding(str(path), f"input {entry['table']} not found: looked at {path}, {where}. How to fix: "
                                   f"point --data at the folder that holds the build's inputs now "
                                   f"(boardpack verify {pack} --data DIR; the build's folder was {recorded})"))
            continue
        if (digest := sha256(path)) != entry["sha256"]:
            add(Finding(str(path), f"input {entry['table']} changed since the build: SHA-256 {digest[:12]}…, "
                                   f"the manifest says {entry['sha256'][:12]}… (rule: a pack is verified against "
                                   f"the inputs it was built from)"))
    cfg = config_path(manifest, config)
    expected = manifest["config"].get("sha256")
    if not cfg.is_file():
        add(Finding(str(cfg), f"configuration not found. How to fix: point --config at the file the pack was built "
                              f"with (the build read {manifest['parameters']['config']})"))
    elif (digest := sha256(cfg)) != expected:
        add(Finding(str(cfg), f"configuration changed since the build: SHA-256 {digest[:12]}…, the manifest "
                              f"says {str(expected)[:12]}…"))
    wanted = {c["file"]: c["sha256"] for c in manifest["contracts"].values()}
    for path in sorted({*contracts_dir.glob("*.json"), *(contracts_dir / n for n in wanted)}):
        name = _shown(path)
        if path.name not in wanted:
            add(Finding(name, "a data contract the build did not run (rule: the same contracts as the build)"))
        elif not path.is_file():
            add(Finding(name, "a data contract the build ran is missing"))
        elif (digest := sha256(path)) != wanted[path.name]:
            add(Finding(name, f"data contract changed since the build: SHA-256 {digest[:12]}…, the "
                              f"manifest says {wanted[path.name][:12]}…"))
    bad = len(check.findings)
    check.summary = (f"{len(manifest['inputs'])} input(s), the configuration and {len(wanted)} contracts as built"
                     if not bad else f"{bad} of {len(manifest['inputs']) + 1 + len(wanted)} differ or are missing")
    return check, found


def config_path(manifest: dict, config: Path | None) -> Path:
    return Path(config) if config is not None else Path(manifest["parameters"]["config"])


def _shown(path: Path) -> str:
    """A path of the project relative to it, so that a message reads `data_contracts/spend.json`."""
    try:
        return path.relative_to(project.folder()).as_posix()
    except ValueError:
        return str(path)


def check_versions(manifest: dict) -> Check:
    """The code, packages, price catalog and Python now against the build's; differences are warnings."""
    from . import prices, provenance

    check = Check("versions")
    then = {"code revision": manifest.get("code_revision"), "price catalog": manifest.get("price_catalog"),
            "python": manifest.get("python"), **(manifest.get("packages") or {})}
    now = {"code revision": provenance.code_revision(), "price catalog": prices.catalog_version(),
           "python": platform.python_version(), **provenance.package_versions()}
    for name in [*then, *(n for n in now if n not in then)]:
        if then.get(name) != now.get(name):
            check.findings.append(Finding(name, f"{then.get(name, 'not recorded')} at the build, "
                                                f"{now.get(name, 'not installed')} now", warning=True))
    if str(then["code revision"]).endswith("+dirty"):
        check.findings.append(Finding("code revision", "built from uncommitted changes: the same revision now "
                                                       "does not prove the same code", warning=True))
    n = len(check.findings)
    check.summary = "code, packages and catalogs as at the build" if not n else f"{n} difference(s), warnings only"
    return check


# ------------------------------------------------------------------------------------------------ reproduce

def reproduce(folder: Path, manifest: dict, data: Path | None, config: Path | None) -> Check:
    """Rebuild metrics.json, ledger.json and the tables in a temporary folder and compare them with the pack's."""
    check = Check("reproduce")
    params = manifest["parameters"]
    data_dir, cfg = Path(data) if data is not None else Path(params["data_dir"]), config_path(manifest, config)
    with tempfile.TemporaryDirectory(prefix="boardpack-verify-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # library notices; the build sends them to logs/
        try:
            rebuilt = _rebuild(manifest, data_dir, cfg, Path(tmp))
        except BoardpackError as e:
            check.findings.append(Finding("(rebuild)", f"the rebuild stopped: {e}"))
            check.summary = "the rebuild stopped"
            return check
        quarter = json.loads((rebuilt / "validation.json").read_text(encoding="utf-8"))["quarter"]
        if quarter != manifest["quarter"]:
            check.findings.append(Finding("(rebuild)", f"the inputs now give {quarter}, the pack is "
                                                       f"{manifest['quarter']}"))
        tables = sorted({n for n in manifest["outputs"] if n.startswith("tables/")}
                        | {p.relative_to(rebuilt).as_posix() for p in (rebuilt / "tables").glob("*.parquet")})
        names = [*REBUILT, *tables]
        for name in names:
            finding = compare(name, folder / name, rebuilt / name)
            if finding:
                check.findings.append(finding)
    bad, loose = (sum(f.warning is w for f in check.findings) for w in (False, True))
    check.summary = (f"{bad} of {len(names)} files differ from a rebuild" if bad else
                     f"{', '.join(n for n in names if '/' not in n)} and {len(tables)} tables rebuilt "
                     + (f"with the same values ({loose} in other bytes)" if loose else "byte for byte"))
    return check


def _rebuild(manifest: dict, data_dir: Path, config: Path, work: Path) -> Path:
    """validate + compute as notebooks 01 and 02 call them, with the build's parameters (the requested quarter,
    not the resolved one: the call the build made)."""
    from . import steps

    params = manifest["parameters"]
    steps.validate(params["quarter"], data_dir, config, work, params.get("engine"))
    steps.compute(work, config)
    return work


def compare(name: str, packed: Path, rebuilt: Path) -> Finding | None:
    """A pack's file against its rebuild: same bytes, else what differs (a warning when only the bytes do)."""
    if not packed.is_file():
        return Finding(name, "missing from the pack, but the rebuild writes it")
    if not rebuilt.is_file():
        return Finding(name, "in the pack, but the rebuild does not write it")
    if packed.read_bytes() == rebuilt.read_bytes():
        return None
    if name.endswith(".json"):
        detail = _json_difference(packed, rebuilt)
    else:
        detail = _frame_difference(packed, rebuilt)
    if detail is None:
        return Finding(name, "the same values as the rebuild, in different bytes (another writer version?)",
                       warning=True)
    return Finding(name, f"differs from the rebuild: {detail} (rule: the same inputs, configuration and code give "
                         f"the same pack)")


def _json_difference(packed: Path, rebuilt: Path) -> str | None:
    try:
        ours = json.loads(packed.read_text(encoding="utf-8"))
    except ValueError as e:
        return f"the pack's copy is not valid JSON ({e})"
    keys = differing_keys(ours, json.loads(rebuilt.read_text(encoding="utf-8")))
    if not keys:
        return None
    more = f" and {len(keys) - SHOWN} more" if len(keys) > SHOWN else ""
    return f"first keys that differ: {', '.join(keys[:SHOWN])}{more}"


def differing_keys(a, b, at: str = "") -> list[str]:
    """The paths (`value_multiple`, `bridge.volume`, `use_cases[3].spend`) where two JSON values differ, in order."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in [*a, *(k for k in b if k not in a)]:
            path = f"{at}.{key}" if at else str(key)
            out += [path] if key not in a or key not in b else differing_keys(a[key], b[key], path)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [k for i, (x, y) in enumerate(zip(a, b)) for k in differing_keys(x, y, f"{at}[{i}]")]
    return [] if a == b and type(a) is type(b) else [at or "(the whole file)"]


def _frame_difference(packed: Path, rebuilt: Path) -> str | None:
    """How two parquet tables differ, exactly (no tolerance), or None when their rows and types are the same."""
    import pandas as pd

    try:
        ours = pd.read_parquet(packed)
    except Exception as e:  # a damaged file: pyarrow raises its own error classes
        return f"the pack's copy cannot be read ({type(e).__name__}: {e})"
    theirs = pd.read_parquet(rebuilt)
    if list(ours.columns) != list(theirs.columns):
        return f"columns {list(ours.columns)} in the pack, {list(theirs.columns)} rebuilt"
    if len(ours) != len(theirs):
        return f"{len(ours):,} rows in the pack, {len(theirs):,} rebuilt"
    typed = [c for c in ours.columns if ours[c].dtype != theirs[c].dtype]
    if typed:
        return f"column types differ: {', '.join(map(str, typed))}"
    changed = [str(c) for c in ours.columns if not ours[c].equals(theirs[c])]
    return f"values differ in column(s) {', '.join(changed)}" if changed else None


# ------------------------------------------------------------------------------------------------ all of it

def verify(pack: str | Path, data: Path | None = None, config: Path | None = None, rebuild: bool = True,
           on_check: Callable[[Check], None] | None = None) -> Verification:
    """Verify a pack (a version folder, or a quarter folder: its current version); raises NotAPack."""
    folder = pack_folder(pack)
    report = on_check or (lambda check: None)
    data_bytes = (folder / MANIFEST).read_bytes()
    try:
        manifest = json.loads(data_bytes)
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict) or any(key not in manifest for key in RECORDS):
        manifest = None  # written by no build: the integrity check says so
    result = Verification(folder, manifest, [])

    def run(step: Callable[[], Check]) -> Check:
        started = time.perf_counter()
        check = step()
        check.seconds = time.perf_counter() - started
        result.checks.append(check)
        report(check)
        return check

    run(lambda: check_integrity(folder, manifest, data_bytes))
    if manifest is None:
        return result
    # the contracts are the build's project's (its own, or the package's), wherever verify is run from
    built_in = (manifest.get("project") or {}).get("folder")
    with project.pinned(built_in if built_in and Path(built_in).is_dir() else None):
        return _verify_recorded(folder, manifest, data, config, pack, rebuild, run, result)


def _verify_recorded(folder, manifest, data, config, pack, rebuild, run, result) -> Verification:
    found: list[Path] = []

    def inputs() -> Check:
        check, located = check_inputs(manifest, data, config, pack)
        found.extend(located)
        return check

    run(inputs)
    run(lambda: check_versions(manifest))
    if not rebuild:
        return result
    if len(found) < len(manifest["inputs"]) or not config_path(manifest, config).is_file():
        run(lambda: Check("reproduce", "not run: inputs or configuration not found (above)",
                          [Finding("(rebuild)", "not run: an input or the configuration was not found")]))
    else:
        run(lambda: reproduce(folder, manifest, data, config))
    return result
