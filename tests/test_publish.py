"""Publishing: every build is a new immutable version `reports/<quarter>/vN`, made current by swapping the
`latest` link; readers see the old pack or the new one, never none; leftovers of dead runs are cleaned."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from boardpack import publish as pub
from boardpack.build import publish

from .conftest import tree_hashes

SEND_LOG = "send-log.jsonl"
SEND_LOCK = ".send-log.jsonl.lock"


def staged(reports: Path, label: str, **files: bytes | str) -> Path:
    """A tiny fake staging folder: a pdf, a manifest naming it, notebooks/ and whatever else is given."""
    staging = reports / f".staging-{label}"
    (staging / "notebooks").mkdir(parents=True)
    (staging / "board-pack.pdf").write_text(f"pdf {label}")
    (staging / "manifest.json").write_text(json.dumps({"quarter": "2026-Q3", "label": label}))
    (staging / "notebooks" / "01-validate.ipynb").write_text(f"nb {label}")
    for name, content in files.items():
        path = staging / name.replace("__", ".")
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    return staging


def reads(quarter: Path, name: str = "board-pack.pdf") -> str:
    return (quarter / name).read_text()


def test_each_publish_is_a_new_version_and_earlier_versions_stay_byte_for_byte(tmp_path):
    quarter = tmp_path / "2026-Q3"
    first = publish(staged(tmp_path, "one", only_in_one__txt="old"), quarter)
    assert first == quarter / "v1" and os.readlink(quarter / "latest") == "v1"
    assert reads(quarter) == "pdf one" and reads(quarter, "notebooks/01-validate.ipynb") == "nb one"
    v1 = tree_hashes(quarter / "v1")
    second = publish(staged(tmp_path, "two"), quarter)
    assert second == quarter / "v2" and os.readlink(quarter / "latest") == "v2"
    assert tree_hashes(quarter / "v1") == v1
    assert reads(quarter) == "pdf two" and reads(quarter, "notebooks/01-validate.ipynb") == "nb two"
    # stable names are relative links through `latest`, so the quarter folder can be moved or copied with links
    assert os.readlink(quarter / "board-pack.pdf") == "latest/board-pack.pdf"
    assert not (quarter / "only_in_one.txt").is_symlink()  # a name the current pack no longer has is gone
    assert json.loads(reads(quarter, "manifest.json"))["version"] == "v2"
    assert json.loads((quarter / "v1" / "manifest.json").read_text())["version"] == "v1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-Q3"]  # the staging folders were moved, not copied


def test_the_next_version_is_one_more_than_the_highest_present(tmp_path):
    quarter = tmp_path / "2026-Q3"
    for n in (1, 7):
        (quarter / f"v{n}").mkdir(parents=True)
        (quarter / f"v{n}" / "board-pack.pdf").write_text(f"kept {n}")
    assert publish(staged(tmp_path, "new"), quarter) == quarter / "v8"
    assert [(quarter / f"v{n}" / "board-pack.pdf").read_text() for n in (1, 7)] == ["kept 1", "kept 7"]


def test_publish_never_touches_the_send_folder(tmp_path):
    quarter = tmp_path / "2026-Q3"
    publish(staged(tmp_path, "one"), quarter)
    send = pub.send_dir(tmp_path, "2026-Q3")
    (send / SEND_LOG).write_text('{"recipient": "chair@example.com"}\n')
    (send / SEND_LOCK).write_text("")
    before = tree_hashes(send)
    publish(staged(tmp_path, "two"), quarter)
    assert tree_hashes(send) == before and pub.current(tmp_path, "2026-Q3") == quarter / "v2"


def old_layout(quarter: Path) -> dict[str, str]:
    """A quarter folder as the code before versions published it; returns the hashes of its pack's files."""
    (quarter / "notebooks").mkdir(parents=True)
    (quarter / "tables").mkdir()
    (quarter / "board-pack.pdf").write_bytes(b"%PDF old pack")
    (quarter / "metrics.json").write_text('{"quarter": "2026-Q3"}')
    (quarter / "manifest.json").write_text('{"quarter": "2026-Q3", "outputs": {}}')
    (quarter / "notebooks" / "02-metrics.ipynb").write_text("old notebook")
    (quarter / "tables" / "spend.parquet").write_bytes(b"PAR1 old")
    pack = tree_hashes(quarter)
    (quarter / SEND_LOG).write_text('{"recipient": "chair@example.com", "pdf_sha256": "abc"}\n')
    (quarter / SEND_LOCK).write_text("")
    (quarter / "outbox").mkdir()
    (quarter / "outbox" / "01-chair.eml").write_text("preview")
    return pack


def test_an_old_layout_quarter_becomes_v1_and_its_send_log_moves_to_the_send_folder(tmp_path):
    quarter = tmp_path / "2026-Q3"
    old = old_layout(quarter)
    assert publish(staged(tmp_path, "new"), quarter) == quarter / "v2"
    v1 = tree_hashes(quarter / "v1")
    assert json.loads((quarter / "v1" / "manifest.json").read_text()) == {"quarter": "2026-Q3", "version": "v1",
                                                                        "outputs": {}}
    assert {k: v for k, v in v1.items() if k != "manifest.json"} == {k: v for k, v in old.items() if k != "manifest.json"}
    assert reads(quarter) == "pdf new" and os.readlink(quarter / "latest") == "v2"
    assert (quarter / ".send" / SEND_LOG).read_text() == '{"recipient": "chair@example.com", "pdf_sha256": "abc"}\n'
    assert (quarter / ".send" / SEND_LOCK).exists()
    assert not (quarter / SEND_LOG).exists() and not (quarter / SEND_LOCK).exists()
    assert (quarter / "outbox" / "01-chair.eml").read_text() == "preview"  # the mail code's, not the pack's
    assert not (quarter / "metrics.json").exists()  # only in the old pack: its stable name went with it
    assert not [p.name for p in quarter.iterdir() if p.name.startswith(".tmp-")]


def test_a_send_log_written_in_both_places_keeps_every_line(tmp_path):
    quarter = tmp_path / "2026-Q3"
    old_layout(quarter)
    (pub.send_dir(tmp_path, "2026-Q3") / SEND_LOG).write_text('{"recipient": "cfo@example.com"}\n')
    publish(staged(tmp_path, "new"), quarter)
    lines = (quarter / ".send" / SEND_LOG).read_text().splitlines()
    assert sorted(json.loads(line)["recipient"] for line in lines) == ["cfo@example.com", "chair@example.com"]


def test_two_publishes_racing_never_raise_and_latest_is_always_a_complete_version(tmp_path):
    """800 rounds of two publishes started together, while a reader reads the pack without pause."""
    quarter, rounds, errors, sampled = tmp_path / "2026-Q3", 800, [], []
    start, done = threading.Barrier(2), threading.Event()

    def publisher(who: str):
        try:
            for n in range(rounds):
                staging = staged(tmp_path, f"{who}{n}")
                start.wait()
                publish(staging, quarter)
        except BaseException as e:  # any failure of a racing publish is the finding
            errors.append(f"{who}: {type(e).__name__}: {e}")
            start.abort()

    def reader():
        while not done.is_set():
            time.sleep(0.0002)  # leaves the publishers most of the interpreter; still thousands of reads
            if not sampled and not (quarter / "board-pack.pdf").exists():
                continue  # nothing published yet: from the first pack on, there must always be one
            try:
                pdf = reads(quarter)
                folder = (quarter / "latest").resolve()
                label = json.loads((folder / "manifest.json").read_text())["label"]
                assert (folder / "board-pack.pdf").read_text() == f"pdf {label}"
                assert (folder / "notebooks" / "01-validate.ipynb").read_text() == f"nb {label}"
                assert pdf.startswith("pdf ")
                sampled.append(label)
            except BaseException as e:
                errors.append(f"reader: {type(e).__name__}: {e}")
                return

    threads = [threading.Thread(target=publisher, args=(w,)) for w in "ab"] + [threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads[:2]:
        t.join()
    done.set()
    threads[2].join()
    assert errors == [] and len(sampled) > rounds  # the reader did read throughout
    assert len(pub.versions(quarter)) == 2 * rounds
    assert os.readlink(quarter / "latest") == f"v{2 * rounds}"  # the newest version wins, whatever the order
    assert not [p for p in tmp_path.iterdir() if p.name != "2026-Q3"]
    assert not [p.name for p in quarter.iterdir() if p.name.startswith(".tmp-")]


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def owned(reports: Path, label: str, **owner) -> Path:
    staging = reports / f".staging-{label}"
    (staging / "notebooks").mkdir(parents=True)
    (staging / pub.OWNER).write_text(json.dumps(pub.owner() | owner))
    return staging


def test_a_leftover_replaced_folder_with_a_reused_pid_does_not_crash_a_publish(tmp_path):
    quarter = tmp_path / "2026-Q3"
    publish(staged(tmp_path, "one"), quarter)
    leftover = tmp_path / f".replaced-2026-Q3-{os.getpid()}"  # a killed run of the code before versions, same pid
    (leftover / "notebooks").mkdir(parents=True)
    (leftover / "board-pack.pdf").write_text("older pack")
    publish(staged(tmp_path, "two"), quarter)
    assert reads(quarter) == "pdf two"
    assert pub.clean_leftovers(tmp_path) == [leftover] and not leftover.exists()


def test_leftovers_of_dead_builds_are_removed_and_live_builds_kept(tmp_path):
    me = pub.owner()
    owned(tmp_path, "dead", pid=dead_pid())
    owned(tmp_path, "reused", process_start=(me["process_start"] or 0) - 1)  # a live pid, but not that build
    live = owned(tmp_path, "live")
    elsewhere = owned(tmp_path, "elsewhere", host=socket.gethostname() + "-other", pid=dead_pid())
    orphan, fresh = tmp_path / ".staging-orphan", tmp_path / ".staging-fresh"  # no owner file: the code before
    orphan.mkdir(), fresh.mkdir()
    os.utime(orphan, (time.time() - 3600, time.time() - 3600))
    removed = pub.clean_leftovers(tmp_path)
    assert sorted(p.name for p in removed) == [".staging-dead", ".staging-orphan", ".staging-reused"]
    assert live.exists() and elsewhere.exists() and fresh.exists()


def test_a_replaced_folder_holding_the_only_pack_is_put_back(tmp_path):
    leftover = tmp_path / ".replaced-2026-Q3-4242"  # killed between "old pack moved away" and "new pack moved in"
    leftover.mkdir()
    (leftover / "board-pack.pdf").write_text("the only pack")
    assert pub.clean_leftovers(tmp_path) == [leftover]
    assert reads(tmp_path / "2026-Q3") == "the only pack"
    publish(staged(tmp_path, "new"), tmp_path / "2026-Q3")
    assert (tmp_path / "2026-Q3" / "v1" / "board-pack.pdf").read_text() == "the only pack"


def test_a_second_build_of_a_quarter_is_refused_naming_the_first(tmp_path):
    quarter = tmp_path / "2026-Q3"
    with pub.build_lock(quarter):
        with pytest.raises(pub.BuildLocked) as refused, pub.build_lock(quarter):
            pass
        assert (tmp_path / "2026-Q3" / ".build.lock").exists()
    message = str(refused.value)
    for fragment in (f"pid {os.getpid()}", socket.gethostname(), "2026-Q3", "How to fix"):
        assert fragment in message, message
    assert refused.value.exit_code == 75
    assert not quarter.exists()  # a lock taken for a quarter that got no pack leaves nothing behind
    with pub.build_lock(quarter):  # released: the next build goes ahead
        pass


def test_a_quarter_copied_without_its_links_is_refused_before_anything_moves(tmp_path):
    publish(staged(tmp_path, "one"), tmp_path / "elsewhere")
    shutil.copytree(tmp_path / "elsewhere", tmp_path / "2026-Q3")  # as cp -r does: every link becomes a copy
    staging = staged(tmp_path, "two")
    with pytest.raises(pub.PublishError, match="copied without its links"):
        publish(staging, tmp_path / "2026-Q3")
    assert staging.exists() and pub.versions(tmp_path / "2026-Q3") == [1]
    assert (tmp_path / "2026-Q3" / "board-pack.pdf").read_text() == "pdf one"
