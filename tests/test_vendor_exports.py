"""Every dollar accounted for, on raw folders in the shapes the vendors publish (tests/fixtures/vendor/).

For each scenario (every source alone, seat-only and FOCUS-only organisations, a whole-account FOCUS export,
overlapping fetches, and every source together) the gate passes, the pack's spend for 2026-Q3 and 2026-Q2 is
the counted total that `expected.json` gives (labelled row by row by the generator, which does not import
boardpack), and the dollar ledger balances and reads exactly the money that the raw files hold, summed here
by a reader of its own. Two scenarios are also built into real packs through the command line.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pypdf import PdfReader

from boardpack import steps

from .conftest import run_cli

VENDOR = Path(__file__).parent / "fixtures" / "vendor"
EXPECTED = json.loads((VENDOR / "expected.json").read_text())
SCENARIOS = sorted(k for k in EXPECTED if not k.startswith("_"))
QUARTERS = ("2026-Q2", "2026-Q3")
CENT = 0.01


# --- the money in the raw files, read without boardpack ----------------------------------------------------

def _quarter(day: str) -> str:
    year, month = int(day[:4]), int(day[5:7])
    return f"{year}-Q{(month - 1) // 3 + 1}"


def _pages(path: Path) -> list:
    doc = json.loads(path.read_text(encoding="utf-8-sig"))
    pages = doc if isinstance(doc, list) else [doc]
    return [b for p in pages for b in (p.get("data") or [])]


def _csv_rows(path: Path):
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        yield from csv.DictReader(fh)


def raw_money(folder: Path) -> dict[tuple[str, str, str, str], float]:
    """(source, file, quarter, currency) -> the money a file states, as its vendor states it."""
    money: dict = defaultdict(float)

    def add(source, path, day, currency, amount):
        money[(source, path.relative_to(folder / source).as_posix(), _quarter(day), currency.strip().upper())] += amount

    for path in sorted((folder / "openai").rglob("*.json")):
        for bucket in _pages(path):
            day = datetime.fromtimestamp(bucket["start_time"], tz=timezone.utc).strftime("%Y-%m-%d")
            for r in bucket.get("results") or []:
                if "amount" in r:
                    add("openai", path, day, r["amount"]["currency"], float(r["amount"]["value"]))
    for path in sorted((folder / "anthropic").rglob("*.json")):
        for bucket in _pages(path):
            for r in bucket.get("results") or []:
                if "amount" in r:  # a decimal string in cents
                    add("anthropic", path, bucket["starting_at"], r.get("currency") or "USD", float(r["amount"]) / 100)
    litellm = sorted(p for p in (folder / "litellm").rglob("*") if p.suffix in (".csv", ".gz"))
    logs = [p for p in litellm if "SpendLogs" in p.name]
    for path in logs or litellm:  # the daily rollups describe the spend logs' requests again
        for r in _csv_rows(path):
            add("litellm", path, r.get("startTime") or r.get("date"), "USD", float(r["spend"] or 0))
    for path in sorted(p for p in (folder / "focus").rglob("*") if p.is_file()):
        assert path.name.endswith((".csv", ".csv.gz")), f"no reader here for {path}"
        for r in _csv_rows(path):
            cost = r.get("EffectiveCost")
            if cost in (None, "", "NULL"):
                cost = r.get("BilledCost")
            if cost not in (None, "", "NULL"):
                add("focus", path, r["ChargePeriodStart"], r["BillingCurrency"], float(cost))
    return dict(money)


def test_the_independent_reader_agrees_with_expected_json():
    for name in SCENARIOS:
        money = raw_money(VENDOR / name)
        for q in QUARTERS:
            usd = sum(v for (_, _, quarter, cur), v in money.items() if quarter == q and cur == "USD")
            if all(key[3] == "USD" for key in money):
                assert usd == pytest.approx(EXPECTED[name][q]["read"], abs=CENT), (name, q)


# --- every scenario, in-process: the gate, the metrics, the ledger --------------------------------------------

@pytest.fixture(scope="module", params=SCENARIOS)
def run(request, tmp_path_factory):
    name = request.param
    out = tmp_path_factory.mktemp(name)
    gate = steps.validate("2026-Q3", VENDOR / name, None, out)
    metrics = steps.compute(out, None)
    ledger = json.loads((out / "ledger.json").read_text())
    return name, gate, metrics, ledger


def test_the_gate_passes(run):
    name, gate, _, _ = run
    assert gate.status in ("FINAL", "PROVISIONAL"), (name, gate.report())


def test_the_pack_spend_is_every_counted_dollar_of_the_quarter_and_the_one_before(run):
    name, _, m, _ = run
    expected = EXPECTED[name]
    assert m["spend"] == pytest.approx(expected["2026-Q3"]["counted"], abs=CENT)
    assert m["previous"]["spend"] == pytest.approx(expected["2026-Q2"]["counted"], abs=CENT)
    assert m["token_spend"] == pytest.approx(expected["2026-Q3"]["token_spend"], abs=CENT)
    assert m["previous"]["token_spend"] == pytest.approx(expected["2026-Q2"]["token_spend"], abs=CENT)


def test_the_ledger_balances_and_reads_what_the_files_hold(run):
    name, _, m, ledger = run
    assert ledger["balanced"] and all(abs(r["balance"]) < CENT for r in ledger["rows"])
    # file by file: seat reports hold no money (their ledger rows are estimates), every other file its own
    read = {(r["source"], r["file"], r["quarter"], r["currency"]): r["read"] for r in ledger["rows"] if r["read"]}
    money = raw_money(VENDOR / name)
    assert set(read) == {k for k, v in money.items() if round(v, 2)}, name
    for key, amount in money.items():
        assert read.get(key, 0.0) == pytest.approx(amount, abs=0.0051), (name, key)  # rows are rounded to the cent
    assert ledger["counted_reporting"]["2026-Q3"] == pytest.approx(m["spend"], abs=CENT)
    single_currency = {key[3] for key in money} <= {"USD"}
    for q in QUARTERS:
        not_ai = ledger["quarters"][q].get("USD", {}).get("not_ai", 0.0)
        if single_currency:
            assert not_ai == pytest.approx(EXPECTED[name][q]["not_ai"], abs=CENT), (name, q)


# --- two packs built as a user builds them -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    packs = {}
    for name in ("all_sources", "focus_whole_account"):
        reports = tmp_path_factory.mktemp(f"reports-{name}")
        proc = run_cli("build", "--data", str(VENDOR / name), "--reports", str(reports), "--quarter", "2026-Q3")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        packs[name] = reports / "2026-Q3"
    return packs


@pytest.mark.parametrize("name", ["all_sources", "focus_whole_account"])
def test_a_built_pack_counts_every_ai_dollar_and_shows_the_ledger(built, name):
    pack = built[name]
    m = json.loads((pack / "metrics.json").read_text())
    assert m["spend"] == pytest.approx(EXPECTED[name]["2026-Q3"]["counted"], abs=CENT)
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(pack / "board-pack.pdf").pages)
    assert "Dollar ledger" in text and "AI spend in the pack" in text
    quality = (pack / "data-quality.html").read_text()
    assert "Dollar ledger: where every input dollar went" in quality
    manifest = json.loads((pack / "manifest.json").read_text())
    assert manifest["ai_catalog"].startswith("boardpack AI-spend catalog")


def test_whole_account_ledger_names_what_was_dropped_as_not_ai(built):
    ledger = json.loads((built["focus_whole_account"] / "ledger.json").read_text())
    dropped = [d for d in ledger["not_ai_services"] if d["quarter"] == "2026-Q3"]
    assert dropped and dropped == sorted(dropped, key=lambda d: -d["amount"])
    # the AI a careless filter misses: seat licences outside AI and Machine Learning, GPUs bought as compute
    assert not {d["service"] for d in dropped} & {"Microsoft 365 Copilot", "GitHub Enterprise Cloud"}
    m = json.loads((built["focus_whole_account"] / "metrics.json").read_text())
    assert m["modality"]["seat_licence"] > 0 and m["modality"]["self_hosted"] > 0


def test_all_sources_counts_each_providers_spend_once_and_says_who_superseded_whom(built):
    pack = built["all_sources"]
    ledger = json.loads((pack / "ledger.json").read_text())
    litellm = [r for r in ledger["rows"] if r["source"] == "litellm" and r["quarter"] == "2026-Q3"]
    # the gateway's Azure traffic is the FOCUS export's Azure OpenAI rows: superseded by focus
    assert any("focus" in r["superseded_by"] and r["superseded"] > 0 for r in litellm)
    sources = json.loads((pack / "sources.json").read_text())
    # the Costs API pages cover 2026-Q2 only; the gateway alone reports OpenAI in 2026-Q3, so it counts then
    assert sources["truth"]["OpenAI · api tokens"] == "openai (2026-04 to 2026-06); litellm (2026-07 to 2026-09)"
