"""``grace data import|stats`` through the real entry point: exit codes, messages, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grace_core.cli.main import main

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_import_and_stats(neu_source: Path, tmp_path: Path, add_voc, capsys: pytest.CaptureFixture[str]) -> None:
    add_voc(neu_source, "noimage", [("crazing", 1, 1, 9, 9)], image=False)
    assert main(["data", "import", "neu-det", str(neu_source), str(tmp_path / "out"), "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "imported 18 images, 18 boxes (neu-det)" in out
    assert "skipped files: 1 (missing_image: 1)" in out and "noimage.xml: no image named noimage.*" in out
    plot, stats_json = tmp_path / "s.png", tmp_path / "s.json"
    assert main(["data", "stats", str(tmp_path / "out"), "--plot", str(plot), "--json", str(stats_json)]) == 0
    out = capsys.readouterr().out
    assert "imbalance ratio (max/min instances): 1.00" in out and plot.is_file() and stats_json.is_file()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["data", "import", "coco", "{src}", "{out}"], "error: unknown dataset format 'coco'"),
        (["data", "import", "neu-det", "{src}", "{out}", "--split", "0.7,0.2"], "error: bad split 0.7,0.2"),
        (["data", "import", "neu-det", "{src}/nope", "{out}"], "error: source folder not found"),
        (["data", "import", "voc", "{src}", "{out}", "--classes", "a,,b"], "error: bad --classes 'a,,b'"),
        (["data", "stats", "{out}"], "error: dataset not found"),
    ],
)
def test_user_errors_exit_2_without_traceback(
    neu_source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    args = [arg.format(src=neu_source, out=tmp_path / "out") for arg in argv]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(expected) and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_unknown_class_in_a_real_process(neu_source: Path, tmp_path: Path, add_voc) -> None:
    xml = add_voc(neu_source, "odd", [("rust", 1, 1, 9, 9)])
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "grace_core.cli.main",
            "data",
            "import",
            "neu-det",
            str(neu_source),
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {xml}: object #1: unknown class name 'rust'")
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert sorted(path.name for path in tmp_path.iterdir()) == ["src"]
