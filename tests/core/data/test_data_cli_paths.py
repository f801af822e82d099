"""``grace data import`` names the folders as the user typed them, not as resolved absolute paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from grace_core.cli.main import main


def test_import_prints_the_paths_as_given(neu_source: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert neu_source == tmp_path / "src"
    assert main(["data", "import", "neu-det", "src", "out/neu"]) == 0
    out = capsys.readouterr().out
    assert "(neu-det) from src\n" in out and "into out/neu (split seed 0)" in out
    assert f"data.yaml: {Path('out/neu') / 'data.yaml'}" in out
    assert str(tmp_path) not in out


@pytest.mark.parametrize("relative", [False, True])
def test_the_data_yaml_line_is_a_path_that_works(neu_source: Path, tmp_path: Path, monkeypatch, capsys, relative):
    monkeypatch.chdir(tmp_path)
    target = "ds" if relative else str(tmp_path / "ds")
    assert main(["data", "import", "neu-det", str(neu_source), target]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("data.yaml: "))
    assert Path(line.removeprefix("data.yaml: ")).is_file()
