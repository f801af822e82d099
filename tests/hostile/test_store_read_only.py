"""Reading never creates or changes a store: ``ReviewStore.open_existing`` refuses a folder without a store (no
file, an empty file, another program's database) with "no review store at …", and a read-only store never writes."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from helpers.flagged_frames import T0, make_store
from helpers.store_damage import snapshot

from grace_core.cli.main import main
from grace_core.errors import StoreError
from grace_core.review.report import shift_report
from grace_core.store import LATEST_VERSION, NoStoreError, ReviewStore, schema

FRAMES = [{"boxes": [(i % 4, 0.9, (5, 5, 40, 30))], "t": T0 + i, "seed": i} for i in range(3)]


@pytest.fixture
def store_root(tmp_path: Path) -> Path:
    return tmp_path / "review"


def _not_a_store(root: Path, content: str) -> None:
    root.mkdir(parents=True)
    db = root / "review.db"
    if content == "empty":
        db.write_bytes(b"")
        return
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.execute("INSERT INTO notes VALUES ('not yours')")
    conn.commit()
    conn.close()


def test_a_missing_store_is_named_and_nothing_is_created(tmp_path: Path) -> None:
    root = tmp_path / "nowhere"
    for readonly in (True, False):
        with pytest.raises(NoStoreError, match=f"no review store at {re.escape(str(root))}"):
            ReviewStore.open_existing(root, readonly=readonly)
    assert not root.exists()


@pytest.mark.parametrize("content", ["empty", "foreign"])
def test_an_empty_or_foreign_file_is_refused_and_left_as_it_was(store_root: Path, content: str) -> None:
    _not_a_store(store_root, content)
    before = snapshot(store_root)
    for readonly in (True, False):
        with pytest.raises(NoStoreError, match=f"no review store at {re.escape(str(store_root))}"):
            ReviewStore.open_existing(store_root, readonly=readonly)
    assert snapshot(store_root) == before


@pytest.mark.parametrize("command", [["report"], ["export", "--out", "{out}"]])
def test_the_cli_on_an_empty_file_says_so_and_changes_nothing(
    store_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    _not_a_store(store_root, "empty")
    argv = ["review", *(arg.format(out=tmp_path / "out") for arg in command), "--store", str(store_root)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: no review store at {store_root}") and "--store" in err
    assert snapshot(store_root) == {"review.db": b""}  # no schema, no frames folder, no WAL
    assert not (tmp_path / "out").exists()


def test_a_read_only_store_reads_but_never_writes(store_root: Path) -> None:
    ids = make_store(store_root, FRAMES)
    db_before = (store_root / "review.db").read_bytes()
    with ReviewStore.open_existing(store_root) as store:
        assert store.readonly and store.count() == 3
        assert shift_report(store).flagged["total"] == 3
        for write in (
            lambda: store.set_verdict(ids[0], "defect", "mallory"),
            lambda: store.record_event("mallory", "model_promoted"),
            lambda: store.enforce_quota(),
            lambda: store.cleanup_orphans(min_age_s=0),
        ):
            with pytest.raises(StoreError, match="read-only"):
                write()
    assert (store_root / "review.db").read_bytes() == db_before
    with ReviewStore.open(store_root) as store:
        assert store.frame(ids[0]).verdict is None and store.audit_log() == []


def test_an_older_store_is_upgraded_only_when_opened_for_writing(store_root: Path) -> None:
    store_root.mkdir()
    conn = sqlite3.connect(store_root / "review.db", isolation_level=None)
    schema.migrate(conn, target=1)
    conn.close()
    with pytest.raises(StoreError, match="older version"):
        ReviewStore.open_existing(store_root)
    conn = sqlite3.connect(store_root / "review.db")
    assert schema.user_version(conn) == 1
    conn.close()
    with ReviewStore.open_existing(store_root, readonly=False) as store:
        assert store.schema_version == LATEST_VERSION and not store.readonly
