"""The seam between the review store and its database engine: one small interface, a SQLite and a PostgreSQL side.

The store's SQL is written once, in the common subset of both dialects, with ``?`` placeholders; the few things the
two engines spell differently (truncating a number, joining strings, locking a row, taking the write lock) are
methods here. :class:`SqliteDatabase` passes the SQL straight to ``sqlite3``; the PostgreSQL side
(:mod:`grace_core.store.postgres`) turns ``?`` into ``%s`` for psycopg and its errors into :class:`StoreError`.
Code above this module (the store, selections, maintenance, the audit) never sees a driver.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

from grace_core.errors import StoreError
from grace_core.store import db

Params = Sequence[Any]


class StoreUnavailable(StoreError):
    """The central store's server cannot be reached, or the connection to it broke: try again later.

    A station's spool keeps the frames meanwhile; a reviewer's desk says so and retries on the next refresh.
    """

    def __init__(self, location: str, detail: str) -> None:
        super().__init__(
            f"cannot reach the central review store {location} ({detail}). Check that the server is running and "
            "reachable from this machine, then try again"
        )
        self.location = location
        self.detail = detail


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Database(Protocol):
    """One connection to a review store's database, owned by one thread.

    Rows support ``row[0]``, ``row["name"]``, ``dict(row)`` and unpacking. ``write()`` is one transaction that
    holds the write lock from its start (SQLite ``BEGIN IMMEDIATE``; PostgreSQL row locks through
    :attr:`for_update`); ``snapshot()`` one read transaction in which every query sees the same state.
    """

    dialect: str  # "sqlite" or "postgresql"
    location: str  # for messages: the file, or the server URL without its password
    conn: Any  # the driver's own connection (sqlite3 or psycopg): for tests and tools, not for the store's code

    def execute(self, sql: str, params: Params = (), binary: bool = False) -> Cursor: ...

    def executemany(self, sql: str, rows: Sequence[Params]) -> None: ...

    def insert(self, sql: str, params: Params = ()) -> int | None:
        """Run one ``INSERT`` and return the new row's ``id``; None when ``ON CONFLICT DO NOTHING`` skipped it."""
        ...

    def write(self) -> AbstractContextManager[Any]: ...

    def snapshot(self) -> AbstractContextManager[Any]: ...

    def errors(self) -> AbstractContextManager[None]:
        """Driver errors met inside the block (a damaged file, a lost server) re-raised as :class:`StoreError`."""
        ...

    @property
    def in_transaction(self) -> bool: ...

    @property
    def for_update(self) -> str:
        """Appended to a ``SELECT`` in a write transaction: lock the rows read (nothing in SQLite, which has
        already taken the database's write lock)."""
        ...

    def truncate(self, expression: str) -> str:
        """SQL for ``expression`` (a non-negative number) truncated to an integer."""
        ...

    def join_distinct(self, expression: str) -> str:
        """SQL for the distinct values of ``expression`` in a group, joined with commas."""
        ...

    def close(self) -> None: ...


class SqliteDatabase:
    """:class:`Database` over one ``sqlite3`` connection (see :func:`grace_core.store.db.connect`)."""

    dialect = "sqlite"
    for_update = ""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self.location = str(path)

    def execute(self, sql: str, params: Params = (), binary: bool = False) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        self.conn.executemany(sql, rows)

    def insert(self, sql: str, params: Params = ()) -> int | None:
        cursor = self.conn.execute(sql, params)
        return int(cursor.lastrowid or 0) if cursor.rowcount else None  # rowcount 0: ON CONFLICT DO NOTHING

    @contextmanager
    def write(self) -> Iterator[SqliteDatabase]:
        with db.write(self.conn):
            yield self

    @contextmanager
    def snapshot(self) -> Iterator[SqliteDatabase]:
        """A read transaction (in WAL mode every statement in it sees the same state); nested ones join it."""
        if self.conn.in_transaction:
            yield self
            return
        self.conn.execute("BEGIN")
        try:
            yield self
        finally:
            self.conn.execute("ROLLBACK")  # nothing was written: this only ends the read transaction

    def errors(self) -> AbstractContextManager[None]:
        return db.store_errors(self.path)

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def truncate(self, expression: str) -> str:
        return f"CAST({expression} AS INTEGER)"  # SQLite's CAST truncates toward zero

    def join_distinct(self, expression: str) -> str:
        return f"GROUP_CONCAT(DISTINCT {expression})"

    def close(self) -> None:
        self.conn.close()
