"""TrainingHistory folds protocol events into curves; runs.py lists run folders; worker_command launches the CLI."""

import json
import subprocess
import sys

from grace_core.training.history import TrainingHistory, history_from_file
from grace_core.training.job import JOB_FILE
from grace_core.training.protocol import Event, encode_event, make_event
from grace_core.training.run import EVENTS_FILE
from grace_core.training.runs import list_runs, load_run
from grace_core.training.worker import WORKER_FLAG, dispatch_worker, worker_command


def event(type: str, **fields) -> Event:
    data = make_event(type, **fields)
    return Event(type=type, v=1, data=data)


def epoch(n: int, total: int = 3, map50: float | None = 0.5, weights: dict | None = None) -> Event:
    return event(
        "epoch",
        epoch=n,
        epochs=total,
        losses={"box_loss": 2.0 - n / 10, "cls_loss": 3.0 - n / 10},
        metrics={} if map50 is None else {"mAP50": map50, "mAP50-95": map50 / 2},
        seconds=10.0,
        eta_s=10.0 * (total - n),
        sampler=None if weights is None else {"class_weights": weights},
    )


def test_epochs_build_aligned_curves_and_class_weights():
    history = TrainingHistory().extend(
        [
            event("hello", job={"model": "grace-n"}),
            epoch(1),
            epoch(2, map50=None),  # a cancelled epoch is not validated
            epoch(3, map50=0.7, weights={"crazing": 1.2, "scratches": 0.8}),
        ]
    )
    assert history.job == {"model": "grace-n"}
    assert history.epochs == [1, 2, 3]
    assert history.losses["box_loss"] == [1.9, 1.8, 1.7]
    assert history.metrics["mAP50"] == [0.5, None, 0.7]
    assert history.class_weights == {"crazing": [(3, 1.2)], "scratches": [(3, 0.8)]}
    assert history.progress.epoch == 3 and history.progress.eta_s == 0.0
    assert history.status == "running"


def test_a_resumed_epoch_replaces_the_interrupted_report():
    history = TrainingHistory().extend(
        [epoch(1, weights={"a": 1.0}), epoch(2, map50=0.4, weights={"a": 1.1}), epoch(2, map50=0.6, weights={"a": 1.3})]
    )
    assert history.epochs == [1, 2]
    assert history.metrics["mAP50"] == [0.5, 0.6]
    assert history.class_weights["a"] == [(1, 1.0), (2, 1.3)]


def test_batches_give_progress_and_fine_loss_points():
    history = TrainingHistory()
    history.update(event("batch", epoch=2, epochs=4, batch=5, batches=10, losses={"box_loss": 1.5}, eta_s=30.0))
    assert history.progress.fraction == 0.375  # (1 + 0.5) / 4
    assert history.batch_losses["box_loss"] == [(1.5, 1.5)]
    assert history.progress.eta_s == 30.0


def test_done_error_and_checkpoints():
    history = TrainingHistory().extend(
        [
            event("checkpoint", path="/r/weights/last.pt", kind="last", epoch=1),
            event("checkpoint", path="/r/weights/best.pt", kind="best", epoch=1),
            event("error", message="CUDA out of memory", traceback=None, kind="internal"),
            event("done", status="failed", best=None, last=None, save_dir="/r", metrics={}, seconds=3.0),
            event("some-future-type", x=1),
        ]
    )
    assert history.status == "failed" and history.finished
    assert history.last_error == "CUDA out of memory"
    assert history.last_checkpoint == "/r/weights/last.pt"  # a done without paths keeps what was reported
    assert history.best_checkpoint == "/r/weights/best.pt"


def write_run(folder, events, last_pt=False):
    (folder / "weights").mkdir(parents=True)
    (folder / JOB_FILE).write_text(json.dumps({"model": "grace-n", "epochs": 3}), encoding="utf-8")
    lines = [encode_event(e.data) for e in events]
    (folder / EVENTS_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    if last_pt:
        (folder / "weights" / "last.pt").write_bytes(b"x")


def test_runs_are_listed_with_how_they_ended(tmp_path):
    done = event("done", status="completed", best=None, last=None, save_dir="x", metrics={"mAP50": 0.8}, seconds=1.0)
    write_run(tmp_path / "finished", [epoch(1), epoch(2), epoch(3), done])
    write_run(tmp_path / "killed", [epoch(1)], last_pt=True)
    (tmp_path / "not-a-run").mkdir()
    runs = {run.name: run for run in list_runs(tmp_path)}
    assert set(runs) == {"finished", "killed"}
    assert runs["finished"].status == "completed" and runs["finished"].final_metrics == {"mAP50": 0.8}
    assert runs["finished"].epochs_done == 3 and not runs["finished"].resumable
    assert runs["killed"].status == "interrupted" and runs["killed"].resumable
    assert runs["killed"].final_metrics == {"mAP50": 0.5, "mAP50-95": 0.25}  # from the last validated epoch
    assert load_run(tmp_path / "killed", running=True).status == "running"
    assert runs["killed"].history().epochs == [1]
    assert history_from_file(tmp_path / "finished" / EVENTS_FILE).status == "completed"


def test_worker_command_from_source_runs_the_cli():
    command = worker_command(["--version"])
    assert command[:3] == [sys.executable, "-m", "grace_core.cli.main"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("grace ")


def test_frozen_worker_command_reinvokes_the_executable(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert worker_command(["train", "--data", "d.yaml"]) == [sys.executable, WORKER_FLAG, "train", "--data", "d.yaml"]


def test_dispatch_only_takes_worker_calls(capsys):
    assert dispatch_worker(["--source", "demo"]) is None
    assert dispatch_worker([]) is None
    assert dispatch_worker([WORKER_FLAG, "train", "--data", ""]) == 2  # the CLI's exit code for bad input
    assert "no dataset given" in capsys.readouterr().err


def test_app_entry_point_runs_a_worker_without_importing_qt():
    code = (
        f"import sys, app.__main__ as entry; rc = entry.main([{WORKER_FLAG!r}, 'info', 'grace-n']);"
        "print('QT', any(name.startswith('PySide6') for name in sys.modules)); sys.exit(rc)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "QT False" in result.stdout and "grace-n" in result.stdout


def test_comparison_rows_pair_classes_by_name():
    from grace_core.training.compare import compare

    candidate = {
        "instances": 7,
        "map50": 0.6,
        "map50_95": 0.3,
        "per_class": [{"name": "a", "instances": 4, "ap50": 0.7, "ap50_95": 0.4}, {"name": "new", "instances": 3}],
    }
    live = {"map50": 0.5, "map50_95": 0.25, "per_class": [{"name": "a", "instances": 4, "ap50": 0.6, "ap50_95": 0.3}]}
    rows = compare(candidate, live)
    assert [r.name for r in rows] == ["all", "a", "new"]
    assert abs(rows[0].delta_ap50_95 - 0.05) < 1e-9 and abs(rows[1].delta_ap50_95 - 0.1) < 1e-9
    assert rows[2].live_ap50 is None and rows[2].delta_ap50_95 is None


def test_the_checkpoint_behind_a_live_model(tmp_path):
    import pytest

    from grace_core.errors import ModelError
    from grace_core.models import default_model
    from grace_core.training.compare import checkpoint_of

    assert checkpoint_of("shipped") == default_model("torch")
    (tmp_path / "m.pt").write_bytes(b"x")
    (tmp_path / "m_openvino").mkdir()
    assert checkpoint_of(str(tmp_path / "m.onnx")) == tmp_path / "m.pt"
    assert checkpoint_of(str(tmp_path / "m_openvino" / "m.xml")) == tmp_path / "m.pt"
    with pytest.raises(ModelError, match="no checkpoint"):
        checkpoint_of(str(tmp_path / "other.onnx"))


def test_a_job_survives_the_trip_through_the_command_line(tmp_path):
    from grace_core.cli.main import build_parser
    from grace_core.cli.train import _job
    from grace_core.training.job import TrainJob

    job = TrainJob(
        data="d/data.yaml",
        model="yolo11s",
        epochs=7,
        imgsz=224,
        batch=8,
        seed=3,
        sampler="uniform",
        weights="w.pt",
        project=str(tmp_path),
        name="my run",
        hours=1.5,
        dscbsm_loss_weighting=True,
        dscbsm_signal="localization",
        extra={"mosaic": 0.5, "optimizer": "AdamW", "lr0": 0.0005},
    )
    parsed = _job(build_parser().parse_args(["train", *job.cli_args()]))
    assert parsed == job
    resumed = TrainJob(resume="r/weights/last.pt")
    assert _job(build_parser().parse_args(["train", *resumed.cli_args()])).resume == "r/weights/last.pt"
