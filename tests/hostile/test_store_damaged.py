"""A damaged database (garbage pages behind a valid header) is named as damaged, with the file and the way out,
at open and in the middle of a query; the CLI ends in ``error: …`` and exit 2, never a sqlite3 traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.store_damage import damage_middle_pages, fill_store

from grace_core.cli.main import main
from grace_core.errors import StoreError
from grace_core.store import ReviewStore, db

N_FRAMES = 250  # enough rows for a database of several dozen pages


@pytest.fixture
def damaged_store(tmp_path: Path) -> Path:
    """A real store of N_FRAMES frames whose middle pages are garbage (valid header); returns its folder."""
    root = tmp_path / "review"
    fill_store(root, N_FRAMES)
    damage_middle_pages(root / "review.db")
    return root


def _assert_explains_damage(message: str, root: Path) -> None:
    assert "damaged" in message
    assert str(root / "review.db") in message  # which file
    assert "backup" in message and ".recover" in message  # what to do


def test_open_reports_the_damage_with_the_file_and_the_way_out(damaged_store: Path) -> None:
    with pytest.raises(StoreError) as caught:
        ReviewStore.open(damaged_store)
    _assert_explains_damage(str(caught.value), damaged_store)


def test_read_only_open_reports_the_damage_and_leaves_the_file_alone(damaged_store: Path) -> None:
    before = (damaged_store / "review.db").read_bytes()
    with pytest.raises(StoreError) as caught:
        ReviewStore.open_existing(damaged_store)
    _assert_explains_damage(str(caught.value), damaged_store)
    assert (damaged_store / "review.db").read_bytes() == before


@pytest.mark.parametrize("command", [["report"], ["export", "--out", "{out}"]])
def test_the_cli_says_the_store_is_damaged_without_a_traceback(
    damaged_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    out = tmp_path / "out"
    argv = ["review", *(arg.format(out=out) for arg in command), "--store", str(damaged_store)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    _assert_explains_damage(err, damaged_store)
    assert not out.exists()


@pytest.mark.parametrize("command", [["report"], ["export", "--out", "{out}"]])
def test_damage_found_mid_query_is_a_store_error_too(
    damaged_store: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
) -> None:
    """A quick check does not compare indexes with their tables, and a disk can fail after the check: the damage
    then shows in the middle of the report or export, and must read the same."""
    monkeypatch.setattr(db, "quick_check", lambda conn, path: None, raising=False)
    argv = ["review", *(arg.format(out=tmp_path / "out") for arg in command), "--store", str(damaged_store)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    _assert_explains_damage(err, damaged_store)
