"""Great Expectations on DuckDB: a SQL datasource over a scratch DuckDB file holding the views to check.

GX 1.24 needs two fixes for DuckDB (docs/engines.md; GX issues #10738 and #11579): it fetches rows after
returning a pooled connection, which DuckDB answers with an empty result (every metric fails with
IndexError), and it has no regex expression for the dialect. Both are patched once, on first use.
SQLAlchemy stays below 2.1, whose reflection breaks duckdb-engine 0.17.
"""

from __future__ import annotations

import importlib
from pathlib import Path

MEMORY_LIMIT = "1GB"  # the checks stream over the files; this bounds DuckDB's buffers during validation
_patched = False


class _Dialect(str):
    """GX reads `.value` from the entries of its persisted-connection tuple."""

    @property
    def value(self):
        return str(self)


def patch() -> None:
    global _patched
    if _patched:
        return
    import great_expectations.execution_engine.sqlalchemy_execution_engine as see
    import great_expectations.expectations.metrics.util as mu
    import sqlalchemy as sa

    see._PERSISTED_CONNECTION_DIALECTS = (*see._PERSISTED_CONNECTION_DIALECTS, _Dialect("duckdb"))
    original = mu.get_dialect_regex_expression

    def regex(column, regex, dialect, positive=True):
        expr = original(column, regex, dialect, positive)
        if expr is None and getattr(getattr(dialect, "dialect", dialect), "name", None) == "duckdb":
            expr = sa.func.regexp_matches(column, sa.literal(regex))  # partial match, as pandas does
            expr = expr if positive else sa.not_(expr)
        return expr

    for name in ("column_map_metrics.column_values_match_regex", "column_map_metrics.column_values_not_match_regex",
                 "column_map_metrics.column_values_match_regex_list",
                 "column_map_metrics.column_values_not_match_regex_list",
                 "column_aggregate_metrics.column_values_match_regex_values",
                 "column_aggregate_metrics.column_values_not_match_regex_values"):
        importlib.import_module(f"great_expectations.expectations.metrics.{name}").get_dialect_regex_expression = regex
    mu.get_dialect_regex_expression = regex
    _patched = True


def batch(context, database: Path, view: str, views: list[str]):
    """A GX batch over `view`, defined (with the views it reads) in the DuckDB file `database`."""
    import duckdb

    patch()
    with duckdb.connect(str(database)) as con:
        con.execute("SET TimeZone = 'UTC'")
        for sql in views:
            con.execute(sql.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1))
    source = context.data_sources.add_sql(
        name=f"duckdb_{view}", connection_string=f"duckdb:///{database}",
        kwargs={"connect_args": {"config": {"memory_limit": MEMORY_LIMIT}}})
    return source.add_table_asset(view, table_name=view).add_batch_definition_whole_table("all").get_batch()
