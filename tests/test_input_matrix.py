"""Bad input, every way it arrives: each case changes one input and says what the refusal must contain.

A case is (the input change, the words the message must contain, what must happen). What must happen is
an exception class, raised by `steps.validate` in this process (the command line prints its message and
exits with its `exit_code`, 2), or PROVISIONAL: the pack is rendered, stamped, and the gate's report holds
the words. The cases in `CLI` also run the command and check that an earlier pack of the quarter survives.

Issue 14 ("Hold under faults") items 5, 6 and 8; the README promises are in "Bring your own data", "Bring
your vendors' exports" and "The dollar ledger".
"""

from __future__ import annotations

import builtins
import csv
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from boardpack import steps
from boardpack.exceptions import BoardpackError, InputError

from .conftest import ROOT, SAMPLE, run_cli, tree_hashes

VENDOR = ROOT / "tests" / "fixtures" / "vendor" / "all_sources"
QUARTER = "2026-Q3"
PROVISIONAL = "PROVISIONAL"
GCP_Q2 = "gcp_billing_export_focus_eur_2026-Q2-000000000000.csv"
M365_APRIL = "Microsoft365CopilotUsageUserDetail_v1_D30_2026-04-30.csv"
# the sample's spend rows (lines 2 to SPEND_ROWS + 1 of spend.csv): the cases that repeat them count from its end
SPEND_ROWS = sum(1 for _ in (SAMPLE / "spend.csv").open(encoding="utf-8")) - 1
HTML = b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>\n"


# --- making inputs ---------------------------------------------------------------------------------------

def canonical(tmp: Path) -> Path:
    data = tmp / "data"
    shutil.copytree(SAMPLE, data)
    return data


def raw(tmp: Path, *sources: str) -> Path:
    """A raw folder with some of the mixed vendor fixture's sources (reference/ always: FOCUS bills EUR)."""
    data = tmp / "data"
    for source in ("reference", *sources):
        shutil.copytree(VENDOR / source, data / source)
    return data


def first(folder: Path, pattern: str = "*.csv") -> Path:
    return sorted(folder.rglob(pattern))[0]


def zeros(path: Path, size: int) -> None:
    """`size` NUL bytes, sparse: a zero-filled copy costs nothing to make."""
    path.unlink(missing_ok=True)
    path.touch()
    os.truncate(path, size)


def fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def loop(path: Path) -> None:
    path.unlink()
    os.symlink(path.name, path)


def dangling(path: Path) -> None:
    path.unlink()
    os.symlink(path.parent / "gone" / path.name, path)


def delimited(path: Path, delimiter: str) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue())


def zipped(path: Path) -> None:
    """An Excel workbook's bytes (a ZIP archive) under the file's name."""
    buffer = io.BytesIO()
    pd.DataFrame({"a": [1, 2]}).to_excel(buffer, index=False)
    path.write_bytes(buffer.getvalue())


def parquet_bytes(path: Path) -> None:
    buffer = io.BytesIO()
    pd.DataFrame({"a": [1, 2]}).to_parquet(buffer)
    path.write_bytes(buffer.getvalue())


def gzipped(path: Path, keep: float = 1.0) -> Path:
    """The file gzip-compressed as <name>.gz, cut to `keep` of its compressed bytes."""
    packed = gzip.compress(path.read_bytes())
    target = path.with_name(path.name + ".gz")
    target.write_bytes(packed[: int(len(packed) * keep)])
    path.unlink()
    return target


def latin1_at(path: Path, line: int, column: str | None = None) -> list[str]:
    """Put a Latin-1 'é' at the start of `column`'s value on `line` (or at the line's start); return the
    words that name where it is: the line, the character of the line and the byte of the file."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    text = lines[line - 1].decode()
    at = 0
    if column:
        header = next(csv.reader([lines[0].decode()]))
        at = len(",".join(next(csv.reader([text]))[: header.index(column)])) + 1
    lines[line - 1] = text[:at].encode() + b"\xe9" + text[at:].encode()
    path.write_bytes(b"\n".join(lines))
    offset = sum(len(x) + 1 for x in lines[: line - 1]) + at + 1
    return [f"line {line}", f"character {at + 1} ", f"byte {offset:,} of the file", "0xE9"]


def append_latin1_line(path: Path) -> list[str]:
    text = path.read_bytes()
    line = text.count(b"\n") + 1
    path.write_bytes(text + b"UC-99,R\xe9vision des contrats,Finance,someone,pilot,light,true,OpenAI\n")
    return [f"line {line}", "character 8 ", "0xE9"]


def repeat_rows(path: Path, lines: list[int]) -> None:
    text = path.read_text().splitlines(keepends=True)
    path.write_text("".join(text) + "".join(text[n - 1] for n in lines))


def copy_as(path: Path, name: str) -> Path:
    target = path.parent / name
    shutil.copy(path, target)
    return target


def denied(monkeypatch, path: Path) -> None:
    """Opening `path` fails as it does for a user without read permission (the tests run as root)."""
    real = builtins.open

    def fake(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and Path(file) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return real(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake)


# --- the cases -------------------------------------------------------------------------------------------
# id: (change(tmp, monkeypatch) -> (data folder, extra words), words, exception class or PROVISIONAL)

def _words(made) -> list[str]:
    """The words a change adds (where it put a byte), or none: most changes return what a write returns."""
    return made if isinstance(made, list) else []


def c(fn):
    """A change that edits a copy of the sample's canonical tables."""
    def change(tmp, mp):
        data = canonical(tmp)
        return data, _words(fn(data, mp))
    return change


def r(*sources):
    def wrap(fn):
        def change(tmp, mp):
            data = raw(tmp, *sources)
            return data, _words(fn(data, mp))
        return change
    return wrap


def _extra_field(path, line: int) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[line - 1] += ",extra"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _data_loop(tmp, mp):
    data = tmp / "data"
    os.symlink(data.name, data)
    return data, []


CASES = {
    # canonical tables
    "spend.csv: NUL bytes": (c(lambda d, mp: zeros(d / "spend.csv", 1 << 20)),
                             ["spend.csv", "NUL bytes"], InputError),
    "spend.csv: ends in NUL bytes (an interrupted copy)": (
        c(lambda d, mp: os.truncate(d / "spend.csv", (d / "spend.csv").stat().st_size + 300_000)),
        ["spend.csv", "NUL bytes", "end of the file"], InputError),
    "spend.csv: a ZIP (an .xlsx renamed)": (c(lambda d, mp: zipped(d / "spend.csv")),
                                            ["spend.csv", "ZIP archive", "xlsx"], InputError),
    "spend.csv: Parquet bytes": (c(lambda d, mp: parquet_bytes(d / "spend.csv")),
                                 ["spend.csv", "Parquet file"], InputError),
    "spend.csv: JSON": (c(lambda d, mp: (d / "spend.csv").write_text('[{"EffectiveCost": 1}]')),
                        ["spend.csv", "JSON"], InputError),
    "spend.csv: delimited by ;": (c(lambda d, mp: delimited(d / "spend.csv", ";")),
                                  ["spend.csv", "delimited by ';'", "comma"], InputError),
    "seats.csv: delimited by tabs": (c(lambda d, mp: delimited(d / "seats.csv", "\t")),
                                     ["seats.csv", "delimited by tab", "comma"], InputError),
    "use_cases.csv: an HTML error page": (c(lambda d, mp: (d / "use_cases.csv").write_bytes(HTML)),
                                          ["use_cases.csv", "HTML page", "502 Bad Gateway"], InputError),
    "models.csv: UTF-16": (c(lambda d, mp: (d / "models.csv").write_text(
        (d / "models.csv").read_text(), encoding="utf-16")), ["models.csv", "UTF-16"], InputError),
    "use_cases.csv: Latin-1 in the first KB": (c(lambda d, mp: append_latin1_line(d / "use_cases.csv")),
                                               ["use_cases.csv", "not UTF-8"], InputError),
    "spend.csv: Latin-1 on line 1000 (past the first KB)": (
        c(lambda d, mp: latin1_at(d / "spend.csv", 1000, "ChargeDescription")), ["spend.csv", "not UTF-8"], InputError),
    "seats.csv: empty": (c(lambda d, mp: (d / "seats.csv").write_text("")), ["seats.csv", "the file is empty"],
                         InputError),
    "spend.csv.gz: truncated past its first KB": (c(lambda d, mp: gzipped(d / "spend.csv", 0.5) and None),
                                                  ["spend.csv.gz", "truncated"], InputError),
    "use_cases.csv.gz: truncated in its first KB": (c(lambda d, mp: gzipped(d / "use_cases.csv", 0.5) and None),
                                                    ["use_cases.csv.gz", "truncated"], InputError),
    "spend.csv.gz: not gzip": (c(lambda d, mp: (d / "spend.csv").rename(d / "spend.csv.gz") and None),
                               ["spend.csv.gz", "not gzip", "CSV text"], InputError),
    "spend.csv.gz: gzip of NUL bytes": (
        c(lambda d, mp: ((d / "spend.csv").unlink(), (d / "spend.csv.gz").write_bytes(gzip.compress(bytes(1 << 20))))
          and None), ["spend.csv.gz", "NUL bytes"], InputError),
    "spend.parquet: CSV text": (c(lambda d, mp: (d / "spend.csv").rename(d / "spend.parquet") and None),
                                ["spend.parquet", "not a Parquet file", "CSV text"], InputError),
    "outcomes.csv: a folder": (c(lambda d, mp: ((d / "outcomes.csv").unlink(), (d / "outcomes.csv").mkdir()) and None),
                               ["outcomes.csv", "a folder, not a file"], InputError),
    "seats.csv: a FIFO": (c(lambda d, mp: fifo(d / "seats.csv")),
                          ["seats.csv", "named pipe (FIFO)", "not a regular file"], InputError),
    "spend.csv: a symlink loop": (c(lambda d, mp: loop(d / "spend.csv")),
                                  ["spend.csv", "symbolic link", "loop"], InputError),
    "models.csv: a symlink to nothing": (c(lambda d, mp: dangling(d / "models.csv")),
                                         ["models.csv", "symbolic link", "does not exist"], InputError),
    "DATA: a symlink loop": (_data_loop, ["data", "symbolic link", "loop"], InputError),
    "spend.csv: permission denied": (c(lambda d, mp: denied(mp, d / "spend.csv")),
                                     ["spend.csv", "permission denied"], InputError),
    "spend.csv: a long line near the top (DuckDB's sniffer would skip the lines above it)": (
        c(lambda d, mp: _extra_field(d / "spend.csv", 3)), ["spend.csv", "line 3", "malformed CSV",
                                                             "33 fields where the header has 32"], InputError),
    "spend.csv: the same export appended twice": (
        c(lambda d, mp: repeat_rows(d / "spend.csv", list(range(2, SPEND_ROWS + 2)))),
        ["spend.csv", "exact duplicate rows", f"{SPEND_ROWS:,} of {2 * SPEND_ROWS:,} rows",
         f"line {SPEND_ROWS + 2}: 'repeats line 2'", "counted once"], PROVISIONAL),

    # raw folders: focus
    "focus: NUL bytes": (r("focus")(lambda d, mp: zeros(first(d / "focus"), 100_000)),
                         ["part_0_0001.csv", "NUL bytes"], InputError),
    "focus: .parquet holding CSV": (
        r("focus")(lambda d, mp: first(d / "focus").rename(first(d / "focus").with_suffix(".parquet")) and None),
        ["part_0_0001.parquet", "not a Parquet file", "CSV text"], InputError),
    "focus: .csv.gz truncated in its first KB": (r("focus")(lambda d, mp: gzipped(first(d / "focus"), 0.5) and None),
                                                 ["part_0_0001.csv.gz", "truncated"], InputError),
    "focus: a FIFO": (r("focus")(lambda d, mp: fifo(first(d / "focus"))),
                      ["part_0_0001.csv", "named pipe (FIFO)"], InputError),
    "focus: a symlink loop": (r("focus")(lambda d, mp: loop(first(d / "focus"))),
                              ["part_0_0001.csv", "symbolic link", "loop"], InputError),
    "focus: Latin-1": (r("focus")(lambda d, mp: latin1_at(first(d / "focus"), 5, "ChargeDescription")),
                       ["part_0_0001.csv", "not UTF-8"], InputError),
    "focus: the same export twice": (
        r("focus")(lambda d, mp: copy_as(first(d / "focus" / "gcp"), "Copy of " + GCP_Q2) and None),
        ["Copy of " + GCP_Q2, "the same bytes as gcp/" + GCP_Q2, "read once"],
        PROVISIONAL),
    # openai, anthropic
    "openai: an HTML error page": (
        r("openai")(lambda d, mp: (d / "openai" / "costs_2026-05.json").write_bytes(HTML)),
        ["costs_2026-05.json", "HTML page", "502 Bad Gateway", "not a JSON file"], InputError),
    "openai: a truncated page": (
        r("openai")(lambda d, mp: (d / "openai" / "costs_2026-05.json").write_bytes(
            (d / "openai" / "costs_2026-05.json").read_bytes()[:5000])),
        ["costs_2026-05.json", "not a JSON file", "line 1"], InputError),
    "openai: permission denied": (r("openai")(lambda d, mp: denied(mp, d / "openai" / "costs_2026-05.json")),
                                  ["costs_2026-05.json", "permission denied"], InputError),
    "anthropic: a ZIP": (r("anthropic")(lambda d, mp: zipped(d / "anthropic" / "cost_report_2026-07.json")),
                         ["cost_report_2026-07.json", "ZIP archive", "not a JSON file"], InputError),
    "anthropic: NUL bytes": (r("anthropic")(lambda d, mp: zeros(d / "anthropic" / "cost_report_2026-07.json", 50_000)),
                             ["cost_report_2026-07.json", "NUL bytes"], InputError),
    "anthropic: CSV text": (r("anthropic")(lambda d, mp: (d / "anthropic" / "cost_report_2026-07.json").write_text(
        "date,amount\n2026-07-01,12.5\n")), ["cost_report_2026-07.json", "not a JSON file", "CSV text"], InputError),
    # litellm
    "litellm: a ZIP (an .xlsx renamed)": (r("litellm")(lambda d, mp: zipped(first(d / "litellm"))),
                                          ["LiteLLM_SpendLogs_2026-Q2.csv", "ZIP archive"], InputError),
    "litellm: NUL bytes": (r("litellm")(lambda d, mp: zeros(first(d / "litellm"), 100_000)),
                           ["LiteLLM_SpendLogs_2026-Q2.csv", "NUL bytes"], InputError),
    "litellm: a symlink to nothing": (r("litellm")(lambda d, mp: dangling(first(d / "litellm"))),
                                      ["LiteLLM_SpendLogs_2026-Q2.csv", "does not exist"], InputError),
    "litellm: the same log twice": (
        r("litellm")(lambda d, mp: copy_as(first(d / "litellm"), "LiteLLM_SpendLogs_2026-Q2 (1).csv") and None),
        ["LiteLLM_SpendLogs_2026-Q2 (1).csv", "the same bytes as LiteLLM_SpendLogs_2026-Q2.csv"], PROVISIONAL),
    # seat reports
    "m365_copilot: Latin-1": (r("m365_copilot")(lambda d, mp: latin1_at(first(d / "m365_copilot"), 3)),
                              ["Microsoft365CopilotUsageUserDetail_v1_D30_2026-04-30.csv", "not UTF-8"], InputError),
    "m365_copilot: delimited by ;": (r("m365_copilot")(lambda d, mp: delimited(first(d / "m365_copilot"), ";")),
                                     ["Microsoft365CopilotUsageUserDetail_v1_D30_2026-04-30.csv", "delimited by ';'"],
                                     InputError),
    "m365_copilot: the same report twice": (
        r("m365_copilot")(lambda d, mp: copy_as(first(d / "m365_copilot"), M365_APRIL.replace(".csv", " - Copy.csv"))
                          and None),
        [M365_APRIL.replace(".csv", " - Copy.csv"), "the same bytes as " + M365_APRIL],
        PROVISIONAL),
    "github_copilot: an HTML page": (
        r("github_copilot")(lambda d, mp: first(d / "github_copilot", "*.json").write_bytes(HTML)),
        ["copilot_billing_seats_2026-04-30.json", "HTML page"], InputError),
    "github_copilot: UTF-16": (
        r("github_copilot")(lambda d, mp: first(d / "github_copilot", "*.json").write_text(
            first(d / "github_copilot", "*.json").read_text(), encoding="utf-16")),
        ["copilot_billing_seats_2026-04-30.json", "UTF-16"], InputError),
    # the analysts' sheets
    "use_cases: Parquet bytes under .csv": (r("use_cases")(lambda d, mp: parquet_bytes(first(d / "use_cases"))),
                                            ["use_case_register.csv", "Parquet file"], InputError),
    "use_cases: .xlsx holding CSV text": (
        r("use_cases")(lambda d, mp: first(d / "use_cases").rename(d / "use_cases" / "register.xlsx") and None),
        ["register.xlsx", "not an Excel workbook", "CSV text"], InputError),
    "use_cases: the same register twice": (
        r("focus", "use_cases")(lambda d, mp: copy_as(first(d / "use_cases"), "use_case_register (1).csv") and None),
        ["use_case_register (1).csv", "the same bytes as use_case_register.csv"], PROVISIONAL),
    "outcomes: an HTML page": (r("outcomes")(lambda d, mp: first(d / "outcomes").write_bytes(HTML)),
                               ["outcomes_2026.csv", "HTML page"], InputError),
    "outcomes: the same ledger twice": (
        r("focus", "use_cases", "outcomes")(lambda d, mp: copy_as(first(d / "outcomes"), "outcomes_2026 copy.csv")
                                            and None),
        ["outcomes_2026 copy.csv", "the same bytes as outcomes_2026.csv"], PROVISIONAL),
    # reference files
    "reference: fx_rates.csv NUL bytes": (r("focus")(lambda d, mp: zeros(d / "reference" / "fx_rates.csv", 4096)),
                                          ["fx_rates.csv", "NUL bytes"], InputError),
    "reference: attribution.csv delimited by ;": (
        r("focus")(lambda d, mp: delimited(d / "reference" / "attribution.csv", ";")),
        ["attribution.csv", "delimited by ';'"], InputError),
    "reference: fx_rates.csv Latin-1": (r("focus")(lambda d, mp: latin1_at(d / "reference" / "fx_rates.csv", 2)),
                                        ["fx_rates.csv", "not UTF-8"], InputError),
}

# Run through the command line as well: the exit code, the message and an earlier pack that survives.
CLI = ("spend.csv: NUL bytes", "spend.csv.gz: truncated past its first KB")


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_matrix(case, tmp_path, monkeypatch):
    change, words, expected = CASES[case]
    data, more = change(tmp_path, monkeypatch)
    words = [*words, *more]
    if expected == PROVISIONAL:
        gate = steps.validate(QUARTER, data, None, tmp_path / "out")
        assert gate.status == PROVISIONAL
        message = gate.report()
    else:
        with pytest.raises(expected) as raised:
            steps.validate(QUARTER, data, None, tmp_path / "out")
        assert isinstance(raised.value, BoardpackError) and raised.value.exit_code == 2
        message = str(raised.value)
    for word in words:
        assert word in message, f"{word!r} not in:\n{message}"


@pytest.mark.parametrize("case", CLI)
def test_bad_input_on_the_command_line_exits_2_and_keeps_the_earlier_pack(case, tmp_path, monkeypatch):
    change, words, _ = CASES[case]
    data, more = change(tmp_path, monkeypatch)
    earlier = tmp_path / "reports" / QUARTER
    (earlier / "tables").mkdir(parents=True)
    (earlier / "board-pack.pdf").write_bytes(b"%PDF-1.7 the earlier pack")
    (earlier / "tables" / "spend.parquet").write_bytes(b"PAR1 earlier")
    before = tree_hashes(earlier)
    proc = run_cli("build", "--data", str(data), "--reports", str(earlier.parent), "--quarter", QUARTER)
    assert proc.returncode == 2
    for word in [*words, *more]:
        assert word in proc.stderr, f"{word!r} not in:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    assert tree_hashes(earlier) == before and not list(earlier.parent.glob(".staging-*"))


# --- the promises behind the matrix ----------------------------------------------------------------------

def test_200_mb_of_nul_bytes_is_refused_in_under_5_seconds(tmp_path):
    # Measured in a child process: before the sniff, pandas spun on such a file for more than ten minutes.
    data = canonical(tmp_path)
    zeros(data / "spend.csv", 200 * 1000 * 1000)
    child = textwrap.dedent(f"""
        import time
        from boardpack import steps
        from boardpack.exceptions import InputError
        started = time.perf_counter()
        try:
            steps.validate("{QUARTER}", {str(data)!r}, None, {str(tmp_path / 'out')!r})
        except InputError as e:
            print(round(time.perf_counter() - started, 3)); print(e)
    """)
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120, cwd=ROOT)
    seconds, message = proc.stdout.split("\n", 1)
    assert float(seconds) < 5, proc.stdout
    assert "spend.csv" in message and "NUL bytes" in message


def test_a_file_the_user_cannot_read_is_named(tmp_path):
    data = canonical(tmp_path)
    (data / "seats.csv").chmod(0)
    if os.access(data / "seats.csv", os.R_OK):
        pytest.skip("running as a user who can read any file (root): the in-process cases cover it")
    with pytest.raises(InputError, match="seats.csv: cannot be read: permission denied"):
        steps.validate(QUARTER, data, None, tmp_path / "out")


def test_the_right_line_and_character_of_a_latin1_byte(tmp_path):
    data = canonical(tmp_path)
    words = latin1_at(data / "spend.csv", 1000, "ChargeDescription")
    with pytest.raises(InputError) as raised:
        steps.validate(QUARTER, data, None, tmp_path / "out")
    assert raised.value.line == 1000
    for word in words:
        assert word in str(raised.value)
    data = canonical(tmp_path / "head")
    words = append_latin1_line(data / "use_cases.csv")
    with pytest.raises(InputError) as raised:
        steps.validate(QUARTER, data, None, tmp_path / "out")
    for word in words:
        assert word in str(raised.value)


def _ledger(out: Path) -> pd.DataFrame:
    return pd.DataFrame(json.loads((out / "ledger.json").read_text())["rows"])


def test_repeated_spend_rows_count_once_and_the_ledger_shows_them(tmp_path):
    steps.validate(QUARTER, SAMPLE, None, tmp_path / "before")
    data = canonical(tmp_path)
    rows = pd.read_csv(data / "spend.csv", dtype=str, keep_default_na=False)
    repeated = [40, 41, 900]  # lines; the three after the last line of the sample repeat them
    dollars = sum(float(rows.loc[n - 2, "EffectiveCost"]) for n in repeated)
    repeat_rows(data / "spend.csv", repeated)
    gate = steps.validate(QUARTER, data, None, tmp_path / "after")
    assert gate.status == PROVISIONAL
    [check] = [ch for ch in gate.warnings if ch.expectation == "expect_compound_columns_to_be_unique"]
    assert check.unexpected_count == 3 and check.rows == [SPEND_ROWS + 2, SPEND_ROWS + 3, SPEND_ROWS + 4] and check.source.endswith("spend.csv")
    assert check.samples == ["repeats line 40", "repeats line 41", "repeats line 900"]
    assert f"{dollars:,.2f} USD" in check.rule
    # counted once: the pack's spend is the spend without the copies, to the cent
    before, after = _ledger(tmp_path / "before"), _ledger(tmp_path / "after")
    assert after["counted"].sum() == pytest.approx(before["counted"].sum(), abs=0.01)
    assert after["read"].sum() == pytest.approx(before["read"].sum() + dollars, abs=0.01)
    assert after["superseded"].sum() == pytest.approx(dollars, abs=0.01)
    assert (after["balance"].abs() < 0.005).all()
    assert set(after.loc[after["superseded"] > 0, "superseded_by"]) == {"spend.csv (the earlier identical lines)"}
    spend = {run: pd.read_parquet(tmp_path / run / "tables" / "spend.parquet")["EffectiveCost"].sum()
             for run in ("before", "after")}
    assert spend["after"] == pytest.approx(spend["before"])


def test_a_copied_export_is_read_once_and_the_ledger_shows_it(tmp_path):
    data = raw(tmp_path, "focus", "litellm")
    steps.validate(QUARTER, data, None, tmp_path / "before")
    original = first(data / "focus" / "gcp")
    copy_as(original, "Copy of " + original.name)  # as a file manager names it; the shorter name is read
    gate = steps.validate(QUARTER, data, None, tmp_path / "after")
    before, after = _ledger(tmp_path / "before"), _ledger(tmp_path / "after")
    mine = before[before["file"] == "gcp/" + original.name]
    assert mine["read"].sum() > 0
    copy = after[after["file"] == "gcp/Copy of " + original.name].set_index(["quarter", "currency"])
    # every dollar the copy holds is read and superseded by the file counted; nothing of it counts
    expected = mine.set_index(["quarter", "currency"])
    assert copy["read"].to_dict() == pytest.approx(expected["read"].to_dict())
    assert copy["superseded"].to_dict() == pytest.approx(expected["read"].to_dict())
    assert (copy["counted"] == 0).all() and set(copy["superseded_by"]) == {"gcp/" + original.name}
    assert (after["balance"].abs() < 0.005).all()
    assert after["counted_reporting"].sum() == pytest.approx(before["counted_reporting"].sum(), abs=0.01)
    [check] = [ch for ch in gate.warnings if ch.source.endswith("Copy of " + original.name)]
    assert check.severity == "warning" and original.name in check.rule
    sources = json.loads((tmp_path / "after" / "sources.json").read_text())
    assert any("Copy of " + original.name in n and "read once" in n for n in sources["sources"]["focus"]["notes"])
    # the copy is an input like any other: its hash is in the provenance the manifest is built from
    assert "Copy of " + original.name in (tmp_path / "after" / "provenance.json").read_text()


def test_a_folder_named_like_a_table_is_not_a_file_but_spark_parquet_folders_are_read(tmp_path):
    # Spark writes a Parquet "file" as a folder of parts: the parts are the files, the folder is skipped.
    from boardpack.adapters import files_in

    (tmp_path / "export.parquet").mkdir()
    parquet_bytes(tmp_path / "export.parquet" / "part-00000.parquet")
    assert files_in(tmp_path, "*.parquet") == [tmp_path / "export.parquet" / "part-00000.parquet"]


def test_the_matrix_covers_every_source(tmp_path):
    covered = {case.split(":")[0] for case in CASES}
    assert {"focus", "openai", "anthropic", "litellm", "m365_copilot", "github_copilot", "use_cases", "outcomes",
            "reference", "spend.csv", "seats.csv", "outcomes.csv", "use_cases.csv", "models.csv", "DATA"} <= covered
    assert len(CASES) >= 30
