"""Packs of organisations without token spend, built as a new user builds them (issue 10, item 1).

Two raw folders, each built once through the CLI for 2026-Q3 (with earlier quarters in the data):
- seats only: the Microsoft 365 and GitHub Copilot seat-report fixtures, nothing else;
- FOCUS only: a cloud bill with GPU compute (AWS p5 under "AI and Machine Learning", Azure Machine Learning)
  and no token rows.
Neither has a use_cases/ or outcomes/ folder, as a first export rarely does: the pack must render, stamped
PROVISIONAL, say which metrics have no basis instead of printing a number, and name the missing tables.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from boardpack import fmt

from .conftest import run_cli
from .test_end_to_end import pdf_text

FIXTURES = Path(__file__).parent / "fixtures"
NO_TOKENS = "no token spend this quarter"
NO_OUTCOMES = "no outcomes recorded"


@dataclass
class Pack:
    folder: Path
    stdout: str
    metrics: dict
    validation: dict
    pages: list[str]

    def page(self, heading: str) -> str:
        """The text of the page a section starts on (one line: the PDF breaks lines anywhere)."""
        found = [p for p in self.pages if heading in p]
        assert found, f"no page with {heading!r}"
        return " ".join(found[-1].split())

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.pages).split())


def build(data: Path, reports: Path) -> Pack:
    proc = run_cli("build", "--quarter", "2026-Q3", "--data", str(data), "--reports", str(reports))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    folder = reports / "2026-Q3"
    return Pack(folder, proc.stdout, json.loads((folder / "metrics.json").read_text()),
                json.loads((folder / "validation.json").read_text()), pdf_text(folder / "board-pack.pdf"))


@pytest.fixture(scope="module")
def seats_only(tmp_path_factory) -> Pack:
    data = tmp_path_factory.mktemp("seats-only")
    for source in ("m365_copilot", "github_copilot"):
        shutil.copytree(FIXTURES / source, data / source)
    return build(data, tmp_path_factory.mktemp("reports"))


@pytest.fixture(scope="module")
def focus_only(tmp_path_factory) -> Pack:
    data = tmp_path_factory.mktemp("focus-only")
    shutil.copytree(FIXTURES / "no_tokens" / "focus", data / "focus")
    return build(data, tmp_path_factory.mktemp("reports"))


@pytest.fixture(params=["seats_only", "focus_only"])
def pack(request) -> Pack:
    return request.getfixturevalue(request.param)


# --- both packs ---------------------------------------------------------------------------------------------

def test_the_pack_renders_and_the_build_summary_says_what_has_no_basis(pack):
    assert (pack.folder / "board-pack.pdf").is_file() and len(pack.pages) >= 8
    metrics_line = next(line for line in pack.stdout.splitlines() if "metrics" in line and "workload fit" in line)
    assert f"workload fit: {NO_TOKENS}" in metrics_line and f"value multiple: {NO_OUTCOMES}" in metrics_line


def test_metrics_json_has_no_number_where_there_is_no_basis(pack):
    m = pack.metrics
    assert m["token_spend"] == 0 and m["tokens"] == 0 and m["spend"] > 0
    assert m["workload_fit"] is None and m["unit_cost_per_mtok"] is None and m["open_weight_share"] is None
    assert m["value_multiple"] is None and m["value"] == 0
    assert m["no_basis"]["workload_fit"] == NO_TOKENS and m["no_basis"]["value_multiple"] == NO_OUTCOMES
    assert m["rag"]["workload_fit"] is None and m["rag"]["value_multiple"] is None
    assert m["bridge"] is None and m["no_basis"]["bridge"].startswith("no token spend")
    assert m["retiering"] == [] and m["retiering_savings"] == 0
    # no use-case register: every dollar is unattributed, none of it is portable
    assert m["unattributed_spend"] == pytest.approx(m["spend"]) and m["unattributed_spend_share"] == 1


def test_every_page_where_a_token_metric_would_be_says_there_is_no_token_spend(pack):
    summary = pack.page("Executive summary")
    assert summary.count(NO_TOKENS) >= 2  # the workload-fit tile and the right-sizing headline
    assert NO_OUTCOMES in summary
    assert NO_TOKENS in pack.page("Workload fit: the right model for the work")
    dynamics = pack.page("Spend dynamics: volume, mix and price of token spend")
    assert NO_TOKENS in dynamics and "Token spend moved from" not in dynamics
    assert NO_OUTCOMES in pack.page("Value: what the spend returns")
    assert "nan" not in pack.text.lower().split() and "None" not in pack.text.split()


def test_the_pack_is_provisional_and_names_the_missing_tables_and_their_folders(pack):
    assert pack.metrics["status"] == "PROVISIONAL"
    assert all("PROVISIONAL" in page for page in pack.pages)
    failed = {c["table"]: c for c in pack.validation["checks"] if not c["success"]}
    for table in ("use_cases", "outcomes"):
        check = failed[table]
        assert check["severity"] == "warning"
        assert f"{table}/" in check["rule"] and f"{table}/" in check["hint"]
    appendix = pack.page("Appendix B: data confidence")
    assert "use_cases/" in appendix and "outcomes/" in appendix
    quality = (pack.folder / "data-quality.html").read_text()
    assert "add a use_cases/ folder" in quality and "add an outcomes/ folder" in quality


# --- seats only ---------------------------------------------------------------------------------------------

def test_seats_only_counts_seats_and_idle_cost(seats_only):
    m = seats_only.metrics
    assert m["use_cases"] == []
    products = {s["product"] for s in m["seats"]}
    assert products == {"Microsoft 365 Copilot", "GitHub Copilot Business", "GitHub Copilot Enterprise"}
    assert m["modality"] == {"seat_licence": pytest.approx(m["spend"])}
    assert m["idle_seat_cost"] > 0 and m["rightsizing_opportunity"] == pytest.approx(m["idle_seat_cost"])
    assert fmt.money(m["idle_seat_cost"], "USD") in seats_only.page("Workload fit: the right model for the work")


# --- FOCUS only ---------------------------------------------------------------------------------------------

def test_focus_only_gpu_spend_without_a_seat_report(focus_only):
    m = focus_only.metrics
    assert set(m["modality"]) == {"self_hosted", "platform"} and m["seats"] == [] and m["idle_seat_cost"] == 0
    # the p5 rows carry a use_case tag: listed under its id, but with no register and no outcome it is no
    # evidence of value, and the spend stays unattributed
    assert [(u["use_case"], u["name"], u["stage"], u["quadrant"]) for u in m["use_cases"]] == [
        ("UC-GPU", "UC-GPU", None, "prove")]
    assert m["unattributed_spend_share"] == 1
    assert "not in the register" in focus_only.page("Appendix A: use cases")
    failed = [c for c in focus_only.validation["checks"] if not c["success"]]
    assert not [c for c in failed if c["severity"] == "critical"]
    assert "seats" not in {c["table"] for c in failed}  # nothing is charged per seat: no seat report is missing


def test_focus_only_forecast_has_no_token_part(focus_only):
    fc = focus_only.metrics["forecast"]
    assert not fc["insufficient"] and "api_tokens" not in fc["parts"] and set(fc["growth"]) == {"self_hosted", "platform"}
    outlook = focus_only.page("Outlook: forecast and scenarios")
    assert f"tokens: {NO_TOKENS}" in outlook
    assert "no effect: no token spend" in outlook  # the usage-growth and price scenarios change nothing
