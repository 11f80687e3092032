"""Spend-table benchmark: the canonical spend table at every size against a hand-written DuckDB query.

    python benchmarks/spend.py                         # 1 MB, 5 MB, 200 MB and 1M rows (about 4 min on 2 cores)
    python benchmarks/spend.py --sizes 5MB,1M          # sizes in MB of CSV or in rows

Every canonical spend table, whatever its size, is read, typed, checked and rolled up on the engine
(`boardpack/large.py`; docs/engines.md). This measures that path (`large.read_spend` on DuckDB: the strict
read, the unparsed-value count, the repeated-row hash, the spend contract through Great Expectations and the
daily rollup) against the fairest baseline: one hand-written DuckDB script doing the same work on the same file
(reading it, typing every column, counting the rows that break each of the contract's rules, hashing rows
for repeats and rolling up by day), in fresh processes, imports excluded. The file is the bundled sample's
spend table repeated with its charges moved hour by hour, so rows are distinct and roll up by day. Results
are printed as a Markdown table and written to `benchmarks/out/spend-latest.md`.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import harness  # benchmarks/harness.py: the script runs from this folder

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
SAMPLE = ROOT / "data" / "sample" / "spend.csv"


def params() -> dict:
    """The contract's parameters for the sample: its use-case ids, models and currency."""
    import pandas as pd

    ids = lambda table, col: sorted(pd.read_csv(SAMPLE.parent / f"{table}.csv")[col].dropna().astype(str))  # noqa: E731
    return {"use_case_ids": ids("use_cases", "UseCaseId"), "model_ids": ids("models", "Model"), "currencies": ["USD"]}


def make_file(target: Path, size: str) -> Path:
    """A spend CSV of `size` (`5MB` or `1M` rows): the sample's rows, copy k moved k hours later."""
    if target.exists():
        return target
    with SAMPLE.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    start, end = header.index("ChargePeriodStart"), header.index("ChargePeriodEnd")
    want_rows = int(float(size[:-1]) * 1e6) if size.upper().endswith("M") else None
    want_bytes = float(size[:-2]) * 1e6 if size.upper().endswith("MB") else None
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".partial")
    written = 0
    with tmp.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(header)
        copy = 0
        while True:
            for row in body:
                row = list(row)
                for i in (start, end):
                    t = datetime.fromisoformat(row[i].replace("Z", "+00:00")) + timedelta(hours=copy % 672)
                    row[i] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
                row[header.index("ChargeDescription")] += f" #{copy // 672}"
                out.writerow(row)
                written += 1
                if (want_rows and written >= want_rows) or (want_bytes and f.tell() >= want_bytes):
                    break
            else:
                copy += 1
                continue
            break
    tmp.rename(target)
    return target


def _child(mode: str, path: Path) -> dict:
    sys.path.insert(0, str(ROOT))
    if mode == "hand":
        import duckdb

        from boardpack.engine import csv_header  # the same strict read the path makes

        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        cols = ", ".join(f"'{c}': 'VARCHAR'" for c in csv_header(path))
        scan = (f"read_csv('{path}', auto_detect=false, header=true, delim=',', quote='\"', escape='\"', skip=0, "
                f"columns={{{cols}}})")
        num = lambda c: f'TRY_CAST(nullif(trim("{c}"), \'\') AS DOUBLE)'  # noqa: E731
        ts = lambda c: f'CAST(TRY_CAST(nullif(trim("{c}"), \'\') AS TIMESTAMPTZ) AS TIMESTAMP)'  # noqa: E731
        p = params()
        listed = lambda values: ", ".join("'" + v.replace("'", "''") + "'" for v in values)  # noqa: E731
        start = time.perf_counter()
        con.execute(f"CREATE TEMP TABLE t AS SELECT * FROM {scan}")
        checks = con.execute(f"""SELECT count(*),
            count(*) FILTER (WHERE {num('EffectiveCost')} IS NULL OR {ts('ChargePeriodStart')} IS NULL),
            count(*) FILTER (WHERE "ProviderName" IS NULL OR "ServiceName" IS NULL OR "ChargeCategory" IS NULL
                             OR "BillingCurrency" IS NULL OR "x_SpendModality" IS NULL OR "ChargeFrequency" IS NULL),
            count(*) FILTER (WHERE "ChargeCategory" NOT IN ('Usage', 'Purchase', 'Tax', 'Credit', 'Adjustment')),
            count(*) FILTER (WHERE "BillingCurrency" <> 'USD'),
            count(*) FILTER (WHERE "x_UseCaseId" NOT IN ({listed(p['use_case_ids'])})),
            count(*) FILTER (WHERE "x_Model" NOT IN ({listed(p['model_ids'])})),
            count(*) FILTER (WHERE "ChargeCategory" = 'Usage' AND {num('EffectiveCost')} < 0),
            count(*) FILTER (WHERE {ts('ChargePeriodEnd')} < {ts('ChargePeriodStart')}),
            count(*) FILTER (WHERE "x_SpendModality" = 'api_tokens' AND ("x_Model" IS NULL OR "x_TokenType" IS NULL
                             OR {num('ConsumedQuantity')} < 0)),
            count(*) - count(DISTINCT hash(COLUMNS(*)))
            FROM t""").fetchone()
        rolled = con.execute(f"""SELECT date_trunc('day', {ts('ChargePeriodStart')}) AS day, "ProviderName",
            "ServiceName", "SkuId", "x_UseCaseId", "x_Model", "x_TokenType", "ChargeCategory", "BillingCurrency",
            sum({num('EffectiveCost')}) AS cost, sum({num('ConsumedQuantity')}) AS quantity, count(*) AS n
            FROM t GROUP BY ALL""").df()
        return {"seconds": time.perf_counter() - start, "rows_in": checks[0], "rows_out": len(rolled),
                "cost": float(rolled["cost"].sum())}
    import great_expectations  # noqa: F401 - imported before the clock, like every other library

    from boardpack import contracts, large
    from boardpack.engine import DuckDBEngine

    suites = contracts.load_contracts()
    start = time.perf_counter()
    with DuckDBEngine() as duck:
        got = large.read_spend(duck, path, params(), 5_000_000, suites)
    return {"seconds": time.perf_counter() - start, "rows_in": got.rows, "rows_out": len(got.rollup),
            "cost": float(got.rollup["EffectiveCost"].sum()) if len(got.rollup) else None,
            "failed": [[c.expectation, c.column] for c in got.checks if not c.success]}


def measure(mode: str, path: Path) -> dict:
    return harness.measure(__file__, [mode, "--path", str(path)], f"{mode} on {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1MB,5MB,200MB,1M")
    parser.add_argument("--data", type=Path, default=OUT / "data" / "spend")
    parser.add_argument("--child", choices=("hand", "path"), help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        harness.child_result(_child(args.child, args.path))
        return
    lines = ["| spend table | rows | hand-written DuckDB | path | path / hand | path: peak memory | rows out |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for size in args.sizes.split(","):
        path = make_file(args.data / f"spend-{size}.csv", size)
        hand, path_ = measure("hand", path), measure("path", path)
        assert hand["rows_in"] == path_["rows_in"], (hand, path_)
        line = (f"| {size} ({path.stat().st_size / 1e6:,.0f} MB) | {path_['rows_in']:,} | {hand['seconds']:.2f} s "
                f"| {path_['seconds']:.2f} s | {path_['seconds'] / hand['seconds']:.1f}x | {path_['peak_mb']:,.0f} MB "
                f"| {path_['rows_out']:,} |")
        print(line, flush=True)
        lines.append(line)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "spend-latest.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
