"""Where a store is, from one string: a folder, sqlite:///path, postgresql://…; passwords never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from grace_core.store import ReviewStore, StoreError, parse_location, store_exists
from grace_core.store.location import POSTGRESQL, SQLITE, redact


@pytest.mark.parametrize(
    ("given", "kind", "path"),
    [
        ("review", SQLITE, Path("review")),
        (Path("/data/review"), SQLITE, Path("/data/review")),
        ("sqlite:///relative/review", SQLITE, Path("relative/review")),
        ("sqlite:////abs/review", SQLITE, Path("/abs/review")),
        ("postgresql://qa@db:5432/grace", POSTGRESQL, None),
        ("postgres://qa@db/grace", POSTGRESQL, None),
    ],
)
def test_locations(given, kind: str, path: Path | None) -> None:
    location = parse_location(given)
    assert (location.kind, location.path) == (kind, path)
    assert location.is_central == (kind == POSTGRESQL)


def test_none_is_the_default_folder(tmp_path: Path) -> None:
    assert parse_location(None, tmp_path).path == tmp_path


@pytest.mark.parametrize("bad", ["mysql://u@h/db", "sqlite://relative", "postgresql:///db-without-host"])
def test_what_is_not_a_store_url_is_refused_with_what_to_write(bad: str) -> None:
    with pytest.raises(StoreError, match=r"sqlite:///|postgresql://"):
        parse_location(bad)


def test_passwords_are_hidden() -> None:
    assert redact("postgresql://qa:S3cret@db:5432/grace") == "postgresql://qa:***@db:5432/grace"
    assert redact("postgresql://qa@db/grace?password=S3cret&sslmode=require") == (
        "postgresql://qa@db/grace?password=***&sslmode=require"
    )
    assert "S3cret" not in str(parse_location("postgresql://qa:S3cret@db/grace"))


def test_a_sqlite_url_opens_the_same_store_as_its_folder(tmp_path: Path) -> None:
    root = tmp_path / "review"
    assert not store_exists(root)
    with ReviewStore.open(f"sqlite:///{root}", station="line-7") as store:
        assert store.root == root and store.station == "line-7" and not store.central
    assert store_exists(root) and store_exists(f"sqlite:///{root}")
    with ReviewStore.open_existing(root) as again:
        assert again.location.path == root and again.count() == 0
