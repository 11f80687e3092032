"""metrics.json's schema (issue 15, item 4): what the build writes is checked against
boardpack/data/metrics.schema.json, and every reader refuses a file the schema does not describe, naming the key.
In process, on the small tables of test_metrics.py (the sample pack's own file is checked in test_end_to_end.py)."""

from __future__ import annotations

import json

import pytest

from boardpack import exports, metrics, metrics_json, views
from boardpack.exceptions import MetricsFileError
from boardpack.steps import json_text

from .test_metrics import Q3, REF, SCENARIOS, TARGETS, no_token_tables, tables  # noqa: F401  (tables: a fixture)


def written(out: dict) -> dict:
    """metrics.json as the build writes it (NaN as null), read back."""
    return json.loads(json_text(out))


def test_the_metrics_of_quarters_with_and_without_a_basis_are_valid(tables):  # noqa: F811
    for given in (tables, no_token_tables(tables), no_token_tables(tables, outcomes=False, use_cases=False)):
        out = written(metrics.quarter_metrics(given, Q3, TARGETS, REF, "USD", "FINAL", SCENARIOS))
        assert metrics_json.problems(out) == []


def test_a_wrong_number_is_named_by_its_key_and_nothing_is_written(tables, tmp_path):  # noqa: F811
    out = written(metrics.quarter_metrics(tables, Q3, TARGETS, REF, "USD", "FINAL", SCENARIOS))
    bad = json.loads(json.dumps(out))
    bad["spend"] = None  # a NaN spend is written as null: a missing total is not a number of the pack
    bad["use_cases"][0]["quadrant"] = "grow"
    bad["seats"][0]["licensed_seats"] = -3.0
    bad["status"] = "DRAFT"
    bad["new_number"] = 1.0  # a key the schema does not describe yet
    del bad["forecast"]["mape"]
    found = metrics_json.problems(bad)
    assert found == ["(top): Additional properties are not allowed ('new_number' was unexpected)",
                     "forecast: 'mape' is a required property",
                     "seats[0].licensed_seats: -3.0 is less than the minimum of 0",
                     "spend: None is not of type 'number'",
                     "status: 'DRAFT' is not one of ['FINAL', 'PROVISIONAL']",
                     "use_cases[0].quadrant: 'grow' is not one of ['scale', 'fix', 'prove', 'retire']"]
    with pytest.raises(MetricsFileError) as e:
        metrics_json.write({**out, "value_multiple": -1.0}, tmp_path)
    assert str(e.value).startswith(f"{tmp_path / 'metrics.json'}: not a valid metrics.json (1 problem):\n"
                                   "  - value_multiple: -1.0 is less than the minimum of 0")
    assert not (tmp_path / "metrics.json").exists()
    # a NaN where a number may be missing is written as null and passes; a NaN total does not
    assert metrics_json.write({**out, "unit_cost_per_mtok": float("nan")}, tmp_path).is_file()
    with pytest.raises(MetricsFileError, match="spend: None is not of type 'number'"):
        metrics_json.write({**out, "spend": float("nan")}, tmp_path)


def test_a_bare_nan_in_a_file_is_not_a_number(tables, tmp_path):  # noqa: F811
    out = written(metrics.quarter_metrics(tables, Q3, TARGETS, REF, "USD", "FINAL", SCENARIOS))
    text = json_text(out).replace('"value": ' + json.dumps(out["value"]), '"value": NaN', 1)
    (tmp_path / "metrics.json").write_text(text)
    with pytest.raises(MetricsFileError, match=r"value: nan is not a finite number"):
        metrics_json.read(tmp_path)


@pytest.mark.parametrize("reader", ["exports", "views"])
def test_readers_refuse_a_metrics_json_the_schema_does_not_describe(tables, tmp_path, reader):  # noqa: F811
    out = written(metrics.quarter_metrics(tables, Q3, TARGETS, REF, "USD", "FINAL", SCENARIOS))
    (tmp_path / "metrics.json").write_text(json_text({**out, "reclaim": {"days": [90]}}))
    with pytest.raises(MetricsFileError, match=r"reclaim: 'products' is a required property"):
        exports.write(tmp_path) if reader == "exports" else views.write(tmp_path, None, "2026-10-01", 14)


def test_every_number_of_metrics_json_is_described_in_its_schema():
    props = metrics_json.schema()["properties"]
    assert set(props) == set(metrics_json.schema()["required"])
    assert [k for k, v in props.items() if len(v.get("description", "")) < 10] == []
    # the headline keys the pages and the restatement compare are all named, with their definitions in docs/
    assert set(metrics.HEADLINE_KEYS) <= set(props)
    doc = open("docs/metrics.md", encoding="utf-8").read()
    assert "boardpack/data/metrics.schema.json" in doc
