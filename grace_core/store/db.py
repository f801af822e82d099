"""SQLite connection setup (WAL, busy timeout, foreign keys), an explicit write transaction, and turning what SQLite
says about a broken or unusable database into a :class:`StoreError` a person can act on."""

from __future__ import annotations

import shlex
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from grace_core.errors import StoreError


def connect(path: Path, busy_timeout_s: float = 10.0, readonly: bool = False) -> sqlite3.Connection:
    """One connection for the calling thread, in autocommit mode (transactions are explicit, see :func:`write`).

    WAL lets one writer and any number of readers work at once; ``busy_timeout`` makes a second writer wait for
    the lock instead of failing with "database is locked". ``synchronous=NORMAL`` in WAL mode is safe against
    an application crash; a power cut may lose the last commits but never corrupts the database.

    ``readonly`` opens an existing file with SQLite's ``mode=ro`` (and ``query_only``): the file is never created,
    and nothing is written to it, not even the switch to WAL. It still reads a WAL database another connection is
    writing to.
    """
    try:
        if readonly:
            uri = f"{path.resolve().as_uri()}?mode=ro"
            conn = sqlite3.connect(uri, timeout=busy_timeout_s, isolation_level=None, uri=True)
        else:
            conn = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the review database {path}: {exc}") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        if readonly:
            conn.execute("PRAGMA query_only = ON")
        else:
            _use_wal(conn, path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise as_store_error(path, exc) from exc
    except BaseException:
        conn.close()
        raise
    conn.row_factory = sqlite3.Row
    return conn


def _use_wal(conn: sqlite3.Connection, path: Path) -> None:
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StoreError(
            f"the review database {path} cannot use write-ahead logging (journal mode stays {mode!r}); "
            "put the review folder on a local disk"
        )
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")


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


def quick_check(conn: sqlite3.Connection, path: Path) -> None:
    """``PRAGMA quick_check``: every page of the file is read and its structure checked (about 50 ms for a store
    of 12 000 frames). Raises StoreError when the database is damaged.

    Without it, damaged pages behind a valid header surface later, in the middle of a query, or — worse — as a
    list that looks empty.
    """
    try:
        rows = conn.execute("PRAGMA quick_check(5)").fetchall()
    except sqlite3.DatabaseError as exc:
        raise as_store_error(path, exc) from exc
    problems = [line for row in rows for line in str(row[0]).splitlines() if line and not line.startswith("***")]
    if problems != ["ok"]:
        more = " and more" if len(problems) > 2 else ""  # quick_check(5) stops counting at five
        raise StoreError(damaged_message(path, "quick_check: " + "; ".join(problems[:2]) + more))


def damaged_message(path: Path, detail: str) -> str:
    """Which file, what is wrong, and the two ways out (a backup, or SQLite's own ``.recover``)."""
    recovered = path.with_name("recovered.db")
    return (
        f"the review database {path} is damaged ({detail}). Nothing was changed. To repair it, close GRACE Inspect "
        f"and restore {path.name} from a backup, or recover what is still readable with "
        f"`sqlite3 {shlex.quote(str(path))} .recover | sqlite3 {shlex.quote(str(recovered))}`, then move the damaged "
        f"{path.name} (and {path.name}-wal, if any) away and rename {recovered.name} to {path.name}. The images in "
        f"{path.parent / 'frames'} are not affected."
    )


def as_store_error(path: Path, exc: sqlite3.Error) -> StoreError:
    """What a person can do about ``exc``: a damaged file (restore or recover it) or one that cannot be used now."""
    if isinstance(exc, sqlite3.OperationalError):  # locked, read-only, disk I/O, out of space…: the file may be fine
        return StoreError(f"cannot use the review database {path}: {exc}")
    if "not a database" in str(exc):
        return StoreError(f"{path} is not a usable review database ({exc}); move it away or choose another folder")
    return StoreError(damaged_message(path, str(exc)))


@contextmanager
def store_errors(path: Path) -> Iterator[None]:
    """Re-raise a damaged or unusable database met inside the block as a StoreError that names ``path``.

    Integrity and programming errors (a bug here, not a broken file) pass through unchanged.
    """
    try:
        yield
    except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError):
        raise
    except sqlite3.DatabaseError as exc:
        raise as_store_error(path, exc) from exc
