"""The data contracts: loaded safely, and a warning renders a PROVISIONAL pack."""

from __future__ import annotations

import json
import shutil

import pytest
from pypdf import PdfReader

from boardpack import contracts
from boardpack.exceptions import ConfigError
from boardpack.schema import TABLES

from .conftest import run_cli
from .test_bad_input import corrupt_csv


def test_every_table_has_a_suite_and_every_expectation_a_severity():
    loaded = contracts.load_contracts()
    # the five tables, coverage, and the gateway logs, checked where they are read (boardpack.engine)
    assert set(loaded) == set(TABLES) | {"coverage", "gateway_logs"}
    for c in loaded.values():
        assert len(c.suite.expectations) == len(c.raw["expectations"]) > 0
        assert {e["meta"]["severity"] for e in c.raw["expectations"]} <= {"critical", "warning"}


def test_an_unknown_expectation_type_is_refused_not_dropped(tmp_path):
    raw = json.loads((contracts.CONTRACTS_DIR / "seats.json").read_text())
    raw["expectations"].append({"type": "expect_column_values_to_be_sparkly", "kwargs": {"column": "Product"},
                                "meta": {"severity": "critical"}})
    (tmp_path / "seats.json").write_text(json.dumps(raw))
    with pytest.raises(ConfigError, match="expect_column_values_to_be_sparkly"):
        contracts.load_contracts(tmp_path)


def test_an_expectation_without_severity_is_refused(tmp_path):
    raw = json.loads((contracts.CONTRACTS_DIR / "seats.json").read_text())
    del raw["expectations"][2]["meta"]["severity"]
    (tmp_path / "seats.json").write_text(json.dumps(raw))
    with pytest.raises(ConfigError, match="meta.severity"):
        contracts.load_contracts(tmp_path)


def test_sample_passes_every_check_and_coverage_is_measured(sample_data, tmp_path):
    from boardpack import steps

    gate = steps.validate("2026-Q3", sample_data, None, tmp_path)
    assert gate.status == "FINAL", gate.report()
    assert 0.85 <= gate.coverage["attributed_spend_share"] <= 1
    assert gate.coverage["spend_months"] == 3


def test_warnings_render_a_provisional_pack_stamped_on_every_page(sample_data, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sample_data, data)
    corrupt_csv(data / "outcomes.csv", 5, "Owner", "")          # a warning: every outcome should name its owner
    proc = run_cli("build", "--data", str(data), "--reports", str(tmp_path / "reports"))
    assert proc.returncode == 0, proc.stderr
    pack = tmp_path / "reports" / "2026-Q3"
    metrics = json.loads((pack / "metrics.json").read_text())
    assert metrics["status"] == "PROVISIONAL"
    pages = [p.extract_text() for p in PdfReader(pack / "board-pack.pdf").pages]
    assert all("PROVISIONAL – data warnings, see appendix" in text for text in pages)
    assert all(text.count("PROVISIONAL") >= 2 for text in pages)  # the header line and the watermark
    validation = json.loads((pack / "validation.json").read_text())
    failed = [c for c in validation["checks"] if not c["success"]]
    assert [(c["table"], c["column"], c["severity"]) for c in failed] == [("outcomes", "Owner", "warning")]
    assert "outcomes" in "".join(pages) and "Owner" in "".join(pages)      # the appendix lists it
    assert "line 5" in (pack / "data-quality.html").read_text()


# --- tables a first raw folder often lacks (issue 10, item 1) ---------------------------------------------------

def test_raw_folder_without_use_cases_or_outcomes_is_provisional_naming_table_and_folder(tmp_path):
    from boardpack import steps

    from .test_adapter_seats import M365

    data = tmp_path / "data"
    shutil.copytree(M365, data / "m365_copilot")
    (data / "outcomes").mkdir()  # there, but nothing in it yet
    gate = steps.validate("2026-Q3", data, None, tmp_path / "out")
    assert gate.status == "PROVISIONAL" and not gate.critical
    missing = {c.table: c for c in gate.warnings if c.expectation == "expect_table_row_count_to_be_between"}
    assert set(missing) == {"use_cases", "outcomes"}
    assert "no use_cases/ folder" in missing["use_cases"].rule and "add a use_cases/ folder" in missing["use_cases"].hint
    assert "no rows in the outcomes/ folder" in missing["outcomes"].rule
    assert "add an outcomes/ folder" in missing["outcomes"].hint or "outcomes/ folder" in missing["outcomes"].hint
    report = gate.report()
    assert "[WARNING] use_cases" in report and "[WARNING] outcomes" in report
    # coverage of outcomes is not reported a second time: the missing ledger says it all
    assert not [c for c in gate.warnings if c.column in ("outcome_months", "use_cases_with_outcomes_share")]


def test_a_header_only_table_that_stops_the_run_is_named(sample_data, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sample_data, data)
    header = (data / "outcomes.csv").read_text().splitlines()[0]
    (data / "outcomes.csv").write_text(header + "\n")
    proc = run_cli("build", "--data", str(data), "--reports", str(tmp_path / "reports"))
    assert proc.returncode == 2
    assert "[CRITICAL] outcomes.csv: the outcomes table has at least one row" in proc.stderr + proc.stdout
    assert "the outcome ledger has a header but no rows" in proc.stderr + proc.stdout
