"""Resuming a run never runs code from its files: a crafted ``last.pt`` is refused, a crafted sampler state ignored."""

import pathlib
import subprocess
import sys

import numpy as np
import pytest
import torch


class _TouchOnUnpickle:
    """Unpickling this calls ``Path.touch(marker)``: a stand-in for any code an attacker would run."""

    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (self.marker,)


def grace(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grace_core.cli.main", *args], capture_output=True, text=True, timeout=600
    )


def train_args(project, data, epochs: int) -> list[str]:
    args = ["train", "--data", str(data), "--model", "grace-n", "--epochs", str(epochs), "--imgsz", "64", "--batch"]
    return [*args, "4", "--workers", "0", "--dscbsm-warmup", "0", "--project", str(project), "--name", "run"]


@pytest.fixture(scope="module")
def finished_run(synthetic_yolo, tmp_path_factory):
    """A real one-epoch GRACE-n run with DS-CBSM++."""
    project = tmp_path_factory.mktemp("finished")
    done = grace(*train_args(project, synthetic_yolo, 1))
    assert done.returncode == 0, done.stderr[-3000:]
    return project / "run"


@pytest.fixture
def unfinished_run(synthetic_yolo, tmp_path):
    """A real GRACE-n run stopped after its first epoch: resumable, its sampler state saved beside last.pt."""
    project = tmp_path / "runs"
    process = subprocess.Popen(
        [sys.executable, "-m", "grace_core.cli.main", *train_args(project, synthetic_yolo, 3), "--events", "jsonl"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    for line in process.stdout:  # the first checkpoint event: epoch 1 is saved
        if b'"checkpoint"' in line:
            process.stdin.write(b"stop\n")
            process.stdin.flush()
            break
    process.communicate(timeout=600)
    assert (project / "run" / "weights" / "dscbsm.npz").is_file()
    return project / "run"


def test_a_crafted_last_pt_is_refused_before_anything_unpickles_it(finished_run, tmp_path):
    marker = tmp_path / "pwned"
    crafted = tmp_path / "weights" / "last.pt"
    crafted.parent.mkdir()
    torch.save({"epoch": 0, "ema": _TouchOnUnpickle(marker), "train_args": {}}, crafted)
    (tmp_path / "grace_job.json").write_text((finished_run / "grace_job.json").read_text())

    done = grace("train", "--resume", str(crafted))
    assert done.returncode == 2, done.stderr[-3000:]
    assert "error:" in done.stderr and str(crafted) in done.stderr
    assert not marker.exists(), "resuming ran code from the checkpoint"


def test_a_crafted_sampler_state_beside_a_genuine_checkpoint_is_not_unpickled(unfinished_run, tmp_path):
    marker = tmp_path / "pwned"
    weights = unfinished_run / "weights"
    (weights / "dscbsm.npz").unlink()
    torch.save(_TouchOnUnpickle(marker), weights / "dscbsm.pt")  # the format runs used before: a pickle

    done = grace("train", "--resume", str(weights / "last.pt"))
    assert done.returncode == 0, done.stderr[-3000:]  # the run goes on, its sampler restarted from uniform
    assert not marker.exists(), "resuming ran code from the sampler state"
    assert "old pickled format" in done.stdout + done.stderr  # said (ultralytics logs to stdout), not dropped


def test_a_finished_run_says_there_is_nothing_to_resume(finished_run):
    last = finished_run / "weights" / "last.pt"
    done = grace("train", "--resume", str(last))
    assert done.returncode == 2
    assert "this run has finished, there is nothing to resume" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_sampler_state_is_plain_numbers_and_a_pickle_inside_it_is_refused(tmp_path):
    from grace_core.training.dscbsm import DSCBSM

    sampler = DSCBSM(["a", "b"], [np.array([0]), np.array([1])] * 6)
    sampler.end_epoch(1)
    saved_path = tmp_path / "dscbsm.npz"
    sampler.save(saved_path)
    with np.load(saved_path, allow_pickle=False) as saved:
        assert all(saved[key].dtype != object for key in saved.files)
    restored = DSCBSM(["a", "b"], [np.array([0]), np.array([1])] * 6)
    restored.load(saved_path)
    assert [r.to_dict() for r in restored.history] == [r.to_dict() for r in sampler.history]

    evil = tmp_path / "evil.npz"
    with open(evil, "wb") as handle:
        np.savez(handle, weights=np.array([_TouchOnUnpickle(tmp_path / "pwned")], dtype=object))
    with pytest.raises(ValueError):
        restored.load(evil)
    assert not (tmp_path / "pwned").exists()
