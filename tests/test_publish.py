"""Publishing: the new pack replaces the old one whole, but the record of deliveries stays."""

from __future__ import annotations

from boardpack.build import SEND_LOG, publish


def test_publish_replaces_the_pack_and_keeps_the_send_log(tmp_path):
    old = tmp_path / "2026-Q3"
    old.mkdir()
    (old / "board-pack.pdf").write_bytes(b"old pack")
    (old / "stale.txt").write_text("only in the old pack")
    (old / SEND_LOG).write_text('{"recipient": "chair@example.com", "pdf_sha256": "abc"}\n')
    (old / "outbox").mkdir()
    staging = tmp_path / ".staging-x"
    staging.mkdir()
    (staging / "board-pack.pdf").write_bytes(b"new pack")
    assert publish(staging, old) == old
    assert (old / "board-pack.pdf").read_bytes() == b"new pack"
    assert not (old / "stale.txt").exists() and not (old / "outbox").exists()
    assert "chair@example.com" in (old / SEND_LOG).read_text()
    assert not staging.exists() and [p.name for p in tmp_path.iterdir()] == ["2026-Q3"]
