"""`boardpack verify`: a fresh pack verifies, with its rebuild; any changed byte, file or input is named
(README, "Verify a pack"). Every case runs in-process on copies of the session's sample pack."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from boardpack import verify
from boardpack.cli import app

from .conftest import ROOT

runner = CliRunner()


@pytest.fixture
def pack(sample_pack, tmp_path) -> Path:
    """A copy of the sample pack's version folder, under its version's name, to tamper with."""
    version = (sample_pack[0] / "latest").resolve()
    return Path(shutil.copytree(version, tmp_path / "2026-Q3" / version.name, symlinks=True))


def failing(result: verify.Verification) -> set[str]:
    return {f.file for f in result.failures}


def flip(path: Path, at: int | None = None) -> None:
    """Change one byte of a file (the middle one unless `at`)."""
    data = bytearray(path.read_bytes())
    i = len(data) // 2 if at is None else at
    data[i] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_fresh_pack_verifies_with_its_rebuild(sample_pack):
    quarter = sample_pack[0]
    result = verify.verify(quarter)  # a quarter folder: its latest version
    assert result.pack == (quarter / "latest").resolve()
    assert result.ok, [str(f) for f in result.failures]
    checks = {c.name: c for c in result.checks}
    assert list(checks) == ["integrity", "inputs", "versions", "reproduce"]
    # the five tables, the sample's seat_users, seat_apps and seat_feature_usage, the reclaim and downgrade lists
    assert checks["reproduce"].summary == "metrics.json, ledger.json and 10 tables rebuilt byte for byte"
    assert not checks["reproduce"].findings  # parquet bytes are deterministic: not one "same values" warning
    assert (result.pack / verify.SEAL).is_file()
    version = runner.invoke(app, ["verify", str(result.pack), "--no-rebuild"])
    assert version.exit_code == 0, version.output
    assert "Verified" in version.output


@pytest.mark.parametrize("name", ["board-pack.pdf", "board-pack.html", "metrics.json", "tables/spend.parquet",
                                  "manifest.json", "manifest.sha256", "notebooks/03-board-pack.ipynb"])
def test_one_changed_byte_fails_naming_the_file(pack, name):
    # in manifest.json, a byte no check reads (in "currency"): the middle one moves with the manifest's length (the
    # paths it records, the outputs it lists) and may fall in an output's hash, which then fails too, rightly
    data = (pack / name).read_bytes()
    flip(pack / name, data.index(b'"currency": "') + len(b'"currency": "') + 1 if name == verify.MANIFEST else None)
    # manifest.json and manifest.sha256 vouch for each other: a change to either is reported under the manifest
    shown = verify.MANIFEST if name == verify.SEAL else name
    assert failing(verify.verify(pack, rebuild=False)) == {shown}
    cli = runner.invoke(app, ["verify", str(pack), "--no-rebuild"])
    assert cli.exit_code == 1
    line = next(line for line in cli.stderr.splitlines() if line.startswith(f"  {shown}: "))
    if shown == verify.MANIFEST:
        assert f"does not match {verify.SEAL}" in line


def test_every_byte_of_the_manifest_is_protected(pack):
    # manifest.sha256 holds the hash of the manifest as built; publish then added its version line (v1), which is
    # checked against the folder's name instead: so every byte, the version's too, is covered
    data = (pack / verify.MANIFEST).read_bytes()
    sealed = (pack / verify.SEAL).read_text()
    assert verify.manifest_problem(data, sealed, pack.name) is None
    for mask in (0x01, 0x02):  # 0x02 turns v1 into v3: a well-formed version, caught by the folder's name
        for i in range(len(data)):
            changed = data[:i] + bytes([data[i] ^ mask]) + data[i + 1:]
            assert verify.manifest_problem(changed, sealed, pack.name), (mask, i, data[max(0, i - 20):i + 20])
            if mask == 0x01:  # v1 -> v0 is no version: caught even in a folder not named as one
                assert verify.manifest_problem(changed, sealed, None), (i, data[max(0, i - 20):i + 20])


def test_a_deleted_an_added_and_a_truncated_file_are_named(pack):
    (pack / "tables" / "seats.parquet").unlink()
    (pack / "notes.txt").write_text("added after the build\n")
    quality = pack / "data-quality.html"
    quality.write_bytes(quality.read_bytes()[:-1])
    result = verify.verify(pack, rebuild=False)
    assert failing(result) == {"tables/seats.parquet", "notes.txt", "data-quality.html"}
    rules = {f.file: f.rule for f in result.failures}
    assert rules["tables/seats.parquet"].startswith("missing")
    assert rules["notes.txt"].startswith("not in the manifest")
    size = quality.stat().st_size
    assert rules["data-quality.html"].startswith(f"changed since the build: {size:,} bytes, "
                                                 f"the manifest says {size + 1:,}")


def test_a_changed_input_fails_its_hash_and_the_rebuild_names_what_differs(sample_pack, sample_data, tmp_path):
    data = Path(shutil.copytree(sample_data, tmp_path / "moved"))
    spend = data / "spend.csv"
    lines = spend.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.split(",")[2].startswith("2026-08"))
    row = next(csv.DictReader([lines[0], lines[at]]))
    for cost in ("EffectiveCost", "BilledCost"):  # a cost in the pack's quarter, $1,000 higher
        row[cost] = f"{float(row[cost]) + 1000:.6f}"
    out = io.StringIO()
    csv.DictWriter(out, fieldnames=list(row), lineterminator="\n").writerow(row)
    lines[at] = out.getvalue()
    spend.write_text("".join(lines))
    result = verify.verify(sample_pack[0], data=data)
    rules = {f.file: f.rule for f in result.failures}
    assert set(rules) == {str(spend), "metrics.json", "ledger.json", "tables/spend.parquet"}, rules
    assert "input spend changed since the build" in rules[str(spend)]
    assert "first keys that differ: spend," in rules["metrics.json"]
    assert "values differ in column(s)" in rules["tables/spend.parquet"]


def test_inputs_moved_elsewhere_verify_with_data_and_rebuild_the_same_bytes(sample_pack, sample_data, tmp_path):
    # the rebuilt files hold no path: inputs read from another folder give the same metrics, ledger and tables
    data = Path(shutil.copytree(sample_data, tmp_path / "elsewhere" / "inputs"))
    result = verify.verify(sample_pack[0], data=data)
    assert result.ok, [str(f) for f in result.failures]
    assert {c.name for c in result.checks} >= {"reproduce"}


def test_a_missing_input_says_where_it_looked_and_how_to_point_data(sample_pack, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    cli = runner.invoke(app, ["verify", str(sample_pack[0]), "--data", str(empty)])
    assert cli.exit_code == 1
    assert f"input spend not found: looked at {empty / 'spend.csv'}, --data {empty} does not hold it" in cli.stderr
    assert "point --data at the folder that holds the build's inputs now" in cli.stderr
    assert "(rebuild): not run" in cli.stderr
    # without --data: the recorded path is where it looks
    manifest = json.loads(((sample_pack[0] / "latest").resolve() / "manifest.json").read_text())
    gone = str(tmp_path / "gone")
    manifest["parameters"]["data_dir"] = gone
    for entry in manifest["inputs"]:
        entry["path"] = f"{gone}/{entry['file']}"
    check, found = verify.check_inputs(manifest, None, None, sample_pack[0])
    assert not found
    spend = next(f.rule for f in check.findings if f.file == f"{gone}/spend.csv")
    assert f"looked at {gone}/spend.csv, the path the build read it from" in spend
    assert f"boardpack verify {sample_pack[0]} --data DIR" in spend


def test_a_pack_without_its_seal_is_not_verified(pack):
    (pack / verify.SEAL).unlink()
    result = verify.verify(pack, rebuild=False)
    assert failing(result) == {verify.SEAL}


def test_usage_errors_exit_2(tmp_path, pack):
    assert runner.invoke(app, ["verify", str(tmp_path / "nothing")]).exit_code == 2
    assert runner.invoke(app, ["verify", str(pack), "--data", str(tmp_path / "nowhere")]).exit_code == 2


def test_differing_keys_are_named_in_order():
    old = {"quarter": "2026-Q3", "spend": {"total": 1.0, "ai": 2}, "use_cases": [{"a": 1}, {"a": 2}], "gone": 1}
    new = {"quarter": "2026-Q3", "spend": {"total": 1.5, "ai": 2}, "use_cases": [{"a": 1}, {"a": 3}], "new": 1}
    assert verify.differing_keys(old, new) == ["spend.total", "use_cases[1].a", "gone", "new"]
    assert verify.differing_keys({"x": 1}, {"x": 1.0}) == ["x"]  # 1 and 1.0 are different bytes in metrics.json


def test_the_board_pack_holds_no_absolute_path(sample_pack, sample_data):
    # a rendered pack must not depend on where the checkout, the data or the reports are
    pack = (sample_pack[0] / "latest").resolve()
    config = json.loads((pack / "manifest.json").read_text())["parameters"]["config"]
    places = [str(ROOT), str(sample_data), str(sample_pack[0].parent), str(Path(config).parent)]
    pdf = "".join(page.extract_text() for page in PdfReader(pack / "board-pack.pdf").pages).replace("\n", "")
    for name, text in [("board-pack.html", (pack / "board-pack.html").read_text()), ("board-pack.pdf", pdf),
                       *((n, (pack / n).read_text()) for n in ("metrics.json", "ledger.json"))]:
        assert not [p for p in places if p in text], name
    for table in (pack / "tables").glob("*.parquet"):
        assert not [p for p in places if p.encode() in table.read_bytes()], table.name
