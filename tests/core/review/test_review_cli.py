"""``grace review export|report`` through the real entry point: files written, exit 0; user errors exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from grace_core.cli.main import main
from grace_core.data.stats import dataset_stats


def test_export_end_to_end(reviewed, store_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "dataset"
    assert (
        main(["review", "export", "--store", str(store_root), "--out", str(out), "--val", "0.25", "--seed", "1"]) == 0
    )
    printed = capsys.readouterr().out
    assert "exported 4 reviewed frames: 2 defect (with boxes), 2 false alarm (background images)" in printed
    assert "left out: 1 unsure, 1 unreviewed" in printed
    assert "boxes: crazing 1, inclusion 0, patches 2, scratches 1" in printed  # the model's full class list
    assert f"data.yaml: {out.resolve() / 'data.yaml'}" in printed
    assert dataset_stats(out).total.instances_per_class == [1, 0, 2, 1]


def test_export_with_classes(reviewed, store_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "dataset"
    argv = ["review", "export", "--store", str(store_root), "--out", str(out), "--classes", "scratches,patches,crazing"]
    assert main(argv) == 0
    stats = dataset_stats(out)
    assert (stats.class_names, stats.total.instances_per_class) == (["scratches", "patches", "crazing"], [1, 2, 1])


def test_report_end_to_end(reviewed, store_root: Path, tmp_path: Path, capsys, berlin_time) -> None:
    csv_path, html_path = tmp_path / "shift.csv", tmp_path / "shift.html"
    argv = [
        "review",
        "report",
        "--store",
        str(store_root),
        "--since",
        "2023-11-14T23:00",
        "--until",
        "2023-11-15T07:00",
    ]
    assert main([*argv, "--csv", str(csv_path), "--html", str(html_path)]) == 0
    printed = capsys.readouterr().out
    assert "flagged 6 frames (4 defect, 2 uncertain) from 2023-11-14 23:01:00 CET to 2023-11-15 00:03:20 CET" in printed
    assert "reviewed 5: 2 defect, 2 false alarm, 1 unsure; 1 not reviewed" in printed
    assert "  crazing: 3 boxes in 3 frames" in printed
    assert csv_path.read_text().splitlines()[1] == "0,crazing,3,3,0,1,2"
    assert len((tmp_path / "shift_timeline.csv").read_text().splitlines()) == 33  # header + 32 quarter hours
    assert "data:image/png;base64," in html_path.read_text()

    assert main(["review", "report", "--store", str(store_root), "--source", "camera:1"]) == 0
    assert "flagged 2 frames (2 defect, 0 uncertain)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["review", "export", "--store", "{missing}", "--out", "{out}"], "error: no review store at"),
        (["review", "export", "--store", "{store}", "--out", "{out}", "--classes", "crazing"], "error: frame 1 "),
        (["review", "export", "--store", "{store}", "--out", "{out}", "--classes", "a,,b"], "error: bad --classes"),
        (["review", "export", "--store", "{store}", "--out", "{out}", "--val", "1"], "error: bad validation share 1"),
        (
            ["review", "export", "--store", "{store}", "--out", "{out}", "--merge-with", "{missing}"],
            "error: dataset not",
        ),
        (["review", "report", "--store", "{missing}"], "error: no review store at"),
        (["review", "report", "--store", "{store}", "--since", "monday"], "error: cannot read the time 'monday'"),
        (
            ["review", "report", "--store", "{store}", "--since", "2024-01-02", "--until", "2024-01-01"],
            "error: the report period is empty",
        ),
    ],
)
def test_user_errors_exit_2_without_traceback(
    reviewed, store_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    missing = tmp_path / "nowhere"
    args = [arg.format(store=store_root, out=tmp_path / "out", missing=missing) for arg in argv]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert not (tmp_path / "out").exists() and not missing.exists()  # no dataset, and no empty store created


def test_the_default_store_is_the_apps(reviewed, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys) -> None:
    import grace_core.store.review_store as review_store

    monkeypatch.setattr(review_store, "default_root", lambda: reviewed.store.root)
    assert main(["review", "report"]) == 0
    assert "flagged 6 frames" in capsys.readouterr().out
