"""metrics.json, the numbers every page, view, mail and export reads: written and read through here, and checked
against its JSON Schema (`boardpack/data/metrics.schema.json`, described in docs/metrics.md) both times.

A build that would write a metrics.json the schema refuses stops before any page is drawn; a reader that finds one
(a file edited by hand, or a pack of an older boardpack whose numbers the pages no longer know) says which key is
wrong instead of drawing a page from it. Numbers must be finite: a NaN or an infinity is a wrong number, not a
missing one (missing is null). The build writes a NaN as null, so the schema then judges whether null is allowed there.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

from .exceptions import MetricsFileError

NAME = "metrics.json"
SCHEMA = "metrics.schema.json"  # in boardpack/data


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    text = resources.files("boardpack").joinpath("data", SCHEMA).read_text(encoding="utf-8")
    return cast(dict[str, Any], json.loads(text))  # a JSON Schema is an object


def problems(m: Any) -> list[str]:
    """What is wrong with `m` as the content of metrics.json, each as "<where>: <what>"; [] when nothing is."""
    from jsonschema import Draft202012Validator

    found = [f"{_where(e.absolute_path)}: {_short(e.message)}"
             for e in sorted(Draft202012Validator(schema()).iter_errors(m), key=lambda e: list(map(str, e.path)))]
    return found + [f"{where}: {v!r} is not a finite number" for where, v in _non_finite(m, [])]


REBUILD = (f"rebuild the pack with this boardpack (`boardpack build`); {NAME} is written by the build and is not to "
           f"be edited. Its schema: boardpack/data/{SCHEMA}.")
DEFECT = (f"nothing was written: these numbers would have been wrong or unexplained on a page. This is a defect of "
          f"boardpack, not of the data; report it with the problems above. Its schema: boardpack/data/{SCHEMA}.")


def check(m: Any, source: str, hint: str = REBUILD) -> dict[str, Any]:
    """`m` when it is a valid metrics.json; else MetricsFileError naming `source`, the first problems and `hint`."""
    found = problems(m)
    if found:
        shown = "\n".join(f"  - {p}" for p in found[:8]) + (f"\n  ... and {len(found) - 8} more" if len(found) > 8 else "")
        raise MetricsFileError(
            f"{source}: not a valid {NAME} ({len(found)} problem{'s' if len(found) != 1 else ''}):\n{shown}\n"
            f"  How to fix: {hint}")
    return cast(dict[str, Any], m)  # valid, and the schema's top level is "type": "object"


def read(folder: str | Path) -> dict[str, Any]:
    """The checked metrics.json of a pack folder."""
    path = Path(folder) / NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise MetricsFileError(f"{path}: not valid JSON ({e}).") from None
    return check(data, str(path))


def write(m: dict[str, Any], folder: str | Path) -> Path:
    """Check `m` as it will be written (NaN and infinities as null: steps.write_json), then write it as the folder's
    metrics.json."""
    from .steps import json_text

    path, text = Path(folder) / NAME, json_text(m)
    check(json.loads(text), str(path), DEFECT)
    path.write_text(text, encoding="utf-8")
    return path


def _non_finite(value: Any, path: list[str | int]) -> list[tuple[str, float]]:
    if isinstance(value, float) and not math.isfinite(value):
        return [(_where(path), value)]
    if isinstance(value, dict):
        return [hit for k, v in value.items() for hit in _non_finite(v, path + [k])]
    if isinstance(value, list):
        return [hit for i, v in enumerate(value) for hit in _non_finite(v, path + [i])]
    return []


def _short(message: str, limit: int = 160) -> str:
    return message if len(message) <= limit else message[:limit] + "..."


def _where(path: Iterable[str | int]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(path)) or "(top)"
