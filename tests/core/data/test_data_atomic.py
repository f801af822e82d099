"""A failure while writing leaves neither OUT nor a partial folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from grace_core.data import writer
from grace_core.data.importer import import_dataset
from grace_core.errors import DatasetError


def _failing_copy(after: int, error: BaseException):
    calls = {"n": 0}
    original = writer.copy_image

    def copy(source: Path, target: Path) -> None:
        calls["n"] += 1
        if calls["n"] > after:
            raise error
        original(source, target)

    return copy


def test_disk_error_mid_import_leaves_nothing(
    neu_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "copy_image", _failing_copy(5, OSError(28, "No space left on device")))
    with pytest.raises(DatasetError, match=r"cannot write the dataset to .*No space left on device"):
        import_dataset("neu-det", neu_source, tmp_path / "out")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["src"]


def test_interrupt_mid_import_leaves_nothing(neu_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "copy_image", _failing_copy(3, KeyboardInterrupt()))
    (tmp_path / "out").mkdir()
    with pytest.raises(KeyboardInterrupt):
        import_dataset("neu-det", neu_source, tmp_path / "out")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out", "src"]
    assert list((tmp_path / "out").iterdir()) == []


def test_partial_folder_is_a_sibling_until_the_end(
    neu_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[str]] = []
    original = writer.copy_image

    def spy(source: Path, target: Path) -> None:
        seen.append(sorted(path.name for path in tmp_path.iterdir()))
        original(source, target)

    monkeypatch.setattr(writer, "copy_image", spy)
    import_dataset("neu-det", neu_source, tmp_path / "out")
    assert "out" not in seen[-1] and any(name.startswith("out.partial-") for name in seen[-1])
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out", "src"]
