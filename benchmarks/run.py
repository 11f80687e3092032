"""Ingest benchmark: time and peak memory of the FOCUS and LiteLLM adapters against DuckDB's bare scan.

    python benchmarks/run.py                      # 1M and 10M rows, Parquet and CSV, both sources
    python benchmarks/run.py --sizes 1000000 --formats parquet

For every size, source and format, two fresh processes read the same file:
- the floor: `SELECT count(*), sum(spend) FROM read_parquet(...)` (`read_csv` for CSV; `EffectiveCost` for FOCUS),
  the least any reader has to do;
- the adapter: `boardpack.adapters.<source>.read(folder, Settings())`, everything up to the canonical frames.
Time is measured inside the process around the read (imports excluded); peak memory is the process's maximum
resident set size (VmHWM of the child on Linux, else `ru_maxrss` from `os.wait4`), so it includes the
interpreter and the imported libraries.
The table gives both and their ratio to the floor. Inputs are generated once per size by `generate.py` under
`benchmarks/out/data/` (kept for reruns; `--clean` removes them afterwards). Results go to `benchmarks/out/`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
FILES = {("litellm", "parquet"): "litellm/LiteLLM_SpendLogs.parquet", ("litellm", "csv"): "litellm-csv/LiteLLM_SpendLogs.csv",
         ("focus", "parquet"): "focus/focus.parquet", ("focus", "csv"): "focus-csv/focus.csv"}
COST = {"litellm": "spend", "focus": "EffectiveCost"}


# --- child processes ------------------------------------------------------------------------------------------

def _peak_of_this_process() -> float | None:
    """VmHWM (peak RSS of this process image, in MB) on Linux; None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def child(mode: str, kind: str, fmt: str, path: Path) -> dict:
    result = _child(mode, kind, fmt, path)
    return {**result, "vmhwm_mb": _peak_of_this_process()}


def _child(mode: str, kind: str, fmt: str, path: Path) -> dict:
    if mode == "floor":
        import duckdb

        scan = f"read_parquet('{path}')" if fmt == "parquet" else f"read_csv('{path}')"
        start = time.perf_counter()
        rows, total = duckdb.connect().execute(f"SELECT count(*), sum({COST[kind]}) FROM {scan}").fetchone()
        return {"seconds": time.perf_counter() - start, "rows_in": rows, "cost": total}
    sys.path.insert(0, str(HERE.parent))
    import importlib

    from boardpack.adapters import Settings

    module = importlib.import_module(f"boardpack.adapters.{kind}")
    start = time.perf_counter()
    result = module.read(path.parent, Settings())
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "spend_rows": len(result.spend), "usage_rows": len(result.usage),
            "cost": float(result.spend["EffectiveCost"].sum()), "fixes": dict(result.fixes)}


def measure(mode: str, kind: str, fmt: str, path: Path) -> dict:
    """Run one measurement in a fresh process; its peak RSS comes from wait4 on that very process."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, __file__, "--child", mode, "--kind", kind, "--format", fmt,
                                 "--path", str(path)], stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise SystemExit(f"{mode} {kind} {fmt} failed:\n{stderr}")
    result = json.loads(stdout.strip().splitlines()[-1])
    # ru_maxrss of a forked child also counts the parent's memory copied at fork time (Linux carries the
    # pre-exec high-water mark over), so the child's own VmHWM is preferred where the OS has it.
    peak = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024) / 2**20  # bytes on macOS, KiB on Linux
    return {**result, "peak_mb": result.get("vmhwm_mb") or peak, "ru_maxrss_mb": peak}


# --- the run -------------------------------------------------------------------------------------------------

def ensure_data(rows: int, data: Path, formats: list[str], kinds: list[str], chunk: int) -> Path:
    folder = data / str(rows)
    marker = folder / ".complete.json"
    wanted = {"rows": rows, "chunk": chunk, "formats": sorted(formats), "kinds": sorted(kinds)}
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        return folder
    sys.path.insert(0, str(HERE))
    from generate import generate

    start = time.perf_counter()
    print(f"generating {rows:,} rows of {', '.join(kinds)} as {', '.join(formats)} in {folder} ...", flush=True)
    generate(rows, folder, chunk=chunk, formats=tuple(formats), kinds=tuple(kinds))
    marker.write_text(json.dumps(wanted))
    print(f"  done in {time.perf_counter() - start:,.0f} s", flush=True)
    return folder


def table(results: list[dict]) -> str:
    lines = ["| rows | source | format | file | floor: time | floor: peak RSS | read(): time | read(): peak RSS "
             "| time / floor | memory / floor | spend rows out |",
             "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        f, a = r["floor"], r["adapter"]
        lines.append(f"| {r['rows']:,} | {r['kind']} | {r['format']} | {r['file_mb']:,.0f} MB | {f['seconds']:.2f} s "
                     f"| {f['peak_mb']:,.0f} MB | {a['seconds']:.2f} s | {a['peak_mb']:,.0f} MB "
                     f"| {a['seconds'] / f['seconds']:.1f}x | {a['peak_mb'] / f['peak_mb']:.1f}x | {a['spend_rows']:,} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000", help="comma-separated row counts")
    parser.add_argument("--formats", default="parquet,csv")
    parser.add_argument("--kinds", default="litellm,focus")
    parser.add_argument("--data", type=Path, default=OUT / "data")
    parser.add_argument("--chunk", type=int, default=500_000)
    parser.add_argument("--clean", action="store_true", help="delete the generated inputs at the end")
    parser.add_argument("--child", choices=("floor", "adapter"), help=argparse.SUPPRESS)
    parser.add_argument("--kind", help=argparse.SUPPRESS)
    parser.add_argument("--format", help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.kind, args.format, args.path)))
        return

    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    formats, kinds = args.formats.split(","), args.kinds.split(",")
    import duckdb

    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "duckdb": duckdb.__version__,
               "platform": platform.platform()}
    results = []
    for rows in sizes:
        folder = ensure_data(rows, args.data, formats, kinds, args.chunk)
        for kind in kinds:
            for fmt in formats:
                path = folder / FILES[(kind, fmt)]
                floor = measure("floor", kind, fmt, path)
                adapter = measure("adapter", kind, fmt, path)
                results.append({"rows": rows, "kind": kind, "format": fmt, "file_mb": path.stat().st_size / 1e6,
                                "floor": floor, "adapter": adapter})
                print(f"{rows:>11,} {kind:8} {fmt:8} floor {floor['seconds']:7.2f} s {floor['peak_mb']:7,.0f} MB"
                      f" | read() {adapter['seconds']:7.2f} s {adapter['peak_mb']:7,.0f} MB"
                      f" | cost floor {floor['cost']:,.2f} read() {adapter['cost']:,.2f}", flush=True)
    report = table(results)
    print()
    print(f"Machine: {machine['cpus']} CPUs, Python {machine['python']}, DuckDB {machine['duckdb']}\n")
    print(report)
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    payload = {"when": stamp, "machine": machine, "results": results}
    for name in (f"bench-{stamp}.json", "latest.json"):
        (OUT / name).write_text(json.dumps(payload, indent=1, default=str))
    (OUT / "latest.md").write_text(report + "\n")
    if args.clean:
        import shutil

        for rows in sizes:
            shutil.rmtree(args.data / str(rows), ignore_errors=True)


if __name__ == "__main__":
    main()
