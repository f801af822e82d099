"""`grace experiment ablation`: tables from crafted records, and a tiny real run that resumes without retraining."""

import csv
import statistics

import pytest

from grace_core.cli.main import main
from grace_core.experiments.ablation import RunRecord, write_tables


def record(arm: str, seed: int, map50: float, crazing: float) -> RunRecord:
    return RunRecord(
        arm=arm,
        seed=seed,
        model=f"{arm}-model",
        sampler="uniform",
        map50=map50,
        map50_95=map50 / 2,
        per_class_ap50={"crazing": crazing},
        per_class_ap50_95={"crazing": crazing / 2},
        parameters=100,
        gflops=1.5,
        seconds_per_epoch=10.0 + seed,
        epochs=3,
        best="best.pt",
    )


def test_tables_report_mean_and_sample_std_per_arm(tmp_path):
    records = [record("yolo11", 0, 0.30, 0.10), record("yolo11", 1, 0.34, 0.20), record("grace", 0, 0.40, 0.30)]
    write_tables(records, tmp_path)
    rows = {row["arm"]: row for row in csv.DictReader((tmp_path / "ablation.csv").open())}
    assert float(rows["YOLO11"]["mAP50 mean"]) == pytest.approx(32.0)
    assert float(rows["YOLO11"]["mAP50 std"]) == pytest.approx(100 * statistics.stdev([0.30, 0.34]), abs=1e-4)
    assert float(rows["YOLO11"]["AP50-95 crazing mean"]) == pytest.approx(7.5)
    assert float(rows["GRACE"]["mAP50 std"]) == 0.0  # one seed: no spread claimed
    markdown = (tmp_path / "ablation.md").read_text()
    assert "| YOLO11 | yolo11-model | uniform | 2 | 32.00 ± 2.83 |" in markdown
    assert len(list(csv.DictReader((tmp_path / "runs.csv").open()))) == 3


def test_a_tiny_ablation_runs_and_resumes_without_retraining(synthetic_yolo, tmp_path, capsys):
    argv = [
        "experiment",
        "ablation",
        "--data",
        str(synthetic_yolo),
        "--scale",
        "n",
        "--epochs",
        "1",
        "--imgsz",
        "64",
        "--batch",
        "4",
        "--workers",
        "0",
        "--seeds",
        "0",
        "--arms",
        "yolo11",
        "grace",
        "--out",
        str(tmp_path),
    ]
    assert main(argv) == 0
    best = tmp_path / "runs" / "grace-seed0" / "weights" / "best.pt"
    first = best.stat().st_mtime_ns
    assert "| GRACE | grace-n | dscbsm | 1 |" in capsys.readouterr().out
    assert main(argv) == 0  # every run has its val.json: nothing is trained again
    assert best.stat().st_mtime_ns == first


def test_unknown_arm_is_a_clear_error(synthetic_yolo, tmp_path, capsys):
    argv = ["experiment", "ablation", "--data", str(synthetic_yolo), "--arms", "magic", "--out", str(tmp_path)]
    assert main(argv) == 2
    assert "unknown arm(s) magic" in capsys.readouterr().err
