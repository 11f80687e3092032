"""Build the pack from `spark-submit`, on the cluster spark-submit was pointed at.

    PYSPARK_PYTHON=$PWD/.venv/bin/python spark-submit --master yarn --deploy-mode client \\
        --conf spark.executor.memory=8g \\
        boardpack/spark_submit.py --quarter 2026-Q3 --data /lake/ai-spend --reports /shared/reports

The pack's Spark work runs in the validate notebook's kernel, a process of its own; it cannot share the
session spark-submit made. So this script reads that session's master and settings, stops it, and builds
with `--engine spark` and those settings, so that the kernel's session is an application on the same
cluster, configured the same way. Client mode only: the build renders PDFs, so the driver runs where
boardpack is installed. The arguments are those of `boardpack build`.
"""

from __future__ import annotations

import json
import os
import sys

# Settings that belong to the spark-submit application itself, not to the one the kernel starts.
OWN = ("spark.app.", "spark.driver.host", "spark.driver.port", "spark.executor.id", "spark.submit.pyFiles",
       "spark.files", "spark.jars", "spark.repl.", "spark.sql.warehouse.dir", "spark.ui.proxy", "spark.yarn.dist.",
       "spark.yarn.secondary.jars", "spark.rdd.compress", "spark.serializer.objectStreamReset",
       "spark.submit.deployMode", "spark.master")


def session_settings() -> tuple[str, dict]:
    """(master URL, spark.* settings) of the session spark-submit created; the session is stopped."""
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    conf = dict(spark.sparkContext.getConf().getAll())
    spark.stop()
    master = conf.get("spark.master", "local[2]")
    return master, {k: v for k, v in sorted(conf.items()) if not k.startswith(OWN)}


def main(argv: list[str] | None = None) -> None:
    from .cli import app
    from .engine import CONF_ENV, MASTER_ENV

    master, conf = session_settings()
    # the kernel inherits the environment; boardpack.engine.spark_session reads these over [engine]
    os.environ[MASTER_ENV], os.environ[CONF_ENV] = master, json.dumps(conf)
    app(["build", "--engine", "spark", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    if __package__ in (None, ""):  # run as a file by spark-submit: import the installed package
        from boardpack.spark_submit import main as run
        run()
    else:
        main()
