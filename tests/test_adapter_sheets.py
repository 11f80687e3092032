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

def only(tmp_path_factory, table: str, *names: str) -> Path:
    """A folder holding only the named fixture files of `table` (several sheets of one folder are combined)."""
    folder = tmp_path_factory.mktemp("sheets") / table
    folder.mkdir()
    for name in names:
        shutil.copy(FIXTURES / table / name, folder)
    return folder


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    return sheets.read_outcomes(only(tmp_path_factory, "outcomes", "outcomes_q3_2026.csv"), Settings())


def test_outcomes_have_the_canonical_columns_and_types(outcomes):
    frame = outcomes.outcomes
    assert list(frame.columns) == list(OUTCOMES_COLUMNS)
    assert str(frame["Month"].dtype) == "datetime64[us]"
    assert all(frame[c].dtype == float for c in ("Quantity", "ValueLow", "ValueBase", "ValueHigh"))
    assert outcomes.name == "outcomes" and [f.name for f in outcomes.files] == ["outcomes_q3_2026.csv"]


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


# --- European sheets: delimiters and decimal conventions ------------------------------------------------

@pytest.fixture(scope="module")
def european():
    return sheets.read_outcomes(FIXTURES / "outcomes" / "european", Settings())


def values(data, use_case: str, month: str) -> tuple:
    frame = data.outcomes
    r = frame[(frame["UseCaseId"] == use_case) & (frame["Month"] == pd.Timestamp(month))].iloc[0]
    return r["Quantity"], r["ValueLow"], r["ValueBase"], r["ValueHigh"]


def test_semicolons_and_decimal_commas_as_excel_writes_them_in_german(european):
    # BOM, CRLF, ';' between fields, two title lines; "1234,50" and "37.035,00" fix the file's convention
    assert values(european, "UC-01", "2026-08-01") == (1234.5, 37035.0, 61725.0, 92587.5)
    # so "1.200" and "36.000", which could be read either way, are thousands: 1200, not 1.2
    assert values(european, "UC-01", "2026-07-01") == (1200.0, 36000.0, 60000.0, 90000.0)
    assert values(european, "UC-02", "2026-07-01") == (500.0, 1234.5, 2469.0, 3703.5)  # "1.234,50 €", "3.703,5"
    assert european.fixes["sheets.semicolon_delimiter"] == 2
    assert european.outcomes.loc[0, "Method"] == "Zeitstudie, 40 Nutzer"  # a comma inside a field stays in it


def test_space_thousands_separators_as_excel_writes_them_in_french(european):
    # "1 234,50" with a no-break space, "1 000" with a narrow no-break space
    assert values(european, "UC-03", "2026-09-01") == (1234.5, 1000.0, 2500.25, 4000.0)


def test_the_decimal_convention_of_each_file_is_noted(european):
    notes = " ".join(european.notes)
    assert "outcomes_dach_2026-q3.csv" in notes and "decimal comma" in notes and "'1234,50'" in notes


def write_sheet(folder: Path, name: str, lines: list[str], newline: str = "\n") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(newline.join(lines) + newline, encoding="utf-8")
    return path


HEADER = "Use case id{0}Month{0}Outcome{0}Value{0}Evidence"


def test_decimal_point_file_with_thousands_commas(tmp_path):
    write_sheet(tmp_path, "o.csv", [HEADER.format(","), 'UC-01,2026-07,Hours,"1,234.50",measured',
                                    'UC-02,2026-07,Hours,"12,000",measured', "UC-03,2026-07,Hours,0.5,measured"])
    assert list(sheets.read_outcomes(tmp_path, Settings()).outcomes["ValueBase"]) == [1234.5, 12000.0, 0.5]


@pytest.mark.parametrize("delimiter, fix", [(";", "sheets.semicolon_delimiter"), ("\t", "sheets.tab_delimiter")])
def test_delimiter_is_found_from_the_header(tmp_path, delimiter, fix):
    # a comma in the title line and none of the delimiter: the header, not the first line, decides
    write_sheet(tmp_path, "o.csv", ["Outcomes, finance copy", HEADER.format(delimiter),
                                    delimiter.join(["UC-01", "2026-07", "Hours, saved", "1234,5", "measured"])])
    data = sheets.read_outcomes(tmp_path, Settings())
    assert data.outcomes.loc[0, "ValueBase"] == 1234.5 and data.outcomes.loc[0, "OutcomeType"] == "Hours, saved"
    assert data.fixes[fix] == 1


def test_an_unquoted_delimiter_inside_a_value_is_refused(tmp_path):
    path = write_sheet(tmp_path, "o.csv", [HEADER.format(";"), "UC-01;2026-07;Hours; saved;12;measured"])
    with pytest.raises(InputError) as e:
        sheets.read_outcomes(tmp_path, Settings())
    assert (e.value.path, e.value.line) == (str(path), 2) and "quote any value" in str(e.value)


def test_tab_delimited_register_is_read():
    data = sheets.read_use_cases(FIXTURES / "use_cases" / "european", Settings())
    frame = data.use_cases.set_index("UseCaseId")
    assert frame.loc["UC-11", "Name"] == "Rechnungsprüfung; Eingang"  # ';' and ',' inside a tab-delimited field
    assert frame.loc["UC-12", "Name"] == "Kundendienst-Bot, DE"
    assert frame.loc["UC-12", "FallbackProvider"] == "Mistral AI" and data.fixes["sheets.tab_delimiter"] == 1


def test_a_value_that_contradicts_the_files_convention_is_refused(tmp_path):
    path = write_sheet(tmp_path, "o.csv", [HEADER.format(";"), "UC-01;2026-07;Hours;1.234,50;measured",
                                           "UC-02;2026-07;Hours;1,234.50;measured"], newline="\r\n")
    with pytest.raises(InputError) as e:
        sheets.read_outcomes(tmp_path, Settings())
    assert (e.value.path, e.value.line, e.value.column) == (str(path), 3, "ValueBase")
    assert "'1,234.50'" in str(e.value) and "decimal comma" in str(e.value) and "line 2" in str(e.value)


def test_a_decimal_point_in_a_decimal_comma_file_is_refused(tmp_path):
    write_sheet(tmp_path, "o.csv", [HEADER.format(";"), "UC-01;2026-07;Hours;1234,50;measured",
                                    "UC-02;2026-07;Hours;12.5;measured"])
    with pytest.raises(InputError) as e:
        sheets.read_outcomes(tmp_path, Settings())
    assert (e.value.line, e.value.column) == (3, "ValueBase") and "'12.5'" in str(e.value)


def test_an_ambiguous_value_without_a_convention_is_refused(tmp_path):
    # tab-delimited, and no value that shows which separator is the decimal one: 1.234 or 1234?
    path = write_sheet(tmp_path, "o.csv", [HEADER.format("\t"), "UC-01\t2026-07\tHours\t1.234\tmeasured"])
    with pytest.raises(InputError) as e:
        sheets.read_outcomes(tmp_path, Settings())
    assert (e.value.path, e.value.line, e.value.column) == (str(path), 2, "ValueBase")
    assert "ambiguous" in str(e.value) and "1234" in str(e.value) and "1.234" in str(e.value)


def test_text_numbers_of_a_workbook_follow_its_own_convention(tmp_path):
    header = ["Use case id", "Month", "Outcome", "Value", "Evidence"]
    workbook(tmp_path / "ok" / "o.xlsx", {"Data": [header, ["UC-01", "2026-07", "Hours", "2.500", "measured"],
                                                   ["UC-02", "2026-07", "Hours", "1.234,50", "measured"],
                                                   ["UC-03", "2026-07", "Hours", 99.5, "measured"]]})
    assert list(sheets.read_outcomes(tmp_path / "ok", Settings()).outcomes["ValueBase"]) == [2500.0, 1234.5, 99.5]
    path = workbook(tmp_path / "bad" / "o.xlsx", {"Data": [header, ["UC-01", "2026-07", "Hours", "2,500", "measured"]]})
    with pytest.raises(InputError) as e:
        sheets.read_outcomes(path.parent, Settings())
    assert "[sheet Data]" in e.value.path and (e.value.line, e.value.column) == (2, "ValueBase")


@pytest.mark.parametrize("text", ["12,34,567", "1.2.3", "1e3", "nan", "1,,5"])
def test_malformed_numbers_are_refused(tmp_path, text):
    write_sheet(tmp_path, "o.csv", [HEADER.format(";"), f"UC-01;2026-07;Hours;{text};measured"])
    with pytest.raises(InputError) as e:
        sheets.read_outcomes(tmp_path, Settings())
    assert (e.value.line, e.value.column) == (2, "ValueBase")


@pytest.mark.parametrize("text, decimal, expected", [
    ("1234,50", "comma", 1234.5), ("1.234,50", "comma", 1234.5), ("1 234,50", "comma", 1234.5),
    ("-1.234.567,8", "comma", -1234567.8), ("0,500", "comma", 0.5), ("1.234", "comma", 1234.0),
    ("1,234.50", "point", 1234.5), ("1,234", "point", 1234.0), ("0.500", "point", 0.5), ("12", "point", 12.0),
    ("$1,234,567.25", "point", 1234567.25), ("1234.5 EUR", "point", 1234.5),
])
def test_number_readings(text, decimal, expected):
    assert sheets.read_number(text, decimal) == expected


# --- use cases -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def use_cases(tmp_path_factory):
    return sheets.read_use_cases(only(tmp_path_factory, "use_cases", "register.csv"), Settings())


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
