"""SQLite connection setup (WAL, busy timeout, foreign keys) and an explicit write transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from grace_core.errors import StoreError


def connect(path: Path, busy_timeout_s: float = 10.0) -> sqlite3.Connection:
    """One connection for the calling thread, in autocommit mode (transactions are explicit, see :func:`write`).

    WAL lets one writer and any number of readers work at once; ``busy_timeout`` makes a second writer wait for
    the lock instead of failing with "database is locked". ``synchronous=NORMAL`` in WAL mode is safe against
    an application crash; a power cut may lose the last commits but never corrupts the database.
    """
    try:
        conn = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the review database {path}: {exc}") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(
                f"the review database {path} cannot use write-ahead logging (journal mode stays {mode!r}); "
                "put the review folder on a local disk"
            )
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(
            f"{path} is not a usable review database ({exc}); move it away or choose another folder"
        ) from exc
    except BaseException:
        conn.close()
        raise
    conn.row_factory = sqlite3.Row
    return conn


@contextmanager
def write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on any error).

    Taking the write lock up front means a busy database is waited for at BEGIN (under ``busy_timeout``) rather
    than failing later when a read transaction tries to upgrade.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
