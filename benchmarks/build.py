"""Build benchmark: a warm build of the sample pack against the floor of the stack it stands on.

    python benchmarks/build.py              # median of 3 of each, alternated (about 4 minutes on 2 cores)
    python benchmarks/build.py --repeat 1   # a quick look

The floor is what any pack made with this stack must pay, measured in the same run, each part in a fresh process:
- imports: one process importing pandas, DuckDB, Great Expectations, papermill, nbconvert, WeasyPrint, matplotlib
  and seaborn (pyspark kept out, as a DuckDB build keeps it out of its kernels);
- papermill: one run of a one-cell notebook (`x = 1`) with the project's kernel: papermill's import, a kernel's
  start and stop;
- WeasyPrint: the sample pack's own `board-pack.html` to PDF.
A build is `boardpack build --data data/sample` into a fresh reports folder, after one build that warms the
caches (fonts, bytecode, the sample); it is timed without the role views (`BOARDPACK_TEST_NO_VIEWS=1`: one PDF,
like the floor) and with them (eleven PDFs), as the command line runs it. Results go to `benchmarks/out/build-latest.md`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
SAMPLE = ROOT / "data" / "sample"
IMPORTS = "import pandas, duckdb, great_expectations, papermill, nbconvert, weasyprint, matplotlib, seaborn"
NOTEBOOK = {"cells": [{"cell_type": "code", "execution_count": None, "id": "one", "metadata": {}, "outputs": [],
                       "source": "x = 1"}],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}


def timed(args: list[str], env: dict | None = None, cwd: Path = ROOT) -> float:
    """Wall-clock seconds of a fresh process; it must succeed."""
    started = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return seconds


def floor(work: Path, html: Path) -> dict:
    nb = work / "one-cell.ipynb"
    nb.write_text(json.dumps(NOTEBOOK))
    python = sys.executable
    no_spark = "import sys; sys.modules['pyspark'] = None; "
    parts = {
        "imports": timed([python, "-c", no_spark + IMPORTS]),
        "papermill": timed([python, "-c", f"import papermill as pm; pm.execute_notebook({str(nb)!r}, "
                                          f"{str(work / 'out.ipynb')!r}, progress_bar=False, kernel_name='python3')"]),
        "weasyprint": timed([python, "-c", f"import weasyprint; weasyprint.HTML(filename={str(html)!r})"
                                           f".write_pdf({str(work / 'floor.pdf')!r})"]),
    }
    return parts | {"total": sum(parts.values())}


def build(work: Path, views: bool, n: int) -> float:
    reports = work / f"reports-{'views' if views else 'no-views'}-{n}"
    env = {} if views else {"BOARDPACK_TEST_NO_VIEWS": "1"}
    return timed([sys.executable, "-m", "boardpack.cli", "-q", "build", "--data", str(SAMPLE), "--reports",
                  str(reports)], env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="boardpack-bench-build-") as tmp:
        work = Path(tmp)
        print("warming up: one build...", flush=True)
        build(work, False, 0)
        html = next((work / "reports-no-views-0").glob("*/latest/board-pack.html"))
        runs: dict[str, list] = {"floor": [], "no_views": [], "views": []}
        for n in range(1, args.repeat + 1):  # alternated, so other work on the machine weighs on each alike
            runs["floor"].append(floor(work, html))
            runs["no_views"].append(build(work, False, n))
            runs["views"].append(build(work, True, n))
            print(f"run {n}: floor {runs['floor'][-1]['total']:.1f} s, build {runs['no_views'][-1]:.1f} s, "
                  f"with views {runs['views'][-1]:.1f} s", flush=True)
    med = {k: statistics.median(r[k] for r in runs["floor"]) for k in runs["floor"][0]}
    no_views, views = statistics.median(runs["no_views"]), statistics.median(runs["views"])
    table = ("| what | seconds | / floor |\n|---|---:|---:|\n"
             f"| floor: imports of the stack | {med['imports']:.1f} | |\n"
             f"| floor: a one-cell papermill run | {med['papermill']:.1f} | |\n"
             f"| floor: WeasyPrint on the pack's HTML | {med['weasyprint']:.1f} | |\n"
             f"| **floor** | **{med['total']:.1f}** | 1.0x |\n"
             f"| warm build of the sample, no role views | {no_views:.1f} | {no_views / med['total']:.2f}x |\n"
             f"| warm build of the sample, with the role views | {views:.1f} | {views / med['total']:.2f}x |\n")
    note = f"\nMedian of {args.repeat}, measured {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC on {os.cpu_count()} cores.\n"
    print(table + note)
    OUT.mkdir(exist_ok=True)
    (OUT / "build-latest.md").write_text(table + note)


if __name__ == "__main__":
    main()
