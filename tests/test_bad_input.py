"""Bad input: a clear error naming file, row, column, rule and fix; a non-zero exit; the earlier pack untouched."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pytest

from .conftest import run_cli, tree_hashes


def corrupt_csv(path, line: int, column: str, value: str) -> None:
    """Set one field of a CSV (line 1 is the header) without touching any other byte."""
    import csv
    import io
    rows = list(csv.reader(io.StringIO(path.read_text())))
    rows[line - 1][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue())


def drop_column(path, column: str) -> None:
    import csv
    import io
    rows = list(csv.reader(io.StringIO(path.read_text())))
    i = rows[0].index(column)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([r[:i] + r[i + 1:] for r in rows])
    path.write_text(out.getvalue())


def first_line_where(path, column: str, value: str) -> int:
    import csv
    import io
    rows = list(csv.reader(io.StringIO(path.read_text())))
    i = rows[0].index(column)
    return next(n for n, r in enumerate(rows[1:], start=2) if r[i] == value)


def missing_column(d):
    drop_column(d / "spend.csv", "EffectiveCost")


def wrong_type(d):
    corrupt_csv(d / "spend.csv", 9, "EffectiveCost", "1.234,50 USD")


def negative_usage_cost(d):
    line = first_line_where(d / "spend.csv", "ChargeCategory", "Usage")
    corrupt_csv(d / "spend.csv", line, "EffectiveCost", "-125.5")


def unknown_use_case(d):
    corrupt_csv(d / "spend.csv", 12, "x_UseCaseId", "UC-404")


def empty_file(d):
    (d / "seats.csv").write_text("")


def malformed_csv(d):
    with open(d / "use_cases.csv", "a") as f:
        f.write('UC-99,"Broken, row",Finance,someone,pilot,light,true,OpenAI,extra,fields\n')


def nul_bytes(d):
    # sparse: 200 MB that cost nothing to make, and that pandas spun on for more than ten minutes
    (d / "spend.csv").unlink()
    (d / "spend.csv").touch()
    os.truncate(d / "spend.csv", 200 * 1000 * 1000)


def truncated_gzip(d):
    packed = gzip.compress((d / "spend.csv").read_bytes())
    (d / "spend.csv").unlink()
    (d / "spend.csv.gz").write_bytes(packed[: len(packed) // 2])


CASES = {
    # name: (corrupt, extra CLI args, fragments the error must contain)
    "missing column": (missing_column, [], ["spend.csv", "EffectiveCost", "required column(s) missing",
                                            "How to fix: add the missing column"]),
    "wrong type": (wrong_type, [], ["spend.csv", "column EffectiveCost", "line 9: '1.234,50 USD'",
                                    "expect_column_values_to_be_in_type_list", "failing: 1 of",
                                    "how to fix: write plain numbers"]),
    "use case not in catalog": (unknown_use_case, [], ["spend.csv", "column x_UseCaseId", "line 12: 'UC-404'",
                                                       "expect_column_values_to_be_in_set",
                                                       "how to fix: add the use case to use_cases.csv"]),
    "quarter with no data": (lambda d: None, ["--quarter", "2027-Q1"], ["spend.csv", "no spend rows in 2027-Q1",
                                                                       "2025-Q1 to 2026-Q3", "How to fix"]),
    "empty file": (empty_file, [], ["seats.csv", "the file is empty", "How to fix"]),
    "malformed csv": (malformed_csv, [], ["use_cases.csv", "malformed CSV", "line 24", "How to fix: every line needs"]),
    "200 MB of NUL bytes": (nul_bytes, [], ["spend.csv", "nothing but NUL bytes", "How to fix"]),
    "truncated gzip": (truncated_gzip, [], ["spend.csv.gz", "truncated gzip file", "How to fix"]),
}


# The error travels from the notebook's kernel to the command line's stderr in the same words for every case:
# each case runs in-process, and two (a contract failure and a quarter with no data) also through the CLI,
# against the session's real pack, for the exit code, the missing traceback and the earlier pack that survives.
CLI = ("wrong type", "quarter with no data")


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused_with_file_row_column_rule_and_fix(case, sample_data, tmp_path):
    from boardpack import steps
    from boardpack.exceptions import BoardpackError

    corrupt, args, fragments = CASES[case]
    data = tmp_path / "data"
    shutil.copytree(sample_data, data)
    corrupt(data)
    quarter = args[1] if args else "2026-Q3"
    with pytest.raises(BoardpackError) as raised:
        steps.validate(quarter, data, None, tmp_path / "out")
    assert raised.value.exit_code == 2
    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


@pytest.mark.parametrize("case", CLI)
def test_bad_input_on_the_command_line_exits_2_and_the_earlier_pack_survives(case, sample_pack, sample_data, tmp_path):
    corrupt, args, fragments = CASES[case]
    # a copy of the session's pack, which other tests read meanwhile, as the earlier pack to keep
    pack = Path(shutil.copytree(sample_pack[0].parent, tmp_path / "reports", symlinks=True)) / "2026-Q3"
    before = tree_hashes(pack)
    data = tmp_path / "data"
    shutil.copytree(sample_data, data)
    corrupt(data)
    quarter = args or ["--quarter", "2026-Q3"]
    # one case quiet (-q: nothing but the error), the other verbose (-v: the steps as they start, on stderr)
    verbosity = "-q" if case == CLI[0] else "-v"
    proc = run_cli(verbosity, "build", "--data", str(data), "--reports", str(pack.parent), *quarter)
    assert proc.returncode == 2
    message = proc.stderr
    if verbosity == "-q":
        assert proc.stdout == ""
    else:
        assert "boardpack building" in proc.stdout and "INFO boardpack.build: validate: started" in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    assert "Traceback" not in message
    assert tree_hashes(pack) == before
    assert not list(pack.parent.glob(".staging-*"))


def test_a_negative_usage_cost_is_a_warning_that_names_the_line(sample_data, tmp_path):
    # Cloud exports carry corrections as negative usage rows: real money, counted, but checked by a person.
    from boardpack import steps

    data = tmp_path / "data"
    shutil.copytree(sample_data, data)
    line = first_line_where(data / "spend.csv", "ChargeCategory", "Usage")
    negative_usage_cost(data)
    gate = steps.validate("2026-Q3", data, None, tmp_path / "out")
    assert gate.status == "PROVISIONAL"
    [check] = [c for c in gate.warnings if c.column == "EffectiveCost"]
    assert check.rows == [line] and check.samples == [-125.5] and check.source.endswith("spend.csv")
    assert f"line {line}: -125.5" in gate.report() and "correction" in check.hint
