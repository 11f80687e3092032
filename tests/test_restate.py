"""Restatements (README, "Restatements"): a re-issued quarter says which numbers changed, by how much and which
recorded cause changed with them; a restated last quarter is said on the tiles and the bridge; `boardpack diff`
prints the same explanation; the earlier version is never touched.

The unit tests compare small hand-made pack folders (expectations computed by hand); one end-to-end test builds
the sample again with one changed input file (the only build of this file)."""

from __future__ import annotations

import copy
import csv
import hashlib
import html
import io
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from boardpack import pages, restate
from boardpack.cli import app

from .conftest import run_cli, tree_hashes

Q3, Q2 = "2026-Q3", "2026-Q2"
SHA_A, SHA_B, SHA_C = "a" * 64, "b" * 64, "c" * 64


# ------------------------------------------------------------------------------------------------ hand-made packs

def _inputs(**files: str) -> list[dict]:
    """Canonical tables: {"spend": sha, ...} -> manifest inputs."""
    return [{"table": t, "file": f"{t}.csv", "path": f"/data/{t}.csv", "sha256": sha, "bytes": 1, "rows": 1}
            for t, sha in files.items()]


def _record(inputs: list[dict], **over) -> dict:
    record = {"quarter": Q3, "version": None, "parameters": {"generated": "2026-10-05", "engine": "duckdb"},
              "inputs": inputs,
              "contracts": {"spend": {"version": "1.2.0", "file": "spend.json", "sha256": SHA_A}},
              "price_catalog": "genai-prices==0.2.3", "ai_catalog": "not used",
              "config": {"path": "/cfg/boardpack.toml", "sha256": SHA_A, "company": "Northwind Group",
                         "targets": {"value_multiple": 3.0, "workload_fit": 0.8}},
              "code_revision": "1" * 40, "packages": {"pandas": "2.2.3"}, "python": "3.11.7",
              "resolved": {"engine": "duckdb"}}
    for key, value in over.items():
        record[key] = value
    return record


def _ledger(rows: list[tuple[str, str, str, float]]) -> dict:
    """rows: (source, file, quarter, counted)."""
    totals: dict[str, float] = {}
    for _, _, q, counted in rows:
        totals[q] = round(totals.get(q, 0.0) + counted, 2)
    return {"currency": "USD", "counted_reporting": totals,
            "rows": [{"source": s, "file": f, "quarter": q, "currency": "USD", "read": c, "counted": c,
                      "counted_reporting": c} for s, f, q, c in rows]}


def _metrics(spend: float, value: float, use_cases: list[tuple[str, float, float]], **more) -> dict:
    return {"quarter": Q3, "currency": "USD", "status": "FINAL", "spend": spend, "value": value,
            "value_multiple": value / spend, "net_value": value - spend,
            "use_cases": [{"use_case": uc, "name": f"Use case {uc}", "spend": s, "value": v,
                           "multiple": v / s if s else None, "quadrant": "scale" if s and v / s >= 3 else "fix"}
                          for uc, s, v in use_cases], **more}


def _pack(folder: Path, metrics: dict, record: dict | None, ledger: dict | None, name: str = "manifest") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(metrics))
    if record is not None:
        (folder / f"{name}.json").write_text(json.dumps(record))
    if ledger is not None:
        (folder / "ledger.json").write_text(json.dumps(ledger))
    (folder / "board-pack.pdf").write_bytes(b"%PDF-1.7 stand-in")
    return folder


@pytest.fixture
def two_versions(tmp_path) -> Path:
    """reports/2026-Q3/{v1,v2}: v2 raised UC-1's spend by $250 in spend.csv, nothing else changed."""
    quarter = tmp_path / "reports" / Q3
    _pack(quarter / "v1", _metrics(1000.0, 3000.0, [("UC-1", 600.0, 2400.0), ("UC-2", 400.0, 600.0)]),
          _record(_inputs(spend=SHA_A, outcomes=SHA_C), version="v1"),
          _ledger([("spend table", "spend.csv", Q2, 900.0), ("spend table", "spend.csv", Q3, 1000.0)]))
    _pack(quarter / "v2", _metrics(1250.0, 3000.0, [("UC-1", 850.0, 2400.0), ("UC-2", 400.0, 600.0)]),
          _record(_inputs(spend=SHA_B, outcomes=SHA_C), version="v2"),
          _ledger([("spend table", "spend.csv", Q2, 900.0), ("spend table", "spend.csv", Q3, 1250.0)]))
    os.symlink("v2", quarter / "latest")
    return quarter


# ------------------------------------------------------------------------------------------------ compare

def test_one_changed_input_file_is_named_with_the_numbers_it_moved(two_versions):
    r = restate.compare(two_versions / "v1", two_versions / "v2")
    assert r["changed"] and (r["old"]["version"], r["new"]["version"]) == ("v1", "v2")
    moved = {h["key"]: h for h in r["headline"]}
    # by hand: spend 1000 -> 1250; value 3000 unchanged; multiple 3.0 -> 2.4; net value 2000 -> 1750
    assert set(moved) == {"spend", "value_multiple", "net_value"}
    assert (moved["spend"]["old"], moved["spend"]["new"], moved["spend"]["change"]) == (1000.0, 1250.0, 250.0)
    assert moved["spend"]["pct_change"] == pytest.approx(0.25)
    assert moved["value_multiple"]["change"] == pytest.approx(-0.6)
    assert moved["net_value"]["change"] == pytest.approx(-250.0)
    # only UC-1 moved: spend 600 -> 850, multiple 4.0 -> 2.824, scale -> fix
    [uc] = r["use_cases"]
    assert (uc["use_case"], uc["spend_change"], uc["quadrant_old"], uc["quadrant_new"]) == ("UC-1", 250.0, "scale", "fix")
    assert uc["multiple_new"] == pytest.approx(2400 / 850)
    # one cause: spend.csv, whose counted dollars moved in Q3 only (Q2 stayed 900)
    [cause] = r["causes"]
    assert (cause["kind"], cause["change"], cause["file"], cause["old_sha256"], cause["new_sha256"]) == \
        ("input", "changed", "spend.csv", SHA_A, SHA_B)
    assert cause["counted"] == [{"quarter": Q3, "old": 1000.0, "new": 1250.0, "change": 250.0}]
    e = restate.explain(r)
    assert e["attribution"] == "One recorded cause changed (spend.csv changed): every move above is attributed to it."
    assert e["causes"] == ["Input file changed: spend.csv (table spend; SHA-256 aaaaaaaa… → bbbbbbbb…); counted in "
                           "2026-Q3 $1,000.00 → $1,250.00 (+$250.00)."]
    assert ["AI spend", "$1,000.00", "$1,250.00", "+$250.00 (+25.00%)"] in e["headline"]["rows"]
    assert e["use_cases"]["rows"] == [["UC-1 Use case UC-1", "$600.00", "$850.00", "+$250.00", "—",
                                       "4.000× → 2.824×", "scale → fix"]]
    assert e["summary"] == "v2 re-issues the 2026-Q3 pack v1, generated 2026-10-05: 3 headline numbers changed and 1 use case moved."


def test_several_causes_at_once_are_named_and_not_split(tmp_path):
    old_inputs = [*_inputs(spend=SHA_A), {"table": "reference", "file": "attribution.csv", "path": "/raw/reference/attribution.csv",
                                          "sha256": SHA_A, "bytes": 1, "rows": None}]
    new_inputs = [*_inputs(spend=SHA_A, seats=SHA_C), {**old_inputs[1], "sha256": SHA_B}]
    old = _pack(tmp_path / "v1", _metrics(1000.0, 3000.0, []), _record(old_inputs), None)
    new_config = {"path": "/elsewhere/boardpack.toml", "sha256": SHA_B, "company": "Northwind plc",
                  "targets": {"value_multiple": 3.5, "workload_fit": 0.8}}
    new = _pack(tmp_path / "v2", _metrics(1100.0, 3000.0, []),
                _record(new_inputs, config=new_config, price_catalog="genai-prices==0.2.4",
                        code_revision="2" * 40, packages={"pandas": "2.3.0"}), None)
    r = restate.compare(old, new, "v2")
    kinds = [(c["kind"], c.get("file")) for c in r["causes"]]
    assert kinds == [("input", "attribution.csv"), ("input", "seats.csv"), ("price_catalog", None), ("config", None),
                     ("code", None), ("packages", None)]
    assert [c["change"] for c in r["causes"][:2]] == ["changed", "added"]
    # the configuration: the target differs; the company name only changes how the pack looks, the path nothing
    [config] = [c for c in r["causes"] if c["kind"] == "config"]
    assert config["keys"] == [{"key": "targets.value_multiple", "old": 3.0, "new": 3.5}]
    e = restate.explain(r)
    assert e["attribution"].startswith("6 recorded causes changed at once (attribution map (reference/attribution.csv) "
                                       "changed; seats.csv added; price catalog; configuration (targets.value_multiple); "
                                       "code revision; package versions)")
    assert e["attribution"].endswith(": the moves cannot be split among them.")
    assert "Presentation settings changed, which cannot move a number: company \"Northwind Group\" → \"Northwind plc\"." \
        in e["notes"]
    assert "Code revision changed: 111111111111 → 222222222222." in e["causes"]
    assert "Price catalog changed: genai-prices==0.2.3 → genai-prices==0.2.4." in e["causes"]


def test_a_change_is_half_a_cent_of_money_or_a_printed_digit_of_anything_else():
    assert not restate.changed(restate.MONEY, 100.0, 100.004)
    assert restate.changed(restate.MONEY, 100.0, 100.006)
    assert not restate.changed(restate.SHARE, 0.49343, 0.49344)       # 49.34% both
    assert restate.changed(restate.SHARE, 0.49343, 0.49356)           # 49.34% -> 49.36%
    assert not restate.changed(restate.MULTIPLE, 2.93508, 2.93465)    # 2.935× both
    assert restate.changed(restate.MULTIPLE, 2.9351, 2.9339)
    assert restate.changed(restate.MULTIPLE, None, 2.9) and not restate.changed(restate.MULTIPLE, None, None)
    old = {"spend": 1000.0, "value": 3000.0, "workload_fit": 0.71422}
    assert restate.headline_changes(old, {"spend": 1000.004, "value": 3000.0, "workload_fit": 0.71424}) == []
    [moved] = restate.headline_changes(old, {"spend": 1000.01, "value": 3000.0, "workload_fit": 0.71424})
    assert moved["key"] == "spend" and moved["change"] == pytest.approx(0.01)


def test_an_unchanged_reissue_says_so_in_the_appendix_and_has_no_page(two_versions):
    r = restate.compare(two_versions / "v1", two_versions / "v1", "v2")
    assert not r["changed"] and r["causes"] == [] and r["headline"] == [] and r["use_cases"] == []
    restatement = {"quarter": Q3, "reissue": r, "prior_quarter": None}
    assert str(pages.restatement_page(restatement, {}).data) == ""
    assert pages.sections(restatement) == list(pages.SECTIONS)
    assert pages.issue_notes(restatement) == [
        "v2 re-issues the 2026-Q3 pack v1, generated 2026-10-05: no number changed. Nothing the manifest records differs."]
    assert pages.issue_notes(None) == [] and pages.sections(None) == list(pages.SECTIONS)


def test_a_late_invoice_restates_last_quarter_and_the_ledger_says_where(tmp_path):
    """for_build: no Q3 pack yet (a first issue), Q2's published pack against Q2 as this build recomputes it."""
    reports = tmp_path / "reports"
    raw = lambda f, sha: {"table": "openai", "file": f, "path": f"/raw/openai/{f}", "sha256": sha, "bytes": 1,  # noqa: E731
                          "rows": None}
    q2 = _pack(reports / Q2 / "v1", {**_metrics(100.0, 250.0, []), "quarter": Q2, "token_spend": 60.0},
               _record([raw("2026-06.json", SHA_A)], version="v1"), _ledger([("openai", "2026-06.json", Q2, 100.0)]))
    os.symlink("v1", reports / Q2 / "latest")
    staging = reports / ".staging-test"
    previous = {"quarter": Q2, "spend": 100.5, "value": 250.0, "value_multiple": 250.0 / 100.5, "token_spend": 60.5}
    _pack(staging, _metrics(130.0, 390.0, [], previous=previous),
          _record([raw("2026-06.json", SHA_A), raw("2026-06-late.json", SHA_B), raw("2026-09.json", SHA_C)]),
          _ledger([("openai", "2026-06.json", Q2, 100.0), ("openai", "2026-06-late.json", Q2, 0.5),
                   ("openai", "2026-09.json", Q3, 130.0)]), name="provenance")
    before = tree_hashes(q2)
    result = restate.for_build(reports, Q3, staging)
    assert result["reissue"] is None
    prior = result["prior_quarter"]
    assert prior["kind"] == "prior_quarter" and prior["quarter"] == Q2 and prior["changed"]
    moved = {h["key"]: (h["old"], h["new"], h["change"]) for h in prior["headline"]}
    assert moved["spend"] == (100.0, 100.5, 0.5) and moved["token_spend"] == (60.0, 60.5, 0.5)
    assert moved["value_multiple"][:2] == (2.5, pytest.approx(250 / 100.5)) and "value" not in moved
    e = restate.explain(prior)
    assert e["summary"] == ("2026-Q2 as recomputed from this build's data differs from its published pack v1, generated "
                            "2026-10-05: AI spend restated from $100.00 to $100.50, +$0.50 (+0.50%); 3 headline numbers "
                            "restated.")
    assert e["attribution"].startswith("2 recorded causes changed at once")
    assert e["evidence"] == ["The ledgers show 2026-Q2's counted dollars moved in openai/2026-06-late.json (+$0.50).",
                             "2026-Q2 counted in total: $100.00 → $100.50 (+$0.50)."]
    assert restate.prior_note(result, "spend") == "2026-Q2 restated from $100.00 to $100.50, +$0.50, since its pack v1"
    assert restate.prior_note(result, "value") is None
    assert tree_hashes(q2) == before
    # the next version of a quarter: v1 when there is none, one past the highest otherwise
    _pack(reports / Q3 / "v1", _metrics(120.0, 390.0, [], previous=previous), _record([]), None)
    _pack(reports / Q3 / "v4", _metrics(120.0, 390.0, [], previous=previous), _record([]), None)
    os.symlink("v4", reports / Q3 / "latest")
    again = restate.for_build(reports, Q3, staging)
    assert (again["reissue"]["old"]["version"], again["reissue"]["new"]["version"]) == ("v4", "v5")


def test_diff_prints_the_explanation_and_refuses_unknown_versions(two_versions):
    runner = CliRunner()
    reports = two_versions.parent
    done = runner.invoke(app, ["diff", "--quarter", Q3, "v1", "v2", "--reports", str(reports)])
    assert done.exit_code == 0, done.output
    assert done.output == restate.text(restate.compare(two_versions / "v1", two_versions / "v2"))
    assert "Input file changed: spend.csv" in done.output and "+$250.00" in done.output
    assert runner.invoke(app, ["diff", "--quarter", Q3, "v1", "latest", "--reports", str(reports)]).output == done.output
    missing = runner.invoke(app, ["diff", "--quarter", Q3, "v1", "v7", "--reports", str(reports)])
    assert missing.exit_code == 2
    assert "v7: no such version of 2026-Q3" in missing.output and "(versions: v1, v2)" in missing.output


# ------------------------------------------------------------------------------------------------ pages

def test_a_restated_last_quarter_is_said_on_the_tiles_the_bridge_and_its_page(sample_pack):
    m = json.loads((sample_pack[0] / "metrics.json").read_text())
    published = copy.deepcopy(m["previous"])  # last quarter as its own pack had it: $2,500 of token spend less
    published.update(spend=m["previous"]["spend"] - 2500, token_spend=m["previous"]["token_spend"] - 2500,
                     value_multiple=m["previous"]["value"] / (m["previous"]["spend"] - 2500))
    old = {"version": "v1", "generated": "2026-10-02", "metrics": published, "record": _record([]), "ledger": None}
    new = {"version": "v1", "generated": None, "metrics": m, "record": _record([]), "ledger": None}
    restatement = {"quarter": m["quarter"], "reissue": None, "prior_quarter": restate.diff(old, new, figures="previous")}
    summary = html.unescape(str(pages.executive_summary(m, restatement).data))
    tile = restate.prior_note(restatement, "value_multiple")
    assert tile.startswith(f"{Q2} restated from {published['value_multiple']:.3f}× to {m['previous']['value_multiple']:.3f}×")
    assert tile in summary
    assert restate.prior_note(restatement, "spend") in summary  # the spend headline
    bridge = html.unescape(str(pages.dynamics_page(m, restatement).data))
    assert f"{Q2} token spend restated from ${published['token_spend']:,.2f} to ${m['previous']['token_spend']:,.2f}, " \
           f"+$2,500.00, since its pack v1: the bridge starts from the restated figure." in bridge
    page = html.unescape(str(pages.restatement_page(restatement, m).data))
    e = restate.explain(restatement["prior_quarter"])
    for sentence in [e["title"], e["summary"], e["attribution"], *e["causes"], *e["notes"], *sum(e["headline"]["rows"], [])]:
        assert sentence in page
    assert ("restatement", f"Restatement: {Q2} restated") in pages.sections(restatement)
    # without a restatement, nothing says restated
    assert "restated" not in str(pages.executive_summary(m).data) + str(pages.dynamics_page(m).data)


# ------------------------------------------------------------------------------------------------ end to end

def _raise_one_cost(spend_csv: Path, use_case: str, month: str, by: float) -> None:
    """Raise EffectiveCost and BilledCost of the first token row of `use_case` charged in `month` by `by`; the
    other lines keep their bytes."""
    lines = spend_csv.read_text(encoding="utf-8").splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    col = {name: header.index(name) for name in ("ChargePeriodStart", "x_UseCaseId", "x_SpendModality", "EffectiveCost",
                                                 "BilledCost")}
    for i, line in enumerate(lines[1:], 1):
        row = next(csv.reader([line]))
        if (row[col["ChargePeriodStart"]], row[col["x_UseCaseId"]], row[col["x_SpendModality"]]) == \
                (f"{month}-01T00:00:00Z", use_case, "api_tokens"):
            for name in ("EffectiveCost", "BilledCost"):
                row[col[name]] = f"{float(row[col[name]]) + by:.6f}"
            out = io.StringIO()
            csv.writer(out, lineterminator=line[len(line.rstrip("\r\n")):]).writerow(row)
            lines[i] = out.getvalue()
            spend_csv.write_text("".join(lines), encoding="utf-8")
            return
    raise AssertionError(f"no token row of {use_case} in {month}")


def _pdf_text(path: Path) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(path).pages).split())


def test_a_reissue_with_one_changed_file_names_it_diff_agrees_and_v1_is_untouched(sample_pack, sample_data, tmp_path):
    reports = tmp_path / "reports"
    shutil.copytree(sample_pack[0].parent, reports, symlinks=True)
    quarter = reports / Q3
    v1 = tree_hashes(quarter / "v1")
    assert v1 == tree_hashes(sample_pack[0] / "v1")
    data = tmp_path / "data"
    shutil.copytree(sample_data, data)
    _raise_one_cost(data / "spend.csv", "UC-07", "2026-08", 1000.0)
    proc = run_cli("build", "--data", str(data), "--reports", str(reports))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert os.readlink(quarter / "latest") == "v2"
    assert tree_hashes(quarter / "v1") == v1  # byte for byte, every file of v1

    r = json.loads((quarter / "v2" / "restatement.json").read_text())["reissue"]
    assert (r["old"]["version"], r["new"]["version"], r["changed"]) == ("v1", "v2", True)
    inputs = [c for c in r["causes"] if c["kind"] == "input"]
    assert [(c["file"], c["change"]) for c in inputs] == [("spend.csv", "changed")]
    assert inputs[0]["old_sha256"] == hashlib.sha256((sample_data / "spend.csv").read_bytes()).hexdigest()
    assert inputs[0]["new_sha256"] == hashlib.sha256((data / "spend.csv").read_bytes()).hexdigest()
    assert [(m["quarter"], round(m["change"], 2)) for m in inputs[0]["counted"]] == [(Q3, 1000.0)]
    moved = {h["key"]: round(h["change"], 2) for h in r["headline"] if h["kind"] == "money"}
    assert moved["spend"] == 1000.0 and moved["token_spend"] == 1000.0 and "value" not in moved
    assert r["use_cases"][0]["use_case"] == "UC-07" and round(r["use_cases"][0]["spend_change"], 2) == 1000.0
    assert [u["use_case"] for u in r["use_cases"]] == ["UC-07"]
    assert [c["kind"] for c in r["causes"]] == ["input"]  # same code, configuration, catalogs: one cause
    e = restate.explain(r)
    assert e["attribution"] == "One recorded cause changed (spend.csv changed): every move above is attributed to it."

    # the pack says it, in a section of its own after the executive summary, in the contents and the bookmarks
    reader = PdfReader(quarter / "v2" / "board-pack.pdf")
    assert [item.title for item in reader.outline if not isinstance(item, list)] == \
        ["Contents", "Executive summary", "Restatement: what changed since v1", *[t for _, t in pages.SECTIONS[1:]]]
    text = _pdf_text(quarter / "v2" / "board-pack.pdf")
    for sentence in [e["summary"], *e["causes"], e["attribution"]]:
        assert " ".join(sentence.split()) in text, sentence
    old_spend = json.loads((quarter / "v1" / "metrics.json").read_text())["spend"]  # the sample's, as v1 has it
    for cell in (f"${old_spend:,.2f}", "+$1,000.00", "UC-07 Contract review"):
        assert cell in text
    assert "Restatement" not in _pdf_text(quarter / "v1" / "board-pack.pdf")

    # boardpack diff prints the same explanation
    done = CliRunner().invoke(app, ["diff", "--quarter", Q3, "v1", "v2", "--reports", str(reports)])
    assert done.exit_code == 0, done.output
    assert done.output == restate.text(r)
    assert re.search(rf"AI spend +{re.escape(f'${old_spend:,.2f}')} +{re.escape(f'${old_spend + 1000:,.2f}')} "
                     r"+\+\$1,000\.00", done.output)
