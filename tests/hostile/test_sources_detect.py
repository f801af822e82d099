"""``grace detect`` on sources that never connect or go away: a bounded reconnect policy, a non-zero exit when no
frame ever arrived, and "cannot connect" told apart from "connection lost" (issue 17)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.local_streams import MjpegCamera, closed_port

from grace_core.cli.main import build_parser, main

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED_ONNX = REPO_ROOT / "resources" / "models" / "grace-neu-det.onnx"
FAST_RETRY = ["--reconnect-delay", "0.05"]


def detect(source: str, out: Path, *extra: str) -> int:
    return main(["detect", source, "--model", str(SHIPPED_ONNX), "--save-dir", str(out), *FAST_RETRY, *extra])


def test_a_stream_that_never_connects_gives_up_and_fails(tmp_path, capsys):
    out = tmp_path / "out"
    url = f"rtsp://127.0.0.1:{closed_port()}/line1"
    started = time.monotonic()
    code = detect(url, out, "--max-reconnects", "3")
    assert code == 1
    assert time.monotonic() - started < 30  # model load + 4 refused connections 0.05 s apart
    err = capsys.readouterr().err
    assert "cannot connect" in err and "connection lost" not in err.lower()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "cannot_connect" and summary["frames"] == 0 and summary["reconnects"] == 3
    assert "cannot connect" in summary["message"]


def test_headless_runs_have_a_bounded_default():
    args = build_parser().parse_args(["detect", "rtsp://cam/x", "--model", "m.onnx"])
    assert args.max_reconnects == 10
    unlimited = build_parser().parse_args(["detect", "x", "--model", "m", "--max-reconnects", "unlimited"])
    assert unlimited.max_reconnects is None


@pytest.mark.parametrize("value", ["-1", "many"])
def test_a_bad_max_reconnects_is_refused(value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["detect", "x", "--model", "m", "--max-reconnects", value])
    assert exit_info.value.code == 2
    assert "--max-reconnects: expected a number of attempts (0 or more) or 'unlimited'" in capsys.readouterr().err


def test_a_camera_that_goes_away_is_connection_lost(tmp_path, capsys):
    camera = MjpegCamera(frames_per_connection=6, interval=0.1, max_connections=1)
    out = tmp_path / "out"
    try:
        code = detect(camera.url(), out, "--max-reconnects", "2")
    finally:
        camera.stop()
    assert code == 1
    err = capsys.readouterr().err
    assert "connection lost" in err and "cannot connect" not in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "connection_lost" and summary["frames"] >= 1 and summary["reconnects"] == 2
    assert len((out / "detections.jsonl").read_text().splitlines()) == summary["frames"]  # what came is kept


def test_ctrl_c_before_any_frame_exits_non_zero(tmp_path):
    """With unlimited reconnects only Ctrl-C ends the run; having inspected nothing, it must not report success."""
    out, log = tmp_path / "out", tmp_path / "stderr.txt"
    command = [sys.executable, "-m", "grace_core.cli.main", "detect", f"rtsp://127.0.0.1:{closed_port()}/line1"]
    command += ["--model", str(SHIPPED_ONNX), "--save-dir", str(out), "--max-reconnects", "unlimited", *FAST_RETRY]
    with log.open("w") as stderr:
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            deadline = time.monotonic() + 120
            while "cannot connect" not in log.read_text() and time.monotonic() < deadline:
                assert process.poll() is None, log.read_text()  # unlimited: it must still be retrying
                time.sleep(0.1)
            time.sleep(0.5)  # several more refused attempts
            assert process.poll() is None, log.read_text()
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert code == 1, log.read_text()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "cannot_connect" and summary["frames"] == 0 and summary["reconnects"] >= 2
