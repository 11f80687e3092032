"""boardpack: the quarterly AI value board pack."""

import sys

__version__ = "0.1.0"

# jsonschema, which papermill (through nbformat) and Great Expectations import, loads rfc3987_syntax when it is
# installed (JupyterLab's jupyter-events asks for it), and that compiles 38 Lark grammars on every import: 1.8 s
# in each process of a build that imports either, about a tenth of a build (benchmarks/README.md). It serves only
# jsonschema's "iri" and "uri" format checks, which nothing boardpack runs asks for; a process that has already
# imported it keeps it.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
