"""The sample pack, built as `make quarterly-report` builds it, checked on its real outputs."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from pypdf import PdfReader

from boardpack import fmt, metrics_json
from boardpack.metrics import HEADLINE_KEYS
from boardpack.schema import COLUMNS, TABLES

from .conftest import ROOT, run_cli, tree_hashes, with_views

REQUIRED_KEYS = {"quarter", "currency", "status", "spend", "value", "value_low", "value_high", "value_multiple",
                 "unattributed_spend_share", "token_spend", "overprovisioned_spend", "workload_fit",
                 "retiering_savings", "idle_seat_cost", "portable_spend_share", "hhi", "top_provider_share",
                 "consumption_share", "open_weight_share", "bridge", "previous", "use_cases"}


def pdf_text(path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def test_pack_files(sample_pack):
    pack, proc = sample_pack
    for name in ("board-pack.pdf", "board-pack.html", "data-quality.html", "metrics.json", "manifest.json",
                 "notebooks/01-validate.ipynb", "notebooks/02-metrics.ipynb", "notebooks/03-board-pack.ipynb"):
        assert (pack / name).is_file(), name
    assert proc.stdout.strip().splitlines()[-1].startswith(f"Board pack: {pack / 'board-pack.pdf'}")
    assert not list(pack.parent.glob(".staging-*"))


def test_metrics_json_keys_and_shares(sample_pack):
    m = json.loads((sample_pack[0] / "metrics.json").read_text())
    assert REQUIRED_KEYS <= set(m) and metrics_json.problems(m) == []
    assert m["quarter"] == "2026-Q3" and m["currency"] == "USD" and m["status"] == "FINAL"
    for key in ("unattributed_spend_share", "workload_fit", "portable_spend_share", "top_provider_share",
                "consumption_share", "open_weight_share"):
        assert 0 <= m[key] <= 1, key
    assert set(m["previous"]) >= set(HEADLINE_KEYS) and m["previous"]["quarter"] == "2026-Q2"
    assert set(m["bridge"]) >= {"volume", "mix", "price", "previous_token_spend", "token_spend"}
    b = m["bridge"]
    assert round(b["volume"] + b["mix"] + b["price"], 2) == round(b["token_spend"] - b["previous_token_spend"], 2)
    assert round(b["token_spend"], 2) == round(m["token_spend"], 2)
    assert {u["quadrant"] for u in m["use_cases"]} == {"scale", "fix", "prove", "retire"}
    assert all({"spend", "value", "multiple", "quadrant"} <= set(u) for u in m["use_cases"])


def test_pdf_states_the_headline_metrics_as_metrics_json_has_them(sample_pack):
    m = json.loads((sample_pack[0] / "metrics.json").read_text())
    pages = pdf_text(sample_pack[0] / "board-pack.pdf")
    text = "\n".join(pages)
    summary = next(p for p in pages if p.startswith("Executive summary"))  # the KPI tiles
    assert fmt.multiple(m["value_multiple"]) in summary
    assert fmt.pct(m["workload_fit"]) in summary
    assert fmt.pct(m["portable_spend_share"]) in summary
    assert fmt.money(m["spend"], "USD") in text
    assert "FINAL" in pages[0] and "data warnings, see appendix" not in text
    assert len(pages) >= 8
    for heading in ("Executive summary", "Value", "Workload fit", "Flexibility", "Spend dynamics", "Appendix"):
        assert heading in text, heading
    assert re.search(r"\b2\s*/\s*%d\b" % len(pages), pages[1])  # the cover carries no number


def test_html_is_self_contained(sample_pack):
    for name in ("board-pack.html", "data-quality.html"):
        html = (sample_pack[0] / name).read_text()
        assert not re.search(r'(src|href)\s*=\s*["\']?https?://', html), name
        assert "<script src" not in html
    assert "<svg" in (sample_pack[0] / "board-pack.html").read_text()  # vector charts inline


def test_tables_are_the_validated_canonical_tables(sample_pack):
    tables = sample_pack[0] / "tables"
    for name in TABLES:
        frame = pd.read_parquet(tables / f"{name}.parquet")
        assert list(COLUMNS[name]) == [c for c in frame.columns if c in COLUMNS[name]]
    spend = pd.read_parquet(tables / "spend.parquet")
    quarters = set(spend["ChargePeriodStart"].dt.to_period("Q").astype(str))
    assert {"2026Q2", "2026Q3"} <= quarters and max(quarters) == "2026Q3"


def test_manifest_traces_inputs_and_outputs(sample_pack, sample_data):
    pack = sample_pack[0]
    manifest = json.loads((pack / "manifest.json").read_text())
    inputs = {i["table"]: i for i in manifest["inputs"]}
    hashes = tree_hashes(sample_data)
    for table in TABLES:
        assert inputs[table]["sha256"] == hashes[inputs[table]["file"]]
    assert manifest["price_catalog"].startswith("genai-prices==")
    assert set(manifest["contracts"]) == set(TABLES) | {"coverage", "gateway_logs"}
    assert all(c["version"] for c in manifest["contracts"].values())
    assert manifest["packages"]["great-expectations"] == "1.24.1"
    assert manifest["code_revision"]
    assert manifest["parameters"]["quarter"] is None and manifest["resolved"]["quarter"] == "2026-Q3"
    outputs = tree_hashes(pack)
    for name, entry in manifest["outputs"].items():
        assert outputs[name] == entry["sha256"], name


def test_the_build_keeps_its_log_in_the_pack_and_the_manifest_hashes_it(sample_pack):
    pack = sample_pack[0]
    lines = (pack / "logs" / "build.log").read_text().splitlines()
    stdout = sample_pack[1].stdout
    assert "building the latest complete quarter from" in lines[0]
    # each step's summary, as the terminal printed it, with its time
    for step in ("validate", "metrics", "render"):
        said = next(line for line in stdout.splitlines() if line.strip().startswith(f"✓ {step}"))
        summary = said.split(step, 1)[1].split("  (")[0].strip()
        assert any(f"INFO    boardpack.build: {step}: {summary} (" in line for line in lines), (step, summary)
    assert lines[-1].endswith("exports written; writing the manifest and publishing")
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (INFO|DEBUG|WARNING|ERROR) ", line) for line in lines)
    manifest = json.loads((pack / "manifest.json").read_text())
    assert manifest["outputs"]["logs/build.log"]["sha256"] == tree_hashes(pack)["logs/build.log"]


def test_a_duckdb_build_never_loads_pyspark(sample_pack):
    """Great Expectations imports pyspark whenever it is installed (and it is, for the Spark tests); a build on
    DuckDB keeps it out of its kernels (boardpack/__init__.py, NO_PYSPARK). The Spark pack says the opposite."""
    validation = json.loads((sample_pack[0] / "validation.json").read_text())
    assert validation["engine"]["name"] == "duckdb" and validation["engine"]["pyspark_imported"] is False


def test_executed_notebooks_carry_the_parameters(sample_pack, sample_data):
    nb = json.loads((sample_pack[0] / "notebooks" / "01-validate.ipynb").read_text())
    assert nb["metadata"]["papermill"]["parameters"]["data_dir"] == str(sample_data)


def test_committed_notebooks_have_no_outputs():
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        nb = json.loads(path.read_text())
        assert all(not c.get("outputs") and not c.get("execution_count") for c in nb["cells"] if c["cell_type"] == "code"), path
        assert any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb["cells"]), path


def test_the_same_inputs_render_the_same_bytes(sample_pack, sample_data, tmp_path):
    # A rebuilt pack must be the same pack: the send log knows a pack by its PDF's SHA-256 (never twice).
    pack, _ = sample_pack
    proc = run_cli("build", "--data", str(sample_data), "--reports", str(tmp_path), env=with_views())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    again = tmp_path / "2026-Q3"
    dates = [json.loads((p / "manifest.json").read_text())["parameters"]["generated"] for p in (pack, again)]
    if dates[0] != dates[1]:
        pytest.skip("the two builds straddled midnight: the cover date differs")
    role_views = sorted(f"views/{p.name}" for p in (pack / "views").iterdir())  # README, "Role views"
    assert len(role_views) >= 5 and "views/cfo.pdf" in role_views
    for name in ("board-pack.pdf", "board-pack.html", "metrics.json", "ledger.json", *role_views):
        assert (pack / name).read_bytes() == (again / name).read_bytes(), name
