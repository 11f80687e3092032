"""Outcomes and use-case sheets as analysts keep them: header aliases, title rows, months as dates or text,
yes/no flags, case-folded grades, CSV and XLSX, several files concatenated."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from boardpack.adapters import Settings, sheets
from boardpack.exceptions import InputError
from boardpack.schema import OUTCOMES_COLUMNS, USE_CASES_COLUMNS

FIXTURES = Path(__file__).parent / "fixtures"


def workbook(path: Path, sheets_rows: dict[str, list[list]]) -> Path:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets_rows.items():
        sheet = book.create_sheet(name)
        for r in rows:
            sheet.append(r)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


OUTCOME_HEADER = ["UseCaseId", "Month", "Outcome Type", "Quantity", "Unit", "ValueLow", "ValueBase", "ValueHigh",
                  "Evidence", "Method", "Owner"]


# --- outcomes --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def outcomes():
    return sheets.read_outcomes(FIXTURES / "outcomes", Settings())


def test_outcomes_have_the_canonical_columns_and_types(outcomes):
    frame = outcomes.outcomes
    assert list(frame.columns) == list(OUTCOMES_COLUMNS)
    assert str(frame["Month"].dtype) == "datetime64[us]"
    assert all(frame[c].dtype == float for c in ("Quantity", "ValueLow", "ValueBase", "ValueHigh"))
    assert outcomes.name == "outcomes" and outcomes.files == [FIXTURES / "outcomes" / "outcomes_q3_2026.csv"]


def test_outcome_headers_below_title_rows_and_under_aliases(outcomes):
    # "Use case ID", " month ", "Qty", "Value (base)", "Evidence grade" sit on line 3 under two title lines
    first = outcomes.outcomes.iloc[0]
    assert (first["UseCaseId"], first["OutcomeType"], first["Quantity"], first["Unit"]) == (
        "UC-01", "Employee hours saved", 1200.0, "hours")
    assert outcomes.fixes["sheets.title_rows_skipped"] == 2


def test_outcome_values_typed_with_currency_signs_and_thousands_separators(outcomes):
    first = outcomes.outcomes.iloc[0]
    assert (first["ValueLow"], first["ValueBase"], first["ValueHigh"]) == (36000.0, 60000.0, 90000.0)  # "$36,000"
    assert outcomes.fixes["sheets.number_formatting_removed"] == 4  # "1,200" and three "$..,..."


def test_months_as_text_dates_and_month_names(outcomes):
    assert list(outcomes.outcomes["Month"]) == [pd.Timestamp("2026-07-01"),  # "2026-07"
                                                pd.Timestamp("2026-08-01"),  # "2026-08-15"
                                                pd.Timestamp("2026-07-01")]  # "Jul 2026"
    assert outcomes.fixes["sheets.date_to_month_start"] == 1


def test_evidence_grades_are_case_folded_and_blank_rows_dropped(outcomes):
    # written "Measured", "ESTIMATED", " assumed "
    assert list(outcomes.outcomes["Evidence"]) == ["measured", "estimated", "assumed"]
    assert outcomes.fixes["sheets.evidence_case_folded"] == 2
    assert outcomes.fixes["sheets.blank_row_dropped"] == 1
    assert pd.isna(outcomes.outcomes.iloc[2]["Method"])  # empty cell -> null


def test_xlsx_and_csv_are_concatenated_and_workbook_cells_keep_their_types(tmp_path):
    folder = tmp_path / "outcomes"
    folder.mkdir()
    shutil.copy(FIXTURES / "outcomes" / "outcomes_q3_2026.csv", folder)
    workbook(folder / "september.xlsx", {
        "README": [["How to fill in this workbook"]],
        "Sept": [[], ["September outcomes"], OUTCOME_HEADER,
                 ["UC-01", datetime(2026, 9, 1), "Employee hours saved", 1400, "hours", 42000, 70000, 105000,
                  "Measured", "Time study", "Priya Raman"],
                 ["UC-02", 46280, "Tickets deflected", 600, "tickets", 6000, 12000, 18000, "estimated",
                  "Ticket tags", "Tom Becker"]],
    })
    data = sheets.read_outcomes(folder, Settings())
    frame = data.outcomes
    assert len(frame) == 3 + 2
    sept = frame[frame["Month"] == pd.Timestamp("2026-09-01")]
    assert list(sept["UseCaseId"]) == ["UC-01", "UC-02"]  # 46280 is Excel's serial for 2026-09-15
    assert list(sept["ValueBase"]) == [70000.0, 12000.0]
    assert data.fixes["sheets.excel_serial_date"] == 1
    assert frame["ValueBase"].sum() == 60000 + 65000 + 10000 + 70000 + 12000


def test_unreadable_number_names_sheet_row_and_column(tmp_path):
    path = workbook(tmp_path / "outcomes" / "bad.xlsx", {"Data": [
        OUTCOME_HEADER, ["UC-01", "2026-09", "Hours", "lots", "hours", 1, 2, 3, "measured", "", ""]]})
    with pytest.raises(InputError) as e:
        sheets.read_outcomes(path.parent, Settings())
    assert "[sheet Data]" in e.value.path and (e.value.line, e.value.column) == (2, "Quantity")


def test_unknown_evidence_grade_is_refused(tmp_path):
    (tmp_path / "o.csv").write_text("Use case id,Month,Outcome,Value,Evidence\nUC-01,2026-07,Hours,10,anecdotal\n")
    with pytest.raises(InputError) as e:
        sheets.read_outcomes(tmp_path, Settings())
    assert (e.value.line, e.value.column) == (2, "Evidence") and "measured, estimated, assumed" in str(e.value)


def test_unreadable_month_is_refused(tmp_path):
    (tmp_path / "o.csv").write_text("Use case id,Month,Outcome,Value,Evidence\nUC-01,Q3,Hours,10,measured\n")
    with pytest.raises(InputError) as e:
        sheets.read_outcomes(tmp_path, Settings())
    assert e.value.column == "Month" and "2026-07" in str(e.value)


def test_missing_required_column_is_named(tmp_path):
    (tmp_path / "o.csv").write_text("Use case id,Month,Outcome,Evidence\nUC-01,2026-07,Hours,measured\n")
    with pytest.raises(InputError) as e:
        sheets.read_outcomes(tmp_path, Settings())
    assert "ValueBase" in str(e.value) and "Value (base)" in str(e.value)


def test_file_without_the_headers_is_refused(tmp_path):
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="no sheet with the outcomes headers"):
        sheets.read_outcomes(tmp_path, Settings())


# --- use cases -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def use_cases():
    return sheets.read_use_cases(FIXTURES / "use_cases", Settings())


def test_use_cases_have_the_canonical_columns(use_cases):
    frame = use_cases.use_cases
    assert list(frame.columns) == list(USE_CASES_COLUMNS)
    assert frame["Portable"].dtype == bool


def test_use_case_semicolon_csv_with_aliases(use_cases):
    frame = use_cases.use_cases.set_index("UseCaseId")
    assert frame.loc["UC-02", "Name"] == "Developer productivity"  # "Use case name"
    assert frame.loc["UC-02", "BusinessUnit"] == "Engineering"  # "BU"
    assert frame.loc["UC-02", "FallbackProvider"] == "Anthropic"  # "Fallback"
    assert use_cases.fixes["sheets.semicolon_delimiter"] == 1


def test_portable_flags_and_blank_as_false(use_cases):
    portable = use_cases.use_cases.set_index("UseCaseId")["Portable"].to_dict()
    assert portable == {"UC-01": False, "UC-02": True, "UC-03": True, "UC-04": False}  # no, Yes, 1, blank
    assert use_cases.fixes["sheets.blank_portable_as_false"] == 1


def test_stage_and_tier_are_case_folded(use_cases):
    frame = use_cases.use_cases.set_index("UseCaseId")
    assert frame.loc["UC-01", "Stage"] == "production"  # "Production"
    assert frame.loc["UC-02", "RequiredTier"] == "standard"  # "STANDARD"
    assert use_cases.fixes["sheets.stage_case_folded"] == 1
    assert use_cases.fixes["sheets.requiredtier_case_folded"] == 1


def test_use_case_listed_in_two_files_is_refused(tmp_path):
    folder = tmp_path / "use_cases"
    folder.mkdir()
    shutil.copy(FIXTURES / "use_cases" / "register.csv", folder)
    workbook(folder / "new.xlsx", {"Register": [["ID", "Name", "Portable"], ["UC-03", "Claims triage v2", "TRUE"]]})
    with pytest.raises(InputError) as e:
        sheets.read_use_cases(folder, Settings())
    assert "UC-03" in str(e.value) and "register.csv" in str(e.value) and "new.xlsx" in str(e.value)


def test_unknown_portable_value_is_refused(tmp_path):
    (tmp_path / "u.csv").write_text("ID,Name,Portable\nUC-01,Bot,maybe\n")
    with pytest.raises(InputError) as e:
        sheets.read_use_cases(tmp_path, Settings())
    assert (e.value.line, e.value.column) == (2, "Portable")


def test_read_dispatches_on_the_folder_name(tmp_path):
    assert sheets.read(FIXTURES / "use_cases", Settings()).use_cases is not None
    assert sheets.read(FIXTURES / "outcomes", Settings()).outcomes is not None
    with pytest.raises(InputError):
        sheets.read(tmp_path, Settings())
