"""Finance exports (README, "Finance exports"): every table as CSV and one XLSX workbook, read back independently:
the CSV files against the parquet tables and metrics.json, the workbook by openpyxl and by LibreOffice Calc
(headless), and hostile use-case names inert in both. One sample pack for the session; the hostile cases run
`exports.write` in-process on a copy of it."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from boardpack import exports
from boardpack.metrics import HEADLINE_KEYS
from boardpack.schema import SPEND_COLUMNS, TABLES

# The sheets of the sample pack's tables: the canonical ones finance gets (the seat reports' users and GitHub Copilot's
# metrics go through their lists, exports.NOT_EXPORTED), then the pack's own lists for IT, downgrade and reclaim.
SHEETS = [t for t in TABLES if t not in exports.NOT_EXPORTED] + ["downgrade", "reclaim"]

HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+cmd", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]
# Export every sheet (token 12: -1), UTF-8 (76), comma, double quote, raw values not as shown (token 9: false),
# no formulas (token 10: false): LibreOffice's CSV filter options, help page "CSV Filter Options" (7.2 and later).
LO_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def pack_of(sample_pack) -> Path:
    return (sample_pack[0] / "latest").resolve()


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), f"{path.name} starts with a byte-order mark"
    return list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))


def libreoffice_sheets(xlsx: Path, out: Path) -> dict[str, list[list[str]]]:
    """Every sheet of `xlsx` as LibreOffice Calc reads it and writes it to CSV: {sheet: rows}."""
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice is missing: `make test` installs it (libreoffice-calc-nogui), or apt-get install it"
    out.mkdir()
    # a profile of its own: a first start writes one, and two instances must not share it
    proc = subprocess.run([soffice, f"-env:UserInstallation={(out / 'profile').as_uri()}", "--headless",
                           "--convert-to", LO_FILTER, "--outdir", str(out), str(xlsx)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    prefix = f"{xlsx.stem}-"
    return {p.stem[len(prefix):]: read_csv(p) for p in sorted(out.glob(f"{prefix}*.csv"))}


def same_value(libre: str, ours: str) -> bool:
    """LibreOffice writes a number to 15 significant digits (what Calc shows at most); ours keep every digit."""
    if libre == ours:
        return True
    if PLAIN_NUMBER.fullmatch(ours):
        # Calc can round twice (to 17 digits, then 15): 0.41188845550905145 shows as 0.411888455509052, one unit of
        # the 15th digit off the single rounding, which is still the same number to the digits Calc keeps
        return float(libre) == float(f"{float(ours):.15g}") or abs(float(libre) - float(ours)) <= 1e-14 * abs(float(ours))
    return False


def unescaped(text: str) -> str:
    """A string cell's text: a control character is stored as _xHHHH_ (ECMA-376), which openpyxl leaves as is."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m[1], 16)), text)


def expected_text(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# --- the CSV files ----------------------------------------------------------------------------------------

def test_every_table_csv_holds_the_parquet_values(sample_pack):
    pack = pack_of(sample_pack)
    for path in sorted((pack / "tables").glob("*.parquet")):
        if path.stem in exports.NOT_EXPORTED:
            assert not (pack / "exports" / f"{path.stem}.csv").exists()
            continue
        frame = pd.read_parquet(path)
        rows = read_csv(pack / "exports" / f"{path.stem}.csv")
        assert rows[0] == list(frame.columns), path.stem
        assert len(rows) == len(frame) + 1, path.stem
        for i, column in enumerate(frame.columns):
            text = [r[i] for r in rows[1:]]
            values = frame[column]
            where = f"{path.stem}.{column}"
            if pd.api.types.is_datetime64_any_dtype(values):  # an empty date (a seat never used) is an empty cell
                assert all(DAY.fullmatch(t) if pd.notna(v) else t == "" for t, v in zip(text, values)), \
                    f"{where}: a day is written YYYY-MM-DD"
                parsed = pd.to_datetime(pd.Series(text).replace("", None), format="ISO8601")
                assert parsed.tolist() == values.tolist() or parsed.equals(values.rename(None)), where
            elif pd.api.types.is_bool_dtype(values):
                assert text == ["TRUE" if v else "FALSE" for v in values], where
            elif pd.api.types.is_numeric_dtype(values):
                assert all(PLAIN_NUMBER.fullmatch(t) for t in text if t), f"{where}: plain numbers only"
                assert [float(t) if t else None for t in text] == \
                       [None if pd.isna(v) else float(v) for v in values], where
            else:
                assert text == ["" if pd.isna(v) else expected_text(str(v)) for v in values], where


def test_headline_and_ledger_csv_state_metrics_json_and_ledger_json(sample_pack):
    pack = pack_of(sample_pack)
    metrics = json.loads((pack / "metrics.json").read_text())
    rows = read_csv(pack / "exports" / "headline.csv")
    assert rows[0] == ["name", "value", "unit"]
    headline = {name: (value, unit) for name, value, unit in rows[1:]}
    for key in ("quarter", "currency", "status", *HEADLINE_KEYS):
        value, unit = headline[key]
        if isinstance(metrics[key], str):
            assert value == metrics[key], key
        else:
            assert PLAIN_NUMBER.fullmatch(value) and float(value) == metrics[key], key
        assert unit and unit != "not stated", key
    assert headline["spend"][1] == metrics["currency"] == "USD"
    assert headline["workload_fit"][1] == "share, 0 to 1"
    assert float(headline["bridge.mix"][0]) == metrics["bridge"]["mix"] < 0  # a real negative number, not text
    assert not [name for name, (_, unit) in headline.items() if not unit or unit == "not stated"]

    book = json.loads((pack / "ledger.json").read_text())
    ledger = read_csv(pack / "exports" / "ledger.csv")
    assert len(ledger) == len(book["rows"]) + 1
    for line, row in zip(ledger[1:], book["rows"]):
        for column, text in zip(ledger[0], line):
            value = row[column]
            assert (float(text) == value) if isinstance(value, float) else (text == str(value)), column


def test_every_column_of_every_export_states_its_unit_and_spend_keeps_focus_names(sample_pack):
    exported = pack_of(sample_pack) / "exports"
    described = read_csv(exported / "columns.csv")
    assert described[0] == ["table", "column", "unit", "meaning"]
    units = {(t, c): (u, m) for t, c, u, m in described[1:]}
    files = {p.stem: read_csv(p)[0] for p in exported.glob("*.csv")}
    assert set(units) == {(t, c) for t, header in files.items() for c in header}
    assert not [k for k, (u, _) in units.items() if not u or u == "not stated"]
    assert not [k for k, (_, m) in units.items() if not m]
    assert files["spend"] == list(SPEND_COLUMNS)  # FOCUS 1.2 names and the x_ extensions, as in the pack
    for money in ("ListCost", "ContractedCost", "EffectiveCost", "BilledCost"):
        assert units[("spend", money)][0] == "USD", money
    assert units[("spend", "ChargePeriodStart")][0] == "date, YYYY-MM-DD"
    assert units[("models", "InputPricePerMTok")][0] == "USD per 1M tokens"


# --- the workbook -----------------------------------------------------------------------------------------

def test_the_workbook_has_a_sheet_per_csv_with_numbers_as_numbers_and_dates_as_dates(sample_pack):
    exported = pack_of(sample_pack) / "exports"
    book = openpyxl.load_workbook(exported / exports.WORKBOOK)
    assert book.sheetnames == ["headline", *SHEETS, "ledger", "columns"]
    for name in book.sheetnames:
        rows = read_csv(exported / f"{name}.csv")
        cells = list(book[name].iter_rows())
        assert len(cells) == len(rows), name
        for line, row in zip(rows, cells):
            for text, cell in zip(line, row):
                assert cell.data_type != "f", (name, cell.coordinate)
                if cell.value is None:
                    assert text == "", (name, cell.coordinate)
                elif cell.is_date:
                    assert cell.value.date().isoformat() == text, (name, cell.coordinate)
                elif isinstance(cell.value, bool):
                    assert text == ("TRUE" if cell.value else "FALSE"), (name, cell.coordinate)
                elif isinstance(cell.value, (int, float)):
                    # XlsxWriter stores 16 significant digits, one more than Excel keeps
                    assert float(f"{float(text):.16g}") == cell.value, (name, cell.coordinate)
                else:
                    assert cell.data_type == "s" and unescaped(cell.value) == text, (name, cell.coordinate)
    spend = book["spend"]
    assert spend["A2"].is_date and spend["A2"].number_format == "yyyy-mm-dd"
    assert isinstance(spend.cell(2, list(SPEND_COLUMNS).index("EffectiveCost") + 1).value, float)


def test_libreoffice_reads_the_workbook_as_the_csv_files(sample_pack, tmp_path):
    exported = pack_of(sample_pack) / "exports"
    sheets = libreoffice_sheets(exported / exports.WORKBOOK, tmp_path / "lo")
    assert set(sheets) == {p.stem for p in exported.glob("*.csv")}
    for name, libre in sheets.items():
        ours = read_csv(exported / f"{name}.csv")
        assert len(libre) == len(ours), name
        for r, (a, b) in enumerate(zip(libre, ours)):
            assert len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b)), (name, r, a, b)


def test_the_workbook_is_dated_by_the_pack_and_the_same_pack_gives_the_same_bytes(sample_pack, tmp_path):
    pack = pack_of(sample_pack)
    generated = json.loads((pack / "manifest.json").read_text())["parameters"]["generated"]
    props = openpyxl.load_workbook(pack / "exports" / exports.WORKBOOK).properties
    assert props.created.date().isoformat() == props.modified.date().isoformat() == generated
    copy = shutil.copytree(pack, tmp_path / "again")
    # 2 s after the build wrote them at least (a zip entry's time has a 2 s resolution): the clock has moved
    time.sleep(max(0.0, 2.1 - (time.time() - (pack / "exports" / exports.WORKBOOK).stat().st_mtime)))
    exports.write(copy)
    for path in sorted((pack / "exports").iterdir()):
        assert (copy / "exports" / path.name).read_bytes() == path.read_bytes(), path.name


def test_the_exports_are_in_the_manifest(sample_pack):
    pack = pack_of(sample_pack)
    outputs = json.loads((pack / "manifest.json").read_text())["outputs"]
    files = sorted((pack / "exports").iterdir())
    assert {p.name for p in files} == {f"{t}.csv" for t in ("headline", *SHEETS, "ledger", "columns")} | {exports.WORKBOOK}
    for path in files:
        assert outputs[f"exports/{path.name}"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


# --- hostile text -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", HOSTILE)
def test_text_that_would_start_a_formula_is_quoted(text):
    assert exports.neutralise(text) == "'" + text


@pytest.mark.parametrize("value", [-2, -2.5, 0, "Copilot", "2+3", "x=1", "'=quoted already", "", None])
def test_numbers_and_harmless_text_are_left_alone(value):
    assert exports.neutralise(value) == value


@pytest.fixture(scope="module")
def hostile_pack(sample_pack, tmp_path_factory) -> Path:
    """A copy of the sample pack whose use cases are named to attack a spreadsheet, exported in-process."""
    copy = shutil.copytree(pack_of(sample_pack), tmp_path_factory.mktemp("hostile") / "pack")
    cases = pd.read_parquet(copy / "tables" / "use_cases.parquet")
    cases.loc[: len(HOSTILE) - 1, "Name"] = HOSTILE
    cases.loc[0, "Owner"] = "-Priya"
    cases.to_parquet(copy / "tables" / "use_cases.parquet")
    exports.write(copy)
    return copy


def test_hostile_names_are_quoted_in_the_csv(hostile_pack):
    rows = read_csv(hostile_pack / "exports" / "use_cases.csv")
    names = [r[rows[0].index("Name")] for r in rows[1:]]
    assert names[: len(HOSTILE)] == ["'" + h for h in HOSTILE]
    assert rows[1][rows[0].index("Owner")] == "'-Priya"
    headline = {r[0]: r[1] for r in read_csv(hostile_pack / "exports" / "headline.csv")}
    assert headline["bridge.mix"] == "-652709.59"  # a negative number stays a number


def test_hostile_names_are_text_cells_in_the_workbook(hostile_pack):
    book = openpyxl.load_workbook(hostile_pack / "exports" / exports.WORKBOOK)
    sheet = book["use_cases"]
    column = [c.value for c in sheet[1]].index("Name") + 1
    for row, text in enumerate(HOSTILE, 2):
        cell = sheet.cell(row, column)
        assert cell.data_type == "s" and unescaped(cell.value) == "'" + text, cell.coordinate
    assert not [c.coordinate for ws in book for r in ws.iter_rows() for c in r if c.data_type == "f"]
    mix = next(r for r in book["headline"].iter_rows() if r[0].value == "bridge.mix")[1]
    assert mix.data_type == "n" and mix.value < 0


def test_libreoffice_shows_hostile_names_as_literal_text(hostile_pack, tmp_path):
    sheets = libreoffice_sheets(hostile_pack / "exports" / exports.WORKBOOK, tmp_path / "lo")
    rows = sheets["use_cases"]
    names = [r[rows[0].index("Name")] for r in rows[1:]]
    # a formula would show its result ("x", 2, an error), not its text
    assert names[: len(HOSTILE)] == ["'" + h for h in HOSTILE]
    assert rows == read_csv(hostile_pack / "exports" / "use_cases.csv")


def test_the_workbook_writes_text_as_text_even_unquoted(sample_pack, tmp_path, monkeypatch):
    # the second guard: were the quote ever lost, a string cell is still a string, never a formula
    copy = shutil.copytree(pack_of(sample_pack), tmp_path / "pack")
    monkeypatch.setattr(exports, "neutralise", lambda value: value)
    exports.write(copy, tables={"passed_in": pd.DataFrame({"Name": HOSTILE[:4] + ["#N/A", "http://evil.example"]})})
    sheet = openpyxl.load_workbook(copy / "exports" / exports.WORKBOOK)["passed_in"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [(c.data_type, c.value) for c in cells] == [("s", v) for v in HOSTILE[:4] + ["#N/A", "http://evil.example"]]
    assert not sheet._hyperlinks


# --- a later table ----------------------------------------------------------------------------------------

def test_a_table_added_to_the_pack_or_passed_in_becomes_a_csv_and_a_sheet(sample_pack, tmp_path):
    copy = shutil.copytree(pack_of(sample_pack), tmp_path / "pack")
    added = pd.DataFrame({"UseCaseId": ["UC-01", "UC-02"], "Amount": [1e-7, -1.5e20],
                          "Since": pd.to_datetime(["2026-07-01", "2026-08-01"]), "Note": ["@later", None]})
    added.to_parquet(copy / "tables" / "in_folder.parquet")
    exports.write(copy, tables={"passed_in": added})
    book = openpyxl.load_workbook(copy / "exports" / exports.WORKBOOK)
    assert book.sheetnames == ["headline", *SHEETS[:-1], "in_folder", "passed_in", "reclaim", "ledger", "columns"]
    for name in ("in_folder", "passed_in"):
        assert read_csv(copy / "exports" / f"{name}.csv") == [
            ["UseCaseId", "Amount", "Since", "Note"], ["UC-01", "0.0000001", "2026-07-01", "'@later"],
            ["UC-02", "-150000000000000000000", "2026-08-01", ""]]  # never an exponent
    units = {(t, c): u for t, c, u, _ in read_csv(copy / "exports" / "columns.csv")[1:]}
    assert units[("passed_in", "Since")] == "date, YYYY-MM-DD" and units[("passed_in", "Note")] == "text"
    assert units[("passed_in", "Amount")] == "not stated"  # a number nobody described says so
