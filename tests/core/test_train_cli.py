"""`grace train --events jsonl` end to end, in a real subprocess: event sequence, cancel, resume, bad input."""

import signal
import subprocess
import sys

import pytest

from grace_core.training.protocol import EventDecoder, LogLine


def grace(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "grace_core.cli.main", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


def decode(stdout: bytes) -> list:
    decoder = EventDecoder()
    return decoder.feed(stdout) + decoder.close()


def run_until_training_then(process: subprocess.Popen, action) -> tuple[list, str]:
    """Read events until the ``train`` phase starts, do ``action`` once, then collect the rest."""
    decoder, items, done = EventDecoder(), [], False
    while process.poll() is None:
        line = process.stdout.readline()
        if not line:
            break
        items += decoder.feed(line)
        if not done and items and items[-1].type == "phase" and items[-1].data["name"] == "train":
            action()
            if process.stdin and not process.stdin.closed:
                process.stdin.flush()
            done = True
    rest, stderr = process.communicate(timeout=300)
    return items + decoder.feed(rest) + decoder.close(), stderr.decode(errors="replace")


def train_args(data, project, epochs=3, *extra):
    return [
        "train",
        "--data",
        str(data),
        "--model",
        "grace-n",
        "--epochs",
        str(epochs),
        "--imgsz",
        "64",
        "--batch",
        "4",
        "--workers",
        "0",
        "--project",
        str(project),
        "--dscbsm-warmup",
        "1",
        "--events",
        "jsonl",
        *extra,
    ]


@pytest.fixture(scope="module")
def completed_run(synthetic_yolo, tmp_path_factory):
    project = tmp_path_factory.mktemp("train-cli")
    process = grace(*train_args(synthetic_yolo, project, 3, "--name", "run"))
    stdout, stderr = process.communicate(timeout=600)
    return process.returncode, decode(stdout), stderr.decode(errors="replace"), project / "run"


def test_stdout_is_a_clean_protocol_stream(completed_run):
    code, items, stderr, _ = completed_run
    assert code == 0, stderr[-3000:]
    assert not [i for i in items if isinstance(i, LogLine)]  # logs went to stderr
    assert "Epoch" in stderr or "epochs completed" in stderr


def test_the_event_sequence_of_a_run(completed_run):
    _, items, _, run_dir = completed_run
    types = [e.type for e in items]
    assert types[0] == "hello" and types[-1] == "done"
    assert all(e.v == 1 for e in items)
    phases = [e.data["name"] for e in items if e.type == "phase"]
    assert phases[:2] == ["setup", "train"] and phases[-1] == "final_val"
    epochs = [e.data for e in items if e.type == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    assert all({"mAP50", "mAP50-95"} <= set(e["metrics"]) for e in epochs)
    assert epochs[0]["sampler"]["active"] is True  # warm-up of 1 epoch, then DS-CBSM++ steers
    assert set(epochs[-1]["sampler"]["class_weights"]) == {"scratch", "pit", "patch", "inclusion"}
    first_epoch_end = types.index("epoch")
    assert "batch" in types[:first_epoch_end]  # progress arrives before the epoch ends
    checkpoints = [e.data for e in items if e.type == "checkpoint"]
    assert {c["kind"] for c in checkpoints} >= {"last"} and len(checkpoints) >= 3
    done = items[-1].data
    assert done["status"] == "completed"
    assert done["best"] == str(run_dir / "weights" / "best.pt")
    assert (run_dir / "grace_job.json").is_file() and (run_dir / "dscbsm.jsonl").read_text().count("\n") == 3


def test_stop_on_stdin_cancels_cleanly_and_the_run_resumes(synthetic_yolo, tmp_path):
    from grace_core.nn.transfer import load_detection_model

    process = grace(*train_args(synthetic_yolo, tmp_path, 4, "--name", "cancel"))
    items, stderr = run_until_training_then(process, lambda: process.stdin.write(b"stop\n"))
    assert process.returncode == 130, stderr[-3000:]
    done = items[-1].data
    assert items[-1].type == "done" and done["status"] == "cancelled"
    assert [e.data["name"] for e in items if e.type == "phase"][-1] == "cancel"
    last = tmp_path / "cancel" / "weights" / "last.pt"
    assert done["last"] == str(last)
    assert len(load_detection_model(last).model) == 25  # a real GRACE checkpoint, loadable safely

    resumed = grace("train", "--resume", str(last), "--events", "jsonl")
    stdout, stderr = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, stderr.decode(errors="replace")[-3000:]
    epochs = [e.data["epoch"] for e in decode(stdout) if e.type == "epoch"]
    assert epochs == [2, 3, 4]  # the cancelled first epoch counts as done; training continues after it
    from grace_core.training.runs import load_run

    run = load_run(tmp_path / "cancel")  # one log for both processes: the curves of the whole run
    assert run.status == "completed" and run.history().epochs == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--epochs", "-1"], "--epochs must be at least 1"),
        (["--imgsz", "0"], "--imgsz must be at least 32"),
        (["--model", "nonsense"], "unknown model 'nonsense'"),
    ],
)
def test_impossible_settings_give_an_error_event_and_exit_2(synthetic_yolo, tmp_path, change, message):
    args = train_args(synthetic_yolo, tmp_path, 1)
    for flag, value in zip(change[::2], change[1::2], strict=True):
        args[args.index(flag) + 1] = value
    process = grace(*args)
    stdout, stderr = process.communicate(timeout=300)
    items = decode(stdout)
    assert process.returncode == 2
    errors = [e.data for e in items if e.type == "error"]
    assert errors and message in errors[0]["message"] and errors[0]["kind"] == "user"
    assert items[-1].type == "done" and items[-1].data["status"] == "failed"
    assert "Traceback" not in stderr.decode(errors="replace")


def test_a_malformed_or_empty_dataset_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty"
    (empty / "images" / "train").mkdir(parents=True)
    (empty / "images" / "val").mkdir(parents=True)
    (empty / "data.yaml").write_text(f"path: {empty}\ntrain: images/train\nval: images/val\nnames: [a]\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text("names: [a\n")
    for data, message in ((empty / "data.yaml", "split holds no images"), (broken, "invalid YAML")):
        process = grace(*train_args(data, tmp_path, 1))
        stdout, _ = process.communicate(timeout=300)
        assert process.returncode == 2
        assert message in next(e for e in decode(stdout) if e.type == "error").data["message"]


def test_a_model_file_that_is_not_a_model(synthetic_yolo, tmp_path):
    fake = tmp_path / "model.pt"
    fake.write_bytes(b"\x00" * 100)
    args = train_args(synthetic_yolo, tmp_path, 1)
    args[args.index("--model") + 1] = str(fake)
    process = grace(*args)
    stdout, _ = process.communicate(timeout=300)
    assert process.returncode == 2
    error = next(e for e in decode(stdout) if e.type == "error")
    assert "is not a readable ultralytics checkpoint" in error.data["message"]


def test_sigterm_cancels_cleanly(synthetic_yolo, tmp_path):
    process = grace(*train_args(synthetic_yolo, tmp_path, 20, "--name", "term"))
    items, _ = run_until_training_then(process, lambda: process.send_signal(signal.SIGTERM))
    assert process.returncode == 130
    assert items[-1].data["status"] == "cancelled"
    assert any(e.type == "warning" and "SIGTERM" in e.data["message"] for e in items)
    assert (tmp_path / "term" / "weights" / "last.pt").is_file()


def test_the_run_folder_keeps_its_events_for_reopening(completed_run):
    from grace_core.training.runs import load_run

    code, items, _, folder = completed_run
    assert code == 0
    run = load_run(folder)
    history = run.history()
    streamed = [i.data["epoch"] for i in items if not isinstance(i, LogLine) and i.type == "epoch"]
    assert history.epochs == streamed == [1, 2, 3]
    assert run.status == "completed" and history.status == "completed"
    assert history.best_checkpoint and history.best_checkpoint == str(run.best)
    assert set(history.final_metrics) >= {"mAP50", "mAP50-95"}
    assert history.class_weights  # DS-CBSM++ acted after its 1 warm-up epoch


def test_with_stop_when_stdin_closes_a_dead_parent_stops_training(synthetic_yolo, tmp_path):
    """A parent that dies closes the pipe. (Without the flag the end of stdin means nothing: `completed_run` has its
    stdin closed at once by ``communicate`` and trains to the end.)"""
    process = grace(*train_args(synthetic_yolo, tmp_path, 20, "--name", "eof", "--stop-when-stdin-closes"))

    def parent_dies() -> None:
        process.stdin.close()
        process.stdin = None  # so that communicate() does not flush it

    items, _ = run_until_training_then(process, parent_dies)
    assert process.returncode == 130
    assert items[-1].data["status"] == "cancelled"
    assert any(e.type == "warning" and "parent process is gone" in e.data["message"] for e in items)
    assert (tmp_path / "eof" / "weights" / "last.pt").is_file()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("alpha=x", "alpha must be a float"),
        ("alpha=-1", "must be 0 or more"),
        ("warmup_epochs=1", "unknown DS-CBSM++ setting(s) warmup_epochs"),
        ("alpha", "expects KEY=VALUE"),
    ],
)
def test_bad_dscbsm_settings_are_refused_before_training(synthetic_yolo, tmp_path, setting, message):
    process = grace(*train_args(synthetic_yolo, tmp_path, 1, "--dscbsm-set", setting))
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 2
    errors = [e for e in decode(stdout) if e.type == "error"]
    assert errors and message in errors[0].data["message"], stderr.decode()[-2000:]
