"""Ingest benchmark: time and peak memory of the gateway-log and FOCUS paths against DuckDB's bare scan.

    python benchmarks/run.py                                  # the README table (about 25 min on 2 cores)
    python benchmarks/run.py --sizes 1M --spark-sizes 1M      # a quick look
    python benchmarks/run.py --sizes 10M --kinds litellm --formats parquet --spark-sizes 10M

Cases: for each size, source (`litellm` gateway logs, `focus`) and format (Parquet, CSV), the DuckDB path;
CSV only up to `--csv-max` rows (100M rows of CSV are 40 GB) and FOCUS up to `--focus-max`; Parquet also
through Spark local mode at `--spark-sizes`. For every case, fresh processes read the same file:
- the floor: DuckDB's bare scan of the columns the path reads (`count(*)` plus one cheap aggregate per
  column), the least any reader has to do;
- the path: `boardpack.adapters.<source>.read(folder, Settings(engine=...))`, everything up to the canonical
  frames: for gateway logs that is registering the files, typing them (sql/gateway_requests.sql), the
  gateway_logs contract (Great Expectations, where the rows are), the daily aggregation
  (sql/gateway_daily.sql) and the canonical rows. Phases are timed inside the process (imports excluded);
  Spark's session start is timed apart.
Peak memory is the maximum resident set size: the Python process's VmHWM, plus, for Spark, the JVM's peak
RSS sampled every 0.1 s. Inputs are generated once per size by `generate.py` under `benchmarks/out/data/`
(kept for reruns; `--clean` removes them afterwards). Results go to `benchmarks/out/`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
FILES = {("litellm", "parquet"): "litellm/LiteLLM_SpendLogs.parquet", ("litellm", "csv"): "litellm-csv/LiteLLM_SpendLogs.csv",
         ("focus", "parquet"): "focus/focus.parquet", ("focus", "csv"): "focus-csv/focus.csv"}
# What the bare scan reads: the columns each path reads.
SCANNED = {"litellm": ["request_id", "startTime", "spend", "prompt_tokens", "completion_tokens", "model", "model_group",
                       "custom_llm_provider", "team_id", "status", "request_tags", "metadata"],
           "focus": ["EffectiveCost"]}


# --- child processes ------------------------------------------------------------------------------------------

def _rss_mb(pid: int, field: str = "VmRSS") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _descendants(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parts = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(parts[1]) == pid:
            child = int(stat.parent.name)
            children += [child, *_descendants(child)]
    return children


class JvmPeak(threading.Thread):
    """Peak RSS of this process's child processes (the JVM that pyspark starts), sampled."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.stop = 0.0, threading.Event()

    def run(self):
        while not self.stop.wait(0.1):
            self.peak = max(self.peak, sum(_rss_mb(p) for p in _descendants(os.getpid())))


def _child(mode: str, kind: str, fmt: str, path: Path, engine: str) -> dict:
    if mode == "floor":
        import duckdb

        scan = f"read_parquet('{path}')" if fmt == "parquet" else f"read_csv('{path}')"
        cols = SCANNED[kind]
        # one aggregate per column, so that every column the path reads is read here too
        aggs = ", ".join(f'max(length(CAST("{c}" AS VARCHAR)))' if c not in ("spend", "EffectiveCost")
                         else f'sum("{c}")' for c in cols)
        start = time.perf_counter()
        row = duckdb.connect().execute(f"SELECT count(*), {aggs} FROM {scan}").fetchone()
        cost = row[1 + cols.index("spend" if kind == "litellm" else "EffectiveCost")]
        return {"seconds": time.perf_counter() - start, "rows_in": row[0], "cost": cost}
    sys.path.insert(0, str(HERE.parent))
    import importlib

    started = time.perf_counter()
    import great_expectations  # noqa: F401 - imported before the clock, like every other library

    from boardpack import contracts
    from boardpack import engine as engines
    from boardpack.adapters import Settings

    import_seconds = time.perf_counter() - started

    phases = {"validate": 0.0, "aggregate": 0.0}

    def timed(phase, fn):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                phases[phase] += time.perf_counter() - started
        return wrapper

    contracts.validate_view = timed("validate", contracts.validate_view)
    engines.Engine.run = timed("aggregate", engines.Engine.run)
    module = importlib.import_module(f"boardpack.adapters.{kind}")
    jvm, session_seconds, eng = None, 0.0, None
    if engine == "spark":
        jvm = JvmPeak()
        jvm.start()
        started = time.perf_counter()
        eng = engines.SparkEngine(engines.EngineSettings(name="spark"))
        session_seconds = time.perf_counter() - started
    start = time.perf_counter()
    result = module.read(path.parent, Settings(engine=eng))
    seconds = time.perf_counter() - start
    if eng is not None:
        eng.close()
    if jvm is not None:
        jvm.stop.set()
        jvm.join()
    return {"seconds": seconds, "session_seconds": session_seconds, "import_seconds": import_seconds, "phases": phases,
            "jvm_peak_mb": jvm.peak if jvm else 0.0, "spend_rows": len(result.spend), "usage_rows": len(result.usage),
            "cost": float(result.spend["EffectiveCost"].sum()), "fixes": dict(result.fixes),
            "checks": [[c.expectation, c.column, c.success] for c in result.checks], "notes": result.notes}


def measure(mode: str, kind: str, fmt: str, path: Path, engine: str = "duckdb") -> dict:
    """Run one measurement in a fresh process; its peak RSS comes from the process itself (VmHWM)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, __file__, "--child", mode, "--kind", kind, "--format", fmt,
                                 "--path", str(path), "--engine", engine], stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise SystemExit(f"{mode} {kind} {fmt} {engine} failed:\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    # ru_maxrss of a forked child also counts the parent's memory copied at fork time (Linux carries the
    # pre-exec high-water mark over), so the child's own VmHWM is preferred where the OS has it.
    fallback = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024) / 2**20
    python = result.get("vmhwm_mb") or fallback
    return {**result, "python_peak_mb": python, "peak_mb": python + result.get("jvm_peak_mb", 0.0)}


# --- the run -------------------------------------------------------------------------------------------------

def ensure_data(rows: int, data: Path, wanted: set[tuple[str, str]], chunk: int) -> Path:
    """Generate the (kind, format) files of a size that are not there yet; each has its own marker."""
    folder = data / str(rows)
    missing = [(k, f) for k, f in sorted(wanted)
               if not (folder / f".complete-{k}-{f}-{chunk}").exists() or not (folder / FILES[(k, f)]).exists()]
    if not missing:
        return folder
    sys.path.insert(0, str(HERE))
    from generate import generate

    for kind in sorted({k for k, _ in missing}):
        formats = tuple(f for k, f in missing if k == kind)
        start = time.perf_counter()
        print(f"generating {rows:,} rows of {kind} as {', '.join(formats)} in {folder} ...", flush=True)
        generate(rows, folder, chunk=chunk, formats=formats, kinds=(kind,))
        for fmt in formats:
            (folder / f".complete-{kind}-{fmt}-{chunk}").write_text("")
        print(f"  done in {time.perf_counter() - start:,.0f} s", flush=True)
    return folder


def _size(text: str) -> int:
    text = text.strip().upper().replace("_", "")
    return int(float(text[:-1]) * {"K": 1e3, "M": 1e6, "B": 1e9}[text[-1]]) if text[-1] in "KMB" else int(text)


def _gb(mb: float) -> str:
    return f"{mb / 1024:.2f} GB" if mb >= 1024 else f"{mb:,.0f} MB"


def table(results: list[dict]) -> str:
    lines = ["| rows | source | format | engine | file | bare scan | path: time | validation | aggregation "
             "| time / scan | path: peak memory | spend rows out |",
             "|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        f, a = r["floor"], r["adapter"]
        start = f" (+{a['session_seconds']:.1f} s start)" if a.get("session_seconds") else ""
        memory = _gb(a["peak_mb"]) + (f" ({_gb(a['python_peak_mb'])} Python + {_gb(a['jvm_peak_mb'])} JVM)"
                                      if a.get("jvm_peak_mb") else "")
        lines.append(f"| {r['rows']:,} | {r['kind']} | {r['format']} | {r['engine']} | {_gb(r['file_mb'])} "
                     f"| {f['seconds']:.2f} s | {a['seconds']:.1f} s{start} | {a['phases']['validate']:.1f} s "
                     f"| {a['phases']['aggregate']:.1f} s | {a['seconds'] / f['seconds']:.1f}x | {memory} "
                     f"| {a['spend_rows']:,} |")
    return "\n".join(lines)


def cases(args) -> list[tuple[int, str, str, str]]:
    sizes = [_size(s) for s in args.sizes.split(",") if s]
    spark = [_size(s) for s in args.spark_sizes.split(",") if s]
    kinds, formats, engines = args.kinds.split(","), args.formats.split(","), args.engines.split(",")
    out = []
    for rows in sorted(set(sizes) | (set(spark) if "spark" in engines else set())):
        for kind in kinds:
            for fmt in formats:
                if (fmt == "csv" and rows > _size(args.csv_max)) or (kind == "focus" and rows > _size(args.focus_max)):
                    continue
                if rows in sizes and "duckdb" in engines:
                    out.append((rows, kind, fmt, "duckdb"))
                if rows in spark and "spark" in engines and fmt == "parquet":
                    out.append((rows, kind, fmt, "spark"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1M,10M,100M", help="row counts through the DuckDB path")
    parser.add_argument("--spark-sizes", default="10M", help="row counts of gateway logs through Spark local mode")
    parser.add_argument("--formats", default="parquet,csv")
    parser.add_argument("--kinds", default="litellm,focus")
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--csv-max", default="10M", help="largest size also measured as CSV")
    parser.add_argument("--focus-max", default="10M", help="largest size also measured for FOCUS")
    parser.add_argument("--data", type=Path, default=OUT / "data")
    parser.add_argument("--chunk", type=int, default=1_000_000)
    parser.add_argument("--clean", action="store_true", help="delete the generated inputs at the end")
    parser.add_argument("--child", choices=("floor", "adapter"), help=argparse.SUPPRESS)
    parser.add_argument("--kind", help=argparse.SUPPRESS)
    parser.add_argument("--format", help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--engine", default="duckdb", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = _child(args.child, args.kind, args.format, args.path, args.engine)
        print(json.dumps({**result, "vmhwm_mb": _rss_mb(os.getpid(), "VmHWM") or None}))
        return

    import duckdb

    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "duckdb": duckdb.__version__,
               "platform": platform.platform()}
    todo = cases(args)
    results = []
    for rows in sorted({c[0] for c in todo}):
        folder = ensure_data(rows, args.data, {(k, f) for r, k, f, _ in todo if r == rows}, args.chunk)
        for _, kind, fmt, engine in [c for c in todo if c[0] == rows]:
            path = folder / FILES[(kind, fmt)]
            floor = measure("floor", kind, fmt, path)
            adapter = measure("adapter", kind, fmt, path, engine)
            results.append({"rows": rows, "kind": kind, "format": fmt, "engine": engine,
                            "file_mb": path.stat().st_size / 1e6, "floor": floor, "adapter": adapter})
            print(f"{rows:>11,} {kind:8} {fmt:8} {engine:7} scan {floor['seconds']:7.2f} s"
                  f" | path {adapter['seconds']:7.1f} s (validate {adapter['phases']['validate']:.1f} s,"
                  f" aggregate {adapter['phases']['aggregate']:.1f} s) {_gb(adapter['peak_mb'])}"
                  f" | cost scan {floor['cost']:,.2f} path {adapter['cost']:,.2f}", flush=True)
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

        for rows in sorted({c[0] for c in todo}):
            shutil.rmtree(args.data / str(rows), ignore_errors=True)


if __name__ == "__main__":
    main()
