"""Seat-report benchmark: the Microsoft 365 Copilot adapter on a year of large usage reports against DuckDB.

    python benchmarks/seats.py                           # 50,000 users a month for 12 months (1 to 2 min on 2 cores)
    python benchmarks/seats.py --users 5000 --months 3   # a quick look
    python benchmarks/seats.py --repeat 1                # one run of each reader instead of the median of three

The requirement: reading 50,000 users' rows a month for 12 months stays well under a second per month of data,
as a ratio to DuckDB reading the same files. The input is `--months` monthly Graph
`getMicrosoft365CopilotUsageUserDetail` v2 reports (the header of `tests/fixtures/m365_copilot/graph_v2_2026-07.csv`,
its value formats), generated deterministically (numpy seed) into a cache under the temp folder: Report Refresh
Date at each month end from 2025-10-31 (to 2026-09-30 for 12 months), Report Period 30, 1% of the users replaced
every month, names concealed (32 hex digits) for the first three months and principal names after, a Department
for most users, Last Activity Date skewed towards the refresh date (most within the period, some older, some never,
a time part now and then), per-app dates and prompt counts to match. Two fresh processes read the same files,
imports made before the clock starts:
- boardpack: `boardpack.adapters.m365.read(folder, Settings())`, the whole adapter: sniffing the files, reading
  them, typing the dates, the latest report per month, the duplicate users, seats per month and business unit,
  seat_users (one row per user and month) and the seat spend rows at the default list price;
- hand-written DuckDB: one query reading the 12 CSVs as text, lower-casing the principal name, typing the dates,
  active = Last Activity Date after the refresh date minus the period, the latest report per month, one row per
  user and month, into a table; from it the seats (licensed, active and the charge per month and department) and
  the per-user rows (as seat_users) and the per-app rows (as seat_apps: each app's date, Copilot Chat the later of
  its work and web dates, one row per user, month and app with a date, by UNPIVOT) fetched as pandas frames.
Each reader runs `--repeat` times (default 3), alternated with the other, and its median time is shown, so other
work on the machine weighs on both alike. Both results are compared (seat rows, licensed seats, active users, user
rows, anonymised users, the charge, the per-app rows) before anything is reported. Results are printed as a Markdown table and written
to `benchmarks/out/seats-latest.md`.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

import harness  # benchmarks/harness.py: the script runs from this folder

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
FORMAT = "v1"  # bump when the generated files change, so a cached set is not reused
SEED = 20261201
PRICE = 30.0  # Settings' default list price of a Microsoft 365 Copilot seat

# The Graph v2 header exactly as tests/fixtures/m365_copilot/graph_v2_2026-07.csv has it (its casing and spacing).
HEADER = ["report refresh date", "USER PRINCIPAL NAME", "Display name", "Department", "Last activity date",
          "Copilot Chat (work) Last Activity Date", "Copilot Chat (web) Last Activity Date",
          "Microsoft Teams Copilot Last Activity Date", "Word Copilot Last Activity Date",
          "Excel Copilot Last Activity Date", "PowerPoint Copilot Last Activity Date",
          "Outlook Copilot Last Activity Date", "OneNote Copilot Last Activity Date", "Loop Copilot Last Activity Date",
          "Microsoft 365 Copilot Last Activity Date", "Edge Last Activity Date", "Copilot Agent Last Activity Date",
          "Prompts submitted for all apps", "Prompts submitted for Copilot Chat (work)",
          "Prompts submitted for Copilot Chat (web)", "Active Usage Days for all apps", "Report  Period"]
APPS = HEADER[5:17]
APP_WEIGHTS = [0.30, 0.04, 0.20, 0.12, 0.06, 0.05, 0.14, 0.01, 0.02, 0.03, 0.01, 0.02]  # which app was used last
APP_ALSO = [0.45, 0.08, 0.35, 0.25, 0.15, 0.10, 0.30, 0.03, 0.05, 0.10, 0.03, 0.05]  # chance of an earlier use too
DEPARTMENTS = ["Sales", "Engineering", "Finance", "Marketing", "Operations", "Legal", "HR", "Customer Support",
               "Product", "IT", "Procurement", "Research"]
DEPARTMENT_WEIGHTS = [0.18, 0.22, 0.07, 0.08, 0.1, 0.03, 0.04, 0.12, 0.06, 0.05, 0.02, 0.03]
FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Dennis", "Radia",
         "Tim", "Katherine", "John", "Shafi", "Leslie", "Hedy", "Niklaus", "Sophie", "Yukihiro"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Ritchie",
        "Perlman", "Berners-Lee", "Johnson", "McCarthy", "Goldwasser", "Lamport", "Lamarr", "Wirth", "Wilson",
        "Matsumoto"]
# The per-app dates of breadth of use, as boardpack's seat_apps names them: Copilot Chat is the later of its work and
# web columns (boardpack/adapters/m365.py); the hand-written query builds the same long table.
APP_HEADERS = {"Teams": ["Microsoft Teams Copilot Last Activity Date"], "Outlook": ["Outlook Copilot Last Activity Date"],
               "Word": ["Word Copilot Last Activity Date"], "Excel": ["Excel Copilot Last Activity Date"],
               "PowerPoint": ["PowerPoint Copilot Last Activity Date"], "OneNote": ["OneNote Copilot Last Activity Date"],
               "Loop": ["Loop Copilot Last Activity Date"],
               "Copilot Chat": ["Copilot Chat (work) Last Activity Date", "Copilot Chat (web) Last Activity Date"]}
CONCEALED_MONTHS = 3  # the tenant showed concealed names until the end of 2025
FIRST_MONTH = "2025-10"


# --- the input ---------------------------------------------------------------------------------------------

def month_ends(months: int) -> list:
    import numpy as np

    first = np.datetime64(FIRST_MONTH, "M")
    return [(first + m + 1).astype("datetime64[D]") - 1 for m in range(months)]


def make_folder(target: Path, users: int, months: int) -> Path:
    """`months` Graph v2 reports of `users` users each under `target/m365_copilot/` (kept for the next run)."""
    import numpy as np
    import pandas as pd

    folder = target / "m365_copilot"
    done = target / "complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    churn = max(users // 100, 1)
    pool = users + churn * months
    rng = np.random.default_rng(SEED)
    ids = np.arange(pool)
    first = np.array(FIRST)[rng.integers(0, len(FIRST), pool)]
    last = np.array(LAST)[rng.integers(0, len(LAST), pool)]
    display = np.char.add(np.char.add(first, " "), last)
    upn = [f"{f}.{n.replace('-', '')}{i}@contoso.com" for f, n, i in zip(first, last, ids)]
    hashed_upn = np.array([hashlib.md5(u.lower().encode()).hexdigest() for u in upn])
    hashed_name = np.array([hashlib.md5(d.encode()).hexdigest() for d in display])
    upn = np.array(upn)
    department = np.array(DEPARTMENTS)[rng.choice(len(DEPARTMENTS), pool, p=DEPARTMENT_WEIGHTS)]
    department[rng.random(pool) < 0.04] = ""  # users with no Department in the directory
    day = lambda d: np.datetime_as_string(d, unit="D")  # noqa: E731
    for m, refresh in enumerate(month_ends(months)):
        rng = np.random.default_rng(SEED + 1 + m)
        who = rng.permutation(np.arange(m * churn, m * churn + users))  # the report's rows in no particular order
        n = len(who)
        kind = rng.choice(3, n, p=[0.72, 0.13, 0.15])  # active in the period, active before it, never active
        ago = np.where(kind == 0, np.minimum(rng.exponential(7, n).astype(int), 29), rng.integers(30, 200, n))
        seen = kind < 2
        last_day = refresh - ago.astype("timedelta64[D]")
        last_text = np.where(seen, day(last_day), "")
        timed = seen & (rng.random(n) < 0.001)  # the fixture's "2026-07-31T00:00:00Z": a time part now and then
        last_text = np.where(timed, np.char.add(last_text, "T00:00:00Z"), last_text)
        columns = {
            HEADER[0]: np.full(n, day(refresh)),
            HEADER[1]: hashed_upn[who] if m < CONCEALED_MONTHS else upn[who],
            HEADER[2]: hashed_name[who] if m < CONCEALED_MONTHS else display[who],
            HEADER[3]: department[who], HEADER[4]: last_text,
        }
        primary = rng.choice(len(APPS), n, p=APP_WEIGHTS)
        for j, app in enumerate(APPS):
            earlier = last_day - rng.integers(1, 25, n).astype("timedelta64[D]")
            used = seen & (primary == j)
            also = seen & ~used & (rng.random(n) < APP_ALSO[j])
            columns[app] = np.where(used, day(last_day), np.where(also, day(earlier), ""))
        active = kind == 0
        days = np.where(active, np.minimum(1 + rng.binomial(20, 0.3, n), 30 - np.minimum(ago, 29)), 0)
        prompts = np.where(active, days * (1 + rng.poisson(3, n)), 0)
        work = rng.binomial(prompts, 0.5)
        web = rng.binomial(prompts - work, 0.3)
        columns.update({HEADER[17]: prompts, HEADER[18]: work, HEADER[19]: web, HEADER[20]: days,
                        HEADER[21]: np.full(n, "30")})
        name = f"graph_v2_{str(refresh)[:7]}.csv"
        pd.DataFrame(columns).to_csv(folder / name, index=False, lineterminator="\n")
    done.write_text(f"{users} users x {months} months, {FORMAT}\n")
    return folder


# --- the two readers, each in a fresh process --------------------------------------------------------------

def _child(mode: str, folder: Path) -> dict:
    sys.path.insert(0, str(ROOT))
    import numpy  # noqa: F401 - every library is imported before the clock
    import pandas as pd  # noqa: F401

    if mode == "hand":
        import duckdb

        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        cols = ", ".join(f"'{c}': 'VARCHAR'" for c in HEADER)
        scan = (f"read_csv('{folder}/*.csv', auto_detect=false, header=true, delim=',', quote='\"', escape='\"', "
                f"columns={{{cols}}}, filename=true)")
        day = lambda c: f"CAST(nullif(left(trim(\"{c}\"), 10), '') AS DATE)"  # noqa: E731 - a time part is dropped

        def app_day(app: str, headers: list[str]) -> str:
            return day(headers[0]) if len(headers) == 1 else f"greatest({', '.join(day(h) for h in headers)})"

        apps = ", ".join(f'"{app}"' for app in APP_HEADERS)
        typed_apps = ", ".join(f'{app_day(app, headers)} AS "{app}"' for app, headers in APP_HEADERS.items())
        start = time.perf_counter()
        con.execute(f"""CREATE TEMP TABLE users AS
            WITH typed AS (
                SELECT lower(trim("USER PRINCIPAL NAME")) AS upn, nullif(trim("Department"), '') AS bu,
                       {day('report refresh date')} AS refresh, {day('Last activity date')} AS last,
                       CAST(regexp_extract("Report  Period", '(\\d+)') AS INTEGER) AS period, filename,
                       {typed_apps}
                FROM {scan}),
            latest AS (  -- the files of the latest refresh date of each month
                SELECT *, date_trunc('month', refresh) AS month FROM typed
                QUALIFY refresh = max(refresh) OVER (PARTITION BY date_trunc('month', refresh)))
            SELECT upn, bu, refresh, month, last, coalesce(last > refresh - period, false) AS active, filename,
                   {apps}
            FROM latest
            QUALIFY row_number() OVER (PARTITION BY month, upn ORDER BY filename) = 1  -- one row per user and month
            """)
        seats = con.execute(f"""SELECT month, bu, count(*) AS licensed, count(*) FILTER (WHERE active) AS active,
            count(*) * {PRICE} AS cost, string_agg(DISTINCT filename, ', ') AS files
            FROM users GROUP BY ALL ORDER BY ALL""").df()
        seat_users = con.execute("""SELECT 'Microsoft' AS ProviderName, 'Microsoft 365 Copilot' AS Product,
            upn AS SeatId, regexp_full_match(upn, '[0-9a-f]{32}') AS Anonymised, bu AS BusinessUnit,
            CAST(refresh AS TIMESTAMP) AS ReportDate, CAST(NULL AS TIMESTAMP) AS AssignedDate,
            CAST(last AS TIMESTAMP) AS LastActivityDate
            FROM users ORDER BY refresh, upn""").df()
        seat_apps = con.execute(f"""SELECT 'Microsoft' AS ProviderName, 'Microsoft 365 Copilot' AS Product,
            upn AS SeatId, CAST(refresh AS TIMESTAMP) AS ReportDate, App, CAST(day AS TIMESTAMP) AS LastActivityDate
            FROM (UNPIVOT (SELECT upn, refresh, {apps} FROM users) ON {apps} INTO NAME App VALUE day)
            ORDER BY refresh, upn""").df()
        seconds = time.perf_counter() - start
        return {"seconds": seconds, "seat_rows": len(seats), "licensed": int(seats["licensed"].sum()),
                "active": int(seats["active"].sum()), "user_rows": len(seat_users),
                "anonymised": int(seat_users["Anonymised"].sum()), "cost": float(seats["cost"].sum()),
                "app_rows": len(seat_apps)}
    from boardpack import sniff  # noqa: F401 - imported by files_in on first use
    from boardpack.adapters import Settings, m365

    start = time.perf_counter()
    data = m365.read(folder, Settings())
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "seat_rows": len(data.seats), "licensed": int(data.seats["LicensedSeats"].sum()),
            "active": int(data.seats["ActiveUsers"].sum()), "user_rows": len(data.seat_users),
            "anonymised": int(data.seat_users["Anonymised"].sum()), "cost": float(data.spend["EffectiveCost"].sum()),
            "app_rows": len(data.seat_apps)}


def measure(mode: str, folder: Path) -> dict:
    return harness.measure(__file__, [mode, "--folder", str(folder)], f"{mode} on {folder}")


def median_of(runs: list[dict]) -> dict:
    return {**runs[0], "seconds": statistics.median(r["seconds"] for r in runs),
            "peak_mb": max(r["peak_mb"] for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50_000, help="rows (users) in each monthly report")
    parser.add_argument("--months", type=int, default=12, help="monthly reports, from 2025-10")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each reader, alternated; the median is shown")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "boardpack-bench",
                        help="where the generated reports are kept for the next run")
    parser.add_argument("--child", choices=("hand", "boardpack"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        harness.child_result(_child(args.child, args.folder))
        return
    folder = make_folder(args.data / f"seats-{args.users}x{args.months}-{FORMAT}", args.users, args.months)
    size = sum(p.stat().st_size for p in folder.glob("*.csv"))
    hand, ours = [], []
    for _ in range(args.repeat):  # alternated, so other work on the machine weighs on both alike
        hand.append(measure("hand", folder))
        ours.append(measure("boardpack", folder))
    hand, ours = median_of(hand), median_of(ours)
    same = ("seat_rows", "licensed", "active", "user_rows", "anonymised", "cost", "app_rows")
    assert all(hand[k] == ours[k] for k in same), {k: (hand[k], ours[k]) for k in same}
    rows = args.users * args.months
    lines = ["| reports | rows | hand-written DuckDB | boardpack | boardpack per month of data | boardpack / DuckDB "
             "| boardpack: peak memory | seats rows | active users |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
             f"| {args.months} x {args.users:,} users ({size / 1e6:,.0f} MB of CSV) | {rows:,} "
             f"| {hand['seconds']:.2f} s | {ours['seconds']:.2f} s | {ours['seconds'] / args.months:.3f} s "
             f"| {ours['seconds'] / hand['seconds']:.1f}x | {ours['peak_mb']:,.0f} MB | {ours['seat_rows']:,} "
             f"| {ours['active']:,} |"]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "seats-latest.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
