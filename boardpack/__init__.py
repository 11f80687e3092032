"""boardpack: the quarterly AI value board pack."""

import os
import sys

__version__ = "0.1.0"

# jsonschema, which papermill (through nbformat) and Great Expectations import, loads rfc3987_syntax when it is
# installed (JupyterLab's jupyter-events asks for it), and that compiles 38 Lark grammars on every import: 1.8 s
# in each process of a build that imports either, about a tenth of a build (benchmarks/README.md). It serves only
# jsonschema's "iri" and "uri" format checks, which nothing boardpack runs asks for; a process that has already
# imported it keeps it.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

# Great Expectations imports pyspark whenever it is installed (about 120 modules, and a warning that pyspark does
# not support pandas 3). A build on DuckDB sets this variable for its notebook kernels (boardpack/build.py), so that
# only a build that asked for Spark loads it; validation.json says whether a run loaded it (`pyspark_imported`).
NO_PYSPARK = "BOARDPACK_NO_PYSPARK"
if os.environ.get(NO_PYSPARK) == "1":
    sys.modules.setdefault("pyspark", None)  # type: ignore[arg-type]
