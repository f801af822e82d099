"""Opening a store's database, local or central: create and upgrade it, or only open one that is there.

:class:`~grace_core.store.review_store.ReviewStore` calls these; each returns an open
:class:`~grace_core.store.database.Database` (the caller owns it) or raises a :class:`StoreError` that says which
store, what is wrong and what to do.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from grace_core.errors import StoreError
from grace_core.store import db, files, postgres, schema
from grace_core.store.database import Database, SqliteDatabase

DB_NAME = "review.db"


class NoStoreError(StoreError):
    """There is no review store there: no database file, an empty one, another program's database, or (central) a
    database without the store's tables.

    ``found_file`` tells "nothing there yet" (a new installation) from "something that is not a store".
    """

    def __init__(self, root: Path | str, detail: str, found_file: bool) -> None:
        super().__init__(f"no review store at {root} ({detail}); nothing was created or changed")
        self.root = root
        self.found_file = found_file


def exists(root: Path) -> bool:
    """Whether a local store's database is in ``root`` (it may still be empty or damaged)."""
    return (root / DB_NAME).is_file()


# -- local (SQLite) ----------------------------------------------------------------------------------------------


def create_sqlite(root: Path, busy_timeout_s: float) -> SqliteDatabase:
    """Open (creating or migrating) the SQLite database in ``root``; ``PRAGMA quick_check`` first."""
    try:
        (root / files.FRAMES_DIR).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the review folder {root}: {exc}") from exc
    db_path = root / DB_NAME
    conn = db.connect(db_path, busy_timeout_s)
    try:
        db.quick_check(conn, db_path)  # damage shows here, named, not as an empty list or a mid-query error
        if schema.user_version(conn) != schema.LATEST_VERSION:  # no write lock when the schema is current
            schema.migrate(conn, where=str(db_path))  # creates, upgrades, or refuses a newer database
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise db.as_store_error(db_path, exc) from exc
    except BaseException:
        conn.close()
        raise
    return SqliteDatabase(conn, db_path)


def existing_sqlite(root: Path, readonly: bool, busy_timeout_s: float) -> SqliteDatabase | None:
    """Check the store in ``root`` without writing a byte. Read-only: returns it open; else None (the caller then
    opens it with :func:`create_sqlite`, which upgrades an older schema)."""
    db_path = root / DB_NAME
    if not db_path.is_file():
        raise NoStoreError(root, f"no {DB_NAME} there", found_file=False)
    conn = db.connect(db_path, busy_timeout_s, readonly=True)  # looked at first without writing a byte
    try:
        db.quick_check(conn, db_path)
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "frames" not in tables:  # an empty file (e.g. a failed copy) or another program's database
            what = "is empty" if not tables else "is not a GRACE Inspect review store"
            detail = f"{DB_NAME} there {what}"
            raise NoStoreError(root, detail, found_file=True)
        _check_version(schema.user_version(conn), str(db_path), readonly, "Open its review tab once in the app")
    except BaseException:
        conn.close()
        raise
    if readonly:
        return SqliteDatabase(conn, db_path)
    conn.close()
    return None


# -- central (PostgreSQL) ----------------------------------------------------------------------------------------


def create_central(url: str) -> Database:
    """Connect, and create or upgrade the schema (the first station to open an empty database sets it up)."""
    database = postgres.connect(url)
    try:
        if postgres.schema_version(database) != schema.LATEST_VERSION:
            postgres.migrate(database)
    except BaseException:
        database.close()
        raise
    return database


def existing_central(url: str, readonly: bool) -> Database:
    """Connect to a central store that is there (its tables exist); never create one."""
    database = postgres.connect(url, readonly=readonly)
    try:
        found = postgres.tables(database)
        if "frames" not in found or "meta" not in found:
            detail = "the database has no review store tables yet" if not found else "not a GRACE Inspect review store"
            raise NoStoreError(database.location, detail, found_file=bool(found))
        fix = "Open it once read-write (a station writing to it, or `grace review migrate`)"
        _check_version(postgres.schema_version(database), database.location, readonly, fix)
    except BaseException:
        database.close()
        raise
    if readonly:
        return database
    database.close()
    return create_central(url)


def _check_version(version: int, where: str, readonly: bool, fix: str) -> None:
    if version > schema.LATEST_VERSION:
        raise StoreError(schema.too_new_message(version, where))
    if readonly and version < schema.LATEST_VERSION:
        raise StoreError(
            f"{where} was written by an older version of GRACE Inspect (review store schema v{version}; this version "
            f"reads v{schema.LATEST_VERSION}). {fix}, which upgrades it, then try again."
        )
