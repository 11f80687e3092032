"""Where the heavy queries run: embedded DuckDB (the default, needs nothing) or Spark (`--engine spark`).

The queries live once, as SQL files in `boardpack/sql/`, written in DuckDB's dialect and kept to the
subset both engines run alike (docs/engines.md): no `::`, `strftime`, `list`, `quantile_*`,
`dayofweek`, no QUALIFY over aggregates, explicit `NULLS LAST`. On Spark each text is transpiled by
sqlglot first. Inputs are registered under the same view names in both engines, so the SQL never names
a file; `tests/test_engine.py` runs every shipped query on both engines and asserts identical results.

Only quarter-sized results leave an engine (`Engine.frame`), as pandas DataFrames.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .exceptions import EngineError

ENGINES = ("duckdb", "spark")
SQL_DIR = Path(__file__).resolve().parent / "sql"
JAVA_MIN = 17
# Set by boardpack.spark_submit for the kernel it starts: the master and settings spark-submit was given
MASTER_ENV, CONF_ENV = "BOARDPACK_SPARK_MASTER", "BOARDPACK_SPARK_CONF"


@dataclass(frozen=True)
class EngineSettings:
    """`[engine]` of the configuration; `--engine` on the command line overrides `name`."""

    name: str = "duckdb"
    spark_master: str = "local[2]"     # a master URL: local[N], spark://host:7077, yarn, k8s://...
    spark_remote: str = ""             # Spark Connect, e.g. sc://host:15002 (thin client, no local JVM)
    spark_conf: dict = field(default_factory=dict)  # any spark.* setting, e.g. spark.driver.memory
    # Expectations marked meta.cost = "expensive" run only on tables up to this many rows; above it they are
    # reported as skipped. None of the shipped suites marks one: uniqueness, the costly one in GX, is a count
    # of distinct values on the engine, cheap enough at every size (contracts.validate_view).
    expensive_check_rows: int = 5_000_000


def query_text(name: str) -> str:
    """The SQL of a shipped query, in DuckDB's dialect."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise ValueError(f"no shipped query {name!r} in {SQL_DIR}")
    return path.read_text(encoding="utf-8")


def shipped_queries() -> list[str]:
    return sorted(p.stem for p in SQL_DIR.glob("*.sql"))


@lru_cache(maxsize=None)
def to_spark(sql: str) -> str:
    """DuckDB SQL in Spark's dialect (sqlglot); parity tests prove each shipped query gives the same rows."""
    import sqlglot

    return sqlglot.transpile(sql, read="duckdb", write="spark")[0]


def typed(column: str, kind: str) -> str:
    """A column registered with its kind (`register_files`) typed by that kind (`schema.COLUMNS`): the
    file's own value, else its text parsed; text that does not parse becomes NULL. Timestamps end tz-naive
    in UTC: an offset is applied, none means UTC."""
    col, text = f'"{column}"', f'"{column}__text"'
    if kind == "number":
        return f"coalesce({col}, TRY_CAST({text} AS DOUBLE))"
    if kind == "datetime":
        return f"coalesce({col}, CAST(TRY_CAST({text} AS TIMESTAMPTZ) AS TIMESTAMP))"
    if kind == "boolean":
        return f"TRY_CAST({col} AS BOOLEAN)"
    return col


def typed_select(view: str, columns: dict[str, str], as_text: set[str] = frozenset(), keep: tuple = ()) -> str:
    """SELECT that types the columns of `view` by the schema's kinds; `as_text` columns stay text (their
    values did not all parse, and the contract's type check must see that); `keep` columns pass as they are."""
    parts = [(f'coalesce(CAST("{name}" AS VARCHAR), "{name}__text")' if name in as_text else typed(name, kind))
             + f' AS "{name}"' for name, kind in columns.items()] + [f'"{name}"' for name in keep]
    return f"SELECT {', '.join(parts)} FROM {view}"


def unparsed_select(view: str, columns: dict[str, str]) -> str:
    """One row: per typed column, how many values are there but do not parse as its kind."""
    parts = [f'sum(CASE WHEN "{name}__text" IS NOT NULL AND {typed(name, kind)} IS NULL THEN 1 ELSE 0 END) '
             f'AS "{name}"' for name, kind in columns.items() if kind in ("number", "datetime")]
    return f"SELECT {', '.join(parts)} FROM {view}"


class Engine:
    """One engine's session: register inputs as views, run shipped queries, hand back small frames."""

    name = "engine"
    numbers_lines = False  # whether `__line` of a `numbered` view is the row's place in its file

    def frame(self, sql: str) -> pd.DataFrame:
        """The result of a query as pandas: only for quarter-sized results."""
        raise NotImplementedError

    def run(self, query: str) -> pd.DataFrame:
        return self.frame(query_text(query))

    def create_view(self, view: str, sql: str) -> None:
        raise NotImplementedError

    def union_view(self, view: str, views: list[str]) -> None:
        """One view over views of the same columns: files of several layouts, registered one by one."""
        self.create_view(view, " UNION ALL ".join(f"SELECT * FROM {v}" for v in views))

    def register_frame(self, view: str, frame: pd.DataFrame) -> None:
        raise NotImplementedError

    def stage(self, view: str) -> None:
        """Read `view` once and keep its rows where the next queries read them faster than from its files
        (each expectation of a contract is a query of its own). Errors of reading the files surface here."""

    def register_files(self, view: str, paths: list[Path], kind: str, columns: dict[str, str | None],
                       kinds: dict[str, str] | None = None,
                       json_fields: dict[str, dict[str, str]] | None = None, raw_text: bool = False,
                       numbered: bool = False) -> None:
        """Register files as `view`: `columns` maps output names to columns of the file (None: absent, NULL),
        plus `__file`, the file each row came from, and with `numbered` (one file) `__line`, a key of each row:
        where `numbers_lines`, its line in a CSV file (the header is line 1) or its row in Parquet. Text is
        trimmed and NULL when blank (as it is, with `raw_text`, for a reader that counts its own fixes); lists,
        maps and structs become JSON text.

        A column whose `kinds` entry is number or datetime comes as two: `<name>`, the file's own DOUBLE or
        TIMESTAMP (tz-naive UTC) where the file has that type, and `<name>__text`, the text where it has
        text (CSV). Typing text is the shipped SQL's work (`typed`); native values skip it, which matters
        at a hundred million rows. A column of `json_fields` ({column: {output name: JSON path $.a.b}}) is
        parsed once per row by the engine's JSON reader and replaced by those fields as text, plus
        `<column>_bad`: 1 where the text is not JSON, else 0."""
        raise NotImplementedError

    def schema(self, paths: list[Path], kind: str, strict: bool = False) -> dict[str, str]:
        """Column name -> upper-case type name of a file, as this engine reads it (`strict`: as a `numbered`
        view of one file reads it)."""
        raise NotImplementedError

    def count(self, view: str) -> int:
        return int(self.frame(f"SELECT count(*) AS n FROM {view}")["n"].iloc[0])

    def validation_batch(self, context, view: str):
        """A Great Expectations batch over the whole view, in this engine."""
        raise NotImplementedError

    def describe(self) -> dict:
        """What ran the queries, for validation.json and the manifest."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --- DuckDB -----------------------------------------------------------------------------------------------------

class DuckDBEngine(Engine):
    name = "duckdb"
    numbers_lines = True  # WITH ORDINALITY numbers the rows of a scan in file order, on every thread count

    def __init__(self, settings: EngineSettings | None = None, database: str | None = None):
        from .adapters import duckdb_connection

        self.settings = settings or EngineSettings()
        self._database = database
        self.con = duckdb_connection(database)
        self._gx_file: Path | None = None
        self._scratch_dir: Path | None = None
        self._gx_batches: list = []

    def frame(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def create_view(self, view: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE VIEW {view} AS {sql}")

    def register_frame(self, view: str, frame: pd.DataFrame) -> None:
        self.con.register(view, frame)

    def _scan(self, paths: list[Path], kind: str, strict: bool = False) -> str:
        """A read of the files; `strict` (one CSV file): RFC 4180 with the header's columns, no sniffing.
        DuckDB's dialect sniffer, faced with rows of unequal length near the top, may decide that the data
        starts further down and skip the rows above without a word; a strict read stops at the first bad
        line and names it."""
        listed = "[" + ", ".join(_lit(str(p)) for p in paths) + "]"
        if kind == "parquet":
            return f"read_parquet({listed}, union_by_name=true, filename=true)"
        if strict:
            columns = ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in csv_header(paths[0]))
            return (f"read_csv({listed}, auto_detect=false, header=true, delim=',', quote='\"', escape='\"', skip=0, "
                    f"columns={{{columns}}}, filename=true)")
        return f"read_csv({listed}, all_varchar=true, header=true, union_by_name=true, filename=true)"

    def schema(self, paths: list[Path], kind: str, strict: bool = False) -> dict[str, str]:
        rows = self.con.execute(f"DESCRIBE SELECT * FROM {self._scan(paths, kind, strict)}").fetchall()
        return {name: typ.upper() for name, typ, *_ in rows if name != "filename"}

    def register_files(self, view, paths, kind, columns, kinds=None, json_fields=None, raw_text=False,
                       numbered=False) -> None:
        strict = numbered and len(paths) == 1
        types = self.schema(paths, kind, strict)
        parts, outer = ["filename AS __file"], []
        if numbered:
            parts.append(f"ordinality{' + 1' if kind == 'csv' else ''} AS __line")
        for name, source in columns.items():
            typ, col, want = types.get(source, ""), _q(source or ""), (kinds or {}).get(name)
            structured = typ.startswith(("MAP", "STRUCT", "JSON")) or typ.endswith("]")
            text = ("CAST(NULL AS VARCHAR)" if source is None else f"CAST(to_json({col}) AS VARCHAR)" if structured
                    else f"CAST({col} AS VARCHAR)" if raw_text else f"nullif(trim(CAST({col} AS VARCHAR)), '')")
            if want in ("number", "datetime"):
                sql_type = "DOUBLE" if want == "number" else "TIMESTAMP"
                native = source is not None and _native(typ, want)
                value = f"CAST({col} AS {sql_type})" if native else f"CAST(NULL AS {sql_type})"
                parts += [f"{value} AS {_q(name)}", f"{'CAST(NULL AS VARCHAR)' if native else text} AS {_q(name + '__text')}"]
            elif (json_fields or {}).get(name):
                # one parse per row for all paths; try() turns text that is not JSON into NULL. No trim: JSON
                # ignores the blanks, and trimming long text costs more than parsing it.
                raw = text if source is None or structured else f"nullif(CAST({col} AS VARCHAR), '')"
                paths_sql = "[" + ", ".join(_lit(p) for p in json_fields[name].values()) + "]"
                parts += [f"try(json_extract_string({raw}, {paths_sql})) AS {_q(name)}", f"{raw} IS NOT NULL AS {_q(name + '__has')}"]
                outer += [f"{_q(name)}[{i}] AS {_q(out)}" for i, out in enumerate(json_fields[name], 1)]
                outer.append(f"CASE WHEN {_q(name + '__has')} AND {_q(name)} IS NULL THEN 1 ELSE 0 END AS {_q(name + '_bad')}")
            else:
                parts.append(f"{text} AS {_q(name)}")
        scan = self._scan(paths, kind, strict)
        sql = f"SELECT {', '.join(parts)} FROM {scan}{' WITH ORDINALITY' if numbered else ''}"
        if outer:
            hidden = ", ".join(_q(n) for n in json_fields) + ", " + ", ".join(_q(n + "__has") for n in json_fields)
            sql = f"SELECT * EXCLUDE ({hidden}), {', '.join(outer)} FROM ({sql})"
        self.con.execute(f"CREATE OR REPLACE VIEW {view} AS {sql}")

    def validation_batch(self, context, view: str):
        # GX reaches DuckDB through SQLAlchemy (duckdb-engine), which needs a database file: the views of
        # this session are copied into a scratch file there; they name the input files, not their rows.
        from . import gx_duckdb

        self._gx_file = self._gx_file or self._scratch() / "views.duckdb"
        views = [sql for (sql,) in self.con.execute(
            "SELECT sql FROM duckdb_views() WHERE NOT internal ORDER BY view_oid").fetchall()]
        batch = gx_duckdb.batch(context, self._gx_file, view, views)
        self._gx_batches.append(batch)
        return batch

    def _scratch(self) -> Path:
        """This session's scratch folder, removed by `close`."""
        if self._scratch_dir is None:
            import tempfile

            self._scratch_dir = Path(tempfile.mkdtemp(prefix="boardpack-duckdb-"))
        return self._scratch_dir

    def stage(self, view: str) -> None:
        # As Parquet, not a table: GX reaches DuckDB through a connection of its own (validation_batch),
        # which sees the views' text, not this connection's tables. A CSV is parsed once instead of once per
        # expectation (1M spend rows: benchmarks/spend.py).
        path = self._scratch() / f"{view}.parquet"
        self.con.execute(f"COPY (SELECT * FROM {view}) TO {_lit(str(path))} (FORMAT parquet)")
        self.con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM read_parquet({_lit(str(path))})")

    def describe(self) -> dict:
        import duckdb

        return {"name": self.name, "version": duckdb.__version__}

    def close(self) -> None:
        self.con.close()
        for batch in self._gx_batches:  # GX keeps a DuckDB connection open for the dialect (gx_duckdb)
            batch.data.execution_engine.close()
        self._gx_batches.clear()
        if self._scratch_dir is not None:
            shutil.rmtree(self._scratch_dir, ignore_errors=True)


def csv_header(path: Path) -> list[str]:
    """The column names of a CSV file's header line (gzip or not), as a CSV reader splits them."""
    import csv
    import gzip

    with (gzip.open if path.name.lower().endswith(".gz") else open)(path, "rt", encoding="utf-8-sig", newline="") as f:
        return next(csv.reader(f), [])


def _native(typ: str, kind: str | None) -> bool:
    """Whether DuckDB's type of a file column already is the schema kind wanted (no text to parse).
    A TIMESTAMP WITH TIME ZONE becomes naive UTC by the cast, the session being in UTC."""
    base = typ.split("(")[0]
    if kind == "number":
        return base in ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT",
                        "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT")
    return kind == "datetime" and (base == "DATE" or base.startswith("TIMESTAMP"))


# --- Spark ------------------------------------------------------------------------------------------------------

class SparkEngine(Engine):
    name = "spark"

    def __init__(self, settings: EngineSettings | None = None, session=None):
        self.settings = settings or EngineSettings(name="spark")
        if session is None:
            self.spark, self._owns = spark_session(self.settings)
        else:
            self.spark, self._owns = session, False
        self._views: list[str] = []

    def _sql(self, sql: str):
        return self.spark.sql(to_spark(sql))

    def frame(self, sql: str) -> pd.DataFrame:
        df = self._sql(sql)
        # Arrow keeps None as None and int as int; without it pandas 3 strings turn into 'nan' (docs/engines.md).
        return df.toPandas()

    def create_view(self, view: str, sql: str) -> None:
        self._sql(sql).createOrReplaceTempView(view)
        self._views.append(view)

    def _read(self, paths: list[Path], kind: str):
        listed = [str(p) for p in paths]
        if kind == "parquet":
            return self.spark.read.option("mergeSchema", "true").parquet(*listed)
        # RFC 4180 quoting ("" inside a quoted value), as every CSV writer of the inputs uses
        return (self.spark.read.option("header", "true").option("inferSchema", "false").option("escape", '"')
                .csv(listed))

    def schema(self, paths: list[Path], kind: str, strict: bool = False) -> dict[str, str]:
        return {f.name: f.dataType.simpleString().upper() for f in self._read(paths, kind).schema.fields}

    def register_files(self, view, paths, kind, columns, kinds=None, json_fields=None, raw_text=False,
                       numbered=False) -> None:
        from pyspark.sql import functions as F

        df = self._read(paths, kind)
        types = {f.name: f.dataType.simpleString().upper() for f in df.schema.fields}
        # file:///a/b.csv -> /a/b.csv, as DuckDB names it
        parts = [F.regexp_replace(F.col("_metadata.file_path"), "^file:(//)?", "").alias("__file")]
        if numbered:  # unique and increasing, but not the line: Spark reads a file in parallel splits
            parts.append(F.monotonically_increasing_id().alias("__line"))
        parsed = []
        for name, source in columns.items():
            typ, want = types.get(source, ""), (kinds or {}).get(name)
            col = F.col(f"`{source}`") if source is not None else F.lit(None).cast("string")
            structured = typ.startswith(("MAP", "STRUCT", "ARRAY"))
            text = (F.to_json(col) if structured else col.cast("string") if raw_text
                    else F.when(F.trim(col.cast("string")) != "", F.trim(col.cast("string"))))
            if want in ("number", "datetime"):
                spark_type = "double" if want == "number" else "timestamp_ntz"  # ntz in UTC: the session zone
                native = source is not None and _native_spark(typ, want)
                parts += [(col.cast(spark_type) if native else F.lit(None).cast(spark_type)).alias(name),
                          (F.lit(None).cast("string") if native else text).alias(name + "__text")]
            elif (json_fields or {}).get(name):
                raw = text if source is None or structured else F.when(col.cast("string") != "", col.cast("string"))
                # parsed once, into a column of its own: inside the CASE of each field Spark would parse again
                parsed.append(name)
                parts += [F.from_json(raw, _json_schema(json_fields[name].values())).alias(f"{name}__json"),
                          raw.alias(f"{name}__raw")]
            else:
                parts.append(text.alias(name))
        if parsed:
            df = df.select(*parts)
            parts = [F.col(c) for c in df.columns if not c.endswith(("__json", "__raw"))]
            for n in parsed:
                fields = [_field(F.col(f"{n}__json"), path) for path in json_fields[n].values()]
                # from_json gives NULL fields, not NULL, for text that is not JSON; a second parser decides,
                # and only where no field was found (And short-circuits), as one parse costs about 2.5 µs
                bad = (F.col(f"{n}__raw").isNotNull() & F.coalesce(*fields).isNull()
                       & F.get_json_object(F.col(f"{n}__raw"), "$").isNull())
                parts += [F.when(~bad, field).alias(out) for out, field in zip(json_fields[n], fields)]
                parts.append(F.when(bad, 1).otherwise(0).alias(n + "_bad"))
        df.select(*parts).createOrReplaceTempView(view)
        self._views.append(view)

    def validation_batch(self, context, view: str):
        # persist=False: caching the whole table costs more than the single pass validation makes (docs/engines.md)
        asset = context.data_sources.add_spark(name=f"spark_{view}", persist=False).add_dataframe_asset(view)
        return asset.add_batch_definition_whole_dataframe("all").get_batch(
            batch_parameters={"dataframe": self.spark.table(view)})

    def describe(self) -> dict:
        info = {"name": self.name, "version": self.spark.version}
        try:
            conf = self.spark.sparkContext.getConf()
            info["master"] = conf.get("spark.master")
        except Exception:  # Spark Connect has no SparkContext on the client
            info["remote"] = self.settings.spark_remote or os.environ.get("SPARK_REMOTE", "")
            return info
        info["conf"] = {k: v for k, v in sorted(conf.getAll()) if k.startswith(
            ("spark.executor.", "spark.driver.memory", "spark.sql.shuffle.partitions", "spark.dynamicAllocation."))}
        return info

    def close(self) -> None:
        if self._owns:
            self.spark.stop()
        else:  # a session we were lent: leave it as we found it
            for view in self._views:
                self.spark.catalog.dropTempView(view)


def _json_schema(paths):
    """The Spark struct type that holds every `$.a.b` path as text."""
    from pyspark.sql import types as T

    tree: dict = {}
    for path in paths:
        node = tree
        *parents, leaf = path[2:].split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node.setdefault(leaf, None)

    def build(node):
        return T.StructType([T.StructField(k, T.StringType() if v is None else build(v)) for k, v in node.items()])
    return build(tree)


def _field(column, path: str):
    for key in path[2:].split("."):
        column = column.getField(key)
    return column


def _native_spark(typ: str, kind: str | None) -> bool:
    base = typ.split("(")[0]
    if kind == "number":
        return base in ("DOUBLE", "FLOAT", "DECIMAL", "BIGINT", "INT", "SMALLINT", "TINYINT")
    return kind == "datetime" and base in ("DATE", "TIMESTAMP", "TIMESTAMP_NTZ")


def spark_session(settings: EngineSettings):
    """(session, created): Spark Connect when `spark_remote` (or SPARK_REMOTE) is set, else the master URL.
    A session already running in this process (spark-submit, a notebook, a test) is used as it is."""
    keep_pyspark_from_exiting()
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError("The Spark engine needs pyspark, which is not installed.\n"
                          "  How to fix: make venv ENGINE=spark (or pip install '.[spark]'), then run again; "
                          "or leave ENGINE unset to use the embedded DuckDB engine.") from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    remote = settings.spark_remote or os.environ.get("SPARK_REMOTE", "")
    master = os.environ.get(MASTER_ENV) or settings.spark_master
    conf = {**settings.spark_conf, **json.loads(os.environ.get(CONF_ENV) or "{}")}
    builder = SparkSession.builder.appName("boardpack")
    if remote:
        builder = builder.remote(remote)
    else:
        check_java()
        builder = (builder.master(master)
                   .config("spark.ui.enabled", "false")                 # no port 4040
                   .config("spark.ui.showConsoleProgress", "false")     # no [Stage n] bars on stderr
                   .config("spark.sql.shuffle.partitions", "4"))
    builder = builder.config("spark.sql.session.timeZone", "UTC")      # date_trunc and casts in UTC, as DuckDB
    for key, value in conf.items():
        builder = builder.config(key, str(value))
    try:
        spark = builder.getOrCreate()
    except Exception as e:  # py4j and Connect raise many types; the first line says what happened
        raise EngineError(f"Spark did not start ({remote or master}): {str(e).strip().splitlines()[0]}\n"
                          "  How to fix: check [engine] spark_master / spark_remote in the configuration, "
                          "and that Java 17+ is installed (java -version).") from None
    if not remote:
        spark.sparkContext.setLogLevel("ERROR")
    return spark, True


def check_java() -> None:
    """Spark 4 needs Java 17 or newer on PATH or in JAVA_HOME; say how to get it when it is not there."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    how = ("  How to fix: install a Java 17+ runtime (Debian/Ubuntu: apt-get install openjdk-17-jre-headless; "
           "macOS: brew install openjdk@17) and put it on PATH or set JAVA_HOME.")
    if not java or not Path(java).exists():
        raise EngineError("The Spark engine needs Java 17 or newer, and none was found.\n" + how)
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.TimeoutExpired) as e:
        raise EngineError(f"The Spark engine needs Java 17 or newer; {java} did not run ({e}).\n" + how) from None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    major = int(m.group(1)) if m else 0
    major = int(m.group(2)) if major == 1 and m and m.group(2) else major  # "1.8.0" is Java 8
    if major < JAVA_MIN:
        raise EngineError(f"The Spark engine needs Java {JAVA_MIN} or newer; {java} is Java {major or 'unknown'}.\n" + how)


def keep_pyspark_from_exiting() -> None:
    """pyspark.sql.connect, which GX imports when pyspark is installed, takes a process whose __main__ has
    neither __spec__ nor __file__ (`python -c`, `python -`) for its own doctest run and calls sys.exit(0)
    on import: the program would stop silently with success. Such a __main__ gets a harmless __file__."""
    import sys

    main = sys.modules.get("__main__")
    if (main is not None and getattr(main, "__spec__", None) is None and not hasattr(main, "__file__")
            and not hasattr(sys, "ps1")):
        main.__file__ = os.devnull


def open_engine(settings: EngineSettings | None = None) -> Engine:
    settings = settings or EngineSettings()
    if settings.name not in ENGINES:
        raise EngineError(f"Unknown engine {settings.name!r}; use one of {', '.join(ENGINES)}.")
    return SparkEngine(settings) if settings.name == "spark" else DuckDBEngine(settings)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
