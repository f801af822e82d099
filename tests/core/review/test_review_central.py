"""A local store copied into the central one (``grace review migrate``), then reviewed, reported and exported from
there: the same report, the same dataset, the same audit trail — and a second copy copies nothing."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from grace_core.cli.main import main
from grace_core.review import export_reviewed, shift_report
from grace_core.store import ReviewStore


def _migrate(store_root: Path, url: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["review", "migrate", "--from", f"sqlite:///{store_root}", "--to", url]) == 0
    return capsys.readouterr().out


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_migrate_copies_everything_once(reviewed, store_root: Path, central_url: str, capsys) -> None:
    audit_rows = len(reviewed.store.audit_log(limit=1000))
    printed = _migrate(store_root, central_url, capsys)
    assert f"copied 6 frames (0 already there) and {audit_rows} audit rows (0 already there)" in printed
    assert "from " + str(store_root) in printed and central_url in printed
    printed = _migrate(store_root, central_url, capsys)  # idempotent: keyed by uid
    assert f"copied 0 frames (6 already there) and 0 audit rows ({audit_rows} already there)" in printed

    local = reviewed.store
    with ReviewStore.open_existing(central_url) as central:
        assert central.count() == 6
        for key in "ABCDEF":
            mine, theirs = local.frame(reviewed.ids[key]), central.frame_by_uid(reviewed.uid(key))
            assert theirs is not None
            same = {"id", "created_at"}
            assert {k: v for k, v in dataclasses.asdict(mine).items() if k not in same} == {
                k: v for k, v in dataclasses.asdict(theirs).items() if k not in same
            }
            assert central.image_bytes(theirs) == local.image_file(mine).read_bytes()
            boxes = [(b.class_name, b.xyxy, b.origin, b.deleted) for b in local.detections(mine.id, True)]
            assert boxes == [(b.class_name, b.xyxy, b.origin, b.deleted) for b in central.detections(theirs.id, True)]
        a_local, a_central = reviewed.ids["A"], central.frame_by_uid(reviewed.uid("A")).id
        trail = [(e.action, e.actor, e.details.get("to")) for e in local.audit_log(a_local)]
        assert trail == [(e.action, e.actor, e.details.get("to")) for e in central.audit_log(a_central)]
        assert central.audit_log(a_central)[0].details["copied_from"]["frame_id"] == a_local


def test_the_central_store_reports_and_exports_as_the_local_one(
    reviewed, store_root: Path, central_url: str, tmp_path: Path, capsys
) -> None:
    _migrate(store_root, central_url, capsys)
    start = reviewed.start
    with ReviewStore.open_existing(central_url) as central:
        mine, theirs = (
            shift_report(reviewed.store, start, start + 8 * 3600),
            shift_report(central, start, start + 8 * 3600),
        )
        assert dataclasses.replace(mine, generated_at=0) == dataclasses.replace(theirs, generated_at=0)
        local_export = export_reviewed(reviewed.store, tmp_path / "local", seed=3)
        central_export = export_reviewed(central, tmp_path / "central", seed=3)
    assert local_export.exported == central_export.exported and local_export.skipped == central_export.skipped
    local_files, central_files = _files(tmp_path / "local"), _files(tmp_path / "central")
    assert sorted(local_files) == sorted(central_files)
    differs = [name for name in local_files if local_files[name] != central_files[name]]
    assert sorted(differs) == ["data.yaml", "export_report.json"]  # they name their own folder; images, labels equal

    for url in (str(store_root), central_url):
        assert main(["review", "report", "--store", url]) == 0
    local_out, central_out = capsys.readouterr().out.split("flagged ")[1:]
    assert local_out == central_out and "reviewed 5: 2 defect, 2 false alarm, 1 unsure" in central_out


def test_export_and_migrate_from_the_command_line(
    reviewed, store_root: Path, central_url: str, tmp_path, capsys
) -> None:
    _migrate(store_root, central_url, capsys)
    out = tmp_path / "dataset"
    assert main(["review", "export", "--store", central_url, "--out", str(out), "--val", "0.25", "--seed", "1"]) == 0
    assert "exported 4 reviewed frames" in capsys.readouterr().out
    assert main(["review", "migrate", "--from", central_url, "--to", central_url]) == 2
    assert "the same store" in capsys.readouterr().err
