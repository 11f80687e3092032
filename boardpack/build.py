"""Build a quarter's pack: run the notebooks with papermill, render HTML and PDF, publish a new version.

Everything is written into a staging folder beside the published packs (`reports/.staging-*`, with a file
naming its owner); only when every step has succeeded is it renamed into `reports/<quarter>/vN` and `latest`
swapped to it (boardpack/publish.py). A failed run, whatever fails, removes its staging folder and never
touches an earlier version. A run killed outright leaves its staging folder, which the next build removes.

One build of a quarter at a time: the quarter's lock (`reports/<quarter>/.build.lock`) is held from the start
(with no quarter given, from the moment validation names it) to the end of publish, and a second build is
refused with a message naming the first, because two packs published one after the other, each believing it
is current, is a silent loss of one of them.

Fault injection, for tests only: BOARDPACK_TEST_KILL_AT=<stage> makes the build kill itself with SIGKILL at
that stage (tests/test_faults.py): `start` (leftovers cleaned, lock held, staging made), `validate`, `metrics`,
`board-pack` (each after its notebook ran), `render` (HTML written, PDF not), `publish:before-move`,
`publish:moved` (version in place, `latest` not yet swapped), `publish:swapped` (swapped, stable names not yet
refreshed), and in the migration of an old-layout quarter `migrate:v1` and `migrate:gap`.

For tests only, BOARDPACK_TEST_NO_VIEWS=1 leaves out the role views (about 15 s of a build): the test session
sets it for the builds that do not look at views; the session's sample pack and the byte-identical rebuild
make them (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import NO_PYSPARK, log, metrics_json, project, render
from .config import load_config
from .exceptions import InputError, StepFailed
from .publish import LATEST, OWNER, build_lock, checkpoint, clean_leftovers, new_staging, publish
from .quarters import Quarter
from .sniff import sha256
from .steps import write_json

logger = log.get(__name__)
NOTEBOOKS = ("01-validate", "02-metrics", "03-board-pack")
NO_VIEWS = "BOARDPACK_TEST_NO_VIEWS"
# Errors raised on purpose inside a notebook: their message is the report, the traceback is noise.
USER_ERRORS = {"InputError", "NoDataError", "ContractError", "ConfigError", "EngineError", "LedgerError"}


@dataclass
class Step:
    name: str
    seconds: float
    summary: str


def run_notebook(name: str, out_dir: Path, parameters: dict) -> Path:
    """Execute one notebook with papermill into out_dir/notebooks; raise StepFailed with a clear message."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    target = out_dir / "notebooks" / f"{name}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    (out_dir / "logs").mkdir(exist_ok=True)
    # the kernel starts in the project folder, never in an installed package's notebooks/ (README, "A project of
    # your own"); every path it reads is a parameter, so nothing depends on where it starts
    try:
        with _stderr_to(out_dir / "logs" / f"{name}.log"):
            pm.execute_notebook(str(project.notebooks_dir() / f"{name}.ipynb"), str(target), parameters=parameters,
                                cwd=str(project.folder()), progress_bar=False, log_output=False, kernel_name="python3")
    except PapermillExecutionError as e:
        if e.ename in USER_ERRORS:
            raise StepFailed(e.evalue) from None
        raise StepFailed(f"{name}.ipynb failed in cell {e.exec_count}: {e.ename}: {e.evalue}\n"
                         + "\n".join(_strip_ansi(line) for line in e.traceback[-6:])) from None
    return target


@contextlib.contextmanager
def _stderr_to(path: Path):
    """Send this process's stderr (and so the kernel's warnings) to a log file for the duration."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "a", encoding="utf-8") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def build(quarter: str | None, data_dir: str | Path, config: str | Path | None = None,
          reports_dir: str | Path | None = None, on_step: Callable[[Step], None] | None = None,
          generated: str | None = None, engine: str | None = None) -> Path:
    """Render the pack for `quarter` (None: the latest complete one), publish it as the quarter's new version and
    return the quarter's folder (its `latest` is that version).

    `engine` (duckdb or spark) is where large inputs are read, checked and aggregated; None: the config's.
    `config` None: the project's; `reports_dir` None: the project's reports/ (boardpack/project.py)."""
    with project.pinned():  # the notebooks' kernels read the project this build was started in
        return _build(quarter, data_dir, config, reports_dir or project.reports_dir(), on_step, generated, engine)


def _build(quarter, data_dir, config, reports_dir, on_step, generated, engine) -> Path:
    cfg = load_config(config)
    reports = Path(reports_dir).resolve()
    reports.mkdir(parents=True, exist_ok=True)
    clean_leftovers(reports)
    with contextlib.ExitStack() as locks:
        if quarter:
            locks.enter_context(build_lock(reports / str(Quarter.parse(quarter))))
        staging = new_staging(reports)
        if (engine or cfg.engine.name) != "spark":  # the kernels inherit it: no pyspark (boardpack/__init__.py)
            locks.enter_context(_environment(NO_PYSPARK, "1"))
        try:
            checkpoint("start")
            params = {"quarter": quarter, "data_dir": str(_resolved(data_dir, "DATA")),
                      "config": str(Path(cfg.path).resolve()), "output_dir": str(staging)}
            return _render_and_publish(cfg, params, reports, locks, on_step or (lambda step: None),
                                       generated or datetime.date.today().isoformat(), engine)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def _render_and_publish(cfg, params: dict, reports: Path, locks: contextlib.ExitStack,
                        report: Callable[[Step], None], generated: str, engine: str | None) -> Path:
    """The steps of a build, in its staging folder; the quarter's lock is taken as soon as the quarter is known.
    The build's log is kept in the pack, `logs/build.log`, up to the manifest, which hashes it."""
    staging = Path(params["output_dir"])
    with contextlib.ExitStack() as kept:
        kept.enter_context(log.kept_in(staging / "logs" / "build.log"))
        logger.info("boardpack %s building %s from %s", _version(), params["quarter"] or "the latest complete quarter",
                    params["data_dir"])
        logger.debug("parameters: %s; engine: %s; generated: %s", params, engine or "the configuration's", generated)
        return _steps(cfg, params, reports, locks, report, generated, engine, kept)


def _steps(cfg, params: dict, reports: Path, locks: contextlib.ExitStack, report: Callable[[Step], None],
           generated: str, engine: str | None, kept: contextlib.ExitStack) -> Path:
    staging = Path(params["output_dir"])
    with _step("validate", report) as step:
        run_notebook("01-validate", staging, params | {"engine": engine})
        checkpoint("validate")
        v = _read(staging, "validation")
        step.summary = (f"{v['summary']['passed']}/{v['summary']['checks']} checks passed, "
                        f"{v['summary']['warnings_failed']} warning(s): {v['status']} for {v['quarter']}"
                        f", on {v['engine']['name']}")
    if not params["quarter"]:
        locks.enter_context(build_lock(reports / v["quarter"]))
    with _step("metrics", report) as step:
        run_notebook("02-metrics", staging, params)
        checkpoint("metrics")
        m = metrics_json.read(staging)
        # a metric without a basis is None in metrics.json; the summary gives the reason instead
        why = m.get("no_basis") or {}
        shown = (("value multiple", "value_multiple", "{:.2f}x"), ("workload fit", "workload_fit", "{:.1%}"),
                 ("portable", "portable_spend_share", "{:.1%}"))
        step.summary = ", ".join(f"{label}: {why.get(key, 'n/a')}" if m[key] is None
                                 else f"{label} {form.format(m[key])}" for label, key, form in shown)
    with _step("render", report) as step:
        from . import (
            restate,  # what changed since the quarter's current pack and last quarter's (README, "Restatements")
        )

        write_json(restate.for_build(reports, m["quarter"], staging), staging / "restatement.json")
        pack_nb = run_notebook("03-board-pack", staging, params | {"generated": generated})
        checkpoint("board-pack")
        context = {"company": cfg.company, "title": "AI value board pack", "quarter": m["quarter"],
                   "status": m["status"], "generated": generated, "confidentiality": cfg.confidentiality,
                   "paper": cfg.paper, "branding": cfg.branding}
        html = render.notebook_to_html(pack_nb, staging / "board-pack.html", context, project.templates_dir())
        checkpoint("render")
        pages = render.html_to_pdf(html, staging / "board-pack.pdf", generated)
        from . import views  # role views cut from the pages just rendered, before the manifest (README, "Role views")

        cut = [] if os.environ.get(NO_VIEWS) == "1" else views.write(staging, cfg, generated, pages)
        step.summary = f"{pages} pages, {m['status']}; {len(cut)} role views in views/"
    with _step("publish", report) as step:
        from . import exports  # CSV and XLSX for finance (README, "Finance exports"), before the manifest hashes them

        exports.write(staging, generated=generated)
        logger.info("exports written; writing the manifest and publishing")
        kept.close()  # the log ends here: the manifest hashes it
        write_manifest(staging, params | {"generated": generated, "engine": v["engine"]["name"]})
        version = publish(staging, reports / m["quarter"])
        step.summary = f"{version}, now {LATEST}"
    return reports / m["quarter"]


@contextlib.contextmanager
def _environment(name: str, value: str):
    """`name=value` in this process's environment, and so in the kernels it starts, for the duration."""
    saved = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("boardpack")
    except PackageNotFoundError:
        return "(not installed)"


def _resolved(path: str | Path, what: str) -> Path:
    """`path` made absolute; one that cannot be followed (a loop of symbolic links) is the user's to fix."""
    try:
        return Path(path).resolve()
    except (RuntimeError, OSError) as e:  # RuntimeError: Python before 3.13 reports a loop so
        raise InputError(path, f"{what} cannot be followed to a folder ({e})",
                         f"point {what} at the folder that holds the data; ls -l shows where each symbolic "
                         f"link on the way points.") from None


@contextlib.contextmanager
def _step(name: str, report: Callable[[Step], None]):
    """Time a stage and report its one-line summary when it succeeds."""
    step = Step(name, 0.0, "")
    started = time.perf_counter()
    logger.info("%s: started", name)
    yield step
    step.seconds = time.perf_counter() - started
    logger.info("%s: %s (%.1f s)", name, step.summary, step.seconds)
    report(step)


def _read(folder: Path, name: str) -> dict:
    return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))


def write_manifest(out: Path, parameters: dict) -> Path:
    """manifest.json: parameters, inputs, contracts, prices, packages, code, and the hash of every output; then
    manifest.sha256, the hash of the manifest itself (boardpack/verify.py: `seal`)."""
    from .verify import MANIFEST, SEAL, seal

    prov, metrics = _read(out, "provenance"), metrics_json.read(out)
    outputs = {str(p.relative_to(out)): {"sha256": sha256(p), "bytes": p.stat().st_size}
               for p in sorted(out.rglob("*")) if p.is_file() and p.name not in (MANIFEST, SEAL, OWNER)}
    manifest = {"quarter": metrics["quarter"], "status": metrics["status"], "currency": metrics["currency"],
                "parameters": {**parameters, "output_dir": None}, **{k: v for k, v in prov.items() if k != "parameters"},
                "resolved": prov["parameters"], "outputs": outputs}
    path = write_json(manifest, out / MANIFEST)
    seal(path)
    return path
